// Loom for Swift in JavaScript: the WebAssembly build of the engine (.build-wasm/loom.wasm, made by
// scripts/build-wasm) behind a small API, in node and in browsers, with no dependencies.
// The module exports the C ABI of include/loom.h (wasm32: pointers and size_t are i32) plus
// loom_alloc/loom_dealloc; this file only moves bytes in and out of its memory. docs/js.md.
//
//   import { load, Network } from "./loom.mjs";
//   await load(".build-wasm/loom.wasm");            // a path (node), a URL, bytes or a Module
//   const net = Network.fromJSON(irText);
//   const y = net.forward(new Float32Array([0, 1]));  // Float32Array in → Float32Array out

const STATUS_NAMES = ["ok", "invalid argument", "invalid JSON", "invalid network", "invalid model", "shape mismatch",
  "invalid input", "non-finite value", "I/O error", "unsupported version", "buffer too small", "device error"];

/** The status codes of loom.h's loom_status. */
export const Status = Object.freeze({
  OK: 0, INVALID_ARGUMENT: 1, INVALID_JSON: 2, INVALID_NETWORK: 3, INVALID_MODEL: 4, SHAPE_MISMATCH: 5,
  INVALID_INPUT: 6, NON_FINITE: 7, IO: 8, UNSUPPORTED_VERSION: 9, BUFFER_TOO_SMALL: 10, DEVICE: 11,
});

/** A failed call: `status` is the loom_status code ("invalid JSON" … in `statusName`), `message`
 * the module's message (e.g. "invalid JSON at json: line 1, column 2: …"). */
export class LoomError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "LoomError";
    this.status = status;
    this.statusName = STATUS_NAMES[status] ?? "error";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const isNode = typeof process !== "undefined" && !!process.versions?.node;

/** One loaded module: its exports, a scratch area for out-parameters, and memory helpers. */
class Instance {
  constructor(instance) {
    this.x = instance.exports;
    this.buffer = null;
    this.view = null;
    this.scratch = this.x.loom_alloc(32) >>> 0; // out-parameters: +0 size_t/handle, +8 u64/double, +16 double
    if (this.scratch === 0) throw new LoomError(Status.INVALID_ARGUMENT, "loom_alloc failed");
  }

  /** A DataView of the memory, re-created when growth has replaced the ArrayBuffer. */
  dv() {
    const b = this.x.memory.buffer;
    if (b !== this.buffer) { this.buffer = b; this.view = new DataView(b); }
    return this.view;
  }
  bytes(ptr, n) { this.dv(); return new Uint8Array(this.buffer, ptr, n); }
  u32(ptr) { return this.dv().getUint32(ptr, true); }
  f64(ptr) { return this.dv().getFloat64(ptr, true); }

  /** The NUL-terminated UTF-8 string at ptr. */
  cString(ptr) {
    const m = new Uint8Array(this.dv().buffer);
    let end = ptr;
    while (m[end] !== 0) end++;
    return new TextDecoder().decode(m.subarray(ptr, end));
  }

  check(status) {
    if (status !== 0) throw new LoomError(status, this.cString(this.x.loom_last_error() >>> 0));
  }

  alloc(n) {
    const p = this.x.loom_alloc(n) >>> 0;
    if (p === 0) throw new LoomError(Status.INVALID_ARGUMENT, `cannot allocate ${n} bytes in the module's memory`);
    return p;
  }

