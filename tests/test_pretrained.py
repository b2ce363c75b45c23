"""Importing official StyleGAN2 checkpoints (voice2face.models.pretrained, ``import-stylegan2``).

The checkpoints are built here by hand in each official format, from our own small networks:

- NVIDIA network pickles as stylegan2-ada-pytorch and stylegan3 write them: a dict of networks, each
  network object a ``torch_utils.persistence`` record ``{"type": "class", "version": 6, "module_src",
  "class_name", "state"}`` reduced to ``_reconstruct_persistent_obj(meta)``, init arguments in
  ``_init_kwargs`` (dnnlib ``EasyDict``s), gains as ``numpy.float64``. The modules those globals name
  exist only while a pickle is written (stand-ins that fail if called), so a load that imported or
  ran them would show;
- rosinality ``.pt`` files as their ``train.py`` saves them, with names mapped from ours by hand.

The numbers against the official code itself (max |Δ| of images for the same z, ψ and constant
noise) are measured outside the suite: benchmarks/README.md, "Importing official StyleGAN2 checkpoints".
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from voice2face.cli import main
from voice2face.config import DiscriminatorConfig, GeneratorConfig
from voice2face.errors import CheckpointError
from voice2face.models.ops import setup_filter
from voice2face.models.pretrained import load_stylegan2, read_stylegan2
from voice2face.models.stylegan2 import Discriminator, Generator
from voice2face.storage import ModelFolder

SMALL = {"z_dim": 16, "w_dim": 16, "channel_base": 64, "channel_max": 16, "mapping_layers": 2}
PLAIN = (bool, int, float, str, type(None))


def _randomised(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every parameter and buffer given random values (noise strengths and biases are 0 at init)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not name.endswith("resample_filter"):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.5 + tensor)
    return module.eval()


def small_generator(resolution: int = 16, c_dim: int = 0, **fields) -> Generator:
    return _randomised(Generator(GeneratorConfig(c_dim=c_dim, img_resolution=resolution, **{**SMALL, **fields})), 1)


def small_discriminator(resolution: int = 16, c_dim: int = 0) -> Discriminator:
    config = DiscriminatorConfig(c_dim=c_dim, img_resolution=resolution, channel_base=64, channel_max=16,
                                 mbstd_group_size=2)  # fmt: skip
    return _randomised(Discriminator(config), 2)


def images(G: Generator, psi: float = 0.7, c: torch.Tensor | None = None) -> torch.Tensor:
    z = torch.randn([2, G.z_dim], generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return G(z, c, truncation_psi=psi, noise_mode="const")


# --------------------------------------------------------------------------- the NVIDIA format, by hand


class Ran(AssertionError):
    """Raised by the stand-in modules' functions: nothing may call them when a pickle is read."""


def _never(*args, **kwargs):
    raise Ran("an official module's code ran while a checkpoint was read")


class EasyDict(dict):
    """dnnlib.util.EasyDict as the official code defines it: a dict (pickled by its class name)."""


class TFNetwork:
    """A TensorFlow-era network object (dnnlib.tflib.network.Network)."""


def _fake_modules() -> dict[str, types.ModuleType]:
    """The modules an official pickle names, holding stand-ins: present only while pickling."""
    names = ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util", "dnnlib.tflib", "dnnlib.tflib.network")
    modules = {name: types.ModuleType(name) for name in names}
    hook = _never
    hook.__module__, hook.__qualname__ = "torch_utils.persistence", "_reconstruct_persistent_obj"
    modules["torch_utils.persistence"]._reconstruct_persistent_obj = hook
    modules["torch_utils"].persistence = modules["torch_utils.persistence"]
    EasyDict.__module__, TFNetwork.__module__, TFNetwork.__qualname__ = "dnnlib.util", "dnnlib.tflib.network", "Network"
    modules["dnnlib.util"].EasyDict = EasyDict
    modules["dnnlib.tflib.network"].Network = TFNetwork
    return modules


class Record:
    """One network object as ``torch_utils.persistence`` pickles it: ``_reconstruct_persistent_obj(meta)``."""

    def __init__(self, meta: dict):
        self.meta = meta

    def __reduce__(self):
        return sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (self.meta,)


