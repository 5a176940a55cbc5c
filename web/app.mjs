// The browser page: edit a network, train it live on a small data set, and compare the output and
// weights hashes with the native ones (web/native-hashes.json); `?autotrain` trains on load,
// `?crosscheck` runs every golden reference case through bindings/js instead. docs/js.md.
import { Network, Trainer, fnv1a64, load, outputHash, version } from "../bindings/js/loom.mjs";
import { crosscheckLines } from "../bindings/js/crosscheck.mjs";
import { COUNT, DATASETS, dataset } from "./data.mjs";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const canonical = (value) => JSON.stringify(typeof value === "string" ? JSON.parse(value) : value);

/** The next frame, or 50 ms when frames are throttled (a hidden tab). */
const nextFrame = () => new Promise((resolve) => {
  const t = setTimeout(resolve, 50);
  requestAnimationFrame(() => { clearTimeout(t); resolve(); });
});

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

async function fetchText(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

// ---- Plots -------------------------------------------------------------------------------------

function drawLoss(losses, total, perEpoch = 1) {
  const c = $("loss"), g = c.getContext("2d"), W = c.width, H = c.height, L = 44, B = 22;
  g.clearRect(0, 0, W, H);
  const lo = -3, hi = 0.5; // log10 of the loss axis: 0.001 … 3.16
  const y = (v) => H - B - ((Math.log10(Math.max(v, 1e-3)) - lo) / (hi - lo)) * (H - B - 8);
  const x = (s) => L + (s / Math.max(total - 1, 1)) * (W - 6 - L);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#5d6675";
  g.strokeStyle = "#e6e9ef";
  for (const v of [1, 0.1, 0.01, 0.001]) {
    g.beginPath(); g.moveTo(L, y(v)); g.lineTo(W - 6, y(v)); g.stroke();
    g.fillText(String(v), 4, y(v) + 4);
  }
  g.fillText("0", L, H - 6);
  g.fillText(`${total} steps`, W - 70, H - 6);
  const line = (points, color, width) => {
    g.strokeStyle = color;
    g.lineWidth = width;
    g.beginPath();
    points.forEach(([s, v], i) => (i === 0 ? g.moveTo(x(s), y(v)) : g.lineTo(x(s), y(v))));
    g.stroke();
  };
  line(losses.map((v, s) => [s, v]), "#b9cdf3", 1);
  const epochs = [];
  for (let e = 0; (e + 1) * perEpoch <= losses.length; e++) {
    let sum = 0;
    for (let s = e * perEpoch; s < (e + 1) * perEpoch; s++) sum += losses[s];
    epochs.push([(e + 0.5) * perEpoch, sum / perEpoch]);
  }
  line(epochs, "#2f6fdf", 2);
  g.lineWidth = 1;
}

const GRID = 40;
let gridInput = null;

/** P(class 1) of the network over [−1, 1]² (softmax of two logits, for display only), and the data. */
function drawRegions(net, data) {
  const c = $("regions"), g = c.getContext("2d"), S = c.width, cell = S / GRID;
  if (!gridInput) {
    gridInput = new Float32Array(2 * GRID * GRID);
    for (let r = 0; r < GRID; r++) for (let k = 0; k < GRID; k++) {
      gridInput[2 * (r * GRID + k)] = ((k + 0.5) / GRID) * 2 - 1;
      gridInput[2 * (r * GRID + k) + 1] = 1 - ((r + 0.5) / GRID) * 2;
    }
  }
  if (net && net.outputSize === 2 && net.inputSize === 2) {
    const y = net.forward(gridInput);
    for (let i = 0; i < GRID * GRID; i++) {
      const p = 1 / (1 + Math.exp(y[2 * i] - y[2 * i + 1]));
      const mix = (a, b) => Math.round(a + (b - a) * p);
      g.fillStyle = `rgb(${mix(208, 247)},${mix(223, 214)},${mix(250, 196)})`;
      g.fillRect((i % GRID) * cell, Math.floor(i / GRID) * cell, cell + 0.5, cell + 0.5);
    }
  } else {
    g.fillStyle = "#fff";
    g.fillRect(0, 0, S, S);
  }
  for (let k = 0; k < COUNT; k++) {
    g.fillStyle = data.y[k] ? "#e0662f" : "#2f6fdf";
    g.beginPath();
    g.arc((data.x[2 * k] + 1) / 2 * S, (1 - data.x[2 * k + 1]) / 2 * S, 2.6, 0, 2 * Math.PI);
    g.fill();
  }
}

// ---- Training ----------------------------------------------------------------------------------

let defaultText = "", native = null, running = false;

function setupMatchesNative() {
  try {
    return native && canonical($("network").value) === canonical(native.network) && $("dataset").value === native.dataset;
  } catch {
    return false;
  }
}

function showEdited() {
  $("edited").textContent = setupMatchesNative() ? "default setup: native hashes known" : "edited: no native hashes";
}

async function train() {
  if (running) return;
  running = true;
  $("train").disabled = true;
  $("error").textContent = "";
  $("verdict").textContent = "";
  $("verdict").className = "";
  for (const id of ["output-hash", "weights-hash", "final-loss", "native-output-hash", "native-weights-hash", "native-final-loss", "native-data-hash"]) $(id).textContent = "–";
  let net = null, trainer = null;
  try {
    const text = $("network").value, nativeSetup = setupMatchesNative();
    const ir = JSON.parse(text);
    const data = dataset($("dataset").value);
    $("data-hash").textContent = fnv1a64(data.x, data.y);
    net = Network.fromJSON(text);
    trainer = new Trainer(net);
    const epochs = ir.training?.epochs ?? 10, batchSize = ir.training?.batch_size ?? 32;
    if (net.inputSize !== 2) throw new Error(`the data has 2 inputs per sample; the network takes ${net.inputSize}`);
    if (!(batchSize >= 1 && batchSize <= COUNT)) throw new Error(`batch_size must be 1…${COUNT}`);
    const batches = Math.ceil(COUNT / batchSize), total = epochs * batches;
    const losses = [];
    const started = performance.now();
    setStatus("training", `training: 0 / ${total} steps`);
    while (losses.length < total) {
      const frameEnd = performance.now() + 14;
      do {
        const b = losses.length % batches, first = b * batchSize, n = Math.min(batchSize, COUNT - first);
        losses.push(trainer.step(data.x.subarray(2 * first, 2 * (first + n)), n, data.y.subarray(first, first + n)));
      } while (losses.length < total && performance.now() < frameEnd);
      drawLoss(losses, total, batches);
      drawRegions(net, data);
      setStatus("training", `training: ${losses.length} / ${total} steps, loss ${losses.at(-1).toPrecision(4)}`);
      await nextFrame();
    }
    const seconds = (performance.now() - started) / 1000;
    const y = net.forward(data.x, COUNT);
    let right = 0;
    for (let k = 0; k < COUNT; k++) right += (y[2 * k + 1] > y[2 * k] ? 1 : 0) === data.y[k] ? 1 : 0;
    const result = { output: outputHash(y, COUNT, net.outputShape), weights: net.weightsHash(), loss: losses.at(-1) };
    $("output-hash").textContent = result.output;
    $("weights-hash").textContent = result.weights;
    $("final-loss").textContent = result.loss.toPrecision(6);
    compareWithNative(result, nativeSetup);
    setStatus("trained", `trained: ${total} steps in ${seconds.toFixed(2)} s, accuracy ${right}/${COUNT}`);
  } catch (e) {
    $("error").textContent = String(e.message ?? e);
    setStatus("error", "error");
  } finally {
    trainer?.free();
    net?.free();
    running = false;
    $("train").disabled = false;
  }
}

function compareWithNative(result, nativeSetup) {
  if (!nativeSetup) {
    for (const id of ["native-data-hash", "native-output-hash", "native-weights-hash", "native-final-loss"]) $(id).textContent = "n/a";
    $("verdict").textContent = "native: n/a (edited network)";
    return;
  }
  $("native-data-hash").textContent = native.data_hash;
  $("native-output-hash").textContent = native.output_hash;
  $("native-weights-hash").textContent = native.weights_hash;
  $("native-final-loss").textContent = Number(native.final_loss).toPrecision(6);
  const same = result.output === native.output_hash && result.weights === native.weights_hash && $("data-hash").textContent === native.data_hash;
  $("verdict").textContent = same ? "✓ bit-identical to native libloom" : "✗ differs from native libloom";
  $("verdict").className = same ? "ok" : "bad";
}

async function trainingPage() {
  const [text, nativeText] = await Promise.all([fetchText("default-network.json"), fetchText("native-hashes.json").catch(() => "null")]);
  defaultText = text;
  native = JSON.parse(nativeText);
  for (const name of Object.keys(DATASETS)) $("dataset").add(new Option(name, name));
  $("dataset").value = native?.dataset ?? "checkerboard";
  $("network").value = defaultText;
  $("network").addEventListener("input", showEdited);
  $("dataset").addEventListener("change", () => { showEdited(); drawRegions(null, dataset($("dataset").value)); });
  $("reset").addEventListener("click", () => { $("network").value = defaultText; showEdited(); });
  $("train").addEventListener("click", train);
  $("train").disabled = false;
  showEdited();
  drawLoss([], 0);
  drawRegions(null, dataset($("dataset").value));
  setStatus("ready", "ready");
  if (params.has("autotrain")) await train();
}

// ---- Crosscheck mode ---------------------------------------------------------------------------

async function crosscheckPage() {
  document.body.classList.add("crosscheck");
  const status = $("crosscheck-status"), lines = [];
  const started = performance.now();
  let n = 0;
  for (const line of crosscheckLines()) {
    lines.push(line);
    if (++n % 40 === 0) {
      status.textContent = `running… ${n} lines`;
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  $("crosscheck").textContent = lines.join("\n") + "\n";
  let verdict = "";
  try {
    const golden = (await fetchText("../Fixtures/golden/reference-hashes.txt")).split("\n").filter((l) => l && !l.startsWith("#"));
    verdict = golden.join("\n") === lines.join("\n") ? ", identical to Fixtures/golden/reference-hashes.txt" : ", DIFFERENT from Fixtures/golden/reference-hashes.txt";
  } catch { /* the golden file is not served: no verdict */ }
  status.textContent = `done: ${lines.length} lines in ${((performance.now() - started) / 1000).toFixed(1)} s${verdict}`;
  status.dataset.state = "done";
}

try {
  await load(new URL("../.build-wasm/loom.wasm", import.meta.url));
  $("version").textContent = `loom ${version()}`;
  if (params.has("crosscheck")) await crosscheckPage();
  else await trainingPage();
} catch (e) {
  const where = params.has("crosscheck") ? $("crosscheck-status") : $("status");
  where.dataset.state = "error";
  where.textContent = `error: ${e.message ?? e}`;
  console.error(e);
}
