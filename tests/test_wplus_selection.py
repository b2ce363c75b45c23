"""The mapper's selection mode: the voice chooses among a frozen generator's own samples by the
traits a reader CNN sees on them (voice2face.models.wplus)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from voice2face.cli import main
from voice2face.config import FaceCNNConfig, GeneratorConfig, MapperConfig, ModelConfig, SelectionConfig
from voice2face.errors import ConfigError
from voice2face.inference.pipeline import VoiceToFace
from voice2face.models import build_generator, build_mapper
from voice2face.models.wplus import MappedGenerator
from voice2face.storage.checkpoint import load_pretrained, load_voice_to_face, save_pretrained
from voice2face.storage.layout import CODES_FILE, READER_FILE
from voice2face.training import mapper_inputs as mapper_module
from voice2face.training.presets import get_preset
from voice2face.training.runner import train_mapper

TINY_READER = FaceCNNConfig(image_size=16, width=4, depth=2, epochs=1, batch_size=8, seed=3)


def _generator(z_dim: int = 8):
    torch.manual_seed(0)
    config = GeneratorConfig(z_dim=z_dim, c_dim=0, w_dim=16, img_resolution=64, channel_base=128, channel_max=16,
                             mapping_layers=2, use_noise=False)  # fmt: skip
    return config, build_generator(config).eval()


def _selecting(G, candidates: int = 6, weights=(4.0, 1.0), embedding_dim: int = 5):
    selection = SelectionConfig(candidates=candidates, z_dim=G.z_dim, traits=("sex", "age"), weights=weights,
                                reader=TINY_READER, shortlist=3)  # fmt: skip
    mapper = build_mapper(MapperConfig(embedding_dim=embedding_dim, num_ws=G.num_ws, w_dim=G.w_dim, hidden_layers=0,
                                       rank=1, selection=selection))  # fmt: skip
    with torch.no_grad():
        for p in mapper.reader.parameters():
            p.normal_(0, 0.5)
    return mapper


def test_candidates_are_z_then_fixed_signed_permutations_of_it():
    _, G = _generator()
    mapper = _selecting(G)
    z = torch.randn(3, G.z_dim)
    candidates = mapper.candidate_latents(z)  # [3, 6, 8]
    assert candidates.shape == (3, 6, G.z_dim) and torch.equal(candidates[:, 0], z)
    for k in range(1, 6):  # the same values, moved and sign-flipped: again a standard normal vector
        assert torch.allclose(candidates[:, k].abs().sort(dim=1).values, z.abs().sort(dim=1).values)
        assert not torch.equal(candidates[:, k], z)
    again = _selecting(G)  # fixed by the config's seed: the same z always gives the same candidates
    assert torch.equal(again.candidate_latents(z), candidates)


def test_the_kept_face_is_the_candidate_whose_reading_is_nearest_the_voice():
    _, G = _generator()
    mapper = _selecting(G, weights=(1.0, 0.0))  # select by sex alone
    voice = MappedGenerator(G, mapper).eval()
    z = torch.randn(4, G.z_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        candidates = mapper.candidate_latents(z).flatten(0, 1)
        ws_all = G.mapping(candidates, None).view(4, 6, G.num_ws, G.w_dim)
        read = mapper.read_traits(G.synthesis(ws_all.flatten(0, 1), noise_mode="const").clamp(-1, 1)).view(4, 6, 2)
        for sign in (1.0, -1.0):  # a voice that asks for the most male (female) face gets the candidate read so
            mapper.trait_head.bias.copy_(torch.tensor([sign, 0.0]))
            ws = voice.mapping(z, torch.zeros(4, 5))
            best = (sign * read[..., 0]).argmax(dim=1)
            assert torch.allclose(ws, ws_all[torch.arange(4), best], atol=1e-6)
        faces = voice(z, torch.zeros(4, 5))
    assert faces.shape == (4, 3, 64, 64)
    spread = read[..., 0].max(dim=1).values - read[..., 0].min(dim=1).values
    assert float(spread.min()) > 0  # the readings differ, so the two asks above chose differently


def test_a_binary_trait_is_wanted_at_the_side_the_voice_is_heard_on():
    """A voice heard, even narrowly, as a man's asks for the face read most clearly as a man's: the
    size of the sex prediction is the voice's certainty, not how ambiguous its face should look."""
    _, G = _generator()
    mapper = _selecting(G, weights=(1.0, 1.0))
    voice = MappedGenerator(G, mapper).eval()
    z = torch.randn(4, G.z_dim, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        mapper.trait_head.bias.copy_(torch.tensor([0.2, -0.3]))
        assert torch.allclose(mapper.wanted_traits(torch.zeros(2, 5)), torch.tensor([[1.0, -0.3], [1.0, -0.3]]))
        narrow = voice.mapping(z, torch.zeros(4, 5))
        mapper.trait_head.bias.copy_(torch.tensor([1.0, -0.3]))
        assert torch.equal(voice.mapping(z, torch.zeros(4, 5)), narrow)
        mapper.trait_head.bias.copy_(torch.tensor([-0.2, -0.3]))
        assert torch.allclose(mapper.wanted_traits(torch.zeros(1, 5)), torch.tensor([[-1.0, -0.3]]))
        assert torch.allclose(mapper.voice_traits(torch.zeros(1, 5)), torch.tensor([[-0.2, -0.3]]))  # trained as is


def test_a_fitted_shortlist_renders_only_the_candidates_its_linear_read_out_ranks_nearest():
    _, G = _generator()
    mapper = _selecting(G, candidates=8, weights=(1.0, 0.0))
    voice = MappedGenerator(G, mapper).eval()
    z = torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        mapper.trait_head.bias.copy_(torch.tensor([1.0, 0.0]))
        everything = voice.mapping(z, torch.zeros(3, 5))  # no shortlist fitted yet: all 8 are rendered
        r2 = mapper.fit_shortlist(G, count=256)
        assert mapper.shortlisting() and -1 < r2 <= 1
        ws_all = G.mapping(mapper.candidate_latents(z).flatten(0, 1), None).view(3, 8, G.num_ws, G.w_dim)
        guess = ws_all.mean(dim=2) @ mapper.shortlist_weight + mapper.shortlist_bias  # [3, 8, T]
        read = mapper.read_traits(G.synthesis(ws_all.flatten(0, 1), noise_mode="const").clamp(-1, 1)).view(3, 8, 2)
        chosen = voice.mapping(z, torch.zeros(3, 5))
        for b in range(3):
            short = guess[b, :, 0].topk(mapper.selection.shortlist, largest=True).indices  # nearest to +1
            best = short[read[b, short, 0].argmax()]
            assert torch.allclose(chosen[b], ws_all[b, best], atol=1e-6)
        mapper.selection = dataclasses.replace(mapper.selection, shortlist=8)  # M = K: the full search again
        assert not mapper.shortlisting() and torch.allclose(voice.mapping(z, torch.zeros(3, 5)), everything)


def test_a_selecting_mapper_must_fit_the_generators_latent():
    _, G = _generator(z_dim=8)
    _, other = _generator(z_dim=6)
    with pytest.raises(ValueError, match="latents of 8 values"):
        MappedGenerator(other, _selecting(G))
    with pytest.raises(ConfigError, match="weights"):
        SelectionConfig(traits=("sex", "age"), weights=(1.0,))
    with pytest.raises(ConfigError, match="binary"):
        SelectionConfig(traits=("age",), binary=("sex",), weights=(1.0,))


def test_the_reader_stays_a_frozen_instrument_when_the_mapper_trains():
    _, G = _generator()
    mapper = _selecting(G).train()
    assert not mapper.reader.training and not any(p.requires_grad for p in mapper.reader.parameters())
    assert mapper.trait_head.weight.requires_grad


# ------------------------------------------------------------------ the stage on the tiny corpus


def _tiny_select_preset():
    preset = get_preset("synthvox-wplus-64")
    selection = dataclasses.replace(preset.mapper.mapper.selection, candidates=4, shortlist=2, reader=TINY_READER)
    mapper = dataclasses.replace(
        preset.mapper, batch_size=4, steps=6, validate_every=3, snapshot_every=4,
        mapper=dataclasses.replace(preset.mapper.mapper, selection=selection),
    )  # fmt: skip
    return dataclasses.replace(preset, name="tiny-select", mapper=mapper)


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory, tiny_manifest):
    config, G = _generator()
    folder = tmp_path_factory.mktemp("pretrained") / "generator"
    save_pretrained(folder, {"generator": G}, ModelConfig(generator=config))
    return folder


