"""The paper's route, step 1: an unpaired face corpus and unconditional StyleGAN2 pretraining on it."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from voice2face.cli import main
from voice2face.config import TrainingPreset
from voice2face.data.manifest import load_manifest
from voice2face.errors import ConfigError, DatasetError
from voice2face.storage.checkpoint import load_pretrained
from voice2face.training.augment import AugmentTuner, as_augmenter, diff_augment, make_draw, parse_policy
from voice2face.training.presets import get_preset
from voice2face.training.runner import train_generator


@pytest.fixture(scope="module")
def face_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("faces") / "synthface"
    assert main(["synth-faces", str(out), "--count", "40", "--resolution", "32", "--seed", "5", "-q"]) == 0
    return out


def tiny_pretrain() -> TrainingPreset:
    """synthface-64 shrunk to a 32 px, 16-channel network and a dozen steps."""
    preset = get_preset("synthface-64")
    generator = dataclasses.replace(preset.gan.generator, img_resolution=32, channel_base=128, channel_max=16)
    discriminator = dataclasses.replace(preset.gan.discriminator, img_resolution=32, channel_base=128, channel_max=16)
    gan = dataclasses.replace(
        preset.gan, generator=generator, discriminator=discriminator, batch_size=4, kimg=0.032, snapshot_kimg=0.016,
        report_every=2, r1_interval=2,
    )  # fmt: skip
    return dataclasses.replace(preset, name="tiny-pretrain", gan=gan)


def test_synth_faces_writes_a_face_only_corpus_that_loads(face_corpus, tmp_path):
    manifest = load_manifest(face_corpus)
    assert manifest.source == "synthvox-faces" and manifest.face_resolution == 32
    assert len(manifest.faces) == 40 and not manifest.utterances
    assert manifest.splits == {"train": 40, "val": 0, "test": 0}
    assert {i.attributes["sex"] for i in manifest.identities} == {"female", "male"}
    assert (face_corpus / "preview.png").is_file()
    # The same seed gives the same bytes, whatever the number of workers.
    again = tmp_path / "again"
    assert main(["synth-faces", str(again), "--count", "40", "--resolution", "32", "--seed", "5", "--workers", "1",
                 "-q"]) == 0  # fmt: skip
    for record in manifest.faces[:5]:
        assert (again / record.path).read_bytes() == (face_corpus / record.path).read_bytes()
    # A paired corpus still needs voices for every identity: only a corpus with no utterances at all is face-only.
    data = json.loads((face_corpus / "manifest.json").read_text())
    data["utterances"] = [{"identity": data["identities"][0]["id"], "path": "x.wav", "seconds": 1.0}]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError):
        load_manifest(tmp_path / "broken", check_files=False)
    assert main(["synth-faces", str(face_corpus), "--count", "40", "-q"]) != 0  # not empty: refused


def test_diff_augment_is_differentiable_deterministic_and_keeps_shape():
    images = torch.rand(6, 3, 16, 16) * 2 - 1
    images.requires_grad_(True)
    out = diff_augment(images, "color,translation,cutout", make_draw(torch.Generator().manual_seed(0), images.device))
    again = diff_augment(images, "color,translation,cutout", make_draw(torch.Generator().manual_seed(0), images.device))
    assert out.shape == images.shape and torch.equal(out, again)
    out.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    # cutout zeroes a half-side square (a quarter of the image, less where it crosses the border);
    # translation moves content without scaling it.
    cut = diff_augment(torch.ones(8, 3, 16, 16), "cutout", make_draw(torch.Generator().manual_seed(1), images.device))
    zeroed = (cut == 0).float().mean(dim=(1, 2, 3))
    assert bool((zeroed > 0).all() and (zeroed <= 0.25).all()) and bool((zeroed == 0.25).any())
    moved = diff_augment(images.detach(), "translation", lambda shape: torch.full(shape, 0.5))  # the middle: no shift
    assert torch.equal(moved, images.detach())
    with pytest.raises(ValueError, match="unknown augmentation"):
        parse_policy("color,zoom")


def test_a_probability_applies_each_transformation_to_that_share_of_the_images():
    ones = torch.ones(400, 3, 16, 16)

    def draw():
        return make_draw(torch.Generator().manual_seed(2), ones.device)

    def cut_share(p):
        return float((diff_augment(ones, "cutout", draw(), p=p) == 0).flatten(1).any(1).float().mean())

    assert torch.equal(diff_augment(ones, "cutout,color", draw(), p=0.0), ones)
    assert 0.18 < cut_share(0.25) < 0.32 and cut_share(1.0) == 1.0
    # a run without augment_p keeps the random stream of the runs made before it existed: no extra draws
    assert as_augmenter("cutout", draw()).p is None and as_augmenter("cutout", draw(), 1.0, adaptive=True).p == 1.0
    streams = [torch.Generator().manual_seed(3) for _ in range(3)]
    as_augmenter("color,cutout", make_draw(streams[0], ones.device))(ones[:8])
    as_augmenter("color,cutout", make_draw(streams[1], ones.device), 0.5)(ones[:8])
    assert torch.equal(streams[0].get_state(), _after_draws(streams[2], 8, [1, 1, 1, 2]))  # color's 3, cutout's 1
    assert not torch.equal(streams[1].get_state(), streams[0].get_state())


def _after_draws(stream: torch.Generator, batch: int, widths: list[int]) -> torch.Tensor:
    """``stream``'s state after draws of ``[batch, *]`` numbers, one per entry of ``widths`` (its size)."""
    for width in widths:
        torch.rand([batch, width] if width > 1 else [batch, 1, 1, 1], generator=stream)
    return stream.get_state()


