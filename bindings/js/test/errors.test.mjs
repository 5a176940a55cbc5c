// Error paths: every failure is a LoomError with the module's status and message, through the API
// and through the raw exports (invalid UTF-8, freed handles, double frees, short buffers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { LoomError, Network, Status, Tokenizer, Trainer, exports } from "../loom.mjs";
import { fails, mlp, tinyDense } from "./helpers.mjs";

// The raw module: bytes into its memory, the last error out of it.
const raw = exports();
const memory = () => new Uint8Array(raw.memory.buffer);
function put(bytes) {
  const p = raw.loom_alloc(bytes.length);
  memory().set(bytes, p);
  return p;
}
const cstr = (text) => put([...new TextEncoder().encode(text), 0]);
function lastError() {
  const m = memory();
  let p = raw.loom_last_error(), s = "";
  while (m[p] !== 0) s += String.fromCharCode(m[p++]);
  return s;
}
const u32 = (p) => new DataView(raw.memory.buffer).getUint32(p, true);

test("invalid JSON is status 2 with the place in the message", () => {
  fails(() => Network.fromJSON('{"format": "loom", "version": 1,'), Status.INVALID_JSON, /\S/);
  fails(() => Network.fromJSON("not json"), Status.INVALID_JSON, /\S/);
  fails(() => Tokenizer.fromJSON("{"), Status.INVALID_JSON, /\S/);
  const net = Network.fromJSON(tinyDense());
  try {
    fails(() => Trainer.with(net, "{loss"), Status.INVALID_JSON, /training_json/);
  } finally {
    net.free();
  }
});

test("a wrong network is status 3 naming the field; a newer version status 9", () => {
  fails(() => Network.fromJSON({ format: "loom", version: 1, input: { shape: [2] }, layers: [{ type: "dense" }] }),
    Status.INVALID_NETWORK, /units/);
  fails(() => Network.fromJSON({ format: "loom", version: 1, input: { shape: [2] }, layers: [{ type: "dense", units: 2, unknown: 1 }] }),
    Status.INVALID_NETWORK, /unknown/);
  fails(() => Network.fromJSON({ format: "loom", version: 99, input: { shape: [2] }, layers: [] }), Status.UNSUPPORTED_VERSION, /99/);
});

test("a trainer needs a training block, and a known optimizer", () => {
  const net = Network.fromJSON({ format: "loom", version: 1, input: { shape: [2] }, layers: [{ type: "dense", units: 2 }] });
  try {
    fails(() => new Trainer(net), Status.INVALID_NETWORK, /training block/);
    fails(() => Trainer.with(net, { loss: "mse", optimizer: { type: "nadam", lr: 1 } }), Status.INVALID_NETWORK, /nadam/);
  } finally {
    net.free();
  }
});

test("wrong sizes: inputs, batches, targets, dy", () => {
  const net = Network.fromJSON(tinyDense());
  const trainer = new Trainer(net);
  try {
    fails(() => net.forward(new Float32Array(3)), Status.SHAPE_MISMATCH, /3 values/);
    fails(() => net.forward(new Float32Array(4), 3), Status.SHAPE_MISMATCH, /4 values/);
    fails(() => net.forward(new Float32Array(0)), Status.SHAPE_MISMATCH, /0 values/);
    fails(() => net.backward(new Float32Array(2), 1, new Float32Array(3)), Status.SHAPE_MISMATCH, /dy/);
    fails(() => trainer.step(new Float32Array(2), 1, new Float32Array(3)), Status.SHAPE_MISMATCH, /targets/);
    fails(() => net.backward(new Float32Array(2), 1, new Float32Array([NaN, 0])), Status.NON_FINITE, /dy/);
  } finally {
    trainer.free();
    net.free();
  }
});

test("bad safetensors bytes and unknown dtypes", () => {
  const net = Network.fromJSON(mlp());
  try {
    const bytes = net.toSafetensors();
    fails(() => Network.fromSafetensors(bytes.subarray(0, bytes.length - 10)), Status.INVALID_MODEL, /\S/);
    fails(() => Network.fromSafetensors(new Uint8Array([1, 2, 3])), Status.INVALID_MODEL, /\S/);
    fails(() => net.toSafetensors("f13"), Status.INVALID_ARGUMENT, /f13/);
  } finally {
    net.free();
  }
});

test("a freed object is refused by the API with status 1; free twice is harmless", () => {
  const net = Network.fromJSON(tinyDense());
  const tok = Tokenizer.fromJSON('{"model": {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1}, "unk_token": "[UNK]"}}');
  net.free();
  net.free();
  tok.free();
  fails(() => net.forward([1, 2]), Status.INVALID_ARGUMENT, /freed/);
  fails(() => net.weightsHash(), Status.INVALID_ARGUMENT, /freed/);
  fails(() => new Trainer(net), Status.INVALID_ARGUMENT, /freed/);
  fails(() => tok.encode("a"), Status.INVALID_ARGUMENT, /freed/);
});

test("raw: a freed handle is status 1 with a message; a double free is reported", () => {
  const out = raw.loom_alloc(8), json = cstr(tinyDense());
  try {
    assert.equal(raw.loom_network_from_json(json, out), 0);
    const h = u32(out);
    assert.equal(raw.loom_network_input_size(h, out), 0);
    assert.equal(u32(out), 2);
    raw.loom_network_free(h);
    assert.equal(raw.loom_network_input_size(h, out), Status.INVALID_ARGUMENT);
    assert.match(lastError(), /not a live network/);
    raw.loom_network_free(h);
    assert.match(lastError(), /loom_network_free: .*freed twice/);
    raw.loom_network_free(0); // NULL is ignored
    assert.equal(raw.loom_trainer_new(0, out), Status.INVALID_ARGUMENT);
    assert.match(lastError(), /NULL/);
  } finally {
    raw.loom_dealloc(out);
    raw.loom_dealloc(json);
  }
});

