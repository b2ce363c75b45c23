"""dlib and the models the face-recognition-models wheel ships, imported once for everyone who
needs them (the dlib face embedder, face alignment in dataset preparation)."""

from __future__ import annotations

import warnings
from typing import Any

#: How to get them: the ``faces`` extra.
FACES_EXTRA_INSTALL = "pip install -c constraints.txt -e '.[faces]'"


def import_dlib() -> tuple[Any, Any]:
    """``(dlib, face_recognition_models)``; ImportError when either is missing."""
    import dlib

    with warnings.catch_warnings():  # it imports pkg_resources, which warns of its own deprecation
        warnings.simplefilter("ignore", UserWarning)
        import face_recognition_models as models
    return dlib, models
