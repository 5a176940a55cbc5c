"""Loom for Swift from Python: deterministic networks through libloom's C ABI (include/loom.h).

The library is found through the ``LOOM_LIBRARY`` environment variable (a path to libloom.so),
else next to this package (``pip install`` from the repository builds and bundles it), else in the
repository's ``.build/release`` folder.

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
from typing import Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

__all__ = ["LoomError", "Network", "Trainer", "StepState", "StepResult", "Tween", "Tokenizer", "Generator",
           "reference_hashes", "reference_cases", "ReferenceCase", "fnv1a64", "version",
           "sgd", "adam", "adamw", "rmsprop", "constant", "linear", "cosine", "cosine_restarts", "exponential",
           "step_lr", "polynomial", "warmup",
           "create_network_from_json", "forward_simple", "train_simple", "save_model_simple",
           "load_model_simple", "evaluate_network_simple"]

_STATUS = {1: "invalid argument", 2: "invalid JSON", 3: "invalid network", 4: "invalid model", 5: "shape mismatch",
           6: "invalid input", 7: "non-finite value", 8: "I/O error", 9: "unsupported version", 10: "buffer too small",
           11: "device error"}


class LoomError(Exception):
    """A failed call: ``status`` is the loom_status code, ``message`` libloom's message."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{_STATUS.get(status, 'error')} ({status}): {message}")
        self.status = status
        self.message = message


_LIB_NAME = "libloom.so"


def _find_library() -> str:
    candidates = []
    if os.environ.get("LOOM_LIBRARY"):
        candidates.append(Path(os.environ["LOOM_LIBRARY"]))
    here = Path(__file__).resolve().parent
    candidates.append(here / _LIB_NAME)
    for parent in here.parents:
        candidates.append(parent / ".build" / "release" / _LIB_NAME)
    for c in candidates:
        if c.is_file():
            return str(c)
    raise OSError(f"{_LIB_NAME} not found: build it with scripts/build-libloom (or reinstall the package from the "
                  "repository, which builds it) or set LOOM_LIBRARY to its path")


_lib = ctypes.CDLL(_find_library())
_P = ctypes.c_void_p
_F = ctypes.POINTER(ctypes.c_float)
_D = ctypes.POINTER(ctypes.c_double)
_I32 = ctypes.POINTER(ctypes.c_int32)
_U8 = ctypes.POINTER(ctypes.c_uint8)
_U64 = ctypes.POINTER(ctypes.c_uint64)
_SZ = ctypes.c_size_t
_PSZ = ctypes.POINTER(_SZ)
_S = ctypes.c_char_p
_TEXT_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)


def _sig(name, args, res=ctypes.c_int):
    f = getattr(_lib, name)
    f.argtypes, f.restype = args, res
    return f


