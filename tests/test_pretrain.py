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
from voice2face.training.augment import diff_augment, make_draw, parse_policy
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
