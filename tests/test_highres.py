"""The high-resolution route (issue 16): presets on the official networks, and an imported
checkpoint of another size than the corpus's photos through the label-free voice side to portraits."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from voice2face.config import GeneratorConfig
from voice2face.errors import ConfigError
from voice2face.inference.pipeline import VoiceToFace
from voice2face.models.pretrained import import_stylegan2
from voice2face.models.stylegan2 import Generator
from voice2face.training.presets import get_preset
from voice2face.training.runner import train_mapper

from test_pretrained import official_pickle


@pytest.mark.parametrize(("name", "resolution", "num_ws", "g_params"),
                         [("highres-256", 256, 14, 24_767_458), ("highres-1024", 1024, 18, 30_370_060)])  # fmt: skip
def test_the_highres_presets_are_the_official_networks_with_a_label_free_voice_side(name, resolution, num_ws, g_params):
    preset = get_preset(name)
    generator = preset.gan.generator
    assert (generator.img_resolution, generator.num_ws, generator.w_dim) == (resolution, num_ws, 512)
    assert generator.c_dim == 0
    with torch.device("meta"):
        assert sum(p.numel() for p in Generator(generator).parameters()) == g_params
    assert preset.mapper.mapper.family == "pool" and preset.mapper.mapper.num_ws == num_ws
    assert preset.encoder.features.voicing and preset.encoder.encoder.embedding_dim == 512


def _tiny_highres_preset():
    preset = get_preset("highres-256")
    pool = dataclasses.replace(preset.mapper.mapper.pool, face_size=16, face_dims=8, rank=2, pool_size=48,
                               candidates=8, blend=2)  # fmt: skip
    mapper = dataclasses.replace(preset.mapper, batch_size=4, steps=4, validate_every=2, snapshot_every=4,
                                 crops=get_preset("synthvox-quick").encoder.crops,
                                 mapper=dataclasses.replace(preset.mapper.mapper, pool=pool))  # fmt: skip
    return dataclasses.replace(preset, name="tiny-highres", mapper=mapper)


@pytest.fixture(scope="module")
def imported_128px(tmp_path_factory):
    """A small 128 px StyleGAN2 written as an official NVIDIA pickle, then imported (random weights:
    what is checked is the way through, not the faces)."""
    torch.manual_seed(3)
    config = GeneratorConfig(z_dim=16, c_dim=0, w_dim=16, img_resolution=128, channel_base=256, channel_max=16,
                             mapping_layers=2)  # fmt: skip
    folder = tmp_path_factory.mktemp("highres")
    pickle = official_pickle(folder / "tiny-128.pkl", Generator(config).eval())
    import_stylegan2(pickle, folder / "imported")
    return folder / "imported"


def test_an_imported_generator_larger_than_the_photos_goes_through_the_voice_side_to_portraits(
    imported_128px, tiny_corpus, tiny_encoder_run, example_wav, tmp_path
):
    """64 px photos, a 128 px imported generator: the pool compares both at its face size, and the
    portraits come out at the generator's 128 px."""
    run = train_mapper(_tiny_highres_preset(), tiny_corpus, tmp_path / "runs", generator=imported_128px,
                       encoder=tiny_encoder_run, progress=False)  # fmt: skip
    faces = VoiceToFace.from_pretrained(run / "model")(example_wav, num_samples=2, seed=0)
    assert [face.size for face in faces] == [(128, 128), (128, 128)]
    assert (run / "portraits000004.png").is_file()


def test_photos_smaller_than_the_pools_face_size_are_refused_in_one_sentence(
    imported_128px, tiny_corpus, tiny_encoder_run, tmp_path
):
    preset = _tiny_highres_preset()
    pool = dataclasses.replace(preset.mapper.mapper.pool, face_size=96)
    preset = dataclasses.replace(preset, mapper=dataclasses.replace(
        preset.mapper, mapper=dataclasses.replace(preset.mapper.mapper, pool=pool)))  # fmt: skip
    with pytest.raises(ConfigError, match=r"holds 64 px faces, under the 96 px .*; use a corpus of larger photos\.$"):
        train_mapper(preset, tiny_corpus, tmp_path / "runs", generator=imported_128px, encoder=tiny_encoder_run,
                     progress=False)  # fmt: skip
    assert not list((tmp_path / "runs").glob("*/model"))  # refused before a run folder holds anything


def test_portraits_come_at_the_models_resolution_with_a_downscaled_copy_on_request(
    imported_128px, tiny_corpus, tiny_encoder_run, example_wav, tmp_path
):
    from PIL import Image

    from voice2face.cli import main
    from voice2face.storage.png import SYNTHETIC_NOTICE, read_png_metadata

    run = train_mapper(_tiny_highres_preset(), tiny_corpus, tmp_path / "runs", generator=imported_128px,
                       encoder=tiny_encoder_run, progress=False)  # fmt: skip
    out = tmp_path / "portraits"
    assert main(["portrait", str(example_wav), "-m", str(run), "-o", str(out), "--samples", "2", "--thumbnail", "32",
                 "-q"]) == 0  # fmt: skip
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"example_voice_{k}{tail}" for k in (0, 1) for tail in (".32px.png", ".png")]
    with Image.open(out / "example_voice_0.png") as full, Image.open(out / "example_voice_0.32px.png") as small:
        assert full.size == (128, 128) and small.size == (32, 32)
    meta = read_png_metadata(out / "example_voice_0.32px.png")
    assert meta["Description"] == SYNTHETIC_NOTICE and meta["Thumbnail"] == "32 px of 128"
    bad = tmp_path / "bad"
    assert main(["portrait", str(example_wav), "-m", str(run), "-o", str(bad), "--thumbnail", "128", "-q"]) == 2
    assert not bad.exists()  # refused before anything was written


def test_a_1024px_model_draws_one_face_per_pass_on_the_default_memory():
    from voice2face.models.generation import images_per_pass

    assert images_per_pass(get_preset("highres-1024").gan.generator, 1024.0, 32) == 1  # config F: 32 maps at 1024 px
    assert images_per_pass(get_preset("highres-256").gan.generator, 1024.0, 32) == 12  # paper256: ~87 MB an image
    assert images_per_pass(get_preset("synthface-64").gan.generator, 1024.0, 32) == 32  # the bundled 64 px: batch rules
