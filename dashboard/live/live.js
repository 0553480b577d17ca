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

// -- the map lens: decoding under the pointer and images when zoomed in, inside a plotly map --------
// Components v2 elements are not sandboxed: the lens finds the maps st.plotly_chart drew (each one's
// layout.meta.lens names it) and listens to them. Over the map named by data.decode_chart (a 2-D code
// plane) the pointer decodes the code under it, drawn next to the pointer and in the lens's panel.
// Zoomed in until at most data.thumb_max images are in view, every dot is drawn as its image.
// Images come from Python on request (setTriggerValue "want") and stay in the page (G.thumbs): a
// browser receives each image once, whatever it zooms to later.
G.thumbs ??= new Map();      // `${images_id}:${split}:${row}` -> canvas (the image at its own pixels)
G.asked ??= new Map();       // the same key -> when it was asked for (asked again after ASK_AGAIN_MS)
G.lenses ??= {};             // element key -> dispose() of its previous rendering
G.lensAt ??= {};             // element key -> the last code decoded under the pointer
const ASK_AGAIN_MS = 8000;
const ATTACH_EVERY_MS = 400;

function lensName(gd) {
  const meta = gd.layout && gd.layout.meta;
  return meta && typeof meta === "object" ? meta.lens : null;
}

function findMap(name) {
  return Array.from(document.querySelectorAll(".js-plotly-plot")).find((gd) => lensName(gd) === name) || null;
}

// The plot area on screen and the axes' ranges now (after every zoom and pan).
function plotArea(gd) {
  const drag = gd.querySelector(".nsewdrag");
  const host = gd.querySelector(".svg-container");
  const full = gd._fullLayout;
  if (!drag || !host || !full || !full.xaxis || !full.yaxis) return null;
  const box = drag.getBoundingClientRect(), base = host.getBoundingClientRect();
  if (!box.width || !box.height) return null;
  const [x0, x1] = full.xaxis.range.map(Number), [y0, y1] = full.yaxis.range.map(Number);
  return { box, left: box.left - base.left, top: box.top - base.top, width: box.width, height: box.height, x0, x1, y0, y1 };
}

const toArea = (a, u, v) => [a.left + ((u - a.x0) / (a.x1 - a.x0)) * a.width, a.top + (1 - (v - a.y0) / (a.y1 - a.y0)) * a.height];
const fromClient = (a, cx, cy) => [a.x0 + ((cx - a.box.left) / a.box.width) * (a.x1 - a.x0),
  a.y0 + (1 - (cy - a.box.top) / a.box.height) * (a.y1 - a.y0)];

// The image dots in view ({u, v, split, row, colour}), or null when more than `limit` are (stays dots).
// Every trace whose customdata is [row, split] per point counts; the grid ([-1, -1]) does not.
function dotsInView(gd, a, limit) {
  const [xl, xh] = [Math.min(a.x0, a.x1), Math.max(a.x0, a.x1)], [yl, yh] = [Math.min(a.y0, a.y1), Math.max(a.y0, a.y1)];
  const seen = new Map();
  for (const t of gd._fullData || []) {
    if (t.visible !== true || !t.customdata || !t.x || !t.y) continue;
    const colour = t.marker && typeof t.marker.color === "string" ? t.marker.color : "#777";
    const n = Math.min(t.x.length, t.y.length, t.customdata.length);
    for (let k = 0; k < n; k++) {
      const u = Number(t.x[k]), v = Number(t.y[k]);
      if (!(u >= xl && u <= xh && v >= yl && v <= yh)) continue;
      const c = t.customdata[k];
      const row = Number(c && c.length !== undefined ? c[0] : c), split = Number(c && c.length > 1 ? c[1] : 0);
      if (!(row >= 0 && split >= 0)) continue;
      const id = `${split}:${row}`;
      if (!seen.has(id)) {
        if (seen.size >= limit) return null;
        seen.set(id, { u, v, split, row, id, colour });
      }
    }
  }
  return [...seen.values()];
}

// One map the lens is attached to: an overlay canvas over its plot area (images), and, on the
// decode map, a box next to the pointer with the decoded code.
class MapHook {
  constructor(lens, name) { this.lens = lens; this.name = name; this.gd = null; this.shown = []; }

  attach(gd) {
    this.detach();
    this.gd = gd;
    const host = gd.querySelector(".svg-container");
    // these live in the page's document, outside the element's shadow root (and its CSS): inline styles
    this.overlay = el("canvas", { class: "ll-thumbs", "data-lens": this.name,
                                  style: "position:absolute;pointer-events:none;left:0;top:0" });
    // above the WebGL dots and the plot's own paper, under the hover labels (the last layer)
    const layers = host.querySelectorAll(":scope > .main-svg");
    host.insertBefore(this.overlay, layers.length > 1 ? layers[layers.length - 1] : null);
    this.listeners = [
      ["plotly_relayout", () => this.redraw()], ["plotly_afterplot", () => this.redraw()],
      ["plotly_relayouting", () => this.clear()],
    ];
    this.listeners.forEach(([event, fn]) => gd.on && gd.on(event, fn));
    if (this.lens.decodes(this.name)) {
      this.tip = el("div", { class: "ll-tip", "data-lens": this.name,
                             style: "position:absolute;display:none;pointer-events:none;padding:3px;background:#fff;"
                               + "border:1px solid #999;box-shadow:0 1px 4px rgba(0,0,0,.3);line-height:0" });
      this.tipCanvas = imageCanvas(this.lens.data.tip_px, this.lens.data.main.shape);
      this.tipCanvas.style.imageRendering = "pixelated";
      this.tip.appendChild(this.tipCanvas);
      host.appendChild(this.tip);
      this.move = (event) => this.pointer(event);
      this.leave = () => { this.tip.style.display = "none"; };
      gd.addEventListener("pointermove", this.move);
      gd.addEventListener("pointerleave", this.leave);
    }
    this.redraw();
  }