OFFICIAL_SOURCE = "# the official networks module's source would be here; it is never executed\n"


def record_of(module: torch.nn.Module, source: str, init_kwargs: dict | None = None) -> Record:
    """The official record of one of our modules (our class and tensor names are the official ones)."""
    plain = {name: value for name, value in vars(module).items() if isinstance(value, PLAIN) and name != "impl"}
    attributes = {name: np.float64(value) if isinstance(value, float) else value  # as the official gains are
                  for name, value in plain.items() if not name.startswith("_")}  # fmt: skip
    state = {
        "training": False, **attributes,
        "_parameters": OrderedDict(module._parameters), "_buffers": OrderedDict(module._buffers),
        "_non_persistent_buffers_set": set(), "_forward_hooks": OrderedDict(), "_backward_hooks": OrderedDict(),
        "_modules": OrderedDict((name, record_of(child, source) if child is not None else None)
                                for name, child in module._modules.items()),
        "_init_args": (), "_init_kwargs": init_kwargs or {},
    }  # fmt: skip
    meta = {"type": "class", "version": 6, "module_src": source, "class_name": type(module).__name__, "state": state}
    return Record(meta)


def g_kwargs(G: Generator, layout: str) -> dict:
    """The generator's init arguments as stylegan2-ada-pytorch (nested) or stylegan3 (flat) stores them."""
    config = G.config
    synthesis = EasyDict(channel_base=config.channel_base, channel_max=config.channel_max, num_fp16_res=4,
                         conv_clamp=config.conv_clamp)  # fmt: skip
    kwargs = {"z_dim": config.z_dim, "c_dim": config.c_dim, "w_dim": config.w_dim,
              "img_resolution": config.img_resolution, "img_channels": 3,
              "mapping_kwargs": EasyDict(num_layers=config.mapping_layers)}  # fmt: skip
    return {**kwargs, "synthesis_kwargs": synthesis} if layout == "ada" else {**kwargs, **synthesis}


def official_pickle(path: Path, G: torch.nn.Module, D: torch.nn.Module | None = None, *, layout: str = "ada",
                    protocol: int = 4, source: str = OFFICIAL_SOURCE, **extra) -> Path:  # fmt: skip
    """Write ``{"G", "D", "G_ema", "augment_pipe", "training_set_kwargs"}`` as the official training loop does."""
    saved = {name: sys.modules.get(name) for name in _fake_modules()}
    sys.modules.update(_fake_modules())
    try:
        kwargs = g_kwargs(G, layout) if isinstance(G, Generator) else {}
        g = record_of(G, source, kwargs)
        d = None
        if D is not None:
            d = record_of(D, source, {"c_dim": D.c_dim, "img_resolution": D.img_resolution, "img_channels": 3,
                                      "channel_base": D.config.channel_base, "channel_max": D.config.channel_max,
                                      "epilogue_kwargs": EasyDict(mbstd_group_size=2)})  # fmt: skip
        data = {"G": g, "D": d, "G_ema": g, "augment_pipe": None, "training_set_kwargs": {"resolution": 16}, **extra}
        path.write_bytes(pickle.dumps(data, protocol=protocol))
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return path


def _no_official_module_imported() -> bool:
    return not any(name.split(".")[0] in ("torch_utils", "dnnlib", "training") for name in sys.modules)


@pytest.mark.parametrize(("layout", "protocol"), [("ada", 4), ("stylegan3", 3)])
def test_an_official_pickle_imports_to_the_same_networks(tmp_path, layout, protocol):
    G = small_generator(conv_clamp=256.0)
    D = small_discriminator()
    path = official_pickle(tmp_path / "network-snapshot.pkl", G, D, layout=layout, protocol=protocol)
    imported = read_stylegan2(path, discriminator=True)
    assert imported.config.generator == G.config and imported.config.discriminator == D.config
    G2, D2 = imported.modules["generator"], imported.modules["discriminator"]
    assert torch.equal(G2.mapping.w_avg, G.mapping.w_avg)  # truncation moves towards the same point
    for name in ("synthesis.b16.conv1.noise_const", "synthesis.b4.conv1.noise_strength"):
        assert torch.equal(G2.state_dict()[name], G.state_dict()[name])
    for psi in (1.0, 0.7):
        assert torch.equal(images(G2, psi), images(G, psi))
    img = torch.rand([4, 3, 16, 16], generator=torch.Generator().manual_seed(4)) * 2 - 1
    with torch.no_grad():
        assert torch.equal(D2(img, None), D(img, None))
    assert imported.provenance["imported_from"]["networks"] == {"generator": "G_ema", "discriminator": "D"}
    assert _no_official_module_imported()


