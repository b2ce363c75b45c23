"""The label-free voice side (voice2face.models.face_pool): a face embedding (a PCA of the generator's
own faces, or a linear discriminant of identity on the training photos), a voice that predicts its
speaker's embedding, a portrait from a pool of the generator's faces; and a training stage that
reads ids, recordings, photos and (optionally) sex, nothing else."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from voice2face.config import GeneratorConfig, MapperConfig, ModelConfig, PoolConfig
from voice2face.errors import DatasetError
from voice2face.inference.pipeline import VoiceToFace
from voice2face.models import build_generator, build_mapper
from voice2face.models.face_pool import FaceEmbedding, VoiceToPool
from voice2face.models.wplus import MappedGenerator
from voice2face.storage.checkpoint import load_pretrained, load_voice_to_face, save_pretrained
from voice2face.training.presets import get_preset
from voice2face.training.runner import train_mapper

TINY_POOL = PoolConfig(face_size=16, face_dims=8, rank=2, pool_size=64, candidates=8, blend=2, z_dim=8)


def _generator(z_dim: int = 8):
    torch.manual_seed(0)
    config = GeneratorConfig(z_dim=z_dim, c_dim=0, w_dim=16, img_resolution=64, channel_base=128, channel_max=16,
                             mapping_layers=2, use_noise=False)  # fmt: skip
    return config, build_generator(config).eval()


def _pool_mapper(G, embedding_dim: int = 5, **changes) -> VoiceToPool:
    pool = dataclasses.replace(TINY_POOL, **changes)
    return build_mapper(MapperConfig(family="pool", embedding_dim=embedding_dim, num_ws=G.num_ws, w_dim=G.w_dim,
                                     pool=pool))  # fmt: skip


def _fitted_pool_mapper(G, **changes) -> VoiceToPool:
    """A tiny pool mapper with its pool rendered by ``G`` and random voice directions fitted."""
    mapper = _pool_mapper(G, **changes)
    with torch.no_grad():
        mapper.fit_pool(G)
        mapper.fit_directions(torch.randn(12, 8), torch.randn(12, 8))
    return mapper


def test_the_face_embedding_is_a_whitened_pca_of_the_faces_it_is_fitted_on():
    faces = torch.rand(50, 3, 32, 32) * 2 - 1
    embedding = FaceEmbedding(size=16, dims=6, whiten=True)
    kept = embedding.fit(faces)
    assert 0 < kept < 1
    components = embedding.components.double()
    assert torch.allclose(components @ components.T, torch.eye(6, dtype=torch.float64), atol=1e-5)
    codes = embedding(faces)  # [50, 6]
    assert codes.shape == (50, 6)
    assert torch.allclose(codes.mean(dim=0), torch.zeros(6), atol=1e-4)
    assert torch.allclose(codes.std(dim=0), torch.ones(6), atol=1e-3)
    plain = FaceEmbedding(size=16, dims=6, whiten=False)
    plain.fit(faces)
    spread = plain(faces).std(dim=0)
    assert spread[0] == pytest.approx(1.0, abs=1e-3) and bool((spread[1:] <= spread[0] + 1e-4).all())
    with pytest.raises(ValueError, match="needs more than 6 faces"):
        FaceEmbedding(size=16, dims=6, whiten=True).fit(faces[:6])


def _photos_of_people(people: int = 24, photos: int = 4, seed: int = 0):
    """Photos ``[people·photos, 3, 16, 16]`` where who is in them is a fixed pattern per person (small
    spread between people) and each photo adds a large random brightness gradient (light, which changes
    between one person's photos); and who is in each."""
    rng = torch.Generator().manual_seed(seed)
    look = torch.randn(people, 3, 16, 16, generator=rng) * 0.1
    ramp = torch.linspace(-1, 1, 16).expand(16, 16)
    light = torch.randn(people * photos, 1, 1, 1, generator=rng) * 0.8 * ramp
    noise = torch.randn(people * photos, 3, 16, 16, generator=rng) * 0.02
    identity = torch.arange(people).repeat_interleave(photos)
    return (look[identity] + light + noise).clamp(-1, 1), identity


def test_the_identity_embedding_tells_people_apart_and_disregards_what_changes_between_their_photos():
    photos, identity = _photos_of_people()
    identity_embedding = FaceEmbedding(size=16, dims=8, whiten=True)
    kept = identity_embedding.fit_identity(photos, identity)
    assert 0 < kept <= 1
    pca = FaceEmbedding(size=16, dims=8, whiten=False)
    pca.fit(photos)

    def nearest_other_photo_is_the_same_person(embedding) -> float:
        codes = embedding(photos)
        distance = torch.cdist(codes, codes) + torch.eye(len(codes)) * 1e9
        return float((identity[distance.argmin(dim=1)] == identity).float().mean())

    # The PCA's leading component is the light; the identity embedding looks past it.
    assert nearest_other_photo_is_the_same_person(identity_embedding) > 0.95
    assert nearest_other_photo_is_the_same_person(pca) < 0.5
    ramp = torch.linspace(-1, 1, 16).expand(1, 3, 16, 16)
    moved = identity_embedding(photos[:1] + 0.3 * ramp) - identity_embedding(photos[:1])
    people = identity_embedding(photos[identity == 1]).mean(0) - identity_embedding(photos[identity == 0]).mean(0)
    assert float(moved.norm()) < 0.2 * float(people.norm())
    # Units: one person's photos spread about one unit along each direction.
    codes = identity_embedding(photos)
    means = torch.stack([codes[identity == k].mean(0) for k in range(24)])
    within = (codes - means[identity]).square().sum(0) / (len(codes) - 24)
    assert bool((within < 1.5).all())
    with pytest.raises(ValueError, match="more than 8 people"):
        FaceEmbedding(size=16, dims=8, whiten=True).fit_identity(photos[:32], identity[:32])
    with pytest.raises(ValueError, match="two or more photos"):
        FaceEmbedding(size=16, dims=8, whiten=True).fit_identity(photos[::4], identity[::4])


def test_a_pool_with_an_identity_embedding_is_embedded_by_the_photos_it_was_given():
    _, G = _generator()
    mapper = _pool_mapper(G, embedding="identity")
    with pytest.raises(ValueError, match="pass identity_faces"):
        mapper.fit_pool(G)
    photos, identity = _photos_of_people()
    with torch.no_grad():
        mapper.fit_pool(G, identity_faces=(F.interpolate(photos, size=64), identity))
    reference = FaceEmbedding(size=16, dims=8, whiten=True)
    reference.fit_identity(photos, identity)
    assert torch.allclose(mapper.face_embedding.components, reference.components, atol=1e-4)
    assert bool(mapper.pool_face.any()) and mapper.pool_face.shape == (TINY_POOL.pool_size, 8)


def test_a_portrait_comes_from_the_pool_faces_nearest_the_voice_among_those_z_offers():
    _, G = _generator()
    mapper = _fitted_pool_mapper(G, blend=1)
    z = torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(1))
    chosen = mapper.candidates(z)  # [3, K]
    assert chosen.shape == (3, TINY_POOL.candidates) and torch.equal(mapper.candidates(z), chosen)
    coordinates = mapper.voice_coordinates(mapper.pool_face)  # [P, r]
    for k in range(2):  # a voice that asks for the far end of direction k gets the candidate furthest along it
        with torch.no_grad():
            mapper.head.bias.zero_()
            mapper.head.weight.zero_()
            mapper.center.zero_()
            mapper.head.bias.copy_(mapper.directions[:, k] * 100 / mapper.target_std)
            ws = mapper.codes(z, torch.zeros(3, 5))
        expected = coordinates[chosen, k].argmax(dim=1)
        picked = mapper.pool_w[chosen[torch.arange(3), expected]]
        assert ws.shape == (3, G.num_ws, G.w_dim)
        assert torch.allclose(ws[:, 0], picked, atol=1e-5) and torch.allclose(ws[:, -1], picked, atol=1e-5)
    faces = MappedGenerator(G, mapper).eval()(z, torch.zeros(3, 5))
    assert faces.shape == (3, 3, 64, 64)


