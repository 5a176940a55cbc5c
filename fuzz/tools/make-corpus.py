#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ from the project's fixtures, and the libFuzzer
dictionaries fuzz/dictionaries/<target>.dict (standard library only; deterministic output).

    fuzz/tools/make-corpus.py          # rewrites fuzz/corpus/ and fuzz/dictionaries/

ir           every network of Fixtures/torch/*.json (layers, conv, attention, recurrent, softmax
             family, containers), the optimizer networks with their training blocks, web's
             default network, and two data files
safetensors  Fixtures/safetensors (valid and broken files) and three Loom models (IR in `loom.ir`)
gguf         Fixtures/gguf files and a tiny Llama with a gpt2 vocabulary (Q8_0/Q4_0/Q4_1/F16/F32
             tensors) that generates a token
tokenizer    small tokenizer.json files: the 17 of Fixtures/tokenizers/components.json (written by
             Hugging Face tokenizers) and hand-written ones: a byte-level BPE, WordPiece (BERT),
             Unigram, WordLevel, with normalizers, pre-tokenizers, post-processors and decoders
options      trainer, step, tween and sampler option JSON (docs/c-abi.md, tests/c/test_loom.c)

Seeds stay under 100 KB each; the whole corpus under 2 MB.
"""
import glob
import hashlib
import json
import os
import random
import shutil
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "fuzz", "corpus")
MAX_SEED = 100_000


def fixture(*parts):
    return os.path.join(ROOT, "Fixtures", *parts)


class Corpus:
    def __init__(self, target):
        self.dir = os.path.join(OUT, target)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.seen = set()

    def add(self, name, data):
        if isinstance(data, str):
            data = data.encode()
        if len(data) > MAX_SEED:
            return
        digest = hashlib.sha1(data).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)

    def add_json(self, name, value):
        self.add(name, json.dumps(value, separators=(", ", ": ")))


# ---------------------------------------------------------------- ir

def ir_corpus():
    c = Corpus("ir")
    for path in sorted(glob.glob(fixture("torch", "*.json"))):
        base = os.path.splitext(os.path.basename(path))[0]
        doc = json.load(open(path))
        groups = [doc.get("cases"), doc.get("state_cases"), doc.get("padded"), doc.get("training")]
        for group in groups:
            if not isinstance(group, list):
                continue
            for case in group:
                if not isinstance(case, dict) or "network" not in case:
                    continue
                net = dict(case["network"])
                if "loss" in case and "optimizer" in case:
                    net["training"] = {"loss": case["loss"], "optimizer": case["optimizer"]}
                c.add_json(f"{base}-{case.get('name', 'case')}.json", net)
    c.add("web-default-network.json", open(os.path.join(ROOT, "web", "default-network.json")).read())
    c.add_json("data-xor.json", {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0]})
    c.add_json("data-rows.json", {"inputs": [[0.5, -1]], "targets": [[1, 0]]})
    return c


# ---------------------------------------------------------------- safetensors

def safetensors_bytes(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes); a safetensors file padded to 8 bytes."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


def f32s(values):
    return struct.pack(f"<{len(values)}f", *values)


def f64s(values):
    return struct.pack(f"<{len(values)}d", *values)


def loom_model(ir, params, dtype="F32"):
    pack = f64s if dtype == "F64" else f32s
    rng = random.Random(len(json.dumps(ir)))
    tensors = []
    for name, shape in params:
        n = 1
        for d in shape:
            n *= d
        tensors.append((name, dtype, shape, pack([round(rng.uniform(-0.5, 0.5), 3) for _ in range(n)])))
    meta = {"loom.version": "1", "loom.dtype": ir.get("dtype", "f32"), "loom.ir": json.dumps(ir, separators=(",", ":"))}
    return safetensors_bytes(tensors, meta)


def safetensors_corpus():
    c = Corpus("safetensors")
    for path in sorted(glob.glob(fixture("safetensors", "*.safetensors")) + glob.glob(fixture("safetensors", "cases", "*.safetensors"))):
        c.add(os.path.basename(path), open(path, "rb").read())
    mlp = {"format": "loom", "version": 1, "seed": 3, "input": {"shape": [2]},
           "layers": [{"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dense", "units": 2}]}
    c.add("loom-mlp.safetensors", loom_model(mlp, [("layers.0.weight", [3, 2]), ("layers.0.bias", [3]),
                                                  ("layers.1.weight", [2, 3]), ("layers.1.bias", [2])]))
    grid = {"format": "loom", "version": 1, "dtype": "f64", "input": {"shape": [6]},
            "layers": [{"type": "dense", "units": 6}, {"type": "softmax", "variant": "grid", "rows": 2, "cols": 3}]}
    c.add("loom-grid-softmax-f64.safetensors", loom_model(grid, [("layers.0.weight", [6, 6]), ("layers.0.bias", [6])], "F64"))
    scatter = {"format": "loom", "version": 1, "input": {"shape": [2]},
               "layers": [{"type": "parallel", "combine": "grid_scatter",
                           "grid": {"rows": 1, "cols": 2, "layers": 1, "positions": [[0, 0, 0], [0, 1, 0]]},
                           "branches": [{"type": "dense", "units": 2}, {"type": "dense", "units": 4}]},
                          {"type": "softmax", "variant": "adaptive", "head_size": 2, "clusters": [1, 1]}]}
    c.add("loom-grid-scatter-adaptive.safetensors", loom_model(scatter, [
        ("layers.0.branches.0.weight", [2, 2]), ("layers.0.branches.0.bias", [2]),
        ("layers.0.branches.1.weight", [4, 2]), ("layers.0.branches.1.bias", [4])]))
    return c


# ---------------------------------------------------------------- gguf

GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = 4, 5, 6, 7, 8, 9


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(kind, value):
    if kind == GGUF_U32:
        return struct.pack("<I", value)
    if kind == GGUF_I32:
        return struct.pack("<i", value)
    if kind == GGUF_F32:
        return struct.pack("<f", value)
    if kind == GGUF_BOOL:
        return struct.pack("<B", 1 if value else 0)
    if kind == GGUF_STRING:
        return gguf_string(value)
    item_kind, items = value
    return struct.pack("<IQ", item_kind, len(items)) + b"".join(gguf_value(item_kind, v) for v in items)


def gguf_bytes(metadata, tensors, alignment=32):
    """metadata: (key, kind, value); tensors: (name, row-major shape, ggml type, data)."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, value in metadata:
        out += gguf_string(key) + struct.pack("<I", kind) + gguf_value(kind, value)
    offset, placed = 0, []
    for name, shape, ggml_type, data in tensors:
        dims = list(reversed(shape))
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
        placed.append((offset, data))
        offset += len(data)
        offset += -offset % alignment
    out += b"\0" * (-len(out) % alignment)
    data = bytearray(offset)
    for off, d in placed:
        data[off:off + len(d)] = d
    return out + bytes(data)


F32, F16, Q4_0, Q4_1, Q8_0 = 0, 1, 2, 3, 8


def ggml_data(ggml_type, shape, rng):
    n = 1
    for d in shape:
        n *= d
    if ggml_type == F32:
        return f32s([round(rng.uniform(-1, 1), 3) for _ in range(n)])
    if ggml_type == F16:
        return struct.pack(f"<{n}e", *[rng.uniform(-1, 1) for _ in range(n)])
    blocks = n // 32
    out = b""
    for _ in range(blocks):
        if ggml_type == Q8_0:
            out += struct.pack("<e", 0.02) + bytes(rng.randrange(256) for _ in range(32))
        elif ggml_type == Q4_0:
            out += struct.pack("<e", 0.1) + bytes(rng.randrange(256) for _ in range(16))
        else:  # Q4_1
            out += struct.pack("<ee", 0.1, -0.8) + bytes(rng.randrange(256) for _ in range(16))
    return out


def tiny_llama(blocks=1, tied=True):
    """A Llama of hidden size 32 (4 heads of 8, 2 kv heads), feed-forward 64, 64 tokens."""
    rng = random.Random(16 + blocks)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    chars = list("abcdefghijklmnopqrstuvwxyz") + list("HW,!") + ["Ġ"] + list("0123456789")
    merges = [("H", "e"), ("l", "l"), ("ll", "o"), ("Ġ", "w"), ("o", "r"), ("l", "d"), ("Ġw", "or"), ("Ġwor", "ld"),
              ("He", "llo"), ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("a", "n"), ("Ġa", "n"),
              ("e", "r"), ("o", "n"), ("r", "e"), ("a", "t")]
    tokens = specials + chars + [a + b for a, b in merges]
    assert len(tokens) == 64, len(tokens)
    types = [3, 3, 3] + [1] * (len(tokens) - 3)
    meta = [
        ("general.architecture", GGUF_STRING, "llama"),
        ("general.name", GGUF_STRING, "tiny-llama"),
        ("llama.block_count", GGUF_U32, blocks),
        ("llama.context_length", GGUF_U32, 16),
        ("llama.embedding_length", GGUF_U32, 32),
        ("llama.feed_forward_length", GGUF_U32, 64),
        ("llama.attention.head_count", GGUF_U32, 4),
        ("llama.attention.head_count_kv", GGUF_U32, 2),
        ("llama.rope.freq_base", GGUF_F32, 10000.0),
        ("llama.attention.layer_norm_rms_epsilon", GGUF_F32, 1e-5),
        ("llama.vocab_size", GGUF_U32, len(tokens)),
        ("tokenizer.ggml.model", GGUF_STRING, "gpt2"),
        ("tokenizer.ggml.pre", GGUF_STRING, "smollm"),
        ("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, tokens)),
        ("tokenizer.ggml.token_type", GGUF_ARRAY, (GGUF_I32, types)),
        ("tokenizer.ggml.merges", GGUF_ARRAY, (GGUF_STRING, [a + " " + b for a, b in merges])),
        ("tokenizer.ggml.bos_token_id", GGUF_U32, 1),
        ("tokenizer.ggml.eos_token_id", GGUF_U32, 2),
        ("tokenizer.ggml.add_bos_token", GGUF_BOOL, False),
        ("tokenizer.chat_template", GGUF_STRING,
         "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"),
    ]
    tensors = [("token_embd.weight", [64, 32], Q8_0)]
    for i in range(blocks):
        tensors += [
            (f"blk.{i}.attn_norm.weight", [32], F32),
            (f"blk.{i}.attn_q.weight", [32, 32], Q8_0),
            (f"blk.{i}.attn_k.weight", [16, 32], Q4_0),
            (f"blk.{i}.attn_v.weight", [16, 32], F16),
            (f"blk.{i}.attn_output.weight", [32, 32], Q4_1),
            (f"blk.{i}.ffn_norm.weight", [32], F32),
            (f"blk.{i}.ffn_gate.weight", [64, 32], Q8_0),
            (f"blk.{i}.ffn_up.weight", [64, 32], Q4_0),
            (f"blk.{i}.ffn_down.weight", [32, 64], Q8_0),
        ]
    tensors.append(("output_norm.weight", [32], F32))
    if not tied:
        tensors.append(("output.weight", [64, 32], Q8_0))
    return gguf_bytes(meta, [(n, s, t, ggml_data(t, s, rng)) for n, s, t in tensors])


def gguf_corpus():
    c = Corpus("gguf")
    for name in ["synthetic.gguf", "align64-v2.gguf", "big-endian.gguf"]:
        c.add(name, open(fixture("gguf", name), "rb").read())
    c.add("tiny-llama-1block-tied.gguf", tiny_llama(1, tied=True))
    c.add("tiny-llama-2blocks-output.gguf", tiny_llama(2, tied=False))
    # An odd length: the gguf target loads inputs of odd length dequantized (even: as blocks).
    c.add("tiny-llama-1block-tied-odd-length.gguf", tiny_llama(1, tied=True) + b"\0")
    return c


# ---------------------------------------------------------------- tokenizer

def tokenizer_corpus():
    c = Corpus("tokenizer")
    byte_level = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {}, "merges": []},
    }
    # The 256 byte-level symbols, then merges.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    symbols = [chr(x) for x in cs]
    vocab = {"<|endoftext|>": 0}
    for s in symbols:
        vocab[s] = len(vocab)
    merges = [("H", "e"), ("l", "l"), ("ll", "o"), ("He", "llo"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("l", "d"),
              ("Ġwor", "ld"), ("Ġ", "Ġ"), ("Ã", "¼")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    byte_level["model"]["vocab"] = vocab
    byte_level["model"]["merges"] = [a + " " + b for a, b in merges]
    c.add_json("bpe-byte-level.json", byte_level)

    wordpiece = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]"])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None,
                       "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                  "vocab": {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", ",", "world", "!",
                                                        "u", "##ber", "1", "##2", "##3", "space", "##s", "he", "##llo"])}},
    }
    c.add_json("wordpiece-bert.json", wordpiece)
    roberta = json.loads(json.dumps(wordpiece))
    roberta["post_processor"] = {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}
    roberta["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"}]}
    c.add_json("wordpiece-bert-processing.json", roberta)

    unigram = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"},
                                                           {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}},
                                                                    {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}},
                                    {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": False,
                  "vocab": [["<unk>", 0.0], ["</s>", 0.0], ["▁", -2.0], ["▁Hello", -3.0], ["H", -5.0], ["e", -4.0], ["l", -4.0],
                            ["o", -4.0], [",", -3.5], ["▁world", -3.0], ["!", -3.5], ["▁spaces", -4.0], ["ü", -6.0],
                            ["ber", -5.0], ["▁1", -5.0], ["2", -5.0], ["3", -5.0]]},
    }
    c.add_json("unigram-metaspace.json", unigram)

    wordlevel = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 3, "content": "[MASK]", "single_word": True, "lstrip": True, "rstrip": False,
                          "normalized": True, "special": False}],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "[0-9]+|[^\\s0-9]+"}, "behavior": "Isolated", "invert": False},
            {"type": "Punctuation", "behavior": "Isolated"}, {"type": "Whitespace"}]},
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "_"}, "content": " "},
                                                     {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 0, "stop": 0}]},
        "model": {"type": "WordLevel", "unk_token": "[UNK]",
                  "vocab": {"[UNK]": 0, "hello": 1, "world": 2, "[MASK]": 3, ",": 4, "!": 5, "123": 6, "spaces": 7}},
    }
    c.add_json("wordlevel-split.json", wordlevel)
    # The tokenizers Hugging Face `tokenizers` wrote for the component fixtures.
    for t in json.load(open(fixture("tokenizers", "components.json")))["tokenizers"]:
        c.add_json(f"components-{t['name']}.json", t["tokenizer"])
    return c


# ---------------------------------------------------------------- options

def options_corpus():
    c = Corpus("options")
    sgd_ce = {"loss": "cross_entropy", "optimizer": {"type": "sgd", "lr": 0.1}}
    seeds = {
        "trainer-sgd-ce.json": sgd_ce,
        "trainer-sgd-momentum-step.json": {"loss": "mse", "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9},
                                           "scheduler": {"type": "step", "step_size": 2, "gamma": 0.5}},
        "trainer-adamw-warmup-cosine-clip.json": {
            "loss": "cross_entropy", "optimizer": {"type": "adamw", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                                   "weight_decay": 0.01},
            "scheduler": {"type": "warmup", "steps": 100, "start_factor": 0.1,
                          "after": {"type": "cosine", "total_steps": 900, "min_lr": 0}},
            "epochs": 10, "batch_size": 32, "shuffle": True, "validation_split": 0.1,
            "early_stopping": {"patience": 3, "min_delta": 0}, "clip": {"norm": 1.0}},
        "trainer-rmsprop-centered.json": {"loss": "bce", "optimizer": {"type": "rmsprop", "lr": 0.01, "alpha": 0.99, "eps": 1e-8,
                                                                       "momentum": 0.5, "centered": True, "weight_decay": 0.1},
                                          "scheduler": {"type": "cosine_restarts", "period": 3, "mult": 2, "min_lr": 0.001},
                                          "clip": {"value": 0.5}},
        "trainer-sgd-nesterov-polynomial.json": {"loss": "mse", "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9,
                                                                              "dampening": 0, "nesterov": True, "weight_decay": 0},
                                                 "scheduler": {"type": "polynomial", "total_steps": 10, "power": 2},
                                                 "freeze": ["layers.0"]},
        "trainer-linear-exponential.json": {"loss": "cross_entropy", "optimizer": {"type": "sgd", "lr": 0.1},
                                            "scheduler": {"type": "warmup", "steps": 2,
                                                          "after": {"type": "exponential", "gamma": 0.9}}},
        "trainer-linear.json": {"loss": "mse", "optimizer": {"type": "adamw", "lr": 0.01},
                                "scheduler": {"type": "linear", "start_factor": 1, "end_factor": 0.1, "total_steps": 5}},
        "step-none.json": {"learner": "none", "stash_limit": 4},
        "step-concurrent.json": {"concurrent": True},
        "step-backprop.json": {"learner": "backprop", "training": sgd_ce},
        "step-backprop-stashing.json": {"learner": "backprop", "training": sgd_ce, "weight_stashing": True, "update_every": 2,
                                        "stash_limit": 8},
        "step-tween.json": {"learner": "tween", "tween": {"mode": "gap_closing", "rate": 0.05}},
        "tween-gap-closing.json": {"mode": "gap_closing", "rate": 0.05},
        "tween-chain-rule-all.json": {"mode": "chain_rule", "rate": 0.01, "momentum": 0.9, "ignore_threshold": 0.0001,
                                      "link_budget_scale": 1, "depth_barrier": True, "depth_scale_factor": 1.2,
                                      "signal_clip": 10, "update_clip": 1, "gradient_scale": 1,
                                      "type_rates": {"dense": 1.5}, "explosion_detection": True, "pruning": True,
                                      "prune_threshold": 0.001, "prune_patience": 2},
        "sampler-top-k.json": {"temperature": 0.8, "top_k": 40, "seed": 3},
        "sampler-all.json": {"temperature": 1.2, "top_k": 3, "top_p": 0.9, "min_p": 0.05, "repetition_penalty": 1.1, "seed": 7},
        "sampler-greedy.json": {},
    }
    for name, value in seeds.items():
        c.add_json(name, value)
    return c


# ---------------------------------------------------------------- dictionaries

IR_WORDS = """format loom version name dtype seed input shape layers training weights optimizer_state
type units activation bias dense stitch embedding vocab_size dim position_embedding max_positions tied_dense weight
layer_norm rms_norm epsilon affine softmax variant standard temperature masked mask grid rows cols hierarchical levels
gumbel sparsemax entmax alpha adaptive head_size clusters mixture components kmeans distance euclidean manhattan cosine
output probabilities features dropout rate sequential residual parallel branches combine concat add multiply average
grid_scatter positions filter gate gate_softmax conv1d conv2d filters kernel_size stride padding dilation groups
max_pool1d max_pool2d avg_pool1d avg_pool2d global_avg_pool flatten reshape rnn lstm gru hidden_size return_sequences
multi_head_attention num_heads num_kv_heads head_dim causal rope layout half interleaved base swiglu hidden
linear relu scaled_relu scale leaky_relu slope sigmoid tanh softplus threshold gelu gelu_tanh silu swish mish elu selu
loss mse cross_entropy bce optimizer sgd adamw rmsprop lr momentum dampening nesterov weight_decay beta1 beta2 eps
centered scheduler constant start_factor end_factor total_steps min_lr cosine_restarts period mult exponential gamma
step step_size polynomial power warmup steps after epochs batch_size shuffle validation_split early_stopping patience
min_delta clip norm value freeze inputs targets data
f64 f32 f16 bf16 f4 i64 i32 i16 i8 u64 u32 u16 u8""".split()

OPTION_WORDS = """learner none backprop tween training update_every stash_limit concurrent weight_stashing
mode gap_closing chain_rule rate momentum ignore_threshold link_budget_scale depth_barrier depth_scale_factor
signal_clip update_clip gradient_scale type_rates explosion_detection pruning prune_threshold prune_patience
temperature top_k top_p min_p repetition_penalty seed""".split()

TOKENIZER_WORDS = """version truncation padding added_tokens normalizer pre_tokenizer post_processor decoder model
type vocab merges unk_token unk_id continuing_subword_prefix end_of_word_suffix fuse_unk byte_fallback ignore_merges
dropout content single_word lstrip rstrip normalized special id ids tokens BPE WordPiece WordLevel Unigram Sequence
normalizers pretokenizers decoders processors ByteLevel Metaspace Split Regex String pattern behavior invert Isolated
Removed MergedWithPrevious MergedWithNext Contiguous Digits individual_digits Whitespace WhitespaceSplit
CharDelimiterSplit delimiter BertPreTokenizer Punctuation NFC NFD NFKC NFKD Lowercase Strip strip_left strip_right
StripAccents Replace Prepend prepend BertNormalizer clean_text handle_chinese_chars strip_accents lowercase
TemplateProcessing BertProcessing RobertaProcessing single pair special_tokens SpecialToken Sequence type_id A B cls sep
Fuse ByteFallback BPEDecoder suffix add_prefix_space trim_offsets use_regex replacement prepend_scheme split always
first never max_input_chars_per_word prefix cleanup start stop max_length""".split()

SAFETENSORS_WORDS = """__metadata__ dtype shape data_offsets F64 F32 F16 BF16 F8_E4M3 F8_E5M2 F4 I64 I32 I16 I8
U64 U32 U16 U8 BOOL C64 loom.ir loom.version loom.dtype loom.quantization .__scale .__zero_point
layers.0.weight layers.0.bias""".split()

GGUF_WORDS = """GGUF general.architecture general.name general.alignment llama gpt2 smollm starcoder llama3 llama-bpe
qwen2 default llama.block_count llama.context_length llama.embedding_length llama.feed_forward_length
llama.attention.head_count llama.attention.head_count_kv llama.rope.freq_base llama.attention.layer_norm_rms_epsilon
llama.vocab_size tokenizer.ggml.model tokenizer.ggml.pre tokenizer.ggml.tokens tokenizer.ggml.token_type
tokenizer.ggml.merges tokenizer.ggml.bos_token_id tokenizer.ggml.eos_token_id tokenizer.ggml.add_bos_token
tokenizer.ggml.add_eos_token tokenizer.chat_template token_embd.weight output_norm.weight output.weight
blk.0.attn_norm.weight blk.0.attn_q.weight blk.0.attn_k.weight blk.0.attn_v.weight blk.0.attn_output.weight
blk.0.ffn_norm.weight blk.0.ffn_gate.weight blk.0.ffn_up.weight blk.0.ffn_down.weight blk.1.attn_q.weight""".split()

JSON_PIECES = ["{", "}", "[", "]", ":", ",", "true", "false", "null", "[]", "{}", "-0", "1e308", "1e-320",
               "9223372036854775807", "18446744073709551616", "2147483648", "4294967296", "4194305", "-1"]

# Little-endian boundary words (u32 and u64) for the binary formats.
GGUF_WORDS_BINARY = [struct.pack("<I", v) for v in [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 4194305]] + \
                    [struct.pack("<Q", v) for v in [0, 1 << 32, 1 << 40, (1 << 53) + 1, (1 << 63) - 1, (1 << 64) - 1]] + \
                    [struct.pack("<I", t) for t in range(13)]


def dict_entry(data):
    if isinstance(data, str):
        data = data.encode()
    out = ""
    for b in data:
        if b in (0x22, 0x5C):
            out += "\\" + chr(b)
        elif 0x20 <= b < 0x7F:
            out += chr(b)
        else:
            out += "\\x%02X" % b
    return '"' + out + '"'


def write_dict(target, comment, entries):
    seen, lines = set(), [f"# libFuzzer dictionary for the {target} target ({comment}).",
                          "# Written by fuzz/tools/make-corpus.py."]
    for e in entries:
        line = dict_entry(e)
        if line not in seen:
            seen.add(line)
            lines.append(line)
    path = os.path.join(ROOT, "fuzz", "dictionaries", target + ".dict")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{os.path.relpath(path, ROOT)}: {len(lines) - 2} entries")


def dictionaries():
    quoted = lambda words: ['"%s"' % w for w in words]
    write_dict("ir", "IR keys and values, JSON pieces", quoted(IR_WORDS) + JSON_PIECES)
    write_dict("options", "trainer, step, tween and sampler fields", quoted(OPTION_WORDS + IR_WORDS) + JSON_PIECES)
    write_dict("tokenizer", "tokenizer.json keys and component names, regex pieces",
               quoted(TOKENIZER_WORDS) + JSON_PIECES + ["(a+)+$", r"\\p{L}", "(?i:", r"\\s+(?!\\S)", "{25}", "<|endoftext|>",
                                                        r"\u0120", "##", r"\u2581", r"\\w+", "(.*a){25}"])
    # Inside the safetensors header the IR is a JSON string: its quotes are escaped.
    write_dict("safetensors", "header keys, dtypes, IR keys as escaped in loom.ir",
               quoted(SAFETENSORS_WORDS) + ['\\"%s\\"' % w for w in IR_WORDS] + JSON_PIECES)
    write_dict("gguf", "magic, metadata keys, tensor names, little-endian boundary words",
               GGUF_WORDS + GGUF_WORDS_BINARY)


def main():
    dictionaries()
    total = 0
    for make in [ir_corpus, safetensors_corpus, gguf_corpus, tokenizer_corpus, options_corpus]:
        c = make()
        size = sum(os.path.getsize(os.path.join(c.dir, f)) for f in os.listdir(c.dir))
        total += size
        print(f"{os.path.relpath(c.dir, ROOT)}: {len(os.listdir(c.dir))} seeds, {size} bytes")
    print(f"total {total} bytes")
    assert total < 2_000_000


if __name__ == "__main__":
    main()
