// Latent Lab "watch it learn" player: a Streamlit Components v2 module (default export called with
// {data, parentElement}); also usable from a static page with the same data.
//
// The moments of a training are data (core.learning.Moments): the sample's 2-D views at each moment,
// 8 reconstructions at each moment, the held-out error (and, for the linear family, the largest
// principal angle to PCA). Playing runs here, in the browser: positions are interpolated between
// moments on every animation frame, so a replay is smooth and never asks the server for anything.
//
// window.__latentLabPlayer[key] = {frames, distinct, moment} is the measurement hook of the tests.
const H = (window.__latentLabPlayer ??= {});

function decode(b64, Type) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Type(bytes.buffer, 0, bytes.byteLength / Type.BYTES_PER_ELEMENT);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function extent(values, pad = 0.05) {  // [min, max] of x and y over every moment: one fixed frame
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < values.length; i += 2) {
    const x = values[i], y = values[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const dx = (x1 - x0) || 1, dy = (y1 - y0) || 1;
  return [x0 - pad * dx, x1 + pad * dx, y0 - pad * dy, y1 + pad * dy];
}

function drawPoints(canvas, xy, offset, labels, box, palette, blend = null) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const [x0, x1, y0, y1] = box, n = labels.length;
  for (let i = 0; i < n; i++) {
    let x = xy[offset + 2 * i], y = xy[offset + 2 * i + 1];
    if (blend) {  // between two moments
      x += (blend.xy[blend.offset + 2 * i] - x) * blend.t;
      y += (blend.xy[blend.offset + 2 * i + 1] - y) * blend.t;
    }
    ctx.fillStyle = palette[labels[i] % palette.length];
    ctx.fillRect(((x - x0) / (x1 - x0)) * (w - 4) + 1, (1 - (y - y0) / (y1 - y0)) * (h - 4) + 1, 3, 3);
  }
}

function drawImages(canvas, pixels, offset, count, shape, cell) {
  const [c, hh, ww] = shape, ctx = canvas.getContext("2d");
  const image = ctx.createImageData(ww, hh);
  for (let k = 0; k < count; k++) {
    const base = offset + k * c * hh * ww;
    for (let p = 0; p < hh * ww; p++) {
      const r = pixels[base + p], g = c === 3 ? pixels[base + hh * ww + p] : r, b = c === 3 ? pixels[base + 2 * hh * ww + p] : r;
      image.data.set([r, g, b, 255], 4 * p);
    }
    const tile = document.createElement("canvas");
    tile.width = ww; tile.height = hh;
    tile.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tile, k * (cell + 2), 0, cell, cell);
  }
}

function drawCurve(canvas, data, at) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const steps = data.steps.map((s) => Math.log10(s + 1)), mse = data.sample_mse;
  const all = mse.concat(data.pca_mse == null ? [] : [data.pca_mse]);
  const lo = Math.min(...all), hi = Math.max(...all), sx = steps[steps.length - 1] || 1;
  const X = (s) => 40 + (s / sx) * (w - 50), Y = (v) => 10 + (1 - (v - lo) / ((hi - lo) || 1)) * (h - 40);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#1f77b4"; ctx.lineWidth = 2; ctx.beginPath();
  steps.forEach((s, i) => (i ? ctx.lineTo(X(s), Y(mse[i])) : ctx.moveTo(X(s), Y(mse[i]))));
  ctx.stroke();
  if (data.pca_mse != null) {
    ctx.strokeStyle = "#555"; ctx.setLineDash([5, 4]); ctx.beginPath();
    ctx.moveTo(X(0), Y(data.pca_mse)); ctx.lineTo(X(sx), Y(data.pca_mse)); ctx.stroke(); ctx.setLineDash([]);
  }
  if (data.max_angle) {  // the linear family: the largest principal angle to PCA's subspace, 0..90 degrees
    const A = (deg) => 10 + (1 - deg / 90) * (h - 40);
    ctx.strokeStyle = "#ff7f0e"; ctx.lineWidth = 2; ctx.beginPath();
    steps.forEach((s, i) => (i ? ctx.lineTo(X(s), A(data.max_angle[i])) : ctx.moveTo(X(s), A(data.max_angle[i]))));
    ctx.stroke();
    ctx.fillStyle = "#ff7f0e"; ctx.font = "12px sans-serif";
    ctx.fillText("largest angle to PCA's plane (0-90°)", w - 230, 22);
  }
  const cx = X(Math.log10(at.step + 1));
  ctx.strokeStyle = "#d62728"; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(cx, 5); ctx.lineTo(cx, h - 28); ctx.stroke();
  ctx.fillStyle = "#333"; ctx.font = "12px sans-serif";
  ctx.fillText(`held-out MSE per pixel: ${lo.toFixed(4)} .. ${hi.toFixed(4)}`, 42, h - 14);
  ctx.fillText("steps (log scale) →", w - 130, h - 2);
  if (data.pca_mse != null) ctx.fillText("PCA, same size (dashed)", w - 160, Y(data.pca_mse) - 4);
}