def test_the_adaptive_probability_follows_how_sure_the_discriminator_is_of_real_faces():
    tuner = AugmentTuner(target=0.6, kimg=1.0, interval=2, batch_size=50)  # 100 images: ±0.1 per adjustment
    tuner.observe(0.9)
    assert not tuner.due()
    tuner.observe(0.7)
    p = tuner.adjust(0.3)
    assert (p, tuner.last_rt) == (pytest.approx(0.4), pytest.approx(0.8)) and not tuner.due()  # sure: more
    for sign in (0.2, 0.4):
        tuner.observe(sign)
    assert tuner.adjust(p) == pytest.approx(0.3) and tuner.last_rt == pytest.approx(0.3)  # under the target: less
    for start, sign in ((0.05, -1.0), (0.95, 1.0)):  # within [0, 1]
        tuner.observe(sign)
        tuner.observe(sign)
        assert tuner.adjust(start) == (0.0 if sign < 0 else 1.0)
    tuner.observe(0.5)  # a snapshot between two adjustments keeps the signs seen so far
    other = AugmentTuner(target=0.6, kimg=1.0, interval=2, batch_size=50)
    other.load_state_dict(tuner.state_dict())
    assert other.last_rt == 1.0
    for each in (tuner, other):
        each.observe(0.9)
    assert tuner.adjust(0.5) == other.adjust(0.5) == pytest.approx(0.6) and other.last_rt == pytest.approx(0.7)


def test_unconditional_pretraining_runs_resumes_exactly_and_needs_no_encoder(face_corpus, tmp_path):
    preset = tiny_pretrain()
    run = train_generator(preset, face_corpus, tmp_path / "runs", progress=False)
    model = load_pretrained(run / "model", ("generator",))
    assert model.config.voice_encoder is None and model.config.generator.c_dim == 0
    generator = model.modules["generator"]
    image = generator(torch.randn(2, generator.z_dim), None, noise_mode="const")
    assert image.shape == (2, 3, 32, 32)
    assert (run / "fakes000000.png").is_file() or any(run.glob("fakes*.png"))
    # Half the run, then --resume to the end, equals the run in one go.
    half = dataclasses.replace(preset, gan=dataclasses.replace(preset.gan, kimg=0.016))
    split = train_generator(half, face_corpus, tmp_path / "split", progress=False)
    train_generator(preset, face_corpus, resume=split, kimg=0.032, progress=False)
    whole = load_pretrained(run / "model", ("generator",)).modules["generator"].state_dict()
    resumed = load_pretrained(split / "model", ("generator",)).modules["generator"].state_dict()
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    with pytest.raises(ConfigError, match="drop --encoder"):
        train_generator(preset, face_corpus, tmp_path / "x", encoder=run, progress=False)


