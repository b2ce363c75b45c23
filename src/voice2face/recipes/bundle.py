"""Reproduce the model bundled with voice2face (``src/voice2face/assets/model/``) from nothing.

What ``scripts/build_bundled_model.py`` runs (its flags are :func:`parser`'s, its settings
:class:`BuildOptions`): :func:`build`, or with ``--remeasure`` :func:`remeasure`.

Two routes (``route``), all steps deterministic for a given seed on CPU:

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
replacing the previous bundled model atomically, and ships the face-trait read-out that the final
evaluation trained on the corpus as the demo's instrument (``assets/instruments/`` with the record of
its corpus: :mod:`voice2face.storage.instruments`).
Work already done in WORK (corpus, runs) is reused when its settings match (:mod:`.runs`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from voice2face.config import FACE_CORPUS_SEED, PAPER_IDENTITIES, SynthVoxConfig
from voice2face.errors import ConfigError
from voice2face.recipes.routes import (
    ATTRIBUTE_WEIGHT,
    MAPPER_PRESET,
    MAPPER_PRESETS,
    PRETRAIN_PRESET,
    ROUTES,
    stage1_preset,
    voice_side_preset,
)
from voice2face.recipes.runs import (
    as_saved,
    drew_with,
    earlier_gan_run,
    earlier_pretraining_run,
    face_count,
    finished_encoder_run,
    options_of,
    training_seconds,
)

DESCRIPTION = __doc__.splitlines()[0]
#: The source checkout this package runs from (src layout): where ``--install`` and ``--remeasure``
#: write, and what ``--work`` is relative to, unless the script names its own checkout.
SOURCE_TREE = Path(__file__).resolve().parents[3]
#: Faces generated per test recording (from the same latents for every voice) when the bundle is
#: measured: one face per voice would make sex agreement hinge on a single latent.
SAMPLES_PER_VOICE = 4
_CORPUS = SynthVoxConfig()  # the default synthvox corpus: the build's evaluation corpus by default


@dataclass(frozen=True)
class BuildOptions:
    """The settings of one build: the flags of ``scripts/build_bundled_model.py`` (see :func:`parser`
    for what each means). ``work`` None: ``build/bundled-model`` in the source tree; ``preset`` None:
    stage 1 of the route's (:func:`~voice2face.recipes.routes.stage1_preset`), filled in by
    :func:`build_options`."""

    work: Path | None = None
    preset: str | None = None
    identities: int = _CORPUS.identities
    seed: int = _CORPUS.seed
    encoder_steps: int | None = None
    kimg: float | None = None
    select_every: float = 5.0
    route: str = "conditional"
    generator: Path | None = None
    pretrain_kimg: float | None = None
    face_count: int = 30000
    encoder: Path | None = None
    voice_identities: int = PAPER_IDENTITIES
    voice_seed: int = 1
    mapper_preset: str = MAPPER_PRESET
    mapper_steps: int | None = None
    attribute_weight: float = ATTRIBUTE_WEIGHT
    install: bool = False
    quiet: bool = False

    def command(self) -> str:
        """The build command with these options: every flag that differs from its default (the
        stage-1 preset when it is not the route's), ``--install`` when installing."""
        defaults = dataclasses.replace(BuildOptions(), preset=stage1_preset(self.route, self.mapper_preset))
        words = ["python", "scripts/build_bundled_model.py"]
        for field in dataclasses.fields(self):
            if field.name in ("work", "quiet", "install"):
                continue
            value = getattr(self, field.name)
            if value is None or value == getattr(defaults, field.name):
                continue
            if isinstance(value, Path) and value.resolve().is_relative_to(SOURCE_TREE):
                value = value.resolve().relative_to(SOURCE_TREE)
            words += [f"--{field.name.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
        return " ".join(words + (["--install"] if self.install else []))


def build_options(args: argparse.Namespace | BuildOptions) -> BuildOptions:
    """``args`` (parsed flags, or options already) as :class:`BuildOptions`."""
    if not isinstance(args, BuildOptions):
        args = BuildOptions(**{field.name: getattr(args, field.name) for field in dataclasses.fields(BuildOptions)})
    if args.preset is None:
        args = dataclasses.replace(args, preset=stage1_preset(args.route, args.mapper_preset))
    return args


def default_work(repo: Path = SOURCE_TREE) -> Path:
    """The working folder when none is given: ``build/bundled-model`` in the checkout ``repo``."""
    return repo / "build" / "bundled-model"


def source_bundle(repo: Path = SOURCE_TREE) -> Path:
    """The bundled model folder in the source tree ``repo`` (what --install and --remeasure write)."""
    from voice2face.storage.layout import BUNDLED_MODEL_PATH

    return _package_source(repo).joinpath(*BUNDLED_MODEL_PATH)


def _package_source(repo: Path) -> Path:
    return repo / "src" / "voice2face"


def parser(repo: Path = SOURCE_TREE) -> argparse.ArgumentParser:
    """The build's flags; their defaults are :class:`BuildOptions`' (``--work``: :func:`default_work`)."""
    defaults = BuildOptions()
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--work", type=Path, default=default_work(repo), help="working folder")
    parser.add_argument(
        "--preset",
        default=None,
        help="stage-1 (and, --route conditional, stage-2) training preset "
        "(default: the route's: --mapper-preset's on wplus, synthvox-quick on conditional)",
    )
    parser.add_argument("--identities", type=int, default=defaults.identities,
                        help="synthvox identities (default %(default)s)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="corpus and training seed (default %(default)s)")  # fmt: skip
    parser.add_argument("--encoder-steps", type=int, default=None, help="stage-1 steps (default: the preset's)")
    parser.add_argument("--kimg", type=float, default=None, help="stage-2 length in kimg (default: the preset's)")
    parser.add_argument("--select-every", type=float, default=defaults.select_every,
                        help="kimg between validation checks (default %(default)g)")  # fmt: skip
    parser.add_argument(
        "--route", choices=ROUTES, default=defaults.route,
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
    wplus.add_argument("--face-count", type=int, default=defaults.face_count,
                       help="unpaired faces to pretrain on (default %(default)s)")  # fmt: skip
    wplus.add_argument("--encoder", type=Path, help="a voice encoder model or run folder to start the voice side "
                       "from (default: stage 1 of --preset on the evaluation corpus)")  # fmt: skip
    wplus.add_argument(
        "--voice-identities",
        type=int,
        default=defaults.voice_identities,
        help="synthvox people the voice side learns from (default %(default)s, the paper's scale)",
    )
    wplus.add_argument(
        "--voice-seed",
        type=int,
        default=defaults.voice_seed,
        help="that corpus's seed (default %(default)s: other people than the evaluation corpus's)",
    )
    wplus.add_argument(
        "--mapper-preset",
        choices=MAPPER_PRESETS,
        default=defaults.mapper_preset,
        help=f"the voice side: {MAPPER_PRESETS[0]} (default; label-free: ids, recordings, photos and "
        f"sex) or {MAPPER_PRESETS[1]} (the labelled reference: needs synthvox's per-face traits)",
    )
    wplus.add_argument("--mapper-steps", type=int, default=None, help="voice-side steps (default: the preset's)")
    wplus.add_argument(
        "--attribute-weight",
        type=float,
        default=defaults.attribute_weight,
        help="weight of the sex/age read-out on the voice embedding (default %(default)s)",
    )
    parser.add_argument("--install", action="store_true", help="copy the result into src/voice2face/assets/")
    parser.add_argument(
        "--remeasure", action="store_true",
        help="only evaluate the installed bundled model again and rewrite its card's evaluation and provenance.json",
    )  # fmt: skip
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None, *, repo: Path = SOURCE_TREE) -> int:
    """Parse the flags and build (or, with ``--remeasure``, re-measure) in the checkout ``repo``."""
    args = parser(repo).parse_args(argv)
    if args.remeasure:
        return remeasure(args, repo=repo)
    return build(args, repo=repo)


def train_with_selection(options: BuildOptions, corpus, runs, encoder_run, cache, best_dir, progress):
    """Stage 2 in chunks of ``--select-every`` kimg up to ``--kimg``; after each chunk, sex agreement
    of the generated faces on the *validation* identities (never the test ones) decides whether
    this snapshot becomes ``best_dir`` (inference networks only). Returns (run, [(kimg, val
    agreement)], chosen kimg). An earlier stage-2 run in ``runs`` is continued (resume is exact)."""
    from voice2face.config import EvaluationConfig
    from voice2face.evaluation import evaluate_model
    from voice2face.storage import ModelFolder, RunFolder
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_generator

    preset = get_preset(options.preset)
    total = options.kimg if options.kimg is not None else preset.gan.kimg
    validation = EvaluationConfig(split="val", metrics=("attributes",), samples_per_voice=SAMPLES_PER_VOICE)
    run = earlier_gan_run(runs, preset, options.seed, encoder_run)
    state = best_dir.parent / "selection.json"  # the checks so far, so a rerun continues them
    saved = json.loads(state.read_text()) if state.is_file() and ModelFolder(best_dir).exists else {}
    judge = as_saved(validation)
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
        target = min(total, done + options.select_every)
        if run is None:
            run = train_generator(
                options.preset, corpus, runs, encoder=encoder_run, kimg=target, seed=options.seed, cache_dir=cache,
                progress=progress,
            )  # fmt: skip
        else:
            run = train_generator(options.preset, corpus, resume=run, kimg=target, cache_dir=cache, progress=progress)


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


def remeasure(options: argparse.Namespace | BuildOptions, *, repo: Path = SOURCE_TREE) -> int:
    """Evaluate the installed bundled model again with today's `voice2face evaluate` and rewrite the
    evaluation section of its card and provenance.json (the weights are not touched)."""
    from voice2face.config import EvaluationConfig, from_dict
    from voice2face.data.manifest import MANIFEST_NAME
    from voice2face.data.synthvox import generate_corpus
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.report.card import evaluation_figures, with_evaluation
    from voice2face.storage import ModelFolder
    from voice2face.utils.files import atomic_write_text

    options = build_options(options)
    work = options.work if options.work is not None else default_work(repo)
    bundle = ModelFolder(source_bundle(repo))  # the source tree's copy, which --install writes
    target = bundle.path
    provenance = json.loads(bundle.provenance_path.read_text())
    corpus = work / "corpus"
    corpus_config = from_dict(SynthVoxConfig, provenance["corpus"], where="provenance.json")
    if not (corpus / MANIFEST_NAME).is_file():
        generate_corpus(corpus, corpus_config, progress=not options.quiet)
    config = EvaluationConfig(samples_per_voice=SAMPLES_PER_VOICE)
    summary = evaluate_model(
        target,
        corpus,
        config=config,
        cache_dir=work / "cache-final",
        write=False,
        progress=not options.quiet,
        shipped_instruments=False,  # retrained, which also checks the shipped ones (tests/test_bundled_model.py)
    )
    print(format_table(summary))
    card = with_evaluation(bundle.model_card_path.read_text(), summary, samples_per_voice=SAMPLES_PER_VOICE)
    provenance["evaluation"] = evaluation_figures(summary, samples_per_voice=SAMPLES_PER_VOICE)
    atomic_write_text(bundle.model_card_path, card)
    atomic_write_text(bundle.provenance_path, json.dumps(provenance, indent=2, sort_keys=True) + "\n")
    print(f"rewrote the evaluation of {bundle.model_card_path} and provenance.json")
    return 0


def _corpus(path: Path, config, progress: bool):
    """The synthvox corpus at ``path``, generated if absent; None if it was made with other settings."""
    from voice2face.data.manifest import MANIFEST_NAME, load_manifest
    from voice2face.data.synthvox import generate_corpus

    if not (path / MANIFEST_NAME).is_file():
        generate_corpus(path, config, progress=progress)
    manifest = load_manifest(path)
    if manifest.generator_config != as_saved(config):
        print(f"error: {path} was made with other settings; remove it or pass another --work.", file=sys.stderr)
        return None
    return manifest


def generator_resolution(options: BuildOptions) -> int:
    """The px of the faces the bundle will draw: ``--generator``'s, or the pretraining preset's
    (the paper's route), or the conditional preset's."""
    from voice2face.storage import ModelFolder, resolve
    from voice2face.training.presets import get_preset

    if options.route == "wplus" and options.generator is not None:
        generator = ModelFolder(resolve(options.generator, check=False).path).config().generator
        if generator is None:
            raise ConfigError(
                f"--generator {options.generator} holds no generator; pass a pretraining run or its model/."
            )
        return generator.img_resolution
    preset = get_preset(PRETRAIN_PRESET if options.route == "wplus" else options.preset)
    return preset.gan.generator.img_resolution


def pretraining_lineage(generator: Path) -> dict:
    """How the generator was pretrained (its run's options), with ``base_kimg``, the kimg of the
    generator it was grown from, when it started from one (``--generator``) that is still at hand."""
    from voice2face.storage import ModelFolder

    pretraining = options_of(generator, "pretraining")
    base = ModelFolder(Path(pretraining["generator"])) if pretraining.get("generator") else None
    if base is not None and "base_kimg" not in pretraining and base.has_trainer_state:
        kimg = base.snapshot()["kimg"]
        if kimg is not None:
            pretraining["base_kimg"] = round(kimg, 1)
    return pretraining


def pretrained_generator(options: BuildOptions, work: Path, runs: Path, progress: bool) -> Path:
    """The paper's route, steps 1-2: the unconditional generator's model folder: ``--generator``, or
    a synthface-64 pretraining on ``--face-count`` unpaired faces to ``--pretrain-kimg``, continuing
    the latest earlier pretraining of the same settings in ``runs`` (resume is exact)."""
    from voice2face.data.manifest import MANIFEST_NAME
    from voice2face.data.synthvox.faces import generate_face_corpus
    from voice2face.storage import RunFolder, resolve
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_generator

    if options.generator is not None:
        return resolve(options.generator, check=False).path
    faces = work / "faces"
    preset = get_preset(PRETRAIN_PRESET)
    if not (faces / MANIFEST_NAME).is_file():
        generate_face_corpus(
            faces, count=options.face_count, resolution=preset.gan.generator.img_resolution, seed=FACE_CORPUS_SEED,
            progress=progress,
        )  # fmt: skip
    total = options.pretrain_kimg if options.pretrain_kimg is not None else preset.gan.kimg
    run = earlier_pretraining_run(runs, preset, options.seed, faces)
    if run is None:
        run = train_generator(PRETRAIN_PRESET, faces, runs, kimg=total, seed=options.seed, progress=progress)
    elif RunFolder(run).model.snapshot()["kimg"] < total - 1e-6:
        run = train_generator(PRETRAIN_PRESET, faces, resume=run, kimg=total, progress=progress)
    return RunFolder(run).model.path


def train_voice_side(
    options: BuildOptions, work: Path, runs: Path, generator: Path, encoder: Path, progress: bool
) -> Path | None:
    """The paper's route, steps 3-4: the voice→W+ mapper (and the fine-tuned encoder) on a corpus of
    ``--voice-identities`` other people, continuing an unfinished run of the same settings."""
    from voice2face.storage import RunFolder, find_runs, resolve
    from voice2face.training.runner import train_mapper

    corpus = work / "voice-corpus"
    if _corpus(corpus, SynthVoxConfig(identities=options.voice_identities, seed=options.voice_seed), progress) is None:
        return None
    preset = voice_side_preset(options.attribute_weight, options.mapper_steps, options.mapper_preset)
    # train_mapper records the model folders it used (a run folder's model/).
    folder = lambda path: resolve(path, check=False).path  # noqa: E731
    wanted = {
        "config": as_saved(preset.mapper), "generator": str(folder(generator)), "encoder": str(folder(encoder)),
        "data": str(corpus), "seed": options.seed,
    }  # fmt: skip
    for run in find_runs(runs, f"*-{options.mapper_preset}", matching=wanted):
        if not drew_with(run.path, folder(generator)):
            continue  # the generator's folder holds other weights now: a new voice side is trained
        if not run.done:
            train_mapper(None, None, resume=run.path, cache_dir=work / "cache-voice", progress=progress)
            run.mark_done()
        return run.path
    run = train_mapper(
        preset, corpus, runs, generator=generator, encoder=encoder, seed=options.seed, cache_dir=work / "cache-voice",
        progress=progress,
    )  # fmt: skip
    RunFolder(run).mark_done()
    return run


def build(options: argparse.Namespace | BuildOptions, *, repo: Path = SOURCE_TREE) -> int:
    """Build the bundle in ``options.work`` (see the module's docstring for the steps of each route)
    and, with ``install``, copy it and the example voices into the source tree ``repo``.
    Returns the exit status: 0, or 2 when a corpus in the working folder was made with other settings."""
    from voice2face.config import EvaluationConfig, to_dict
    from voice2face.evaluation import evaluate_model, format_table
    from voice2face.evaluation.run import manifest_hash
    from voice2face.report.card import evaluation_figures, model_card
    from voice2face.storage import ModelFolder, RunFolder
    from voice2face.storage.instruments import ShippedCorpus, install_instruments
    from voice2face.storage.layout import MODEL_CARD, PROJECTOR_FILE, PROVENANCE, SHIPPED_INSTRUMENTS_PATH
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import train_encoder

    options = build_options(options)
    work = options.work if options.work is not None else default_work(repo)
    work.mkdir(parents=True, exist_ok=True)
    progress = not options.quiet

    # The evaluation corpus draws its faces at the generator's resolution (the instruments read it).
    corpus_config = SynthVoxConfig(identities=options.identities, seed=options.seed,
                                   resolution=generator_resolution(options))  # fmt: skip
    corpus = work / "corpus"
    manifest = _corpus(corpus, corpus_config, progress)
    if manifest is None:
        return 2

    runs, cache = work / "runs", work / "cache"
    encoder_run = options.encoder if options.route == "wplus" else None
    if encoder_run is None:
        encoder_run = finished_encoder_run(runs, get_preset(options.preset), options.seed, options.encoder_steps)
    if encoder_run is None:
        encoder_run = train_encoder(
            options.preset, corpus, runs, steps=options.encoder_steps, seed=options.seed, cache_dir=cache,
            progress=progress,
        )  # fmt: skip
        RunFolder(encoder_run).mark_done()
    encoder_options = options_of(encoder_run)

    extra_files: dict[str, str | bytes] = {}
    if options.route == "wplus":
        generator = pretrained_generator(options, work, runs, progress)
        run = train_voice_side(options, work, runs, generator, encoder_run, progress)
        if run is None:
            return 2
        best = RunFolder(run).model.path
        components = ("voice_encoder", "generator", "mapper")
        if RunFolder(run).projector_path.is_file():  # the regression (edit) mode projects; selection does not
            extra_files[PROJECTOR_FILE] = RunFolder(run).projector_path.read_bytes()
        pretraining = RunFolder(generator.parent)  # when the generator is a run's model/
        seconds = {"generator": training_seconds(pretraining.path) if pretraining.stats_path.is_file() else None,
                   "mapper": training_seconds(run)}  # fmt: skip
        training = {
            "route": "wplus", "preset": options.mapper_preset, "identities": options.identities, "seed": options.seed,
            "command": options.command(),
            "encoder": encoder_options, "pretraining": pretraining_lineage(generator),
            "mapper": RunFolder(run).read_options().to_dict(),
            "voice_corpus": {"identities": options.voice_identities, "seed": options.voice_seed},
            "face_count": face_count(generator),
        }  # fmt: skip
        summary_kimg = None
        pretrain_kimg = round(ModelFolder(generator).snapshot()["kimg"] or 0.0, 1)
    else:
        run, curve, best_kimg = train_with_selection(options, corpus, runs, encoder_run, cache, work / "best", progress)
        best = work / "best"
        components = ("voice_encoder", "generator")
        seconds = {"encoder": training_seconds(encoder_run), "generator": training_seconds(run)}
        training = {
            "route": "conditional", "preset": options.preset, "identities": options.identities, "seed": options.seed,
            "command": options.command(),
            "select_every": options.select_every, "selection_curve": curve, "trained_kimg": curve[-1][0],
            "encoder": encoder_options, "gan": RunFolder(run).read_options().to_dict(),
        }  # fmt: skip
        summary_kimg = best_kimg

    evaluation = EvaluationConfig(samples_per_voice=SAMPLES_PER_VOICE)
    # The face networks that score the test faces are trained afresh (as the bundled-model test
    # does), not taken from a cache that validation checks used.
    final_cache = work / "cache-final"
    shutil.rmtree(final_cache, ignore_errors=True)
    summary = evaluate_model(best, corpus, config=evaluation, cache_dir=final_cache, write=False, progress=progress,
                             shipped_instruments=False)  # fmt: skip
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
    card = model_card(summary, training, to_dict(corpus_config), names, seconds, samples_per_voice=SAMPLES_PER_VOICE,
                      pretrain_preset=PRETRAIN_PRESET, mapper_preset=options.mapper_preset)  # fmt: skip
    provenance = {
        "corpus": to_dict(corpus_config), "examples": names, "training": training,
        "evaluation": evaluation_figures(summary, samples_per_voice=SAMPLES_PER_VOICE),
    }  # fmt: skip
    extra_files[MODEL_CARD] = card
    extra_files[PROVENANCE] = json.dumps(provenance, indent=2, sort_keys=True) + "\n"
    bundle = work / "bundle"
    ModelFolder(bundle).save(loaded.modules, config, extra_files=extra_files)
    (work / "evaluation.txt").write_text(table + "\n")
    megabytes = sum(f.stat().st_size for f in bundle.iterdir()) / 1e6
    print(f"bundle: {bundle} ({megabytes:.1f} MB); examples: {examples_dir}")

    if options.install:
        target = source_bundle(repo)
        ModelFolder(target).save(loaded.modules, config, extra_files=extra_files)
        examples_target = _package_source(repo) / "assets" / "examples"
        for old in examples_target.glob("synthvox-*.wav"):
            old.unlink()
        for name in names:
            shutil.copyfile(examples_dir / name, examples_target / name)
        # The demo's trait read-out: the one the final evaluation trained on this corpus (storage.instruments).
        instruments_target = _package_source(repo).joinpath(*SHIPPED_INSTRUMENTS_PATH)
        install_instruments(
            instruments_target,
            sorted(final_cache.glob("trait-net-*.npz")),
            ShippedCorpus(
                corpus_config.identities, corpus_config.seed, corpus_config.resolution, manifest_hash(manifest)
            ),
        )
        print(f"installed into {target}, {examples_target} and {instruments_target}")
    return 0
