// Training: the loss falls, runs are bit-reproducible, progress and schedulers, trainer blocks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Network, Trainer } from "../loom.mjs";
import { mlp, tinyDense, xorData } from "./helpers.mjs";

/** `steps` full-batch steps on the XOR grid; the losses and the final weights hash. */
function train(dtype, steps, T = dtype === "f64" ? Float64Array : Float32Array) {
  const net = Network.fromJSON(mlp(dtype, 3));
  const trainer = new Trainer(net);
  try {
    const { x, y } = xorData(T);
    const losses = [];
    for (let s = 0; s < steps; s++) losses.push(trainer.step(x, 36, y));
    return { losses, hash: net.weightsHash(), out: net.forward(x) };
  } finally {
    trainer.free();
    net.free();
  }
}

test("training lowers the loss and learns XOR (f32 and f64)", () => {
  for (const dtype of ["f32", "f64"]) {
    const { losses, out } = train(dtype, 150);
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses[0] > 0.6, `first loss ${losses[0]}`);
    assert.ok(losses.at(-1) < losses[0] / 4, `${dtype}: loss ${losses[0]} → ${losses.at(-1)}`);
    const { y } = xorData();
    let right = 0;
    for (let i = 0; i < 36; i++) right += (out[2 * i + 1] > out[2 * i] ? 1 : 0) === y[i] ? 1 : 0;
    assert.ok(right >= 34, `${dtype}: ${right} of 36 classified right`);
  }
});

test("training is deterministic: two runs give the same weights hash and losses", () => {
  for (const dtype of ["f32", "f64"]) {
    const a = train(dtype, 40), b = train(dtype, 40);
    assert.equal(a.hash, b.hash);
    assert.deepEqual(a.losses, b.losses);
    assert.notEqual(a.hash, train(dtype, 39).hash); // and a step changes it
  }
});

test("the float32 step returns a float32 loss, the float64 step a double", () => {
  const f32 = train("f32", 1).losses[0], f64 = train("f32", 1, Float64Array).losses[0];
  assert.equal(Math.fround(f32), f32);
  assert.equal(f64, f32); // an f32 network computes in float whichever entry point is used
});

test("one SGD step on the tiny dense network, by hand", () => {
  // mse: L = mean((y − t)²) over 2 elements; dL/dy = (y − t); lr 0.1.
  const net = Network.fromJSON(tinyDense());
  const trainer = new Trainer(net);
  try {
    // x = [1, 2] → y = [5.5, 0.5]; t = [5.5, 1.5] → dy = [0, -1]: L = 0.5
    const loss = trainer.step(new Float32Array([1, 2]), 1, new Float32Array([5.5, 1.5]));
    assert.equal(loss, 0.5);
    // dW = dy·xᵀ = [[0, 0], [-1, -2]], db = [0, -1] → W = [[1, 2], [3.1, -0.8]], b = [0.5, -0.4]
    const y = net.forward(new Float32Array([1, 0, 0, 1]));
    assert.deepEqual(Array.from(y), [1.5, Math.fround(Math.fround(3.1) - Math.fround(0.4)), 2.5, Math.fround(-0.8 - 0.4)].map(Math.fround));
  } finally {
    trainer.free();
    net.free();
  }
});

test("progress counts steps and follows the scheduler", () => {
  const net = Network.fromJSON(tinyDense());
  const trainer = Trainer.with(net, { loss: "mse", optimizer: { type: "sgd", lr: 0.1 }, scheduler: { type: "step", step_size: 2, gamma: 0.5 } });
  try {
    assert.deepEqual(trainer.progress(), { steps: 0, lr: 0.1 });
    const x = new Float32Array([1, 2]), t = new Float32Array([0, 0]);
    trainer.step(x, 1, t);
    trainer.step(x, 1, t);
    assert.deepEqual(trainer.progress(), { steps: 2, lr: 0.05 });
  } finally {
    trainer.free();
    net.free();
  }
});

test("Trainer.with takes a training block as an object or as JSON text", () => {
  const run = (training) => {
    const net = Network.fromJSON(mlp("f32", 9));
    const trainer = Trainer.with(net, training);
    try {
      const { x, y } = xorData();
      for (let s = 0; s < 5; s++) trainer.step(x, null, y);
      return net.weightsHash();
    } finally {
      trainer.free();
      net.free();
    }
  };
  const block = { loss: "cross_entropy", optimizer: { type: "rmsprop", lr: 0.01 } };
  assert.equal(run(block), run(JSON.stringify(block)));
  assert.notEqual(run(block), run({ loss: "cross_entropy", optimizer: { type: "sgd", lr: 0.01 } }));
});

test("cross-entropy targets may also be probability rows", () => {
  const ids = train("f32", 3).hash;
  const net = Network.fromJSON(mlp("f32", 3));
  const trainer = new Trainer(net);
  try {
    const { x, y } = xorData();
    const rows = new Float32Array(72);
    y.forEach((c, i) => { rows[2 * i + c] = 1; });
    for (let s = 0; s < 3; s++) trainer.step(x, 36, rows);
    assert.equal(net.weightsHash(), ids);
  } finally {
    trainer.free();
    net.free();
  }
});