def _grown(preset: TrainingPreset, resolution: int, top_channels: int = 0, top_blocks: int = 1) -> TrainingPreset:
    """``preset`` at ``resolution`` px, the smaller blocks' widths unchanged (what growing by a block
    needs); ``top_channels`` widens the new top block only (and with ``top_blocks`` 2, the generator's
    block below it too)."""
    gan = preset.gan
    generator = dataclasses.replace(gan.generator, img_resolution=resolution, top_channels=top_channels,
                                    top_blocks=top_blocks)  # fmt: skip
    gan = dataclasses.replace(
        gan, generator=generator,
        discriminator=dataclasses.replace(gan.discriminator, img_resolution=resolution, top_channels=top_channels),
    )  # fmt: skip
    return dataclasses.replace(preset, name="tiny-grown", gan=gan)


# the rule's width, a wider new block, or the pretrained block below it widened as well
@pytest.mark.parametrize(("top_channels", "top_blocks"), [(0, 1), (12, 1), (24, 2)])
def test_a_grown_generator_first_draws_the_smaller_ones_faces_upsampled(top_channels, top_blocks):
    from voice2face.models import build_discriminator, build_generator
    from voice2face.models.ops import setup_filter, upsample2d
    from voice2face.models.stylegan2 import RESAMPLE_FILTER
    from voice2face.models.stylegan2.grow import grow_discriminator, grow_generator

    small_preset = tiny_pretrain()
    big_preset = _grown(small_preset, 64, top_channels, top_blocks)
    torch.manual_seed(0)
    small_g = build_generator(small_preset.gan.generator).eval()
    for parameter in small_g.parameters():  # a trained network's biases are not zero: keep them in the check
        parameter.data.add_(0.1 * torch.randn_like(parameter))
    big_g = build_generator(big_preset.gan.generator).eval()
    new = grow_generator(big_g, small_g)
    assert new and all(name.startswith("synthesis.b64.") for name in new)
    z = torch.randn(3, small_g.z_dim)
    with torch.no_grad():
        expected = upsample2d(small_g(z, None, noise_mode="const"), setup_filter(RESAMPLE_FILTER))
        grown = big_g(z, None, noise_mode="const")
    assert grown.shape == (3, 3, 64, 64) and torch.allclose(grown, expected, atol=1e-5)
    # The top block still learns: its toRGB gets a gradient.
    big_g.train()
    big_g(z, None).square().mean().backward()
    assert big_g.synthesis.b64.torgb.weight.grad.abs().sum() > 0
    if top_channels:
        assert big_g.synthesis.b64.conv1.weight.shape[:2] == (top_channels, top_channels)
    if top_blocks == 2:  # the pretrained 32 px block widened from the rule's 4 maps; the zeroed weights by
        # which its copied maps read the new ones get gradients, so the new maps come into use
        kept = small_g.synthesis.b32.out_channels
        assert big_g.synthesis.b32.conv1.weight.shape[:2] == (24, 24) and kept == 4
        assert torch.equal(big_g.synthesis.b32.conv0.weight[:kept], small_g.synthesis.b32.conv0.weight)
        assert big_g.synthesis.b32.conv1.weight.grad[:, kept:].abs().sum() > 0
    small_d = build_discriminator(small_preset.gan.discriminator)
    big_d = build_discriminator(big_preset.gan.discriminator)
    new_d = grow_discriminator(big_d, small_d)
    assert new_d and all(name.startswith("b64.") for name in new_d)
    assert torch.equal(big_d.b32.conv0.weight, small_d.b32.conv0.weight) and not hasattr(big_d.b32, "fromrgb")
    wider = dataclasses.replace(big_preset.gan.generator, channel_base=256)
    with pytest.raises(ValueError, match="changes nothing else"):
        grow_generator(build_generator(wider), small_g)
    with pytest.raises(ValueError, match="larger generator"):
        grow_generator(build_generator(small_preset.gan.generator), small_g)


