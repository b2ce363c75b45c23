"""Recipes: the whole method end to end, as the bundled model's build and the demo run it.

A recipe strings the parts together (corpus → training stages → evaluation → what ships) and
owns only that order and its choices; each step is a library call into ``data``, ``training``,
``evaluation``, ``inference``, ``storage`` and ``report``. The build script and ``voice2face
demo`` only parse flags and call a recipe, so a test can call the same function.

- :mod:`.routes`: the two routes' choices that the build and the demo share (presets, the voice
  side's settings) and the synthvox corpus they make or reuse;
- :mod:`.runs`: which earlier training runs a build continues (matched by their settings), and
  what a run records of how it was trained;
- :mod:`.bundle`: build the bundled model (``scripts/build_bundled_model.py``) and re-measure it;
- :mod:`.demo`: the method within a time budget (``voice2face demo``).

Import the submodule you need: importing this package imports nothing heavy.
"""