  detach() {
    if (!this.gd) return;
    this.listeners.forEach(([event, fn]) => this.gd.removeListener && this.gd.removeListener(event, fn));
    if (this.move) { this.gd.removeEventListener("pointermove", this.move); this.gd.removeEventListener("pointerleave", this.leave); }
    [this.overlay, this.tip].forEach((node) => node && node.remove());
    this.gd = this.overlay = this.tip = this.move = null;
    this.shown = [];
  }

  connected() { return this.gd && this.gd.isConnected && this.overlay && this.overlay.isConnected; }

  pointer(event) {
    const a = plotArea(this.gd);
    if (!a) return;
    const inside = event.clientX >= a.box.left && event.clientX <= a.box.right && event.clientY >= a.box.top
      && event.clientY <= a.box.bottom;
    this.tip.style.display = inside ? "block" : "none";
    if (!inside) return;
    const px = event.clientX - a.box.left + a.left, py = event.clientY - a.box.top + a.top;
    const size = this.tip.offsetWidth || this.lens.data.tip_px;
    // left of the pointer (plotly's hover label opens to the right), on the right only where the left has no room
    this.tip.style.left = `${px - 18 - size < a.left ? px + 18 : px - 18 - size}px`;
    this.tip.style.top = `${Math.max(a.top, Math.min(py - size / 2, a.top + a.height - size))}px`;
    this.lens.live.request(fromClient(a, event.clientX, event.clientY), event.timeStamp);
  }

  clear() {
    if (!this.overlay) return;
    this.overlay.getContext("2d").clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.shown = [];
  }

  redraw() {
    if (!this.connected()) return;
    const a = plotArea(this.gd), data = this.lens.data;
    if (!a) return;
    const dpr = window.devicePixelRatio || 1;
    Object.assign(this.overlay.style, { left: `${a.left}px`, top: `${a.top}px`, width: `${a.width}px`, height: `${a.height}px` });
    const [w, h] = [Math.round(a.width * dpr), Math.round(a.height * dpr)];
    if (this.overlay.width !== w || this.overlay.height !== h) { this.overlay.width = w; this.overlay.height = h; }
    this.clear();
    const dots = dotsInView(this.gd, a, data.thumb_max);
    this.lens.report();
    if (!dots) return;
    this.lens.want(dots);
    const ctx = this.overlay.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    // as large as the dots in view leave room for (zoomed further in: larger), within 0.6x and 1.5x thumb_px
    const size = Math.min(1.5 * data.thumb_px, Math.max(0.6 * data.thumb_px, 0.8 * Math.sqrt((a.width * a.height) / Math.max(1, dots.length))));
    const [, ih, iw] = data.image_shape;
    const [tw, th] = iw >= ih ? [size, (size * ih) / iw] : [(size * iw) / ih, size];
    for (const dot of dots) {
      const image = G.thumbs.get(`${data.images_id}:${dot.id}`);
      if (!image) continue;
      const [x, y] = toArea(a, dot.u, dot.v).map((p, i) => p - (i ? a.top : a.left));
      ctx.drawImage(image, x - tw / 2, y - th / 2, tw, th);
      ctx.lineWidth = 2; ctx.strokeStyle = dot.colour;  // the class colour (or the error scale's grey)
      ctx.strokeRect(x - tw / 2 - 1, y - th / 2 - 1, tw + 2, th + 2);
      this.shown.push([dot.split, dot.row]);
    }
    this.lens.report();
  }

  paintTip(canvas) {
    if (!this.tipCanvas) return;
    const ctx = this.tipCanvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(canvas, 0, 0, this.tipCanvas.width, this.tipCanvas.height);
  }
}

