// Latent Lab live decoding: a Streamlit Components v2 module (default export called with
// {name, key, data, parentElement, setStateValue, setTriggerValue}).
//
// Every decoder runs in the page with onnxruntime-web (single-threaded wasm, vendored under
// dashboard/static and served by the Streamlit server itself). A decode happens on every input /
// pointer event; Python hears only on release / click (setStateValue reruns the script).
//
// Every view maps its parameters p (k numbers: slider values, pad (u, v), interpolation t) to a
// code the same way:  code = origin + p @ directions   (directions: k x d, row-major).
//
// window.__latentLabLive is the per-page cache (runtime, one session per model id) and the debug /
// measurement hook used by tests/test_live_browser.py and bench/live_decode.py:
//   instances[key].decode(codes, which)   -> Promise<Float32Array[]>  (which: "main" | "side")
//   instances[key].stats                  -> {paints, distinct, latencies, firstPaintMs, ...}
const G = (window.__latentLabLive ??= {
  runtime: null,          // Promise<ort module>
  runtimeError: null,     // the reason the runtime could not load (a string)
  sessions: new Map(),    // model id -> Promise<InferenceSession>
  instances: {},          // component key -> debug / measurement hook
  bytesFetched: 0,
});
G.waiting ??= new Map();  // model id -> {resolve} of a session waiting for bytes another element carries
const MISSING_WAIT_MS = 1500;

const RUNTIME_JS = "ort.wasm.bundle.min.mjs";
const RUNTIME_WASM = "ort-wasm-simd-threaded.wasm";
// The same binary gzipped once when vendored (scripts/vendor_onnxruntime_web.sh): Streamlit gzips
// /app/static responses itself at level 9 on every request, 0.4 CPU-s of the server per browser for
// this 14 MB file, but leaves application/gzip alone; the browser inflates it (DecompressionStream).
const RUNTIME_WASM_GZ = `${RUNTIME_WASM}.gz`;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];

// -- the runtime --------------------------------------------------------------------------------

// Where Streamlit serves ./static: next to its own bundle (this respects server.baseUrlPath).
function defaultRuntimeUrl() {
  const own = Array.from(document.querySelectorAll("script[src]"))
    .map((s) => s.src).find((src) => /\/static\/js\/index\.[^/]+\.js/.test(src));
  const root = own ? own.slice(0, own.indexOf("static/js/")) : `${location.origin}/`;
  return `${root}app/static/vendor/onnxruntime-web/`;
}

async function fetchOk(url, kind) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  if (kind === "gzip") {  // a .gz file: count the bytes that travelled, hand over the inflated ones
    const packed = await response.arrayBuffer();
    G.bytesFetched += packed.byteLength;
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }
  const body = kind === "text" ? await response.text() : await response.arrayBuffer();
  G.bytesFetched += kind === "text" ? body.length : body.byteLength;
  return body;
}

