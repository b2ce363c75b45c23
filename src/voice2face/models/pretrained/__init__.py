"""Import official StyleGAN2 checkpoints without running anything in them.

    G = load_stylegan2("stylegan2-ffhq-1024x1024.pkl")            # our Generator, eval mode
    img = G(z, None, truncation_psi=0.7, noise_mode="const")       # [B, 3, 1024, 1024] in ≈ [-1, 1]
    import_stylegan2("ffhq.pkl", "models/ffhq-1024")               # a model folder (config.json + safetensors)

Two formats, told apart by their bytes, not their names:

- **NVIDIA network pickles** (stylegan2-ada-pytorch; the StyleGAN2 networks in stylegan3's files):
  the ``G_ema`` network (and ``D`` on request), read by :mod:`.unpickler`, which resolves only an
  allowlist of globals and never executes the Python source the pickle embeds; :mod:`.nvidia`
  turns the records into our configs. A pickle that asks for anything else (``posix.system``, a
  TensorFlow network class …) is refused in one sentence that names what it asked for.
- **rosinality ``.pt``** (stylegan2-pytorch's ``train.py`` or ``convert_weight.py``): ``g_ema`` (and
  ``d``), read by ``torch.load(weights_only=True)`` with ``argparse.Namespace`` as the only class
  allowed; :mod:`.rosinality` maps its names to ours.

Our networks carry the official parameter and buffer names, so an NVIDIA state dict moves over one
to one, ``w_avg`` and the constant noise buffers included (a checkpoint without ``w_avg``:
rosinality's own training files, gets the mean of :data:`W_AVG_SAMPLES` mapped latents, as their
``generate.py`` computes it). Mixed precision is not carried over: the imported networks run in
float32, as the official ones do on a CPU. Every problem is a :class:`~voice2face.errors.CheckpointError`
naming the file and what to do. This is the one module of ``models`` that reads and writes files
(DESIGN: only ``storage`` and ``models/pretrained`` read or write weights); the model folder is
written by :class:`voice2face.storage.ModelFolder`, atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from voice2face.config import ModelConfig
from voice2face.errors import CheckpointError
from voice2face.models.pretrained import nvidia, rosinality
from voice2face.models.pretrained.unpickler import PersistentRecord, RefusedGlobal, contents, damaged, restricted_load
from voice2face.models.registry import build
from voice2face.models.stylegan2 import Discriminator, Generator

log = logging.getLogger(__name__)

NVIDIA_PICKLE = "nvidia-pkl"
ROSINALITY_PT = "rosinality-pt"
#: How many latents the mean W of a checkpoint without ``w_avg`` is taken over, and their seed.
W_AVG_SAMPLES = 16384
W_AVG_SEED = 0
#: The first object ``torch.save`` wrote before its zip format (PyTorch < 1.6): its magic number.
TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
#: Buffers every network builds from constants; a rosinality checkpoint keeps them under other names.
CONSTANT_BUFFERS = ("resample_filter",)

__all__ = [
    "NVIDIA_PICKLE", "ROSINALITY_PT", "W_AVG_SAMPLES", "ImportedStyleGAN2", "import_stylegan2", "load_stylegan2",
    "load_stylegan2_discriminator", "read_stylegan2",
]  # fmt: skip


class ImportedStyleGAN2(NamedTuple):
    """What :func:`read_stylegan2` returns: the model config, ``{"generator", "discriminator"?}``
    modules in eval mode, and the provenance record written beside them."""

    config: ModelConfig
    modules: dict[str, nn.Module]
    provenance: dict[str, Any]


def _refusal(path: Path, name: str) -> str:
    if name.startswith("dnnlib.tflib."):
        return (f"{path} is a TensorFlow StyleGAN2 pickle (it asks for {name}), which voice2face does not read; "
                "use the PyTorch release of the network (a stylegan2-ada-pytorch or stylegan3 .pkl).")  # fmt: skip
    return (f"Refused {path}: it asks to load {name}, which no official StyleGAN2 checkpoint needs, so nothing in "
            "it was run; use a checkpoint from the official release.")  # fmt: skip


def _unpickle(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            return restricted_load(handle)
    except RefusedGlobal as exc:
        raise CheckpointError(_refusal(path, exc.name)) from None
    except Exception as exc:  # a damaged pickle raises EOFError, UnpicklingError, ValueError and others
        raise damaged(path, exc) from None


def _read(path: Path) -> tuple[str, Any]:
    """(format, content): the unpickled records of an NVIDIA pickle, or a rosinality checkpoint's dict."""
    if not path.exists():
        raise CheckpointError(f"Checkpoint {path} does not exist; check the path.")
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} is not a file; give the .pkl or .pt file itself.")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CheckpointError(f"Checkpoint {path} cannot be read ({reason}); check its permissions.") from None
    if head.startswith(b"PK\x03\x04"):  # torch.save's zip format
        return ROSINALITY_PT, rosinality.read_pt(path)
    if head.startswith(b"\x80"):  # a pickle, protocol 2 or later
        content = _unpickle(path)
        if isinstance(content, int) and content == TORCH_LEGACY_MAGIC:  # torch.save before its zip format
            return ROSINALITY_PT, rosinality.read_pt(path)
        return NVIDIA_PICKLE, content
    what = "is empty" if not head else "is neither a network pickle nor a PyTorch checkpoint"
    raise CheckpointError(f"{path} {what}; give an NVIDIA StyleGAN2 .pkl (stylegan2-ada-pytorch, stylegan3) or a "
                          "rosinality stylegan2-pytorch .pt file.")  # fmt: skip


