// Runs the reference networks inside the wasm build and prints one `name hash` line each.
// Usage: node wasm/reference-hashes.mjs .build-wasm/loom.wasm
import { readFileSync } from "node:fs";

const bytes = readFileSync(process.argv[2] ?? ".build-wasm/loom.wasm");
const module = new WebAssembly.Module(bytes);
if (WebAssembly.Module.imports(module).length !== 0) {
  console.error("the module has imports:", WebAssembly.Module.imports(module));
  process.exit(1);
}
const { exports } = new WebAssembly.Instance(module, {});
const n = exports.loom_reference_hashes();
const ptr = exports.loom_result_ptr();
const text = new TextDecoder().decode(new Uint8Array(exports.memory.buffer, ptr, Math.abs(n)));
process.stdout.write(text);
if (n < 0) process.exit(1);