@pytest.fixture(scope="module")
def select_run(tiny_corpus, tiny_encoder_run, tiny_generator, tmp_path_factory):
    return train_mapper(_tiny_select_preset(), tiny_corpus, tmp_path_factory.mktemp("select-runs"),
                        generator=tiny_generator, encoder=tiny_encoder_run, progress=False)  # fmt: skip


def test_a_selection_run_trains_the_voice_on_the_readers_view_and_writes_a_usable_model(
    select_run, tiny_encoder_run, example_wav, tmp_path
):
    model = select_run / "model"
    config, modules = load_voice_to_face(model)
    assert config.mapper.selection is not None and config.mapper.selection.z_dim == config.generator.z_dim
    assert isinstance(modules["generator"], MappedGenerator)
    assert (select_run / READER_FILE).is_file() and not (select_run / CODES_FILE).exists()  # nothing projected
    stats = [json.loads(line) for line in (select_run / "stats.jsonl").read_text().splitlines()]
    assert "loss/traits" in stats[0] and {"val/skill", "val/sex_agreement"} <= set(stats[2])
    mapper = load_pretrained(model, ("mapper",)).modules["mapper"]
    assert float(mapper.trait_head.weight.detach().abs().sum()) > 0  # trained from its zero start
    assert mapper.shortlisting()  # fitted at the snapshot (shortlist 2 of 4 candidates)
    reader = load_pretrained(model, ("mapper",)).modules["mapper"].reader.state_dict()
    from voice2face.storage.checkpoint import load_tensors

    shipped = load_tensors(select_run / READER_FILE)
    assert all(torch.equal(reader[k], shipped[k]) for k in shipped)  # the run's reader is the one shipped
    encoder_before = load_pretrained(tiny_encoder_run / "model", ("voice_encoder",)).modules["voice_encoder"]
    encoder_after = load_pretrained(model, ("voice_encoder",)).modules["voice_encoder"]
    assert any(not torch.equal(a, b) for a, b in zip(encoder_before.state_dict().values(),
                                                      encoder_after.state_dict().values(), strict=True))  # fmt: skip
    faces = VoiceToFace.from_pretrained(model)(str(example_wav), num_samples=3, seed=1)
    assert len(faces) == 3 and faces[0].size == (64, 64)
    assert main(["portrait", str(example_wav), "-m", str(model), "-o", str(tmp_path / "out"), "--samples", "2"]) == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 2


