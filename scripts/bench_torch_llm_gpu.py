"""The PyTorch reference for `loom bench --mode llm --device cuda` (scripts/gpu-check llm): SmolLM2 from the
same GGUF file, its Q4_1/Q8_0 blocks dequantized to float32 on the GPU (TF32 off), a plain Llama forward
in eager PyTorch with a KV cache (interleaved RoPE, grouped-query attention, SwiGLU, tied output), one
prefill of the prompt then greedy tokens, the argmax read back each step as Loom's sampler does.
The GGUF reader below needs only the standard library and torch (the GPU machine has no gguf package).
Usage: python bench_torch_llm_gpu.py MODEL.gguf PROMPT_TOKENS GEN_TOKENS REPEATS
Prints: `torch_llm device="…" pp_tok_s=… tg_tok_s=… ids=first,…` (best of REPEATS)."""
import math
import os
import struct
import sys
import time

import torch

torch.backends.cuda.matmul.allow_tf32 = False
dev = os.environ.get("LOOM_TORCH_DEVICE", "cuda")  # cpu: a quick local check of the script


def read_gguf(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode("utf-8", "replace")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(scalar[t])

    assert data[:4] == b"GGUF"
    pos = 4
    take("I")
    n_tensors, n_kv = take("Q"), take("Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    align = meta.get("general.alignment", 32)
    base = (pos + align - 1) // align * align
    tensors = {}
    for name, dims, t, off in infos:
        count = math.prod(dims)
        raw = torch.frombuffer(bytearray(data[base + off:base + off + {0: 4 * count, 3: count // 32 * 20, 8: count // 32 * 34}[t]]),
                               dtype=torch.uint8).to(dev)
        if t == 0:
            w = raw.view(torch.float32)
        elif t == 8:  # Q8_0: d (f16), 32 int8 codes; w = d·q
            b = raw.view(-1, 34)
            w = b[:, :2].contiguous().view(torch.float16).float() * b[:, 2:].contiguous().view(torch.int8).float()
        elif t == 3:  # Q4_1: d, m (f16), 16 bytes of nibbles (low: 0..15, high: 16..31); w = d·q + m
            b = raw.view(-1, 20)
            d = b[:, 0:2].contiguous().view(torch.float16).float()
            m = b[:, 2:4].contiguous().view(torch.float16).float()
            qs = b[:, 4:].long()
            q = torch.cat([qs & 15, qs >> 4], dim=1).float()
            w = d * q + m
        else:
            raise SystemExit(f"tensor {name}: type {t} is not read here")
        tensors[name] = w.reshape(list(reversed(dims)) if len(dims) > 1 else dims)
    return meta, tensors


def main():
    path, n, m, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    meta, w = read_gguf(path)
    L = meta["llama.block_count"]
    H, KV = meta["llama.attention.head_count"], meta["llama.attention.head_count_kv"]
    dim = meta["llama.embedding_length"]
    D = dim // H
    eps = meta.get("llama.attention.layer_norm_rms_epsilon", 1e-5)
    base = meta.get("llama.rope.freq_base", 10000.0)
    vocab = w["token_embd.weight"].shape[0]
    out_w = w.get("output.weight", w["token_embd.weight"])
    inv = base ** (-torch.arange(0, D, 2, device=dev, dtype=torch.float64) / D)

    def rms(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g

    def rope(x, c, s):  # x [T, heads, D]; interleaved pairs (2i, 2i+1)
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1).flatten(-2)

    def forward(ids, cache, start):
        T = ids.shape[0]
        pos = torch.arange(start, start + T, device=dev)
        # The rotary table and the causal mask once per call, shared by the layers (as transformers does).
        a = pos[:, None].double() * inv[None, :]
        c, sn = torch.cos(a).float()[:, None, :], torch.sin(a).float()[:, None, :]
        mask = torch.arange(start + T, device=dev)[None, :] > pos[:, None] if T > 1 else None
        x = w["token_embd.weight"][ids]
        for i in range(L):
            p = f"blk.{i}."
            h = rms(x, w[p + "attn_norm.weight"])
            q = rope((h @ w[p + "attn_q.weight"].T).view(T, H, D), c, sn)
            k = rope((h @ w[p + "attn_k.weight"].T).view(T, KV, D), c, sn)
            v = (h @ w[p + "attn_v.weight"].T).view(T, KV, D)
            kc, vc = cache[i]
            kc[start:start + T], vc[start:start + T] = k, v
            keys = kc[:start + T].repeat_interleave(H // KV, dim=1).transpose(0, 1)
            vals = vc[:start + T].repeat_interleave(H // KV, dim=1).transpose(0, 1)
            s = (q.transpose(0, 1) @ keys.transpose(1, 2)) / math.sqrt(D)
            s = (s.masked_fill(mask, float("-inf")) if mask is not None else s).softmax(-1)
            o = (s @ vals).transpose(0, 1).reshape(T, H * D)
            x = x + o @ w[p + "attn_output.weight"].T
            h = rms(x, w[p + "ffn_norm.weight"])
            x = x + (torch.nn.functional.silu(h @ w[p + "ffn_gate.weight"].T) * (h @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
        return rms(x[-1:], w["output_norm.weight"]) @ out_w.T

    g = torch.Generator().manual_seed(7)
    fixed = os.environ.get("LOOM_TORCH_PROMPT_IDS")  # a given prompt instead (checking the script against Loom)
    prompt = (torch.tensor([int(i) for i in fixed.split(",")]) if fixed else torch.randint(17, vocab, (n,), generator=g)).to(dev)
    n = prompt.shape[0]
    best_pp = best_tg = float("inf")
    ids = []
    with torch.no_grad():
        for r in range(repeats + 1):  # the first round warms up
            cache = [(torch.zeros(n + m, KV, D, device=dev), torch.zeros(n + m, KV, D, device=dev)) for _ in range(L)]
            if dev == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            logits = forward(prompt, cache, 0)
            nxt = int(logits.argmax())
            t1 = time.perf_counter()
            ids = [nxt]
            for i in range(m - 1):
                logits = forward(torch.tensor([nxt], device=dev), cache, n + i)
                nxt = int(logits.argmax())
                ids.append(nxt)
            t2 = time.perf_counter()
            if r > 0:
                best_pp, best_tg = min(best_pp, t1 - t0), min(best_tg, (t2 - t1) / (m - 1))
    print(f'torch_llm device="{torch.cuda.get_device_name() if dev == "cuda" else dev}" pp_tokens={n} pp_tok_s={n / best_pp} tg_tokens={m} '
          f'tg_tok_s={1 / best_tg} ids={",".join(map(str, ids[:16]))}')


main()
