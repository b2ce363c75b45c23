"""Model folders: save → load gives bit-identical outputs; every broken folder gives one
CheckpointError naming the file; writes are atomic; nothing is unpickled."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from voice2face.config import (
    DiscriminatorConfig,
    FeatureConfig,
    GeneratorConfig,
    ModelConfig,
    VoiceEncoderConfig,
    WeightFile,
    load_json,
    save_json,
)
from voice2face.errors import CheckpointError, ConfigError
from voice2face.models import registry
from voice2face.storage.checkpoint import (
    CONFIG_NAME,
    load_pretrained,
    read_model_config,
    recover_interrupted_swap,
    save_pretrained,
    state_dict_to_bytes,
)

SMALL = {"channel_base": 128, "channel_max": 16, "img_resolution": 16}


def model_config(family: str = "stylegan2", **disc) -> ModelConfig:
    return ModelConfig(
        features=FeatureConfig(kind="logmel"),
        voice_encoder=VoiceEncoderConfig(input_dim=64, embedding_dim=24, width_multiplier=0.125, num_speakers=3),
        generator=GeneratorConfig(family=family, z_dim=16, c_dim=24, w_dim=16, mapping_layers=2, **SMALL),
        discriminator=DiscriminatorConfig(
            family=family, c_dim=24, mapping_layers=2, **{"num_identities": 5, **disc}, **SMALL
        ),
    )


def build(config: ModelConfig) -> dict[str, torch.nn.Module]:
    return {name: registry.build(name, config.component(name)) for name in config.present}


def outputs(modules: dict[str, torch.nn.Module]) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    features, z = torch.randn(2, 64, 30, generator=gen), torch.randn(2, 16, generator=gen)
    with torch.no_grad():
        embedding, logits = modules["voice_encoder"].eval().forward_with_logits(features)
        images = modules["generator"].eval()(z, embedding, noise_mode="const")
        heads = modules["discriminator"].eval().forward_heads(images, embedding)
        images_random = modules["generator"](z, embedding, generator=torch.Generator().manual_seed(1))
    return [embedding, logits, images, images_random, heads.logits, heads.identity_logits]


@pytest.fixture
def saved(tmp_path) -> tuple[Path, dict[str, torch.nn.Module]]:
    torch.manual_seed(0)
    config = model_config()
    modules = build(config)
    with torch.no_grad():  # move the buffers that must round-trip away from their initial values
        modules["voice_encoder"].train()(torch.randn(4, 64, 20))  # BatchNorm running statistics
        modules["generator"].train().mapping(torch.randn(4, 16), torch.randn(4, 24))  # w_avg
    save_pretrained(tmp_path / "model", modules, config)
    return tmp_path / "model", modules


@pytest.mark.parametrize("family", ["stylegan2", "stylegan", "dcgan"])
def test_save_load_gives_bit_identical_outputs(tmp_path, family):
    torch.manual_seed(0)
    config = model_config(family)
    modules = build(config)
    with torch.no_grad():
        modules["voice_encoder"].train()(torch.randn(4, 64, 20))
        modules["discriminator"].train()(torch.randn(4, 3, 16, 16), torch.randn(4, 24))
    written = save_pretrained(tmp_path / "model", modules, config, extra_files={"model_card.md": "# card\n"})
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "config.json", "discriminator.safetensors", "generator.safetensors", "model_card.md",
        "voice_encoder.safetensors",
    ]  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folders left behind
    config_back, loaded = load_pretrained(tmp_path / "model")
    assert config_back == written and written.weights[0].component == "voice_encoder"
    for before, after in zip(outputs(modules), outputs(loaded), strict=True):
        assert torch.equal(before, after)
    for name in loaded:
        for key, tensor in modules[name].state_dict().items():
            assert torch.equal(tensor, loaded[name].state_dict()[key]), key


def test_config_json_loads_as_a_typed_config_and_lists_checksums(saved):
    folder, _ = saved
    config = load_json(ModelConfig, folder / CONFIG_NAME)
    assert config.format == "voice2face-model" and config.format_version == 1 and config.voice2face_version
    assert {w.file for w in config.weights} == {f"{n}.safetensors" for n in config.present}
    assert all(isinstance(w, WeightFile) and len(w.sha256) == 64 for w in config.weights)


def test_equal_weights_give_equal_bytes_and_checksums(saved, tmp_path):
    # safetensors writes its metadata from a hash map whose order differs between calls; the saved
    # bytes (and the checksums in config.json) must depend on the weights and metadata alone.
    state = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.zeros(2, dtype=torch.float16)}
    metadata = {key: str(i) for i, key in enumerate("pqrstuvw")}
    blobs = {state_dict_to_bytes(state, metadata) for _ in range(8)}
    assert len(blobs) == 1
    (tmp_path / "w.safetensors").write_bytes(blobs.pop())
    from safetensors import safe_open

    with safe_open(str(tmp_path / "w.safetensors"), "pt") as handle:
        assert handle.metadata() == metadata
        assert torch.equal(handle.get_tensor("w"), state["w"])
    folder, modules = saved
    first = read_model_config(folder).weights
    save_pretrained(tmp_path / "again", modules, read_model_config(folder))
    assert read_model_config(tmp_path / "again").weights == first


def test_load_a_subset_for_inference(saved):
    folder, _ = saved
    _, modules = load_pretrained(folder, components=("voice_encoder", "generator"))
    assert sorted(modules) == ["generator", "voice_encoder"] and not modules["generator"].training


def test_overwrite_replaces_the_folder_atomically(saved):
    folder, modules = saved
    (folder / "stale.txt").write_text("from the old export")
    config = read_model_config(folder)
    save_pretrained(folder, modules, config)
    assert not (folder / "stale.txt").exists()
    assert [p.name for p in folder.parent.iterdir()] == ["model"]
    load_pretrained(folder)


def test_refuses_to_overwrite_a_folder_that_is_not_a_model(tmp_path, saved):
    _, modules = saved
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "me.jpg").write_bytes(b"...")
    with pytest.raises(CheckpointError, match="not empty and is not a model folder"):
        save_pretrained(tmp_path / "photos", modules, model_config())
    assert (tmp_path / "photos" / "me.jpg").exists()


def test_save_refuses_modules_that_do_not_match_the_config(tmp_path, saved):
    _, modules = saved
    other = model_config(num_identities=9)
    with pytest.raises(ConfigError, match=r"discriminator module does not match config.discriminator.*identity"):
        save_pretrained(tmp_path / "m2", modules, other)
    with pytest.raises(ConfigError, match="pass one module per component"):
        save_pretrained(tmp_path / "m2", {"generator": modules["generator"]}, model_config())
    assert not (tmp_path / "m2").exists()


def _edit_config(folder: Path, edit) -> None:
    data = json.loads((folder / CONFIG_NAME).read_text())
    edit(data)
    (folder / CONFIG_NAME).write_text(json.dumps(data))


def _rerecord(folder: Path, name: str) -> None:
    """Make config.json agree with a weight file's current bytes (a deliberate, consistent edit)."""
    import hashlib

    data = (folder / name).read_bytes()

    def edit(config):
        for record in config["weights"]:
            if record["file"] == name:
                record["sha256"], record["size"] = hashlib.sha256(data).hexdigest(), len(data)

    _edit_config(folder, edit)