  /** Runs body(ptr) with n bytes of the module's memory, freed afterwards. */
  withSpace(n, body) {
    const p = this.alloc(n);
    try {
      return body(p);
    } finally {
      this.x.loom_dealloc(p);
    }
  }
  /** Runs body(ptr) with a copy of `bytes` (plus a NUL when nul) in the module's memory. */
  withBytes(bytes, nul, body) {
    return this.withSpace(bytes.length + (nul ? 1 : 0), (p) => {
      const m = this.bytes(p, bytes.length + (nul ? 1 : 0));
      m.set(bytes);
      if (nul) m[bytes.length] = 0;
      return body(p);
    });
  }
  withString(text, body) { return this.withBytes(encoder.encode(text), true, body); }
  /** A typed array copied in (its bytes), for the duration of body(ptr). */
  withArray(a, body) { return this.withBytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), false, body); }

  /** Calls a function that writes into a caller buffer (buf, capacity, *needed): first with room
   * for `guess` elements, again with the size the module asked for when that was too small.
   * read(ptr, count) copies the result out before the buffer is freed. */
  sized(elementBytes, guess, call, read) {
    let capacity = Math.max(guess, 1);
    for (;;) {
      const result = this.withSpace(capacity * elementBytes, (p) => {
        const s = call(p, capacity, this.scratch);
        const needed = this.u32(this.scratch);
        if (s === 0) return { value: read(p, needed) };
        if (s !== Status.BUFFER_TOO_SMALL || needed <= capacity) this.check(s);
        capacity = needed;
        return null;
      });
      if (result) return result.value;
    }
  }
  text(guess, call) {
    return this.sized(1, guess, call, (p, n) => decoder.decode(this.bytes(p, Math.max(n - 1, 0))));
  }
  array(Type, guess, call) {
    return this.sized(Type.BYTES_PER_ELEMENT, guess, call, (p, n) => {
      this.dv();
      return new Type(this.buffer, p, n).slice();
    });
  }

  /** The 32-bit out-parameter (a handle or a size_t) that call(outPtr) writes. */
  out(call) {
    this.check(call(this.scratch));
    return this.u32(this.scratch);
  }
}

let current = null;

function instance() {
  if (!current) throw new LoomError(Status.INVALID_ARGUMENT, "the module is not loaded: call `await load(...)` first");
  return current;
}

