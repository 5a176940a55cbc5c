// Runs the reference networks inside the wasm build (loom_reference_hashes, through bindings/js)
// and prints one `name hash` line each, as `loom verify` does natively.
// Usage: node wasm/reference-hashes.mjs .build-wasm/loom.wasm
import { load, referenceHashes } from "../bindings/js/loom.mjs";

try {
  await load(process.argv[2] ?? ".build-wasm/loom.wasm");
  process.stdout.write(referenceHashes().map((l) => l + "\n").join(""));
} catch (e) {
  console.error(`wasm/reference-hashes.mjs: ${e.message}`);
  process.exit(1);
}