def test_pretraining_grows_from_a_smaller_run_and_keeps_every_snapshots_generator(
    face_corpus, tmp_path_factory, tmp_path
):
    from voice2face.storage import RunFolder
    from voice2face.storage.layout import history_generator_kimg, history_generator_name

    small = train_generator(tiny_pretrain(), face_corpus, tmp_path / "small", progress=False)
    # One generator per snapshot, named by kimg (the tiny run's 16 and 32 images are both kimg 0).
    assert [p.name for p in RunFolder(small).history_generators()] == ["generator000000.safetensors"]
    assert history_generator_kimg(history_generator_name(12_345)) == 12
    faces64 = tmp_path_factory.mktemp("faces64") / "synthface"
    assert main(["synth-faces", str(faces64), "--count", "16", "--resolution", "64", "--seed", "5", "-q"]) == 0
    preset = _grown(tiny_pretrain(), 64)
    preset = dataclasses.replace(preset, gan=dataclasses.replace(preset.gan, kimg=0.008, snapshot_kimg=0.008))
    run = train_generator(preset, faces64, tmp_path / "big", generator=small, progress=False)
    assert RunFolder(run).read_options().generator == str(small / "model")
    grown = load_pretrained(run / "model", ("generator",)).modules["generator"].state_dict()
    before = load_pretrained(small / "model", ("generator",)).modules["generator"].state_dict()
    # Two steps of fine-tuning from the small run's weights: near them, far from a fresh network's.
    name = "synthesis.b16.conv1.weight"
    assert (grown[name] - before[name]).abs().max() < 0.1 * before[name].abs().max()
    assert len(RunFolder(run).history_generators()) == 1
    with pytest.raises(ConfigError, match="smaller generator"):
        train_generator(tiny_pretrain(), face_corpus, tmp_path / "x", generator=run, progress=False)
    # A model of the run's own networks is continued as it is (a new recipe on a pretrained run).
    from voice2face.config import ModelConfig
    from voice2face.data.manifest import load_manifest as load
    from voice2face.training.data import face_tensors
    from voice2face.training.trainers.gan import GANTrainer

    config = preset.gan
    trainer = GANTrainer(config, ModelConfig(generator=config.generator, discriminator=config.discriminator), None,
                         face_tensors(load(faces64), "train", progress=False))  # fmt: skip
    trainer.grow_from(run / "model")
    saved = load_pretrained(run / "model", ("generator", "discriminator")).modules
    for mine, theirs in ((trainer.G, saved["generator"]), (trainer.G_ema, saved["generator"]),
                         (trainer.D, saved["discriminator"])):  # fmt: skip
        assert all(torch.equal(v, theirs.state_dict()[k]) for k, v in mine.state_dict().items())
    with pytest.raises(ConfigError, match="drop --generator"):
        conditional = get_preset("synthvox-quick")
        train_generator(conditional, faces64, tmp_path / "y", generator=small, progress=False)


def test_during_the_discriminator_warm_up_only_the_discriminator_learns(face_corpus, tmp_path):
    from voice2face.config import ModelConfig
    from voice2face.data.manifest import load_manifest as load
    from voice2face.training.data import face_tensors
    from voice2face.training.trainers.gan import GANTrainer

    preset = tiny_pretrain()
    config = dataclasses.replace(preset.gan, d_warmup_kimg=0.008)  # two steps of 4 images
    trainer = GANTrainer(config, ModelConfig(generator=config.generator, discriminator=config.discriminator), None,
                         face_tensors(load(face_corpus), "train", progress=False))  # fmt: skip
    # Parameters only: the mapping's w_avg tracks the mean w of the fakes D is shown (its weights unchanged).
    g_before = {k: v.detach().clone() for k, v in trainer.G.named_parameters()}
    ema_before = {k: v.clone() for k, v in trainer.G_ema.state_dict().items()}
    d_before = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    for _ in range(2):
        trainer.train_step()
    assert all(torch.equal(v, dict(trainer.G.named_parameters())[k]) for k, v in g_before.items())
    assert all(torch.equal(v, trainer.G_ema.state_dict()[k]) for k, v in ema_before.items())
    assert any(not torch.equal(v, trainer.D.state_dict()[k]) for k, v in d_before.items())
    trainer.train_step()  # the warm-up is over: G learns
    assert any(not torch.equal(v, dict(trainer.G.named_parameters())[k]) for k, v in g_before.items())
    with pytest.raises(ConfigError, match="d_warmup_kimg"):
        dataclasses.replace(config, d_warmup_kimg=1.0)


