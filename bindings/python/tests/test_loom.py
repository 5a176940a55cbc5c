import ctypes
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import loom

XOR = json.dumps({"format": "loom", "version": 1, "name": "xor", "seed": 4, "input": {"shape": [2]},
                  "layers": [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 2}],
                  "training": {"loss": "cross_entropy", "optimizer": {"type": "adamw", "lr": 0.05}, "epochs": 1, "batch_size": 4}})
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
T = np.array([0, 1, 1, 0], dtype=np.float32)


def test_forward_shapes_and_thread_independence():
    net = loom.Network.from_json(XOR)
    assert (net.input_size, net.output_size) == (2, 2)
    y = net.forward(X)
    assert y.shape == (4, 2) and y.dtype == np.float32
    net.set_threads(2)
    assert net.forward(X).tobytes() == y.tobytes()
    results = [None] * 4

    def run(i):
        results[i] = net.forward(X).tobytes()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(r == y.tobytes() for r in results)
    assert net.info()["layers"][0]["type"] == "dense"


def test_training_save_load(tmp_path):
    net = loom.Network.from_json(XOR)
    before = net.weights_hash()
    losses = net.train(X, T, steps=150)
    assert losses[-1] < losses[0] * 0.2
    assert net.weights_hash() != before
    assert loom.evaluate_network_simple(net, X, [0, 1, 1, 0]) == 1.0
    y = net.forward(X)
    net.save(str(tmp_path / "m.json"))
    net.save_safetensors(str(tmp_path / "m.safetensors"))
    for path in ("m.json", "m.safetensors"):
        other = loom.Network.load(str(tmp_path / path))
        assert other.forward(X).tobytes() == y.tobytes()
        assert other.weights_hash() == net.weights_hash()


def test_same_bits_as_the_golden_file():
    lines = loom.reference_hashes()
    assert lines[0] == "dense_linear.f32.forward a443a459d4b8b96f"
    assert len(lines) >= 1378


def test_errors():
    with pytest.raises(loom.LoomError) as e:
        loom.Network.from_json('{"format": ')
    assert e.value.status == 2
    with pytest.raises(loom.LoomError) as e:
        loom.Network.load("/nonexistent/model.json")
    assert e.value.status == 8
    net = loom.Network.from_json(XOR)
    with pytest.raises(loom.LoomError) as e:
        net.forward(np.zeros(3, dtype=np.float32))
    assert e.value.status == 5
    with pytest.raises(loom.LoomError):
        net.set_threads(0)
    with pytest.raises(loom.LoomError) as e:
        net.save_safetensors("/tmp/x.safetensors", dtype="int3")
    assert e.value.status == 1
    plain = loom.Network.from_json('{"format": "loom", "version": 1, "input": {"shape": [2]}, "layers": [{"type": "dense", "units": 1}]}')
    with pytest.raises(loom.LoomError) as e:
        plain.trainer()
    assert e.value.status == 3
    net.close()
    net.close()  # idempotent
    with pytest.raises(loom.LoomError):
        net.forward(X)


def test_aliases(tmp_path):
    net = loom.create_network_from_json(XOR)
    assert loom.forward_simple(net, X).shape == (4, 2)
    loom.train_simple(net, X, T, steps=3)
    loom.save_model_simple(net, str(tmp_path / "a.json"))
    assert loom.load_model_simple(str(tmp_path / "a.json")).forward(X).tobytes() == net.forward(X).tobytes()


REPO = Path(os.environ.get("LOOM_REPO", Path(__file__).resolve().parents[3]))
MINILM_TOKENIZER = REPO / "Fixtures" / "tokenizers" / "all-MiniLM-L6-v2.tokenizer.json"
LINEAR64 = json.dumps({"format": "loom", "version": 1, "dtype": "f64", "seed": 7, "input": {"shape": [2]},
                       "layers": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 3}]})


