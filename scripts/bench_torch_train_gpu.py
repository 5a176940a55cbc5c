"""The PyTorch reference for `loom bench --mode train-cnn|train-mlp --device cuda` (scripts/gpu-check run):
the same models (BenchCommand+Layers.swift, keep them in step), AdamW, cross-entropy, float32 with TF32
off, on the GPU. Usage: python bench_torch_train_gpu.py BATCH REPEATS.
Prints one line per mode: `<mode> batch=<b> us=<best time per step> us_item=<… with loss.item() each step>`;
`us` lets PyTorch queue steps without waiting, `us_item` reads the loss every step as Loom's trainer does."""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
batch, repeats = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
dev = "cuda"


def train_step(model, x_shape, item):
    model = model.to(dev)
    x = torch.rand(*x_shape, device=dev) * 2 - 1
    t = torch.tensor([(i * 7 + 3) % 10 for i in range(x_shape[0])], device=dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        if item:
            loss.item()
    return step


def models():
    return {
        "train-cnn": (nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                                    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10)), (batch, 1, 8, 8)),
        "train-mlp": (nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)), (batch, 64)),
    }


def best_time(step):
    for _ in range(3):
        step()  # warm-up
    torch.cuda.synchronize()
    s = time.perf_counter()
    step()
    torch.cuda.synchronize()
    rounds = max(10, math.ceil(0.05 / max(time.perf_counter() - s, 1e-9)))
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize()
        s = time.perf_counter()
        for _ in range(rounds):
            step()
        torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - s) / rounds)
    return best


for mode in ["train-cnn", "train-mlp"]:
    model, shape = models()[mode]
    queued = best_time(train_step(model, shape, False))
    model, shape = models()[mode]
    item = best_time(train_step(model, shape, True))
    print(f"{mode} batch={batch} device=\"{torch.cuda.get_device_name()}\" us={queued * 1e6:.1f} us_item={item * 1e6:.1f}", flush=True)
