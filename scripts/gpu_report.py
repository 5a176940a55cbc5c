"""Turns the outputs of `scripts/gpu-check run` (a folder: devices.txt, verify.txt, loom-gemm.txt,
torch-gemm.txt) into the GPU section of BENCHMARKS.md, written to BENCHMARKS.gpu.md (scripts/bench
includes it, since this machine has no GPU to regenerate it).
Usage: python3 scripts/gpu_report.py DIR DATE"""
import re
import sys
from pathlib import Path

run, date = Path(sys.argv[1]), sys.argv[2]
fields = lambda line: dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line), dtype=line.split()[1])
loom = [fields(l) for l in (run / "loom-gemm.txt").read_text().splitlines() if l.startswith("gpu_gemm")]
torch = {fields(l)["n"]: fields(l) for l in (run / "torch-gemm.txt").read_text().splitlines() if l.startswith("torch_gemm")}
device = next(l for l in (run / "devices.txt").read_text().splitlines() if l.startswith("cuda:0"))
verify = [l for l in (run / "verify.txt").read_text().splitlines() if l.startswith("cuda:0") or l.startswith("verify:")]

out = [f"## GPU: the fixed-order product kernel next to cuBLAS ({date})", "",
       f"Device: `{device.split(': ', 1)[1]}`. Loom's kernel (`GemmKernel`, docs/gpu.md) keeps each output's k order",
       "(one `__fmaf_rn` per k, k ascending), so its bits equal the CPU's: every output of every size below was compared",
       "bit for bit with the CPU's canonical product (outputs poisoned with NaN before each run). cuBLAS is `torch.matmul`",
       "in float32 with TF32 off, on the same GPU in the same run. n×n×n products on random operands in device memory,",
       "timed with CUDA events, median of 20 after a warm-up; TFLOP/s = 2n³ / time.", "",
       "| n | Loom TFLOP/s (tile chosen) | best tile | cuBLAS TFLOP/s | Loom ÷ cuBLAS | output bits = CPU |", "|---|---|---|---|---|---|"]
for dtype in ("f32", "f64"):
    for n in sorted({r["n"] for r in loom if r["dtype"] == dtype}, key=int):
        rows = [r for r in loom if r["n"] == n and r["dtype"] == dtype]
        auto = next(r for r in rows if r["tile"].startswith("auto:"))
        best = max(rows, key=lambda r: float(r["tflops"]))
        ok = "yes" if all(r["mismatches_vs_cpu"] == "0" for r in rows) else "NO"
        a = float(auto["tflops"])
        ref = torch.get(n) if dtype == "f32" else None
        t, ratio = (f"{float(ref['tflops']):.1f}", f"{a / float(ref['tflops']):.2f}×") if ref else ("–", "–")
        out.append(f"| {n}{' (f64)' if dtype == 'f64' else ''} | {a:.1f} ({auto['tile'][5:]}) | "
                   f"{best['tile'].replace('auto:', '')}: {float(best['tflops']):.1f} | {t} | {ratio} | {ok} |")
out += ["", "The reference networks on the GPU (`loom verify --device cuda`): " + "; ".join(verify) + ".", "",
        "Reproduce: `scripts/gpu-check build` here, then `scripts/gpu-check run` on the GPU machine, then",
        "`python3 scripts/gpu_report.py OUTDIR DATE`."]
Path("BENCHMARKS.gpu.md").write_text("\n".join(out) + "\n")
print("\n".join(out))