def test_a_conditional_generator_keeps_its_label_embedding(tmp_path):
    G = small_generator(c_dim=5)
    c = torch.eye(5)[:2]
    G2 = load_stylegan2(official_pickle(tmp_path / "cond.pkl", G))
    assert G2.c_dim == 5 and torch.equal(images(G2, 0.5, c), images(G, 0.5, c))


def test_the_embedded_source_is_never_run(tmp_path):
    marker = tmp_path / "the-source-ran"
    source = (f"import pathlib\npathlib.Path({str(marker)!r}).write_text('executed')\n"
              "class Generator:\n    pass\n")  # fmt: skip
    path = official_pickle(tmp_path / "src.pkl", small_generator(), source=source)
    G = load_stylegan2(path)
    assert isinstance(G, Generator) and not marker.exists()
    assert _no_official_module_imported()


def _payload(callable_, *args):
    class Payload:
        def __reduce__(self):
            return callable_, args

    return Payload()


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (lambda marker: _payload(os.system, f"touch {marker}"), f"{os.system.__module__}.system"),
        (lambda marker: _payload(eval, f"open({str(marker)!r}, 'w')"), "builtins.eval"),
        (lambda marker: _payload(Path.write_text, marker, "x"), "pathlib.Path.write_text"),
    ],
    ids=["os.system", "eval", "a method"],
)
def test_a_reduce_payload_is_refused_and_nothing_runs(tmp_path, capsys, payload, named):
    marker = tmp_path / "payload-ran"
    path = official_pickle(tmp_path / "evil.pkl", small_generator(), augment_pipe=payload(marker))
    with pytest.raises(CheckpointError) as caught:
        load_stylegan2(path)
    message = str(caught.value)
    assert f"asks to load {named}," in message and str(path) in message and "\n" not in message
    assert not marker.exists()
    assert main(["import-stylegan2", str(path), "-o", str(tmp_path / "out" / "model")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "Traceback" not in err
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_a_tensorflow_pickle_is_named_as_such(tmp_path):
    path = official_pickle(tmp_path / "karras2019.pkl", small_generator(), G_ema=TFNetwork())
    with pytest.raises(CheckpointError, match=r"TensorFlow StyleGAN2 pickle \(it asks for dnnlib\.tflib\.network"):
        load_stylegan2(path)


def test_an_alias_free_stylegan3_generator_is_refused(tmp_path):
    G = small_generator()
    synthesis = G.synthesis
    for name in list(synthesis._modules):
        delattr(synthesis, name)
    synthesis.input, synthesis.L0_36_16 = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)  # stylegan3's layer names
    with pytest.raises(CheckpointError, match=r"its layers: input, L0_36_16 .*alias-free.*StyleGAN2 checkpoint"):
        load_stylegan2(official_pickle(tmp_path / "stylegan3-r.pkl", G))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("missing", "does not exist; check the path"),
        ("folder", "is not a file"),
        ("empty", "is empty; give an NVIDIA StyleGAN2 .pkl"),
        ("png", "is neither a network pickle nor a PyTorch checkpoint"),
        ("truncated pickle", "is truncated or damaged"),
        ("truncated pt", "is truncated or damaged"),
        ("other pickle", "holds no G_ema network (it holds: generator, step)"),
        ("other pt", "holds no rosinality g_ema generator (it holds: model)"),
    ],
)
def test_unusable_files_get_one_sentence_naming_them(tmp_path, content, expected):
    path = tmp_path / "checkpoint.pkl"
    if content == "folder":
        path.mkdir()
    elif content == "empty":
        path.write_bytes(b"")
    elif content == "png":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    elif content == "truncated pickle":
        whole = official_pickle(tmp_path / "whole.pkl", small_generator()).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif content == "truncated pt":
        torch.save({"g_ema": small_generator().state_dict()}, tmp_path / "whole.pt")
        path.write_bytes((tmp_path / "whole.pt").read_bytes()[:-100])
    elif content == "other pickle":
        path.write_bytes(pickle.dumps({"generator": [1, 2], "step": 3}))
    elif content == "other pt":
        torch.save({"model": {"w": torch.zeros(2)}}, path)
    with pytest.raises(CheckpointError) as caught:
        read_stylegan2(path)
    assert expected in str(caught.value) and str(path) in str(caught.value) and "\n" not in str(caught.value)


