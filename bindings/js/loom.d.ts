// TypeScript declarations of bindings/js/loom.mjs (docs/js.md).

/** The status codes of include/loom.h. */
export declare const Status: Readonly<{
  OK: 0; INVALID_ARGUMENT: 1; INVALID_JSON: 2; INVALID_NETWORK: 3; INVALID_MODEL: 4; SHAPE_MISMATCH: 5;
  INVALID_INPUT: 6; NON_FINITE: 7; IO: 8; UNSUPPORTED_VERSION: 9; BUFFER_TOO_SMALL: 10; DEVICE: 11;
}>;

/** A failed call: the module's status code and message. */
export declare class LoomError extends Error {
  constructor(status: number, message: string);
  readonly name: "LoomError";
  /** The loom_status code (1 … 10). */
  readonly status: number;
  /** "invalid argument", "invalid JSON", … */
  readonly statusName: string;
}

/** Where loom.wasm comes from: a path (node) or URL, its bytes, or a compiled module. */
export type WasmSource = string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

/** Loads the module (default: .build-wasm/loom.wasm of the repository, relative to this file);
 * objects created afterwards use it. Resolves to the module's version. */
export declare function load(source?: WasmSource): Promise<string>;
/** The raw exports: every loom_* function of loom.h not marked [native], loom_alloc, loom_dealloc, memory. */
export declare function exports(): WebAssembly.Exports & { memory: WebAssembly.Memory } & Record<string, any>;
/** The module's version, "major.minor.patch". */
export declare function version(): string;

/** Floats in: a Float32Array runs the float32 entry points (and gives Float32Arrays), anything
 * else runs in doubles (and gives Float64Arrays). */
export type Floats = Float32Array | Float64Array | ArrayLike<number>;
type Out<X> = X extends Float32Array ? Float32Array : Float64Array;

declare abstract class Handle {
  /** Releases the object in the module; idempotent. Using it afterwards throws LoomError (status 1). */
  free(): void;
}

export declare class Network extends Handle {
  private constructor();
  /** From IR or saved-model JSON (text, or an object that is stringified). */
  static fromJSON(json: string | object): Network;
  /** From the bytes of a .safetensors file written by Loom (IR in its metadata). */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer): Network;
  /** Values of one input sample / one output sample. */
  readonly inputSize: number;
  readonly outputSize: number;
  /** Shape of one output sample. */
  readonly outputShape: number[];
  /** Scalar parameters in all (the length of backward's grads). */
  readonly parameterCount: number;
  /** Accepted for the API's sake; the wasm module runs serially and results never depend on it. */
  setThreads(threads: number): void;
  /** y for `batch` samples (default x.length / inputSize). */
  forward<X extends Floats>(x: X, batch?: number | null): Out<X>;
  /** Gradients of dy (batch·outputSize values): dx (batch·inputSize) and every parameter's (parameter order). */
  backward<X extends Floats>(x: X, batch: number | null | undefined, dy: Floats): { dx: Out<X>; grads: Out<X> };
  /** The saved model (IR, exact weights, optimizer state) as JSON text. */
  toJSON(): string;
  /** The weights as .safetensors bytes, in the network's dtype or the one named ("f16", "i8", …). */
  toSafetensors(dtype?: string | null): Uint8Array;
  /** The blueprint: layers, shapes, parameter names and counts. */
  info(): {
    name: string; dtype: string; input_shape: number[]; output_shape: number[]; total_parameters: number;
    layers: Array<{ path: string; type: string; summary: string; input_shape: number[]; output_shape: number[];
      parameters: number; parameter_names: string[] }>;
  } & Record<string, unknown>;
  /** FNV-1a 64 of every parameter as 16 hex digits (the golden file's train20 hashes). */
  weightsHash(): string;
}

export declare class Trainer extends Handle {
  /** A trainer with the network's IR training block, or with `training` (an object or JSON text). */
  constructor(network: Network, training?: string | object | null);
  /** A trainer with the given training block, e.g. {loss: "mse", optimizer: {type: "sgd", lr: 0.1}}. */
  static with(network: Network, training: string | object): Trainer;
  readonly network: Network;
  /** One optimizer step on `batch` samples (default inferred from x); targets: a class id per row
   * for cross-entropy, or batch·outputSize values. Returns the batch loss. */
  step(x: Floats, batch: number | null | undefined, targets: Floats): number;
  /** Steps taken and the learning rate of the next step. */
  progress(): { steps: number; lr: number };
}

/** Options of a step state (camelCase or the C ABI's snake_case names). */
export interface StepOptions {
  /** "none" (the default: inference only), "backprop" (StepBP) or "tween" (StepTween / StepTweenChain). */
  learner?: "none" | "backprop" | "tween";
  /** backprop: an IR training block (loss, optimizer, scheduler, clip); default the network's. */
  training?: object;
  /** backprop: one optimizer update per n completed samples (default 1). */
  updateEvery?: number;
  /** tween: the Tween config. */
  tween?: TweenConfig;
  /** Samples whose activations are kept (default 1024). */
  stashLimit?: number;
  /** One task per stage (the same bits either way; the wasm module runs serially). */
  concurrent?: boolean;
  /** A learner's backward uses, per stage, the weights that stage ran the sample with (exact
   * gradients while updates happen with samples in flight; docs/step.md). */
  weightStashing?: boolean;
  [field: string]: unknown;
}

