// Networks: forward and backward against hand-computed values, shapes, sizes, serialization.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Network, exports, version } from "../loom.mjs";
import { bits, mlp, tinyDense } from "./helpers.mjs";

test("version and a module without imports", () => {
  assert.match(version(), /^\d+\.\d+\.\d+$/);
  assert.equal(typeof exports().loom_alloc, "function");
});

test("sizes, shape, parameter count and info of a tiny dense network", () => {
  const net = Network.fromJSON(tinyDense());
  try {
    assert.equal(net.inputSize, 2);
    assert.equal(net.outputSize, 2);
    assert.deepEqual(net.outputShape, [2]);
    assert.equal(net.parameterCount, 6);
    const info = net.info();
    assert.deepEqual(info.input_shape, [2]);
    assert.deepEqual(info.output_shape, [2]);
    assert.equal(info.total_parameters, 6);
    assert.deepEqual(info.layers[0].parameter_names, ["layers.0.weight", "layers.0.bias"]);
  } finally {
    net.free();
  }
});

test("forward: y = W·x + b, per sample, in float32 and float64", () => {
  const net = Network.fromJSON(tinyDense());
  try {
    // W = [[1, 2], [3, -1]], b = [0.5, -0.5]
    const y = net.forward(new Float32Array([1, 2, -1, 0.25, 0, 0]), 3);
    assert.ok(y instanceof Float32Array);
    assert.deepEqual(Array.from(y), [5.5, 0.5, 0, -3.75, 0.5, -0.5]);
    const y64 = net.forward([1, 2]); // plain arrays run in doubles, batch inferred
    assert.ok(y64 instanceof Float64Array);
    assert.deepEqual(Array.from(y64), [5.5, 0.5]);
  } finally {
    net.free();
  }
});

test("forward with relu clamps negative pre-activations", () => {
  const net = Network.fromJSON(tinyDense("relu"));
  try {
    assert.deepEqual(Array.from(net.forward(new Float32Array([1, -2, 1, 2]))), [0, 4.5, 5.5, 0.5]);
  } finally {
    net.free();
  }
});

test("backward: dx = Wᵀ·dy and dW = dy·xᵀ, db = dy, summed over the batch", () => {
  const net = Network.fromJSON(tinyDense());
  try {
    const { dx, grads } = net.backward(new Float32Array([1, 2]), 1, new Float32Array([1, 1]));
    assert.ok(dx instanceof Float32Array && grads instanceof Float32Array);
    assert.deepEqual(Array.from(dx), [4, 1]);
    assert.deepEqual(Array.from(grads), [1, 2, 1, 2, 1, 1]);
    // Two samples: dy = [1, 0] for x = [1, 2] and [0, 2] for x = [-1, 3].
    const two = net.backward(new Float32Array([1, 2, -1, 3]), 2, new Float32Array([1, 0, 0, 2]));
    assert.deepEqual(Array.from(two.dx), [1, 2, 6, -2]);
    assert.deepEqual(Array.from(two.grads), [1, 2, -2, 6, 1, 2]);
  } finally {
    net.free();
  }
});

test("backward through relu, in float64", () => {
  const net = Network.fromJSON(tinyDense("relu", "f64"));
  try {
    const { dx, grads } = net.backward(new Float64Array([1, -2]), 1, [1, 1]);
    assert.ok(dx instanceof Float64Array);
    assert.deepEqual(Array.from(dx), [3, -1]);
    assert.deepEqual(Array.from(grads), [0, 0, 1, -2, 0, 1]);
  } finally {
    net.free();
  }
});

test("a float64 network computes in doubles", () => {
  const ir = (dtype) => JSON.stringify({ format: "loom", version: 1, dtype, input: { shape: [1] },
    layers: [{ type: "dense", units: 1, bias: false }] });
  const f32 = Network.fromJSON(ir("f32")), f64 = Network.fromJSON(ir("f64"));
  try {
    const x = Float64Array.of(0.1);
    const w32 = Math.fround(f32.forward(Float64Array.of(1))[0]), w64 = f64.forward(Float64Array.of(1))[0];
    assert.equal(f64.forward(x)[0], w64 * 0.1);
    assert.equal(f32.forward(x)[0], Math.fround(w32 * Math.fround(0.1)));
  } finally {
    f32.free();
    f64.free();
  }
});

test("outputs are batch-invariant, also when the batch makes the memory grow", () => {
  const net = Network.fromJSON(mlp());
  try {
    const n = 50000;
    const x = new Float32Array(2 * n);
    for (let i = 0; i < x.length; i++) x[i] = ((i * 37) % 101) / 50 - 1;
    const before = exports().memory.buffer.byteLength;
    const all = net.forward(x, n);
    assert.ok(exports().memory.buffer.byteLength > before, "the big batch should grow the module's memory");
    for (const i of [0, 1, 4999, n - 1]) {
      assert.equal(bits(net.forward(x.subarray(2 * i, 2 * i + 2))), bits(all.subarray(2 * i, 2 * i + 2)));
    }
  } finally {
    net.free();
  }
});