class Lens {
  constructor(root, ort, data, key, setTriggerValue) {
    this.data = data;
    this.key = key;
    this.setTriggerValue = setTriggerValue;
    this.note = el("div", { class: "ll-range ll-lens-note" });
    this.hooks = data.charts.map((name) => new MapHook(this, name));
    const [c, h, w] = data.image_shape;
    for (const [id, b64] of Object.entries(data.thumbs || {})) {  // the images this run brought
      const canvas = document.createElement("canvas");
      paint(canvas, Float32Array.from(base64Bytes(b64), (b) => b / 255), [c, h, w]);
      G.thumbs.set(`${data.images_id}:${id}`, canvas);
      G.asked.delete(`${data.images_id}:${id}`);
    }
    if (data.main) {
      const panels = panelsFor(ort, data, data.display_px);
      this.readout = el("div", { class: "ll-range" });
      this.live = new Live(key, data, ort, panels, (params) => {
        G.lensAt[key] = params;
        this.readout.textContent = `code (${params[0].toFixed(2)}, ${params[1].toFixed(2)}) under the pointer`;
        this.hooks.forEach((hook) => hook.name === data.decode_chart && hook.paintTip(panels[0].canvas));
      });
      root.appendChild(el("div", { class: "ll-row" }, el("div", { class: "ll-images" }, ...panels.map((p) => p.box)),
                          el("div", {}, this.readout, this.note)));
      this.live.request(G.lensAt[key] || data.start);  // a rerun (images arriving) keeps the last code
    } else {
      root.appendChild(this.note);
      G.instances[key] = { ...(G.instances[key] || {}), ready: true };
    }
    Object.assign(G.instances[key], {
      shown: () => Object.fromEntries(this.hooks.map((hook) => [hook.name, hook.shown.slice()])),
      attached: () => this.hooks.filter((hook) => hook.connected()).map((hook) => hook.name),
    });
    this.timer = setInterval(() => this.attach(), ATTACH_EVERY_MS);
    this.attach();
  }

  decodes(name) { return Boolean(this.data.main) && name === this.data.decode_chart; }

  // (Re)attach to each map: st.plotly_chart draws a new graph div when its figure changes.
  attach() {
    for (const hook of this.hooks) {
      const gd = findMap(hook.name);
      if (gd && gd._fullLayout && (gd !== hook.gd || !hook.connected())) hook.attach(gd);
      else if (!gd && hook.gd) hook.detach();
    }
  }

  // Ask Python for the images in view that this page does not have yet (once each).
  want(dots) {
    const now = Date.now();
    const missing = dots.filter((dot) => {
      const id = `${this.data.images_id}:${dot.id}`;
      return !G.thumbs.has(id) && !(now - (G.asked.get(id) || -Infinity) < ASK_AGAIN_MS);
    });
    if (!missing.length) return;
    missing.forEach((dot) => G.asked.set(`${this.data.images_id}:${dot.id}`, now));
    this.setTriggerValue("want", { rows: missing.map((dot) => [dot.split, dot.row]) });
  }

  report() {
    const counts = this.hooks.map((hook) => hook.shown.length);
    const total = counts.reduce((x, y) => x + y, 0);
    this.note.textContent = total ? `${total} dots drawn as their images` : this.data.zoom_text;
  }

  dispose() {
    clearInterval(this.timer);
    this.hooks.forEach((hook) => hook.detach());
  }
}

function buildLens(root, ort, data, key, setStateValue, setTriggerValue) {
  if (G.lenses[key]) G.lenses[key]();
  const lens = new Lens(root, ort, data, key, setTriggerValue);
  G.lenses[key] = () => lens.dispose();
  return G.lenses[key];
}

const VIEWS = { decoder: buildDecoder, pad: buildPad, scrubber: buildScrubber, lens: buildLens };

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  const key = data.key;  // the Python key (component.key is Streamlit's element id)
  let root = parentElement.querySelector(".ll-root");
  if (root) root.remove();
  root = el("div", { class: "ll-root", "data-kind": data.kind, "data-key": key });
  parentElement.appendChild(root);
  let alive = true;
  let dispose = null;
  if (!data.main) {  // a lens that only draws images needs no decoder
    dispose = VIEWS[data.kind](root, null, data, key, setStateValue, setTriggerValue);
    root.dataset.state = "live";
    return () => { alive = false; if (dispose) dispose(); };
  }
  const status = el("div", { class: "ll-status", text: "loading the in-browser decoder..." });
  root.appendChild(status);
  loadRuntime(data.runtime_url, data.runtime_files)
    .then((ort) => {
      if (!alive) return;
      status.remove();
      const missing = (id) => setStateValue("missing", { ids: [id], nonce: Date.now() });
      dispose = VIEWS[data.kind](root, ort, { ...data, missing }, key, setStateValue, setTriggerValue);
      root.dataset.state = "live";
    })
    .catch((error) => {
      if (!alive) return;
      if (data.kind === "lens") {  // no decoder here: the lens still draws the images when zoomed in
        status.textContent = data.fallback_text || "";
        dispose = VIEWS.lens(root, null, { ...data, main: null }, key, setStateValue, setTriggerValue);
        return;
      }
      const reason = G.runtimeError || String(error && error.message || error);
      status.textContent = data.fallback_text
        || "Live decoding is not available in this browser; the images below are drawn by the server.";
      status.className = "ll-status ll-fallback";
      status.title = reason;
      root.dataset.state = "fallback";
      G.instances[key] = { ...(G.instances[key] || {}), failed: reason };
      if (!data.failure_reported) setStateValue("ok", false);
    });
  return () => { alive = false; if (dispose) dispose(); };
}
