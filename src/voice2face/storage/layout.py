"""Every file and folder name of a model folder and a run folder, defined once.

A model folder (:class:`~voice2face.storage.ModelFolder`)::

    config.json                      ModelConfig, with the SHA-256 and size of each weight file
    <component>.safetensors          one per component present (voice_encoder, generator, mapper, discriminator)
    trainer_state.pt                 optimisers, counters, EMA, RNG (training snapshots only; weights-only torch.load)
    projector.safetensors            image → W+ for this generator (a pretrained generator's folder, optional)
    model_card.md, provenance.json   what a bundled model ships besides its weights

A run folder (:class:`~voice2face.storage.RunFolder`), ``runs/00003-<description>/``::

    training_options.json            RunOptions: the resolved settings of the run
    stats.jsonl                      one training report per line (and TensorBoard events beside it)
    metrics.jsonl                    one evaluation record per line
    model/                           the latest snapshot: a model folder
    DONE                             written once a run has finished the length it was asked for
    reals.png, fakesNNNNNN.png       stage-2 grids: real faces, then generated ones per snapshot (kimg)
    history/generatorNNNNNN.safetensors  a pretraining run's EMA generator at every snapshot (kimg; the
                                     realism-against-kimg curve reads them with model/config.json)
    portraitsNNNNNN.png              voice→W+ grids per snapshot (step)
    projection.png                   training faces beside their projected codes
    projector.safetensors            the projector the run used (the mapper's regression mode)
    speaker_codes.safetensors        the speakers' projected W+ codes, kept for resume
    selection_reader.safetensors     a selecting mapper's trait reader, kept for resume
    eval-<split>-fakes.png           the grid of the latest evaluation on a split
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# --------------------------------------------------------------------------- model folder

#: The model folder's description: every component's config and its weight file's record.
CONFIG_NAME = "config.json"
#: Trainer state beside the weights it belongs to, so that one atomic swap covers both.
TRAINER_STATE = "trainer_state.pt"
#: A projector (image → W+) trained on the generator of the folder it sits in, or used by a run.
PROJECTOR_FILE = "projector.safetensors"
MODEL_CARD = "model_card.md"
PROVENANCE = "provenance.json"
WEIGHTS_SUFFIX = ".safetensors"


def weight_file_name(component: str) -> str:
    """The file name of a component's weights: ``<component>.safetensors``."""
    return f"{component}{WEIGHTS_SUFFIX}"


#: Where the bundled model lives, relative to the ``voice2face`` package folder.
BUNDLED_MODEL_PATH = ("assets", "model")


def bundled_model_dir() -> Path:
    """The folder of the model bundled with the package: ``voice2face/assets/model``."""
    return Path(str(resources.files("voice2face").joinpath(*BUNDLED_MODEL_PATH)))


#: Where evaluation instruments trained for a shipped corpus live (read-only; see its README.md).
SHIPPED_INSTRUMENTS_PATH = ("assets", "instruments")


def shipped_instruments_dir() -> Path:
    """The folder of the instruments shipped with the package: ``voice2face/assets/instruments``."""
    return Path(str(resources.files("voice2face").joinpath(*SHIPPED_INSTRUMENTS_PATH)))


#: Beside the shipped instruments: the corpus they were trained on (:mod:`voice2face.storage.instruments`).
SHIPPED_INSTRUMENTS_RECORD = "corpus.json"


#: How a bundled model is named where a model is named by a word (``evaluate bundled``, PNG metadata).
BUNDLED_MODEL_NAME = "bundled"

# --------------------------------------------------------------------------- run folder

#: A run's latest snapshot: a model folder inside the run folder.
MODEL_DIR = "model"
#: The run's resolved settings (stylegan2-ada's name), read back by --resume.
OPTIONS_FILE = "training_options.json"
#: Training reports, one JSON object per line; TensorBoard event files are written beside it.
STATS_FILE = "stats.jsonl"
#: Evaluation records, one JSON object per line (stylegan2-ada's habit).
METRICS_FILE = "metrics.jsonl"
#: The marker of a run that finished the length it was asked for (absent while it can go on).
DONE_MARKER = "DONE"
#: TensorBoard event files: written into the run folder itself (its own folder is the log dir).
TENSORBOARD_EVENTS = "events.out.tfevents.*"
#: The speakers' projected W+ codes of a mapper run (regression mode), kept for resume.
CODES_FILE = "speaker_codes.safetensors"
#: A selecting mapper's trait reader, kept per run for resume.
READER_FILE = "selection_reader.safetensors"
#: Stage-2 grid of real faces, written when a run starts.
REALS_GRID = "reals.png"
#: Training faces beside the generator's rendering of their projected codes.
PROJECTION_GRID = "projection.png"
#: Glob of a stage-2 run's snapshot grids and of its evaluation grids.
FAKES_GRIDS = "fakes*.png"
EVALUATION_GRIDS = "eval-*-fakes.png"


HISTORY_DIR = "history"
HISTORY_GENERATORS = "generator*.safetensors"


def history_generator_name(images_seen: int) -> str:
    """A pretraining snapshot's EMA generator in ``history/``: ``generatorNNNNNN.safetensors`` (kimg)."""
    return f"generator{images_seen // 1000:06d}{WEIGHTS_SUFFIX}"


def history_generator_kimg(name: str) -> int:
    """The kimg a ``history/`` file's name (:func:`history_generator_name`) records."""
    return int(name.removeprefix("generator").removesuffix(WEIGHTS_SUFFIX))


def fakes_grid_name(images_seen: int) -> str:
    """A stage-2 snapshot's grid: ``fakesNNNNNN.png``, numbered by thousands of images seen."""
    return f"fakes{images_seen // 1000:06d}.png"


def portraits_grid_name(step: int) -> str:
    """A voice→W+ snapshot's grid: ``portraitsNNNNNN.png``, numbered by step."""
    return f"portraits{step:06d}.png"


def evaluation_grid_name(split: str) -> str:
    """The grid of an evaluation on ``split``: ``eval-<split>-fakes.png``."""
    return f"eval-{split}-fakes.png"