def test_while_the_generator_is_frozen_below_a_resolution_only_the_blocks_above_learn(face_corpus, tmp_path):
    from voice2face.config import ModelConfig
    from voice2face.data.manifest import load_manifest as load
    from voice2face.training.data import face_tensors
    from voice2face.training.trainers.gan import GANTrainer

    preset = tiny_pretrain()
    top = preset.gan.generator.img_resolution
    # Frozen below the top block for the first two steps of 4 images, then everything learns.
    config = dataclasses.replace(preset.gan, g_freeze_resolution=top // 2, g_freeze_kimg=0.008)
    trainer = GANTrainer(config, ModelConfig(generator=config.generator, discriminator=config.discriminator), None,
                         face_tensors(load(face_corpus), "train", progress=False))  # fmt: skip
    before = {k: v.detach().clone() for k, v in trainer.G.named_parameters()}
    ema_before = {k: v.clone() for k, v in trainer.G_ema.named_parameters()}
    for _ in range(2):
        trainer.train_step()
    after = dict(trainer.G.named_parameters())
    ema_after = dict(trainer.G_ema.named_parameters())
    top_block = f"synthesis.b{top}."
    frozen = [k for k in before if not k.startswith(top_block)]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert all(torch.equal(ema_before[k], ema_after[k]) for k in frozen)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(top_block))
    trainer.train_step()  # the window is over: the rest learns too
    assert any(not torch.equal(before[k], dict(trainer.G.named_parameters())[k]) for k in frozen)
    widened = dataclasses.replace(config.generator, top_channels=8, top_blocks=2)  # the blocks from top // 2 px
    for bad in ({"g_freeze_resolution": top}, {"g_freeze_resolution": 24}, {"g_freeze_kimg": 2 * config.kimg},
                {"generator": widened}):  # fmt: skip
        with pytest.raises(ConfigError, match="g_freeze"):
            dataclasses.replace(config, **bad)


def test_a_thaw_lets_the_held_blocks_learn_at_a_fraction_of_the_rate(face_corpus, tmp_path):
    from voice2face.config import ModelConfig
    from voice2face.data.manifest import load_manifest as load
    from voice2face.training.data import face_tensors
    from voice2face.training.trainers.gan import GANTrainer

    preset = tiny_pretrain()
    top = preset.gan.generator.img_resolution
    config = dataclasses.replace(preset.gan, g_freeze_resolution=top // 2, g_freeze_kimg=0.004, g_freeze_lr=0.1,
                                 pl_weight=0.0)  # fmt: skip
    trainer = GANTrainer(config, ModelConfig(generator=config.generator, discriminator=config.discriminator), None,
                         face_tensors(load(face_corpus), "train", progress=False))  # fmt: skip
    top_block = f"synthesis.b{top}."

    def largest_steps() -> tuple[float, float]:
        """The largest change of a held and of a top-block parameter over one step."""
        before = {k: v.detach().clone() for k, v in trainer.G.named_parameters()}
        trainer.train_step()
        change = {k: (v - before[k]).abs().max().item() for k, v in trainer.G.named_parameters()}
        # The mapping's weights are stored ×100 (its learning-rate multiplier), so its steps are
        # float32-rounded: the synthesis blocks show the rate exactly.
        held = max(v for k, v in change.items() if k.startswith("synthesis.") and not k.startswith(top_block))
        assert any(v > 0 for k, v in change.items() if k.startswith("mapping."))
        return held, max(v for k, v in change.items() if k.startswith(top_block))

    # Adam's first step moves a parameter by lr·sign(gradient) (β1 = 0): the held part by a tenth of it.
    held, above = largest_steps()
    assert above == pytest.approx(config.g_lr, rel=1e-3) and held == pytest.approx(0.1 * config.g_lr, rel=1e-3)
    held, above = largest_steps()  # the window (one step of 4 images) is over: the full rate for all
    assert held > 0.5 * config.g_lr
    # Its snapshot resumes exactly: both optimiser groups come back, the next step is the same.
    data = face_tensors(load(face_corpus), "train", progress=False)
    model = ModelConfig(generator=config.generator, discriminator=config.discriminator)
    trainer.save_snapshot(tmp_path / "model")
    again = GANTrainer(config, model, None, data)
    again.load_snapshot(tmp_path / "model")
    assert len(again.opt_G.param_groups) == 2
    trainer.train_step()
    again.train_step()
    assert all(torch.equal(a, b) for a, b in zip(trainer.G.parameters(), again.G.parameters(), strict=True))
    # A model of the same size but other networks is not continued, and the refusal says how to match it.
    other = dataclasses.replace(config, generator=dataclasses.replace(config.generator, mapping_layers=1))
    mismatched = GANTrainer(other, ModelConfig(generator=other.generator, discriminator=other.discriminator), None,
                            data)  # fmt: skip
    with pytest.raises(ConfigError, match="other network settings than this run's; to continue it, give the --set"):
        mismatched.grow_from(tmp_path / "model")
    with pytest.raises(ConfigError, match="g_freeze_lr"):
        dataclasses.replace(config, g_freeze_lr=1.5)
    with pytest.raises(ConfigError, match="g_freeze_lr"):
        dataclasses.replace(preset.gan, g_freeze_lr=0.1)  # nothing held for it to act on


