"""Reproduce the model bundled with voice2face (``src/voice2face/assets/model/``) from nothing.

    .venv/bin/python scripts/build_bundled_model.py [--work build/bundled-model] [--install]

Two routes (``--route``), all steps deterministic for a given seed on CPU:

``wplus`` (the paper's route, issue 14; the bundle the package ships, built with ``--encoder-steps 600
--mapper-steps 1500``; not the default of ``--route``, which keeps earlier commands meaning what they did):

1. generate the evaluation corpus (synthvox, ``--identities`` people, ``--seed``) and train the
   stage-1 voice encoder of ``--preset`` on its training identities (or take ``--encoder``);
2. pretrain an unconditional StyleGAN2 (``synthface-64``) on ``--face-count`` unpaired faces to
   ``--pretrain-kimg`` (or take ``--generator``): the long part, hours on 2 CPU cores, resumed
   where an earlier run of the same settings in WORK/runs stopped;
3. generate the voice corpus (``--voice-identities`` other people, ``--voice-seed``), project its
   training faces into the generator's W+ and train the voice side (encoder fine-tuned, voice→W+
   mapper; ``synthvox-wplus-64``), continuing an unfinished run of the same settings;
4. evaluate on the evaluation corpus's test identities and write ``WORK/bundle/``: encoder,
   mapper, generator (EMA), the projector, ``model_card.md`` and ``provenance.json``.

``conditional`` (the default of ``--route``; the earlier bundle, Wen et al.'s protocol):

1. generate a synthvox corpus (``--identities`` people, ``--seed``);
2. stage 1: train the voice encoder of ``--preset`` for ``--encoder-steps`` steps;
3. stage 2: train the face generator to ``--kimg`` thousand images, in chunks of
   ``--select-every`` kimg; after each chunk the sex agreement of the generated faces with the
   *validation* identities' voices is measured and the best snapshot so far is kept (early
   stopping on validation data: GAN snapshots differ a lot from one to the next);
4. evaluate that snapshot on the corpus's test identities and write ``WORK/bundle/``: the voice
   encoder and the EMA generator (no discriminator or trainer state, so it stays small).

Both also write ``WORK/examples/``: a few test-split voices (unseen in training) spanning sex and age.

``--install`` then copies both into the package (``assets/model/`` and ``assets/examples/``),
replacing the previous bundled model atomically.
Work already done in WORK (corpus, runs) is reused when its settings match.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_ASSETS = REPO / "src" / "voice2face" / "assets"
SAMPLES_PER_VOICE = 4
RESUME_GAP_S = 600.0
PRETRAIN_PRESET, MAPPER_PRESET = "synthface-64", "synthvox-wplus-64"
PRETRAIN_S_PER_KIMG = 35  # synthface-64 on one core with the fast ops: 25-45 s/kimg (benchmarks/README.md)
FACE_SEED = 1000  # the unpaired face corpus's seed (synth-faces' default): other people than any voice corpus


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=REPO / "build" / "bundled-model", help="working folder")
    parser.add_argument("--preset", default="synthvox-quick", help="training preset (default synthvox-quick)")
    parser.add_argument("--identities", type=int, default=200, help="synthvox identities (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="corpus and training seed (default 0)")
    parser.add_argument("--encoder-steps", type=int, default=None, help="stage-1 steps (default: the preset's)")
    parser.add_argument("--kimg", type=float, default=None, help="stage-2 length in kimg (default: the preset's)")
    parser.add_argument("--select-every", type=float, default=5.0, help="kimg between validation checks (default 5)")
    parser.add_argument(
        "--route", choices=("wplus", "conditional"), default="conditional",
        help="conditional (default; the earlier bundle): a conditional StyleGAN2 trained from nothing on the corpus; "
        "wplus (the bundle shipped now): the paper's route, a pretrained unconditional StyleGAN2 and a voice→W+ mapper",
    )  # fmt: skip
    wplus = parser.add_argument_group("the paper's route (--route wplus)")
    wplus.add_argument(
        "--generator", type=Path,
        help="a pretrained synthface-64 model or run folder to use (default: pretrain one in WORK/runs to "
        "--pretrain-kimg, continuing an earlier one)",
    )  # fmt: skip
    wplus.add_argument("--pretrain-kimg", type=float, default=None, help="pretraining length (default: the preset's)")
    wplus.add_argument("--face-count", type=int, default=30000, help="unpaired faces to pretrain on (default 30000)")
    wplus.add_argument("--encoder", type=Path, help="a voice encoder model or run folder to start the voice side "
                       "from (default: stage 1 of --preset on the evaluation corpus)")  # fmt: skip
    wplus.add_argument(
        "--voice-identities",
        type=int,
        default=1225,
        help="synthvox people the voice side learns from (default 1225, the paper's scale)",
    )
    wplus.add_argument(
        "--voice-seed",
        type=int,
        default=1,
        help="that corpus's seed (default 1: other people than the evaluation corpus's)",
    )
    wplus.add_argument("--mapper-steps", type=int, default=None, help="voice→W+ steps (default: the preset's)")
    wplus.add_argument(
        "--attribute-weight",
        type=float,
        default=1.0,
        help="weight of the sex/age read-out on the voice embedding (default 1.0)",
    )
    parser.add_argument("--install", action="store_true", help="copy the result into src/voice2face/assets/")
    parser.add_argument(
        "--remeasure", action="store_true",
        help="only evaluate the installed bundled model again and rewrite its card's evaluation and provenance.json",
    )  # fmt: skip
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def _as_saved(config) -> dict:
    """A config dataclass as it reads back from a JSON file (tuples become lists)."""
    from voice2face.config import to_dict

    return json.loads(json.dumps(to_dict(config)))


def _settings(saved: dict, length: str) -> dict:
    """A training config in its JSON form without its ``length`` key."""
    return {key: value for key, value in saved.items() if key != length}


def _finished_encoder_run(runs: Path, preset, seed: int, steps: int | None) -> Path | None:
    """A finished stage-1 run in ``runs`` made with this preset's settings, ``seed`` and ``steps``
    (the preset's when None); a run of an older version of the preset is left alone."""
    from voice2face.storage import find_runs

    wanted = _settings(_as_saved(preset.encoder), "steps")
    steps = preset.encoder.steps if steps is None else steps
    for run in find_runs(runs, f"*-{preset.name}-encoder", matching={"seed": seed, "preset": preset.name}):
        saved = run.read_options()
        if run.done and saved.config.get("steps") == steps and _settings(saved.config, "steps") == wanted:
            return run.path
    return None


def _earlier_gan_run(runs: Path, preset, seed: int, encoder_run: Path) -> Path | None:
    """The latest stage-2 run in ``runs`` made with this preset's settings (any length), seed and
    encoder, to be continued; a run of an older version of the preset is left alone."""
    from voice2face.storage import RunFolder, find_runs

    wanted = _settings(_as_saved(preset.gan), "kimg")
    encoder = RunFolder(encoder_run).model.path
    found = None
    for run in find_runs(runs, f"*-{preset.name}", matching={"seed": seed}):
        saved = run.read_options()
        if run.model.exists and Path(saved.encoder or "") == encoder and _settings(saved.config, "kimg") == wanted:
            found = run.path
    return found


def train_with_selection(args, corpus, runs, encoder_run, cache, best_dir, progress):
    """Stage 2 in chunks of ``--select-every`` kimg up to ``--kimg``; after each chunk, sex agreement
    of the generated faces on the *validation* identities (never the test ones) decides whether
    this snapshot becomes ``best_dir`` (inference networks only). Returns (run, [(kimg, val
    agreement)], chosen kimg). An earlier stage-2 run in ``runs`` is continued (resume is exact)."""
    from voice2face.config import EvaluationConfig
    from voice2face.evaluation import evaluate_model
    from voice2face.storage import ModelFolder, RunFolder
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_generator

    preset = get_preset(args.preset)
    total = args.kimg if args.kimg is not None else preset.gan.kimg
    validation = EvaluationConfig(split="val", metrics=("attributes",), samples_per_voice=SAMPLES_PER_VOICE)
    run = _earlier_gan_run(runs, preset, args.seed, encoder_run)
    state = best_dir.parent / "selection.json"  # the checks so far, so a rerun continues them
    saved = json.loads(state.read_text()) if state.is_file() and ModelFolder(best_dir).exists else {}
    judge = _as_saved(validation)
    if run is None or saved.get("run") != str(run) or saved.get("validation") != judge:
        saved = {}  # the checks of another (older) run, or made with another instrument, do not count
    curve: list[tuple[float, float]] = [tuple(point) for point in saved.get("curve", [])]
    best: tuple[float, float] | None = tuple(saved["best"]) if "best" in saved else None
    while True:
        done = RunFolder(run).model.snapshot()["kimg"] if run is not None else 0.0
        if run is not None and not (curve and curve[-1][0] >= round(done, 3)):
            result = evaluate_model(run, corpus, config=validation, cache_dir=cache, write=False, progress=False)
            agreement = float(result["results"]["attributes"]["sex_agreement"])
            curve.append((round(done, 3), round(agreement, 4)))
            print(f"stage 2 at {done:.1f} kimg: sex agreement on validation voices {agreement:.3f}", flush=True)
            if best is None or agreement > best[1]:
                best = (done, agreement)
                model = RunFolder(run).model.load(("voice_encoder", "generator"))
                ModelFolder(best_dir).save(model.modules, dataclasses.replace(model.config, discriminator=None))
            state.write_text(json.dumps({"run": str(run), "validation": judge, "curve": curve, "best": best}) + "\n")
        if done >= total - 1e-6:
            return run, curve, round(best[0], 3)
        target = min(total, done + args.select_every)
        if run is None:
            run = train_generator(
                args.preset, corpus, runs, encoder=encoder_run, kimg=target, seed=args.seed, cache_dir=cache,
                progress=progress,
            )  # fmt: skip
        else:
            run = train_generator(args.preset, corpus, resume=run, kimg=target, cache_dir=cache, progress=progress)


def pick_examples(manifest, per_group: int = 1) -> list:
    """Test-split utterances spanning sex and age: the youngest and oldest speaker of each sex."""
    chosen = []
    test = [i for i in manifest.identities if i.split == "test"]
    utterances_of: dict[str, list] = {}
    for utterance in manifest.utterances_in("test"):
        utterances_of.setdefault(utterance.identity, []).append(utterance)
    for sex in ("female", "male"):
        people = sorted((i for i in test if i.attributes.get("sex") == sex), key=lambda i: i.attributes["age"])
        for person in people[:per_group] + people[-per_group:]:
            longest = max(utterances_of[person.id], key=lambda u: manifest.file(u).stat().st_size)
            chosen.append((person, longest))
    return chosen


def training_seconds(run) -> float:
    """How long a run trained: the time between consecutive ``stats.jsonl`` records, summed, leaving
    out gaps of more than ten minutes (a run stopped and resumed later, e.g. in another session)."""
    from voice2face.storage import RunFolder

    lines = RunFolder(run).stats_path.read_text().splitlines()
    times = [json.loads(line)["time"] for line in lines if line.strip()]
    return sum(b - a for a, b in itertools.pairwise(times) if 0 <= b - a <= RESUME_GAP_S)


def _generator_resolution(options: dict) -> int | str:
    training = options["pretraining"] if options["route"] == "wplus" else options["gan"]
    return training.get("config", {}).get("generator", {}).get("img_resolution", "?")


def _encoder_text(enc: dict) -> str:
    config = enc.get("config", {}).get("encoder", {})
    mfcc = enc.get("config", {}).get("features", {}).get("mfcc", {})
    scaled = "mean-normalised (CMN)" if not mfcc.get("normalize_variance", True) else "mean/variance-normalised"
    normalised = f"per-utterance {scaled}" if mfcc.get("normalize", True) else "unnormalised"
    return (
        f"SE-ResNet18 with Mish, width ×{config.get('width_multiplier', '?')}, {config.get('embedding_dim', '?')}-d "
        f"embedding, on {normalised} MFCC+Δ+ΔΔ"
    )


def _what_it_is(options: dict) -> str:
    """The card's first section: which networks, and what ships."""
    resolution = _generator_resolution(options)
    if options["route"] == "wplus" and _selection(options):
        selection = _selection(options)
        return f"""The paper's route: a voice encoder ({_encoder_text(options["encoder"])}), a voice→W+ mapper
and an unconditional StyleGAN2 generator ({resolution} px, EMA weights) pretrained on unpaired faces. The
encoder turns a recording into an embedding; from it the mapper predicts the traits the face should show
({", ".join(selection["traits"])}). For each random code z it derives {selection["candidates"]} candidate codes,
renders them with the frozen generator, reads their traits with its reader (a small face CNN trained on the
voice corpus's training faces, shipped inside the mapper) and keeps the candidate whose traits are nearest
the voice's: every portrait is one of the generator's own faces, the voice decides what it reveals and z the
rest. It is what `voice2face portrait` and `VoiceToFace.from_pretrained()` use when no model folder is given.
The three inference networks ship (no discriminator, no optimiser state), so that the voice side can be
trained again on new data without pretraining anything (`voice2face demo` does).
"""
    if options["route"] == "wplus":
        return f"""The paper's route: a voice encoder ({_encoder_text(options["encoder"])}), a voice→W+ mapper
and an unconditional StyleGAN2 generator ({resolution} px, EMA weights) pretrained on unpaired faces. The
encoder turns a recording into an embedding, the mapper turns the embedding (and a random code for what a
voice cannot decide) into a W+ code, and the frozen generator renders it. It is what `voice2face portrait`
and `VoiceToFace.from_pretrained()` use when no model folder is given. The three inference networks ship,
with `projector.safetensors` (image → W+ for this generator), so that the voice side can be trained again on
new data without pretraining anything (`voice2face demo` does); no discriminator, no optimiser state.
"""
    return f"""A voice encoder ({_encoder_text(options["encoder"])})
and a conditional StyleGAN2 generator ({resolution} px, EMA weights)
that together turn a recording into face images. It is what `voice2face portrait` and
`VoiceToFace.from_pretrained()` use when no model folder is given. Only the two inference
networks are shipped (no discriminator, no optimiser state).
"""


def _training_section(options: dict, summary: dict, seconds: dict, machine: str) -> str:
    enc = options["encoder"].get("config", {})
    stage1 = (
        f"- Voice encoder, stage 1: preset `{options['encoder'].get('preset', '?')}`, {enc.get('steps', '?')} steps, "
        f"batch {enc.get('batch_size', '?')}, SGD lr {enc.get('lr', '?')}, crops of "
        f"{enc.get('crops', {}).get('min_seconds', '?')}–{enc.get('crops', {}).get('max_seconds', '?')} s, "
        f"on the training identities of the corpus above."
    )
    if options["route"] == "wplus":
        pre, mapper = options["pretraining"], options["mapper"]["config"]
        gan = pre.get("config", {})
        kimg = summary.get("pretrain_kimg")
        if seconds.get("generator") is not None:
            pretraining = f"{seconds['generator'] / 60:.0f} min"
        else:  # a committed snapshot continued over several sessions keeps no per-step timing of them all
            hours = (kimg or 0) * PRETRAIN_S_PER_KIMG / 3600
            pretraining = (f"about {hours:.1f} h of one core at the measured ~{PRETRAIN_S_PER_KIMG} s/kimg "
                           "(benchmarks/README.md; spread over several sessions)")  # fmt: skip
        return f"""## Training

{stage1}
- Face generator, pretrained without voices (`train --preset {PRETRAIN_PRESET}`): an unconditional StyleGAN2
  on {options.get("face_count", "?")} unpaired synthvox faces (`voice2face synth-faces`, seed {FACE_SEED}: other people
  than any voice corpus), batch {gan.get("batch_size")}, Adam lr {gan.get("g_lr")}, R1 γ {gan.get("r1_gamma")},
  DiffAugment `{gan.get("augment")}`, EMA half-life {gan.get("ema_kimg")} kimg; shipped at **{kimg} kimg**.
{_voice_side_text(options)}
- Training time on the build machine ({machine}): pretraining {pretraining}, voice side
  {seconds["mapper"] / 60:.1f} min (from the runs' `stats.jsonl`, pauses between sessions left out).
- Reproduce: `python scripts/build_bundled_model.py --route wplus --encoder-steps {enc.get("steps")}
  --pretrain-kimg {kimg} --mapper-steps
  {mapper["steps"]} --attribute-weight {mapper["attribute_weight"]} --voice-identities
  {options["voice_corpus"]["identities"]} --voice-seed {options["voice_corpus"]["seed"]} --install` (resumable: rerun
  the same command after an interruption; the pretraining is the long part, hours on 2 CPU cores;
  deterministic on CPU for a given torch version; `--generator DIR` / `--encoder DIR` reuse a
  pretrained generator or encoder instead).
"""
    gan = options["gan"]["config"]
    return f"""## Training

{stage1}
- Stage 2 (generator): batch {gan["batch_size"]}, Adam lr {gan["g_lr"]} betas
  {tuple(gan["betas"])}, R1 γ {gan["r1_gamma"]}, identity weight
  {gan["identity_weight"]}, matching-aware D weight {gan.get("mismatch_weight", 0.0)} (real faces
  with another speaker's voice count as fake), EMA half-life {gan["ema_kimg"]} kimg; trained to
  {options["trained_kimg"]:g} kimg, checked every {options["select_every"]:g} kimg by the sex agreement of its
  faces for the **validation** identities' voices (never the test ones). The shipped snapshot is the
  best of those: **{summary["kimg"]:g} kimg**. Validation curve (kimg: agreement):
  {", ".join(f"{k:g}: {a:.3f}" for k, a in options["selection_curve"])}.
- Training time on the build machine ({machine}): stage 1 {seconds["encoder"] / 60:.1f} min, stage 2
  {seconds["generator"] / 60:.1f} min (from the runs' `stats.jsonl`).
- Reproduce: `python scripts/build_bundled_model.py --route conditional --identities {options["identities"]}
  --seed {options["seed"]} --encoder-steps {enc.get("steps")} --kimg {options["trained_kimg"]:g} --select-every
  {options["select_every"]:g} --install` (deterministic on CPU for a given torch version).
"""


def _selection(options: dict) -> dict | None:
    """The mapper's selection settings (None for a mapper of the regression mode)."""
    return options["mapper"]["config"]["mapper"].get("selection")


def _voice_side_text(options: dict) -> str:
    """The card's paragraph on how the voice side was trained (selection or regression mode)."""
    mapper = options["mapper"]["config"]
    corpus = (f"Voice corpus: synthvox {options['voice_corpus']['identities']} people, seed "
              f"{options['voice_corpus']['seed']} (other people than the evaluation corpus above; its training "
              "split only).")  # fmt: skip
    selection = _selection(options)
    if selection:
        reader = selection["reader"]
        return f"""- Voice side (`train --preset {MAPPER_PRESET}`): the generator stays frozen and nothing is projected.
  The mapper's reader (a face CNN of width {reader["width"]}, depth {reader["depth"]}, {reader["epochs"]} epochs,
  seed {reader["seed"]}) learns {", ".join(selection["traits"])} from the voice corpus's training faces and their
  recorded traits. The encoder above (fine-tuned at lr {mapper["encoder_lr"]}) and the mapper's trait head
  (Adam lr {mapper["lr"]}) learn to predict, from random voice crops, what the reader reads off each speaker's
  faces ({mapper["steps"]} steps of batch {mapper["batch_size"]}; squared error, binary traits as tanh(logit/2),
  the others in the reader's standardised units), plus a read-out of sex and age from the embedding (weight
  {mapper["attribute_weight"]}). At a portrait, {selection["candidates"]} candidates per z are compared by the
  weighted distance ({_weights_text(selection)}; {_binary_text(selection)}){_shortlist_text(selection)}.
  {corpus}"""
    return f"""- Voice side (`train --preset {MAPPER_PRESET}`): the generator stays frozen. A projector learns
  image → W+ from {mapper["projection"]["steps"]} batches of the generator's own samples; each training face is
  projected and a speaker's target is the mean code of their faces. The encoder above (fine-tuned at lr
  {mapper["encoder_lr"]}) and the mapper (MLP {mapper["mapper"]["hidden_layers"]}×{mapper["mapper"]["hidden_dim"]},
  Adam lr {mapper["lr"]}) learn to predict it from random voice crops, {mapper["steps"]} steps of batch
  {mapper["batch_size"]}: squared error in the {mapper["target_rank"]} principal directions of the targets, plus a
  read-out of sex and age from the embedding (weight {mapper["attribute_weight"]}). Voice corpus: synthvox
  {options["voice_corpus"]["identities"]} people, seed {options["voice_corpus"]["seed"]} (other people than the
  evaluation corpus above; its training split only). At a fixed voice the random code z keeps
  everything but the face's read-out in the mapper's voice subspace (at most {mapper["mapper"]["rank"]} directions
  of W+, the principal directions of the speakers' predictions), which the voice sets by a calibrated
  edit (see `voice2face.models.wplus`): z decides what a voice cannot."""


def _weights_text(selection: dict) -> str:
    return ", ".join(f"{t} {w:g}" for t, w in zip(selection["traits"], selection["weights"], strict=True))


def _binary_text(selection: dict) -> str:
    binary = ", ".join(selection.get("binary", ()))
    return f"{binary} wanted at ±1, the side the voice is heard on" if binary else "no binary traits"


def _shortlist_text(selection: dict) -> str:
    count = selection.get("shortlist", 0)
    if not 0 < count < selection["candidates"]:
        return ""
    return (f"; a linear read-out of the traits from W (fitted on 2048 random renderings) ranks them first, "
            f"and only the {count} nearest are rendered and read")  # fmt: skip


def _selection_limits(options: dict) -> str:
    if options["route"] != "wplus" or not _selection(options):
        return ""
    count = _selection(options)["candidates"]
    return f"""
- The voice chooses among {count} of the generator's faces per random code z, so two voices that ask
  for the same traits with the same z get the same face, and a trait the {count} candidates do not
  show (a rare combination of sex, age and size) is only approached. The faces are as real as the
  pretrained generator's samples: soft at 64 px, with its artefacts."""


def _components(options: dict) -> list[str]:
    return ["voice_encoder", "generator"] + (["mapper"] if options["route"] == "wplus" else [])


def _projector_note(options: dict) -> str:
    return ", `projector.safetensors`" if options["route"] == "wplus" and not _selection(options) else ""


def model_card(summary: dict, options: dict, corpus_config: dict, examples: list[str], seconds: dict) -> str:
    """The bundled model's card: data, training, measured figures beside ceiling and chance, limits."""
    import os
    import platform

    machine = f"{os.cpu_count()} CPU cores, {platform.machine()}"
    resolution = _generator_resolution(options)
    return f"""# Model card: voice2face bundled model (synthvox, {options["preset"]})

> **Generated faces are synthetic images, not photographs of anyone.** This model was trained
> only on synthvox, a synthetic corpus of cartoon faces and synthesised voices. Its output says
> nothing about what a real speaker looks like and must never be used as identification evidence.

## What it is

{_what_it_is(options)}
## Training data

The evaluation corpus (and stage 1's): synthvox, generated by `voice2face synth-corpus` with
{json.dumps(corpus_config, sort_keys=True)}:
{summary["dataset"]["name"]}, manifest hash {summary["dataset"]["manifest_sha256_16"]}. The
identities are split identity-disjointly into train/val/test in the paper's 924:112:189
proportions; the model saw only the training identities, and is measured on the test ones.
Every voice and face is synthetic: no recording or photograph of a real person went into this model.

{_training_section(options, summary, seconds, machine)}
{evaluation_section(summary)}
## Intended use

- Trying voice2face out of the box: `make run`, `voice2face portrait`, the Python API.
- A reference point for research on the synthvox corpus.

## Limitations

- Synthetic world: trained on cartoon faces and synthesised voices. On real recordings the
  output is a synthvox-style face driven by whatever voice features resemble synthvox's; it is
  not a prediction of a real person's appearance.
- Not identification evidence, not for profiling, not for any decision about a person.
- Small networks, short training on 2 CPU cores, faces of {resolution} px: read the verdict and
  the table above beside their reference rows before trusting any figure.
- A voice reveals sex, age and size; everything else in a face (hair colour, skin tone, eyes,
  background) is drawn at random, so a portrait is one of many equally likely faces.{_selection_limits(options)}
- Trait readings of faces that fail the realism test mean little: a trait network retrained with
  the same seed on another CPU thread count read the sex of blob portraits at 0.69 instead of
  0.84. The instruments therefore always train on two threads, so the table reproduces on any
  machine with the same CPU kernels (`build_bundled_model.py --remeasure`).

## Files

`config.json` (architecture, feature settings, SHA-256 of every weight file), one
`<network>.safetensors` per network ({", ".join(_components(options))}){_projector_note(options)}, this card and
`provenance.json` (every setting and figure, machine-readable). Example voices (synthvox test
speakers): {", ".join(examples)}.
"""


EVALUATION_HEADING = "## Evaluation (synthvox test identities, unseen in training)"


def evaluation_section(summary: dict) -> str:
    """The card's evaluation: a verdict in words, then the model beside every reference row."""
    from voice2face.evaluation import markdown_table, verdict

    return f"""{EVALUATION_HEADING}

**{verdict(summary)}**

{summary["voices"]} test recordings → {summary["generated"]} generated faces ({SAMPLES_PER_VOICE} per recording),
measured by `voice2face evaluate` beside reference rows scored by the same instruments: `real`, the
speakers' own real faces (other images than the gallery's); `blur σ1.2` / `blur σ2.0`, the same
blurred; `oracle voice`, each speaker's face re-rendered from what the voice reveals (sex, age,
size), everything else resampled; `oracle sex`, a random person of the speaker's sex. Realism: a
classifier two-sample test against real training faces (0.5 = indistinguishable), the Laplacian
sharpness ratio, and the Fréchet distance in the trait network's features. Traits: a network
trained on sharp real training faces only reads each trait off the faces (accuracy or Pearson r
against the speaker's true value). Identity: the corpus identity embedder (`{summary["embedder"]}`).

{markdown_table(summary)}

{_probe_text(summary)}
"""


def _probe_text(summary: dict) -> str:
    """What a linear probe reads from the voice embeddings of the test speakers (fitted on the
    training speakers' embeddings and manifest traits; voice2face.metrics.probe)."""
    from voice2face.evaluation.tables import probe_lines

    lines = probe_lines(summary)
    if not lines:
        return ""
    return (f"Voice encoder: {lines[0]} (age: R², sex: accuracy; how much of a speaker's age and sex the "
            "embedding holds, whatever the face generator does with it).")  # fmt: skip


def evaluation_figures(summary: dict) -> dict:
    """provenance.json's evaluation: the compact summary (model and reference rows) and its context."""
    from voice2face.evaluation import summary_json

    compact = json.loads(summary_json(summary))
    return {
        "split": summary["split"], "embedder": summary["embedder"], "samples_per_voice": SAMPLES_PER_VOICE,
        "model": compact["model"], "references": compact["references"], "voice_probe": compact.get("voice_probe", {}),
        "ceiling": summary["reference"]["ceiling"], "chance": summary["reference"]["chance"],
    }  # fmt: skip


def remeasure(args) -> int:
    """Evaluate the installed bundled model again with today's `voice2face evaluate` and rewrite the
    evaluation section of its card and provenance.json (the weights are not touched)."""
    from voice2face.config import EvaluationConfig, SynthVoxConfig, from_dict
    from voice2face.data.synthvox import generate_corpus
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.storage import ModelFolder
    from voice2face.utils.files import atomic_write_text

    bundle = ModelFolder(_source_bundle())  # the source tree's copy, which --install writes
    target = bundle.path
    provenance = json.loads(bundle.provenance_path.read_text())
    corpus = args.work / "corpus"
    corpus_config = from_dict(SynthVoxConfig, provenance["corpus"], where="provenance.json")
    if not (corpus / "manifest.json").is_file():
        generate_corpus(corpus, corpus_config, progress=not args.quiet)
    config = EvaluationConfig(samples_per_voice=SAMPLES_PER_VOICE)
    summary = evaluate_model(
        target, corpus, config=config, cache_dir=args.work / "cache-final", write=False, progress=not args.quiet
    )
    print(format_table(summary))
    card = bundle.model_card_path.read_text()
    start, end = card.index(EVALUATION_HEADING), card.index("## Intended use")
    card = card[:start] + evaluation_section(summary) + "\n" + card[end:]
    provenance["evaluation"] = evaluation_figures(summary)
    atomic_write_text(bundle.model_card_path, card)
    atomic_write_text(bundle.provenance_path, json.dumps(provenance, indent=2, sort_keys=True) + "\n")
    print(f"rewrote the evaluation of {bundle.model_card_path} and provenance.json")
    return 0


def _corpus(path: Path, config, progress: bool):
    """The synthvox corpus at ``path``, generated if absent; None if it was made with other settings."""
    from voice2face.data.manifest import load_manifest
    from voice2face.data.synthvox import generate_corpus

    if not (path / "manifest.json").is_file():
        generate_corpus(path, config, progress=progress)
    manifest = load_manifest(path)
    if manifest.generator_config != _as_saved(config):
        print(f"error: {path} was made with other settings; remove it or pass another --work.", file=sys.stderr)
        return None
    return manifest


def pretrained_generator(args, work: Path, runs: Path, progress: bool) -> Path:
    """The paper's route, steps 1-2: the unconditional generator's model folder: ``--generator``, or
    a synthface-64 pretraining on ``--face-count`` unpaired faces to ``--pretrain-kimg``, continuing
    the latest earlier pretraining of the same settings in ``runs`` (resume is exact)."""
    from voice2face.data.synthvox.faces import generate_face_corpus
    from voice2face.storage import RunFolder, find_runs, resolve
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_generator

    if args.generator is not None:
        return resolve(args.generator, check=False).path
    faces = work / "faces"
    if not (faces / "manifest.json").is_file():
        generate_face_corpus(faces, count=args.face_count, resolution=64, seed=FACE_SEED, progress=progress)
    preset = get_preset(PRETRAIN_PRESET)
    total = args.pretrain_kimg if args.pretrain_kimg is not None else preset.gan.kimg
    wanted = _settings(_as_saved(preset.gan), "kimg")
    run = None
    same = lambda saved: _settings(saved.config, "kimg") == wanted and saved.data == str(faces)  # noqa: E731
    for candidate in find_runs(runs, f"*-{PRETRAIN_PRESET}", matching={"seed": args.seed}):
        if same(candidate.read_options()) and candidate.model.exists:
            run = candidate.path
    if run is None:
        run = train_generator(PRETRAIN_PRESET, faces, runs, kimg=total, seed=args.seed, progress=progress)
    elif RunFolder(run).model.snapshot()["kimg"] < total - 1e-6:
        run = train_generator(PRETRAIN_PRESET, faces, resume=run, kimg=total, progress=progress)
    return RunFolder(run).model.path


def train_voice_side(args, work: Path, runs: Path, generator: Path, encoder: Path, progress: bool) -> Path | None:
    """The paper's route, steps 3-4: the voice→W+ mapper (and the fine-tuned encoder) on a corpus of
    ``--voice-identities`` other people, continuing an unfinished run of the same settings."""
    from voice2face.config import SynthVoxConfig
    from voice2face.storage import RunFolder, find_runs, resolve
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_mapper

    corpus = work / "voice-corpus"
    if _corpus(corpus, SynthVoxConfig(identities=args.voice_identities, seed=args.voice_seed), progress) is None:
        return None
    preset = get_preset(MAPPER_PRESET)
    config = dataclasses.replace(preset.mapper, attribute_weight=args.attribute_weight)
    if args.mapper_steps is not None:
        config = dataclasses.replace(config, steps=args.mapper_steps)
    # train_mapper records the model folders it used (a run folder's model/).
    folder = lambda path: resolve(path, check=False).path  # noqa: E731
    wanted = {
        "config": _as_saved(config), "generator": str(folder(generator)), "encoder": str(folder(encoder)),
        "data": str(corpus), "seed": args.seed,
    }  # fmt: skip
    for run in find_runs(runs, f"*-{MAPPER_PRESET}", matching=wanted):
        if not run.done:
            train_mapper(None, None, resume=run.path, cache_dir=work / "cache-voice", progress=progress)
            run.mark_done()
        return run.path
    run = train_mapper(
        dataclasses.replace(preset, mapper=config), corpus, runs, generator=generator, encoder=encoder,
        seed=args.seed, cache_dir=work / "cache-voice", progress=progress,
    )  # fmt: skip
    RunFolder(run).mark_done()
    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.remeasure:
        return remeasure(args)
    from voice2face.config import EvaluationConfig, SynthVoxConfig, to_dict
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.storage import ModelFolder, RunFolder
    from voice2face.storage.layout import MODEL_CARD, PROJECTOR_FILE, PROVENANCE
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_encoder

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    progress = not args.quiet

    corpus_config = SynthVoxConfig(identities=args.identities, seed=args.seed)
    corpus = work / "corpus"
    manifest = _corpus(corpus, corpus_config, progress)
    if manifest is None:
        return 2

    runs, cache = work / "runs", work / "cache"
    encoder_run = args.encoder if args.route == "wplus" else None
    if encoder_run is None:
        encoder_run = _finished_encoder_run(runs, get_preset(args.preset), args.seed, args.encoder_steps)
    if encoder_run is None:
        encoder_run = train_encoder(
            args.preset, corpus, runs, steps=args.encoder_steps, seed=args.seed, cache_dir=cache, progress=progress
        )
        RunFolder(encoder_run).mark_done()
    encoder_options = _options_of(encoder_run)

    extra_files: dict[str, str | bytes] = {}
    if args.route == "wplus":
        generator = pretrained_generator(args, work, runs, progress)
        run = train_voice_side(args, work, runs, generator, encoder_run, progress)
        if run is None:
            return 2
        best = RunFolder(run).model.path
        components = ("voice_encoder", "generator", "mapper")
        if RunFolder(run).projector_path.is_file():  # the regression (edit) mode projects; selection does not
            extra_files[PROJECTOR_FILE] = RunFolder(run).projector_path.read_bytes()
        pretraining = RunFolder(generator.parent)  # when the generator is a run's model/
        seconds = {"generator": training_seconds(pretraining.path) if pretraining.stats_path.is_file() else None,
                   "mapper": training_seconds(run)}  # fmt: skip
        options = {
            "route": "wplus", "preset": MAPPER_PRESET, "identities": args.identities, "seed": args.seed,
            "encoder": encoder_options, "pretraining": _options_of(generator, "pretraining"),
            "mapper": RunFolder(run).read_options().to_dict(),
            "voice_corpus": {"identities": args.voice_identities, "seed": args.voice_seed},
            "face_count": _face_count(generator),
        }  # fmt: skip
        summary_kimg = None
        pretrain_kimg = round(ModelFolder(generator).snapshot()["kimg"] or 0.0, 1)
    else:
        run, curve, best_kimg = train_with_selection(args, corpus, runs, encoder_run, cache, work / "best", progress)
        best = work / "best"
        components = ("voice_encoder", "generator")
        seconds = {"encoder": training_seconds(encoder_run), "generator": training_seconds(run)}
        options = {
            "route": "conditional", "preset": args.preset, "identities": args.identities, "seed": args.seed,
            "select_every": args.select_every, "selection_curve": curve, "trained_kimg": curve[-1][0],
            "encoder": encoder_options, "gan": RunFolder(run).read_options().to_dict(),
        }  # fmt: skip
        summary_kimg = best_kimg

    # Four faces per test recording (from the same four latents for every voice): one face per
    # voice would make sex agreement hinge on a single latent.
    evaluation = EvaluationConfig(samples_per_voice=SAMPLES_PER_VOICE)
    # The face networks that score the test faces are trained afresh (as the bundled-model test
    # does), not taken from a cache that validation checks used.
    final_cache = work / "cache-final"
    shutil.rmtree(final_cache, ignore_errors=True)
    summary = evaluate_model(best, corpus, config=evaluation, cache_dir=final_cache, write=False, progress=progress)
    if summary_kimg is not None:
        summary["kimg"] = summary_kimg
    else:
        summary["pretrain_kimg"] = pretrain_kimg
    table = format_table(summary)
    print(table)

    examples_dir = work / "examples"
    if examples_dir.exists():
        shutil.rmtree(examples_dir)
    examples_dir.mkdir()
    names = []
    for person, utterance in pick_examples(manifest):
        name = f"synthvox-{person.attributes['sex']}-{round(person.attributes['age'])}y-{person.id}.wav"
        shutil.copyfile(manifest.file(utterance), examples_dir / name)
        names.append(name)

    loaded = ModelFolder(best).load(components)
    config = dataclasses.replace(loaded.config, weights=(), discriminator=None)
    card = model_card(summary, options, to_dict(corpus_config), names, seconds)
    provenance = {
        "corpus": to_dict(corpus_config), "examples": names, "training": options,
        "evaluation": evaluation_figures(summary),
    }  # fmt: skip
    extra_files[MODEL_CARD] = card
    extra_files[PROVENANCE] = json.dumps(provenance, indent=2, sort_keys=True) + "\n"
    bundle = work / "bundle"
    ModelFolder(bundle).save(loaded.modules, config, extra_files=extra_files)
    (work / "evaluation.txt").write_text(table + "\n")
    megabytes = sum(f.stat().st_size for f in bundle.iterdir()) / 1e6
    print(f"bundle: {bundle} ({megabytes:.1f} MB); examples: {examples_dir}")

    if args.install:
        target = _source_bundle()
        ModelFolder(target).save(loaded.modules, config, extra_files=extra_files)
        examples_target = PACKAGE_ASSETS / "examples"
        for old in examples_target.glob("synthvox-*.wav"):
            old.unlink()
        for name in names:
            shutil.copyfile(examples_dir / name, examples_target / name)
        print(f"installed into {target} and {examples_target}")
    return 0


def _source_bundle() -> Path:
    """The bundled model folder in this source tree (what --install and --remeasure write)."""
    from voice2face.storage.layout import BUNDLED_MODEL_PATH

    return PACKAGE_ASSETS.parent.joinpath(*BUNDLED_MODEL_PATH)


def _face_count(generator: Path) -> int | None:
    """How many faces the generator was pretrained on, from its run's dataset manifest (None if unknown)."""
    data = _options_of(generator, "pretraining").get("data")
    try:
        return len(json.loads((Path(data) / "manifest.json").read_text())["faces"]) if data else None
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        return None


def _options_of(run_or_model: Path, part: str = "encoder") -> dict:
    """How a network was trained: the training_options.json of a run (given the run or its model/
    folder), or what an earlier bundled model's provenance.json says of its ``part`` ("encoder" or
    "pretraining"); {} if neither."""
    from voice2face.storage import ModelFolder, RunFolder

    for folder in (run_or_model, run_or_model.parent):
        if RunFolder(folder).has_options:
            return RunFolder(folder).read_options().to_dict()
    if ModelFolder(run_or_model).provenance_path.is_file():
        training = json.loads(ModelFolder(run_or_model).provenance_path.read_text()).get("training", {})
        return {"from": str(run_or_model), **training.get(part, {})}
    return {}


if __name__ == "__main__":
    sys.exit(main())
