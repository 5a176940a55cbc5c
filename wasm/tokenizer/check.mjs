// Runs the corpus of Fixtures/tokenizers/corpus.json through the tokenizers of the wasm module
// (bindings/js's Tokenizer on .build-wasm/loom.wasm) and compares with the Hugging Face library's
// results committed there: ids without and with special tokens, decode with and without special
// tokens, and decode(encode(s)) == s for the lossless SmolLM2 tokenizer.
// Usage: node wasm/tokenizer/check.mjs [.build-wasm/loom.wasm]
import { readFileSync } from "node:fs";
import { load, Tokenizer } from "../../bindings/js/loom.mjs";

await load(process.argv[2] ?? ".build-wasm/loom.wasm");
const fixtures = new URL("../../Fixtures/tokenizers/", import.meta.url);
const cases = JSON.parse(readFileSync(new URL("corpus.json", fixtures), "utf8")).cases;
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
let failures = 0;
for (const [file, key, lossless] of [["SmolLM2-135M-Instruct", "smollm2", true], ["all-MiniLM-L6-v2", "minilm", false]]) {
  const tok = Tokenizer.fromJSON(readFileSync(new URL(`${file}.tokenizer.json`, fixtures), "utf8"));
  const counts = { ids: 0, "ids with special tokens": 0, decode: 0, "decode skipping special tokens": 0, "round trip decode(encode(s)) == s": 0 };
  const count = (what, ok, c, got) => {
    if (ok) counts[what]++;
    else if (failures++ < 10) console.error(`${file}: ${what} differs on ${JSON.stringify(c.text)}: ${JSON.stringify(got)}`);
  };
  try {
    for (const c of cases) {
      const ref = c[key];
      const ids = Array.from(tok.encode(c.text));
      count("ids", same(ids, ref.ids_plain), c, ids);
      const special = Array.from(tok.encode(c.text, { addSpecial: true }));
      count("ids with special tokens", same(special, ref.ids), c, special);
      const text = tok.decode(ref.ids);
      count("decode", text === ref.decode, c, text);
      const skipped = tok.decode(ref.ids, { skipSpecial: true });
      count("decode skipping special tokens", skipped === ref.decode_skip, c, skipped);
      if (lossless) count("round trip decode(encode(s)) == s", tok.decode(ids) === c.text, c, tok.decode(ids));
    }
  } finally {
    tok.free();
  }
  if (!lossless) delete counts["round trip decode(encode(s)) == s"];
  console.log(`${file} (wasm) as the Hugging Face library: ` + Object.entries(counts).map(([k, v]) => `${k} ${v}/${cases.length}`).join(", "));
}
process.exit(failures === 0 ? 0 : 1);