test("temporary buffers are freed: many calls do not grow the memory", () => {
  const net = Network.fromJSON(mlp());
  try {
    const x = new Float32Array(2 * 256).fill(0.5);
    const calls = () => { net.forward(x); net.toJSON(); net.info(); net.backward(x, null, x); net.toSafetensors(); };
    for (let i = 0; i < 5; i++) calls(); // the first backward allocates the network's gradients
    const size = exports().memory.buffer.byteLength;
    for (let i = 0; i < 200; i++) calls();
    assert.equal(exports().memory.buffer.byteLength, size);
  } finally {
    net.free();
  }
});

test("toJSON → fromJSON keeps weights and output bits", () => {
  for (const dtype of ["f32", "f64"]) {
    const a = Network.fromJSON(mlp(dtype, 11));
    const b = Network.fromJSON(a.toJSON());
    try {
      const x = Float64Array.from({ length: 64 }, (_, i) => (i % 13) / 4 - 1.5);
      assert.equal(b.weightsHash(), a.weightsHash());
      assert.equal(bits(b.forward(x)), bits(a.forward(x)));
      assert.equal(bits(b.forward(Float32Array.from(x))), bits(a.forward(Float32Array.from(x))));
      assert.equal(JSON.parse(a.toJSON()).weights["layers.0.weight"].dtype, dtype);
    } finally {
      a.free();
      b.free();
    }
  }
});

test("results larger than the first buffer guess (a 150 KB saved model) are fetched whole", () => {
  const big = JSON.stringify({ format: "loom", version: 1, input: { shape: [64] }, layers: [{ type: "dense", units: 512 }] });
  const a = Network.fromJSON(big);
  try {
    const json = a.toJSON();
    assert.ok(json.length > 150000, `${json.length} characters`);
    assert.equal(JSON.parse(json).weights["layers.0.weight"].shape[0], 512);
    const b = Network.fromJSON(json);
    try {
      assert.equal(b.weightsHash(), a.weightsHash());
    } finally {
      b.free();
    }
    assert.equal(a.toSafetensors().length > 4 * 64 * 512, true);
  } finally {
    a.free();
  }
});

test("toSafetensors → fromSafetensors keeps output bits; other dtypes load", () => {
  const a = Network.fromJSON(mlp("f32", 5));
  const x = Float32Array.from({ length: 40 }, (_, i) => (i % 7) / 3 - 1);
  try {
    const bytes = a.toSafetensors();
    assert.ok(bytes instanceof Uint8Array);
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    assert.deepEqual(header["layers.0.weight"].shape, [16, 2]);
    assert.equal(header["layers.0.weight"].dtype, "F32");
    const b = Network.fromSafetensors(bytes);
    try {
      assert.equal(b.weightsHash(), a.weightsHash());
      assert.equal(bits(b.forward(x)), bits(a.forward(x)));
    } finally {
      b.free();
    }
    const half = a.toSafetensors("f16");
    assert.ok(half.length < bytes.length);
    const c = Network.fromSafetensors(half);
    try {
      assert.notEqual(c.weightsHash(), a.weightsHash()); // rounded to f16
      assert.equal(c.forward(x).length, x.length);
    } finally {
      c.free();
    }
  } finally {
    a.free();
  }
});

test("the weights hash is 16 hex digits and depends on the seed", () => {
  const a = Network.fromJSON(mlp("f32", 1)), b = Network.fromJSON(mlp("f32", 1)), c = Network.fromJSON(mlp("f32", 2));
  try {
    assert.match(a.weightsHash(), /^[0-9a-f]{16}$/);
    assert.equal(a.weightsHash(), b.weightsHash());
    assert.notEqual(a.weightsHash(), c.weightsHash());
  } finally {
    a.free(); b.free(); c.free();
  }
});

test("setThreads is accepted and changes nothing", () => {
  const net = Network.fromJSON(mlp());
  try {
    const x = new Float32Array([0.25, -0.5]);
    const before = bits(net.forward(x));
    net.setThreads(8);
    assert.equal(bits(net.forward(x)), before);
  } finally {
    net.free();
  }
});

test("load() takes bytes or a compiled module; objects keep the module they were made in", async () => {
  const { readFileSync } = await import("node:fs");
  const { load } = await import("../loom.mjs");
  const { wasmPath } = await import("./helpers.mjs");
  const old = Network.fromJSON(tinyDense());
  const oldMemory = exports().memory;
  try {
    assert.match(await load(readFileSync(wasmPath)), /^\d+\.\d+\.\d+$/);
    assert.notEqual(exports().memory, oldMemory);
    assert.match(await load(new WebAssembly.Module(readFileSync(wasmPath))), /^\d+\.\d+\.\d+$/);
    const fresh = Network.fromJSON(tinyDense());
    try {
      assert.deepEqual(Array.from(fresh.forward(new Float32Array([1, 2]))), [5.5, 0.5]);
      assert.deepEqual(Array.from(old.forward(new Float32Array([1, 2]))), [5.5, 0.5]);
    } finally {
      fresh.free();
    }
    await assert.rejects(load(new Uint8Array([0, 97, 115, 109])), WebAssembly.CompileError);
  } finally {
    old.free();
  }
});
