// Shared by the tests: loads the module once per test file and builds small networks.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LoomError, load } from "../loom.mjs";

export const root = fileURLToPath(new URL("../../../", import.meta.url));
export const wasmPath = process.env.LOOM_WASM ?? `${root}.build-wasm/loom.wasm`;
await load(wasmPath);

/** Lines of Fixtures/golden/reference-hashes.txt without comments. */
export const goldenLines = () => readFileSync(`${root}Fixtures/golden/reference-hashes.txt`, "utf8")
  .split("\n").filter((l) => l !== "" && !l.startsWith("#"));

const b64 = (values, Type) => Buffer.from(new Uint8Array(Type.from(values).buffer)).toString("base64");

/** A saved model: dense 2 → 2 (activation given) with W = [[1, 2], [3, -1]] and b = [0.5, -0.5]. */
export function tinyDense(activation = "linear", dtype = "f32", training = { loss: "mse", optimizer: { type: "sgd", lr: 0.1 } }) {
  const T = dtype === "f64" ? Float64Array : Float32Array;
  return JSON.stringify({
    format: "loom", version: 1, dtype, seed: 0, input: { shape: [2] },
    layers: [{ type: "dense", units: 2, activation }],
    training,
    weights: {
      "layers.0.weight": { dtype, shape: [2, 2], data: b64([1, 2, 3, -1], T) },
      "layers.0.bias": { dtype, shape: [2], data: b64([0.5, -0.5], T) },
    },
  });
}

/** The page's default kind of network: 2 → 16 tanh → 2 logits, cross-entropy, AdamW. */
export function mlp(dtype = "f32", seed = 3) {
  return JSON.stringify({
    format: "loom", version: 1, dtype, seed, input: { shape: [2] },
    layers: [{ type: "dense", units: 16, activation: "tanh" }, { type: "dense", units: 2 }],
    training: { loss: "cross_entropy", optimizer: { type: "adamw", lr: 0.05, weight_decay: 0 } },
  });
}

/** XOR of quadrants on a 6×6 grid of points in [-1, 1]: 36 samples, class ids. */
export function xorData(T = Float32Array) {
  const x = [], y = [];
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
    const a = (2 * i - 5) / 5, b = (2 * j - 5) / 5;
    x.push(a, b);
    y.push((a > 0) !== (b > 0) ? 1 : 0);
  }
  return { x: T.from(x), y: T.from(y) };
}

/** The bytes of a typed array (to compare bits, NaN payloads and signed zeros included). */
export const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");

/** Asserts that fn throws a LoomError with this status and a message matching re. */
export function fails(fn, status, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof LoomError, `not a LoomError: ${e}`);
    assert.equal(e.status, status, e.message);
    assert.match(e.message, re);
    return true;
  });
}
