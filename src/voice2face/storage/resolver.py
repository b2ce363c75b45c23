"""resolve(): which model folder a user means by a path, with one behaviour and one set of errors.

Accepted: a model folder, a run folder (its ``model/``), a run's ``model/`` folder, and None or
``"bundled"`` (the model bundled with the package). The returned :class:`ModelFolder` knows its
run (``.run``) when it is a run's snapshot.
"""

from __future__ import annotations

from pathlib import Path

from voice2face.errors import CheckpointError
from voice2face.storage import layout
from voice2face.storage.model_folder import ModelFolder
from voice2face.storage.run_folder import RunFolder


def resolve(path: str | Path | None, *, flag: str | None = None, check: bool = True) -> ModelFolder:
    """The model folder ``path`` names.

    - None or ``"bundled"``: the bundled model (CheckpointError when none is installed);
    - a folder with ``config.json``: that model folder (a run's ``model/`` knows its run, when the
      folder above holds ``training_options.json``);
    - a folder whose ``model/`` has ``config.json``: that run's snapshot.

    A model folder left aside by a save that was killed between its two renames is put back first.
    flag: the command-line option that gave ``path``, named in the errors (e.g. ``"--encoder"``).
    check: with False, a path that is none of these is returned as a model folder as it is (for a
    dry run; loading it will say what is wrong); else it is a CheckpointError.
    """
    if path is None or str(path) == layout.BUNDLED_MODEL_NAME:
        bundled = ModelFolder.bundled()
        if check and not bundled.exists:
            raise CheckpointError(
                f"No bundled model is installed ({bundled.path} has no {layout.CONFIG_NAME}); pass a model folder "
                "with -m MODEL_DIR (train one with `voice2face train-encoder` then `voice2face train`)."
            )
        return bundled
    path = Path(path)
    run = RunFolder(path)
    if check:
        if not path.exists():
            ModelFolder(path).recover()
        elif path.is_dir() and not (path / layout.CONFIG_NAME).exists():
            run.model.recover()
    if (path / layout.CONFIG_NAME).is_file():
        if path.name == layout.MODEL_DIR and RunFolder(path.parent).has_options:
            return RunFolder(path.parent).model
        return ModelFolder(path)
    if run.model.exists:
        return run.model
    if check:
        give = f"pass {flag} a run folder or its model/ folder" if flag else "pass a run folder or its model/ folder"
        if not path.exists():
            raise CheckpointError(f"Model or run folder {path} does not exist; {give}.")
        if not path.is_dir():
            raise CheckpointError(f"Model or run folder {path} is a file, not a folder; {give}.")
        raise CheckpointError(
            f"{path} is not a model or run folder: {layout.CONFIG_NAME} is missing (a run folder holds it in "
            f"{layout.MODEL_DIR}/); {give} that voice2face wrote."
        )
    return ModelFolder(path)
