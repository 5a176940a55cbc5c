"""Turns the outputs of `scripts/gpu-check run` (a folder: devices.txt, verify.txt, gpu-math.txt,
loom-train-gpu.txt, torch-train-gpu.txt, train-*.txt, loom-gemm.txt, torch-gemm.txt) into the GPU
section of BENCHMARKS.md, written to BENCHMARKS.gpu.md (scripts/bench
includes it, since this machine has no GPU to regenerate it).
With a second folder (the outputs of `scripts/gpu-check llm`), adds the SmolLM2 decoding table.
Usage: python3 scripts/gpu_report.py DIR DATE [LLMDIR]"""
import re
import sys
from pathlib import Path

run, date = Path(sys.argv[1]), sys.argv[2]
llm = Path(sys.argv[3]) if len(sys.argv) > 3 else None
fields = lambda line: dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line), dtype=line.split()[1])
loom = [fields(l) for l in (run / "loom-gemm.txt").read_text().splitlines() if l.startswith("gpu_gemm")]
torch = {fields(l)["n"]: fields(l) for l in (run / "torch-gemm.txt").read_text().splitlines() if l.startswith("torch_gemm")}
device = next(l for l in (run / "devices.txt").read_text().splitlines() if l.startswith("cuda:0"))
verify = [l for l in (run / "verify.txt").read_text().splitlines() if l.startswith("cuda:0") or l.startswith("verify:")]


def condense(line):
    """The first runs listed every refusal in full; keep counts by dtype and layer type."""
    m = re.search(r"\((\d+) networks resident, (\d+) with products only: (.*)\)$", line)
    if not m:
        return line
    counts = {}
    for n, text in re.findall(r"(\d+)× ([^;]+)", m.group(3)):
        key = "other dtypes" if "networks do not run" in text else text.split()[0]
        counts[key] = counts.get(key, 0) + int(n)
    parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return line[:m.start()] + f"({m.group(1)} networks resident, {m.group(2)} with products only ({parts}))"


verify = [condense(l) for l in verify]

math = [l for l in (run / "gpu-math.txt").read_text().splitlines() if l.startswith("gpu-math")]
bad = [l for l in math if "mismatches=0" not in l]
ptorch = {l.split()[0]: fields(l) for l in (run / "torch-train-gpu.txt").read_text().splitlines() if l.startswith("train-")}

out = [f"## GPU: device-resident training steps next to PyTorch ({date})", "",
       f"Device: `{device.split(': ', 1)[1]}`. `loom bench --mode train-mlp|train-cnn --device cuda --batch 256`: one",
       "training step (forward, cross-entropy, backward, AdamW) with parameters, gradients, optimizer state and",
       "activations resident on the GPU (`ResidentNetwork`, docs/gpu.md), the same bits as the CPU; best round of",
       "5, each round at least 50 ms of steps and ending when the GPU has finished. PyTorch: the same models on the",
       "same GPU, float32 with TF32 off; `queued` lets it run ahead without reading the loss, `with loss.item()` reads it",
       "every step as Loom's trainer does. The CPU column is Loom on the GPU machine's 16 host threads.", "",
       "| step (batch 256) | Loom GPU µs | PyTorch GPU µs (queued / with loss.item()) | PyTorch ÷ Loom | Loom CPU µs (16 threads) |",
       "|---|---|---|---|---|"]
def step_us(mode, device):
    for line in (run / "loom-train-gpu.txt").read_text().splitlines():
        if line.startswith(mode + " ") and (("device=" in line) == device):
            return float(fields(line)["us"])
for mode, name in (("train-mlp", "MLP 64-128 relu-10"), ("train-cnn", "digits CNN (conv 5×5, conv 3×3, max pool, dense)")):
    g, c, t = step_us(mode, True), step_us(mode, False), ptorch[mode]
    q, i = float(t["us"]), float(t["us_item"])
    out.append(f"| {name} | {g:.0f} | {q:.0f} / {i:.0f} | {q / g:.2f}× / {i / g:.2f}× | {c:.0f} |")
out += ["", f"DetMath on the GPU (`loom bench --mode gpu-math`): {len(math)} function × type pairs, "
        + (f"{math[0].split('inputs=')[1].split()[0]} inputs each, every output bit-identical to the CPU's." if not bad else "MISMATCHES: " + "; ".join(bad)), ""]
out += [f"## GPU: the fixed-order product kernel next to cuBLAS ({date})", "",
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
if llm:
    def line(name, prefix):
        return next(fields(l) for l in (llm / name).read_text().splitlines() if l.startswith(prefix))
    rows = [("Loom GPU, GGUF blocks resident", line("llm-blocks-cuda.txt", "llm "), "llm-blocks-identical.txt"),
            ("Loom GPU, weights dequantized to f32", line("llm-dequantized-cuda.txt", "llm "), "llm-dequantized-identical.txt"),
            ("PyTorch GPU eager, f32 dequantized (TF32 off)", line("torch-llm.txt", "torch_llm"), None),
            ("Loom CPU, 16 threads, GGUF blocks", line("llm-blocks-cpu.txt", "llm "), None)]
    out += ["", f"## GPU: SmolLM2-135M-Instruct decoding on the device ({date})", "",
            f"Device: `{device.split(': ', 1)[1]}`. `loom bench --mode llm --device cuda` (Q4_1 GGUF): one prefill of 128",
            "tokens, then 64 greedy tokens through the KV cache, best of 3; the weights (GGUF blocks byte for byte, or f32)",
            "and the cache stay on the GPU, every layer a device kernel (`ResidentInference`, docs/gpu.md). Every step's",
            "logits and the greedy tokens are compared by hash with the CPU's on the same machine. PyTorch: the same GGUF",
            "dequantized to f32, a plain Llama forward in eager mode on the same GPU (scripts/bench_torch_llm_gpu.py).", "",
            "| engine | prompt tok/s | generation tok/s | generation ÷ PyTorch | logits and tokens |", "|---|---|---|---|---|"]
    tg_torch = float(rows[2][1]["tg_tok_s"])
    for name, f, same in rows:
        check = "reference" if "CPU" in name else "–"
        if same:
            text = (llm / same).read_text()
            check = "identical to the CPU (all 65 steps)" if "cpu " in text and text.split("cpu ")[1].split()[:2] == text.split("cuda ")[1].split()[:2] else "DIFFERENT"
        out.append(f"| {name} | {float(f['pp_tok_s']):.0f} | {float(f['tg_tok_s']):.0f} | {float(f['tg_tok_s']) / tg_torch:.2f}× | {check} |")
out += ["", "The reference networks on the GPU (`loom verify --device cuda`): " + "; ".join(verify) + ".", "",
        "Reproduce: `scripts/gpu-check build` here, then `scripts/gpu-check run` and `scripts/gpu-check llm` on the GPU",
        "machine, then `python3 scripts/gpu_report.py OUTDIR DATE LLMOUTDIR`."]
Path("BENCHMARKS.gpu.md").write_text("\n".join(out) + "\n")
print("\n".join(out))
