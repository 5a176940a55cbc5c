"""The cuBLAS reference for `loom bench --mode gpu-gemm` (scripts/gpu-check run): torch.matmul on
float32 n×n operands with TF32 off, timed with CUDA events, median of 20 after warm-ups, on random
data. Prints one `torch_gemm f32 n=… ms=… tflops=…` line per size."""
import sys

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
sizes = [int(s) for s in sys.argv[1:]] or [1024, 4096]
for n in sizes:
    g = torch.Generator(device="cuda").manual_seed(n)
    a = torch.rand((n, n), device="cuda", generator=g) * 2 - 1
    b = torch.rand((n, n), device="cuda", generator=g) * 2 - 1
    for _ in range(3):
        torch.matmul(a, b)
    torch.cuda.synchronize()
    times = []
    for _ in range(20):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(a, b)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    ms = sorted(times)[len(times) // 2]
    print(f"torch_gemm f32 n={n} device=\"{torch.cuda.get_device_name()}\" ms={ms} tflops={2 * n ** 3 / (ms * 1e-3) / 1e12}")
