"""Loom for Swift from Python: deterministic networks through libloom's C ABI (include/loom.h).

The library is found through the ``LOOM_LIBRARY`` environment variable (a path to libloomc.so),
else next to this package, else in the repository's ``.build/release`` folder.

    >>> import loom, numpy as np
    >>> net = loom.Network.from_json(open("xor.json").read())
    >>> y = net.forward(np.array([[0, 1]], dtype=np.float32))

The original Loom's function names are kept as thin aliases (``create_network_from_json``,
``forward_simple``, ``train_simple``, ``save_model_simple``, ``load_model_simple``,
``evaluate_network_simple``).
"""
from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

__all__ = ["LoomError", "Network", "Trainer", "reference_hashes", "version",
           "create_network_from_json", "forward_simple", "train_simple", "save_model_simple",
           "load_model_simple", "evaluate_network_simple"]

_STATUS = {1: "invalid argument", 2: "invalid JSON", 3: "invalid network", 4: "invalid model", 5: "shape mismatch",
           6: "invalid input", 7: "non-finite value", 8: "I/O error", 9: "unsupported version", 10: "buffer too small"}


class LoomError(Exception):
    """A failed call: ``status`` is the loom_status code, ``message`` libloom's message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{_STATUS.get(status, 'error')} ({status}): {message}")
        self.status = status
        self.message = message


def _find_library() -> str:
    candidates = []
    if os.environ.get("LOOM_LIBRARY"):
        candidates.append(Path(os.environ["LOOM_LIBRARY"]))
    here = Path(__file__).resolve().parent
    candidates.append(here / "libloomc.so")
    for parent in here.parents:
        candidates.append(parent / ".build" / "release" / "libloomc.so")
    for c in candidates:
        if c.is_file():
            return str(c)
    raise OSError("libloomc.so not found: build it with `swift build -c release` and set LOOM_LIBRARY to its path")


_lib = ctypes.CDLL(_find_library())
_P = ctypes.c_void_p
_F = ctypes.POINTER(ctypes.c_float)
_SZ = ctypes.c_size_t


def _sig(name, args, res=ctypes.c_int):
    f = getattr(_lib, name)
    f.argtypes, f.restype = args, res
    return f


_version = _sig("loom_version", [], ctypes.c_char_p)
_last_error = _sig("loom_last_error", [], ctypes.c_char_p)
_from_json = _sig("loom_network_from_json", [ctypes.c_char_p, ctypes.POINTER(_P)])
_load = _sig("loom_network_load", [ctypes.c_char_p, ctypes.POINTER(_P)])
_save = _sig("loom_network_save", [_P, ctypes.c_char_p])
_save_st = _sig("loom_network_save_safetensors", [_P, ctypes.c_char_p, ctypes.c_char_p])
_free = _sig("loom_network_free", [_P], None)
_in_size = _sig("loom_network_input_size", [_P, ctypes.POINTER(_SZ)])
_out_size = _sig("loom_network_output_size", [_P, ctypes.POINTER(_SZ)])
_threads = _sig("loom_network_set_threads", [_P, ctypes.c_int])
_forward = _sig("loom_network_forward", [_P, _F, _SZ, _F, _SZ])
_info = _sig("loom_network_info_json", [_P, ctypes.c_char_p, _SZ, ctypes.POINTER(_SZ)])
_hash = _sig("loom_network_weights_hash", [_P, ctypes.POINTER(ctypes.c_uint64)])
_tr_new = _sig("loom_trainer_new", [_P, ctypes.POINTER(_P)])
_tr_step = _sig("loom_trainer_step", [_P, _F, _SZ, _F, _SZ, _F])
_tr_free = _sig("loom_trainer_free", [_P], None)
_ref = _sig("loom_reference_hashes", [ctypes.c_char_p, _SZ, ctypes.POINTER(_SZ)])


def _check(status: int) -> None:
    if status != 0:
        raise LoomError(status, _last_error().decode("utf-8", "replace"))


def _text(fn, *args) -> str:
    needed = _SZ(0)
    s = fn(*args, None, 0, ctypes.byref(needed))
    if s not in (0, 10):
        _check(s)
    buf = ctypes.create_string_buffer(needed.value)
    _check(fn(*args, buf, needed.value, ctypes.byref(needed)))
    return buf.value.decode("utf-8")


def _floats(a) -> np.ndarray:
    """A contiguous float32 view of `a` (no copy when it already is one)."""
    return np.ascontiguousarray(a, dtype=np.float32)


def version() -> str:
    """libloom's version."""
    return _version().decode()


