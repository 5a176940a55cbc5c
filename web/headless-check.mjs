// Drives the page (web/index.html) in headless Chromium over the DevTools protocol, for
// scripts/test-web: serves the repository on 127.0.0.1, (a) trains the default setup with
// ?autotrain and compares the hashes with web/native-hashes.json, saves a screenshot, (b) runs
// ?crosscheck and diffs its 1378 lines with the golden file. Exit status 1 on any difference.
// Usage: node --experimental-websocket web/headless-check.mjs [--chromium PATH] [--out DIR]
//        [--crosscheck-only FILE]   (only (b), its lines also written to FILE)
import { spawn } from "node:child_process";
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback; };
const chromiumPath = option("--chromium", "chromium");
const out = resolve(root, option("--out", ".build-web"));
const crosscheckOnly = option("--crosscheck-only", null);
const LIMIT_MS = Number(process.env.LOOM_WEB_TIMEOUT_S ?? 240) * 1000;
mkdirSync(out, { recursive: true });

const log = (...a) => console.log("test-web:", ...a);
let failures = 0;
const fail = (...a) => { failures++; console.error("test-web: FAIL:", ...a); };

// ---- A static server for the repository ---------------------------------------------------------

const MIME = { ".html": "text/html; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm", ".json": "application/json; charset=utf-8", ".txt": "text/plain; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".png": "image/png" };

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  const file = resolve(root, "." + path);
  let ok = file.startsWith(root) || file + sep === root;
  try { ok = ok && statSync(file).isFile(); } catch { ok = false; }
  if (!ok || req.method !== "GET") {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    return;
  }
  res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;

// ---- Chromium and the DevTools protocol ----------------------------------------------------------

const profile = mkdtempSync(join(tmpdir(), "loom-chromium-"));
const browser = spawn(chromiumPath, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
  `--user-data-dir=${profile}`, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "about:blank"],
{ stdio: ["ignore", "ignore", "pipe"], detached: true });
let browserExited = false;
const exited = new Promise((r) => browser.on("exit", () => { browserExited = true; r(); }));
browser.on("error", (e) => { browserExited = true; fail(`cannot start ${chromiumPath}: ${e.message}`); finish(); });

let socket = null;
let finishing = null;
function finish() {
  finishing ??= shutDown();
  return finishing;
}
async function shutDown() {
  clearTimeout(watchdog);
  setTimeout(() => process.exit(1), 15_000).unref(); // whatever hangs below
  try { socket?.close(); } catch { /* closed */ }
  if (browser.pid) {
    // Chromium and its helpers (renderer, zygote, …) form one process group, started here.
    const group = (signal) => { try { process.kill(-browser.pid, signal); return true; } catch { return false; } };
    if (!browserExited) await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]); // after Browser.close
    group("SIGTERM");
    for (let i = 0; i < 50 && group(0); i++) await new Promise((r) => setTimeout(r, 100));
    group("SIGKILL");
    await exited;
  }
  server.closeAllConnections?.();
  await new Promise((r) => server.close(r));
  rmSync(profile, { recursive: true, force: true });
  process.exit(failures === 0 ? 0 : 1);
}
const watchdog = setTimeout(() => { fail(`timed out after ${LIMIT_MS / 1000} s`); finish(); }, LIMIT_MS);
for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => { fail(`interrupted (${s})`); finish(); });

const wsURL = await new Promise((resolveURL, reject) => {
  let err = "";
  browser.stderr.on("data", (d) => {
    err += d;
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
    if (m) resolveURL(m[1]);
  });
  browser.on("exit", (code) => reject(new Error(`chromium exited (${code}) before listening:\n${err}`)));
}).catch((e) => { fail(e.message); return finish(); });

if (typeof WebSocket === "undefined") { fail("no WebSocket: run node with --experimental-websocket (node 20) or node ≥ 22"); await finish(); }
socket = new WebSocket(wsURL);
await new Promise((r, j) => { socket.onopen = r; socket.onerror = () => j(new Error("cannot connect to chromium")); });
let nextId = 1;
const pending = new Map();
const consoleLines = [];
socket.onclose = () => {
  for (const { reject } of pending.values()) reject(new Error("the DevTools connection closed"));
  pending.clear();
};
socket.onmessage = (event) => {
  const m = JSON.parse(event.data);
  if (m.id && pending.has(m.id)) {
    const { resolve: ok, reject } = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) reject(new Error(`${m.error.message} ${m.error.data ?? ""}`)); else ok(m.result);
  } else if (m.method === "Runtime.consoleAPICalled") {
    consoleLines.push(`console.${m.params.type}: ${m.params.args.map((a) => a.value ?? a.description).join(" ")}`);
  } else if (m.method === "Runtime.exceptionThrown") {
    consoleLines.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
  }
};
const send = (method, params = {}, sessionId) => new Promise((ok, reject) => {
  const id = nextId++;
  pending.set(id, { resolve: ok, reject });
  socket.send(JSON.stringify({ id, method, params, sessionId }));
});

