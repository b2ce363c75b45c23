"""The whole pipeline from nothing, within a time budget: what `voice2face demo` runs.

synthvox corpus → stage 1 (voice encoder) → stage 2 (face generator) → evaluation beside the
corpus ceiling and chance → HTML report → portraits of the corpus's example voices. Training
stops at its share of the budget with a snapshot, so the demo finishes on time on 2 CPU cores;
what it learns in that time is what the report shows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from voice2face.errors import ConfigError

# Shares of the budget left after the corpus is made; the rest is kept for evaluation, report
# and portraits (about a minute on 2 cores).
ENCODER_SHARE, GENERATOR_SHARE = 0.2, 0.65


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put everything."""

    corpus: Path
    encoder_run: Path
    run: Path
    report: Path
    portraits: tuple[Path, ...]
    evaluation: str


def run_demo(
    out_dir: str | Path = "demo", *, minutes: float = 10.0, identities: int = 200, seed: int = 0, progress: bool = True
) -> DemoResult:
    """Run the pipeline into ``out_dir`` (which must not hold an earlier demo) in about ``minutes``."""
    from voice2face.config import SynthVoxConfig
    from voice2face.data.synthvox import generate_corpus
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.inference.pipeline import VoiceToFace
    from voice2face.inference.portrait import write_portraits
    from voice2face.report import build_report
    from voice2face.training.runner import train_encoder, train_generator

    if minutes <= 0:
        raise ConfigError(f"--minutes must be positive, got {minutes:g}.")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"Demo folder {out} is not empty; choose a new --out folder or remove it.")
    start = time.monotonic()
    corpus = out / "corpus"
    generate_corpus(corpus, SynthVoxConfig(identities=identities, seed=seed), progress=progress)
    left = minutes * 60 - (time.monotonic() - start)
    cache = out / "cache"
    encoder_budget = max(10.0, ENCODER_SHARE * left)
    encoder_run = train_encoder(
        "synthvox-quick", corpus, out / "runs", seed=seed, cache_dir=cache, time_budget_s=encoder_budget,
        progress=progress,
    )  # fmt: skip
    left = minutes * 60 - (time.monotonic() - start)
    run = train_generator(
        "synthvox-quick", corpus, out / "runs", encoder=encoder_run, seed=seed, cache_dir=cache,
        time_budget_s=max(10.0, GENERATOR_SHARE / (1 - ENCODER_SHARE) * left), progress=progress,
    )  # fmt: skip
    summary = evaluate_model(run, corpus, cache_dir=cache, progress=progress)
    report = build_report([run], out / "report.html", title="voice2face demo (synthvox)")
    pipe = VoiceToFace.from_pretrained(run)
    portraits = write_portraits(pipe, [corpus / "examples"], out / "portraits", progress=False)
    return DemoResult(corpus, encoder_run, run, report, tuple(portraits.written), format_table(summary))
