"""`voice2face evaluate` and `voice2face report` on a tiny trained synthvox run."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from voice2face.cli import main
from voice2face.config import (
    REFERENCE_ROWS,
    C2STConfig,
    DescriptorConfig,
    EvaluationConfig,
    FaceCNNConfig,
    FIDConfig,
    IdentityMetricsConfig,
    PPLConfig,
)
from voice2face.errors import CheckpointError, ConfigError, DatasetError
from voice2face.evaluation import evaluate_model, format_table
from voice2face.report import build_report, load_run
from voice2face.storage import RunFolder
from voice2face.storage.png import SYNTHETIC_NOTICE, read_png_metadata

#: Small but complete: every metric, few PPL samples, a quick face CNN.
TINY_EVAL = EvaluationConfig(
    samples_per_voice=2,
    batch_size=16,
    identity=IdentityMetricsConfig(num_pairs=0),
    ppl=PPLConfig(num_samples=8, batch_size=8),
    face_cnn=FaceCNNConfig(epochs=2, width=8, embedding_dim=16),
    traits=FaceCNNConfig(epochs=2, width=8),
    c2st=C2STConfig(folds=2, epochs=1, width=4, max_per_class=40),
    descriptors=DescriptorConfig(folds=2, penalties=(0.1, 10.0)),
    realism_pool=40,
    oracle_per_identity=2,
)


@pytest.fixture(scope="module")
def evaluated_run(tiny_gan_run, tiny_corpus, tmp_path_factory):
    """A copy of the tiny stage-2 run, evaluated once on the test split (the summary and the folder)."""
    run = tmp_path_factory.mktemp("evaluated") / tiny_gan_run.name
    shutil.copytree(tiny_gan_run, run)
    cache = tmp_path_factory.mktemp("eval-cache")
    summary = evaluate_model(run, tiny_corpus, config=TINY_EVAL, cache_dir=cache, progress=False)
    return run, summary, cache


def test_evaluate_writes_identity_metrics_with_ceiling_and_chance(evaluated_run, tiny_manifest):
    run, summary, _ = evaluated_run
    assert summary["run_dir"] == run and summary["model_dir"] == run / "model"
    assert (
        summary["voices"] == len(tiny_manifest.utterances_in("test")) and summary["generated"] == 2 * summary["voices"]
    )
    records = {r["metric"]: r for r in RunFolder(run).read_metrics()}
    assert set(records) == {"realism", "traits", "descriptors", "identity", "fd", "fid", "kid", "ppl"}
    identity = records["identity"]
    for key in ("match_1v2", "match_1v2_same_sex", "recall@1", "recall@10", "cosine_speaker"):
        assert key in identity["results"]
    assert identity["results"]["embedder"] == "synthvox" and identity["results"]["recall_gallery"] == 4
    assert identity["reference"]["ceiling"]["match_1v2"] == tiny_manifest.ceiling["matching_1v2"]
    assert identity["reference"]["chance"]["recall@1"] == 0.25 and identity["reference"]["chance"]["match_1v2"] == 0.5
    assert identity["split"] == "test" and identity["dataset"]["source"] == "synthvox"
    assert identity["kimg"] == pytest.approx(0.024) and identity["step"] == 6 and identity["snapshot"] == "kimg 0.024"
    assert identity["options"]["samples_per_voice"] == 2
    # FID/KID without Inception weights: the reason is recorded, nothing stands in for the number.
    assert "Inception" in records["fid"]["results"]["skipped"] and "fid" not in records["fid"]["results"]
    assert 0 <= records["traits"]["results"]["sex"] <= 1 and records["fd"]["results"]["embedder"] == "synthvox"
    assert records["ppl"]["results"]["ppl_distance"] == "synthvox"
    # Every record carries the reference rows, scored by the same instrument; path length needs a generator.
    assert set(records["identity"]["references"]) == set(REFERENCE_ROWS)
    assert "needs a generator" in records["ppl"]["references"]["real"]["skipped"]
    assert summary["grid"] == run / "eval-test-fakes.png"
    assert read_png_metadata(summary["grid"])["Description"] == SYNTHETIC_NOTICE
    table = format_table(summary)
    # the model and six reference rows (real, two blurred, the mode, sample and sex oracles), then chance
    assert re.search(r"^1:2 matching(\s+\d\.\d{3}){7}\s+0\.500$", table, re.M)
    assert re.search(r"^fid: skipped: no Inception weights", table, re.M)
    assert "trait-space Bayes ceiling" in table


def test_evaluate_is_repeatable_and_appends(evaluated_run, tiny_corpus):
    run, summary, cache = evaluated_run
    again = evaluate_model(
        run, tiny_corpus, config=dataclasses.replace(TINY_EVAL, metrics=("identity",)), cache_dir=cache, write=False
    )
    assert again["results"]["identity"] == summary["results"]["identity"]
    before = len(RunFolder(run).read_metrics())
    evaluate_model(run / "model", tiny_corpus, config=dataclasses.replace(TINY_EVAL, metrics=("fd",)), cache_dir=cache)
    assert len(RunFolder(run).read_metrics()) == before + 1  # the model/ folder's run is its parent


def test_evaluate_json_has_the_model_beside_every_reference_row(evaluated_run, tiny_corpus, tmp_path):
    from voice2face.evaluation import summary_json

    run, summary, cache = evaluated_run
    data = json.loads(summary_json(summary))
    assert set(data["references"]) == set(REFERENCE_ROWS)
    for row in (data["model"], *data["references"].values()):
        assert {"realism", "traits", "identity"} <= set(row)
    model = data["model"]
    assert {"c2st", "c2st_std", "sharpness_ratio", "fd_traits"} <= set(model["realism"])
    assert {"sex", "age", "wrinkles", "voice_traits_mean", "voice_trait_score"} <= set(model["traits"])
    assert "match_1v2" in model["identity"] and "match_1v2" in data["trait_space_ceiling"]
    # The voice-trait score is scaled by two oracle rows themselves: a random person of the speaker's
    # sex (0) and the posterior's best guess of the face (1), per instrument family.
    for family in ("traits", "descriptors"):
        assert data["references"]["oracle_sex"][family]["voice_trait_score"] == pytest.approx(0.0)
        assert data["references"]["oracle_voice_mode"][family]["voice_trait_score"] == pytest.approx(1.0)
    # Both families read the same traits; every row's two-sample tests use as many faces as the real row.
    assert {"sex", "age", "age_over_50", "c2st"} <= set(model["descriptors"])
    compared = {row["realism"]["faces_compared"] for row in (model, *data["references"].values())}
    assert compared == {data["references"]["real"]["realism"]["faces"]}
    assert model["realism"]["distinct_faces"] <= model["realism"]["faces"]
    assert isinstance(data["flags"], list)
    out = tmp_path / "summary.json"
    command = ["evaluate", str(run), "--data", str(tiny_corpus), "--metrics", "identity", "--references", "real",
               "--cache", str(cache), "-q"]  # fmt: skip
    assert main([*command, "--json", str(out)]) == 0
    written = json.loads(out.read_text())
    assert set(written["references"]) == {"real"} and "match_1v2" in written["model"]["identity"]
    (tmp_path / "a-file").write_text("in the way")
    assert main([*command, "--json", str(tmp_path / "a-file" / "dir.json")]) == 1  # refused before any work


@pytest.mark.slow  # the 2048-d Inception network at 299 px: tens of seconds on 2 cores
def test_fid_and_kid_run_when_inception_weights_are_given(evaluated_run, tiny_corpus, tmp_path):
    from voice2face.metrics.inception import FIDInceptionV3

    torch.manual_seed(0)
    weights = tmp_path / "random-inception.pth"  # random weights: exercises the path, not the published numbers
    torch.save(FIDInceptionV3().state_dict(), weights)
    run, _, cache = evaluated_run
    config = dataclasses.replace(
        TINY_EVAL, metrics=("fid", "kid"), samples_per_voice=1, fid=FIDConfig(frechet_method="eigh", kid_subsets=10)
    )
    summary = evaluate_model(run, tiny_corpus, config=config, inception_weights=weights, cache_dir=cache, write=False)
    kid = summary["results"]["kid"]
    # The reals are the gallery: half the split's faces (the other half is the `real` reference row).
    assert kid["num_real"] == 4 and kid["num_fake"] == 8 and kid["inception_weights"] != "unversioned"
    # 8 images in 2048 dimensions may leave the covariance unusable: then the record says so, never "skipped".
    assert "fid" in summary["results"]["fid"] or "failed" in summary["results"]["fid"]


def _random_lpips_weights(folder):
    """VGG16 and LPIPS lin weight files of the real layout with random values (He-scaled, so that
    activations stay O(1)): they exercise the path, not the published numbers."""
    from voice2face.metrics.lpips import LPIPSVGG16, TAP_CHANNELS

    generator = torch.Generator().manual_seed(0)
    vgg = {}
    for key, value in LPIPSVGG16().features.state_dict().items():
        scale = (2.0 / value[0].numel()) ** 0.5 if key.endswith("weight") else 0.01
        vgg[f"features.{key}"] = torch.randn(value.shape, generator=generator) * scale
    torch.save(vgg, folder / "vgg16.pth")
    lin = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1, generator=generator) for k, c in enumerate(TAP_CHANNELS)}
    torch.save(lin, folder / "lin.pth")
    return folder / "vgg16.pth", folder / "lin.pth"


def test_lpips_is_skipped_with_how_to_give_weights_and_runs_with_them(
    evaluated_run, tiny_corpus, tmp_path, monkeypatch
):
    from voice2face.config import LPIPSConfig
    from voice2face.metrics.lpips import VGG16_WEIGHTS_ENV

    run, _, cache = evaluated_run
    monkeypatch.delenv(VGG16_WEIGHTS_ENV, raising=False)
    config = dataclasses.replace(
        TINY_EVAL, metrics=("lpips",), references=("real",), voice_probe=False, lpips=LPIPSConfig(pairs=6)
    )
    skipped = evaluate_model(run, tiny_corpus, config=config, cache_dir=cache, write=False, progress=False)
    reason = skipped["results"]["lpips"]["skipped"]  # recorded, with how to give the weights; never dropped
    assert "--vgg16-weights" in reason and VGG16_WEIGHTS_ENV in reason and "lpips_same_voice" not in reason
    assert skipped["references"]["real"]["lpips"] == {"skipped": reason}
    assert re.search(r"^lpips: skipped: LPIPS needs VGG16 weights; pass --vgg16-weights", format_table(skipped), re.M)

    vgg, lin = _random_lpips_weights(tmp_path)
    summary = evaluate_model(
        run, tiny_corpus, config=config, vgg16_weights=vgg, lpips_weights=lin, cache_dir=cache, write=False,
        progress=False,
    )  # fmt: skip
    model, real = summary["results"]["lpips"], summary["references"]["real"]["lpips"]
    # samples_per_voice 2: each voice's two portraits (other latents) are a same-voice pair.
    assert model["same_voice_pairs"] == min(6, summary["voices"]) and model["other_speaker_pairs"] == 6
    assert model["lpips_same_voice"] > 0 and model["lpips_other_speakers"] > 0
    # Other faces, other values: the real row's pairs are two photos of one speaker, or of two.
    assert real["lpips_other_speakers"] > 0 and real["lpips_other_speakers"] != model["lpips_other_speakers"]
    assert model["lpips_weights"] == real["lpips_weights"] != "random-init"
    assert summary["options"]["vgg16_weights"] == str(vgg)
    assert re.search(r"^LPIPS, faces of different speakers(\s+\d\.\d{3}){2}", format_table(summary), re.M)


def test_path_length_is_skipped_with_the_reason_for_a_generator_without_mapping():
    from types import SimpleNamespace

    from voice2face.config import GeneratorConfig
    from voice2face.errors import MetricUnavailableError
    from voice2face.evaluation.registry import registered_metrics
    from voice2face.models.dcgan import DCGANGenerator

    generator = DCGANGenerator(
        GeneratorConfig(
            family="dcgan", z_dim=8, c_dim=4, img_resolution=16, img_channels=3, channel_base=64, channel_max=8
        )
    )
    ppl = registered_metrics()["ppl"]
    assert ppl.needs_generator
    with pytest.raises(MetricUnavailableError, match="mapping network; the DCGANGenerator has none"):
        ppl.fn(SimpleNamespace(generator=generator, config=TINY_EVAL))


def test_evaluate_bad_inputs_are_one_sentence(tiny_gan_run, tiny_encoder_run, tiny_corpus, tmp_path, capsys):
    with pytest.raises(CheckpointError, match="does not exist"):
        evaluate_model(tmp_path / "nowhere", tiny_corpus, write=False)
    with pytest.raises(DatasetError, match="No dataset"):
        evaluate_model(tiny_gan_run, tmp_path / "nodata", write=False)
    with pytest.raises(CheckpointError, match="no generator"):
        evaluate_model(tiny_encoder_run, tiny_corpus, write=False)
    # The registry names the metrics evaluate accepts; an unknown one is refused before any work.
    with pytest.raises(ConfigError, match="unknown metric 'bogus'"):
        evaluate_model(tmp_path / "nowhere", tiny_corpus, config=EvaluationConfig(metrics=("bogus",)), write=False)
    with pytest.raises(ConfigError, match="unknown metric 'fd_dlib'"):  # the embedder is --embedder's to choose
        evaluate_model(tiny_gan_run, tiny_corpus, config=EvaluationConfig(metrics=("fd_dlib",)), write=False)
    # an empty split and a dataset of another resolution
    corpus = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, corpus, ignore=shutil.ignore_patterns(".cache"))
    manifest = json.loads((corpus / "manifest.json").read_text())
    val_ids = {i["id"] for i in manifest["identities"] if i["split"] == "val"}
    manifest["utterances"] = [u for u in manifest["utterances"] if u["identity"] not in val_ids]
    manifest["faces"] = [f for f in manifest["faces"] if f["identity"] not in val_ids]
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="without any utterance"):  # the manifest's own check
        evaluate_model(tiny_gan_run, corpus, config=EvaluationConfig(split="val"), write=False)
    manifest = json.loads((tiny_corpus / "manifest.json").read_text())
    manifest["face_resolution"] = 32
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="64 px faces but"):
        evaluate_model(tiny_gan_run, corpus, write=False)
    assert main(["evaluate", str(tmp_path / "nowhere"), "--data", str(tiny_corpus)]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1


# --------------------------------------------------------------------------- report


@pytest.fixture(scope="module")
def report_file(evaluated_run, tiny_gan_run, tmp_path_factory):
    run, _, _ = evaluated_run
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(run), str(tiny_gan_run), "-o", str(out)]) == 0
    return out


def test_report_is_one_self_contained_file_with_tables_and_images(report_file, evaluated_run):
    text = report_file.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "<script" not in text.lower() and "<link" not in text.lower()
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) >= 4  # curves of both runs, the training grids and the evaluation grid
    assert "eval-test-fakes.png" in text
    assert "Generator families (as the paper's Table 2)" in text and "Encoder ablations" in text
    assert "StyleGAN2" in text and "BaseModel" in text and "Path Length" in text
    assert "recall@1" in text and "match_1v2" in text and "ceiling" in text
    assert "Synthetic images" in text
    path_length = evaluated_run[1]["results"]["ppl"]["ppl_w_end"]
    assert f"<td>skipped</td><td>{path_length:.4g}</td>" in text  # FID skipped, then Path Length
    run = load_run(evaluated_run[0])
    assert run.family == "StyleGAN2" and run.ablation == "BaseModel" and "identity" in run.latest()


def test_report_bad_inputs(tmp_path, capsys):
    with pytest.raises(ConfigError, match="does not exist"):
        build_report([tmp_path / "missing"], tmp_path / "r.html")
    with pytest.raises(ConfigError, match="not a run folder"):
        build_report([tmp_path], tmp_path / "r.html")
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) != 0
    assert "Traceback" not in capsys.readouterr().err and not (tmp_path / "r.html").exists()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report_file, tmp_path):
    from PIL import Image

    def chromium(*args: str) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory() as profile:
            command = [
                _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={profile}",
                *args, report_file.resolve().as_uri(),
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    dom = chromium("--dump-dom").stdout
    assert dom.count("<table") >= 4 and dom.count('src="data:image/png;base64,') >= 3
    assert "Generator families" in dom and "Synthetic images" in dom
    shot = tmp_path / "shot.png"
    # The page: tables (two trait families beside six reference rows), then curves and faces.
    chromium(f"--screenshot={shot}", "--window-size=1000,8000", "--hide-scrollbars")
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 500  # curves and faces drawn, not a blank page


def test_report_opens_each_run_with_a_verdict_in_words_and_shows_settings_apart(report_file):
    text = report_file.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="run"[^>]*><h2>[^<]*</h2>(.*?)</section>', text, re.S)
    assert len(sections) == 2
    for section in sections:
        assert section.startswith('<p class="verdict">')
        assert section.index("<h3>Settings</h3>") < section.index("stats records")
    assert "Not evaluated yet: run voice2face evaluate" in sections[1]


def test_run_verdict_reads_realism_and_sex_beside_their_reference_rows():
    from voice2face.report import run_verdict

    latest = {
        "realism": {"results": {"c2st": 1.0}, "references": {"blurred_real_2.0": {"c2st": 0.8}, "real": {"c2st": 0.5}}},
        "traits": {"results": {"sex": 0.42}, "references": {"real": {"sex": 0.99}}},
    }
    text = run_verdict(latest)
    assert text.startswith("Not yet faces") and "two-sample accuracy 1.00" in text
    assert "0.42 of them (chance 0.5, real faces 0.99)" in text
    latest["realism"]["results"]["c2st"] = 0.5
    assert run_verdict(latest).startswith("As hard to tell from real faces")


def test_curves_leave_out_single_points():
    pytest.importorskip("matplotlib")
    from voice2face.report.plots import metric_curves, stats_curves

    one = [{"step": 1, "kimg": 0.0, "loss/G": 1.0}]
    assert stats_curves(one) == []
    two = [*one, {"step": 2, "kimg": 0.0, "loss/G": 0.5, "acc/top1": 0.3}]
    assert [title for title, _ in stats_curves(two)] == ["stats.jsonl: loss"]  # acc has one point
    assert metric_curves([{"metric": "identity", "results": {"match_1v2": 0.5}}]) == []


def test_a_generators_own_samples_are_scored_by_the_evaluations_realism_instruments(tiny_corpus, tmp_path):
    """What the pretraining curve (benchmarks/bench_realism_curve.py) reads: an unconditional generator's
    samples beside the real and blurred rows, at equal sizes, larger samples brought to the corpus's size."""
    from voice2face.config import GeneratorConfig
    from voice2face.evaluation.run import evaluate_samples
    from voice2face.models import build_generator

    torch.manual_seed(0)
    config = dataclasses.replace(TINY_EVAL, metrics=("realism",), references=("real", "blurred_real_1.2"))
    generator = build_generator(GeneratorConfig(z_dim=8, c_dim=0, w_dim=16, img_resolution=128, channel_base=256,
                                                channel_max=16, mapping_layers=1))  # fmt: skip
    rows = evaluate_samples(generator, tiny_corpus, count=24, config=config, cache_dir=tmp_path / "cache")
    assert list(rows) == ["samples", "real", "blurred_real_1.2"]
    samples, real = rows["samples"]["realism"], rows["real"]["realism"]
    assert samples["faces"] == 24 and samples["faces_compared"] == real["faces_compared"] == real["faces"]
    for row in rows.values():
        assert all(np.isfinite(row["realism"][name]) for name in ("c2st", "fd_traits", "sharpness_ratio"))
    assert rows["blurred_real_1.2"]["realism"]["sharpness_ratio"] < 0.5 * real["sharpness_ratio"]
    # The samples are the generator's, downsampled: the same seed gives the same figures.
    again = evaluate_samples(generator, tiny_corpus, count=24, config=config, cache_dir=tmp_path / "cache")
    assert again["samples"]["realism"]["sharpness_ratio"] == samples["sharpness_ratio"]
    # The curve's quick mode (--sharpness-only) reads the same figure without the others.
    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    sys.path.insert(0, benchmarks)
    try:
        import bench_realism_curve
    finally:
        sys.path.remove(benchmarks)
    from voice2face.data.manifest import load_manifest

    manifest = load_manifest(tiny_corpus)
    pool = bench_realism_curve.realism_pool(manifest, config)
    quick = bench_realism_curve.sharpness_only(generator, manifest, pool, 24, config)
    assert quick == pytest.approx(samples["sharpness_ratio"], rel=1e-6)
    with pytest.raises(DatasetError, match="realism only"):
        evaluate_samples(generator, tiny_corpus, config=dataclasses.replace(config, metrics=("identity",)))
    small = build_generator(GeneratorConfig(z_dim=8, c_dim=0, w_dim=16, img_resolution=32, channel_base=256,
                                            channel_max=16, mapping_layers=1))  # fmt: skip
    with pytest.raises(DatasetError, match="evaluate on a dataset of at most its resolution"):
        evaluate_samples(small, tiny_corpus, config=config)