class _Handle:
    """A libloom handle freed by `close` (idempotent), on garbage collection, or by `with`."""

    _h = None
    _free = None

    def close(self) -> None:
        """Frees the handle (idempotent)."""
        if self._h is not None and self._h.value is not None:
            type(self)._free(self._h)
        self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Network(_Handle):
    """A network (IR or saved model). Outputs are bit-identical for any thread count."""

    _free = staticmethod(_free)

    def __init__(self, handle: int):
        self._h = _P(handle)

    @classmethod
    def from_json(cls, text: str) -> "Network":
        """Builds from IR or saved-model JSON text."""
        h = _P()
        _check(_from_json(text.encode("utf-8"), ctypes.byref(h)))
        return cls(h.value)

    @classmethod
    def load(cls, path: str) -> "Network":
        """Loads a saved model (.json) or a safetensors file with its IR in the metadata."""
        h = _P()
        _check(_load(os.fsencode(path), ctypes.byref(h)))
        return cls(h.value)

    def _handle(self):
        if self._h is None or self._h.value is None:
            raise LoomError(1, "the network is closed")
        return self._h

    @property
    def input_size(self) -> int:
        n = _SZ(0)
        _check(_in_size(self._handle(), ctypes.byref(n)))
        return n.value

    @property
    def output_size(self) -> int:
        n = _SZ(0)
        _check(_out_size(self._handle(), ctypes.byref(n)))
        return n.value

    def set_threads(self, threads: int) -> None:
        """Threads for this network's work (never changes a result)."""
        _check(_threads(self._handle(), int(threads)))

    def forward(self, x) -> np.ndarray:
        """Outputs for a batch: x has batch × input_size values (any shape with that many), float32."""
        xs = _floats(x)
        n_in, n_out = self.input_size, self.output_size
        if xs.size == 0 or xs.size % n_in != 0:
            raise LoomError(5, f"{xs.size} values are not a whole number of samples of {n_in}")
        batch = xs.size // n_in
        y = np.empty((batch, n_out), dtype=np.float32)
        _check(_forward(self._handle(), xs.ctypes.data_as(_F), batch, y.ctypes.data_as(_F), y.size))
        return y

    def info(self) -> dict:
        """The blueprint: layers, shapes, parameter counts."""
        return json.loads(_text(_info, self._handle()))

    def weights_hash(self) -> int:
        """FNV-1a 64 of every parameter, as in the golden hash file."""
        v = ctypes.c_uint64(0)
        _check(_hash(self._handle(), ctypes.byref(v)))
        return v.value

    def save(self, path: str) -> None:
        """Saves IR, weights and optimizer state as JSON (atomically)."""
        _check(_save(self._handle(), os.fsencode(path)))

    def save_safetensors(self, path: str, dtype: Optional[str] = None) -> None:
        """Saves the weights (and the IR in the metadata) as safetensors, in any of the 13 dtypes."""
        _check(_save_st(self._handle(), os.fsencode(path), dtype.encode() if dtype else None))

    def trainer(self) -> "Trainer":
        """A trainer with the IR's training block (loss, optimizer, scheduler)."""
        return Trainer(self)

    def train(self, x, targets, steps: int = 1) -> List[float]:
        """`steps` optimizer steps on one batch; returns the losses."""
        with self.trainer() as t:
            return [t.step(x, targets) for _ in range(steps)]


class Trainer(_Handle):
    """Optimizer steps on a network (the IR's training block)."""

    _free = staticmethod(_tr_free)

    def __init__(self, network: Network):
        self.network = network
        h = _P()
        _check(_tr_new(network._handle(), ctypes.byref(h)))
        self._h = h

    def step(self, x, targets) -> float:
        """One step on a batch; targets: class ids (cross-entropy) or batch × output_size values."""
        if self._h is None:
            raise LoomError(1, "the trainer is closed")
        xs, ts = _floats(x), _floats(targets)
        n_in = self.network.input_size
        if xs.size == 0 or xs.size % n_in != 0:
            raise LoomError(5, f"{xs.size} values are not a whole number of samples of {n_in}")
        loss = ctypes.c_float(0)
        _check(_tr_step(self._h, xs.ctypes.data_as(_F), xs.size // n_in, ts.ctypes.data_as(_F), ts.size, ctypes.byref(loss)))
        return loss.value



def reference_hashes() -> List[str]:
    """The golden reference networks' `name hash` lines (as `loom verify`)."""
    return _text(_ref).splitlines()


# The original Loom's simple API, as thin aliases.
def create_network_from_json(text: str) -> Network:
    return Network.from_json(text)


def forward_simple(network: Network, x) -> np.ndarray:
    return network.forward(x)


def train_simple(network: Network, x, targets, steps: int = 1) -> List[float]:
    return network.train(x, targets, steps)


def save_model_simple(network: Network, path: str) -> None:
    network.save(path)


def load_model_simple(path: str) -> Network:
    return Network.load(path)


def evaluate_network_simple(network: Network, x, labels: Sequence[int]) -> float:
    """Share of samples whose largest output is the label."""
    y = network.forward(x)
    return float(np.mean(np.argmax(y, axis=1) == np.asarray(labels)))