def test_a_grown_run_may_start_a_fresh_wider_discriminator(face_corpus, tmp_path_factory, tmp_path):
    from voice2face.config import ModelConfig
    from voice2face.data.manifest import load_manifest as load
    from voice2face.training.data import face_tensors
    from voice2face.training.trainers.gan import GANTrainer

    small = train_generator(tiny_pretrain(), face_corpus, tmp_path / "small", progress=False)
    faces64 = tmp_path_factory.mktemp("faces64") / "synthface"
    assert main(["synth-faces", str(faces64), "--count", "16", "--resolution", "64", "--seed", "5", "-q"]) == 0
    data = face_tensors(load(faces64), "train", progress=False)
    grown = _grown(tiny_pretrain(), 64).gan
    wide_d = dataclasses.replace(grown.discriminator, channel_base=2 * grown.discriminator.channel_base)

    def trainer(d_fresh: bool) -> GANTrainer:
        config = dataclasses.replace(grown, discriminator=wide_d, d_fresh=d_fresh)
        return GANTrainer(config, ModelConfig(generator=config.generator, discriminator=wide_d), None, data)

    # The base's D has other widths below the new block: it cannot be grown into the wider one ...
    with pytest.raises(ConfigError, match="cannot grow"):
        trainer(False).grow_from(small / "model")
    # ... but with d_fresh, G grows from the base and D keeps its fresh initialisation.
    fresh = trainer(True)
    d_init = {k: v.clone() for k, v in fresh.D.state_dict().items()}
    fresh.grow_from(small / "model")
    base = load_pretrained(small / "model", ("generator",)).modules["generator"].state_dict()
    assert torch.equal(fresh.G.state_dict()["synthesis.b16.conv1.weight"], base["synthesis.b16.conv1.weight"])
    assert all(torch.equal(v, fresh.D.state_dict()[k]) for k, v in d_init.items())
    assert fresh.D.b32.conv0.weight.shape[0] == 2 * load_pretrained(small / "model", ("discriminator",)).modules[
        "discriminator"].b32.conv0.weight.shape[0]  # fmt: skip
    # A model of the run's own networks continues with its trained D: d_fresh has no place there.
    fresh.save_snapshot(tmp_path / "own")
    with pytest.raises(ConfigError, match="d_fresh"):
        trainer(True).grow_from(tmp_path / "own")