def test_the_curves_seconds_per_kimg_leave_out_the_pauses_between_sessions(tmp_path):
    """A run stopped and resumed in a later session: its s/kimg counts the training, not the night."""
    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    sys.path.insert(0, benchmarks)
    try:
        import bench_realism_curve
    finally:
        sys.path.remove(benchmarks)
    # 2 kimg in 200 s, an 8-hour pause, 2 kimg more in 200 s.
    records = [(0, 0.0), (100, 1.0), (200, 2.0), (29000, 2.0), (29100, 3.0), (29200, 4.0)]
    (tmp_path / "stats.jsonl").write_text("".join(json.dumps({"time": t, "kimg": k}) + "\n" for t, k in records))
    assert bench_realism_curve.seconds_per_kimg(tmp_path) == 100.0


def test_the_curves_laplacian_bands_split_the_sharpness_figure_by_rows():
    """bench_realism_curve --bands: the band energies sum to the mean Laplacian variance the sharpness
    ratio compares, and an edge drawn in one band puts its energy there."""
    from voice2face.metrics.realism import laplacian_variance

    benchmarks = str(Path(__file__).resolve().parents[1] / "benchmarks")
    sys.path.insert(0, benchmarks)
    try:
        import bench_realism_curve
    finally:
        sys.path.remove(benchmarks)
    images = torch.randint(0, 256, (5, 3, 34, 30), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    bands = bench_realism_curve.laplacian_energy_bands(images, 4)
    assert bands.shape == (4,) and bands.sum().item() == pytest.approx(laplacian_variance(images).mean().item())
    assert bench_realism_curve.laplacian_energy_bands(images.float() / 127.5 - 1, 4) == pytest.approx(bands)
    edge = torch.zeros(2, 3, 34, 30, dtype=torch.uint8)
    edge[:, :, 3:7, 10:20] = 200  # a bar whose edges lie in the top band of the valid rows (0-7 of 32)
    energy = bench_realism_curve.laplacian_energy_bands(edge, 4)
    assert energy[0] > 0 and energy[0] > 10 * energy[1:].max()
    with pytest.raises(ValueError, match="non-empty"):
        bench_realism_curve.laplacian_energy_bands(images[:0], 4)
    with pytest.raises(ValueError, match="bands must be 1 to 32"):
        bench_realism_curve.laplacian_energy_bands(images, 33)  # an empty band would divide 0 by 0
