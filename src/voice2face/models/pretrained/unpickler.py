"""Read an NVIDIA network pickle (stylegan2-ada-pytorch, stylegan3) without running anything in it.

The official loader rebuilds each network by executing the Python source the pickle carries
(``torch_utils.persistence``: every network object is stored as a record ``{"type": "class",
"version", "module_src", "class_name", "state"}`` and the hook that reads it back ``exec``s
``module_src``). Here :class:`RestrictedUnpickler` resolves only the globals in :data:`ALLOWED`, each
to a stand-in that builds plain data:

- the persistence hook → :class:`PersistentRecord` (class name, init arguments, state, and a digest
  of ``module_src``, which is kept as text and never executed);
- tensors → ``torch._utils._rebuild_tensor_v2`` on a storage read back by
  ``torch.load(weights_only=True)`` (the pickle holds each storage as the bytes of a ``torch.save``);
  parameters → their tensors, without hooks;
- containers (``OrderedDict``, ``set``, dnnlib's ``EasyDict`` as a plain dict) and numeric numpy
  scalars and arrays (the official networks keep a few gains as ``numpy.float64``).

Any other global (``posix.system``, ``builtins.eval``, a class of the embedded source …) stops the
read with :class:`RefusedGlobal` before anything is called; nothing is imported.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import numpy as np
import torch

from voice2face.errors import CheckpointError

#: The one record type ``torch_utils.persistence`` writes (its version is recorded, not checked).
RECORD_TYPE = "class"


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle asked for a global outside :data:`ALLOWED` (``name`` is ``module.qualname``)."""

    def __init__(self, module: str, name: str):
        super().__init__(f"{module}.{name}")
        self.name = f"{module}.{name}"


class PersistentRecord:
    """One network object of an NVIDIA pickle as stored by ``torch_utils.persistence``, unexecuted.

    ``class_name`` (e.g. ``"SynthesisLayer"``), ``state`` (the object's ``__dict__``: ``_parameters``,
    ``_buffers``, ``_modules``, plain attributes, ``_init_args`` and ``_init_kwargs``), ``version`` of
    the persistence format and ``source_sha256``, the digest of the embedded module source.
    """

    def __init__(self, class_name: str, state: dict[str, Any], version: Any, source_sha256: str):
        self.class_name, self.state, self.version, self.source_sha256 = class_name, state, version, source_sha256

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError("a network record was given a second state")

    def __repr__(self) -> str:
        return f"PersistentRecord({self.class_name!r}, children={list(self.children())})"

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """The keyword arguments the object was constructed with (``_init_kwargs``; {} if absent)."""
        kwargs = self.state.get("_init_kwargs") or {}
        return dict(kwargs) if isinstance(kwargs, dict) else {}

    def attr(self, name: str, default: Any = None) -> Any:
        """A plain attribute the object carried (``self.<name>`` in the official class)."""
        return self.state.get(name, default)

    def children(self) -> dict[str, PersistentRecord | None]:
        """The object's sub-modules by name (``_modules``), in their order."""
        modules = self.state.get("_modules") or {}
        if not isinstance(modules, dict):
            raise pickle.UnpicklingError(f"the {self.class_name} record's _modules is not a mapping")
        return dict(modules)

    def child(self, name: str) -> PersistentRecord | None:
        """The sub-module ``name``, or None."""
        child = self.children().get(name)
        return child if isinstance(child, PersistentRecord) else None

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Every parameter and persistent buffer under this object, by state-dict name (as
        ``nn.Module.state_dict()`` names them: ``synthesis.b4.conv1.weight``)."""
        found: dict[str, torch.Tensor] = {}
        skip = set(self.state.get("_non_persistent_buffers_set") or ())
        for group in ("_parameters", "_buffers"):
            entries = self.state.get(group) or {}
            if not isinstance(entries, dict):
                raise pickle.UnpicklingError(f"the {self.class_name} record's {group} is not a mapping")
            for name, tensor in entries.items():
                if tensor is None or name in skip:
                    continue
                if not isinstance(tensor, torch.Tensor):
                    raise pickle.UnpicklingError(f"{prefix}{name} of the {self.class_name} record is not a tensor")
                found[prefix + name] = tensor
        for name, child in self.children().items():
            if child is None:
                continue
            if not isinstance(child, PersistentRecord):
                raise pickle.UnpicklingError(f"{prefix}{name} is not a network record")
            found.update(child.tensors(f"{prefix}{name}."))
        return found

    def walk(self) -> Iterator[PersistentRecord]:
        """This record and every record below it, depth first."""
        yield self
        for child in self.children().values():
            if isinstance(child, PersistentRecord):
                yield from child.walk()


# --------------------------------------------------------------------------- stand-ins


def _record_from_meta(meta: Any) -> PersistentRecord:
    """Stand-in for ``torch_utils.persistence._reconstruct_persistent_obj``: keep, never execute."""
    if not isinstance(meta, dict) or meta.get("type") != RECORD_TYPE:
        raise pickle.UnpicklingError("a persistence record is not of the class type the official format writes")
    class_name, state, source = meta.get("class_name"), meta.get("state"), meta.get("module_src")
    if not isinstance(class_name, str) or not isinstance(state, dict) or not isinstance(source, str):
        raise pickle.UnpicklingError("a persistence record lacks its class name, state or module source")
    digest = hashlib.sha256(source.encode("utf-8", "replace")).hexdigest()
    return PersistentRecord(class_name, dict(state), meta.get("version"), digest)


def _storage_from_bytes(data: Any) -> torch.storage.TypedStorage:
    """Stand-in for ``torch.storage._load_from_bytes``: the same bytes through torch's weights-only loader."""
    if not isinstance(data, bytes):
        raise pickle.UnpicklingError("a tensor storage is not stored as bytes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TypedStorage is deprecated; the format uses it
        storage = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    if not isinstance(storage, torch.storage.TypedStorage):
        raise pickle.UnpicklingError("a tensor storage holds something other than a storage")
    return storage


def _tensor(storage: Any, offset: Any, size: Any, stride: Any, *_: Any) -> torch.Tensor:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: the tensor view, without grad or hooks."""
    if not isinstance(storage, torch.storage.TypedStorage):
        raise pickle.UnpicklingError("a tensor does not refer to a storage")
    if not (isinstance(offset, int) and all(isinstance(n, int) for n in (*size, *stride))):
        raise pickle.UnpicklingError("a tensor's offset, size or stride is not whole numbers")
    if len(size) != len(stride) or offset < 0 or min(stride, default=0) < 0:
        raise pickle.UnpicklingError("a tensor's offset or strides are out of range")
    # torch would grow a storage too small for the view and show uninitialised memory: refuse instead
    last = sum((n - 1) * step for n, step in zip(size, stride, strict=True))
    extent = offset + last + 1 if all(n > 0 for n in size) else 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TypedStorage is deprecated; the format uses it
        if extent > storage.size():
            raise pickle.UnpicklingError("a tensor reaches outside its storage")
        return torch._utils._rebuild_tensor_v2(storage, offset, tuple(size), tuple(stride), False, OrderedDict())


def _parameter(data: Any, *_: Any) -> torch.Tensor:
    """Stand-in for ``torch._utils._rebuild_parameter``: the parameter's tensor (hooks dropped)."""
    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError("a parameter holds no tensor")
    return data


class _EasyDict(dict):
    """dnnlib's ``EasyDict`` (a dict with attribute access), read back as a plain dict."""


class _NumpyDType:
    """A numpy dtype named in the pickle (``numpy.dtype("f8", False, True)`` + its byte order)."""

    def __init__(self, name: Any, *_: Any):
        if not isinstance(name, str):
            raise pickle.UnpicklingError("a numpy dtype is not named by a string")
        self.dtype = np.dtype(name)
        if self.dtype.kind not in "biuf" or self.dtype.fields is not None:
            raise pickle.UnpicklingError(f"numpy dtype {name!r} is not a plain number type")

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.dtype = self.dtype.newbyteorder(state[1])


def _numpy_scalar(dtype: Any, data: Any = None) -> int | float | bool:
    """Stand-in for ``numpy.core.multiarray.scalar``: a numeric numpy scalar as a Python number."""
    if not isinstance(dtype, _NumpyDType) or not isinstance(data, bytes) or len(data) != dtype.dtype.itemsize:
        raise pickle.UnpicklingError("a numpy scalar is not a plain number")
    return np.frombuffer(data, dtype=dtype.dtype)[0].item()


class _NumpyArray:
    """Stand-in for ``numpy.core.multiarray._reconstruct``: a numeric array, read from its raw bytes."""

    def __init__(self, *_: Any):
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[2], _NumpyDType)):
            raise pickle.UnpicklingError("a numpy array's state is not (version, shape, dtype, order, bytes)")
        _, shape, dtype, fortran, raw = state
        if not isinstance(raw, bytes) or not all(isinstance(n, int) for n in shape):
            raise pickle.UnpicklingError("a numpy array holds objects, not numbers")
        array = np.frombuffer(raw, dtype=dtype.dtype)
        self.array = array.reshape(shape, order="F" if fortran else "C")