_version = _sig("loom_version", [], _S)
_last_error = _sig("loom_last_error", [], _S)
_from_json = _sig("loom_network_from_json", [_S, ctypes.POINTER(_P)])
_from_st = _sig("loom_network_from_safetensors", [_U8, _SZ, ctypes.POINTER(_P)])
_load = _sig("loom_network_load", [_S, ctypes.POINTER(_P)])
_to_json = _sig("loom_network_to_json", [_P, _S, _SZ, _PSZ])
_to_st = _sig("loom_network_to_safetensors", [_P, _S, _U8, _SZ, _PSZ])
_save = _sig("loom_network_save", [_P, _S])
_save_st = _sig("loom_network_save_safetensors", [_P, _S, _S])
_free = _sig("loom_network_free", [_P], None)
_in_size = _sig("loom_network_input_size", [_P, _PSZ])
_out_size = _sig("loom_network_output_size", [_P, _PSZ])
_out_shape = _sig("loom_network_output_shape", [_P, _PSZ, _SZ, _PSZ])
_param_count = _sig("loom_network_parameter_count", [_P, _PSZ])
_threads = _sig("loom_network_set_threads", [_P, ctypes.c_int])
_forward = _sig("loom_network_forward", [_P, _F, _SZ, _F, _SZ])
_forward64 = _sig("loom_network_forward_f64", [_P, _D, _SZ, _D, _SZ])
_backward = _sig("loom_network_backward", [_P, _F, _SZ, _F, _F, _SZ, _F, _SZ])
_backward64 = _sig("loom_network_backward_f64", [_P, _D, _SZ, _D, _D, _SZ, _D, _SZ])
_info = _sig("loom_network_info_json", [_P, _S, _SZ, _PSZ])
_hash = _sig("loom_network_weights_hash", [_P, ctypes.POINTER(ctypes.c_uint64)])
_tr_new = _sig("loom_trainer_new", [_P, ctypes.POINTER(_P)])
_tr_new_with = _sig("loom_trainer_new_with", [_P, _S, ctypes.POINTER(_P)])
_tr_step = _sig("loom_trainer_step", [_P, _F, _SZ, _F, _SZ, _F])
_tr_step64 = _sig("loom_trainer_step_f64", [_P, _D, _SZ, _D, _SZ, _D])
_tr_progress = _sig("loom_trainer_progress", [_P, _PSZ, _D])
_tr_free = _sig("loom_trainer_free", [_P], None)
_step_new = _sig("loom_step_new", [_P, _S, ctypes.POINTER(_P)])
_step_latency = _sig("loom_step_latency", [_P, _PSZ])
_step_tick = _sig("loom_step_tick", [_P, _F, _F, _SZ, ctypes.POINTER(ctypes.c_int), _U64, _F, _SZ, _D])
_step_tick64 = _sig("loom_step_tick_f64", [_P, _D, _D, _SZ, ctypes.POINTER(ctypes.c_int), _U64, _D, _SZ, _D])
_step_progress = _sig("loom_step_progress", [_P, _U64, _U64, _U64])
_step_report = _sig("loom_step_report_json", [_P, _S, _SZ, _PSZ])
_step_free = _sig("loom_step_free", [_P], None)
_tw_new = _sig("loom_tween_new", [_P, _S, ctypes.POINTER(_P)])
_tw_step = _sig("loom_tween_step", [_P, _F, _SZ, _F, _SZ, _D])
_tw_step64 = _sig("loom_tween_step_f64", [_P, _D, _SZ, _D, _SZ, _D])
_tw_report = _sig("loom_tween_report_json", [_P, _S, _SZ, _PSZ])
_tw_free = _sig("loom_tween_free", [_P], None)
_tok_from_json = _sig("loom_tokenizer_from_json", [_S, ctypes.POINTER(_P)])
_tok_load = _sig("loom_tokenizer_load", [_S, ctypes.POINTER(_P)])
_tok_vocab = _sig("loom_tokenizer_vocab_size", [_P, _PSZ])
_tok_encode = _sig("loom_tokenizer_encode", [_P, _S, _SZ, ctypes.c_int, _I32, _SZ, _PSZ])
_tok_decode = _sig("loom_tokenizer_decode", [_P, _I32, _SZ, ctypes.c_int, _S, _SZ, _PSZ])
_tok_free = _sig("loom_tokenizer_free", [_P], None)
_gen_load = _sig("loom_generator_load", [_S, ctypes.c_int, ctypes.POINTER(_P)])
_gen_threads = _sig("loom_generator_set_threads", [_P, ctypes.c_int])
_gen_generate = _sig("loom_generator_generate", [_P, _S, ctypes.c_int, _SZ, _S, _TEXT_CALLBACK, ctypes.c_void_p, _S, _SZ, _PSZ])
_gen_last = _sig("loom_generator_last_text", [_P, _S, _SZ, _PSZ])
_gen_tok = _sig("loom_generator_tokenizer", [_P, ctypes.POINTER(_P)])
_gen_free = _sig("loom_generator_free", [_P], None)
_ref = _sig("loom_reference_hashes", [_S, _SZ, _PSZ])
_ref_count = _sig("loom_reference_count", [_PSZ])
_ref_name = _sig("loom_reference_name", [_SZ, _S, _SZ, _PSZ])
_ref_ir = _sig("loom_reference_ir", [_SZ, _S, _SZ, _PSZ])
_ref_data = _sig("loom_reference_data", [_SZ, ctypes.c_int, _D, _SZ, _PSZ])

