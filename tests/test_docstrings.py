"""Every public class and function of the networks and model folders documents itself,
and the tensor-facing ones say their shapes."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "voice2face.models.ops",
    "voice2face.models.stylegan2",
    "voice2face.models.stylegan2.mapping",
    "voice2face.models.stylegan2.generator",
    "voice2face.models.stylegan2.discriminator",
    "voice2face.models.face_nets",
    "voice2face.models.stylegan",
    "voice2face.models.dcgan",
    "voice2face.models.voice_encoder",
    "voice2face.models.registry",
    "voice2face.models.pretrained",
    "voice2face.models.pretrained.unpickler",
    "voice2face.models.pretrained.nvidia",
    "voice2face.models.pretrained.rosinality",
    "voice2face.storage.checkpoint",
    "voice2face.storage.layout",
    "voice2face.storage.model_folder",
    "voice2face.storage.run_folder",
    "voice2face.storage.metric_records",
    "voice2face.evaluation.registry",
    "voice2face.metrics.cache",
    "voice2face.storage.resolver",
    "voice2face.storage.trainer_state",
    "voice2face.audio.features",
    "voice2face.audio.torch_features",
]


def _public_members(module):
    for name, member in vars(module).items():
        if name.startswith("_") or getattr(member, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(member) or inspect.isfunction(member):
            yield name, member


@pytest.mark.parametrize("module_name", MODULES)
def test_public_classes_and_functions_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name, member in _public_members(module) if not inspect.getdoc(member)]
    assert not missing, f"{module_name}: no docstring on {missing}"


@pytest.mark.parametrize("module_name", [m for m in MODULES if ".models." in m])
def test_network_modules_state_their_shapes(module_name):
    module = importlib.import_module(module_name)
    unshaped = []
    for name, member in _public_members(module):
        if inspect.isclass(member) and hasattr(member, "forward"):
            text = (inspect.getdoc(member) or "") + (inspect.getdoc(member.forward) or "")
            if "[" not in text:
                unshaped.append(name)
    assert not unshaped, f"{module_name}: modules whose docstrings give no shape: {unshaped}"