const { targetId } = await send("Target.createTarget", { url: "about:blank" });
const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
const page = (method, params) => send(method, params, sessionId);
await page("Runtime.enable");
await page("Page.enable");
await page("Emulation.setDeviceMetricsOverride", { width: 1280, height: 720, deviceScaleFactor: 1, mobile: false });

async function evaluate(expression) {
  const r = await page("Runtime.evaluate", { expression, returnByValue: true });
  if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
  return r.result.value;
}

/** Waits until the element's data-state is one of `states`. */
async function waitFor(element, states, limitMs) {
  const until = Date.now() + limitMs;
  for (;;) {
    const state = await evaluate(`document.getElementById(${JSON.stringify(element)})?.dataset.state ?? ""`);
    if (states.includes(state)) return state;
    if (Date.now() > until) throw new Error(`#${element} still "${state}" after ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Loads the page with a query and waits as waitFor. */
async function open(query, element, states, limitMs) {
  consoleLines.length = 0;
  await page("Page.navigate", { url: `${base}/web/index.html${query}` });
  return waitFor(element, states, limitMs);
}
const text = (id) => evaluate(`document.getElementById(${JSON.stringify(id)}).textContent`);

async function trainingChecks() {
  // (a) train the default setup and compare with the native hashes
  const t = Date.now();
  const state = await open("?autotrain", "status", ["trained", "error"], 120_000);
  if (state !== "trained") throw new Error(`training failed: ${await text("error")} ${consoleLines.join("\n")}`);
  const native = JSON.parse(readFileSync(join(root, "web/native-hashes.json"), "utf8"));
  const got = { data_hash: await text("data-hash"), output_hash: await text("output-hash"), weights_hash: await text("weights-hash") };
  for (const [k, v] of Object.entries(got)) {
    if (v === native[k]) log(`${k} ${v} = native`);
    else fail(`${k}: chromium ${v}, native ${native[k]}`);
  }
  const verdict = await text("verdict");
  if (!verdict.startsWith("✓")) fail(`the page says: ${verdict}`);
  log(`trained in chromium: ${await text("status")} (${((Date.now() - t) / 1000).toFixed(1)} s with loading)`);
  const shot = await page("Page.captureScreenshot", { format: "png" });
  writeFileSync(join(out, "screenshot.png"), Buffer.from(shot.data, "base64"));
  log(`wrote ${join(out, "screenshot.png")}`);

  // an edited network trains too, and has no native hashes to compare with
  await evaluate(`{ const t = document.getElementById("network"); const ir = JSON.parse(t.value);
    ir.training.epochs = 3; t.value = JSON.stringify(ir, null, 2); t.dispatchEvent(new Event("input"));
    document.getElementById("train").click(); }`);
  if (await waitFor("status", ["trained", "error"], 60_000) !== "trained") fail(`the edited network failed: ${await text("error")}`);
  const edited = await text("verdict");
  if (edited !== "native: n/a (edited network)" || await text("native-output-hash") !== "n/a") fail(`edited network: the page says "${edited}"`);
  else if (await text("weights-hash") === native.weights_hash) fail("the edited network gave the default's weights hash");
  else log(`edited network: ${await text("status")}, "${edited}"`);
}

async function crosscheck() {
  // (b) every golden reference case through bindings/js in the page
  const t = Date.now();
  const cstate = await open("?crosscheck", "crosscheck-status", ["done", "error"], 180_000);
  if (cstate !== "done") throw new Error(`crosscheck failed: ${await text("crosscheck-status")} ${consoleLines.join("\n")}`);
  const lines = (await text("crosscheck")).split("\n").filter((l) => l !== "");
  const all = lines.map((l) => l + "\n").join("");
  writeFileSync(join(out, "chromium-hashes.txt"), all);
  if (crosscheckOnly) writeFileSync(resolve(crosscheckOnly), all);
  const golden = readFileSync(join(root, "Fixtures/golden/reference-hashes.txt"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  const diff = golden.map((g, i) => (g === lines[i] ? null : `line ${i + 1}: golden ${g}, chromium ${lines[i] ?? "(missing)"}`)).filter(Boolean);
  if (lines.length !== golden.length) diff.push(`${lines.length} lines, golden ${golden.length}`);
  if (diff.length) fail(`crosscheck differs from the golden file:\n  ${diff.slice(0, 10).join("\n  ")}`);
  else log(`crosscheck: ${lines.length} lines identical to the golden file (${((Date.now() - t) / 1000).toFixed(1)} s; ${join(out, "chromium-hashes.txt")})`);
}

try {
  if (!crosscheckOnly) await trainingChecks();
  await crosscheck();
  await send("Browser.close").catch(() => {});
} catch (e) {
  fail(e.message);
}
await finish();
