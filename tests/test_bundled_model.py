"""The model bundled with the package: complete, small, documented, marked synthetic, and as good
as its card says on the synthvox corpus it was trained on (re-measured here, not read back)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from voice2face.storage import bundled_model_dir
from voice2face.storage.checkpoint import load_pretrained
from voice2face.storage.png import IPTC_SYNTHETIC, SYNTHETIC_NOTICE, read_png_metadata

BUNDLE = bundled_model_dir()
EXAMPLES = BUNDLE.parent / "examples"
COMMON = {"config.json", "voice_encoder.safetensors", "generator.safetensors", "model_card.md", "provenance.json"}
# The paper's route also ships its mapper (with its selection reader, or, in the regression mode,
# the projector the demo reuses; issue 14).
FILES = {"wplus": COMMON | {"mapper.safetensors"}, "conditional": COMMON}
COMPONENTS = {"wplus": ["generator", "mapper", "voice_encoder"], "conditional": ["generator", "voice_encoder"]}

pytestmark = pytest.mark.skipif(
    not (BUNDLE / "config.json").is_file(), reason="no bundled model: run scripts/build_bundled_model.py --install"
)


def _provenance() -> dict:
    return json.loads((BUNDLE / "provenance.json").read_text(encoding="utf-8"))


def _route() -> str:
    return _provenance()["training"].get("route", "conditional")


def test_bundle_holds_only_the_inference_networks_and_stays_under_20_mb():
    route = _route()
    model = load_pretrained(BUNDLE)  # verifies every weight file's SHA-256
    mapper = model.config.mapper
    edit = route == "wplus" and mapper.family == "wplus" and mapper.selection is None  # regression mode
    assert {p.name for p in BUNDLE.iterdir()} == FILES[route] | ({"projector.safetensors"} if edit else set())
    assert sum(p.stat().st_size for p in BUNDLE.iterdir()) <= 20_000_000
    assert sorted(model.modules) == COMPONENTS[route] and model.config.discriminator is None
    if edit:  # the projector belongs to the shipped generator (its weights' hash)
        from voice2face.storage.layout import PROJECTOR_FILE
        from voice2face.training.projection import load_projector

        sha = model.config.weights_sha256("generator")
        assert load_projector(BUNDLE / PROJECTOR_FILE, sha) is not None


def _row(card: str, label: str) -> list[str]:
    """The cells of the card table's row ``label``: model, then each reference row, then chance."""
    row = re.search(rf"^\| {re.escape(label)} \| (.+) \|$", card, re.MULTILINE)
    assert row, f"the card has no {label!r} row"
    return [cell.strip() for cell in row.group(1).split("|")]


def test_model_card_says_synthetic_and_reports_every_figure_beside_its_reference_rows():
    card = (BUNDLE / "model_card.md").read_text(encoding="utf-8")
    for phrase in ("not photographs of anyone", "identification evidence", "Intended use", "Limitations",
                   "Training data", "scripts/build_bundled_model.py", "trait-space"):  # fmt: skip
        assert phrase in card, phrase
    evaluation = _provenance()["evaluation"]
    model, refs = evaluation["model"], evaluation["references"]
    header = _row(card, "metric")
    assert header == ["model", "real", "blur σ1.2", "blur σ2.0", "oracle mode", "oracle voice", "oracle sex", "chance"]
    matching = _row(card, "1:2 matching")
    assert float(matching[0]) == pytest.approx(model["identity"]["match_1v2"], abs=1e-3)
    assert float(matching[1]) == pytest.approx(refs["real"]["identity"]["match_1v2"], abs=1e-3)
    assert matching[-1] == "0.500"
    c2st = _row(card, "two-sample accuracy (0.5 = indistinguishable)")
    assert float(c2st[0]) == pytest.approx(model["realism"]["c2st"], abs=1e-3)
    assert float(c2st[3]) == pytest.approx(refs["blurred_real_2.0"]["realism"]["c2st"], abs=1e-3)
    sex = _row(card, "sex (accuracy)")
    assert float(sex[0]) == pytest.approx(model["traits"]["sex"], abs=1e-3)
    # The card's first words on the evaluation are its verdict, not a number out of context.
    assert re.search(r"\*\*(Not yet faces|Face-like|As hard to tell)", card)


