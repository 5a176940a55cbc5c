// Runs the corpus of Fixtures/tokenizers/corpus.json through the wasm build of LoomText and
// compares the ids with the Hugging Face library's (and decode(encode(s)) == s for SmolLM2).
// Usage: node wasm/tokenizer/check.mjs .build-wasm-text/tokenizer.wasm
import { readFileSync } from "node:fs";

const module = new WebAssembly.Module(readFileSync(process.argv[2] ?? ".build-wasm-text/tokenizer.wasm"));
if (WebAssembly.Module.imports(module).length !== 0) {
  console.error("the module has imports:", WebAssembly.Module.imports(module));
  process.exit(1);
}
const { exports: e } = new WebAssembly.Instance(module, {});
const encoder = new TextEncoder(), decoder = new TextDecoder();
// Ask for the buffer first: allocating may grow (and so replace) the memory's ArrayBuffer.
const put = (bytes) => { const p = e.text_input(bytes.length); new Uint8Array(e.memory.buffer, p, bytes.length).set(bytes); };
const output = (n) => decoder.decode(new Uint8Array(e.memory.buffer, e.text_output(), Math.abs(n)));

const cases = JSON.parse(readFileSync("Fixtures/tokenizers/corpus.json", "utf8")).cases;
let failures = 0;
for (const [file, key, lossless] of [["SmolLM2-135M-Instruct", "smollm2", true], ["all-MiniLM-L6-v2", "minilm", false]]) {
  put(readFileSync(`Fixtures/tokenizers/${file}.tokenizer.json`));
  const r = e.text_load();
  if (r < 0) { console.error(file, output(r)); process.exit(1); }
  let same = 0, roundTrips = 0;
  for (const c of cases) {
    put(encoder.encode(c.text));
    const n = e.text_encode();
    const text = output(n);
    const bar = text.indexOf("|");
    if (text.slice(0, bar) === c[key].ids_plain.join(",")) same++;
    else if (failures++ < 5) console.error(file, JSON.stringify(c.text), text.slice(0, bar));
    if (text.slice(bar + 1) === c.text) roundTrips++;
  }
  if (lossless && roundTrips !== cases.length) failures += cases.length - roundTrips;
  console.log(`${file}: ids equal on ${same} of ${cases.length} strings` + (lossless ? `, decode(encode(s)) == s on ${roundTrips}` : ""));
}
process.exit(failures === 0 ? 0 : 1);