# --------------------------------------------------------------------------- official sizes


def _stride_free_copy(module: torch.nn.Module) -> torch.nn.Module:
    """The module with every tensor a zero-stride view of one number: a full-size network whose
    pickle is a few hundred kilobytes."""
    for child in module.modules():
        for group in (child._parameters, child._buffers):
            for name, tensor in group.items():
                if tensor is not None:
                    group[name] = torch.zeros((), dtype=tensor.dtype).expand(tensor.shape)
    return module


@pytest.mark.parametrize(
    ("resolution", "channel_base", "g_params", "num_ws"),
    [
        (1024, 32768, 30_370_060, 18),  # config F, FFHQ 1024 (stylegan2-ada-pytorch, stylegan3 stylegan2-*.pkl)
        (256, 16384, 24_767_458, 14),  # stylegan2-ada-pytorch --cfg=paper256
    ],
)
def test_official_sizes_import_with_the_official_counts_and_wplus(tmp_path, resolution, channel_base, g_params,
                                                                    num_ws):  # fmt: skip
    """The counts are those of the official networks.py built at these settings (measured with the
    stylegan2-ada-pytorch code; rosinality's model.py gives the same)."""
    config = GeneratorConfig(c_dim=0, img_resolution=resolution, channel_base=channel_base, channel_max=512)
    with torch.device("meta"):
        G = Generator(config)
    G = load_stylegan2(official_pickle(tmp_path / "full.pkl", _stride_free_copy(G)))
    assert G.config == config and sum(p.numel() for p in G.parameters()) == g_params
    with torch.no_grad():
        assert G.mapping(torch.randn([1, 512]), None).shape == (1, num_ws, 512)


# --------------------------------------------------------------------------- rosinality


def rosinality_generator_state(G: Generator) -> dict[str, torch.Tensor]:
    """Our generator's tensors under the names and shapes of rosinality's model.py Generator."""
    ours = G.state_dict()
    theirs = {"input.input": ours["synthesis.b4.const"][None]}
    for index in range(G.config.mapping_layers):
        for kind in ("weight", "bias"):
            theirs[f"style.{index + 1}.{kind}"] = ours[f"mapping.fc{index}.{kind}"]
    resolutions = G.synthesis.block_resolutions
    convs = [("conv1", "synthesis.b4.conv1")]
    convs += [(f"convs.{k}", f"synthesis.b{res}.conv{k % 2}") for k, res in
              enumerate(r for r in resolutions[1:] for _ in range(2))]  # fmt: skip
    for noise_index, (name, mine) in enumerate(convs):
        theirs[f"{name}.conv.weight"] = ours[f"{mine}.weight"][None]
        theirs[f"{name}.conv.modulation.weight"] = ours[f"{mine}.affine.weight"]
        theirs[f"{name}.conv.modulation.bias"] = ours[f"{mine}.affine.bias"]
        theirs[f"{name}.noise.weight"] = ours[f"{mine}.noise_strength"].reshape(1)
        theirs[f"{name}.activate.bias"] = ours[f"{mine}.bias"]
        theirs[f"noises.noise_{noise_index}"] = ours[f"{mine}.noise_const"][None, None]
        if mine.endswith("conv0"):
            theirs[f"{name}.conv.blur.kernel"] = ours[f"{mine}.resample_filter"] * 4
    rgbs = [("to_rgb1", "synthesis.b4.torgb")] + [(f"to_rgbs.{k}", f"synthesis.b{res}.torgb")
                                                  for k, res in enumerate(resolutions[1:])]  # fmt: skip
    for name, mine in rgbs:
        theirs[f"{name}.conv.weight"] = ours[f"{mine}.weight"][None]
        theirs[f"{name}.conv.modulation.weight"] = ours[f"{mine}.affine.weight"]
        theirs[f"{name}.conv.modulation.bias"] = ours[f"{mine}.affine.bias"]
        theirs[f"{name}.bias"] = ours[f"{mine}.bias"].reshape(1, -1, 1, 1)
        if name != "to_rgb1":
            theirs[f"{name}.upsample.kernel"] = ours["synthesis.b4.resample_filter"] * 4
    return theirs