_BUFFER_TOO_SMALL = 10


def _check(status: int) -> None:
    if status != 0:
        raise LoomError(status, _last_error().decode("utf-8", "replace"))


def _sized(fn, *args, make, size_of=None):
    """Calls a (buf, capacity, needed) function twice: once for the size, once to fill `make(size)`."""
    needed = _SZ(0)
    s = fn(*args, None, 0, ctypes.byref(needed))
    if s not in (0, _BUFFER_TOO_SMALL):
        _check(s)
    buf, ptr = make(needed.value)
    _check(fn(*args, ptr, needed.value, ctypes.byref(needed)))
    return buf


def _text(fn, *args) -> str:
    def make(n):
        b = ctypes.create_string_buffer(max(n, 1))
        return b, b
    return _sized(fn, *args, make=make).value.decode("utf-8")


def _array(fn, *args, dtype, ctype) -> np.ndarray:
    def make(n):
        a = np.empty(n, dtype=dtype)
        return a, a.ctypes.data_as(ctype)
    return _sized(fn, *args, make=make)


def _floats(a, dtype=np.float32) -> np.ndarray:
    """A contiguous array of `dtype` (no copy when `a` already is one)."""
    return np.ascontiguousarray(a, dtype=dtype)


def _is_f64(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype == np.float64


def fnv1a64(data: bytes, h: int = 0xcbf29ce484222325) -> int:
    """FNV-1a 64 over bytes (the hash of the golden file and every determinism check)."""
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def version() -> str:
    """libloom's version."""
    return _version().decode()


class _Handle:
    """A libloom handle freed by `close` (idempotent), on garbage collection, or by `with`."""

    _h = None
    _free = None
    _what = "handle"

    def __init__(self, handle: _P):
        self._h = handle

    def close(self) -> None:
        """Frees the handle (idempotent)."""
        if self._h is not None and self._h.value is not None:
            type(self)._free(self._h)
        self._h = None

    def _handle(self):
        if self._h is None or self._h.value is None:
            raise LoomError(1, f"the {self._what} is closed")
        return self._h

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _new(fn, *args) -> _P:
    h = _P()
    _check(fn(*args, ctypes.byref(h)))
    return h


# Optimizers and schedulers: the IR's training-block objects (docs/ir.md), for Trainer(...).
def sgd(lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
        weight_decay: float = 0.0) -> dict:
    """Stochastic gradient descent (PyTorch's SGD semantics)."""
    return {"type": "sgd", "lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov,
            "weight_decay": weight_decay}


def adamw(lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 0.01) -> dict:
    """AdamW (decoupled weight decay)."""
    return {"type": "adamw", "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay}


def adam(lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> dict:
    """Adam: AdamW without weight decay."""
    return adamw(lr, beta1, beta2, eps, 0.0)


def rmsprop(lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0, centered: bool = False,
            weight_decay: float = 0.0) -> dict:
    """RMSprop (PyTorch's semantics)."""
    return {"type": "rmsprop", "lr": lr, "alpha": alpha, "eps": eps, "momentum": momentum, "centered": centered,
            "weight_decay": weight_decay}


def constant() -> dict:
    return {"type": "constant"}


def linear(total_steps: int, start_factor: float = 1.0, end_factor: float = 0.0) -> dict:
    return {"type": "linear", "total_steps": total_steps, "start_factor": start_factor, "end_factor": end_factor}


def cosine(total_steps: int, min_lr: float = 0.0) -> dict:
    return {"type": "cosine", "total_steps": total_steps, "min_lr": min_lr}


def cosine_restarts(period: int, mult: int = 1, min_lr: float = 0.0) -> dict:
    return {"type": "cosine_restarts", "period": period, "mult": mult, "min_lr": min_lr}


def exponential(gamma: float) -> dict:
    return {"type": "exponential", "gamma": gamma}


def step_lr(step_size: int, gamma: float = 0.1) -> dict:
    """The rate times gamma every step_size steps (PyTorch's StepLR)."""
    return {"type": "step", "step_size": step_size, "gamma": gamma}


def polynomial(total_steps: int, power: float = 1.0) -> dict:
    return {"type": "polynomial", "total_steps": total_steps, "power": power}


def warmup(steps: int, start_factor: float = 0.0, after: Optional[dict] = None) -> dict:
    """Linear warm-up from start_factor·lr over `steps`, then the `after` schedule."""
    d = {"type": "warmup", "steps": steps, "start_factor": start_factor}
    if after is not None:
        d["after"] = after
    return d


class Network(_Handle):
    """A network (IR or saved model). Outputs are bit-identical for any thread count.

    Data in float32 use the float entry points; float64 arrays use the _f64 ones (exact for f64
    networks)."""

    _free = staticmethod(_free)
    _what = "network"

    @classmethod
    def from_json(cls, text: str) -> "Network":
        """Builds from IR or saved-model JSON text."""
        return cls(_new(_from_json, text.encode("utf-8")))

    @classmethod
    def from_safetensors(cls, data: bytes) -> "Network":
        """From the bytes of a safetensors file written by Loom (the IR is in its metadata)."""
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        return cls(_new(_from_st, buf, len(data)))

    @classmethod
    def load(cls, path: str) -> "Network":
        """Loads a saved model (.json) or a safetensors file with its IR in the metadata."""
        return cls(_new(_load, os.fsencode(path)))

    def _size(self, fn) -> int:
        n = _SZ(0)
        _check(fn(self._handle(), ctypes.byref(n)))
        return n.value

    @property
    def input_size(self) -> int:
        return self._size(_in_size)

    @property
    def output_size(self) -> int:
        return self._size(_out_size)

    @property
    def output_shape(self) -> Tuple[int, ...]:
        """The shape of one output sample."""
        return tuple(int(d) for d in _array(_out_shape, self._handle(), dtype=np.uintp, ctype=_PSZ))

    @property
    def parameter_count(self) -> int:
        """Scalar parameters in all (the length of `backward`'s gradient vector)."""
        return self._size(_param_count)

    def set_threads(self, threads: int) -> None:
        """Threads for this network's work (never changes a result)."""
        _check(_threads(self._handle(), int(threads)))

    def _batch(self, xs: np.ndarray) -> int:
        n_in = self.input_size
        if xs.size == 0 or xs.size % n_in != 0:
            raise LoomError(5, f"{xs.size} values are not a whole number of samples of {n_in}")
        return xs.size // n_in

    def forward(self, x) -> np.ndarray:
        """Outputs (batch × output_size) for a batch of batch × input_size values (any shape with
        that many). float64 input runs in double (returns float64); anything else in float32."""
        f64 = _is_f64(x)
        dt, ct, fn = (np.float64, _D, _forward64) if f64 else (np.float32, _F, _forward)
        xs = _floats(x, dt)
        batch = self._batch(xs)
        y = np.empty((batch, self.output_size), dtype=dt)
        _check(fn(self._handle(), xs.ctypes.data_as(ct), batch, y.ctypes.data_as(ct), y.size))
        return y

    def backward(self, x, dy) -> Tuple[np.ndarray, np.ndarray]:
        """Gradients of sum(output · dy): (dx with x's sample layout as batch × input_size, and every
        parameter's gradient flattened in parameter order). Forward runs in training mode, dropout off."""
        f64 = _is_f64(x)
        dt, ct, fn = (np.float64, _D, _backward64) if f64 else (np.float32, _F, _backward)
        xs, dys = _floats(x, dt), _floats(dy, dt)
        batch = self._batch(xs)
        if dys.size != batch * self.output_size:
            raise LoomError(5, f"dy has {dys.size} values; {batch * self.output_size} expected")
        dx = np.empty((batch, self.input_size), dtype=dt)
        grads = np.empty(self.parameter_count, dtype=dt)
        _check(fn(self._handle(), xs.ctypes.data_as(ct), batch, dys.ctypes.data_as(ct),
                  dx.ctypes.data_as(ct), dx.size, grads.ctypes.data_as(ct), grads.size))
        return dx, grads

    def info(self) -> dict:
        """The blueprint: layers, shapes, parameter counts."""
        return json.loads(_text(_info, self._handle()))

    def weights_hash(self) -> int:
        """FNV-1a 64 of every parameter, as in the golden hash file."""
        v = ctypes.c_uint64(0)
        _check(_hash(self._handle(), ctypes.byref(v)))
        return v.value

    def to_json(self) -> str:
        """The saved model (IR, weights bit-exactly, optimizer state) as JSON text."""
        return _text(_to_json, self._handle())

    def to_safetensors(self, dtype: Optional[str] = None) -> bytes:
        """The weights (and the IR in the metadata) as safetensors bytes, in any of the 13 dtypes."""
        return _array(_to_st, self._handle(), dtype.encode() if dtype else None, dtype=np.uint8, ctype=_U8).tobytes()

    def save(self, path: str) -> None:
        """Saves IR, weights and optimizer state as JSON (atomically)."""
        _check(_save(self._handle(), os.fsencode(path)))

    def save_safetensors(self, path: str, dtype: Optional[str] = None) -> None:
        """Saves the weights (and the IR in the metadata) as safetensors, in any of the 13 dtypes."""
        _check(_save_st(self._handle(), os.fsencode(path), dtype.encode() if dtype else None))

    def trainer(self, **training) -> "Trainer":
        """A trainer: the IR's training block, or the one given by keywords (see `Trainer`)."""
        return Trainer(self, **training)

    def train(self, x, targets, steps: int = 1, **training) -> List[float]:
        """`steps` optimizer steps on one batch; returns the losses."""
        with self.trainer(**training) as t:
            return [t.step(x, targets) for _ in range(steps)]

    def step_state(self, learner: Optional[str] = None, **options) -> "StepState":
        """A pipeline over this network's layers, one tick at a time (see `StepState`)."""
        return StepState(self, learner, **options)

    def tween(self, config: Optional[dict] = None, **options) -> "Tween":
        """A Neural Tweening state on this network (see `Tween`)."""
        return Tween(self, config, **options)


class Trainer(_Handle):
    """Optimizer steps on a network.

    With no keywords the IR's training block is used; otherwise a training block is built from
    ``loss`` ("mse", "cross_entropy", "bce"), ``optimizer`` (`sgd`, `adam`, `adamw`, `rmsprop`),
    ``scheduler`` (`constant`, `linear`, `cosine`, `cosine_restarts`, `exponential`, `step_lr`,
    `polynomial`, `warmup`) and ``clip`` ({"norm": x} or {"value": x}), e.g.
    ``Trainer(net, loss="mse", optimizer=loom.sgd(0.1, momentum=0.9), scheduler=loom.cosine(100))``."""

    _free = staticmethod(_tr_free)
    _what = "trainer"

    def __init__(self, network: Network, **training):
        self.network = network
        if training:
            block = {k: v for k, v in training.items() if v is not None}
            self._h = _new(_tr_new_with, network._handle(), json.dumps(block).encode())
        else:
            self._h = _new(_tr_new, network._handle())

    def step(self, x, targets) -> float:
        """One step on a batch; targets: class ids (cross-entropy) or batch × output_size values.
        float64 inputs use the double entry point."""
        f64 = _is_f64(x)
        dt, ct, fn, lt = (np.float64, _D, _tr_step64, ctypes.c_double) if f64 else (np.float32, _F, _tr_step, ctypes.c_float)
        xs, ts = _floats(x, dt), _floats(targets, dt)
        batch = self.network._batch(xs)
        loss = lt(0)
        _check(fn(self._handle(), xs.ctypes.data_as(ct), batch, ts.ctypes.data_as(ct), ts.size, ctypes.byref(loss)))
        return loss.value

    def progress(self) -> Tuple[int, float]:
        """(steps taken, learning rate of the next step)."""
        steps, lr = _SZ(0), ctypes.c_double(0)
        _check(_tr_progress(self._handle(), ctypes.byref(steps), ctypes.byref(lr)))
        return steps.value, lr.value


class StepResult(NamedTuple):
    """A sample that left the pipeline: its tag (0, 1, 2, … in feeding order), its output
    (output_size values, in the tick's float type) and its loss (backprop: the sample's loss;
    tween: the sum of squared errors; no learner: NaN)."""
    tag: int
    output: np.ndarray
    loss: float


class StepState(_Handle):
    """Step execution (docs/step.md): the network's top-level layers as a pipeline. Every `tick`
    advances each layer once and may feed one sample, so a sample leaves `latency` ticks after it
    entered; each output is `Network.forward`'s bits for that sample.

    ``learner``: None (inference only), "backprop" (StepBP: the sample that leaves is
    backpropagated through its own activations; an optimizer update every ``update_every``
    samples) or "tween" (StepTween / StepTweenChain; ``tween`` is the config dict of `Tween`).
    The backprop training block is ``training`` (a dict) and/or the keywords ``loss``,
    ``optimizer``, ``scheduler``, ``clip`` as for `Trainer` (default: the IR's training block).
    ``stash_limit``: samples whose activations are kept (default 1024); ``concurrent``: one task
    per stage (the same bits either way); ``weight_stashing``: each stage's backward uses the
    weights it ran the sample with (exact gradients while updates happen with samples in flight), e.g.
    ``StepState(net, "backprop", loss="cross_entropy", optimizer=loom.sgd(0.1))``."""

    _free = staticmethod(_step_free)
    _what = "step state"

    def __init__(self, network: Network, learner: Optional[str] = None, *, training: Optional[dict] = None,
                 update_every: Optional[int] = None, tween: Optional[dict] = None, stash_limit: Optional[int] = None,
                 concurrent: bool = False, weight_stashing: bool = False, loss: Optional[str] = None, optimizer: Optional[dict] = None,
                 scheduler: Optional[dict] = None, clip: Optional[dict] = None):
        self.network = network
        block = dict(training) if training is not None else {}
        block.update({k: v for k, v in (("loss", loss), ("optimizer", optimizer), ("scheduler", scheduler),
                                        ("clip", clip)) if v is not None})
        options = {"learner": learner, "training": block or None, "update_every": update_every, "tween": tween,
                   "stash_limit": stash_limit, "concurrent": True if concurrent else None,
                   "weight_stashing": True if weight_stashing else None}
        options = {k: v for k, v in options.items() if v is not None}
        text = json.dumps(options).encode() if options else None
        self._h = _new(_step_new, network._handle(), text)
        self._f64 = False
        self._completed = 0

    @property
    def latency(self) -> int:
        """Ticks from a sample's entry to its output (the number of top-level layers)."""
        n = _SZ(0)
        _check(_step_latency(self._handle(), ctypes.byref(n)))
        return n.value

    def tick(self, x=None, target=None) -> Optional[StepResult]:
        """One tick. x: one sample (input_size values) entering under the next tag, or None to tick
        without feeding (draining the pipeline). target: with a learner, x's target (a class id or
        output_size values); None otherwise. Returns the sample that left the pipeline this tick,
        or None. A float64 x runs the double entry point (a tick without x uses the type of the
        last sample fed)."""
        if x is not None:
            self._f64 = _is_f64(x)
        dt, ct, fn = (np.float64, _D, _step_tick64) if self._f64 else (np.float32, _F, _step_tick)
        xs = ts = None
        if x is not None:
            xs = _floats(x, dt)
            n_in = self.network.input_size
            if xs.size != n_in:
                raise LoomError(5, f"x has {xs.size} values; one sample of {n_in} expected")
        if target is not None:
            ts = _floats(target, dt)
        y = np.empty(self.network.output_size, dtype=dt)
        done, tag, loss = ctypes.c_int(0), ctypes.c_uint64(0), ctypes.c_double(0)
        _check(fn(self._handle(), None if xs is None else xs.ctypes.data_as(ct),
                  None if ts is None else ts.ctypes.data_as(ct), 0 if ts is None else ts.size,
                  ctypes.byref(done), ctypes.byref(tag), y.ctypes.data_as(ct), y.size, ctypes.byref(loss)))
        if not done.value:
            return None
        self._completed += 1
        return StepResult(tag.value, y, loss.value)

    def flush(self) -> List[StepResult]:
        """Ticks without feeding until every sample fed has left the pipeline; returns them."""
        out = []
        for _ in range(self.latency):
            if self.progress()[1] <= self._completed:
                break
            r = self.tick()
            if r is not None:
                out.append(r)
        return out

    def progress(self) -> Tuple[int, int, int]:
        """(ticks so far, samples fed, learning updates applied: optimizer updates or tween steps)."""
        ticks, fed, updates = ctypes.c_uint64(0), ctypes.c_uint64(0), ctypes.c_uint64(0)
        _check(_step_progress(self._handle(), ctypes.byref(ticks), ctypes.byref(fed), ctypes.byref(updates)))
        return ticks.value, fed.value, updates.value

    def report(self) -> Optional[dict]:
        """The report of the sample that last left the pipeline: {"tag"}, with "loss" for backprop
        and the tween report's fields for tween; None before the first."""
        return json.loads(_text(_step_report, self._handle()))


class Tween(_Handle):
    """Neural Tweening (docs/tweening.md): whole-pass tween steps on a network. The config is a
    dict and/or keywords: ``mode`` ("chain_rule", the default, or "gap_closing"), ``rate``,
    ``momentum``, ``ignore_threshold``, ``link_budget_scale``, ``depth_barrier``,
    ``depth_scale_factor``, ``signal_clip``, ``update_clip``, ``gradient_scale``, ``type_rates``
    ({type: factor}), ``explosion_detection``, ``pruning``, ``prune_threshold``,
    ``prune_patience``, e.g. ``Tween(net, mode="gap_closing", rate=0.05)``."""

    _free = staticmethod(_tw_free)
    _what = "tween state"

    def __init__(self, network: Network, config: Optional[dict] = None, **options):
        self.network = network
        cfg = dict(config) if config is not None else {}
        cfg.update(options)
        self._h = _new(_tw_new, network._handle(), json.dumps(cfg).encode() if cfg else None)

    def step(self, x, targets) -> float:
        """One tween step on a batch; targets: class ids (one per sample) or batch × output_size
        values. Returns the sum of squared output errors before the step. float64 inputs use the
        double entry point."""
        f64 = _is_f64(x)
        dt, ct, fn = (np.float64, _D, _tw_step64) if f64 else (np.float32, _F, _tw_step)
        xs, ts = _floats(x, dt), _floats(targets, dt)
        batch = self.network._batch(xs)
        loss = ctypes.c_double(0)
        _check(fn(self._handle(), xs.ctypes.data_as(ct), batch, ts.ctypes.data_as(ct), ts.size, ctypes.byref(loss)))
        return loss.value

    def report(self) -> Optional[dict]:
        """The last step's report: {"loss", "link_budgets", "gaps", "depth_barrier", "updated",
        "adaptive_rate", "pruned"}, per-stage lists from input to output; None before the first."""
        return json.loads(_text(_tw_report, self._handle()))


class Tokenizer(_Handle):
    """A Hugging Face tokenizer.json (BPE, WordPiece, WordLevel, Unigram) or a GGUF vocabulary."""

    _free = staticmethod(_tok_free)
    _what = "tokenizer"

    @classmethod
    def from_json(cls, text: str) -> "Tokenizer":
        return cls(_new(_tok_from_json, text.encode("utf-8")))

    @classmethod
    def load(cls, path: str) -> "Tokenizer":
        """From tokenizer.json, or the vocabulary of a .gguf model."""
        return cls(_new(_tok_load, os.fsencode(path)))

    @property
    def vocab_size(self) -> int:
        n = _SZ(0)
        _check(_tok_vocab(self._handle(), ctypes.byref(n)))
        return n.value

    def encode(self, text: str, add_special: bool = True) -> List[int]:
        """The ids of `text` (with the post-processor's special tokens when add_special)."""
        data = text.encode("utf-8")
        return [int(i) for i in _array(_tok_encode, self._handle(), data, len(data), int(add_special),
                                        dtype=np.int32, ctype=_I32)]

    def decode(self, ids: Sequence[int], skip_special: bool = False) -> str:
        a = np.ascontiguousarray(ids, dtype=np.int32)
        return _text(_tok_decode, self._handle(), a.ctypes.data_as(_I32), a.size, int(skip_special))


class Generator(_Handle):
    """A Llama-family GGUF language model (e.g. SmolLM2) with its tokenizer and chat template."""

    _free = staticmethod(_gen_free)
    _what = "generator"

    def __init__(self, path: str, blocks: bool = True):
        """blocks: keep the quantized blocks in the mapped file (integer dot products, like llama.cpp);
        False dequantizes every tensor to f32."""
        self._h = _new(_gen_load, os.fsencode(path), int(blocks))

    def set_threads(self, threads: int) -> None:
        _check(_gen_threads(self._handle(), int(threads)))

    def generate(self, prompt: str, max_tokens: int = 64, chat: bool = False, sampler: Optional[dict] = None,
                 on_text: Optional[Callable[[str], None]] = None) -> str:
        """The generated text. sampler: None for greedy, else {"temperature", "top_k", "top_p",
        "min_p", "repetition_penalty", "seed"}; on_text streams pieces as they are generated."""
        cb = _TEXT_CALLBACK(lambda _user, piece: on_text(piece.decode("utf-8"))) if on_text else _TEXT_CALLBACK()
        needed = _SZ(0)
        buf = ctypes.create_string_buffer(4096)
        s = _gen_generate(self._handle(), prompt.encode("utf-8"), int(chat), int(max_tokens),
                          json.dumps(sampler).encode() if sampler else None, cb, None, buf, len(buf), ctypes.byref(needed))
        if s == _BUFFER_TOO_SMALL:
            return _text(_gen_last, self._handle())
        _check(s)
        return buf.value.decode("utf-8")

    def tokenizer(self) -> Tokenizer:
        """The model's tokenizer."""
        return Tokenizer(_new(_gen_tok, self._handle()))


def reference_hashes() -> List[str]:
    """The golden reference networks' `name hash` lines (as `loom verify`)."""
    return _text(_ref).splitlines()


class ReferenceCase(NamedTuple):
    """One golden reference case: its network (IR JSON with a training block) and data."""
    name: str
    ir: str
    x: np.ndarray          # forward input, 8 samples
    train_x: np.ndarray    # training inputs, 32 samples
    train_t: np.ndarray    # training targets, 32 samples

    @property
    def is_f64(self) -> bool:
        return self.name.endswith(".f64")

    def run(self) -> Tuple[str, str]:
        """The case's two golden lines, computed through this binding: the forward output's hash
        (rank+1, batch, dims as u64, then each value's bits; NaN canonical) and the weights hash after
        20 trainer steps, step s on samples (s mod 4)·8 ..< +8."""
        with Network.from_json(self.ir) as net:
            y = net.forward(self.x).ravel()
            dims = net.output_shape
            head = np.array([1 + len(dims), self.x.size // net.input_size, *dims], dtype="<u8")
            if self.is_f64:
                bits = y.astype("<f8").view("<u8").copy()
                bits[np.isnan(y)] = 0x7FF8000000000000
            else:
                bits = y.astype("<f4").view("<u4").copy()
                bits[np.isnan(y)] = 0x7FC00000
            forward = fnv1a64(head.tobytes() + bits.tobytes())
            per = self.train_t.size // 32
            n_in = net.input_size
            with net.trainer() as t:
                for s in range(20):
                    first = (s % 4) * 8
                    t.step(self.train_x[first * n_in:(first + 8) * n_in], self.train_t[first * per:(first + 8) * per])
            return f"{self.name}.forward {forward:016x}", f"{self.name}.train20 {net.weights_hash():016x}"


def reference_cases() -> Iterator[ReferenceCase]:
    """Every golden reference case, in the golden file's order (data in the network's compute type)."""
    n = _SZ(0)
    _check(_ref_count(ctypes.byref(n)))
    for i in range(n.value):
        name = _text(_ref_name, i)
        dt = np.float64 if name.endswith(".f64") else np.float32
        data = [_array(_ref_data, i, w, dtype=np.float64, ctype=_D).astype(dt) for w in (0, 1, 2)]
        yield ReferenceCase(name, _text(_ref_ir, i), *data)


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