def test_nearby_voices_get_nearby_but_distinct_faces_and_truncation_pulls_to_the_average():
    _, G = _generator()
    mapper = _fitted_pool_mapper(G, blend=3, temperature=10.0)
    with torch.no_grad():
        mapper.head.weight.normal_()
        z = torch.randn(1, G.z_dim).expand(2, -1)
        voices = torch.randn(1, 5).expand(2, -1) + torch.tensor([[0.0], [1e-3]])
        ws = mapper.codes(z, voices)
        assert not torch.equal(ws[0], ws[1]) and torch.allclose(ws[0], ws[1], atol=1e-2)
        average = mapper.codes(z, voices, truncation_psi=0.0)
    assert torch.allclose(average, mapper.w_avg.expand_as(average))


def test_a_voice_heard_as_one_sex_gets_a_face_read_as_that_sex_while_the_candidates_offer_one():
    _, G = _generator()
    mapper = _pool_mapper(G, blend=1)
    with torch.no_grad():
        faces = G(torch.randn(40, G.z_dim), None).clamp(-1, 1)
        mapper.fit_pool(G, sex_faces=(faces, (faces.mean(dim=(1, 2, 3)) > faces.mean()).float()))
        mapper.fit_directions(torch.randn(12, 8), torch.randn(12, 8))
        assert bool(mapper.uses_sex)
        assert 0 < float((mapper.pool_sex > 0).float().mean()) < 1
        z = torch.randn(16, G.z_dim, generator=torch.Generator().manual_seed(2))
        chosen = mapper.candidates(z)  # [16, K]
        male = mapper.pool_sex[chosen] > 0  # [16, K]
        assert bool((male.any(dim=1) & (~male).any(dim=1)).all())  # every z offers both sexes here
        for sign in (1.0, -1.0):
            mapper.sex_head.bias.fill_(sign * 5)  # every voice heard as a man's (then a woman's)
            w = mapper.codes(z, torch.zeros(16, 5))[:, 0]  # [16, w_dim]: one candidate's code (blend 1)
            index = (mapper.pool_w[chosen] - w[:, None]).norm(dim=-1).argmin(dim=1)  # [16]
            assert bool(((mapper.pool_sex[chosen[torch.arange(16), index]] > 0) == (sign > 0)).all())