def rosinality_discriminator_state(D: Discriminator) -> dict[str, torch.Tensor]:
    """Our discriminator's tensors under the names of rosinality's model.py Discriminator."""
    ours = D.state_dict()
    top = D.img_resolution
    blur = ours[f"b{top}.resample_filter"]
    theirs = {"convs.0.0.weight": ours[f"b{top}.fromrgb.weight"], "convs.0.1.bias": ours[f"b{top}.fromrgb.bias"]}
    for index, res in enumerate(D.block_resolutions, start=1):
        theirs.update({
            f"convs.{index}.conv1.0.weight": ours[f"b{res}.conv0.weight"],
            f"convs.{index}.conv1.1.bias": ours[f"b{res}.conv0.bias"],
            f"convs.{index}.conv2.0.kernel": blur, f"convs.{index}.conv2.1.weight": ours[f"b{res}.conv1.weight"],
            f"convs.{index}.conv2.2.bias": ours[f"b{res}.conv1.bias"],
            f"convs.{index}.skip.0.kernel": blur, f"convs.{index}.skip.1.weight": ours[f"b{res}.skip.weight"],
        })  # fmt: skip
    for name, mine in (("final_conv.0", "b4.conv"), ("final_linear.0", "b4.fc"), ("final_linear.1", "b4.out")):
        theirs[f"{name}.weight"] = ours[f"{mine}.weight"]
    theirs["final_conv.1.bias"], theirs["final_linear.0.bias"] = ours["b4.conv.bias"], ours["b4.fc.bias"]
    theirs["final_linear.1.bias"] = ours["b4.out.bias"]
    return theirs


def rosinality_checkpoint(path: Path, G: Generator, D: Discriminator | None = None, **extra) -> Path:
    """A checkpoint as rosinality's train.py saves it (optimiser states and its argparse options included)."""
    g_state = rosinality_generator_state(G)
    d_state = rosinality_discriminator_state(D) if D is not None else {}
    options = argparse.Namespace(size=G.img_resolution, n_mlp=G.config.mapping_layers, latent=G.w_dim,
                                 channel_multiplier=2, path="lmdb", r1=10.0, augment=False)  # fmt: skip
    optimiser = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(2)}},
                 "param_groups": [{"lr": 0.002, "betas": (0, 0.99), "params": [0]}]}  # fmt: skip
    torch.save({"g": g_state, "d": d_state, "g_ema": g_state, "g_optim": optimiser, "d_optim": optimiser,
                "args": options, "ada_aug_p": 0.1, **extra}, path)  # fmt: skip
    return path


def test_a_rosinality_checkpoint_round_trips(tmp_path):
    G, D = small_generator(), small_discriminator()
    D = _randomised(Discriminator(DiscriminatorConfig(**{**vars(D.config), "mbstd_group_size": 4})), 2)
    path = rosinality_checkpoint(tmp_path / "000100.pt", G, D, latent_avg=G.mapping.w_avg.clone())
    imported = read_stylegan2(path, discriminator=True)
    assert imported.config.generator == GeneratorConfig(c_dim=0, img_resolution=16, **SMALL)
    G2, D2 = imported.modules["generator"], imported.modules["discriminator"]
    for psi in (1.0, 0.7):
        assert torch.equal(images(G2, psi), images(G, psi))
    img = torch.rand([4, 3, 16, 16], generator=torch.Generator().manual_seed(4)) * 2 - 1
    with torch.no_grad():
        assert torch.equal(D2(img, None), D(img, None))
    assert imported.provenance["imported_from"]["format"] == "rosinality-pt"


