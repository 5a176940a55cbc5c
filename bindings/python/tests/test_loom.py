import json
import threading

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