def test_with_a_sex_confidence_only_candidates_clearly_of_the_voices_sex_are_chosen():
    _, G = _generator()
    mapper = _pool_mapper(G, blend=1, sex_confidence=0.9)
    with torch.no_grad():
        faces = G(torch.randn(40, G.z_dim), None).clamp(-1, 1)
        mapper.fit_pool(G, sex_faces=(faces, (faces.mean(dim=(1, 2, 3)) > faces.mean()).float()))
        mapper.fit_directions(torch.randn(12, 8), torch.randn(12, 8))
        mapper.pool_sex.copy_(torch.linspace(-4, 4, mapper.pool_sex.shape[0]))  # sure and unsure faces of both sexes
        z = torch.randn(16, G.z_dim, generator=torch.Generator().manual_seed(2))
        chosen = mapper.candidates(z)  # [16, K]
        sure = mapper.pool_sex[chosen].abs() > np.log(9)
        for sign in (1.0, -1.0):
            mapper.sex_head.bias.fill_(sign * 5)
            w = mapper.codes(z, torch.zeros(16, 5))[:, 0]  # [16, w_dim]
            index = (mapper.pool_w[chosen] - w[:, None]).norm(dim=-1).argmin(dim=1)  # [16]
            logit = mapper.pool_sex[chosen[torch.arange(16), index]] * sign
            offered = (sure & (mapper.pool_sex[chosen] * sign > 0)).any(dim=1)  # a sure face of that sex on offer
            assert bool((logit[offered] > np.log(9)).all()) and bool(offered.any())


def test_keep_norm_gives_a_blend_its_codes_mean_distance_from_the_average():
    _, G = _generator()
    mapper = _fitted_pool_mapper(G, blend=3, temperature=100.0, keep_norm=True)
    with torch.no_grad():
        # every pool code 2.5 from the average, along one of the w_dim axes: a plain blend of
        # different ones lies nearer the average than any of them
        axes = torch.eye(G.w_dim)[torch.arange(mapper.pool_w.shape[0]) % G.w_dim]
        mapper.pool_w.copy_(mapper.w_avg + 2.5 * axes)
        z = torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(3))
        voices = torch.randn(8, 5, generator=torch.Generator().manual_seed(4))
        kept = (mapper.codes(z, voices)[:, 0] - mapper.w_avg).norm(dim=-1)  # [8]
        mapper.pool = dataclasses.replace(mapper.pool, keep_norm=False)
        plain = (mapper.codes(z, voices)[:, 0] - mapper.w_avg).norm(dim=-1)
    assert torch.allclose(kept, torch.full_like(kept, 2.5), atol=1e-4)
    assert bool((plain <= 2.5 + 1e-4).all()) and bool((plain < 2.4).any())


