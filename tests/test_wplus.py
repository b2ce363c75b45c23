"""The paper's route, steps 3–4: projection into W+, the voice→W+ mapper, and its model folders."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from voice2face.cli import main
from voice2face.config import GeneratorConfig, MapperConfig, ModelConfig, ProjectionConfig
from voice2face.errors import CheckpointError, ConfigError
from voice2face.inference.pipeline import VoiceToFace
from voice2face.models import build_generator, build_mapper
from voice2face.models.wplus import MappedGenerator
from voice2face.storage.checkpoint import load_pretrained, load_tensors, load_voice_to_face, save_pretrained
from voice2face.storage.layout import CODES_FILE, PROJECTOR_FILE
from voice2face.training.presets import get_preset
from voice2face.training.projection import (
    load_projector,
    project_faces,
    speaker_codes,
    train_projector,
)  # fmt: skip
from voice2face.training.runner import train_mapper


def _tiny_generator(resolution: int = 64, seed: int = 0):
    torch.manual_seed(seed)
    config = GeneratorConfig(
        z_dim=8, c_dim=0, w_dim=16, img_resolution=resolution, channel_base=128, channel_max=16, mapping_layers=2,
        use_noise=False,
    )  # fmt: skip
    G = build_generator(config).eval()
    with torch.no_grad():  # a non-zero average code, as a trained generator has
        G.mapping.w_avg.copy_(torch.randn(config.w_dim))
    return config, G


def _mapper(G, embedding_dim: int = 12, rank: int = 3):
    mapper = build_mapper(MapperConfig(embedding_dim=embedding_dim, num_ws=G.num_ws, w_dim=G.w_dim, hidden_dim=20,
                                       rank=rank))  # fmt: skip
    mapper.w_avg.copy_(G.mapping.w_avg)
    with torch.no_grad():
        for p in mapper.parameters():
            p.normal_(0, 0.3)
    return mapper


def _calibration(G, count: int = 256, shrink: float = 0.5):
    """Random codes of G in W and stand-in "projections" of their renderings: the code itself,
    shrunk towards w_avg as a squared-error projector shrinks it."""
    with torch.no_grad():
        w = G.mapping(torch.randn(count, G.z_dim, generator=torch.Generator().manual_seed(5)), None)
    return w[:, 0], G.mapping.w_avg + shrink * (w - G.mapping.w_avg)


def _fitted(G, speakers, shrink: float = 0.5):
    mapper = _mapper(G)
    with torch.no_grad():
        codes = mapper.predict(speakers) + 0.1 * torch.randn(len(speakers), G.num_ws, G.w_dim)
    return mapper, mapper.fit_basis(speakers, codes, *_calibration(G, shrink=shrink))


def test_mapper_puts_the_voice_in_its_subspace_calibrated_and_leaves_the_rest_to_z():
    _, G = _tiny_generator(16)
    speakers = torch.randn(10, 12)
    mapper, kept = _fitted(G, speakers)
    assert 1 <= kept <= 3
    basis = mapper.basis.flatten(0, 1)  # [L·C, r]: orthonormal columns, the rest zero
    assert torch.allclose(basis[:, :kept].T @ basis[:, :kept], torch.eye(kept), atol=1e-5)
    assert float(basis[:, kept:].abs().sum()) == 0.0
    voice = speakers[:1].repeat(4, 1)
    w_random = G.mapping(torch.randn(4, G.z_dim), None)  # 4 different zs
    ws = mapper(voice, w_random)  # [4, L, C]
    # The rendering's read-out in the voice subspace is the voice's, whatever z was...
    assert torch.allclose(mapper.random_coordinates(ws), mapper.voice_coordinates(voice), atol=1e-3)
    # ... and calibrated: the stand-in projections shrink codes by half, and the read-out says so.
    assert torch.allclose(mapper.readout[:, :kept], 0.5 * mapper.basis.sum(dim=0)[:, :kept], atol=2e-2)
    move = (ws - w_random)[:, :1]  # one move in W, the same on every layer
    assert torch.allclose(ws - w_random, move.expand_as(ws), atol=1e-6)
    assert float((ws[0] - ws[1]).detach().abs().max()) > 1e-3  # z still changes the face


def test_an_unfitted_mapper_returns_the_random_code_and_shapes_are_checked():
    _, G = _tiny_generator(16)
    mapper = _mapper(G)
    w_random = G.mapping(torch.randn(2, G.z_dim), None)
    assert torch.allclose(mapper(torch.randn(2, 12), w_random), w_random, atol=1e-5)
    with pytest.raises(ValueError, match="voice embedding"):
        mapper.predict(torch.randn(2, 13))
    with pytest.raises(ValueError, match="random W\\+ code"):
        mapper(torch.randn(2, 12), w_random[:, :-1])
    with pytest.raises(ValueError, match="unconditional"):
        MappedGenerator(build_generator(GeneratorConfig(z_dim=8, c_dim=4, w_dim=16, img_resolution=16,
                                                        channel_base=128, channel_max=16)), mapper)  # fmt: skip


def test_model_config_checks_that_the_mapper_fits_encoder_and_generator():
    gen = GeneratorConfig(z_dim=8, c_dim=0, w_dim=16, img_resolution=16, channel_base=128, channel_max=16)
    with pytest.raises(ConfigError, match="W\\+ shape"):
        ModelConfig(generator=gen, mapper=MapperConfig(embedding_dim=4, num_ws=gen.num_ws + 1, w_dim=16, rank=2))
    with pytest.raises(ConfigError, match="unconditional"):
        ModelConfig(generator=dataclasses.replace(gen, c_dim=4),
                    mapper=MapperConfig(embedding_dim=4, num_ws=gen.num_ws, w_dim=16, rank=2))  # fmt: skip
    ModelConfig(generator=gen, mapper=MapperConfig(embedding_dim=4, num_ws=gen.num_ws, w_dim=16, rank=2))


def test_projector_learns_codes_of_the_generator_and_recovers_its_own_samples():
    _, G = _tiny_generator(16)
    config = ProjectionConfig(steps=60, batch_size=16, lr=3e-3, width=8)
    projector = train_projector(G, config, seed=0, progress=False)
    z = torch.randn(32, G.z_dim, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        ws = G.mapping(z, None)
        faces = ((G.synthesis(ws, noise_mode="const").clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    codes = project_faces(G, projector, faces, config, progress=False)
    assert codes.shape == ws.shape
    start = float(((G.mapping.w_avg - ws) ** 2).mean())  # the untrained guess: the average code
    assert float(((codes - ws) ** 2).mean()) < 0.8 * start
    refined = project_faces(G, projector, faces, dataclasses.replace(config, refine_steps=10, refine_lr=0.05),
                            progress=False)  # fmt: skip
    with torch.no_grad():
        target = faces.float() / 127.5 - 1
        err = lambda c: float(((G.synthesis(c, noise_mode="const") - target) ** 2).mean())  # noqa: E731
    assert err(refined) < err(codes)  # refinement lowers the pixel error it optimises
    means = speaker_codes(codes, torch.tensor([0, 1] * 16), 2)
    assert torch.allclose(means[0], codes[0::2].mean(0), atol=1e-6)
    with pytest.raises(ValueError, match="no faces"):
        speaker_codes(codes, torch.zeros(32, dtype=torch.long), 3)


# ------------------------------------------------------------------ the stage end to end on the tiny corpus


def _tiny_wplus_preset():
    preset = get_preset("synthvox-wplus-edit-64")
    mapper = dataclasses.replace(
        preset.mapper, projection=ProjectionConfig(steps=4, batch_size=4, width=8), batch_size=4, steps=6,
        validate_every=3, snapshot_every=4, target_rank=4, attribute_weight=1.0,
        mapper=dataclasses.replace(preset.mapper.mapper, hidden_dim=16, rank=3),
    )  # fmt: skip
    return dataclasses.replace(preset, name="tiny-wplus", mapper=mapper)


@pytest.fixture(scope="module")
def pretrained_generator(tmp_path_factory, tiny_manifest):
    config, G = _tiny_generator(tiny_manifest.face_resolution)
    folder = tmp_path_factory.mktemp("pretrained") / "generator"
    save_pretrained(folder, {"generator": G}, ModelConfig(generator=config))
    return folder


@pytest.fixture(scope="module")
def mapper_run(tiny_corpus, tiny_encoder_run, pretrained_generator, tmp_path_factory):
    out = tmp_path_factory.mktemp("mapper-runs")
    return train_mapper(_tiny_wplus_preset(), tiny_corpus, out, generator=pretrained_generator,
                        encoder=tiny_encoder_run, progress=False)  # fmt: skip


def test_mapper_run_writes_a_model_folder_that_portrait_and_the_api_load(mapper_run, example_wav, tmp_path):
    model = mapper_run / "model"
    config, modules = load_voice_to_face(model)
    assert config.mapper is not None and config.generator.c_dim == 0
    assert isinstance(modules["generator"], MappedGenerator)
    assert (mapper_run / CODES_FILE).is_file() and (mapper_run / "projection.png").is_file()
    assert (mapper_run / "portraits000006.png").is_file()
    stats = [json.loads(line) for line in (mapper_run / "stats.jsonl").read_text().splitlines()]
    assert [s["step"] for s in stats] == list(range(1, 7)) and "val/skill" in stats[2]
    pipe = VoiceToFace.from_pretrained(model)
    faces = pipe(str(example_wav), num_samples=3, seed=1)
    assert len(faces) == 3 and faces[0].size == (config.generator.img_resolution,) * 2
    assert main(["portrait", str(example_wav), "-m", str(model), "-o", str(tmp_path / "out"), "--samples", "2"]) == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 2


def test_the_saved_mapper_is_the_trained_one_folded(mapper_run):
    """The coefficient layer folded into the output layer predicts exactly what training predicted."""
    loaded = load_pretrained(mapper_run / "model", ("mapper",)).modules["mapper"]
    assert float(loaded.net[-1].weight.detach().abs().sum()) > 0  # trained, not the zero initialisation
    assert float(loaded.basis.abs().sum()) > 0  # the voice subspace was fitted
    e = torch.randn(3, loaded.embedding_dim)
    ws = loaded.predict(e)
    assert ws.shape == (3, loaded.num_ws, loaded.w_dim) and torch.isfinite(ws).all()


def test_mapper_resume_continues_exactly(tiny_corpus, tiny_encoder_run, pretrained_generator, tmp_path):
    preset = _tiny_wplus_preset()
    whole = train_mapper(preset, tiny_corpus, tmp_path / "a", generator=pretrained_generator,
                         encoder=tiny_encoder_run, progress=False)  # fmt: skip
    short = dataclasses.replace(preset, mapper=dataclasses.replace(preset.mapper, steps=4))
    part = train_mapper(short, tiny_corpus, tmp_path / "b", generator=pretrained_generator,
                        encoder=tiny_encoder_run, progress=False)  # fmt: skip
    options = json.loads((part / "training_options.json").read_text())
    options["config"]["steps"] = 6  # the same run, given its full length
    (part / "training_options.json").write_text(json.dumps(options))
    train_mapper(None, None, resume=part, progress=False)
    a = load_pretrained(whole / "model", ("voice_encoder", "mapper")).modules
    b = load_pretrained(part / "model", ("voice_encoder", "mapper")).modules
    for name in a:
        for (key, x), (_, y) in zip(a[name].state_dict().items(), b[name].state_dict().items(), strict=True):
            assert torch.allclose(x, y, atol=1e-6), f"{name}.{key} differs after resume"


def test_a_projector_shipped_beside_its_generator_is_reused_and_one_of_another_is_not(
    mapper_run, tiny_corpus, tiny_encoder_run, pretrained_generator, tmp_path, monkeypatch, caplog
):
    import shutil

    import voice2face.training.projection as projection

    saved = mapper_run / PROJECTOR_FILE
    assert saved.is_file()  # every run keeps the projector it used
    shipped = tmp_path / "generator"
    shutil.copytree(pretrained_generator, shipped)
    shutil.copyfile(saved, shipped / PROJECTOR_FILE)

    def refuse(*args, **kwargs):
        raise AssertionError("trained a projector although one was shipped for this generator")

    monkeypatch.setattr(projection, "train_projector", refuse)
    preset = _tiny_wplus_preset()
    run = train_mapper(preset, tiny_corpus, tmp_path / "runs", generator=shipped, encoder=tiny_encoder_run,
                       progress=False)  # fmt: skip
    assert (run / PROJECTOR_FILE).read_bytes() == saved.read_bytes()
    assert torch.equal(load_tensors(run / CODES_FILE)["train"], load_tensors(mapper_run / CODES_FILE)["train"])

    other = tmp_path / "other"  # another generator's weights: its projector must not be used
    _, G2 = _tiny_generator(tiny_corpus_resolution(tiny_corpus), seed=1)
    save_pretrained(other, {"generator": G2}, load_pretrained(pretrained_generator, ("generator",)).config)
    shutil.copyfile(saved, other / PROJECTOR_FILE)
    with pytest.raises(AssertionError, match="trained a projector"):
        train_mapper(preset, tiny_corpus, tmp_path / "runs2", generator=other, encoder=tiny_encoder_run,
                     progress=False)  # fmt: skip
    assert "belongs to another generator" in caplog.text
    (other / PROJECTOR_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match=r"projector\.safetensors"):
        load_projector(other / PROJECTOR_FILE, "0" * 64)


def tiny_corpus_resolution(corpus) -> int:
    from voice2face.data.manifest import load_manifest

    return load_manifest(corpus).face_resolution


def test_train_cli_routes_the_paper_preset_and_refuses_what_does_not_fit(
    tiny_corpus, tiny_encoder_run, pretrained_generator, tmp_path, capsys
):
    assert main(["train", "--preset", "synthvox-wplus-64", "--dry-run"]) == 0
    options = json.loads(capsys.readouterr().out)
    assert options["stage"] == "mapper" and options["config"]["mapper"]["num_ws"] == 10
    args = ["train", "--preset", "synthvox-wplus-64", "--data", str(tiny_corpus), "--out", str(tmp_path / "r")]
    assert main([*args, "--encoder", str(tiny_encoder_run)]) != 0  # no --generator
    assert "--generator" in capsys.readouterr().err
    assert main([*args, "--encoder", str(tiny_encoder_run), "--generator", str(tiny_encoder_run)]) != 0
    assert "has no generator" in capsys.readouterr().err  # an encoder run is not a pretrained generator
    assert main(["train", "--preset", "synthvox-quick", "--generator", str(pretrained_generator), "--dry-run"]) != 0
    assert main(["train", "--preset", "synthvox-wplus-64", "--kimg", "1", "--dry-run"]) != 0
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())  # nothing half-written


def test_old_model_folders_without_a_mapper_still_load(tiny_model):
    config, modules = load_voice_to_face(tiny_model)
    assert config.mapper is None and not isinstance(modules["generator"], MappedGenerator)
    raw = json.loads((tiny_model / "config.json").read_text())
    assert "mapper" not in raw or raw["mapper"] is None
    assert np.isfinite(VoiceToFace.from_pretrained(tiny_model).generate(np.zeros(16, np.float32))[0].getextrema()[0][0])


def test_z_strength_truncates_the_random_code_before_the_voice_edit():
    _, G = _tiny_generator(16)
    speakers = torch.randn(10, 12)
    mapper, _ = _fitted(G, speakers)
    voice, w_random = speakers[:2], G.mapping(torch.randn(2, G.z_dim), None)
    strengths = tuple(0.0 if layer < 2 else 0.5 for layer in range(G.num_ws))
    half = build_mapper(dataclasses.replace(mapper.config, z_strength=strengths))
    half.load_state_dict(mapper.state_dict())
    truncated = G.mapping.w_avg + torch.tensor(strengths)[:, None] * (w_random - G.mapping.w_avg)
    assert torch.allclose(half(voice, w_random), mapper(voice, truncated), atol=1e-5)
    with pytest.raises(ConfigError, match="one value per layer"):
        dataclasses.replace(mapper.config, z_strength=(0.5,))