def _network(content: Any, key: str, path: Path) -> PersistentRecord:
    record = content.get(key) if isinstance(content, dict) else None
    if not isinstance(record, PersistentRecord):
        raise CheckpointError(f"{path} holds no {key} network (it holds: {contents(content)}); give a network pickle "
                              "written by "
                              "stylegan2-ada-pytorch or stylegan3.")  # fmt: skip
    return record


def _fit(kind: str, config: Any, state: dict[str, torch.Tensor], path: Path, what: str) -> nn.Module:
    """Build our ``kind`` from ``config`` and load ``state`` into it, every name and shape checked."""
    module = build(kind, config)
    expected = module.state_dict()
    for name, tensor in expected.items():
        if name not in state and name.rsplit(".", 1)[-1] in CONSTANT_BUFFERS:
            state[name] = tensor
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [f"{name} {list(state[name].shape)} ≠ {list(expected[name].shape)}"
              for name in sorted(set(expected) & set(state)) if state[name].shape != expected[name].shape]  # fmt: skip
    found = {"missing": missing, "unexpected": unexpected, "wrong shape": shapes}
    problems = [f"{label}: {', '.join(items[:4])}{' …' if len(items) > 4 else ''}"
                for label, items in found.items() if items]  # fmt: skip
    if problems:
        raise CheckpointError(f"{path}'s {what} does not fit the StyleGAN2 network its settings describe "
                              f"({'; '.join(problems)}); it is not a network voice2face imports.")  # fmt: skip
    module.load_state_dict(state, strict=True)
    return module.eval()