def test_the_edit_moves_the_codes_read_out_to_the_wanted_point_with_the_least_change():
    _, G = _generator()
    mapper = _fitted_pool_mapper(G, blend=2)
    with torch.no_grad():
        z = torch.randn(8, G.z_dim, generator=torch.Generator().manual_seed(3))
        voices = torch.randn(8, 5, generator=torch.Generator().manual_seed(4))
        chosen = mapper.codes(z, voices)[:, 0]
        mean_code, mean_coordinates, read, step = mapper.edit_maps()
        reading = lambda w: (w - mean_code) @ read + mean_coordinates  # noqa: E731
        wanted = mapper.wanted(voices)
        edited = {}
        for strength in (0.5, 1.0):
            mapper.pool = dataclasses.replace(mapper.pool, edit=strength)
            edited[strength] = mapper.codes(z, voices)[:, 0]
    # the read-out fitted on the pool reads the pool's own coordinates (better than their mean does)
    coordinates = mapper.voice_coordinates(mapper.pool_face)
    residual = (reading(mapper.pool_w) - coordinates).square().sum()
    assert float(residual) < 0.9 * float((coordinates - coordinates.mean(0)).square().sum())
    # edit 1 lands the read-out on the wanted point, edit 0.5 half-way; both only along the read-out
    assert torch.allclose(reading(edited[1.0]), wanted, atol=1e-3)
    assert torch.allclose(reading(edited[0.5]), (reading(chosen) + wanted) / 2, atol=1e-3)
    change = edited[1.0] - chosen
    assert torch.allclose(change, (change @ read) @ step.T, atol=1e-4)  # no part the read-out cannot see
    assert float(change.norm(dim=1).max()) > 0
    with pytest.raises(Exception, match=r"pool edit must be in \[0, 1\]"):
        PoolConfig(edit=1.5)
    # the maps are kept between portraits and follow the pool when it is refitted
    assert mapper.edit_maps()[2] is read
    with torch.no_grad():
        mapper.fit_directions(torch.randn(12, 8), torch.randn(12, 8))
    assert not torch.equal(mapper.edit_maps()[2], read)


def test_the_calibration_spreads_single_recordings_as_far_as_the_speakers_faces():
    """A portrait is drawn from one recording: calibrated on speaker means, the noise of single
    recordings (which averages out in a mean) would be stretched with the signal."""
    _, G = _generator()
    mapper = _pool_mapper(G)
    generator = torch.Generator().manual_seed(5)
    speakers, recordings = 40, 8
    faces = torch.randn(speakers, 8, generator=generator)  # each speaker's faces' mean embedding
    speaker = torch.arange(speakers).repeat_interleave(recordings)  # [U]
    # A weak prediction: a fifth of each face, buried in the noise of each recording.
    predictions = 0.2 * faces[speaker] + torch.randn(len(speaker), 8, generator=generator)
    with torch.no_grad():
        calibration = mapper.fit_directions(predictions, faces, speaker)
        single = mapper.voice_coordinates(predictions) * calibration  # what a portrait asks for
        real = mapper.voice_coordinates(faces)
    assert torch.allclose(single.std(dim=0), real.std(dim=0), rtol=1e-4)
    # The directions are those where the speakers' mean predictions differ most.
    means = torch.stack([predictions[speaker == k].mean(dim=0) for k in range(speakers)])
    spread = mapper.voice_coordinates(means).var(dim=0)
    assert bool((spread[:-1] >= spread[1:] - 1e-5).all())
    top = torch.linalg.eigvalsh(torch.cov(means.T)).flip(0)[: len(spread)]
    assert torch.allclose(spread, top, rtol=1e-3)
    # Calibrated on the means instead, single recordings would ask for faces several times further out.
    stretched = mapper.voice_coordinates(predictions) * (real.std(dim=0) / mapper.voice_coordinates(means).std(dim=0))
    assert bool((stretched.std(dim=0) > 1.5 * real.std(dim=0)).all())
    # One prediction per speaker (speaker None) is the plain case; bad speaker indices are refused.
    with torch.no_grad():
        plain = mapper.fit_directions(means, faces)
        assert torch.allclose(mapper.voice_coordinates(means).std(dim=0) * plain, real.std(dim=0), rtol=1e-4)
        with pytest.raises(ValueError, match="speaker indices"):
            mapper.fit_directions(predictions, faces, speaker + 1)