def test_without_latent_avg_w_avg_is_the_mean_mapped_latent(tmp_path):
    G = small_generator()
    G2 = load_stylegan2(rosinality_checkpoint(tmp_path / "000100.pt", G))
    assert torch.equal(images(G2, 1.0), images(G, 1.0))
    with torch.no_grad():
        mean = G.mapping(torch.randn([20000, G.z_dim], generator=torch.Generator().manual_seed(9)), None)[:, 0].mean(0)
    assert torch.allclose(G2.mapping.w_avg, mean, atol=0.05 * float(mean.abs().max()))


def test_a_rosinality_checkpoint_with_a_foreign_class_is_refused(tmp_path):
    path = rosinality_checkpoint(tmp_path / "x.pt", small_generator(), args=_payload(os.system, "true"))
    with pytest.raises(CheckpointError, match=rf"asks to load {os.system.__module__}\.system,"):
        read_stylegan2(path)


def test_rosinality_at_256_px_with_channel_multiplier_2_has_their_size(tmp_path):
    """30,034,338 parameters: rosinality's model.py Generator(256, 512, 8, channel_multiplier=2) (and the
    official networks.py at channel_base 32768), W+ 14 × 512."""
    with torch.device("meta"):
        G = Generator(GeneratorConfig(c_dim=0, img_resolution=256, channel_base=32768))
    state = {name: setup_filter() * 4 if name.endswith(".kernel") else torch.zeros(()).expand(tensor.shape)
             for name, tensor in rosinality_generator_state(G).items()}  # fmt: skip
    torch.save({"g_ema": state}, tmp_path / "ffhq-256.pt")
    G2 = load_stylegan2(tmp_path / "ffhq-256.pt")
    assert G2.config.channel_base == 32768 and sum(p.numel() for p in G2.parameters()) == 30_034_338
    assert G2.num_ws == 14


# --------------------------------------------------------------------------- the model folder and the command


def test_the_command_writes_a_model_folder_atomically(tmp_path, capsys):
    G = small_generator()
    path = official_pickle(tmp_path / "ffhq.pkl", G, small_discriminator())
    out = tmp_path / "models" / "ffhq"
    assert main(["import-stylegan2", str(path), "-o", str(out), "--discriminator"]) == 0
    assert f"→ {out}: generator 16 px, W+ 6×16" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "discriminator.safetensors", "generator.safetensors", "provenance.json",
    ]  # fmt: skip
    loaded = ModelFolder(out).load().modules
    assert torch.equal(images(loaded["generator"]), images(G))
    provenance = json.loads((out / "provenance.json").read_text())["imported_from"]
    assert provenance["file"] == "ffhq.pkl" and provenance["w_avg"] == "checkpoint"
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    assert main(["import-stylegan2", str(path), "-o", str(out)]) == 1  # would replace it
    assert "already exists" in capsys.readouterr().err
    evil = official_pickle(tmp_path / "evil.pkl", G, augment_pipe=_payload(os.system, "true"))
    assert main(["import-stylegan2", str(evil), "-o", str(out), "--overwrite"]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # a failed import changes nothing
    assert sorted(p.name for p in out.parent.iterdir()) == ["ffhq"]  # and leaves no staging folder
    assert main(["import-stylegan2", str(path), "-o", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "generator.safetensors", "provenance.json"]


def test_asking_for_a_discriminator_a_checkpoint_lacks_says_so(tmp_path):
    nvidia = official_pickle(tmp_path / "g-only.pkl", small_generator())
    with pytest.raises(CheckpointError, match=r"holds no D network"):
        read_stylegan2(nvidia, discriminator=True)
    rosinality = rosinality_checkpoint(tmp_path / "g-only.pt", small_generator())
    with pytest.raises(CheckpointError, match=r"holds no discriminator \(d\); import it without --discriminator"):
        read_stylegan2(rosinality, discriminator=True)


def test_a_tensor_reaching_outside_its_storage_is_refused(tmp_path):
    """torch would grow the storage and show uninitialised memory; the reader refuses the file instead."""
    storage = torch.arange(4.0)._typed_storage()
    view = _payload(torch._utils._rebuild_tensor_v2, storage, 0, (100,), (1,), False, OrderedDict())
    path = official_pickle(tmp_path / "overreach.pkl", small_generator(), augment_pipe=view)
    with pytest.raises(CheckpointError, match=r"truncated or damaged \(a tensor reaches outside its storage\)"):
        read_stylegan2(path)