export default function (component) {
  const { data, parentElement } = component;
  const key = data.key;
  let root = parentElement.querySelector(".lp-root");
  if (root) root.remove();
  root = el("div", { class: "lp-root", "data-key": key });
  parentElement.appendChild(root);

  const M = data.steps.length, S = data.labels.length, shape = data.shape, R = data.recon_count;
  const views = decode(data.views, Float32Array), pcaView = decode(data.pca_view, Float32Array);
  const recon = decode(data.recon, Uint8Array), pcaRecon = decode(data.pca_recon, Uint8Array);
  const originals = decode(data.originals, Uint8Array);
  const labels = data.labels, palette = data.palette, px = data.map_px, cell = data.cell_px;
  const box = extent(views), pcaBox = extent(pcaView);

  const make = (w, h, cls) => { const c = el("canvas", { class: cls }); c.width = w; c.height = h; return c; };
  const modelMap = make(px, px, "lp-map"), pcaMap = make(px, px, "lp-map");
  const rowW = R * (cell + 2);
  const origRow = make(rowW, cell, "lp-row"), modelRow = make(rowW, cell, "lp-row"), pcaRow = make(rowW, cell, "lp-row");
  const curve = make(Math.max(2 * px, 360), 170, "lp-curve");
  const play = el("button", { type: "button", class: "lp-play", text: "Play" });
  const slider = el("input", { type: "range", min: "0", max: String(M - 1), step: "0.01", value: String(M - 1), class: "lp-slider" });
  const caption = el("div", { class: "lp-caption" });
  const mapsBox = el("div", { class: "lp-maps" },
    el("figure", {}, modelMap, el("figcaption", { text: data.model_label + ": " + data.view_label })),
    el("figure", {}, pcaMap, el("figcaption", { text: (data.pca_view_label || data.pca_label) + " (the target to beat)" })));
  const rows = el("div", { class: "lp-rows" },
    el("div", { class: "lp-rowlabel", text: "test images" }), origRow,
    el("div", { class: "lp-rowlabel", text: data.model_label }), modelRow,
    el("div", { class: "lp-rowlabel", text: data.pca_label }), pcaRow);
  root.append(el("div", { class: "lp-controls" }, play, slider), caption, mapsBox, rows, curve);

  drawPoints(pcaMap, pcaView, 0, labels, pcaBox, palette);
  drawImages(origRow, originals, 0, R, shape, cell);
  drawImages(pcaRow, pcaRecon, 0, R, shape, cell);

  const stats = (H[key] = { frames: 0, distinct: 0, moment: M - 1, playing: false });
  let last = null;
  function show(t) {  // t in [0, M-1]: a moment, or between two
    const i = Math.min(Math.floor(t), M - 1), j = Math.min(i + 1, M - 1), f = t - i;
    drawPoints(modelMap, views, i * S * 2, labels, box, palette, f > 0 && j !== i ? { xy: views, offset: j * S * 2, t: f } : null);
    const k = Math.round(t);
    drawImages(modelRow, recon, k * R * shape[0] * shape[1] * shape[2], R, shape, cell);
    const step = data.steps[i] + (data.steps[j] - data.steps[i]) * f;
    drawCurve(curve, data, { step });
    const angle = data.max_angle ? `, largest angle to PCA's subspace ${data.max_angle[k].toFixed(1)}°` : "";
    const epoch = data.epochs[k], whole = Math.abs(epoch - Math.round(epoch)) < 1e-9;  // "epoch 1500", not "1500.00"
    caption.textContent = `moment ${k + 1} of ${M}: step ${data.steps[k]} (epoch ${whole ? Math.round(epoch) : epoch.toFixed(2)}), `
      + `held-out MSE ${data.sample_mse[k].toFixed(4)}` + angle;
    stats.frames += 1;
    if (t !== last) stats.distinct += 1;
    stats.moment = t; last = t;
  }
  let t = M - 1, playing = false, previous = null;
  const perMoment = data.seconds_per_moment;  // seconds of replay between two moments
  function frame(now) {
    if (!playing) return;
    if (previous != null) t += (now - previous) / 1000 / perMoment;
    previous = now;
    if (t >= M - 1) { t = M - 1; playing = false; play.textContent = "Play"; stats.playing = false; }
    slider.value = String(t);
    show(t);
    if (playing) requestAnimationFrame(frame);
  }
  play.addEventListener("click", () => {
    playing = !playing;
    stats.playing = playing;
    play.textContent = playing ? "Pause" : "Play";
    if (playing) {
      if (t >= M - 1) t = 0;
      previous = null;
      requestAnimationFrame(frame);
    }
  });
  slider.addEventListener("input", () => { playing = false; play.textContent = "Play"; t = Number(slider.value); show(t); });
  show(t);
  return () => { playing = false; };
}