def test_a_pool_without_fitted_directions_is_not_edited():
    """An untrained model (random weights, directions not fitted: all zero) draws its chosen codes."""
    _, G = _generator()
    mapper = _pool_mapper(G, blend=2)
    z = torch.randn(4, G.z_dim, generator=torch.Generator().manual_seed(3))
    voices = torch.randn(4, 5, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        mapper.fit_pool(G)
        chosen = mapper.codes(z, voices)
        mapper.pool = dataclasses.replace(mapper.pool, edit=1.0)
        assert torch.equal(mapper.codes(z, voices), chosen)


def test_the_pool_must_fit_the_generators_latent_and_its_config_needs_its_family():
    from voice2face.errors import ConfigError

    _, G = _generator(z_dim=8)
    with pytest.raises(ValueError, match="pool keys have 4 values"):
        MappedGenerator(G, _pool_mapper(G, z_dim=4))
    with pytest.raises(ConfigError, match="family 'pool' needs its pool settings"):
        MapperConfig(family="pool")
    with pytest.raises(ConfigError, match="family 'pool' needs its pool settings"):
        MapperConfig(family="wplus", pool=TINY_POOL)


# ------------------------------------------------------------------ the stage, on a corpus stripped of labels


def _tiny_pool_preset():
    preset = get_preset("synthvox-pool-64")
    pool = dataclasses.replace(preset.mapper.mapper.pool, face_size=16, face_dims=8, rank=2, pool_size=64,
                               candidates=8, blend=2)  # fmt: skip
    mapper = dataclasses.replace(
        preset.mapper, batch_size=4, steps=6, validate_every=3, snapshot_every=4,
        mapper=dataclasses.replace(preset.mapper.mapper, pool=pool),
    )  # fmt: skip
    return dataclasses.replace(preset, name="tiny-pool", mapper=mapper)


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    config, G = _generator()
    folder = tmp_path_factory.mktemp("pretrained") / "generator"
    save_pretrained(folder, {"generator": G}, ModelConfig(generator=config))
    return folder


@pytest.fixture(scope="module")
def unlabelled_corpus(tiny_corpus, tmp_path_factory):
    """The tiny corpus with every identity's attributes (sex, age) and synthvox traits removed."""
    out = tmp_path_factory.mktemp("unlabelled") / "corpus"
    shutil.copytree(tiny_corpus, out)
    manifest = json.loads((out / "manifest.json").read_text())
    for identity in manifest["identities"]:
        identity.pop("attributes", None)
        identity.pop("traits", None)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_the_label_free_stage_trains_on_ids_recordings_and_photos_alone(
    unlabelled_corpus, tiny_encoder_run, tiny_generator, example_wav, monkeypatch, tmp_path
):
    """The default route's voice side trains on a manifest without any attribute or trait, and nothing
    in its training asks for one: reading a person's traits or attributes would fail here."""
    import voice2face.metrics.traits as traits_module
    import voice2face.training.mapper_inputs as inputs

    def refuse(*args, **kwargs):
        raise AssertionError("the label-free voice side read a person's traits or attributes")

    monkeypatch.setattr(traits_module, "identity_traits", refuse)
    monkeypatch.setattr(inputs, "identity_attributes", refuse)
    run = train_mapper(_tiny_pool_preset(), unlabelled_corpus, tmp_path / "runs", generator=tiny_generator,
                       encoder=tiny_encoder_run, progress=False)  # fmt: skip
    config, modules = load_voice_to_face(run / "model")
    assert config.mapper.family == "pool" and config.mapper.pool.z_dim == config.generator.z_dim
    mapper = modules["generator"].mapper
    assert isinstance(mapper, VoiceToPool) and not bool(mapper.uses_sex)  # no sex in the data: none used
    assert bool(mapper.directions.any()) and bool(mapper.pool_face.any())
    pipe = VoiceToFace.from_pretrained(run / "model")
    faces = pipe(example_wav, num_samples=2, seed=0)
    assert len(faces) == 2 and faces[0].size == (64, 64)
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert any("val/skill" in s for s in stats) and all("loss/sex" not in s for s in stats)


def test_with_sex_in_the_manifest_the_voice_side_learns_it_too(tiny_corpus, tiny_encoder_run, tiny_generator, tmp_path):
    run = train_mapper(_tiny_pool_preset(), tiny_corpus, tmp_path / "runs", generator=tiny_generator,
                       encoder=tiny_encoder_run, progress=False)  # fmt: skip
    mapper = load_pretrained(run / "model", ("mapper",)).modules["mapper"]
    assert bool(mapper.uses_sex) and bool(mapper.face_sex.any())
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert any("loss/sex" in s for s in stats) and any("val/sex_agreement" in s for s in stats)


def test_the_selection_preset_refuses_a_corpus_without_trait_labels_in_one_sentence(
    unlabelled_corpus, tiny_encoder_run, tiny_generator, tmp_path
):
    preset = get_preset("synthvox-wplus-64")
    with pytest.raises(DatasetError, match=r"^the selection reader needs the traits .* which this manifest does not "
                                           r"record; [^\n]*\.$"):  # fmt: skip
        train_mapper(preset, unlabelled_corpus, tmp_path / "runs", generator=tiny_generator, encoder=tiny_encoder_run,
                     steps=2, progress=False)  # fmt: skip


def test_the_held_out_matching_is_one_for_perfect_predictions_and_chance_for_none():
    from voice2face.training.trainers.pool import _match_1v2

    torch.manual_seed(0)
    targets = torch.randn(12, 6)
    speaker = torch.arange(12).repeat_interleave(2)  # two recordings each
    ones, zeros = torch.ones(6), torch.zeros(6)
    assert _match_1v2(targets[speaker], targets, speaker, ones, zeros) == 1.0
    flipped = _match_1v2(-targets[speaker], targets, speaker, ones, zeros)
    assert flipped < 0.2  # anti-correlated predictions pick the other speaker
    noise = [_match_1v2(torch.randn(24, 6), targets, speaker, ones, zeros) for _ in range(20)]
    assert 0.4 < sum(noise) / len(noise) < 0.6


def test_the_contrastive_face_loss_trains_the_same_voice_side(tiny_corpus, tiny_encoder_run, tiny_generator, tmp_path):
    preset = _tiny_pool_preset()
    preset = dataclasses.replace(preset, mapper=dataclasses.replace(preset.mapper, face_loss="contrastive"))
    run = train_mapper(preset, tiny_corpus, tmp_path / "runs", generator=tiny_generator, encoder=tiny_encoder_run,
                       progress=False)  # fmt: skip
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    losses = [s["loss/face"] for s in stats if "loss/face" in s]
    assert losses and all(np.isfinite(losses)) and any("val/match_1v2" in s for s in stats)
    mapper = load_pretrained(run / "model", ("mapper",)).modules["mapper"]
    assert bool(mapper.head.weight.any()) and bool(mapper.directions.any())


def test_an_identity_embedding_wider_than_the_corpus_has_people_is_refused_in_one_sentence(
    tiny_corpus, tiny_encoder_run, tiny_generator, tmp_path
):
    preset = _tiny_pool_preset()
    pool = dataclasses.replace(preset.mapper.mapper.pool, embedding="identity", face_dims=40)
    preset = dataclasses.replace(preset, mapper=dataclasses.replace(
        preset.mapper, mapper=dataclasses.replace(preset.mapper.mapper, pool=pool)))  # fmt: skip
    with pytest.raises(DatasetError, match=r"needs photos of more than 40 training speakers, and .* has \d+; use a"):
        train_mapper(preset, tiny_corpus, tmp_path / "runs", generator=tiny_generator, encoder=tiny_encoder_run,
                     progress=False)  # fmt: skip
