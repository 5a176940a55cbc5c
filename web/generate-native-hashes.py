"""Writes web/native-hashes.json: the page's default setup (web/default-network.json on the default
data set) trained natively through libloom with the Python binding, and the hashes the page shows.

    LOOM_LIBRARY=.build/release/libloom.so PYTHONPATH=bindings/python python3 web/generate-native-hashes.py [--check]

(--check: compute and compare with the committed file instead of writing it; scripts/test-web does.)

The data set and the training schedule are the page's (web/data.mjs, web/app.mjs): 256 points of a
16 × 16 grid, sample k = point (97·k) mod 256 at ((2i − 15)/16, (2j − 15)/16), labels from integer
arithmetic; step s trains on batch s mod ⌈256 / batch_size⌉, in order, for epochs × ⌈256 / batch_size⌉
steps. Hashes: FNV-1a 64 of the data (x then y, float32 bytes), of the outputs on all 256 samples (as
the golden file's forward lines: rank + 1, batch, dims as u64, then each float's bits) and the
weights (loom_network_weights_hash).
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

import loom

HERE = Path(__file__).resolve().parent
SIDE, COUNT = 16, 256
DATASETS = {
    "checkerboard": lambda i, j: ((3 * i) // SIDE + (3 * j) // SIDE) % 2,
    "xor": lambda i, j: 1 if (i >= 8) != (j >= 8) else 0,
    "ring": lambda i, j: 1 if (2 * i - 15) ** 2 + (2 * j - 15) ** 2 < 120 else 0,
}


def dataset(name):
    x = np.zeros((COUNT, 2), dtype=np.float32)
    y = np.zeros(COUNT, dtype=np.float32)
    for k in range(COUNT):
        p = (97 * k) % COUNT
        i, j = p // SIDE, p % SIDE
        x[k] = ((2 * i - 15) / 16, (2 * j - 15) / 16)
        y[k] = DATASETS[name](i, j)
    return x, y


def output_hash(y: np.ndarray, batch: int, dims) -> str:
    head = struct.pack(f"<{len(dims) + 2}Q", len(dims) + 1, batch, *dims)
    bits = np.ascontiguousarray(y, dtype=np.float32).reshape(-1).view(np.uint32).copy()
    bits[np.isnan(y.reshape(-1))] = 0x7FC00000
    return f"{loom.fnv1a64(head + bits.astype('<u4').tobytes()):016x}"


def main(dataset_name: str = "checkerboard", check: bool = False) -> None:
    text = (HERE / "default-network.json").read_text()
    ir = json.loads(text)
    x, y = dataset(dataset_name)
    training = ir.get("training", {})
    epochs, batch_size = training.get("epochs", 10), training.get("batch_size", 32)
    batches = -(-COUNT // batch_size)
    net = loom.Network.from_json(text)
    losses = []
    with loom.Trainer(net) as trainer:
        for s in range(epochs * batches):
            first = (s % batches) * batch_size
            n = min(batch_size, COUNT - first)
            losses.append(trainer.step(x[first:first + n], y[first:first + n]))
    out = net.forward(x)
    result = {
        "generator": "web/generate-native-hashes.py (libloom through bindings/python)",
        "loom_version": loom.version(),
        "network": ir,
        "dataset": dataset_name,
        "steps": len(losses),
        "data_hash": f"{loom.fnv1a64(x.astype('<f4').tobytes() + y.astype('<f4').tobytes()):016x}",
        "output_hash": output_hash(out, COUNT, list(net.output_shape)),
        "weights_hash": f"{net.weights_hash():016x}",
        "final_loss": float(losses[-1]),
    }
    net.close()
    path = HERE / "native-hashes.json"
    if check:
        committed = json.loads(path.read_text())
        if committed != result:
            sys.exit(f"{path} is not what libloom computes now: {json.dumps({k: v for k, v in result.items() if k != 'network'})}")
        print(f"{path.name}: libloom computes the committed hashes")
        return
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "network"}))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    main(*args, check="--check" in sys.argv[1:])
