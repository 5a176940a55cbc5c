// The golden reference hashes (Fixtures/golden/reference-hashes.txt), computed two ways in the
// wasm module: loom_reference_hashes, and every case run through the public API (crosscheck.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fnv1a64, outputHash, referenceCases, referenceHashes } from "../loom.mjs";
import { crosscheckLines } from "../crosscheck.mjs";
import { goldenLines } from "./helpers.mjs";

/** The first difference between two lists of lines, for a readable failure. */
function sameLines(actual, expected) {
  assert.equal(actual.length, expected.length, "line count");
  const i = actual.findIndex((l, k) => l !== expected[k]);
  assert.equal(i, -1, i < 0 ? "" : `line ${i + 1}: ${actual[i]} instead of ${expected[i]}`);
}

test("referenceHashes() gives the golden file's 1378 lines", () => {
  const golden = goldenLines();
  assert.equal(golden.length, 1378);
  sameLines(referenceHashes(), golden);
});

test("every reference case through the JS API gives the golden file's lines", () => {
  sameLines(Array.from(crosscheckLines()), goldenLines());
});

test("reference cases: names, IR, data sizes", () => {
  const cases = Array.from(referenceCases());
  assert.equal(cases.length * 2, goldenLines().length);
  const dense = cases.find((c) => c.name === "dense_relu.f32") ?? cases[0];
  assert.equal(JSON.parse(dense.ir).format, "loom");
  assert.ok(JSON.parse(dense.ir).training, "the IR carries its training block");
  assert.ok(dense.input instanceof Float64Array && dense.input.length % 8 === 0);
  assert.equal(dense.trainInputs.length, dense.input.length * 4);
  assert.equal(dense.trainTargets.length % 32, 0);
  assert.ok(cases.some((c) => c.f64) && cases.some((c) => !c.f64));
});

/** FNV-1a 64 written plainly with BigInt, to check the 32-bit-halves version. */
function fnvBig(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}

test("fnv1a64: published vectors and agreement with a BigInt implementation", () => {
  const utf8 = (s) => new TextEncoder().encode(s);
  assert.equal(fnv1a64(utf8("")), "cbf29ce484222325");
  assert.equal(fnv1a64(utf8("a")), "af63dc4c8601ec8c");
  assert.equal(fnv1a64(utf8("foobar")), "85944171f73967e8");
  let seed = 12345;
  for (let n = 0; n < 200; n++) {
    const bytes = new Uint8Array(n).map(() => (seed = (seed * 1103515245 + 12345) % 2147483648) >>> 16 & 255);
    assert.equal(fnv1a64(bytes), fnvBig(bytes));
    assert.equal(fnv1a64(bytes.subarray(0, n >> 1), bytes.subarray(n >> 1)), fnvBig(bytes)); // chunks
  }
});

test("outputHash: header and value bits; every NaN hashes as the canonical NaN", () => {
  const y = new Float32Array([1.5, -0]);
  const header = new BigUint64Array([2n, 1n, 2n]);
  assert.equal(outputHash(y, 1, [2]), fnvBig(new Uint8Array([...new Uint8Array(header.buffer), ...new Uint8Array(y.buffer)])));
  const nan32 = (bits) => new Float32Array(new Uint32Array([bits]).buffer);
  assert.equal(outputHash(nan32(0xffc00001), 1, [1]), outputHash(nan32(0x7fc00000), 1, [1]));
  assert.notEqual(outputHash(nan32(0x7f800000), 1, [1]), outputHash(nan32(0x7fc00000), 1, [1])); // +inf is not NaN
  const nan64 = (hi, lo) => new Float64Array(new Uint32Array([lo, hi]).buffer);
  assert.equal(outputHash(nan64(0xfff80000, 5), 1, [1]), outputHash(nan64(0x7ff80000, 0), 1, [1]));
  assert.equal(outputHash(nan64(0x7ff00000, 1), 1, [1]), outputHash(nan64(0x7ff80000, 0), 1, [1]));
  assert.notEqual(outputHash(nan64(0x7ff00000, 0), 1, [1]), outputHash(nan64(0x7ff80000, 0), 1, [1]));
});
