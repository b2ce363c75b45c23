"""The whole method within a time budget, on a corpus it makes: what `voice2face demo` runs.

Two routes (``route``):

- ``"wplus"`` (the paper's route; it needs a bundled model of that route, which the package does
  not ship yet, see issue 14): the bundled model's pretrained face generator and
  its projector are reused, and only the voice side learns: synthvox corpus → stage 1 (voice
  encoder from nothing) → the corpus's training faces projected into the generator's W+ → voice→W+
  mapper (encoder fine-tuned) → evaluation beside the reference rows → HTML report → portraits.
  The faces are faces from the first minute; what the demo shows learning is whether they follow
  the voice (sex, age, the voice-revealed traits).
- ``"conditional"`` (the default): the from-scratch conditional StyleGAN2 of Wen et al.'s protocol
  (stage 2 trains the generator on the corpus); within minutes on 2 CPU cores it draws colour blobs.

Training stops at its share of the budget with a snapshot; evaluation is trimmed to the metrics
and reference rows the verdict needs, so the demo finishes close to ``minutes`` on 2 CPU cores.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from voice2face.errors import CheckpointError, ConfigError

ROUTES = ("wplus", "conditional")
# Shares of the budget left after the corpus is made. wplus: encoder, then mapper; the rest is kept
# for evaluation, report and portraits. conditional: encoder, then generator.
SHARES = {"wplus": (0.35, 0.3), "conditional": (0.2, 0.65)}
# What the demo's evaluation measures: the verdict's figures (realism, traits against the oracle
# rows, identity) without the slow extras (Fréchet distances, PPL, the σ 2 px blur row).
DEMO_METRICS = ("realism", "traits", "identity")
DEMO_REFERENCES = ("real", "blurred_real_1.2", "oracle_voice", "oracle_sex")


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put everything."""

    corpus: Path
    encoder_run: Path
    run: Path
    report: Path
    portraits: tuple[Path, ...]
    evaluation: str
    notes: tuple[str, ...] = ()


def _stopped_short(stage: str, run: Path, planned: float, unit: str) -> str | None:
    """A sentence when ``run`` stopped (at its time budget) before its planned length, else None."""
    from voice2face.evaluation import read_snapshot

    snapshot = read_snapshot(run / "model")
    done = snapshot["kimg"] if unit == "kimg" else snapshot["step"]
    if done is None or done >= planned - 1e-6:
        return None
    return (f"{stage} stopped at {done:g}/{planned:g} {unit} when its share of the time ran out: results will be "
            "weaker than a full run's; give more --minutes.")  # fmt: skip


def _pretrained_parts() -> Path:
    """The bundled model folder, if it holds a pretrained generator with its mapper and projector."""
    from voice2face.checkpoint import read_model_config
    from voice2face.inference.pipeline import bundled_model_dir
    from voice2face.training.projection import PROJECTOR_FILE

    folder = bundled_model_dir()
    if not (folder / "config.json").is_file():
        raise CheckpointError(f"No bundled model in {folder}; build it with scripts/build_bundled_model.py --install.")
    config = read_model_config(folder)
    if config.mapper is None or not (folder / PROJECTOR_FILE).is_file():
        raise CheckpointError(
            f"The bundled model in {folder} has no pretrained generator with a projector; use --route conditional "
            "or rebuild it with scripts/build_bundled_model.py --route wplus --install."
        )
    return folder


def run_demo(
    out_dir: str | Path = "demo",
    *,
    minutes: float = 10.0,
    identities: int = 200,
    seed: int = 0,
    route: str = "conditional",
    progress: bool = True,
) -> DemoResult:
    """Run the method into ``out_dir`` (which must not hold an earlier demo) in about ``minutes``."""
    from voice2face.config import EvaluationConfig, SynthVoxConfig
    from voice2face.data.synthvox import generate_corpus
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.inference.pipeline import VoiceToFace
    from voice2face.inference.portrait import write_portraits
    from voice2face.report import build_report
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_encoder, train_generator, train_mapper

    if minutes <= 0:
        raise ConfigError(f"--minutes must be positive, got {minutes:g}.")
    if route not in ROUTES:
        raise ConfigError(f"--route must be one of {', '.join(ROUTES)}, got {route!r}.")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"Demo folder {out} is not empty; choose a new --out folder or remove it.")
    pretrained = _pretrained_parts() if route == "wplus" else None
    start = time.monotonic()
    corpus = out / "corpus"
    generate_corpus(corpus, SynthVoxConfig(identities=identities, seed=seed), progress=progress)
    left = minutes * 60 - (time.monotonic() - start)
    cache = out / "cache"
    encoder_share, second_share = SHARES[route]
    encoder_run = train_encoder(
        "synthvox-quick", corpus, out / "runs", seed=seed, cache_dir=cache,
        time_budget_s=max(10.0, encoder_share * left), progress=progress,
    )  # fmt: skip
    quick = get_preset("synthvox-quick")
    notes = [_stopped_short("stage 1 (voice encoder)", encoder_run, quick.encoder.steps, "steps")]
    left = minutes * 60 - (time.monotonic() - start)
    second_budget = max(10.0, second_share / (1 - encoder_share) * left)
    if route == "wplus":
        preset = get_preset("synthvox-wplus-64")
        preset = dataclasses.replace(preset, mapper=dataclasses.replace(preset.mapper, attribute_weight=1.0))
        run = train_mapper(
            preset, corpus, out / "runs", generator=pretrained, encoder=encoder_run, seed=seed, cache_dir=cache,
            time_budget_s=second_budget, progress=progress,
        )  # fmt: skip
        notes.append(_stopped_short("the voice→W+ stage", run, preset.mapper.steps, "steps"))
    else:
        run = train_generator(
            "synthvox-quick", corpus, out / "runs", encoder=encoder_run, seed=seed, cache_dir=cache,
            time_budget_s=second_budget, progress=progress,
        )  # fmt: skip
        notes.append(_stopped_short("stage 2 (face generator)", run, quick.gan.kimg, "kimg"))
    config = EvaluationConfig(metrics=DEMO_METRICS, references=DEMO_REFERENCES)
    summary = evaluate_model(run, corpus, config=config, cache_dir=cache, progress=progress)
    title = "voice2face demo (synthvox, " + ("the paper's route)" if route == "wplus" else "conditional GAN)")
    report = build_report([run], out / "report.html", title=title)
    pipe = VoiceToFace.from_pretrained(run)
    portraits = write_portraits(pipe, [corpus / "examples"], out / "portraits", progress=False)
    return DemoResult(corpus, encoder_run, run, report, tuple(portraits.written), format_table(summary),
                      tuple(note for note in notes if note))  # fmt: skip
