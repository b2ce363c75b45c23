"""Reproduce the model bundled with voice2face (``src/voice2face/assets/model/``) from nothing.

    .venv/bin/python scripts/build_bundled_model.py [--work build/bundled-model] [--install]

Steps, all deterministic for a given seed on CPU:

1. generate a synthvox corpus (``--identities`` people, ``--seed``);
2. stage 1: train the voice encoder of ``--preset`` for ``--encoder-steps`` steps;
3. stage 2: train the face generator to ``--kimg`` thousand images, in chunks of
   ``--select-every`` kimg; after each chunk the sex agreement of the generated faces with the
   *validation* identities' voices is measured and the best snapshot so far is kept (early
   stopping on validation data: GAN snapshots differ a lot from one to the next);
4. evaluate that snapshot on the corpus's test identities (identity metrics beside the corpus
   ceiling and chance, sex agreement of the generated faces);
5. write ``WORK/bundle/``: the voice encoder and the EMA generator (no discriminator or trainer
   state, so it stays small), with ``model_card.md`` carrying the measured figures; and
   ``WORK/examples/``: a few test-split voices (unseen in training) spanning sex and age.

``--install`` then copies both into the package (``assets/model/`` and ``assets/examples/``),
replacing the previous bundled model atomically.
Work already done in WORK (corpus, runs) is reused when its settings match.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_ASSETS = REPO / "src" / "voice2face" / "assets"
SAMPLES_PER_VOICE = 4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=REPO / "build" / "bundled-model", help="working folder")
    parser.add_argument("--preset", default="synthvox-quick", help="training preset (default synthvox-quick)")
    parser.add_argument("--identities", type=int, default=200, help="synthvox identities (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="corpus and training seed (default 0)")
    parser.add_argument("--encoder-steps", type=int, default=None, help="stage-1 steps (default: the preset's)")
    parser.add_argument("--kimg", type=float, default=None, help="stage-2 length in kimg (default: the preset's)")
    parser.add_argument("--select-every", type=float, default=5.0, help="kimg between validation checks (default 5)")
    parser.add_argument("--install", action="store_true", help="copy the result into src/voice2face/assets/")
    parser.add_argument(
        "--remeasure", action="store_true",
        help="only evaluate the installed bundled model again and rewrite its card's evaluation and provenance.json",
    )  # fmt: skip
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def _runs_with_options(runs: Path, pattern: str, seed: int):
    """(run, its training_options.json) for each run in ``runs`` matching ``pattern`` and trained with ``seed``."""
    for run in sorted(runs.glob(pattern)):
        try:
            saved = json.loads((run / "training_options.json").read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if saved.get("seed") == seed:
            yield run, saved


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
    wanted = _settings(_as_saved(preset.encoder), "steps")
    steps = preset.encoder.steps if steps is None else steps
    for run, saved in _runs_with_options(runs, f"*-{preset.name}-encoder", seed):
        if saved.get("preset") != preset.name or not (run / "DONE").is_file():
            continue
        if saved["config"]["steps"] == steps and _settings(saved["config"], "steps") == wanted:
            return run
    return None


def _earlier_gan_run(runs: Path, preset, seed: int, encoder_run: Path) -> Path | None:
    """The latest stage-2 run in ``runs`` made with this preset's settings (any length), seed and
    encoder, to be continued; a run of an older version of the preset is left alone."""
    wanted = _settings(_as_saved(preset.gan), "kimg")
    found = None
    for run, saved in _runs_with_options(runs, f"*-{preset.name}", seed):
        if not (run / "model" / "config.json").is_file():
            continue
        if Path(saved.get("encoder", "")) == encoder_run / "model" and _settings(saved["config"], "kimg") == wanted:
            found = run
    return found


def train_with_selection(args, corpus, runs, encoder_run, cache, best_dir, progress):
    """Stage 2 in chunks of ``--select-every`` kimg up to ``--kimg``; after each chunk, sex agreement
    of the generated faces on the *validation* identities (never the test ones) decides whether
    this snapshot becomes ``best_dir`` (inference networks only). Returns (run, [(kimg, val
    agreement)], chosen kimg). An earlier stage-2 run in ``runs`` is continued (resume is exact)."""
    from voice2face.checkpoint import load_pretrained, save_pretrained
    from voice2face.config import EvaluationConfig
    from voice2face.evaluation import evaluate_model, read_snapshot
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_generator

    preset = get_preset(args.preset)
    total = args.kimg if args.kimg is not None else preset.gan.kimg
    validation = EvaluationConfig(split="val", metrics=("attributes",), samples_per_voice=SAMPLES_PER_VOICE)
    run = _earlier_gan_run(runs, preset, args.seed, encoder_run)
    state = best_dir.parent / "selection.json"  # the checks so far, so a rerun continues them
    saved = json.loads(state.read_text()) if state.is_file() and (best_dir / "config.json").is_file() else {}
    judge = _as_saved(validation)
    if run is None or saved.get("run") != str(run) or saved.get("validation") != judge:
        saved = {}  # the checks of another (older) run, or made with another instrument, do not count
    curve: list[tuple[float, float]] = [tuple(point) for point in saved.get("curve", [])]
    best: tuple[float, float] | None = tuple(saved["best"]) if "best" in saved else None
    while True:
        done = read_snapshot(run / "model")["kimg"] if run is not None else 0.0
        if run is not None and not (curve and curve[-1][0] >= round(done, 3)):
            result = evaluate_model(run, corpus, config=validation, cache_dir=cache, write=False, progress=False)
            agreement = float(result["results"]["attributes"]["sex_agreement"])
            curve.append((round(done, 3), round(agreement, 4)))
            print(f"stage 2 at {done:.1f} kimg: sex agreement on validation voices {agreement:.3f}", flush=True)
            if best is None or agreement > best[1]:
                best = (done, agreement)
                model = load_pretrained(run / "model", ("voice_encoder", "generator"))
                save_pretrained(best_dir, model.modules, dataclasses.replace(model.config, discriminator=None))
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
    """How long a run trained, from the first to the last ``stats.jsonl`` record (resumes included)."""
    times = [json.loads(line)["time"] for line in (run / "stats.jsonl").read_text().splitlines() if line.strip()]
    return max(times) - min(times) if times else 0.0


def model_card(summary: dict, options: dict, corpus_config: dict, examples: list[str], seconds: dict) -> str:
    """The bundled model's card: data, training, measured figures beside ceiling and chance, limits."""
    import os
    import platform

    machine = f"{os.cpu_count()} CPU cores, {platform.machine()}"
    enc, gan = options["encoder"], options["gan"]
    return f"""# Model card: voice2face bundled model (synthvox, {options["preset"]})

> **Generated faces are synthetic images, not photographs of anyone.** This model was trained
> only on synthvox, a synthetic corpus of cartoon faces and synthesised voices. Its output says
> nothing about what a real speaker looks like and must never be used as identification evidence.

## What it is

A voice encoder (SE-ResNet18 with Mish, width ×{enc["config"]["encoder"]["width_multiplier"]},
{enc["config"]["encoder"]["embedding_dim"]}-d embedding, on per-utterance-normalised MFCC+Δ+ΔΔ)
and a conditional StyleGAN2 generator ({gan["config"]["generator"]["img_resolution"]} px, EMA weights)
that together turn a recording into face images. It is what `voice2face portrait` and
`VoiceToFace.from_pretrained()` use when no model folder is given. Only the two inference
networks are shipped (no discriminator, no optimiser state).

## Training data

synthvox, generated by `voice2face synth-corpus` with {json.dumps(corpus_config, sort_keys=True)}:
{summary["dataset"]["name"]}, manifest hash {summary["dataset"]["manifest_sha256_16"]}. The
identities are split identity-disjointly into train/val/test in the paper's 924:112:189
proportions; the model saw only the training identities. Every voice and face is synthetic:
no recording or photograph of a real person went into this model.

## Training

- Stage 1 (voice encoder): preset `{options["preset"]}`, {enc["config"]["steps"]} steps, batch
  {enc["config"]["batch_size"]}, SGD lr {enc["config"]["lr"]}, crops of
  {enc["config"]["crops"]["min_seconds"]}–{enc["config"]["crops"]["max_seconds"]} s, seed {options["seed"]}.
- Stage 2 (generator): batch {gan["config"]["batch_size"]}, Adam lr {gan["config"]["g_lr"]} betas
  {tuple(gan["config"]["betas"])}, R1 γ {gan["config"]["r1_gamma"]}, identity weight
  {gan["config"]["identity_weight"]}, matching-aware D weight {gan["config"].get("mismatch_weight", 0.0)} (real faces
  with another speaker's voice count as fake), EMA half-life {gan["config"]["ema_kimg"]} kimg; trained to
  {options["trained_kimg"]:g} kimg, checked every {options["select_every"]:g} kimg by the sex agreement of its
  faces for the **validation** identities' voices (never the test ones). The shipped snapshot is the
  best of those: **{summary["kimg"]:g} kimg**. Validation curve (kimg: agreement):
  {", ".join(f"{k:g}: {a:.3f}" for k, a in options["selection_curve"])}.
- Training time on the build machine ({machine}): stage 1 {seconds["encoder"] / 60:.1f} min, stage 2
  {seconds["generator"] / 60:.1f} min (from the runs' `stats.jsonl`).
- Reproduce: `python scripts/build_bundled_model.py --identities {options["identities"]} --seed {options["seed"]}
  --encoder-steps {enc["config"]["steps"]} --kimg {options["trained_kimg"]:g} --select-every
  {options["select_every"]:g} --install`
  (deterministic on CPU for a given torch version).

{evaluation_section(summary)}
## Intended use

- Trying voice2face out of the box: `make run`, `voice2face portrait`, the Python API.
- A reference point for research on the synthvox corpus.

## Limitations

- Synthetic world: trained on cartoon faces and synthesised voices. On real recordings the
  output is a synthvox-style face driven by whatever voice features resemble synthvox's; it is
  not a prediction of a real person's appearance.
- Not identification evidence, not for profiling, not for any decision about a person.
- Small networks, short training, faces of {gan["config"]["generator"]["img_resolution"]} px: read
  the verdict and the table above beside their reference rows before trusting any figure. A
  conditional GAN trained from nothing on a few hundred paired faces for tens of kimg on 2 CPU
  cores draws colour blobs, not faces; the paper's route (a pretrained StyleGAN2 and a voice→W+
  mapper) is what replaces it.

## Files

`config.json` (architecture, feature settings, SHA-256 of every weight file),
`voice_encoder.safetensors`, `generator.safetensors`, this card. Example voices (synthvox test
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
"""


