"""Training: the two-stage recipe (voice encoder, then face generator) and the paper's voice→W+ route.

- ``runner``: the public functions the commands call (``train_encoder``, ``train_generator``,
  ``train_mapper``), each returning its run folder; ``options``: the resolved settings alone
  (``--dry-run``); ``stages``: the one stage runner (run folder, options, resume, stats);
- ``loop``: the one training loop (budget, Ctrl-C, validation, snapshots, stats; rank 0 writes);
- ``trainers/``: one trainer per stage (encoder, gan, mapper): ``train_step``, ``validate``, state;
- ``data`` (a dataset into :mod:`voice2face.data.containers`), ``mapper_inputs``, ``projection``,
  ``grids``; and the parts the trainers share: losses, augment, ema, schedule, data_order,
  distributed, state, stats, presets.

Inference and metrics never import it: they work from saved models.
"""
