// Step execution and Neural Tweening: pipelines give Network.forward's bits, StepBP and StepTween
// one sample in flight equal the trainer and whole-pass tween steps bit for bit, errors, reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LoomError, Network, Status, StepState, Trainer, Tween, exports } from "../loom.mjs";
import { bits, fails } from "./helpers.mjs";

/** 2 → 6 tanh → 5 relu → 2: three stages (tests/c/test_loom.c's MLP3). */
const mlp3 = (dtype = "f32") => JSON.stringify({
  format: "loom", version: 1, dtype, seed: 11, input: { shape: [2] },
  layers: [{ type: "dense", units: 6, activation: "tanh" }, { type: "dense", units: 5, activation: "relu" }, { type: "dense", units: 2 }],
});
const SGD_CE = { loss: "cross_entropy", optimizer: { type: "sgd", lr: 0.1 } };
/** Six samples (exact in float32) and their class ids. */
const XS = [0, 0, 0, 1, 1, 0, 1, 1, -0.5, 0.75, 0.25, -1];
const TS = [0, 1, 1, 0, 1, 0];
const sample = (T, i) => T.from(XS.slice(2 * i, 2 * i + 2));

/** Runs body(...objects) and frees every object afterwards. */
function using(objects, body) {
  try {
    return body(...objects);
  } finally {
    for (const o of objects.reverse()) o.free();
  }
}

/** Feeds sample i (with its target when given), then ticks without input until it leaves:
 * the result and the ticks it took. */
function feedAndDrain(st, x, target) {
  let r = st.tick(x, target), ticks = 1;
  while (!r && ticks < 10) { r = st.tick(); ticks++; }
  return { r, ticks };
}

test("an inference pipeline gives Network.forward's bits for every sample, tags in feeding order", () => {
  for (const [dtype, T] of [["f32", Float32Array], ["f64", Float64Array]]) {
    using([Network.fromJSON(mlp3(dtype))], (net) => {
      const n = XS.length / 2, ref = net.forward(T.from(XS));
      for (const options of [undefined, { concurrent: true }, { learner: "none", stashLimit: 2 }, '{"concurrent": false}']) {
        using([new StepState(net, options)], (st) => {
          assert.equal(st.latency, 3);
          assert.equal(st.report(), null);
          const got = [];
          for (let k = 0; k < n + 3; k++) {
            const r = st.tick(k < n ? sample(T, k) : null);
            assert.equal(r !== null, k >= 2 && k < n + 2, `${dtype} tick ${k}`);
            if (r) got.push(r);
          }
          assert.deepEqual(got.map((r) => r.tag), [0, 1, 2, 3, 4, 5]);
          for (const r of got) {
            assert.ok(r.output instanceof T);
            assert.equal(bits(r.output), bits(ref.subarray(2 * r.tag, 2 * r.tag + 2)), `${dtype} sample ${r.tag}`);
            assert.ok(Number.isNaN(r.loss));
          }
          assert.deepEqual(st.progress(), { ticks: n + 3, fed: n, updates: 0 });
          assert.deepEqual(st.report(), { tag: n - 1 });
        });
      }
    });
  }
});

test("flush drains what is in flight; a tick without x keeps the last sample's float type", () => {
  using([Network.fromJSON(mlp3()), Network.fromJSON(mlp3("f64"))], (net, net64) => {
    const ref = net.forward(Float32Array.from(XS)), ref64 = net64.forward(Float64Array.from(XS));
    using([new StepState(net), new StepState(net64)], (st, st64) => {
      assert.deepEqual(st.flush(), []); // never fed: nothing to drain, no tick
      assert.equal(st.progress().ticks, 0);
      assert.equal(st.tick(sample(Float32Array, 0)), null);
      assert.equal(st.tick(sample(Float32Array, 1)), null);
      const out = st.flush();
      assert.deepEqual(out.map((r) => r.tag), [0, 1]);
      assert.ok(out.every((r) => r.output instanceof Float32Array));
      assert.equal(bits(out[1].output), bits(ref.subarray(2, 4)));
      assert.deepEqual(st.progress(), { ticks: 4, fed: 2, updates: 0 });
      assert.deepEqual(st.flush(), []);
      assert.equal(st.progress().ticks, 4);
      // Doubles in (a plain array) → the f64 entry point: an f32 network's values, widened exactly.
      st.tick([1, 0]);
      const [r] = st.flush();
      assert.ok(r.output instanceof Float64Array);
      assert.equal(bits(Float32Array.from(r.output)), bits(ref.subarray(4, 6)));
      // An f64 network computes in doubles.
      st64.tick(sample(Float64Array, 4));
      const [r64] = st64.flush();
      assert.ok(r64.output instanceof Float64Array);
      assert.equal(bits(r64.output), bits(ref64.subarray(8, 10)));
    });
  });
});