def golden_lines():
    return [l for l in (REPO / "Fixtures" / "golden" / "reference-hashes.txt").read_text().splitlines() if not l.startswith("#")]


def test_golden_cases_computed_through_the_binding():
    """Every reference case built, run and trained through this binding reproduces the golden file."""
    lines = []
    for case in loom.reference_cases():
        lines.extend(case.run())
    assert lines == golden_lines()


def test_backward_matches_finite_differences():
    net = loom.Network.from_json(LINEAR64)
    x = np.array([[0.3, -0.7], [1.1, 0.25]])
    dy = np.array([[0.5, -1, 2], [0.125, 0.75, -0.25]])
    dx, grads = net.backward(x, dy)
    assert dx.dtype == np.float64 and dx.shape == (2, 2) and grads.size == net.parameter_count == 27
    eps = 1e-6
    for i in range(2):
        for j in range(2):
            xp, xm = x.copy(), x.copy()
            xp[i, j] += eps
            xm[i, j] -= eps
            fd = (np.sum(net.forward(xp) * dy) - np.sum(net.forward(xm) * dy)) / (2 * eps)
            assert abs(fd - dx[i, j]) < 1e-7
    assert list(grads[-3:]) == list(dy.sum(axis=0))
    dx2, grads2 = net.backward(x, dy)
    assert dx2.tobytes() == dx.tobytes() and grads2.tobytes() == grads.tobytes()
    with pytest.raises(loom.LoomError) as e:
        net.backward(x, dy[:1])
    assert e.value.status == 5


def test_optimizers_and_schedulers():
    x = np.array([[0.3, -0.7], [1.1, 0.25]])
    t = np.array([[0.5, -1, 2], [0.125, 0.75, -0.25]])
    hashes = []
    for _ in range(2):
        net = loom.Network.from_json(LINEAR64)
        tr = loom.Trainer(net, loss="mse", optimizer=loom.sgd(0.1, momentum=0.9), scheduler=loom.step_lr(2, 0.5),
                          clip={"norm": 10})
        assert tr.progress() == (0, 0.1)
        losses = [tr.step(x, t) for _ in range(4)]
        assert tr.progress() == (4, 0.025)
        assert losses[-1] < losses[0]
        hashes.append(net.weights_hash())
    assert hashes[0] == hashes[1]
    for opt in (loom.adam(0.01), loom.adamw(0.01), loom.rmsprop(0.01, centered=True)):
        net = loom.Network.from_json(LINEAR64)
        sched = loom.warmup(2, 0.1, after=loom.cosine(10, min_lr=0.001))
        losses = net.train(x, t, steps=10, loss="mse", optimizer=opt, scheduler=sched)
        assert losses[-1] < losses[0], opt
    with pytest.raises(loom.LoomError) as e:
        loom.Trainer(loom.Network.from_json(LINEAR64), optimizer={"type": "nope"})
    assert e.value.status == 3 and "nope" in e.value.message


