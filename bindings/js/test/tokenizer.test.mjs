// Tokenizers: the committed Hugging Face tokenizer.json fixtures, against the ids and texts the
// `tokenizers` library gave (Fixtures/tokenizers/corpus.json; the full corpus: scripts/wasm-tokenizer-check).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Tokenizer } from "../loom.mjs";
import { root } from "./helpers.mjs";

const fixture = (name) => readFileSync(`${root}Fixtures/tokenizers/${name}.tokenizer.json`, "utf8");
const cases = JSON.parse(readFileSync(`${root}Fixtures/tokenizers/corpus.json`, "utf8")).cases;

test("MiniLM (WordPiece): encode with and without [CLS]/[SEP], decode with and without them", () => {
  const tok = Tokenizer.fromJSON(fixture("all-MiniLM-L6-v2"));
  try {
    assert.equal(tok.vocabSize, 30522);
    const ids = tok.encode("Hello world", { addSpecial: true });
    assert.ok(ids instanceof Int32Array);
    assert.deepEqual(Array.from(ids), [101, 7592, 2088, 102]);
    assert.deepEqual(Array.from(tok.encode("Hello world")), [7592, 2088]);
    assert.equal(tok.decode(ids), "[CLS] hello world [SEP]");
    assert.equal(tok.decode([101, 7592, 2088, 102], { skipSpecial: true }), "hello world");
    assert.deepEqual(Array.from(tok.encode("")), []);
    assert.equal(tok.decode([]), "");
  } finally {
    tok.free();
  }
});

test("SmolLM2 (byte-level BPE): the first 60 corpus strings as the tokenizers library, lossless", () => {
  const tok = Tokenizer.fromJSON(fixture("SmolLM2-135M-Instruct"));
  try {
    assert.equal(tok.vocabSize, 49152);
    for (const c of cases.slice(0, 60)) {
      const ids = tok.encode(c.text);
      assert.deepEqual(Array.from(ids), c.smollm2.ids_plain, c.text);
      assert.equal(tok.decode(ids), c.text);
      assert.equal(tok.decode(c.smollm2.ids, { skipSpecial: true }), c.smollm2.decode_skip);
    }
  } finally {
    tok.free();
  }
});

test("non-ASCII text (multi-byte UTF-8) round-trips through the module", () => {
  const tok = Tokenizer.fromJSON(fixture("SmolLM2-135M-Instruct"));
  try {
    const text = "naïve café — 東京 🙂 ∑x²";
    assert.equal(tok.decode(tok.encode(text)), text);
    const long = "déjà vu ".repeat(2000);
    assert.equal(tok.decode(tok.encode(long)), long);
  } finally {
    tok.free();
  }
});