async function wasmBytes(source) {
  if (source instanceof WebAssembly.Module || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return source;
  const url = source ?? new URL("../../.build-wasm/loom.wasm", import.meta.url);
  const text = String(url);
  if (isNode && !/^(https?|data|blob):/.test(text)) {
    const fs = await import("node:fs/promises");
    return fs.readFile(text.startsWith("file:") ? new URL(text) : text);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${text}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** Loads loom.wasm: a path or URL (read in node, fetched in browsers; default: the repository's
 * .build-wasm/loom.wasm next to this file), its bytes, or a compiled WebAssembly.Module. Objects
 * created afterwards use this module. Returns the module's version. */
export async function load(source) {
  const b = await wasmBytes(source);
  const module = b instanceof WebAssembly.Module ? b : await WebAssembly.compile(b);
  const imports = WebAssembly.Module.imports(module);
  if (imports.length !== 0) throw new Error(`loom.wasm must have no imports, it has ${imports.map((i) => i.name).join(", ")}`);
  current = new Instance(await WebAssembly.instantiate(module, {}));
  return version();
}

/** The raw exports of the loaded module (loom_* functions, memory, loom_alloc/loom_dealloc). */
export function exports() { return instance().x; }

/** The module's version ("major.minor.patch"). */
export function version() { const w = instance(); return w.cString(w.x.loom_version() >>> 0); }

// Handles that are garbage-collected without free() are freed here.
const finalizer = typeof FinalizationRegistry === "undefined" ? null
  : new FinalizationRegistry(({ w, free, h }) => w.x[free](h));

/** An object of the module: a handle, its instance, and an idempotent free(). */
class Handle {
  constructor(w, h, free, what) {
    this.w = w;
    this.h = h;
    this.freeName = free;
    this.what = what;
    finalizer?.register(this, { w, free, h }, this);
  }
  /** The live handle (LoomError status 1 once freed). */
  get handle() {
    if (!this.h) throw new LoomError(Status.INVALID_ARGUMENT, `the ${this.what} has been freed`);
    return this.h;
  }
  /** Releases the object in the module (a second free does nothing). */
  free() {
    if (!this.h) return;
    finalizer?.unregister(this);
    this.w.x[this.freeName](this.h);
    this.h = 0;
  }
}

/** Sample count of `length` values of `per` each: `batch` when given (checked), else inferred. */
function samples(length, per, batch, what) {
  const b = batch ?? length / per;
  if (!Number.isInteger(b) || b < 1 || b * per !== length) {
    throw new LoomError(Status.SHAPE_MISMATCH, `${what} has ${length} values; ${batch ?? "a whole number of"} sample(s) of ${per} were expected`);
  }
  return b;
}

/** Float32Array stays float32; anything else becomes a Float64Array. */
function floats(a) { return a instanceof Float32Array || a instanceof Float64Array ? a : Float64Array.from(a); }

export class Network extends Handle {
  /** @internal */
  constructor(w, h) { super(w, h, "loom_network_free", "network"); }

  /** From IR or saved-model JSON (text, or an object that is stringified). */
  static fromJSON(json) {
    const w = instance();
    const text = typeof json === "string" ? json : JSON.stringify(json);
    return new Network(w, w.withString(text, (p) => w.out((out) => w.x.loom_network_from_json(p, out))));
  }

  /** From the bytes of a .safetensors file written by Loom (the IR is in its metadata). */
  static fromSafetensors(bytes) {
    const w = instance();
    const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    return new Network(w, w.withBytes(b, false, (p) => w.out((out) => w.x.loom_network_from_safetensors(p, b.length, out))));
  }

  get inputSize() { return this.w.out((out) => this.w.x.loom_network_input_size(this.handle, out)); }
  get outputSize() { return this.w.out((out) => this.w.x.loom_network_output_size(this.handle, out)); }
  /** The shape of one output sample. */
  get outputShape() { return Array.from(this.w.array(Uint32Array, 8, (p, c, n) => this.w.x.loom_network_output_shape(this.handle, p, c, n))); }
  get parameterCount() { return this.w.out((out) => this.w.x.loom_network_parameter_count(this.handle, out)); }

  /** Threads for this network (results never depend on it; the wasm module runs serially). */
  setThreads(threads) { this.w.check(this.w.x.loom_network_set_threads(this.handle, threads)); }

  /** y = net(x) for `batch` samples (default: x.length / inputSize). A Float32Array runs the
   * float32 entry point and gives a Float32Array; anything else runs in doubles (exact for f64
   * networks) and gives a Float64Array. */
  forward(x, batch) {
    const w = this.w, xs = floats(x), f64 = xs instanceof Float64Array;
    const n = samples(xs.length, this.inputSize, batch, "x");
    const ny = n * this.outputSize;
    const fn = f64 ? w.x.loom_network_forward_f64 : w.x.loom_network_forward;
    return w.withArray(xs, (px) => w.withSpace(ny * xs.BYTES_PER_ELEMENT, (py) => {
      w.check(fn(this.handle, px, n, py, ny));
      w.dv();
      return new xs.constructor(w.buffer, py, ny).slice();
    }));
  }

  /** Gradients for `batch` samples: dy (batch·outputSize values) → { dx (batch·inputSize),
   * grads (parameterCount, in parameter order) }, in x's type as forward. */
  backward(x, batch, dy) {
    const w = this.w, xs = floats(x), f64 = xs instanceof Float64Array;
    const T = xs.constructor;
    const n = samples(xs.length, this.inputSize, batch, "x");
    const g = dy instanceof T ? dy : T.from(dy);
    samples(g.length, this.outputSize, n, "dy");
    const nx = xs.length, np = this.parameterCount;
    const fn = f64 ? w.x.loom_network_backward_f64 : w.x.loom_network_backward;
    const e = T.BYTES_PER_ELEMENT;
    return w.withArray(xs, (px) => w.withArray(g, (pg) => w.withSpace(nx * e, (pdx) => w.withSpace(np * e, (pgr) => {
      w.check(fn(this.handle, px, n, pg, pdx, nx, pgr, np));
      w.dv();
      return { dx: new T(w.buffer, pdx, nx).slice(), grads: new T(w.buffer, pgr, np).slice() };
    }))));
  }

  /** The saved model (IR, weights bit-exactly, optimizer state) as JSON text. */
  toJSON() { return this.w.text(1 << 16, (p, c, n) => this.w.x.loom_network_to_json(this.handle, p, c, n)); }

  /** The weights as .safetensors bytes, in the network's own dtype or any of the 13 ("f16", "i8", …). */
  toSafetensors(dtype) {
    const call = (pd) => this.w.array(Uint8Array, 1 << 16, (p, c, n) => this.w.x.loom_network_to_safetensors(this.handle, pd, p, c, n));
    return dtype == null ? call(0) : this.w.withString(dtype, call);
  }

  /** The blueprint (layers, shapes, parameters), parsed. */
  info() { return JSON.parse(this.w.text(4096, (p, c, n) => this.w.x.loom_network_info_json(this.handle, p, c, n))); }

  /** FNV-1a 64 of every parameter (names, shapes, bits) as 16 hex digits, as in the golden file. */
  weightsHash() {
    const w = this.w;
    w.check(w.x.loom_network_weights_hash(this.handle, w.scratch + 8));
    return w.dv().getBigUint64(w.scratch + 8, true).toString(16).padStart(16, "0");
  }
}

export class Trainer extends Handle {
  /** A trainer with the network's IR training block (loss, optimizer, scheduler, clipping). */
  constructor(network, training) {
    const w = network.w;
    const h = training == null
      ? w.out((out) => w.x.loom_trainer_new(network.handle, out))
      : w.withString(typeof training === "string" ? training : JSON.stringify(training),
        (p) => w.out((out) => w.x.loom_trainer_new_with(network.handle, p, out)));
    super(w, h, "loom_trainer_free", "trainer");
    this.network = network;
  }

  /** A trainer with the given training block (object or JSON text), e.g.
   * {loss: "mse", optimizer: {type: "sgd", lr: 0.1}}. */
  static with(network, training) { return new Trainer(network, training); }

  /** One optimizer step on `batch` samples (default: inferred from x); targets are one class id per
   * row (cross-entropy) or batch·outputSize values. A Float32Array x steps in float32, anything
   * else in doubles. Returns the batch loss. */
  step(x, batch, targets) {
    const w = this.w, xs = floats(x), f64 = xs instanceof Float64Array;
    const T = xs.constructor;
    const n = samples(xs.length, this.network.inputSize, batch, "x");
    const t = targets instanceof T ? targets : T.from(targets);
    const fn = f64 ? w.x.loom_trainer_step_f64 : w.x.loom_trainer_step;
    return w.withArray(xs, (px) => w.withArray(t, (pt) => {
      w.check(fn(this.handle, px, n, pt, t.length, w.scratch + 8));
      return f64 ? w.f64(w.scratch + 8) : w.dv().getFloat32(w.scratch + 8, true);
    }));
  }

  /** Steps taken so far and the learning rate of the next step. */
  progress() {
    const w = this.w;
    w.check(w.x.loom_trainer_progress(this.handle, w.scratch, w.scratch + 8));
    return { steps: w.u32(w.scratch), lr: w.f64(w.scratch + 8) };
  }
}

/** Options or a config as JSON text: text as is, an object with its top-level camelCase keys in
 * snake_case (updateEvery → update_every; nested blocks are passed as they are, except `tween`'s
 * keys), null/undefined as NULL (the defaults). */
function optionsJSON(options, nested) {
  if (options == null) return null;
  if (typeof options === "string") return options;
  const snake = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
  const o = snake(options);
  if (nested && o[nested] != null && typeof o[nested] === "object" && !Array.isArray(o[nested])) o[nested] = snake(o[nested]);
  return JSON.stringify(o);
}

/** Calls new(net, json|NULL, out) and returns the handle. */
function newWith(w, network, json, fn) {
  return json == null ? w.out((out) => fn(network.handle, 0, out))
    : w.withString(json, (p) => w.out((out) => fn(network.handle, p, out)));
}

/** Step execution (docs/step.md): the network's top-level layers as a pipeline, one tick at a time. */
export class StepState extends Handle {
  /** options (an object or JSON text; none: inference only): { learner: "none" | "backprop" |
   * "tween", training (backprop; default the IR's block), updateEvery, tween (a Tween config),
   * stashLimit, concurrent } — camelCase or the C ABI's snake_case names. */
  constructor(network, options) {
    const w = network.w;
    super(w, newWith(w, network, optionsJSON(options, "tween"), w.x.loom_step_new), "loom_step_free", "step state");
    this.network = network;
    this.f64 = false;     // the entry point of the last sample fed (a tick without x uses it)
    this.completed = 0;   // samples that have left the pipeline
  }

  /** Ticks from a sample's entry to its output (the number of top-level layers). */
  get latency() { return this.w.out((out) => this.w.x.loom_step_latency(this.handle, out)); }

  /** One tick. x: one sample (inputSize values) that enters under the next tag (0, 1, 2, … in
   * feeding order), or null to tick without feeding (draining). target: with a learner, x's
   * target (a class id — a number or one value — or outputSize values); null otherwise. Returns
   * null, or the sample that left the pipeline this tick: { tag (a Number), output (outputSize
   * values), loss (backprop: its loss; tween: the sum of squared errors; no learner: NaN) }. A
   * Float32Array x runs the float32 entry point and gives a Float32Array, anything else doubles
   * and a Float64Array; a tick without x uses the type of the last sample fed. */
  tick(x = null, target = null) {
    const w = this.w, h = this.handle;
    const xs = x == null ? null : floats(x);
    if (xs) samples(xs.length, this.network.inputSize, 1, "x");
    const f64 = xs ? xs instanceof Float64Array : this.f64;
    const T = f64 ? Float64Array : Float32Array;
    const t = target == null ? null : target instanceof T ? target : T.from(typeof target === "number" ? [target] : target);
    const ny = this.network.outputSize, s = w.scratch;
    const fn = f64 ? w.x.loom_step_tick_f64 : w.x.loom_step_tick;
    const maybe = (a, body) => (a == null ? body(0) : w.withArray(a, body));
    return maybe(xs, (px) => maybe(t, (pt) => w.withSpace(ny * T.BYTES_PER_ELEMENT, (py) => {
      w.check(fn(h, px, pt, t == null ? 0 : t.length, s, s + 8, py, ny, s + 16));
      this.f64 = f64;
      if (w.dv().getInt32(s, true) === 0) return null;
      this.completed++;
      return { tag: Number(w.dv().getBigUint64(s + 8, true)), output: new T(w.buffer, py, ny).slice(), loss: w.f64(s + 16) };
    })));
  }

  /** Ticks without feeding until every sample fed has left the pipeline; returns them in order. */
  flush() {
    const out = [];
    for (let i = this.latency; i > 0 && this.progress().fed > this.completed; i--) {
      const r = this.tick();
      if (r) out.push(r);
    }
    return out;
  }

  /** Ticks so far, samples fed, and learning updates applied (optimizer updates or tween steps). */
  progress() {
    const w = this.w, s = w.scratch;
    w.check(w.x.loom_step_progress(this.handle, s, s + 8, s + 16));
    const dv = w.dv(), n = (o) => Number(dv.getBigUint64(s + o, true));
    return { ticks: n(0), fed: n(8), updates: n(16) };
  }

  /** The report of the sample that last left the pipeline, parsed: { tag }, with loss (backprop)
   * or the tween report's fields (tween); null before the first. */
  report() { return JSON.parse(this.w.text(1024, (p, c, n) => this.w.x.loom_step_report_json(this.handle, p, c, n))); }
}

/** Neural Tweening (docs/tweening.md): whole-pass tween steps on a network. */
export class Tween extends Handle {
  /** config (an object or JSON text; none: the defaults): { mode: "chain_rule" | "gap_closing",
   * rate, momentum, ignoreThreshold, linkBudgetScale, depthBarrier, depthScaleFactor, signalClip,
   * updateClip, gradientScale, typeRates: {type: factor}, explosionDetection, pruning,
   * pruneThreshold, prunePatience } — camelCase or the C ABI's snake_case names. */
  constructor(network, config) {
    const w = network.w;
    super(w, newWith(w, network, optionsJSON(config), w.x.loom_tween_new), "loom_tween_free", "tween state");
    this.network = network;
  }

  /** One tween step on `batch` samples (default: inferred from x); targets as Trainer.step (one
   * class id per row, or batch·outputSize values). A Float32Array x steps in float32, anything
   * else in doubles. Returns the sum of squared output errors before the step. */
  step(x, batch, targets) {
    const w = this.w, xs = floats(x), f64 = xs instanceof Float64Array;
    const T = xs.constructor;
    const n = samples(xs.length, this.network.inputSize, batch, "x");
    const t = targets instanceof T ? targets : T.from(typeof targets === "number" ? [targets] : targets);
    const fn = f64 ? w.x.loom_tween_step_f64 : w.x.loom_tween_step;
    return w.withArray(xs, (px) => w.withArray(t, (pt) => {
      w.check(fn(this.handle, px, n, pt, t.length, w.scratch + 8));
      return w.f64(w.scratch + 8);
    }));
  }

  /** The last step's report, parsed: { loss, link_budgets, gaps, depth_barrier, updated,
   * adaptive_rate, pruned }, per-stage arrays from input to output; null before the first. */
  report() { return JSON.parse(this.w.text(1024, (p, c, n) => this.w.x.loom_tween_report_json(this.handle, p, c, n))); }
}

export class Tokenizer extends Handle {
  /** @internal */
  constructor(w, h) { super(w, h, "loom_tokenizer_free", "tokenizer"); }

  /** From the text of a Hugging Face tokenizer.json. */
  static fromJSON(json) {
    const w = instance();
    const text = typeof json === "string" ? json : JSON.stringify(json);
    return new Tokenizer(w, w.withString(text, (p) => w.out((out) => w.x.loom_tokenizer_from_json(p, out))));
  }

  get vocabSize() { return this.w.out((out) => this.w.x.loom_tokenizer_vocab_size(this.handle, out)); }

  /** The ids of `text` (addSpecial: the post-processor's special tokens, e.g. [CLS] … [SEP]). */
  encode(text, { addSpecial = false } = {}) {
    const w = this.w, bytes = encoder.encode(text);
    return w.withBytes(bytes, false, (pt) => w.array(Int32Array, bytes.length + 8,
      (p, c, n) => w.x.loom_tokenizer_encode(this.handle, pt, bytes.length, addSpecial ? 1 : 0, p, c, n)));
  }

  /** The text of `ids` (skipSpecial drops special tokens). */
  decode(ids, { skipSpecial = false } = {}) {
    const w = this.w, a = ids instanceof Int32Array ? ids : Int32Array.from(ids);
    return w.withArray(a, (pi) => w.text(a.length * 8 + 16,
      (p, c, n) => w.x.loom_tokenizer_decode(this.handle, pi, a.length, skipSpecial ? 1 : 0, p, c, n)));
  }
}

/** The golden reference hashes computed inside the module (`name hash` lines, as `loom verify`). */
export function referenceHashes() {
  const w = instance();
  return w.text(1 << 17, (p, c, n) => w.x.loom_reference_hashes(p, c, n)).split("\n").filter((l) => l !== "");
}

/** The golden reference cases, one by one: { index, name, ir (JSON text with the training block),
 * f64 (the case runs in doubles), input (8 samples), trainInputs (32), trainTargets } — data as
 * Float64Arrays holding exact values of the network's compute type. */
export function* referenceCases() {
  const w = instance();
  const count = w.out((out) => w.x.loom_reference_count(out));
  for (let i = 0; i < count; i++) {
    const name = w.text(64, (p, c, n) => w.x.loom_reference_name(i, p, c, n));
    const data = (which) => w.array(Float64Array, 256, (p, c, n) => w.x.loom_reference_data(i, which, p, c, n));
    yield {
      index: i, name, f64: name.endsWith(".f64"),
      ir: w.text(4096, (p, c, n) => w.x.loom_reference_ir(i, p, c, n)),
      input: data(0), trainInputs: data(1), trainTargets: data(2),
    };
  }
}

/** FNV-1a 64 over byte chunks (Uint8Array or any typed array's bytes), as 16 hex digits. */
export function fnv1a64(...chunks) {
  let lo = 0x84222325, hi = 0xcbf29ce4; // offset basis 0xcbf29ce484222325
  for (const c of chunks) {
    const b = c instanceof Uint8Array ? c : new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    for (let i = 0; i < b.length; i++) {
      // h *= 0x100000001b3 (mod 2^64) = h·0x1b3 + (lo << 40), in 32-bit halves (exact in doubles).
      lo = (lo ^ b[i]) >>> 0;
      const t = lo * 0x1b3;
      hi = (hi * 0x1b3 + Math.floor(t / 0x100000000) + ((lo << 8) >>> 0)) >>> 0;
      lo = t >>> 0;
    }
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

/** The golden file's forward hash of an output: FNV-1a 64 of (rank+1, batch, dims…) as u64 and
 * each value's bits (u32 for a Float32Array, u64 for a Float64Array), NaN as the canonical NaN. */
export function outputHash(y, batch, dims) {
  const head = new BigUint64Array([BigInt(dims.length + 1), BigInt(batch), ...dims.map(BigInt)]);
  const bits = new Uint32Array(y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength));
  if (y instanceof Float32Array) {
    for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7fffffff) > 0x7f800000) bits[i] = 0x7fc00000;
  } else {
    for (let i = 0; i < bits.length; i += 2) {
      const h = bits[i + 1] & 0x7fffffff;
      if (h > 0x7ff00000 || (h === 0x7ff00000 && bits[i] !== 0)) { bits[i] = 0; bits[i + 1] = 0x7ff80000; }
    }
  }
  return fnv1a64(head, bits);
}

/** Everything above as one object: `Loom.load(...)`, `Loom.Network`, … */
export const Loom = { load, exports, version, Network, Trainer, StepState, Tween, Tokenizer, referenceHashes, referenceCases, fnv1a64, outputHash, LoomError, Status };
export default Loom;
