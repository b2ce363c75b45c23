"""The trainers: each owns one stage's networks, optimisers and random streams — ``train_step``,
``validate`` and its state (snapshot save/load). The loop that drives them is
:func:`voice2face.training.loop.run_training`; a new stage is a new trainer, never a new loop."""
