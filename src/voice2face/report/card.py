"""The bundled model's card and its provenance figures: what `scripts/build_bundled_model.py` writes
beside the weights (``model_card.md``, the ``evaluation`` of ``provenance.json``).

The card is rendered from what the build recorded (each network's training options, the evaluation
corpus's settings, the evaluation summary) and says every figure beside the reference rows scored
by the same instruments. :func:`with_evaluation` rewrites only a card's evaluation section, for a
re-measure that leaves the weights alone.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from voice2face.config import FACE_CORPUS_SEED

# The card's estimate of a pretraining's time when its run kept no timing of every session, by
# resolution: synthface-64 on one core with the fast ops, 25-45 s/kimg; a 128 px block grown on it,
# its 64 px block learning too (the synthface-128 preset), 62-70 s/kimg alone on two (benchmarks/README.md).
PRETRAIN_S_PER_KIMG = {64: 35, 128: 66}
EVALUATION_HEADING = "## Evaluation (synthvox test identities, unseen in training)"
# The section that follows the evaluation in every card (where a re-measure's new section ends).
_AFTER_EVALUATION = "## Intended use"


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


def _grown_from(pretraining: dict) -> str:
    """``--generator X`` of a pretraining that started from another generator (grown by a block)."""
    base = pretraining.get("generator")
    return f" --generator {_shown_path(base)}" if base else ""


def _shown_path(path: str) -> str:
    """A recorded path as a reader can find it: relative to the source tree when it lies inside."""
    parts = Path(path).parts
    return str(Path(*parts[parts.index("snapshots") :])) if "snapshots" in parts else path


def _grown_text(pretraining: dict, kimg: float | None) -> str:
    """How a grown generator, shipped at ``kimg``, came from its base: the base's kimg and how long
    its blocks were held (for the whole run when the hold outlasts the shipped snapshot)."""
    if not pretraining.get("generator"):
        return ""
    gan = pretraining.get("config", {})
    base_kimg = pretraining.get("base_kimg")
    base = f"{base_kimg} kimg of " if base_kimg is not None else ""
    freeze = gan.get("g_freeze_kimg") or 0
    span = "throughout" if kimg is not None and freeze >= kimg else f"for its first {freeze:g} kimg"
    held = f"; the inherited blocks (up to {gan.get('g_freeze_resolution')} px) were held {span}" if freeze else ""
    return (f" at {gan.get('generator', {}).get('img_resolution', '?')} px, after {base}the base generator's "
            f"pretraining: grown from it by one block (StyleGAN2's skip architecture adds a top block that "
            f"refines the base's image){held}")  # fmt: skip


def _pretraining_time(options: dict, kimg: float | None, seconds: dict) -> str:
    """The pretraining's time: measured from its run's stats, or estimated from the s/kimg measured
    at its resolution; a grown generator's excludes its base's."""
    grown = options["pretraining"].get("generator")
    base = " (the grown run's; the base's own pretraining took hours more)" if grown else ""
    if seconds.get("generator") is not None:
        return f"{seconds['generator'] / 60:.0f} min{base}"
    # A committed snapshot continued over several sessions keeps no per-step timing of them all.
    resolution = _generator_resolution(options)
    rate = PRETRAIN_S_PER_KIMG.get(resolution) if isinstance(resolution, int) else None
    if rate is None:
        return f"unrecorded{base}"
    hours = (kimg or 0) * rate / 3600
    return (f"about {hours:.1f} h at the measured ~{rate} s/kimg at {resolution} px (benchmarks/README.md; "
            f"spread over several sessions){base}")  # fmt: skip


def _training_section(
    options: dict, summary: dict, seconds: dict, machine: str, pretrain_preset: str, mapper_preset: str
) -> str:
    enc = options["encoder"].get("config", {})
    stage1 = (
        f"- Voice encoder, stage 1: preset `{options['encoder'].get('preset', '?')}`, {enc.get('steps', '?')} steps, "
        f"batch {enc.get('batch_size', '?')}, SGD lr {enc.get('lr', '?')}, crops of "
        f"{enc.get('crops', {}).get('min_seconds', '?')}–{enc.get('crops', {}).get('max_seconds', '?')} s, "
        f"on the training identities of the corpus above."
    )
    if options["route"] == "wplus":
        pre, mapper = options["pretraining"], options["mapper"]["config"]
        face_seed = FACE_CORPUS_SEED  # the unpaired face corpus's (synth-faces' default): other people
        face_count = options.get("face_count") or "an unrecorded number of"  # None: its corpus was not at hand
        gan = pre.get("config", {})
        kimg = summary.get("pretrain_kimg")
        pretraining = _pretraining_time(options, kimg, seconds)
        command = f"train --preset {pre.get('preset') or pretrain_preset}{_grown_from(pre)}"
        return f"""## Training