def evaluation_figures(summary: dict) -> dict:
    """provenance.json's evaluation: the compact summary (model and reference rows) and its context."""
    from voice2face.evaluation import summary_json

    compact = json.loads(summary_json(summary))
    return {
        "split": summary["split"], "embedder": summary["embedder"], "samples_per_voice": SAMPLES_PER_VOICE,
        "model": compact["model"], "references": compact["references"],
        "ceiling": summary["reference"]["ceiling"], "chance": summary["reference"]["chance"],
    }  # fmt: skip


def remeasure(args) -> int:
    """Evaluate the installed bundled model again with today's `voice2face evaluate` and rewrite the
    evaluation section of its card and provenance.json (the weights are not touched)."""
    from voice2face.config import EvaluationConfig, SynthVoxConfig, from_dict
    from voice2face.data.synthvox import generate_corpus
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.utils.files import atomic_write_text

    target = PACKAGE_ASSETS / "model"
    provenance = json.loads((target / "provenance.json").read_text())
    corpus = args.work / "corpus"
    corpus_config = from_dict(SynthVoxConfig, provenance["corpus"], where="provenance.json")
    if not (corpus / "manifest.json").is_file():
        generate_corpus(corpus, corpus_config, progress=not args.quiet)
    config = EvaluationConfig(samples_per_voice=SAMPLES_PER_VOICE)
    summary = evaluate_model(
        target, corpus, config=config, cache_dir=args.work / "cache-final", write=False, progress=not args.quiet
    )
    print(format_table(summary))
    card = (target / "model_card.md").read_text()
    start, end = card.index(EVALUATION_HEADING), card.index("## Intended use")
    card = card[:start] + evaluation_section(summary) + "\n" + card[end:]
    provenance["evaluation"] = evaluation_figures(summary)
    atomic_write_text(target / "model_card.md", card)
    atomic_write_text(target / "provenance.json", json.dumps(provenance, indent=2, sort_keys=True) + "\n")
    print(f"rewrote the evaluation of {target / 'model_card.md'} and provenance.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.remeasure:
        return remeasure(args)
    from voice2face.checkpoint import load_pretrained, save_pretrained
    from voice2face.config import EvaluationConfig, SynthVoxConfig, to_dict
    from voice2face.data.manifest import load_manifest
    from voice2face.data.synthvox import generate_corpus
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_encoder

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    progress = not args.quiet

    corpus_config = SynthVoxConfig(identities=args.identities, seed=args.seed)
    corpus = work / "corpus"
    if not (corpus / "manifest.json").is_file():
        generate_corpus(corpus, corpus_config, progress=progress)
    manifest = load_manifest(corpus)
    if manifest.generator_config != _as_saved(corpus_config):
        print(f"error: {corpus} was made with other settings; remove it or pass another --work.", file=sys.stderr)
        return 2

    runs, cache = work / "runs", work / "cache"
    encoder_run = _finished_encoder_run(runs, get_preset(args.preset), args.seed, args.encoder_steps)
    if encoder_run is None:
        encoder_run = train_encoder(
            args.preset, corpus, runs, steps=args.encoder_steps, seed=args.seed, cache_dir=cache, progress=progress
        )
        (encoder_run / "DONE").write_text("finished\n")

    run, curve, best_kimg = train_with_selection(args, corpus, runs, encoder_run, cache, work / "best", progress)
    seconds = {"encoder": training_seconds(encoder_run), "generator": training_seconds(run)}

    # Four faces per test recording (from the same four latents for every voice): one face per
    # voice would make sex agreement hinge on a single latent.
    evaluation = EvaluationConfig(samples_per_voice=SAMPLES_PER_VOICE)
    # The face networks that score the test faces are trained afresh (as the bundled-model test
    # does), not taken from the cache the validation checks used: sex agreement on generated
    # faces moves by up to ~0.13 between two sex classifiers that both score 0.98 on real faces.
    final_cache = work / "cache-final"
    shutil.rmtree(final_cache, ignore_errors=True)
    summary = evaluate_model(
        work / "best", corpus, config=evaluation, cache_dir=final_cache, write=False, progress=progress
    )
    summary["kimg"] = best_kimg
    table = format_table(summary)
    print(table)

    options = {
        "preset": args.preset, "identities": args.identities, "seed": args.seed, "select_every": args.select_every,
        "selection_curve": curve, "trained_kimg": curve[-1][0],
        "encoder": json.loads((encoder_run / "training_options.json").read_text()),
        "gan": json.loads((run / "training_options.json").read_text()),
    }  # fmt: skip
    examples_dir = work / "examples"
    if examples_dir.exists():
        shutil.rmtree(examples_dir)
    examples_dir.mkdir()
    names = []
    for person, utterance in pick_examples(manifest):
        name = f"synthvox-{person.attributes['sex']}-{round(person.attributes['age'])}y-{person.id}.wav"
        shutil.copyfile(manifest.file(utterance), examples_dir / name)
        names.append(name)

    loaded = load_pretrained(work / "best", ("voice_encoder", "generator"))
    config = dataclasses.replace(loaded.config, weights=())
    card = model_card(summary, options, to_dict(corpus_config), names, seconds)
    provenance = {
        "corpus": to_dict(corpus_config), "examples": names, "training": options,
        "evaluation": evaluation_figures(summary),
    }  # fmt: skip
    extra = {"model_card.md": card, "provenance.json": json.dumps(provenance, indent=2, sort_keys=True) + "\n"}
    bundle = work / "bundle"
    save_pretrained(bundle, loaded.modules, config, extra_files=extra)
    (work / "evaluation.txt").write_text(table + "\n")
    megabytes = sum(f.stat().st_size for f in bundle.iterdir()) / 1e6
    print(f"bundle: {bundle} ({megabytes:.1f} MB); examples: {examples_dir}")

    if args.install:
        target = PACKAGE_ASSETS / "model"
        save_pretrained(target, loaded.modules, config, extra_files=extra)
        examples_target = PACKAGE_ASSETS / "examples"
        for old in examples_target.glob("synthvox-*.wav"):
            old.unlink()
        for name in names:
            shutil.copyfile(examples_dir / name, examples_target / name)
        print(f"installed into {target} and {examples_target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
