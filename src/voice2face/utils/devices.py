"""The ``--device`` choice every command offers: auto, cpu or cuda."""

from __future__ import annotations

from voice2face.errors import ConfigError

#: What ``--device`` accepts, in every command.
DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> str:
    """``"auto"`` → ``"cuda"`` when a CUDA GPU is usable, else ``"cpu"``; ``"cpu"``/``"cuda"`` as given.

    Raises ConfigError for another name, or for ``"cuda"`` on a machine without a usable GPU.
    """
    if name not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)}, got {name!r}.")
    if name == "cpu":
        return "cpu"
    import torch  # only here: the cpu path stays free of it

    available = torch.cuda.is_available()
    if name == "cuda" and not available:
        raise ConfigError("Device cuda was asked for, but this machine has no usable CUDA GPU; use --device cpu.")
    return "cuda" if available else "cpu"