/** A sample that left the pipeline. */
export interface StepResult<Y extends Float32Array | Float64Array = Float32Array | Float64Array> {
  /** Its tag: 0, 1, 2, … in feeding order (a Number; the C ABI's uint64_t, exact below 2^53). */
  tag: number;
  /** Its output (outputSize values): Network.forward's bits for that sample. */
  output: Y;
  /** backprop: the sample's loss; tween: the sum of squared output errors; no learner: NaN. */
  loss: number;
}

/** Step execution (docs/step.md): the network's top-level layers as a pipeline; a sample leaves
 * `latency` ticks after it entered. */
export declare class StepState extends Handle {
  /** Options as an object or JSON text; none: inference only. */
  constructor(network: Network, options?: StepOptions | string | null);
  readonly network: Network;
  /** Ticks from a sample's entry to its output (the number of top-level layers). */
  readonly latency: number;
  /** One tick, feeding x (one sample; its target with a learner: a class id or outputSize values),
   * or feeding nothing (x null). The sample that left the pipeline, or null. A Float32Array x
   * gives Float32Array outputs, anything else Float64Array; a tick without x uses the type of the
   * last sample fed. */
  tick(x: Float32Array, target?: Floats | number | null): StepResult<Float32Array> | null;
  tick(x?: Floats | null, target?: Floats | number | null): StepResult | null;
  /** Ticks without feeding until every sample fed has left; returns them in order. */
  flush(): StepResult[];
  /** Ticks so far, samples fed, learning updates applied (optimizer updates or tween steps). */
  progress(): { ticks: number; fed: number; updates: number };
  /** The last sample's report: { tag }, with loss (backprop) or the tween report's fields (tween);
   * null before the first. */
  report(): ({ tag: number; loss?: number } & Partial<TweenReport> & Record<string, unknown>) | null;
}

/** A Neural Tweening config (docs/tweening.md; camelCase or snake_case names). */
export interface TweenConfig {
  mode?: "chain_rule" | "gap_closing";
  rate?: number; momentum?: number; ignoreThreshold?: number; linkBudgetScale?: number;
  depthBarrier?: boolean; depthScaleFactor?: number; signalClip?: number; updateClip?: number;
  gradientScale?: number; typeRates?: Record<string, number>; explosionDetection?: boolean;
  pruning?: boolean; pruneThreshold?: number; prunePatience?: number;
  [field: string]: unknown;
}

/** A tween step's report; per-stage arrays from input to output. */
export interface TweenReport {
  loss: number; link_budgets: number[]; gaps: number[]; depth_barrier: number[]; updated: boolean[];
  adaptive_rate: number; pruned: number[];
}

/** Neural Tweening (docs/tweening.md): whole-pass tween steps on a network. */
export declare class Tween extends Handle {
  /** The config as an object or JSON text; none: the defaults. */
  constructor(network: Network, config?: TweenConfig | string | null);
  readonly network: Network;
  /** One tween step on `batch` samples (default inferred from x); targets: a class id per row or
   * batch·outputSize values. Returns the sum of squared output errors before the step. */
  step(x: Floats, batch: number | null | undefined, targets: Floats | number): number;
  /** The last step's report; null before the first. */
  report(): TweenReport | null;
}

export declare class Tokenizer extends Handle {
  private constructor();
  /** From the text of a Hugging Face tokenizer.json. */
  static fromJSON(json: string | object): Tokenizer;
  readonly vocabSize: number;
  encode(text: string, options?: { addSpecial?: boolean }): Int32Array;
  decode(ids: Int32Array | ArrayLike<number>, options?: { skipSpecial?: boolean }): string;
}

/** One golden reference case (data: exact values of the network's compute type). */
export interface ReferenceCase {
  index: number;
  /** e.g. "dense_relu.f32" */
  name: string;
  /** True for ".f64" cases, which run the float64 entry points. */
  f64: boolean;
  /** IR JSON text with the training block. */
  ir: string;
  /** Forward input: 8 samples. */
  input: Float64Array;
  /** Training inputs: 32 samples. */
  trainInputs: Float64Array;
  /** Training targets for the 32 samples (class ids for cross-entropy). */
  trainTargets: Float64Array;
}

/** The golden `name hash` lines computed inside the module (as `loom verify`). */
export declare function referenceHashes(): string[];
/** The golden reference cases, one by one. */
export declare function referenceCases(): Generator<ReferenceCase, void, undefined>;
/** FNV-1a 64 over the bytes of the chunks, as 16 hex digits. */
export declare function fnv1a64(...chunks: ArrayBufferView[]): string;
/** The golden forward hash of an output: (rank+1, batch, dims…) as u64, then each value's bits
 * (u32 for a Float32Array, u64 for a Float64Array), every NaN as the canonical NaN. */
export declare function outputHash(y: Float32Array | Float64Array, batch: number, dims: number[]): string;

export declare const Loom: {
  load: typeof load; exports: typeof exports; version: typeof version;
  Network: typeof Network; Trainer: typeof Trainer; StepState: typeof StepState; Tween: typeof Tween;
  Tokenizer: typeof Tokenizer;
  referenceHashes: typeof referenceHashes; referenceCases: typeof referenceCases;
  fnv1a64: typeof fnv1a64; outputHash: typeof outputHash; LoomError: typeof LoomError; Status: typeof Status;
};
export default Loom;
