"""The whole method within a time budget, on a corpus it makes: what `voice2face demo` runs.

Two routes (``route``):

- ``"wplus"`` (the default; the paper's route): the bundled model's pretrained face generator and
  its mapper's reader are reused, and only the voice side learns: synthvox corpus → stage 1 (voice
  encoder from nothing) → the voice side (encoder fine-tuned to predict what the reader sees on
  each speaker's faces; the voice then selects among the generator's faces) → evaluation beside
  the reference rows → HTML report → portraits. The faces are faces from the first minute; what
  the demo shows learning is whether they follow the voice (sex, age, the voice-revealed traits).
- ``"conditional"``: the from-scratch conditional StyleGAN2 of Wen et al.'s protocol (stage 2
  trains the generator on the corpus); within minutes on 2 CPU cores it draws colour blobs.

``minutes`` is a budget for the whole command. In its first seconds the demo times a small fixed
workload (:func:`machine_speed`) against the reference machine's time for it, estimates from the
reference costs (:data:`REFERENCE`, measured by benchmarks/bench_demo.py) what the corpus, the
evaluation, the report and the portraits will take here, and gives the training stages what is
left (:func:`plan_demo`). On the default corpus (200 people, seed 0) the evaluation's trait
read-out comes trained with the package (:data:`INSTRUMENTS_DIR`), as a dataset's FID statistics
do: the same network `evaluate` trains, minutes of a 10-minute budget. When training would get
too little, the demo drops parts of the evaluation (:data:`EVALUATION_CUTS`, in order: the
identity metrics, the linear probe of the voice embedding, the blurred and the real reference
rows; the verdict needs none of them), says so, and warns at once when even then training gets
less than a meaningful result needs. Training stops at its share with a snapshot, and a stage
that stopped short of its target says so.

A machine shared with other work can slow down after the first seconds. So the demo measures its
speed again as it goes: after stage 1 from the steps it made in its time (against the reference
machine's seconds per step), and before each later part with the probe again; with the slowest
figure so far it re-estimates what the rest costs, shortens the voice side and cuts more of the
evaluation (:func:`fit_evaluation`; now also the oracle rows, and with them the trait score) to
end on time, and says what it cut.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

from voice2face.config import SynthVoxConfig
from voice2face.errors import CheckpointError, ConfigError
from voice2face.recipes.routes import DEFAULT_ROUTE, DEMO_MINUTES, ROUTES, stage1_preset, voice_side_preset
from voice2face.storage.instruments import shipped_corpus, shipped_instrument_files
from voice2face.storage.layout import shipped_instruments_dir

log = logging.getLogger(__name__)

_CORPUS = SynthVoxConfig()  # the default synthvox corpus: the demo's by default
# How the training time (what the plan leaves after the corpus, the evaluation, the report and the
# portraits) is shared. wplus: encoder, then mapper; conditional: encoder, then generator.
SHARES = {"wplus": (0.5, 0.5), "conditional": (0.25, 0.75)}
# What the demo's evaluation measures: the verdict's figures (realism, traits against the oracle
# rows, identity) without the slow extras (Fréchet distances, PPL, the σ 2 px blur row).
DEMO_METRICS = ("realism", "traits", "identity")
DEMO_REFERENCES = ("real", "blurred_real_1.2", "oracle_voice_mode", "oracle_sex")
#: Instruments shipped for the demo's default corpus (the synthvox corpus recorded beside them,
#: :func:`voice2face.storage.instruments.shipped_corpus`: people, seed, px and manifest hash):
#: the face-trait read-out that `voice2face evaluate` trains on that corpus's real training faces
#: (40 epochs, several minutes on 2 cores), saved under the very cache key the evaluation computes,
#: so it is found as a cached instrument and is the same network. Like a dataset's shipped FID
#: reference statistics, it is fixed by the corpus alone, never by a model; the slow test
#: tests/test_bundled_model.py retrains it from nothing on a regenerated corpus and compares.
#: ``scripts/build_bundled_model.py --install`` ships it with the bundle, for the bundle's corpus.
INSTRUMENTS_DIR = shipped_instruments_dir()


@dataclass(frozen=True)
class DemoCosts:
    """Seconds that parts of a demo take on one machine (all for a 200-identity corpus, cold caches).

    probe_s: :func:`machine_speed`'s fixed workload. corpus_s: making the corpus. evaluation_s:
    the demo's evaluation without the identity metrics, its trait read-out already trained;
    instruments_s: training that read-out (saved when the corpus is the one the shipped
    instruments were made for); identity_s: what the identity metrics add; voice_probe_s: what
    the linear probe of the voice embedding adds (it embeds every training utterance);
    reference_row_s: what each of the real and the blurred reference rows adds; oracle_rows_s: what
    the two oracle rows add (rendered, then scored). tail_s: the report
    and the portraits. min_training_s: {route: the training time that the reference result (issue
    14's demo floors: sex agreement 0.9 and more) needs}. encoder_step_s: {route: stage 1's seconds
    per step, its set-up included} (the demo's measure of its speed as it runs). closing_s: what a training
    stage spends after its time is up ({"encoder": stage 1, "second": the voice side or stage 2}: the
    step in progress, the last validation and snapshot; the voice side's fits its shortlist read-out
    on 2,048 rendered faces), taken off the stage's budget.
    """

    probe_s: float
    corpus_s: float
    evaluation_s: float
    identity_s: float
    tail_s: float
    min_training_s: dict[str, float]
    instruments_s: float = 0.0
    voice_probe_s: float = 0.0
    reference_row_s: float = 0.0
    oracle_rows_s: float = 0.0
    encoder_step_s: dict[str, float] = dataclasses.field(default_factory=dict)
    closing_s: dict[str, float] = dataclasses.field(default_factory=dict)


#: Measured on the reference machine (2 idle x86_64 cores, torch 2.13 CPU) with benchmarks/bench_demo.py
#: (2026-12-03, wplus, 200 people): probe 0.29 s; corpus 26 s; evaluation without the identity
#: metrics and the voice probe, the trait read-out shipped, 78 s (realism 48 s of it); report and
#: portraits 5 s; stage 1, 200 steps in 169 s. Derived from the earlier run of the same day, whose
#: evaluation trained the read-out and fitted the voice probe (622 s, realism 458 s): training the
#: read-out 410 s (458 − 48), the voice probe 133 s (its non-metric 161 s − this run's 28 s).
#: reference_row_s: the demo's evaluation with and without the real and blurred rows (same run, same
#: load: 289 s and 235 s, the machine 3.7x slower than the reference for the whole evaluation): 8 s a row.
#: Since the bundled generator draws 128 px (issue 31; 2026-12-07, the same bench): the corpus, its
#: faces now drawn at 128 px, 32-33 s in two runs; the evaluation 115 s with the machine 1.4x slower
#: than the reference after stage 1 (realism 80 s of it): 82 s at the reference speed. That run's
#: whole demo took 620 s of its 600 (stage 1 168/200 steps, the voice side 154/1000).
#: Again with the voice side calibrated on single recordings (2026-12-07, the machine 1.6x slower from
#: the start): 578 s (stage 1 139/200, the voice side 155/1000, evaluation 65 s with the rows cut).
#: closing_s: a demo beside a CI run (5.5x slower after stage 1) overran stage 1's budget by 25 s and the
#: voice side's by 69 s: about 5 s and 12 s at the reference speed.
#: oracle_rows_s: a demo under load (4.7x slower) spent 173 s on the realism of three rows (the model
#: and the two oracles), 12 s a row at the reference speed; with the rendering of the oracle faces, 30 s.
#: identity_s is estimated from the bundled model's evaluation (identity embedder trained from
#: nothing, oracle rows scored). min_training_s: wplus, 266 s of training (stage 1 at 192/200 steps,
#: the voice side at 184/600) gave faces (two-sample accuracy 0.84) whose sex followed the voice for
#: only 0.84 (trait score 0.51), under issue 14's 0.9: the plan gives the training at least 420 s,
#: cutting parts of the evaluation first; conditional, 10 minutes of training are what the
#: synthvox-quick stages were sized for. encoder_step_s: wplus, the label-free stage 1 (voicing rows:
#: features cost more) ran 158 steps in 155.4 s on idle cores (2026-12-06, load average 0.5 at the
#: start; the 0.845 s of the labelled route's stage 1 made the demo think the machine 1.2x slow and cut
#: the identity metrics and the voice probe); conditional, synthvox-quick's 200 steps in 169 s.
REFERENCE = DemoCosts(probe_s=0.29, corpus_s=32.0, evaluation_s=82.0, identity_s=120.0, tail_s=5.0,
                      min_training_s={"wplus": 420.0, "conditional": 600.0}, instruments_s=410.0,
                      voice_probe_s=133.0, reference_row_s=8.0, oracle_rows_s=30.0,
                      encoder_step_s={"wplus": 0.98, "conditional": 0.845},
                      closing_s={"encoder": 5.0, "second": 12.0})  # fmt: skip

#: What the demo leaves out of its evaluation when time is short, in this order: the identity
#: metrics, the linear probe of the voice embedding, the blurred and the real reference rows; and,
#: only once the run is already late (a machine that slowed down after the start), the two oracle
#: rows and with them the voice-revealed trait score. The realism and the sex of the model's faces
#: are always measured.
EVALUATION_CUTS = ("identity", "voice_probe", "blurred_real_1.2", "real", "oracles")
ORACLE_ROWS = ("oracle_voice_mode", "oracle_sex")


@dataclass(frozen=True)
class EvaluationPlan:
    """What the demo's evaluation measures: ``metrics``, the reference ``rows``, and whether it
    fits the linear probe of the voice embedding."""

    metrics: tuple[str, ...] = DEMO_METRICS
    rows: tuple[str, ...] = DEMO_REFERENCES
    voice_probe: bool = True

    def seconds(self, slowdown: float, identities: int, costs: DemoCosts = REFERENCE,
                instruments_shipped: bool = False) -> float:  # fmt: skip
        """Estimated seconds of this evaluation, the report and the portraits on a machine
        ``slowdown`` times slower than the reference, for a corpus of ``identities`` people."""
        total = costs.evaluation_s + (0.0 if instruments_shipped else costs.instruments_s)
        total += costs.identity_s if "identity" in self.metrics else 0.0
        total += costs.voice_probe_s if self.voice_probe else 0.0
        total -= costs.reference_row_s * sum(row not in self.rows for row in ("real", "blurred_real_1.2"))
        total -= costs.oracle_rows_s if not set(ORACLE_ROWS) & set(self.rows) else 0.0
        return _scale(slowdown, identities) * total + slowdown * costs.tail_s

    def cut(
        self, slowdown: float, identities: int, costs: DemoCosts = REFERENCE, *, oracles: bool = False
    ) -> tuple[EvaluationPlan, str] | None:
        """The plan without the next part of :data:`EVALUATION_CUTS` it still holds, and a sentence
        saying so (None when nothing is left to cut); the oracle rows only when ``oracles``."""
        scale = _scale(slowdown, identities)
        if "identity" in self.metrics:
            return dataclasses.replace(self, metrics=tuple(m for m in self.metrics if m != "identity")), (
                f"the identity metrics (1:2 matching, recall@K) are left out of the evaluation to save "
                f"{_about(scale * costs.identity_s)}; run `voice2face evaluate` on the run for them"
            )
        if self.voice_probe:
            return dataclasses.replace(self, voice_probe=False), (
                f"the linear probe of the voice embedding (age R², sex) is left out of the evaluation to save "
                f"{_about(scale * costs.voice_probe_s)}; `voice2face evaluate` on the run measures it"
            )
        for row in EVALUATION_CUTS[2:4]:
            if row in self.rows:
                return dataclasses.replace(self, rows=tuple(r for r in self.rows if r != row)), (
                    f"the {row} reference row is left out of the evaluation to save "
                    f"{_about(scale * costs.reference_row_s)}; `voice2face evaluate` on the run scores it"
                )
        if oracles and set(ORACLE_ROWS) & set(self.rows):
            return dataclasses.replace(self, rows=tuple(r for r in self.rows if r not in ORACLE_ROWS)), (
                f"the oracle rows, and with them the voice-revealed trait score, are left out of the evaluation to "
                f"save {_about(scale * costs.oracle_rows_s)}; `voice2face evaluate` on the run scores them"
            )
        return None


def _scale(slowdown: float, identities: int) -> float:
    """The corpus and the evaluation grow with the people in the corpus."""
    return slowdown * max(identities, 24) / 200


def _about(seconds: float) -> str:
    return f"about {seconds / 60:.0f} min" if seconds >= 90 else f"about {seconds:.0f} s"


def fit_evaluation(
    seconds: float, evaluation: EvaluationPlan, slowdown: float, identities: int, costs: DemoCosts = REFERENCE,
    *, instruments_shipped: bool = False, oracles: bool = False,
) -> tuple[EvaluationPlan, list[str]]:  # fmt: skip
    """Cut ``evaluation`` (in the order of :data:`EVALUATION_CUTS`; the oracle rows only when
    ``oracles``) until its estimate fits ``seconds`` or nothing is left to cut; returns the plan
    and the sentences of its cuts."""
    cuts = []
    while evaluation.seconds(slowdown, identities, costs, instruments_shipped) > seconds:
        step = evaluation.cut(slowdown, identities, costs, oracles=oracles)
        if step is None:
            break
        evaluation, text = step
        cuts.append(text)
    return evaluation, cuts


@dataclass(frozen=True)
class DemoPlan:
    """How a demo spends its budget: ``slowdown`` (this machine's probe time over the reference's),
    the estimated seconds of the fixed parts, what is left for ``training_s``, the ``evaluation``
    kept, what was cut and why (``cuts``), and a ``warning`` when training gets too little."""

    slowdown: float
    fixed_s: float
    training_s: float
    evaluation: EvaluationPlan
    cuts: tuple[str, ...]
    warning: str | None


def machine_speed(repeats: int = 5) -> float:
    """Seconds this machine takes for a small fixed workload (a conv net's forward and backward
    passes on a fixed batch, on the threads torch uses here): the median of ``repeats`` runs (on a
    machine shared with other work the fastest run would promise more than the next minutes give)."""
    import statistics

    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 1))  # fmt: skip
        batch = torch.randn(32, 3, 64, 64)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(4):
            net.zero_grad()
            net(batch).sum().backward()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plan_demo(
    minutes: float,
    identities: int,
    route: str,
    probe_s: float,
    costs: DemoCosts = REFERENCE,
    *,
    instruments_shipped: bool = False,
) -> DemoPlan:
    """Split ``minutes`` between the fixed parts and training, for a machine whose probe took
    ``probe_s``; ``instruments_shipped``: the corpus's trait read-out comes trained (no training
    time for it). Parts of the evaluation are cut while training would get less than it needs."""
    slowdown = max(probe_s / costs.probe_s, 0.1)
    budget = minutes * 60
    corpus = _scale(slowdown, identities) * costs.corpus_s
    needed = slowdown * costs.min_training_s[route]
    evaluation, cuts = fit_evaluation(budget - corpus - needed, EvaluationPlan(), slowdown, identities, costs,
                                      instruments_shipped=instruments_shipped)  # fmt: skip
    fixed = corpus + evaluation.seconds(slowdown, identities, costs, instruments_shipped)
    training = max(budget - fixed, 0.0)
    warning = None
    if training < needed:
        enough = math.ceil((fixed + needed) / 60)
        warning = (
            f"this machine runs the reference workload at {1 / slowdown:.2f}x the reference speed, so {minutes:g} "
            f"minutes leave about {training / 60:.1f} min for training, under the {needed / 60:.1f} min the "
            f"reference result needs here: expect weaker results (near chance with little training), or give "
            f"--minutes {enough}."
        )
    return DemoPlan(slowdown, fixed, training, evaluation, tuple(cuts), warning)


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
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # wall time of each part, and the plan


def stopped_short(stage: str, run: Path, planned: float, unit: str) -> str | None:
    """A sentence when ``run`` stopped (at its time budget) before its planned length, else None."""
    from voice2face.storage import RunFolder

    snapshot = RunFolder(run).model.snapshot()
    done = snapshot["kimg"] if unit == "kimg" else snapshot["step"]
    if done is None or done >= planned - 1e-6:
        return None
    return (f"{stage} stopped at {done:g}/{planned:g} {unit} when its share of the time ran out: results will be "
            "weaker than a full run's; give more --minutes.")  # fmt: skip


def _steps_done(run: Path) -> int:
    """The steps a training run's snapshot has made (0 when it records none)."""
    from voice2face.storage import RunFolder

    return int(RunFolder(run).model.snapshot()["step"] or 0)


def _pretrained_parts() -> Path:
    """The bundled model folder, if it holds the paper's route: a pretrained unconditional generator
    with a voice side (whose generator the demo's voice side chooses among)."""
    from voice2face.storage import ModelFolder

    bundled = ModelFolder.bundled()
    folder = bundled.path
    if not bundled.exists:
        raise CheckpointError(f"No bundled model in {folder}; build it with scripts/build_bundled_model.py --install.")
    if bundled.config().mapper is None:
        raise CheckpointError(
            f"The bundled model in {folder} has no pretrained unconditional generator; use --route conditional "
            "or rebuild it with scripts/build_bundled_model.py --route wplus --install."
        )
    return folder


def _resolution(model_dir: Path) -> int:
    """The px of the faces the model in ``model_dir`` draws."""
    from voice2face.storage import ModelFolder

    return ModelFolder(model_dir).config().generator.img_resolution


def run_demo(
    out_dir: str | Path = "demo",
    *,
    minutes: float = DEMO_MINUTES,
    identities: int = _CORPUS.identities,
    seed: int = _CORPUS.seed,
    route: str = DEFAULT_ROUTE,
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
    # The corpus's faces at the resolution of the faces the demo's model draws (the instruments read it).
    resolution = _resolution(pretrained) if pretrained is not None else _CORPUS.resolution
    start = time.monotonic()
    deadline = start + minutes * 60
    probe = machine_speed()
    default_corpus = (identities, seed, resolution) == shipped_corpus().settings
    shipped = shipped_instrument_files(INSTRUMENTS_DIR) if default_corpus else []
    plan = plan_demo(minutes, identities, route, probe, instruments_shipped=bool(shipped))
    seconds = {"probe": probe, "planned_training": plan.training_s, "planned_fixed": plan.fixed_s}
    mark = time.monotonic()

    def lap(part: str) -> None:
        nonlocal mark
        now = time.monotonic()
        seconds[part] = now - mark
        mark = now

    log.info("demo plan: machine %.2fx slower than the reference; about %.0f s for training, %.0f s for the rest",
             plan.slowdown, plan.training_s, plan.fixed_s)  # fmt: skip
    notes: list[str | None] = [*plan.cuts]
    for cut in plan.cuts:
        log.warning("to fit %g minutes, %s.", minutes, cut)
    if plan.warning:
        log.warning(plan.warning)
        notes.append(plan.warning)
    slowdown, evaluation = plan.slowdown, plan.evaluation

    def evaluation_s() -> float:  # what the evaluation, the report and the portraits will take, as of now
        return evaluation.seconds(slowdown, identities, instruments_shipped=bool(shipped))

    def closing(stage: str) -> float:  # what a stage spends after its time is up, as of now
        return slowdown * REFERENCE.closing_s.get(stage, 0.0)

    def refit(seconds_left: float, when: str) -> None:  # cut the evaluation to fit, and say so
        nonlocal evaluation
        evaluation, cuts = fit_evaluation(seconds_left, evaluation, slowdown, identities,
                                          instruments_shipped=bool(shipped), oracles=True)  # fmt: skip
        for cut in cuts:
            text = f"{when} the machine ran {slowdown:.1f}x slower than the reference, so {cut}"
            log.warning("%s.", text)
            notes.append(text)

    corpus = out / "corpus"
    generate_corpus(corpus, SynthVoxConfig(identities=identities, seed=seed, resolution=resolution), progress=progress)
    lap("corpus")
    cache = out / "cache"
    encoder_share, second_share = SHARES[route]
    left = deadline - evaluation_s() - time.monotonic()
    stage1 = stage1_preset(route)
    encoder_run = train_encoder(
        stage1, corpus, out / "runs", seed=seed, cache_dir=cache,
        time_budget_s=max(10.0, encoder_share / (encoder_share + second_share) * left - closing("encoder")),
        progress=progress,
    )  # fmt: skip
    lap("encoder")
    first = get_preset(stage1)
    notes.append(stopped_short("stage 1 (voice encoder)", encoder_run, first.encoder.steps, "steps"))
    # The machine's speed as stage 1 found it (its steps in its time), and as the probe finds it now.
    steps = _steps_done(encoder_run)
    if steps:
        slowdown = max(slowdown, seconds["encoder"] / (steps * REFERENCE.encoder_step_s[route]))
    slowdown = max(slowdown, machine_speed() / REFERENCE.probe_s)
    seconds["slowdown_after_stage_1"] = slowdown
    left = deadline - time.monotonic()
    refit(left / 2, "after stage 1")  # the voice side keeps at least half of what is left
    second_budget = max(10.0, left - evaluation_s() - closing("second"))
    if route == "wplus":
        preset = voice_side_preset()
        run = train_mapper(
            preset, corpus, out / "runs", generator=pretrained, encoder=encoder_run, seed=seed, cache_dir=cache,
            time_budget_s=second_budget, progress=progress,
        )  # fmt: skip
        notes.append(stopped_short("the voice side", run, preset.mapper.steps, "steps"))
    else:
        run = train_generator(
            stage1, corpus, out / "runs", encoder=encoder_run, seed=seed, cache_dir=cache,
            time_budget_s=second_budget, progress=progress,
        )  # fmt: skip
        notes.append(stopped_short("stage 2 (face generator)", run, first.gan.kimg, "kimg"))
    lap("second_stage")
    slowdown = max(slowdown, machine_speed() / REFERENCE.probe_s)
    seconds["slowdown_before_evaluation"] = slowdown
    refit(deadline - time.monotonic(), "before the evaluation")
    config = EvaluationConfig(
        metrics=evaluation.metrics, references=evaluation.rows, voice_probe=evaluation.voice_probe
    )
    cache.mkdir(parents=True, exist_ok=True)
    for instrument in shipped:  # evaluate_model takes them into this cache; used where their keys match
        log.info("evaluation instrument shipped for this corpus: %s", instrument.name)
    before = {path.name for path in cache.glob("trait-net-*.npz")}
    summary = evaluate_model(run, corpus, config=config, cache_dir=cache, progress=progress)
    # evaluate_model copies a shipped read-out into the cache; only a read-out it trained is news
    trained = {path.name for path in cache.glob("trait-net-*.npz")} - before - {path.name for path in shipped}
    if shipped and trained:
        notes.append(
            "the shipped trait read-out did not match this corpus (made on another machine or version?), so the "
            "evaluation trained its own: the demo took longer than planned."
        )
    lap("evaluation")
    seconds.update({f"evaluation_{name}": value for name, value in summary.get("seconds", {}).items()})
    title = "voice2face demo (synthvox, " + ("the paper's route)" if route == "wplus" else "conditional GAN)")
    report = build_report([run], out / "report.html", title=title)
    pipe = VoiceToFace.from_pretrained(run)
    portraits = write_portraits(pipe, [corpus / "examples"], out / "portraits", progress=False)
    lap("tail")
    seconds["total"] = time.monotonic() - start
    return DemoResult(corpus, encoder_run, run, report, tuple(portraits.written), format_table(summary),
                      tuple(note for note in notes if note), {k: round(v, 1) for k, v in seconds.items()})  # fmt: skip