def test_shipped_examples_are_unseen_test_voices_of_both_sexes():
    names = sorted(p.name for p in EXAMPLES.glob("synthvox-*.wav"))
    assert len(names) >= 4 and {n.split("-")[1] for n in names} == {"female", "male"}
    assert names == sorted(_provenance()["examples"])


def test_main_job_writes_portraits_of_a_shipped_example_with_the_bundled_model(tmp_path):
    example = sorted(EXAMPLES.glob("synthvox-*.wav"))[0]
    proc = subprocess.run(
        [sys.executable, "-m", "voice2face", "portrait", str(example), "-o", str(tmp_path), "--samples", "2", "-q"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    files = sorted(tmp_path.iterdir())
    assert [p.name for p in files] == [f"{example.stem}_0.png", f"{example.stem}_1.png"]
    meta = read_png_metadata(files[0])
    assert meta["Model"] == "bundled" and meta["Description"] == SYNTHETIC_NOTICE
    assert IPTC_SYNTHETIC in meta["XML:com.adobe.xmp"]
    # Portraits come at the model's native resolution unless --size asks for another.
    from PIL import Image

    resolution = load_pretrained(BUNDLE).config.generator.img_resolution
    with Image.open(files[0]) as image:
        assert image.size == (resolution, resolution)
    assert meta["Resolution"] == f"{resolution} px"


def test_portrait_help_names_the_bundled_models_native_resolution(capsys):
    from voice2face.cli import main

    with pytest.raises(SystemExit):
        main(["portrait", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    resolution = load_pretrained(BUNDLE).config.generator.img_resolution
    assert f"({resolution} px for the bundled model" in text


@pytest.fixture(scope="module")
def remeasured(tmp_path_factory) -> dict:
    """Regenerate the synthvox corpus of provenance.json and evaluate the bundled model on its test
    identities with the card's protocol (identity and trait read-out; the reference rows and the
    two-sample test are left to the card's slow re-measure, `build_bundled_model.py --remeasure`)."""
    from voice2face.config import EvaluationConfig, SynthVoxConfig, from_dict
    from voice2face.data.synthvox import generate_corpus
    from voice2face.evaluation import evaluate_model

    provenance = _provenance()
    work = tmp_path_factory.mktemp("bundled")
    corpus = work / "corpus"
    generate_corpus(corpus, from_dict(SynthVoxConfig, provenance["corpus"], where="provenance.json"), progress=False)
    config = EvaluationConfig(
        metrics=("identity", "traits", "descriptors"), references=(),
        samples_per_voice=provenance["evaluation"]["samples_per_voice"],
    )  # fmt: skip
    summary = evaluate_model(BUNDLE, corpus, config=config, cache_dir=work / "cache", write=False, progress=False,
                             shipped_instruments=False)  # fmt: skip
    return {**summary, "cache_dir": work / "cache", "corpus_config": provenance["corpus"], "corpus": corpus}


@pytest.mark.slow  # regenerates synthvox-200 and retrains the instruments: about 30 minutes on 2 cores
def test_bundled_model_figures_reproduce_on_the_regenerated_training_corpus(remeasured):
    """Generation is deterministic, and so is the instrument, retrained here on its pinned thread
    count (INSTRUMENT_THREADS); the figures may still move by a few faces on other CPU kernels."""
    evaluation = _provenance()["evaluation"]
    results = remeasured["results"]
    assert results["traits"]["sex"] == pytest.approx(evaluation["model"]["traits"]["sex"], abs=0.03)
    assert results["traits"]["age"] == pytest.approx(evaluation["model"]["traits"]["age"], abs=0.05)
    assert results["identity"]["match_1v2"] == pytest.approx(evaluation["model"]["identity"]["match_1v2"], abs=0.03)
    same_sex = evaluation["model"]["identity"]["match_1v2_same_sex"]
    assert results["identity"]["match_1v2_same_sex"] == pytest.approx(same_sex, abs=0.03)
    if "descriptors" in evaluation["model"]:  # the second instrument family (issue 30)
        for name in ("sex", "age"):
            measured, card = results["descriptors"][name], evaluation["model"]["descriptors"][name]
            assert measured == pytest.approx(card, abs=0.05), name
    assert remeasured["voice_probe"]["age"]["score"] == pytest.approx(
        evaluation["voice_probe"]["age"]["score"], abs=0.05
    )
    assert remeasured["reference"]["ceiling"]["match_1v2"] == pytest.approx(
        evaluation["ceiling"]["match_1v2"], abs=1e-9
    )


@pytest.mark.slow  # shares the re-measure's regenerated corpus and retrained instruments
def test_the_shipped_demo_instrument_is_the_trait_read_out_the_evaluation_trains(remeasured):
    """The demo ships the trait read-out of its default corpus (voice2face.recipes.demo.INSTRUMENTS_DIR) so as
    not to spend minutes training it: it must be the network `evaluate` trains on that corpus, under
    the same cache key. Bit-identical on this machine's kernels; other CPUs may differ in the last bits."""
    from voice2face.recipes.demo import INSTRUMENTS_DIR
    from voice2face.storage.instruments import shipped_corpus

    corpus, shipped_for = remeasured["corpus_config"], shipped_corpus()
    # --install ships the read-out of the bundle's own corpus
    assert (corpus["identities"], corpus["seed"], corpus["resolution"]) == shipped_for.settings
    from voice2face.data.manifest import load_manifest
    from voice2face.evaluation.run import manifest_hash

    assert manifest_hash(load_manifest(remeasured["corpus"])) == shipped_for.manifest_sha256_16
    trained = sorted(remeasured["cache_dir"].glob("trait-net-*.npz"))
    shipped = sorted(INSTRUMENTS_DIR.glob("trait-net-*.npz"))
    assert [p.name for p in trained] == [p.name for p in shipped]  # the same cache key: corpus, traits, settings
    with np.load(trained[0]) as a, np.load(shipped[0]) as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            if a[name].dtype.kind == "f":
                np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-5, err_msg=name)
            else:
                assert np.array_equal(a[name], b[name]), name


def test_the_shipped_demo_instrument_is_a_trait_read_out_with_the_evaluation_settings():
    """What the shipped file claims (its key, its settings) is what the evaluation uses today, and its
    key is the one the evaluation computes now for the demo's corpus: a raised instrument revision
    (metrics.cache.INSTRUMENTS_REVISION) or changed settings without a re-shipped file fail here."""
    from voice2face.config import EvaluationConfig, to_dict
    from voice2face.metrics.cache import stats_key
    from voice2face.metrics.face_cnn import instrument_settings
    from voice2face.recipes.demo import INSTRUMENTS_DIR
    from voice2face.storage.instruments import shipped_corpus

    (shipped,) = sorted(INSTRUMENTS_DIR.glob("trait-net-*.npz"))
    with np.load(shipped) as arrays:
        assert shipped.name == f"trait-net-{arrays['__key__']}.npz"
        meta = json.loads(str(arrays["meta"]))
    assert meta["config"] == to_dict(EvaluationConfig().traits)
    assert [s["name"] for s in meta["specs"]][:2] == ["sex", "age"]
    shipped_for = shipped_corpus()
    dataset = f"synthvox-{shipped_for.identities}-seed{shipped_for.seed}-{shipped_for.manifest_sha256_16}/train"
    names = ",".join(s["name"] for s in meta["specs"])
    key = stats_key(dataset, f"trait-net-{names}", "trained", instrument_settings(EvaluationConfig().traits))
    assert shipped.name == f"trait-net-{key}.npz"


def test_bundled_model_draws_faces():
    """Issue 31's realism points for the portraits of the synthvox-200 seed 0 test voices, read from the
    card's figures (which `build_bundled_model.py --remeasure` re-measures): the two-sample accuracy at
    equal sizes at or below the blurred σ 1.2 row's, sharpness 0.8-1.25 of real faces' (issue 14 asked 0.6)."""
    evaluation = _provenance()["evaluation"]
    model, refs = evaluation["model"], evaluation["references"]
    assert model["realism"]["c2st"] <= refs["blurred_real_1.2"]["realism"]["c2st"]
    assert 0.8 <= model["realism"]["sharpness_ratio"] <= 1.25


#: The previous bundle (issue 14's labelled selection, synthvox-wplus-64) re-measured by today's
#: instruments at equal sizes (93 faces a side): the two-sample accuracy issue 30 asks to be no worse than.
PREVIOUS_TWO_SAMPLE = {"cnn": 0.693, "descriptors": 1.000}


def test_the_bundle_is_the_label_free_voice_side():
    """Issue 30: the bundle's voice side trains on ids, recordings, photos and sex alone."""
    training = _provenance()["training"]
    assert training["preset"] == "synthvox-pool-64" and training["mapper"]["config"]["mapper"]["family"] == "pool"
    assert (
        training["command"].startswith("python scripts/build_bundled_model.py") and "--generator" in training["command"]
    )


def test_bundled_model_faces_follow_the_voices_age_by_both_read_outs_from_an_embedding_that_holds_it():
    """Issue 30's floors met so far, read from the card's figures (which the slow test above re-measures):
    age r ≥ 0.35 and age > 50 told right ≥ 0.65 by the descriptor read-out (and the CNN's), every
    speaker's portraits distinct from every other's, two-sample accuracy no worse than the previous
    bundle's, encoder age R² ≥ 0.5."""
    evaluation = _provenance()["evaluation"]
    model = evaluation["model"]
    for family in ("descriptors", "traits"):
        assert model[family]["age"] >= 0.35, family
        assert model[family]["age_over_50"] >= 0.65, family
    # Portraits move with the voice: no two speakers share a face (two recordings of one speaker may).
    assert model["realism"]["shared_across_speakers"] == 0
    assert model["realism"]["distinct_faces"] >= 0.99 * model["realism"]["faces"]
    assert model["realism"]["c2st"] <= PREVIOUS_TWO_SAMPLE["cnn"]
    assert model["descriptors"]["c2st"] <= PREVIOUS_TWO_SAMPLE["descriptors"]
    assert evaluation["voice_probe"]["age"]["score"] >= 0.5  # linear probe of the embedding: age R²


def test_bundled_model_faces_show_the_voices_sex_to_both_read_outs():
    """Issue 30: sex ≥ 0.92 by the descriptor read-out, the instrument of record (real faces: 0.957);
    the CNN's beside it (real faces 1.00) must see it too, at 0.9."""
    model = _provenance()["evaluation"]["model"]
    assert model["descriptors"]["sex"] >= 0.92
    assert model["traits"]["sex"] >= 0.9


def test_bundled_model_faces_tell_same_sex_speakers_apart():
    """Issue 30: same-sex 1:2 matching ≥ 0.58 by the corpus's face CNN (10,000 random triples, the protocol
    of record; its Monte Carlo error is about ±0.005, and the voice oracle's most likely face, averaged
    exactly over three latent seeds, reaches 0.582: benchmarks/README.md)."""
    model = _provenance()["evaluation"]["model"]
    assert model["identity"]["match_1v2_same_sex"] >= 0.58