@torch.no_grad()
def _mean_w(generator: Generator) -> torch.Tensor:
    """The mean of the mapping over W_AVG_SAMPLES latents drawn from W_AVG_SEED: ``[w_dim]``."""
    z = torch.randn([W_AVG_SAMPLES, generator.z_dim], generator=torch.Generator().manual_seed(W_AVG_SEED))
    return generator.mapping(z, None, skip_w_avg_update=True)[:, 0].mean(dim=0)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_stylegan2(path: str | Path, *, discriminator: bool = False) -> ImportedStyleGAN2:
    """Read an official StyleGAN2 checkpoint into our networks (eval mode, on the CPU).

    ``generator`` is the EMA generator (NVIDIA ``G_ema``, rosinality ``g_ema``); with
    ``discriminator`` also ``discriminator`` (``D``, ``d``). The config holds both with the
    settings the checkpoint implies; ``provenance`` says where they came from.
    """
    path = Path(path)
    kind, content = _read(path)
    if kind == NVIDIA_PICKLE:
        names = {"generator": "G_ema", "discriminator": "D"}
        g_config, g_state = nvidia.generator_from_record(_network(content, "G_ema", path), str(path))
        w_avg = g_state.get("mapping.w_avg")
    else:
        names = {"generator": "g_ema", "discriminator": "d"}
        g_config, g_state = rosinality.generator_from_state(content["g_ema"], str(path))
        w_avg = content.get("latent_avg")
        if isinstance(w_avg, torch.Tensor):
            g_state["mapping.w_avg"] = w_avg.reshape(-1)
    estimate_w_avg = not isinstance(w_avg, torch.Tensor)
    if estimate_w_avg:
        g_state["mapping.w_avg"] = torch.zeros([g_config.w_dim])
    modules = {"generator": _fit("generator", g_config, g_state, path, names["generator"])}
    if estimate_w_avg:
        modules["generator"].mapping.w_avg.copy_(_mean_w(modules["generator"]))
        log.info("%s keeps no w_avg; took the mean of %d mapped latents (seed %d)", path, W_AVG_SAMPLES, W_AVG_SEED)
    d_config = None
    if discriminator:
        if kind == NVIDIA_PICKLE:
            d_config, d_state = nvidia.discriminator_from_record(_network(content, "D", path), str(path))
        elif isinstance(content.get("d"), dict) and content["d"]:
            d_config, d_state = rosinality.discriminator_from_state(content["d"], str(path))
        else:
            raise CheckpointError(f"{path} holds no discriminator (d); import it without --discriminator.")
        modules["discriminator"] = _fit("discriminator", d_config, d_state, path, names["discriminator"])
    config = ModelConfig(generator=g_config, discriminator=d_config)
    w_avg_source = f"mean of {W_AVG_SAMPLES} mapped latents (seed {W_AVG_SEED})" if estimate_w_avg else "checkpoint"
    provenance = {
        "imported_from": {
            "file": path.name, "sha256": _sha256(path), "format": kind, "w_avg": w_avg_source,
            "networks": {component: names[component] for component in modules},
        }
    }  # fmt: skip
    return ImportedStyleGAN2(config, modules, provenance)


def load_stylegan2(path: str | Path) -> Generator:
    """The EMA generator of an official StyleGAN2 checkpoint (NVIDIA ``.pkl`` or rosinality ``.pt``) as
    our :class:`~voice2face.models.stylegan2.Generator`, in eval mode: ``G(z [B, z_dim], c, truncation_psi,
    noise_mode="const")`` → ``[B, 3, R, R]``; ``G.mapping(z, c)`` → ``[B, num_ws, w_dim]``."""
    generator = read_stylegan2(path).modules["generator"]
    assert isinstance(generator, Generator)
    return generator


def load_stylegan2_discriminator(path: str | Path) -> Discriminator:
    """The discriminator of an official StyleGAN2 checkpoint as our
    :class:`~voice2face.models.stylegan2.Discriminator` (eval mode): ``D(img [B, 3, R, R], c)`` → ``[B, 1]``."""
    discriminator = read_stylegan2(path, discriminator=True).modules["discriminator"]
    assert isinstance(discriminator, Discriminator)
    return discriminator


def import_stylegan2(source: str | Path, model_dir: str | Path, *, discriminator: bool = False) -> ImportedStyleGAN2:
    """Write an official checkpoint as a model folder: ``config.json``, ``generator.safetensors``
    (``discriminator.safetensors``) and ``provenance.json``, in one atomic swap (an existing model
    folder is replaced; a failed import leaves nothing behind). Returns what was written."""
    from voice2face.storage import ModelFolder
    from voice2face.storage.layout import PROVENANCE

    imported = read_stylegan2(source, discriminator=discriminator)
    text = json.dumps(imported.provenance, indent=2, sort_keys=True) + "\n"
    config = ModelFolder(Path(model_dir)).save(imported.modules, imported.config, extra_files={PROVENANCE: text})
    return imported._replace(config=config)