test("raw: a handle of the wrong kind is not found", () => {
  const out = raw.loom_alloc(8), json = cstr(tinyDense());
  try {
    assert.equal(raw.loom_network_from_json(json, out), 0);
    const net = u32(out);
    assert.equal(raw.loom_trainer_new(net, out), 0);
    const trainer = u32(out);
    assert.equal(raw.loom_network_input_size(trainer, out), Status.INVALID_ARGUMENT);
    assert.match(lastError(), /not a live network/);
    raw.loom_trainer_free(trainer);
    raw.loom_network_free(net);
  } finally {
    raw.loom_dealloc(out);
    raw.loom_dealloc(json);
  }
});

test("raw: invalid UTF-8 is refused, not repaired", () => {
  const out = raw.loom_alloc(8);
  const bad = put([0x7b, 0x22, 0xff, 0x22, 0x7d, 0]); // {"\xff"}
  const tokJson = cstr('{"model": {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1}, "unk_token": "[UNK]"}}');
  const text = put([0x61, 0xc3, 0x28]); // "a" then a broken two-byte sequence
  try {
    assert.equal(raw.loom_network_from_json(bad, out), Status.INVALID_ARGUMENT);
    assert.match(lastError(), /UTF-8/);
    assert.equal(raw.loom_tokenizer_from_json(tokJson, out), 0);
    const tok = u32(out);
    const ids = raw.loom_alloc(64);
    assert.equal(raw.loom_tokenizer_encode(tok, text, 3, 0, ids, 16, out), Status.INVALID_ARGUMENT);
    assert.match(lastError(), /UTF-8/);
    assert.equal(raw.loom_tokenizer_encode(tok, text, 1, 0, ids, 16, out), 0); // just the "a"
    assert.equal(u32(out), 1);
    raw.loom_dealloc(ids);
    raw.loom_tokenizer_free(tok);
  } finally {
    for (const p of [out, bad, tokJson, text]) raw.loom_dealloc(p);
  }
});

test("raw: short buffers are status 10 with the size needed; nothing is written past them", () => {
  const out = raw.loom_alloc(8), json = cstr(tinyDense());
  const x = raw.loom_alloc(16), y = raw.loom_alloc(16);
  try {
    assert.equal(raw.loom_network_from_json(json, out), 0);
    const net = u32(out);
    new Float32Array(raw.memory.buffer, x, 4).set([1, 2, 1, 2]);
    new Float32Array(raw.memory.buffer, y, 4).fill(7);
    assert.equal(raw.loom_network_forward(net, x, 2, y, 3), Status.BUFFER_TOO_SMALL);
    assert.match(lastError(), /3 values; 4 are needed/);
    assert.deepEqual(Array.from(new Float32Array(raw.memory.buffer, y, 4)), [7, 7, 7, 7]);
    assert.equal(raw.loom_network_forward(net, x, 0, y, 4), Status.INVALID_ARGUMENT);
    assert.match(lastError(), /batch/);
    assert.equal(raw.loom_network_to_json(net, y, 4, out), Status.BUFFER_TOO_SMALL);
    assert.ok(u32(out) > 100, `needed ${u32(out)}`);
    assert.equal(raw.loom_network_output_shape(net, 0, 0, out), Status.BUFFER_TOO_SMALL);
    assert.equal(u32(out), 1);
    assert.equal(raw.loom_reference_data(0, 7, y, 2, out), Status.INVALID_ARGUMENT);
    assert.match(lastError(), /which/);
    assert.equal(raw.loom_reference_name(1 << 30, y, 16, out), Status.INVALID_ARGUMENT);
    raw.loom_network_free(net);
  } finally {
    for (const p of [out, json, x, y]) raw.loom_dealloc(p);
  }
});

test("a LoomError carries the status name, status and the module's message", () => {
  try {
    Network.fromJSON("[");
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof Error && e instanceof LoomError);
    assert.equal(e.name, "LoomError");
    assert.equal(e.status, 2);
    assert.equal(e.statusName, "invalid JSON");
    assert.equal(e.message, lastError());
    assert.match(e.message, /line 1, column 2/);
    assert.match(String(e), /^LoomError: invalid JSON/);
  }
});

test("a network too large for wasm32 memory is status 3 before anything is allocated, and the module stays usable", () => {
  const huge = JSON.stringify({ format: "loom", version: 1, input: { shape: [20000] }, layers: [{ type: "dense", units: 15000 }] });
  fails(() => Network.fromJSON(huge), Status.INVALID_NETWORK, /over the memory budget of 2.0 GiB/);
  const net = Network.fromJSON(tinyDense());
  try {
    assert.deepEqual(Array.from(net.forward(new Float32Array([1, 1]), 1)), [3.5, 1.5]);
  } finally {
    net.free();
  }
});

test("the allocator refuses what cannot fit instead of handing out memory in use", () => {
  const a = raw.loom_alloc(0x7fffffff);
  const b = raw.loom_alloc(0x7fffffff);
  assert.equal(b, 0, "a second 2 GiB block cannot exist in a 4 GiB wasm32 memory");
  const c = raw.loom_alloc(64);
  assert.ok(c !== 0 && (a === 0 || c < a || c >= a + 0x7fffffff), `block at ${c} overlaps the live block at ${a}`);
  raw.loom_dealloc(c);
  raw.loom_dealloc(a);
});
