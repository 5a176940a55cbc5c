#!/usr/bin/env python3
"""Writes the boundary-value regression inputs of issue 16 into Fixtures/hostile/<target>/.

    fuzz/tools/make-hostile.py

HostileReplayTests runs every file there through its fuzz target (FuzzTargets.run) and requires it
to return within 5 s and to raise the peak resident size by less than the 256 MiB budget + 128 MiB: a
typed error is the right answer, a trap kills the test process. Inputs that
libFuzzer finds are copied there by hand (scripts/fuzz prints where they are); this script only
(re)writes the files it names below and leaves every other file alone.
"""
import importlib.util
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("make_corpus", os.path.join(HERE, "make-corpus.py"))
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)

ROOT = corpus.ROOT
OUT = os.path.join(ROOT, "Fixtures", "hostile")
I64_MAX = (1 << 63) - 1


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def net(shape, *layers, **top):
    return compact({"format": "loom", "version": 1, **top, "input": {"shape": shape}, "layers": list(layers)})


def ir():
    # Issue 16, item 1: integer overflow while building a network.
    write("ir", "grid-rows-2p63.json",
          '{"format":"loom","version":1,"input":{"shape":[6]},"layers":[{"type":"softmax","variant":"grid","rows":9223372036854775807,"cols":3}]}')
    write("ir", "grid-rows-cols-2p32.json", net([6], {"type": "softmax", "variant": "grid", "rows": 4294967296, "cols": 4294967296}))
    write("ir", "adaptive-head-size-2p63.json",
          net([6], {"type": "softmax", "variant": "adaptive", "head_size": I64_MAX, "clusters": [2, 2]}))
    write("ir", "adaptive-clusters-sum-overflow.json",
          net([6], {"type": "softmax", "variant": "adaptive", "head_size": 2, "clusters": [I64_MAX, I64_MAX, 3]}))
    write("ir", "grid-scatter-2p63.json",
          net([2], {"type": "parallel", "combine": "grid_scatter",
                    "grid": {"rows": I64_MAX, "cols": 3, "layers": 2, "positions": [[0, 0, 0], [0, 1, 0]]},
                    "branches": [{"type": "dense", "units": 2}, {"type": "dense", "units": 2}]}))
    write("ir", "grid-scatter-position-2p63.json",
          net([2], {"type": "parallel", "combine": "grid_scatter",
                    "grid": {"rows": 1, "cols": 2, "layers": 1, "positions": [[0, 0, 0], [0, I64_MAX, 0]]},
                    "branches": [{"type": "dense", "units": 2}, {"type": "dense", "units": 2}]}))
    write("ir", "hierarchical-levels-2p32.json",
          net([4], {"type": "softmax", "variant": "hierarchical", "levels": [4294967296, 4294967296]}))
    write("ir", "mixture-components-2p63.json", net([6], {"type": "softmax", "variant": "mixture", "components": I64_MAX}))
    # Item 5: two 46,340² dense layers (8 GiB of parameters): over any budget, refused before allocating.
    write("ir", "dense-46340-squared.json",
          net([46340], {"type": "dense", "units": 46340}, {"type": "dense", "units": 46340}))
    write("ir", "dense-units-2p53p1.json", net([2], {"type": "dense", "units": 9007199254740993}))
    write("ir", "conv2d-kernel-2p31.json",
          net([1, 4, 4], {"type": "conv2d", "filters": 2, "kernel_size": [2147483648, 1], "padding": 1073741824}))
    # Found by scripts/fuzz ir (2026-12-07): conv2d output plane (2^32 + 2)² overflows in WindowGeometry.outPlane.
    write("ir", "conv2d-padding-2p31m1.json", net([1, 5, 5], {"type": "conv2d", "filters": 1, "kernel_size": 3, "padding": 2147483647}))
    # Found by scripts/fuzz ir (2026-12-07, a 21 s timeout at 1.3 GB): kmeans with output "features" keeps
    # [rows, clusters] matrices that the memory budget does not count — 65,536 parameters, 500 rows,
    # about 550 MB held under a 256 MiB budget (and seconds of work). Fast once the budget counts them.
    write("ir", "kmeans-features-unbudgeted-distances.json",
          net([250, 1], {"type": "kmeans", "clusters": 65536, "distance": "euclidean", "output": "features"}, dtype="f64"))
    write("ir", "reshape-2p62-times-4.json", net([4], {"type": "reshape", "shape": [4611686018427387904, -1]}))
    write("ir", "attention-heads-2p31.json",
          net([4, 8], {"type": "multi_head_attention", "num_heads": 2147483648, "head_dim": 2147483648}))
    write("ir", "embedding-vocab-2p40.json", net([3], {"type": "embedding", "vocab_size": 1 << 40, "dim": 1 << 40}))
    write("ir", "data-batch-2p63-shape.json", compact({"inputs": [[0, 1]], "targets": [9223372036854775807]}))