test("StepBP with one sample in flight equals a trainer on batches of one, bit for bit", () => {
  using([Network.fromJSON(mlp3()), Network.fromJSON(mlp3())], (a, b) => {
    const h0 = a.weightsHash();
    assert.equal(b.weightsHash(), h0);
    using([new StepState(a, { learner: "backprop", training: SGD_CE }), Trainer.with(b, SGD_CE)], (sa, tb) => {
      let tag = 0;
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 6; i++) {
          const x = sample(Float32Array, i);
          const { r, ticks } = feedAndDrain(sa, x, TS[i]);
          assert.equal(ticks, 3);
          assert.equal(r.tag, tag++);
          const lb = tb.step(x, 1, [TS[i]]);
          assert.equal(Math.fround(r.loss), lb, `round ${round} sample ${i}`);
          assert.deepEqual(sa.report(), { tag: r.tag, loss: r.loss });
        }
      }
      assert.equal(sa.progress().updates, 18);
    });
    assert.notEqual(a.weightsHash(), h0);
    assert.equal(a.weightsHash(), b.weightsHash());
  });
});

test("StepBP: updateEvery is one optimizer update per n samples; class ids and one-hot targets agree", () => {
  using([Network.fromJSON(mlp3()), Network.fromJSON(mlp3())], (a, b) => {
    using([new StepState(a, { learner: "backprop", training: SGD_CE, updateEvery: 2 }),
      new StepState(b, { learner: "backprop", training: SGD_CE, updateEvery: 2 })], (sa, sb) => {
      const tags = [];
      for (let i = 0; i < 6; i++) {
        const r = sa.tick(sample(Float32Array, i), TS[i]);
        if (r) tags.push(r.tag);
        sb.tick(sample(Float32Array, i), TS[i] === 1 ? [0, 1] : [1, 0]);
      }
      tags.push(...sa.flush().map((r) => r.tag));
      assert.deepEqual(tags, [0, 1, 2, 3, 4, 5]);
      assert.equal(sb.flush().length, 2);
      assert.deepEqual(sa.progress(), { ticks: 8, fed: 6, updates: 3 });
    });
    assert.equal(a.weightsHash(), b.weightsHash());
  });
});

test("StepTween with one sample in flight equals whole-pass tween steps, bit for bit (f32, f64, both modes)", () => {
  for (const [dtype, T] of [["f32", Float32Array], ["f64", Float64Array]]) {
    for (const cfg of [{ mode: "gap_closing", rate: 0.05 }, { mode: "chain_rule", rate: 0.05, signalClip: 5, depthScaleFactor: 1.1 }]) {
      using([Network.fromJSON(mlp3(dtype)), Network.fromJSON(mlp3(dtype))], (a, b) => {
        const h0 = a.weightsHash();
        using([new StepState(a, { learner: "tween", tween: cfg }), new Tween(b, cfg)], (sa, tw) => {
          for (let i = 0; i < 6; i++) {
            const x = sample(T, i);
            const { r } = feedAndDrain(sa, x, [TS[i]]);
            const lb = tw.step(x, 1, [TS[i]]);
            assert.equal(r.loss, lb, `${dtype} ${cfg.mode} sample ${i}`);
            assert.ok(r.loss > 0);
          }
          assert.equal(sa.progress().updates, 6);
          const rep = sa.report();
          assert.equal(rep.tag, 5);
          assert.equal(rep.gaps.length, 3);
          assert.deepEqual(rep.gaps, tw.report().gaps);
        });
        assert.notEqual(a.weightsHash(), h0);
        assert.equal(a.weightsHash(), b.weightsHash(), `${dtype} ${cfg.mode}`);
      });
    }
  }
});

test("the tween report: one link budget, gap and depth barrier per layer; null before the first step", () => {
  using([Network.fromJSON(mlp3())], (net) => {
    using([new Tween(net, { mode: "gap_closing", rate: 0.05, typeRates: { dense: 0.5 }, ignoreThreshold: 0.1 })], (tw) => {
      assert.equal(tw.report(), null);
      const loss = tw.step(Float32Array.from(XS), 6, Float32Array.from(TS));
      const rep = tw.report();
      const layers = net.info().layers.length;
      assert.equal(layers, 3);
      assert.equal(rep.loss, loss);
      for (const key of ["link_budgets", "gaps", "depth_barrier", "updated"]) assert.equal(rep[key].length, layers, key);
      assert.ok(rep.link_budgets.every((b) => b >= 0 && b <= 1));
      // The depth barrier is the product of the budgets from the stage to the output.
      assert.equal(rep.depth_barrier[2], rep.link_budgets[2]);
      assert.deepEqual(rep.pruned, []);
      // Values as targets (outputSize per sample), in doubles; the batch inferred from x.
      const l2 = tw.step([0.5, -0.25], undefined, [1, 0]);
      assert.ok(l2 > 0 && Number.isFinite(l2));
      assert.equal(tw.report().loss, l2);
    });
  });
});

