"""synthvox oracle rows: the face-trait draw, the voice posterior, and the rendered rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from voice2face.data.synthvox.face import draw_nuisance, render_face
from voice2face.data.synthvox.oracle import (
    ORACLE_KINDS,
    ORACLE_SEX_STREAM,
    oracle_face_traits,
    oracle_faces,
    posterior_latents,
    posterior_mode_latent,
    prior_latent_of_sex,
)
from voice2face.data.synthvox.traits import (
    AGE_BETA,
    AGE_RANGE,
    STREAM_TRAITS,
    VOICE_SD,
    draw_face_traits,
    draw_identity,
    face_means,
    item_rng,
)

# Faces of draw_identity recorded before draw_face_traits was factored out of it: every
# existing corpus depends on these staying put.
RECORDED_FACES = {
    (0, 5): {
        "sex": "female", "head_size": -0.058, "jaw_width": 0.1334, "face_length": -0.1568, "wrinkles": 1.0019,
        "greyness": 0.7131, "bald": False, "glasses": False, "hair_style": "long", "facial_hair": "none",
        "brow_thickness": -0.5513, "lip_fullness": 0.2409, "skin_tone": 0.0258, "hair_colour": "black",
        "eye_colour": "hazel", "eye_size": -0.3844, "eye_spacing": 0.2493, "nose_length": 0.1945,
        "nose_width": 0.3698, "mouth_width": -0.1394, "ear_size": -0.727, "lip_tint": 0.4248,
        "glasses_frame": "metal", "hair_parting": 0.6252,
    },
    (3, 17): {
        "sex": "male", "head_size": -0.042, "jaw_width": -0.4788, "face_length": 0.1622, "wrinkles": 0.9169,
        "greyness": 0.7455, "bald": False, "glasses": True, "hair_style": "short", "facial_hair": "stubble",
        "brow_thickness": 0.7072, "lip_fullness": -0.1965, "skin_tone": 0.8222, "hair_colour": "dark_brown",
        "eye_colour": "blue", "eye_size": 1.1642, "eye_spacing": -1.0725, "nose_length": -0.1863,
        "nose_width": 0.0102, "mouth_width": 0.1904, "ear_size": -0.2704, "lip_tint": 0.6454,
        "glasses_frame": "metal", "hair_parting": 0.8852,
    },
    (11, 42): {
        "sex": "female", "head_size": -0.0232, "jaw_width": -0.2246, "face_length": -1.2347, "wrinkles": -0.0657,
        "greyness": -0.5919, "bald": False, "glasses": False, "hair_style": "medium", "facial_hair": "none",
        "brow_thickness": 0.3699, "lip_fullness": 0.3563, "skin_tone": 0.4046, "hair_colour": "blond",
        "eye_colour": "brown", "eye_size": -0.6875, "eye_spacing": 0.4091, "nose_length": 1.1496,
        "nose_width": 0.0101, "mouth_width": -0.1798, "ear_size": -1.8914, "lip_tint": 0.5228,
        "glasses_frame": "navy", "hair_parting": 0.1095,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def people():
    """150 people of one corpus: enough for the statistical checks to hold with a wide margin."""
    return [draw_identity(0, index) for index in range(150)]


@pytest.mark.parametrize(("seed", "index"), sorted(RECORDED_FACES))
def test_draw_identity_faces_are_unchanged(seed, index):
    assert dataclasses.asdict(draw_identity(seed, index).face) == RECORDED_FACES[(seed, index)]


@pytest.mark.parametrize(("seed", "index"), [(0, 0), (0, 5), (3, 17), (11, 42)])
def test_draw_face_traits_continues_the_identity_stream(seed, index):
    identity = draw_identity(seed, index)
    rng = item_rng(seed, index, STREAM_TRAITS)
    # Replay what draw_identity draws before the face: sex, age, size, then the voice traits.
    rng.integers(2)
    rng.beta(*AGE_BETA)
    rng.standard_normal()
    rng.standard_normal(len(VOICE_SD))
    assert draw_face_traits(rng, identity.latent) == identity.face


def test_oracle_faces_are_deterministic_and_shaped():
    identities = [draw_identity(0, index) for index in range(3)]
    for kind in ORACLE_KINDS:
        faces = oracle_faces(identities, kind, per_identity=2, resolution=32, seed=4)
        assert faces.shape == (6, 3, 32, 32) and faces.dtype == np.uint8
        assert np.array_equal(faces, oracle_faces(identities, kind, per_identity=2, resolution=32, seed=4))
        assert not np.array_equal(faces, oracle_faces(identities, kind, per_identity=2, resolution=32, seed=5))
        # Identity-major, and a face does not depend on which other identities are in the call.
        alone = oracle_faces(identities[1:2], kind, per_identity=2, resolution=32, seed=4)
        assert np.array_equal(alone, faces[2:4])
    assert not np.array_equal(
        oracle_faces(identities, "oracle_voice", per_identity=2, resolution=32, seed=4),
        oracle_faces(identities, "oracle_sex", per_identity=2, resolution=32, seed=4),
    )


def test_oracle_faces_render_the_documented_draws():
    identity = draw_identity(2, 9)
    faces = oracle_faces([identity], "oracle_sex", per_identity=2, resolution=32, seed=7)
    for item in range(2):
        rng = item_rng(7, identity.index, ORACLE_SEX_STREAM, item)
        traits = draw_face_traits(rng, prior_latent_of_sex(identity.latent.sex, rng))
        assert traits == oracle_face_traits(identity, "oracle_sex", item, seed=7)
        image = render_face(traits, rng, 32, draw_nuisance(rng))  # [R, R, 3]
        assert np.array_equal(faces[item], image.transpose(2, 0, 1))


def test_unknown_kind_and_sex_are_refused():
    identity = draw_identity(0, 0)
    with pytest.raises(ValueError, match="oracle_voice, oracle_sex"):
        oracle_faces([identity], "oracle_age", per_identity=1, resolution=32, seed=0)
    with pytest.raises(ValueError, match="oracle_voice, oracle_sex"):
        oracle_face_traits(identity, "oracle_age", 0, seed=0)
    with pytest.raises(ValueError, match="sex"):
        prior_latent_of_sex("other", np.random.default_rng(0))


def test_posterior_latents_recover_the_truth(people):
    rng = np.random.default_rng(0)
    posterior_age, sex_right = [], []
    for identity in people:
        draws = posterior_latents(identity.voice, rng, 16)
        assert len(draws) == 16
        assert all(AGE_RANGE[0] <= draw.age <= AGE_RANGE[1] for draw in draws)
        posterior_age.append(np.mean([draw.age for draw in draws]))
        male_share = np.mean([draw.sex == "male" for draw in draws])
        sex_right.append((male_share > 0.5) == (identity.latent.sex == "male"))
    true_age = [identity.latent.age for identity in people]
    assert np.corrcoef(true_age, posterior_age)[0, 1] > 0.7
    assert np.mean(sex_right) > 0.9


def test_oracle_rows_keep_what_they_should(people):
    voice_faces = [oracle_face_traits(identity, "oracle_voice", 0, seed=1) for identity in people]
    sex_faces = [oracle_face_traits(identity, "oracle_sex", 0, seed=1) for identity in people]
    assert all(face.sex == identity.latent.sex for face, identity in zip(sex_faces, people, strict=True))
    assert np.mean([face.sex == identity.latent.sex for face, identity in zip(voice_faces, people, strict=True)]) > 0.9
    true_age = [identity.latent.age for identity in people]
    voice_r = np.corrcoef(true_age, [face.wrinkles for face in voice_faces])[0, 1]
    sex_r = np.corrcoef(true_age, [face.wrinkles for face in sex_faces])[0, 1]
    assert voice_r > sex_r + 0.2
    # What the voice cannot reveal is drawn anew, not copied from the person.
    same_skin = [face.skin_tone == identity.face.skin_tone for face, identity in zip(voice_faces, people, strict=True)]
    assert np.mean(same_skin) < 0.1


def test_the_mode_oracle_shows_the_posteriors_best_guess_and_is_a_ceiling_for_the_sample(people):
    """oracle_voice_mode: the most likely sex, the posterior mean age and size for it, every trait they
    decide at its conditional mean; it follows the truth at least as well as a posterior sample does."""
    mode_faces = [oracle_face_traits(identity, "oracle_voice_mode", 0, seed=1) for identity in people]
    sample_faces = [oracle_face_traits(identity, "oracle_voice", 0, seed=1) for identity in people]
    for identity, face in zip(people[:20], mode_faces, strict=False):
        latent = posterior_mode_latent(identity.voice)
        assert face.sex == latent.sex
        means = face_means(latent.male, latent.age01, latent.size)
        assert face.wrinkles == pytest.approx(float(means["wrinkles"]), abs=1e-4)
        assert face.jaw_width == pytest.approx(float(means["jaw_width"]), abs=1e-4)
        assert face.glasses is False  # never more likely than not in the face model
    true_age = [identity.latent.age for identity in people]
    for trait in ("wrinkles", "greyness"):
        mode_r = np.corrcoef(true_age, [getattr(f, trait) for f in mode_faces])[0, 1]
        sample_r = np.corrcoef(true_age, [getattr(f, trait) for f in sample_faces])[0, 1]
        assert mode_r > sample_r
    true_size = [identity.latent.size for identity in people]
    assert np.corrcoef(true_size, [f.jaw_width for f in mode_faces])[0, 1] > np.corrcoef(
        true_size, [f.jaw_width for f in sample_faces])[0, 1]  # fmt: skip
    # What the voice cannot reveal is still drawn anew.
    assert np.mean([f.skin_tone == p.face.skin_tone for f, p in zip(mode_faces, people, strict=True)]) < 0.1
    assert len({f.skin_tone for f in mode_faces}) > 100