#: Every global an official network pickle needs, each mapped to what it resolves to here.
ALLOWED: dict[tuple[str, str], Callable[..., Any] | type] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _record_from_meta,
    ("torch._utils", "_rebuild_tensor_v2"): _tensor,
    ("torch._utils", "_rebuild_parameter"): _parameter,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,  # pickle protocols 2 and 3 write a set as set(list)
    ("dnnlib.util", "EasyDict"): _EasyDict,
    ("numpy", "dtype"): _NumpyDType,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,  # numpy 1.x
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,  # numpy 2.x
    ("numpy.core.multiarray", "_reconstruct"): _NumpyArray,
    ("numpy._core.multiarray", "_reconstruct"): _NumpyArray,
    ("numpy", "ndarray"): _NumpyArray,
}


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only :data:`ALLOWED` (and imports nothing)."""

    def find_class(self, module: str, name: str) -> Any:
        """The stand-in for ``module.name``, or :class:`RefusedGlobal`."""
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        """Network pickles hold no persistent ids (``torch.save`` files do: they are read elsewhere)."""
        raise pickle.UnpicklingError("the pickle refers to data outside itself (a persistent id)")


def restricted_load(handle: BinaryIO) -> Any:
    """The first object pickled in ``handle``, read by :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(handle).load()


def damaged(path: Any, exc: BaseException) -> CheckpointError:
    """The error for a checkpoint that cannot be read to its end, with the reader's first line of detail."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return CheckpointError(f"{path} is truncated or damaged ({detail}); download it again.")


def contents(data: Any) -> str:
    """What a checkpoint's top level holds, for an error message: its first keys, or its type."""
    return ", ".join(sorted(map(str, data))[:6]) if isinstance(data, dict) else type(data).__name__