def gguf():
    # Item 4: block_count not checked against the tensors present (one block's tensors, 4,194,305 claimed).
    base = corpus.tiny_llama(1, tied=True)
    key = b"llama.block_count"
    at = base.index(key) + len(key)
    assert struct.unpack_from("<I", base, at)[0] == corpus.GGUF_U32 and struct.unpack_from("<I", base, at + 4)[0] == 1
    for name, value in [("tiny-llama-block-count-4194305.gguf", 4194305), ("tiny-llama-block-count-2p31m1.gguf", 0x7FFFFFFF)]:
        b = bytearray(base)
        struct.pack_into("<I", b, at + 4, value)
        write("gguf", name, bytes(b))
    # Other u32 metadata of the tiny Llama at boundary values.
    for field, value, name in [("llama.context_length", 0xFFFFFFFF, "tiny-llama-context-2p32m1.gguf"),
                               ("llama.embedding_length", 0x80000000, "tiny-llama-embedding-2p31.gguf"),
                               ("llama.attention.head_count_kv", 0, "tiny-llama-kv-heads-0.gguf"),
                               ("llama.vocab_size", 0xFFFFFFFF, "tiny-llama-vocab-2p32m1.gguf"),
                               ("tokenizer.ggml.eos_token_id", 0x7FFFFFFF, "tiny-llama-eos-2p31m1.gguf")]:
        b = bytearray(base)
        k = field.encode()
        i = b.index(struct.pack("<Q", len(k)) + k) + 8 + len(k)
        assert struct.unpack_from("<I", b, i)[0] == corpus.GGUF_U32, field
        struct.pack_into("<I", b, i + 4, value)
        write("gguf", name, bytes(b))
    # A small GGUF (not a Llama) whose header claims 2^40 tensors.
    syn = bytearray(open(corpus.fixture("gguf", "synthetic.gguf"), "rb").read())
    struct.pack_into("<Q", syn, 8, 1 << 40)
    write("gguf", "synthetic-tensor-count-2p40.gguf", bytes(syn))