def test_in_memory_formats():
    net = loom.Network.from_json(XOR)
    net.train(X, T, steps=5)
    y = net.forward(X)
    assert loom.Network.from_json(net.to_json()).forward(X).tobytes() == y.tobytes()
    data = net.to_safetensors()
    assert data[8:9] == b"{"
    assert loom.Network.from_safetensors(data).forward(X).tobytes() == y.tobytes()
    i8 = loom.Network.from_safetensors(net.to_safetensors("i8"))
    y8 = i8.forward(X)
    assert y8.tobytes() != y.tobytes() and np.allclose(y8, y, atol=0.1 * np.abs(y).max())
    with pytest.raises(loom.LoomError) as e:
        loom.Network.from_safetensors(data[: len(data) // 2])
    assert e.value.status == 4
    y64 = net.forward(X.astype(np.float64))
    assert y64.dtype == np.float64 and y64.astype(np.float32).tobytes() == y.tobytes()


def test_tokenizer():
    tok = loom.Tokenizer.from_json(MINILM_TOKENIZER.read_text())
    assert tok.vocab_size == 30522
    ids = tok.encode("Hello, world!")
    assert ids == [101, 7592, 1010, 2088, 999, 102]
    assert tok.encode("Hello, world!", add_special=False) == ids[1:-1]
    assert tok.decode(ids, skip_special=True) == "hello, world!"
    assert loom.Tokenizer.load(str(MINILM_TOKENIZER)).encode("Hello, world!") == ids
    n = ctypes.c_size_t(0)
    buf = (ctypes.c_int32 * 8)()
    assert loom._tok_encode(tok._handle(), b"\xe2\x82", 2, 1, buf, 8, ctypes.byref(n)) == 1
    assert "UTF-8" in loom._last_error().decode()
    with pytest.raises(loom.LoomError) as e:
        tok.decode([1 << 30])
    assert e.value.status == 1
    with pytest.raises(loom.LoomError) as e:
        loom.Tokenizer.from_json('{"model": {}}')
    assert e.value.status == 4


def test_generator_smollm2():
    gguf = sorted((REPO / ".models").rglob("*.gguf"))
    assert gguf, "scripts/fetch-models provides SmolLM2"
    gen = loom.Generator(str(gguf[0]), blocks=False)
    pieces = []
    text = gen.generate("What is the capital of France?", max_tokens=12, chat=True, on_text=pieces.append)
    assert "Paris" in text and "".join(pieces) == text and len(pieces) > 1
    gen.set_threads(2)
    assert gen.generate("What is the capital of France?", max_tokens=12, chat=True) == text
    sampler = {"temperature": 0.8, "top_k": 40, "seed": 3}
    assert gen.generate("Once upon a time", 8, sampler=sampler) == gen.generate("Once upon a time", 8, sampler=sampler)
    with pytest.raises(loom.LoomError) as e:
        gen.generate("x", 4, sampler={"temperature": -1})
    assert e.value.status == 1
    assert gen.tokenizer().vocab_size == 49152
    gen.close()
    with pytest.raises(loom.LoomError):
        gen.generate("x", 1)


def test_bad_input_at_the_c_boundary_and_from_threads():
    """Invalid UTF-8, freed and wrong-kind handles, short buffers: a status and a message, per thread."""
    h = ctypes.c_void_p()
    assert loom._from_json(b"\xc3\x28", ctypes.byref(h)) == 1 and "UTF-8" in loom._last_error().decode()
    net = loom.Network.from_json(XOR)
    raw = net._handle()
    y = np.empty(8, dtype=np.float32)
    assert loom._forward(raw, X.ctypes.data_as(loom._F), 4, y.ctypes.data_as(loom._F), 7) == 10
    tr = net.trainer()
    assert loom._forward(tr._handle(), X.ctypes.data_as(loom._F), 4, y.ctypes.data_as(loom._F), 8) == 1  # a trainer is not a network
    tr.close()
    freed = ctypes.c_void_p(raw.value)
    net.close()
    assert loom._forward(freed, X.ctypes.data_as(loom._F), 4, y.ctypes.data_as(loom._F), 8) == 1
    assert "not a live network" in loom._last_error().decode()
    loom._free(freed)  # double free: reported, not a crash
    assert "freed twice" in loom._last_error().decode()

    failures = []

    def worker(kind):
        for _ in range(100):
            try:
                if kind == 0:
                    loom.Network.from_json('{"format": ')
                elif kind == 1:
                    loom.Network.load("/nonexistent/m.json")
                else:
                    loom.Network.from_json(XOR).forward(np.zeros(3, dtype=np.float32))
            except loom.LoomError as e:
                if e.status != (2, 8, 5)[kind]:
                    failures.append((kind, e.status, e.message))
            else:
                failures.append((kind, "no error"))

    threads = [threading.Thread(target=worker, args=(k % 3,)) for k in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert failures == []