def test_a_selection_run_resumes_exactly(tiny_corpus, tiny_encoder_run, tiny_generator, select_run, tmp_path):
    preset = _tiny_select_preset()
    short = dataclasses.replace(preset, mapper=dataclasses.replace(preset.mapper, steps=4))
    part = train_mapper(short, tiny_corpus, tmp_path / "b", generator=tiny_generator, encoder=tiny_encoder_run,
                        progress=False)  # fmt: skip
    options = json.loads((part / "training_options.json").read_text())
    options["config"]["steps"] = 6
    (part / "training_options.json").write_text(json.dumps(options))
    train_mapper(None, None, resume=part, progress=False)
    a = load_pretrained(select_run / "model", ("voice_encoder", "mapper")).modules
    b = load_pretrained(part / "model", ("voice_encoder", "mapper")).modules
    for name in a:
        for (key, x), (_, y) in zip(a[name].state_dict().items(), b[name].state_dict().items(), strict=True):
            assert torch.equal(x, y) if x.dtype == torch.long else torch.allclose(x, y, atol=1e-6), f"{name}.{key}"


def test_the_reader_shipped_in_a_selection_model_is_reused_when_it_reads_the_same_traits(
    select_run, tiny_corpus, tiny_encoder_run, monkeypatch, tmp_path
):
    def refuse(*args, **kwargs):
        raise AssertionError("trained a reader although the generator's folder ships one")

    monkeypatch.setattr(mapper_module, "train_selection_reader", refuse)
    from voice2face.models.wplus import VoiceToWPlus

    monkeypatch.setattr(VoiceToWPlus, "fit_shortlist", refuse)  # the shipped shortlist fits as well
    run = train_mapper(_tiny_select_preset(), tiny_corpus, tmp_path / "runs", generator=select_run / "model",
                       encoder=tiny_encoder_run, progress=False)  # fmt: skip
    assert (run / READER_FILE).read_bytes() != b""
    from voice2face.storage.checkpoint import load_tensors

    assert all(torch.equal(load_tensors(run / READER_FILE)[k], v) for k, v in
               load_tensors(select_run / READER_FILE).items())  # fmt: skip
    shipped = load_pretrained(select_run / "model", ("mapper",)).modules["mapper"]
    reused = load_pretrained(run / "model", ("mapper",)).modules["mapper"]
    assert reused.shortlisting() and torch.equal(reused.shortlist_weight, shipped.shortlist_weight)