def tokenizer():
    wordlevel = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": I64_MAX, "content": "world", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "hello": 1, "world": 2}},
    }
    # Item 2: ids accepted at load and converted to Int32 later ("Hello, world!" is encoded: it holds the token).
    write("tokenizer", "added-token-id-2p63m1.json", json.dumps(wordlevel))
    bert = json.loads(json.dumps(wordlevel))
    bert["added_tokens"] = []
    bert["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2147483648]}
    write("tokenizer", "bert-cls-id-2p31.json", json.dumps(bert))
    template = json.loads(json.dumps(bert))
    template["post_processor"] = {"type": "TemplateProcessing",
                                  "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                                  "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                                  "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [I64_MAX, -1], "tokens": ["[CLS]", "x"]}}}
    write("tokenizer", "template-special-ids-2p63m1.json", json.dumps(template))
    # Item 3: catastrophic backtracking. The text encoded is the input's last 64 bytes: the vocabulary
    # comes last so that they are a run of "a" and a non-matching end.
    for name, kind, pattern in [("split-regex-nested-plus.json", "pre", "(a+)+$"),
                                ("split-regex-word-space-star.json", "pre", "(\\w+\\s?)*$"),
                                ("replace-regex-dot-star-25.json", "norm", "(.*a){25}")]:
        t = json.loads(json.dumps(wordlevel))
        t["added_tokens"] = []
        if kind == "pre":
            t["pre_tokenizer"] = {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False}
        else:
            t["normalizer"] = {"type": "Replace", "pattern": {"Regex": pattern}, "content": "b"}
        model = t.pop("model")
        model["vocab"]["a" * 40 + "!"] = 3
        t["model"] = model  # last key
        write("tokenizer", name, json.dumps(t))


def safetensors():
    # A header length of 2^63 − 1 (and one of 2^64 − 1) in the 8-byte prefix.
    header = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    for name, value in [("header-length-2p63m1.safetensors", I64_MAX), ("header-length-2p64m1.safetensors", (1 << 64) - 1)]:
        write("safetensors", name, struct.pack("<Q", value) + header + b"\0\0\0\0")
    # Item 1 through loom_network_from_safetensors: the IR metadata of a Loom model.
    grid = {"format": "loom", "version": 1, "input": {"shape": [6]},
            "layers": [{"type": "softmax", "variant": "grid", "rows": I64_MAX, "cols": 3}]}
    write("safetensors", "loom-ir-grid-rows-2p63.safetensors", corpus.loom_model(grid, []))
    scatter = {"format": "loom", "version": 1, "input": {"shape": [2]},
               "layers": [{"type": "parallel", "combine": "grid_scatter",
                           "grid": {"rows": I64_MAX, "cols": 3, "layers": 2, "positions": [[0, 0, 0], [0, 1, 0]]},
                           "branches": [{"type": "dense", "units": 2}, {"type": "dense", "units": 2}]}]}
    write("safetensors", "loom-ir-grid-scatter-2p63.safetensors", corpus.loom_model(scatter, [
        ("layers.0.branches.0.weight", [2, 2]), ("layers.0.branches.0.bias", [2]),
        ("layers.0.branches.1.weight", [2, 2]), ("layers.0.branches.1.bias", [2])]))
    # Offsets and shapes at the Int64 edge.
    body = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775807]}}'
    body += b" " * (-len(body) % 8)
    write("safetensors", "offsets-2p63m1.safetensors", struct.pack("<Q", len(body)) + body + b"\0" * 8)
    body = b'{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}'
    body += b" " * (-len(body) % 8)
    write("safetensors", "shape-2p32-squared.safetensors", struct.pack("<Q", len(body)) + body)


def options():
    write("options", "trainer-lr-1e308.json", compact({"loss": "mse", "optimizer": {"type": "sgd", "lr": 1e308}}))
    write("options", "trainer-adamw-lr-1e308-steps.json",
          '{"loss":"cross_entropy","optimizer":{"type":"adamw","lr":1e308,"eps":1e-320},"scheduler":{"type":"step","step_size":9223372036854775807,"gamma":1e308}}')
    write("options", "trainer-epochs-batch-2p63.json",
          '{"loss":"mse","optimizer":{"type":"sgd","lr":0.1},"epochs":9223372036854775807,"batch_size":9223372036854775807,"scheduler":{"type":"cosine_restarts","period":1,"mult":4294967296}}')
    write("options", "step-stash-limit-2p63.json", '{"learner":"none","stash_limit":9223372036854775807}')
    write("options", "step-update-every-2p63.json",
          '{"learner":"backprop","training":{"loss":"mse","optimizer":{"type":"sgd","lr":1e308}},"update_every":9223372036854775807,"weight_stashing":true}')
    write("options", "tween-prune-patience-2p63.json",
          '{"mode":"chain_rule","rate":1e308,"pruning":true,"prune_patience":9223372036854775807,"prune_threshold":1e308}')
    write("options", "sampler-top-k-2p63.json", '{"temperature":1e308,"top_k":9223372036854775807,"seed":18446744073709551615}')
    write("options", "sampler-seed-2p64.json", '{"temperature":0.5,"top_p":1e-320,"min_p":1,"seed":18446744073709551616}')


def main():
    for make in [ir, gguf, tokenizer, safetensors, options]:
        make()
    for t in sorted(os.listdir(OUT)):
        print(f"Fixtures/hostile/{t}: {len(os.listdir(os.path.join(OUT, t)))} files")


if __name__ == "__main__":
    main()
