"""PyTorch CPU timings for scripts/bench: the shapes of `loom bench --mode layers`
(Sources/LoomCLI/Commands/BenchCommand+Layers.swift; keep them in step).
Usage: python bench_torch.py THREADS REPEATS ITERATIONS (the least steps per timed round, which
also lasts at least 50 ms; the best round's time per step is reported)
Prints one line per mode: `<mode> threads=<n> us=<best time per step in µs>`."""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads, repeats, iterations = (int(a) for a in sys.argv[1:4])
torch.set_num_threads(threads)
torch.manual_seed(0)


def uniform(*shape):
    return torch.rand(*shape) * 2 - 1  # U(-1, 1), never zeros


def layer_step(module, x_shape, call=None):
    x = uniform(*x_shape).requires_grad_(True)
    call = call or module
    dy = uniform(*call(x).shape)

    def step():
        module.zero_grad(set_to_none=True)
        x.grad = None
        call(x).backward(dy)
    return step


def train_step(model, x_shape):
    x = uniform(*x_shape)
    t = torch.tensor([(i * 7 + 3) % 10 for i in range(x_shape[0])])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), t).backward()
        opt.step()
    return step


mha = nn.MultiheadAttention(128, 4, bias=False, batch_first=True)
lstm = nn.LSTM(64, 128, batch_first=True)
cases = {
    "conv2d": layer_step(nn.Conv2d(16, 32, 3, padding=1), (32, 16, 32, 32)),
    "lstm": layer_step(lstm, (32, 32, 64), lambda x: lstm(x)[0]),
    "mha": layer_step(mha, (16, 64, 128), lambda x: mha(x, x, x, need_weights=False)[0]),
    "train-cnn": train_step(nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(),
                                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Flatten(), nn.Linear(512, 10)), (64, 1, 8, 8)),
    "train-mlp": train_step(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)), (64, 64)),
}
for mode, step in cases.items():
    step()  # warm-up; the second, timed, sets how many steps make a round of >= 50 ms
    s = time.perf_counter()
    step()
    rounds = max(iterations, math.ceil(0.05 / max(time.perf_counter() - s, 1e-9)))
    best = float("inf")
    for _ in range(repeats):
        s = time.perf_counter()
        for _ in range(rounds):
            step()
        best = min(best, (time.perf_counter() - s) / rounds)
    print(f"{mode} threads={threads} us={best * 1e6:.1f}", flush=True)