def test_a_snapshot_continues_on_another_machine_and_comes_back_as_the_files_that_continue_it(face_corpus, tmp_path):
    """scripts/pretrain_on_device.py (issue 31's GPU command), here with --device cpu: a copy of the
    snapshot continues, its faces remade where its options name them, and the files that come back
    are the run resumed in place, exactly; the snapshot itself is left as it was."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    run = train_generator(tiny_pretrain(), face_corpus, tmp_path / "runs", progress=False)  # 0.032 kimg
    snapshot = tmp_path / "snapshot"
    shutil.copytree(run / "model", snapshot / "model")
    for name in ("training_options.json", "stats.jsonl"):
        shutil.copy2(run / name, snapshot / name)
    options = json.loads((snapshot / "training_options.json").read_text())
    options["data"] = str(tmp_path / "faces-elsewhere" / "synthface")  # the faces are not on that machine
    (snapshot / "training_options.json").write_text(json.dumps(options))
    state_before = (snapshot / "model" / "trainer_state.pt").read_bytes()
    out = tmp_path / "out"

    def script(*extra: str) -> subprocess.CompletedProcess:
        argv = [
            sys.executable,
            str(repo / "scripts" / "pretrain_on_device.py"),
            str(snapshot),
            "--out",
            str(out),
            "--minutes",
            "5",
            "--kimg",
            "0.064",
            "--device",
            "cpu",
            "--work",
            str(tmp_path / "work"),
            *extra,
        ]
        return subprocess.run(argv, capture_output=True, text=True, cwd=repo)  # fmt: skip

    refused = script()
    assert refused.returncode == 2 and "--faces" in refused.stderr and not out.exists()
    done = script("--faces", "--count 40 --resolution 32 --seed 5")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert (record["kimg_before"], record["kimg_after"], record["device"]) == (0.032, 0.064, "cpu")
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "generator.safetensors", "discriminator.safetensors", "trainer_state.pt",
            "training_options.json", "stats.jsonl"} <= names and any(n.startswith("fakes") for n in names)  # fmt: skip
    assert len(names) <= 8 and any(n.startswith("generator0") for n in names)  # the device tool brings back 8
    assert json.loads((out / "training_options.json").read_text())["config"]["kimg"] == 0.064
    assert (snapshot / "model" / "trainer_state.pt").read_bytes() == state_before
    in_place = train_generator(tiny_pretrain(), face_corpus, resume=run, kimg=0.064, progress=False)
    here = load_pretrained(in_place / "model", ("generator",)).modules["generator"].state_dict()
    shutil.copytree(out, tmp_path / "back" / "model", ignore=shutil.ignore_patterns("*.json*", "*.png"))
    shutil.copy2(out / "config.json", tmp_path / "back" / "model" / "config.json")
    there = load_pretrained(tmp_path / "back" / "model", ("generator",)).modules["generator"].state_dict()
    assert all(torch.equal(here[k], there[k]) for k in here)


def test_a_stop_off_the_schedule_keeps_the_scheduled_grid_and_generator_of_its_whole_kimg(face_corpus, tmp_path):
    """history/ and the grids are named by whole kimg; a stop at 30.53 kimg must not replace what the
    schedule kept at 30 (the realism curve reads those), while a scheduled snapshot always writes. Here
    (4 images a step, a snapshot every 16): 16 images scheduled, 20 a stop, 32 scheduled; all kimg 0.
    A resumed run lengthened by --kimg records its new length."""
    from voice2face.storage import RunFolder

    preset = tiny_pretrain()
    half = dataclasses.replace(preset, gan=dataclasses.replace(preset.gan, kimg=0.016))
    run = train_generator(half, face_corpus, tmp_path / "runs", progress=False)
    kept = RunFolder(run).history_generators()
    grid = RunFolder(run).fakes_grid(16)
    scheduled = kept[0].read_bytes(), grid.read_bytes()
    model = run / "model" / "generator.safetensors"
    model_before = model.read_bytes()
    train_generator(preset, face_corpus, resume=run, kimg=0.02, progress=False)  # stops between snapshots
    assert model.read_bytes() != model_before  # it did train on
    assert RunFolder(run).history_generators() == kept and (kept[0].read_bytes(), grid.read_bytes()) == scheduled
    assert RunFolder(run).read_options().config["kimg"] == 0.02
    train_generator(preset, face_corpus, resume=run, kimg=0.032, progress=False)  # ends on the schedule
    assert kept[0].read_bytes() != scheduled[0] and grid.read_bytes() != scheduled[1]
    assert RunFolder(run).read_options().config["kimg"] == 0.032