{stage1}
- Face generator, pretrained without voices (`{command}`): an unconditional StyleGAN2
  on {face_count} unpaired synthvox faces (`voice2face synth-faces`, seed {face_seed}: other people
  than any voice corpus), batch {gan.get("batch_size")}, Adam lr {gan.get("g_lr")}, R1 γ {gan.get("r1_gamma")},
  DiffAugment `{gan.get("augment")}`, EMA half-life {gan.get("ema_kimg")} kimg; shipped at
  **{kimg} kimg**{_grown_text(pre, kimg)}.
{_voice_side_text(options, mapper_preset)}
- Training time on the build machine ({machine}): pretraining {pretraining}, voice side
  {seconds["mapper"] / 60:.1f} min (from the runs' `stats.jsonl`, pauses between sessions left out).
- Reproduce: `{options.get("command") or _old_wplus_command(enc, kimg, mapper, options)}` (the command that
  built it; resumable: rerun the same command after an interruption; pretraining a generator, when
  `--generator` is not given, is the long part, hours on 2 CPU cores; deterministic on CPU for a
  given torch version).
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
- Reproduce: `{options.get("command") or _old_conditional_command(enc, options)}` (the command that built it;
  deterministic on CPU for a given torch version).
"""


def _old_wplus_command(enc: dict, kimg, mapper: dict, options: dict) -> str:
    """The command a provenance written before builds recorded theirs implies (its flags that mattered)."""
    return (f"python scripts/build_bundled_model.py --route wplus --encoder-steps {enc.get('steps')} --pretrain-kimg "
            f"{kimg} --mapper-steps {mapper['steps']} --attribute-weight {mapper['attribute_weight']} "
            f"--voice-identities {options['voice_corpus']['identities']} --voice-seed "
            f"{options['voice_corpus']['seed']} --install")  # fmt: skip


def _old_conditional_command(enc: dict, options: dict) -> str:
    """As :func:`_old_wplus_command`, for the conditional route."""
    return (f"python scripts/build_bundled_model.py --route conditional --identities {options['identities']} --seed "
            f"{options['seed']} --encoder-steps {enc.get('steps')} --kimg {options['trained_kimg']:g} --select-every "
            f"{options['select_every']:g} --install")  # fmt: skip


def _selection(options: dict) -> dict | None:
    """The mapper's selection settings (None for a mapper of the regression mode)."""
    return options["mapper"]["config"]["mapper"].get("selection")


def _pool_embedding_text(pool: dict) -> str:
    """How the label-free voice side's face embedding was fitted, in the card's words."""
    if pool.get("embedding", "pca") == "identity":
        return (f"an identity embedding at {pool['face_size']} px fitted on the training photos by who is in them "
                f"(a linear discriminant: the {pool['face_dims']} directions along which people differ most, in "
                "units of how far one person's photos spread; no trait label, no network)")  # fmt: skip
    whitened = ", whitened" if pool["whiten"] else ""
    return (f"a PCA of those renderings at {pool['face_size']} px ({pool['face_dims']} components{whitened}; "
            "no labels, no network)")  # fmt: skip


def _pool_edit_text(pool: dict) -> str:
    """The clause on the pool's edit (``PoolConfig.edit``), empty when the model does not edit."""
    edit = pool.get("edit", 0.0)
    if not edit:
        return ""
    how_far = "until" if edit == 1 else f"{edit:g} of the way to where"
    return (
        f", then moved, by the least change of W, {how_far} a linear read-out of those directions from W "
        "(fitted on the pool) gives the voice's prediction"
    )


def _voice_side_text(options: dict, mapper_preset: str) -> str:
    """The card's paragraph on how the voice side was trained (selection or regression mode)."""
    mapper = options["mapper"]["config"]
    corpus = (f"Voice corpus: synthvox {options['voice_corpus']['identities']} people, seed "
              f"{options['voice_corpus']['seed']} (other people than the evaluation corpus above; its training "
              "split only).")  # fmt: skip
    selection = _selection(options)
    pool = options["mapper"]["config"]["mapper"].get("pool")
    if options["mapper"]["config"]["mapper"].get("family") == "pool" and pool:
        edit = _pool_edit_text(pool)
        return f"""- Voice side (`train --preset {mapper_preset}`, label-free): the generator stays frozen; training
  reads identity ids, recordings, photos and each person's sex, nothing else. A pool of {pool["pool_size"]} of the
  generator's faces is rendered and embedded by {_pool_embedding_text(pool)}. The encoder above
  (fine-tuned at lr {mapper["encoder_lr"]}) and a linear head (Adam lr {mapper["lr"]}) learn to predict, from random
  voice crops, the mean embedding of each speaker's photos, and the speaker's sex (weight
  {mapper["attribute_weight"]}); {mapper["steps"]} steps of batch {mapper["batch_size"]}. The pool's sex is read by a
  logistic read-out of its {pool["face_size"]} px pixels fitted on the training photos' sex. At a portrait, z picks
  {pool["candidates"]} candidates of the pool; the voice chooses among those of its sex by its prediction in the
  {pool["rank"]} directions where the training speakers' predictions differ most (calibrated to the spread of
  their real faces), and the {pool["blend"]} nearest are blended in W{edit} (`voice2face.models.face_pool`).
  {corpus}"""
    if selection:
        reader = selection["reader"]
        return f"""- Voice side (`train --preset {mapper_preset}`): the generator stays frozen and nothing is projected.
  The mapper's reader (a face CNN of width {reader["width"]}, depth {reader["depth"]}, {reader["epochs"]} epochs,
  seed {reader["seed"]}) learns {", ".join(selection["traits"])} from the voice corpus's training faces and their
  recorded traits. The encoder above (fine-tuned at lr {mapper["encoder_lr"]}) and the mapper's trait head
  (Adam lr {mapper["lr"]}) learn to predict, from random voice crops, what the reader reads off each speaker's
  faces ({mapper["steps"]} steps of batch {mapper["batch_size"]}; squared error, binary traits as tanh(logit/2),
  the others in the reader's standardised units), plus a read-out of sex and age from the embedding (weight
  {mapper["attribute_weight"]}). At a portrait, {selection["candidates"]} candidates per z are compared by the
  weighted distance ({_weights_text(selection)}; {_binary_text(selection)}){_shortlist_text(selection)}.
  {corpus}"""
    return f"""- Voice side (`train --preset {mapper_preset}`): the generator stays frozen. A projector learns
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
  pretrained generator's samples ({_generator_resolution(options)} px), with their artefacts: see the
  realism rows above."""


def _components(options: dict) -> list[str]:
    return ["voice_encoder", "generator"] + (["mapper"] if options["route"] == "wplus" else [])


def _projector_note(options: dict) -> str:
    return ", `projector.safetensors`" if options["route"] == "wplus" and not _selection(options) else ""


def model_card(
    summary: dict,
    options: dict,
    corpus_config: dict,
    examples: list[str],
    seconds: dict,
    *,
    samples_per_voice: int,
    pretrain_preset: str,
    mapper_preset: str,
) -> str:
    """The bundled model's card: data, training, measured figures beside ceiling and chance, limits.

    ``summary``: what `voice2face evaluate` measured on the test identities (``samples_per_voice``
    faces per recording); ``options``: how each network was trained (provenance.json's
    ``training``); ``corpus_config``: the evaluation corpus's SynthVoxConfig as a dict; ``examples``:
    the shipped example voices' file names; ``seconds``: training time of each network (None where
    unknown); the presets of the paper's route's pretraining and voice side, which the card names.
    """
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

{_training_section(options, summary, seconds, machine, pretrain_preset, mapper_preset)}
{evaluation_section(summary, samples_per_voice=samples_per_voice)}
{_AFTER_EVALUATION}

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


def evaluation_section(summary: dict, *, samples_per_voice: int) -> str:
    """The card's evaluation: a verdict in words, then the model beside every reference row
    (``summary`` measured with ``samples_per_voice`` faces per test recording)."""
    from voice2face.evaluation import markdown_table, verdict

    return f"""{EVALUATION_HEADING}

**{verdict(summary)}**

{summary["voices"]} test recordings → {summary["generated"]} generated faces ({samples_per_voice} per recording),
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


def evaluation_figures(summary: dict, *, samples_per_voice: int) -> dict:
    """provenance.json's evaluation: the compact summary (model and reference rows) and its context."""
    from voice2face.evaluation import summary_json

    compact = json.loads(summary_json(summary))
    return {
        "split": summary["split"], "embedder": summary["embedder"], "samples_per_voice": samples_per_voice,
        "model": compact["model"], "references": compact["references"], "voice_probe": compact.get("voice_probe", {}),
        "ceiling": summary["reference"]["ceiling"], "chance": summary["reference"]["chance"],
    }  # fmt: skip


def with_evaluation(card: str, summary: dict, *, samples_per_voice: int) -> str:
    """``card`` (a model card's text) with its evaluation section replaced by ``summary``'s."""
    start, end = card.index(EVALUATION_HEADING), card.index(_AFTER_EVALUATION)
    return card[:start] + evaluation_section(summary, samples_per_voice=samples_per_voice) + "\n" + card[end:]