def _truncate(folder):
    path = folder / "generator.safetensors"
    path.write_bytes(path.read_bytes()[:1000])


def _flip_a_byte(folder):
    path = folder / "generator.safetensors"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))


def _not_safetensors(folder):
    (folder / "generator.safetensors").write_bytes(pickle.dumps({"weight": [1, 2, 3]}))
    _rerecord(folder, "generator.safetensors")


def _wrong_shapes(folder):
    _edit_config(folder, lambda c: c["generator"].update(channel_max=8))


def _wrong_keys(folder):
    _edit_config(folder, lambda c: c["discriminator"].update(num_identities=0))


def _unknown_field(folder):
    _edit_config(folder, lambda c: c["generator"].update(tile_size=3))


def _no_record(folder):
    _edit_config(folder, lambda c: c.update(weights=[w for w in c["weights"] if w["component"] != "generator"]))


BROKEN = {
    "missing folder": (lambda f: f.rename(f.with_name("elsewhere")), r"model does not exist"),
    "missing config.json": (
        lambda f: (f / CONFIG_NAME).unlink(),
        r"model is not a model folder: config.json is missing",
    ),
    "config.json not JSON": (lambda f: (f / CONFIG_NAME).write_text("{oops"), r"config.json is not valid JSON"),
    "unknown config field": (_unknown_field, r"config.json is invalid: .*generator has unknown field\(s\) tile_size"),
    "future format version": (lambda f: _edit_config(f, lambda c: c.update(format_version=99)), r"upgrade voice2face"),
    "missing weight file": (lambda f: (f / "generator.safetensors").unlink(), r"generator.safetensors is missing"),
    "truncated weight file": (_truncate, r"generator.safetensors has 1000 bytes but config.json records \d+"),
    "tampered weight file": (_flip_a_byte, r"generator.safetensors does not match the checksum recorded in config"),
    "not safetensors": (_not_safetensors, r"generator.safetensors is not a valid safetensors file"),
    "wrong shapes": (
        _wrong_shapes,
        r"generator.safetensors does not fit .*wrong shape: synthesis\.b16\.conv0\.affine\.bias \[16\] != \[8\]",
    ),
    "wrong keys": (
        _wrong_keys,
        r"discriminator.safetensors does not fit .*unexpected: identity\.bias, identity\.weight",
    ),
    "no checksum recorded": (_no_record, r"records no weight file for generator"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_folders_give_one_clear_error(saved, case):
    folder, _ = saved
    damage, message = BROKEN[case]
    damage(folder)
    with pytest.raises(CheckpointError, match=message) as raised:
        load_pretrained(folder)
    assert "\n" not in str(raised.value)


def test_loading_never_unpickles(saved, monkeypatch):
    folder, modules = saved

    def refuse(*args, **kwargs):
        raise AssertionError("pickle-based loading was called")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    _, loaded = load_pretrained(folder)
    assert torch.equal(loaded["generator"].mapping.w_avg, modules["generator"].mapping.w_avg)


def test_model_config_checks_that_components_agree(tmp_path):
    encoder = VoiceEncoderConfig(input_dim=39, embedding_dim=512)
    with pytest.raises(ConfigError, match=r"input_dim \(39\) must equal the features' dim \(64\)"):
        ModelConfig(features=FeatureConfig(kind="logmel"), voice_encoder=encoder)
    with pytest.raises(ConfigError, match=r"c_dim \(256\) must be 0 or the voice embedding size \(512\)"):
        ModelConfig(voice_encoder=encoder, generator=GeneratorConfig(c_dim=256))
    with pytest.raises(ConfigError, match=r"discriminator.img_resolution \(128\) must equal generator"):
        ModelConfig(generator=GeneratorConfig(), discriminator=DiscriminatorConfig(img_resolution=128))
    with pytest.raises(ConfigError, match=r"discriminator.c_dim \(8\) must be 0 or generator.c_dim \(512\)"):
        ModelConfig(generator=GeneratorConfig(), discriminator=DiscriminatorConfig(c_dim=8))
    ModelConfig(generator=GeneratorConfig(), discriminator=DiscriminatorConfig(c_dim=0, num_identities=10))
    config = ModelConfig(voice_encoder=encoder, generator=GeneratorConfig(img_resolution=256))
    assert config.present == ("voice_encoder", "generator") and config.generator.num_ws == 14
    save_json(config, tmp_path / "c.json")
    assert load_json(ModelConfig, tmp_path / "c.json") == config


def test_binary_extra_files_travel_in_the_same_folder(saved, tmp_path):
    folder, modules = saved
    config = read_model_config(folder)
    save_pretrained(folder, modules, config, extra_files={"trainer_state.pt": b"\x00\x01state", "notes.txt": "hi"})
    assert (folder / "trainer_state.pt").read_bytes() == b"\x00\x01state"
    assert (folder / "notes.txt").read_text() == "hi"
    with pytest.raises(ConfigError, match=r"generator\.safetensors"):
        save_pretrained(folder, modules, config, extra_files={"generator.safetensors": b""})


def test_a_save_killed_between_its_renames_is_recovered_on_load(saved):
    folder, modules = saved
    set_aside = folder.parent / f".{folder.name}.old-deadbeef"
    folder.rename(set_aside)  # what a kill between the two renames leaves behind
    assert recover_interrupted_swap(folder)
    assert folder.is_dir() and not set_aside.exists()
    assert not recover_interrupted_swap(folder)  # nothing to do now
    folder.rename(set_aside)
    _, loaded = load_pretrained(folder)  # load recovers it too
    assert set(loaded) == set(modules)
