// The JavaScript column of scripts/crosscheck: every golden reference case through the public API
// of loom.mjs (not loom_reference_hashes) — the network from its IR JSON, forward on the case's
// input, 20 trainer steps — giving the `name.forward hash` and `name.train20 hash` lines of
// Fixtures/golden/reference-hashes.txt (docs/js.md). Imported by the browser page too.
// Usage: node bindings/js/crosscheck.mjs [.build-wasm/loom.wasm]
import { Network, Trainer, load, outputHash, referenceCases } from "./loom.mjs";

/** The two golden lines of one reference case (from referenceCases()). */
export function caseLines(c) {
  const net = Network.fromJSON(c.ir);
  let trainer = null;
  try {
    // f32 (and every other non-f64 dtype) runs the float32 entry points on inputs rounded to float.
    const T = c.f64 ? Float64Array : Float32Array;
    const x = T.from(c.input), inSize = net.inputSize;
    const batch = x.length / inSize;
    const forward = outputHash(net.forward(x, batch), batch, net.outputShape);

    trainer = new Trainer(net);
    const tx = T.from(c.trainInputs), tt = T.from(c.trainTargets), per = tt.length / 32;
    for (let s = 0; s < 20; s++) {
      const first = (s % 4) * 8;
      trainer.step(tx.subarray(first * inSize, (first + 8) * inSize), 8, tt.subarray(first * per, (first + 8) * per));
    }
    return [`${c.name}.forward ${forward}`, `${c.name}.train20 ${net.weightsHash()}`];
  } finally {
    trainer?.free();
    net.free();
  }
}

/** Every case's lines, in the golden file's order (a generator: the caller may pause between them). */
export function* crosscheckLines() {
  for (const c of referenceCases()) yield* caseLines(c);
}

const isMain = typeof process !== "undefined" && process.argv?.[1] &&
  import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href;
if (isMain) {
  await load(process.argv[2] ?? ".build-wasm/loom.wasm");
  let out = "";
  for (const line of crosscheckLines()) out += line + "\n";
  process.stdout.write(out);
}