// The JS is imported from a Blob URL (so the server's Content-Type for .mjs does not matter) and the
// wasm is handed over as bytes (so ort never builds a URL of its own); one thread, no proxy worker.
// `files` ({js, wasm}) names other runtime files under baseUrl: the static lesson may ship a runtime
// with the same InferenceSession / Tensor surface and no wasm at all (wasm: null).
function loadRuntime(baseUrl, files) {
  if (!G.runtime) {
    G.runtime = (async () => {
      const started = performance.now();
      const base = new URL(baseUrl || defaultRuntimeUrl(), location.href).href;
      const js = (files && files.js) || RUNTIME_JS;
      const gzip = !files && typeof DecompressionStream === "function";  // Streamlit's path: the .gz
      const wasmName = files && files.wasm !== undefined ? files.wasm : gzip ? RUNTIME_WASM_GZ : RUNTIME_WASM;
      const [source, wasm] = await Promise.all([fetchOk(base + js, "text"),
                                               wasmName ? fetchOk(base + wasmName, gzip ? "gzip" : "bytes") : null]);
      if (wasmName && typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
      const blobUrl = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      const ort = await import(/* webpackIgnore: true */ blobUrl);
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      if (wasm) ort.env.wasm.wasmBinary = wasm;
      ort.env.logLevel = "error";
      G.runtimeMs = performance.now() - started;
      return ort;
    })();
    G.runtime.catch((error) => { G.runtimeError = String(error && error.message || error); });
  }
  return G.runtime;
}

function base64Bytes(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function createSession(ort, source) {
  const bytes = typeof source === "string" ? Promise.resolve(base64Bytes(source))
    : fetchOk(new URL(source.url, location.href).href, "bytes").then((b) => new Uint8Array(b));
  return bytes.then((b) => ort.InferenceSession.create(b,
    { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
}

// source: the ONNX bytes as base64 (sent by Streamlit), or {url} of an .onnx file (the static lesson).
// Streamlit sends a model's bytes once per session (dashboard/live/__init__.py, _unsent): an element
// without them waits for the element of the same run that carries them; if none comes (the page lost
// them), `missing(id)` asks Python to send them again.
function session(ort, modelId, source, missing) {
  const waiting = G.waiting.get(modelId);
  if (source && waiting) {
    G.waiting.delete(modelId);
    waiting.resolve(createSession(ort, source));
  }
  if (!G.sessions.has(modelId)) {
    let created;
    if (source) {
      created = createSession(ort, source);
    } else {
      const entry = {};
      created = new Promise((resolve) => { entry.resolve = resolve; });
      G.waiting.set(modelId, entry);
      setTimeout(() => { if (G.waiting.get(modelId) === entry && missing) missing(modelId); }, MISSING_WAIT_MS);
    }
    created.catch(() => G.sessions.delete(modelId));
    G.sessions.set(modelId, created);
  }
  return G.sessions.get(modelId);
}

// One decoder: a session, its affine map from parameters to codes, its image shape. Runs are
// serialised (ort-web runs one at a time per session) and coalesced: only the newest request waits.
class Decoder {
  constructor(ort, spec, models, missing) {
    this.ort = ort;
    this.spec = spec;
    this.shape = spec.shape;                 // [C, H, W]
    this.d = spec.origin.length;
    this.sessionPromise = session(ort, spec.model_id, models[spec.model_id], missing);
    this.busy = null;
  }

  code(params) {
    const { origin, directions } = this.spec;
    const code = new Float64Array(origin);
    for (let i = 0; i < params.length; i++) {
      const row = directions[i];
      for (let j = 0; j < this.d; j++) code[j] += params[i] * row[j];
    }
    return Array.from(Float32Array.from(code));
  }

  // codes: array of arrays (n x d) -> array of Float32Array (C*H*W each)
  async decode(codes) {
    const s = await this.sessionPromise;
    const previous = this.busy;
    let release;
    this.busy = new Promise((r) => { release = r; });
    try {
      if (previous) await previous;
      const n = codes.length;
      const flat = new Float32Array(n * this.d);
      codes.forEach((c, i) => flat.set(c, i * this.d));
      const feeds = { [s.inputNames[0]]: new this.ort.Tensor("float32", flat, [n, this.d]) };
      const out = await s.run(feeds);
      const data = out[s.outputNames[0]].data;
      const size = data.length / n;
      return Array.from({ length: n }, (_, i) => data.slice(i * size, (i + 1) * size));
    } finally {
      release();
    }
  }
}

// -- drawing -------------------------------------------------------------------------------------

// (C, H, W) floats in [0, 1] -> the canvas's own pixels (1 canvas pixel per image pixel; CSS scales
// it up with image-rendering: pixelated, i.e. nearest neighbour). Same rounding as the server path.
function paint(canvas, pixels, [c, h, w]) {
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  const plane = h * w;
  const q = (x) => Math.floor(Math.min(1, Math.max(0, x)) * 255 + 0.5);
  let hash = 0;
  for (let p = 0; p < plane; p++) {
    const r = q(pixels[p]);
    const g = c >= 3 ? q(pixels[plane + p]) : r;
    const b = c >= 3 ? q(pixels[2 * plane + p]) : r;
    img.data[4 * p] = r; img.data[4 * p + 1] = g; img.data[4 * p + 2] = b; img.data[4 * p + 3] = 255;
    hash = (hash * 31 + r * 7 + g * 3 + b) | 0;
  }
  ctx.putImageData(img, 0, 0);
  return hash;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

function imageCanvas(px, shape) {
  const canvas = el("canvas", { class: "ll-image" });
  canvas.width = shape[2]; canvas.height = shape[1];
  const scale = px / Math.max(shape[1], shape[2]);
  canvas.style.width = `${Math.round(shape[2] * scale)}px`;
  canvas.style.height = `${Math.round(shape[1] * scale)}px`;
  return canvas;
}

// -- measurement ---------------------------------------------------------------------------------

function newStats() {
  return { paints: 0, distinct: 0, lastHash: null, latencies: [], firstPaintMs: null, decodes: 0, errors: [] };
}

// After the frame that shows the new pixels: a task queued from requestAnimationFrame runs once
// that frame has been produced.
function afterPaint(fn) { requestAnimationFrame(() => setTimeout(fn, 0)); }

// -- the views -----------------------------------------------------------------------------------

function rangeNote(data, code, params) {
  const r = data.ranges;
  if (!r) return null;
  const values = r.space === "params" ? params : code;
  const out = [];
  values.forEach((v, i) => { if (v < r.low[i] || v > r.high[i]) out.push(i); });
  if (!out.length) return { inside: true, text: r.inside_text || "inside the range of the training codes" };
  const names = out.slice(0, 3).map((i) => (r.names && r.names[i]) || `${r.space === "params" ? "slider" : "code"} ${i + 1}`);
  return { inside: false, text: `${r.outside_text || "empty space: beyond the training codes in"} ${names.join(", ")}${out.length > 3 ? ", ..." : ""}` };
}

// The live machinery shared by the three views: decode the newest parameters, paint, measure.
class Live {
  constructor(key, data, ort, panels, onParams) {
    this.key = key;
    this.data = data;
    this.panels = panels;            // [{decoder, canvas}]
    this.onParams = onParams;        // called with (params, code) after each paint (range note ...)
    this.pending = null;             // newest params not yet painted
    this.pendingSince = null;        // timeStamp of the oldest input not yet painted
    this.running = false;
    this.params = null;
    this.stats = (G.instances[key] && G.instances[key].stats) || newStats();
    G.instances[key] = {
      stats: this.stats,
      ready: false,
      decode: async (codes, which = "main") => {
        const panel = which === "side" ? panels[1] : panels[0];
        return (await panel.decoder.decode(codes)).map((a) => Array.from(a));
      },
      // the canvas's own RGBA pixels (what is painted, before the nearest-neighbour CSS scaling)
      pixels: (which = "main") => {
        const canvas = (which === "side" ? panels[1] : panels[0]).canvas;
        return Array.from(canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data);
      },
      params: () => this.params,
      code: () => (this.params ? panels[0].decoder.code(this.params) : null),
    };
  }

  request(params, eventTime) {
    this.params = params;
    this.pending = params;
    if (this.pendingSince === null && eventTime !== undefined) this.pendingSince = eventTime;
    if (!this.running) this.pump();
  }

  async pump() {
    this.running = true;
    try {
      while (this.pending) {
        const params = this.pending, since = this.pendingSince;
        this.pending = null; this.pendingSince = null;
        const images = await Promise.all(this.panels.map((p) => p.decoder.decode([p.decoder.code(params)])));
        let hash = 0;
        this.panels.forEach((p, i) => { hash = (hash * 131 + paint(p.canvas, images[i][0], p.decoder.shape)) | 0; });
        this.stats.decodes += 1;
        this.onParams && this.onParams(params, this.panels[0].decoder.code(params));
        afterPaint(() => {
          const now = performance.now();
          this.stats.paints += 1;
          if (hash !== this.stats.lastHash) { this.stats.distinct += 1; this.stats.lastHash = hash; }
          if (this.stats.firstPaintMs === null) this.stats.firstPaintMs = now;
          if (since !== null && since !== undefined) this.stats.latencies.push(now - since);
          G.instances[this.key].ready = true;
        });
      }
    } catch (error) {
      this.stats.errors.push(String(error && error.message || error));
    } finally {
      this.running = false;
    }
  }
}

function header(text) { return el("div", { class: "ll-caption", text }); }

function panelsFor(ort, data, px) {
  const specs = [data.main, data.side].filter(Boolean);
  return specs.map((spec) => {
    const canvas = imageCanvas(px, spec.shape);
    const box = el("figure", { class: "ll-figure" }, canvas, el("figcaption", { text: spec.label || "" }));
    return { decoder: new Decoder(ort, spec, data.models, data.missing), canvas, box };
  });
}

function buildDecoder(root, ort, data, key, setStateValue) {
  const panels = panelsFor(ort, data, data.display_px);
  const note = el("div", { class: "ll-range" });
  const sliders = el("div", { class: "ll-sliders" });
  const values = data.sliders.map((s) => s.value);
  const inputs = data.sliders.map((s, i) => {
    const out = el("output", { class: "ll-value", text: s.value.toFixed(2) });
    const input = el("input", { type: "range", min: s.low, max: s.high, step: s.step, "aria-label": s.label,
                                "data-index": String(i) });
    input.value = String(s.value);
    sliders.appendChild(el("label", { class: "ll-slider" }, el("span", { text: s.label }), input, out));
    return { input, out };
  });
  root.appendChild(el("div", { class: "ll-row" }, sliders, el("div", { class: "ll-images" }, ...panels.map((p) => p.box))));
  root.appendChild(note);
  const live = new Live(key, data, ort, panels, (params, code) => {
    const r = rangeNote(data, code, params);
    if (r) { note.textContent = r.text; note.dataset.inside = String(r.inside); }
  });
  inputs.forEach(({ input, out }, i) => {
    input.addEventListener("input", (event) => {
      values[i] = Number(input.value);
      out.textContent = values[i].toFixed(2);
      live.request(values.slice(), event.timeStamp);
    });
    input.addEventListener("change", () => {
      values[i] = Number(input.value);
      setStateValue("value", { model_id: data.main.model_id, params: values.slice(), code: panels[0].decoder.code(values) });
    });
  });
  live.request(values.slice());
}

function buildPad(root, ort, data, key, setStateValue) {
  const panels = panelsFor(ort, data, data.display_px);
  const size = data.pad_px;
  const pad = el("canvas", { class: "ll-pad", width: String(size), height: String(size), tabindex: "0" });
  const dots = el("canvas", { width: String(size), height: String(size) });
  const [x0, x1, y0, y1] = data.extent;
  const toPx = (u, v) => [((u - x0) / (x1 - x0)) * size, (1 - (v - y0) / (y1 - y0)) * size];
  const fromPx = (x, y) => [x0 + (x / size) * (x1 - x0), y0 + (1 - y / size) * (y1 - y0)];
  const dctx = dots.getContext("2d");
  dctx.globalAlpha = 0.35;
  (data.points || []).forEach(([u, v], i) => {
    const label = data.labels ? data.labels[i] : 0;
    dctx.fillStyle = PALETTE[((label % PALETTE.length) + PALETTE.length) % PALETTE.length];
    const [x, y] = toPx(u, v);
    dctx.fillRect(x - 1.5, y - 1.5, 3, 3);
  });
  let pinned = data.pinned;         // [u, v] or null
  let cursor = data.start;
  const redraw = () => {
    const ctx = pad.getContext("2d");
    ctx.clearRect(0, 0, size, size);
    ctx.drawImage(dots, 0, 0);
    const mark = (uv, colour, r) => {
      const [x, y] = toPx(uv[0], uv[1]);
      ctx.strokeStyle = colour; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.stroke();
    };
    if (pinned) mark(pinned, "#d62728", 7);
    if (cursor) mark(cursor, "#333", 4);
  };
  const readout = el("div", { class: "ll-range" });
  const live = new Live(key, data, ort, panels, (params) => {
    readout.textContent = `(${params[0].toFixed(2)}, ${params[1].toFixed(2)})${pinned ? "  pinned" : ""}`;
  });
  const at = (event) => {
    const box = pad.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * size, y = ((event.clientY - box.top) / box.height) * size;
    return fromPx(Math.min(size, Math.max(0, x)), Math.min(size, Math.max(0, y)));
  };
  pad.addEventListener("pointermove", (event) => { cursor = at(event); redraw(); live.request(cursor, event.timeStamp); });
  pad.addEventListener("pointerleave", () => { if (pinned) { cursor = pinned; redraw(); live.request(pinned); } });
  pad.addEventListener("click", (event) => {
    pinned = at(event); cursor = pinned; redraw(); live.request(pinned, event.timeStamp);
    setStateValue("value", { model_id: data.main.model_id, params: pinned, code: panels[0].decoder.code(pinned) });
  });
  root.appendChild(el("div", { class: "ll-row" }, el("div", {}, pad, readout),
                      el("div", { class: "ll-images" }, ...panels.map((p) => p.box))));
  redraw();
  live.request(pinned || cursor);
}

function buildScrubber(root, ort, data, key, setStateValue) {
  const panels = panelsFor(ort, data, data.display_px);
  const out = el("output", { class: "ll-value", text: data.t.toFixed(2) });
  const input = el("input", { type: "range", min: "0", max: "1", step: String(data.step), "aria-label": "t" });
  input.value = String(data.t);
  root.appendChild(el("label", { class: "ll-slider ll-wide" }, el("span", { text: data.label || "t" }), input, out));
  root.appendChild(el("div", { class: "ll-images" }, ...panels.map((p) => p.box)));
  const live = new Live(key, data, ort, panels, null);
  input.addEventListener("input", (event) => {
    out.textContent = Number(input.value).toFixed(2);
    live.request([Number(input.value)], event.timeStamp);
  });
  input.addEventListener("change", () => {
    const t = Number(input.value);
    setStateValue("value", { model_id: data.main.model_id, params: [t], code: panels[0].decoder.code([t]) });
  });
  live.request([data.t]);
}

const VIEWS = { decoder: buildDecoder, pad: buildPad, scrubber: buildScrubber };

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const key = data.key;  // the Python key (component.key is Streamlit's element id)
  let root = parentElement.querySelector(".ll-root");
  if (root) root.remove();
  root = el("div", { class: "ll-root", "data-kind": data.kind, "data-key": key });
  parentElement.appendChild(root);
  const status = el("div", { class: "ll-status", text: "loading the in-browser decoder..." });
  root.appendChild(status);
  let alive = true;
  loadRuntime(data.runtime_url, data.runtime_files)
    .then((ort) => {
      if (!alive) return;
      status.remove();
      const missing = (id) => setStateValue("missing", { ids: [id], nonce: Date.now() });
      VIEWS[data.kind](root, ort, { ...data, missing }, key, setStateValue);
      root.dataset.state = "live";
    })
    .catch((error) => {
      if (!alive) return;
      const reason = G.runtimeError || String(error && error.message || error);
      status.textContent = data.fallback_text
        || "Live decoding is not available in this browser; the images below are drawn by the server.";
      status.className = "ll-status ll-fallback";
      status.title = reason;
      root.dataset.state = "fallback";
      G.instances[key] = { ...(G.instances[key] || {}), failed: reason };
      if (!data.failure_reported) setStateValue("ok", false);
    });
  return () => { alive = false; };
}