test("step and tween errors are LoomErrors with the module's status", () => {
  using([Network.fromJSON(mlp3())], (net) => {
    const x = sample(Float32Array, 1);
    using([new StepState(net), new StepState(net, { learner: "backprop", training: SGD_CE })], (inf, bp) => {
      fails(() => inf.tick(), Status.INVALID_ARGUMENT, /never been given an input/);
      fails(() => inf.tick(x, 1), Status.INVALID_ARGUMENT, /no learner/);
      fails(() => bp.tick(x), Status.INVALID_ARGUMENT, /target/);
      fails(() => bp.tick(x, 1.5), Status.INVALID_INPUT, /1\.5/);
      fails(() => bp.tick(x, [0, 1, 1]), Status.SHAPE_MISMATCH, /3 targets/);
      fails(() => bp.tick([0, 1, 2], 1), Status.SHAPE_MISMATCH, /x has 3 values/);
      // Failed ticks change nothing.
      assert.deepEqual(inf.progress(), { ticks: 0, fed: 0, updates: 0 });
      assert.deepEqual(bp.progress(), { ticks: 0, fed: 0, updates: 0 });
      bp.tick(x, 1);
      fails(() => bp.tick(null, 1), Status.INVALID_ARGUMENT, /without an input takes no target/);
      assert.deepEqual(bp.progress(), { ticks: 1, fed: 1, updates: 0 });
    });
    fails(() => new StepState(net, { latency: 2 }), Status.INVALID_ARGUMENT, /latency: unknown field/);
    fails(() => new StepState(net, { learner: "magic" }), Status.INVALID_ARGUMENT, /magic/);
    fails(() => new StepState(net, { learner: "backprop" }), Status.INVALID_ARGUMENT, /training block/);
    fails(() => new StepState(net, { stashLimit: 0 }), Status.INVALID_ARGUMENT, /stash_limit/);
    fails(() => new StepState(net, { learner: "tween", tween: { pruning: true } }), Status.INVALID_ARGUMENT, /pruning/);
    fails(() => new StepState(net, "{"), Status.INVALID_JSON, /options_json/);
    fails(() => new StepState(net, { learner: "tween", tween: { mode: "sideways" } }), Status.INVALID_ARGUMENT, /sideways/);
    fails(() => new Tween(net, { mode: "sideways" }), Status.INVALID_ARGUMENT, /sideways/);
    fails(() => new Tween(net, { rates: 1 }), Status.INVALID_ARGUMENT, /config_json\.rates/);
    fails(() => new Tween(net, { rate: -1 }), Status.INVALID_ARGUMENT, /rate/);
    using([new Tween(net)], (tw) => {
      fails(() => tw.step(x, 1, [0, 1, 1]), Status.SHAPE_MISMATCH, /3 targets/);
      fails(() => tw.step(x, 1, 5), Status.INVALID_INPUT, /class index 5/);
      fails(() => tw.step([0, 1, 2], undefined, [1]), Status.SHAPE_MISMATCH, /x has 3 values/);
    });
  });
});

test("freed step states and tween states throw status 1; the module refuses their old handles", () => {
  using([Network.fromJSON(mlp3())], (net) => {
    const st = new StepState(net), tw = new Tween(net);
    const hs = st.handle, ht = tw.handle;
    st.free();
    st.free(); // idempotent
    tw.free();
    fails(() => st.tick([0, 1]), Status.INVALID_ARGUMENT, /step state has been freed/);
    fails(() => st.latency, Status.INVALID_ARGUMENT, /freed/);
    fails(() => st.report(), Status.INVALID_ARGUMENT, /freed/);
    fails(() => tw.step([0, 1], 1, [1]), Status.INVALID_ARGUMENT, /tween state has been freed/);
    fails(() => tw.report(), Status.INVALID_ARGUMENT, /freed/);
    const raw = exports(), p = raw.loom_alloc(8);
    try {
      assert.equal(raw.loom_step_latency(hs, p), Status.INVALID_ARGUMENT);
      assert.equal(raw.loom_tween_report_json(ht, 0, 0, p), Status.INVALID_ARGUMENT);
      assert.equal(raw.loom_step_latency(net.handle, p), Status.INVALID_ARGUMENT); // a handle of the wrong kind
    } finally {
      raw.loom_dealloc(p);
    }
  });
});

test("weight stashing (streaming, updates in flight) changes the weights and repeats bit for bit", () => {
  const run = (weightStashing) => using([Network.fromJSON(mlp3())], (net) => {
    using([new StepState(net, { learner: "backprop", training: SGD_CE, weightStashing })], (st) => {
      for (let i = 0; i < 12; i++) st.tick(sample(Float32Array, i % 6), TS[i % 6]);
    });
    return net.weightsHash();
  });
  const a = run(true), b = run(true), c = run(false);
  assert.equal(a, b);
  assert.notEqual(a, c);
  using([Network.fromJSON(mlp3())], (net) => fails(() => new StepState(net, { weightStashing: true }), Status.INVALID_ARGUMENT, /weight_stashing/));
});
