"""Reproduce the model bundled with voice2face (``src/voice2face/assets/model/``) from nothing.

    .venv/bin/python scripts/build_bundled_model.py [--work build/bundled-model] [--install]
    .venv/bin/python scripts/build_bundled_model.py --help   # every flag; the routes and their steps:
                                                             # voice2face.recipes.bundle's docstring

Work already done in WORK (corpus, runs) is reused when its settings match; ``--install`` copies the
result into this checkout's ``src/voice2face/assets/``; ``--remeasure`` only re-evaluates the
installed model and rewrites its card's evaluation.
"""

import sys
from pathlib import Path

from voice2face.recipes import bundle

if __name__ == "__main__":
    sys.exit(bundle.main(repo=Path(__file__).resolve().parent.parent))
