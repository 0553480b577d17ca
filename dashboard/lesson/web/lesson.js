// The static lesson's runner: one step per screen, Back / Next, the step in the URL (#step=<slug>),
// arrow keys (and a presenter clicker's Page Up / Page Down). Everything it loads lies beside it:
// lesson.json (the steps), data/<step>.json (each step's blocks, see dashboard/lesson/static.py),
// live.js (the dashboard's live element, called as Streamlit would call it) and plotly.js.
// All text is set with textContent: nothing from the files is parsed as HTML.

const manifest = await (await fetch("./lesson.json")).json();
const steps = manifest.steps;
const slugs = steps.map((s) => s.slug);
const $ = (id) => document.getElementById(id);
let cleanups = [];   // what the current step's live elements need when it is left
let shown = null;    // the slug on screen

window.__latentLabLesson = { manifest, rendered: {} };  // tests read which steps have drawn

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) if (child) node.appendChild(child);
  return node;
}

// -- plotly: loaded on the first step that draws a figure (gzip-compressed on disk) ------------------

let plotly = null;
function loadPlotly() {
  plotly ??= (async () => {
    const response = await fetch(manifest.plotly);
    if (!response.ok) throw new Error(`${manifest.plotly}: HTTP ${response.status}`);
    let bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {  // still gzip (a server may have unpacked it already)
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    }
    const url = URL.createObjectURL(new Blob([bytes], { type: "text/javascript" }));
    await new Promise((resolve, reject) => {
      document.head.appendChild(el("script", { src: url })).addEventListener("load", resolve);
      setTimeout(() => (window.Plotly ? resolve() : reject(new Error("plotly.js did not load"))), 20000);
    });
    return window.Plotly;
  })();
  return plotly;
}

// -- blocks ----------------------------------------------------------------------------------------

function image(src, caption, px) {
  const img = el("img", { src, alt: caption || "", class: "pixelated" });
  if (px) img.style.width = `${px}px`;
  return el("figure", {}, img, caption ? el("figcaption", { text: caption }) : null);
}

const BLOCKS = {
  text: (b) => el("p", { class: b.style === "note" ? "note" : "caption", text: b.text }),
  command: (b) => el("pre", { class: "command", text: b.text }),
  images: (b) => el("div", { class: "images" }, ...b.items.map((i) => image(i.src, i.caption, i.px))),
  image_row: (b) => el("div", { class: "image-row" }, el("b", { text: b.label }),
                       el("img", { src: b.src, alt: b.label, class: "pixelated" })),
  metrics: (b) => el("div", { class: "metrics" },
                     ...b.items.map(([label, value]) => el("div", { text: label }, el("strong", { text: value })))),
  legend: (b) => el("div", { class: "legend" }, ...b.items.map(([name, colour]) => {
    const item = el("span", { text: name });
    item.style.setProperty("--dot", colour);
    return item;
  })),
  columns: (b) => el("div", { class: "columns" }, ...b.columns.map((column) => el("div", {}, ...column.map(block)))),
  plot: (b) => {
    const box = el("div", { class: "plot" });
    box.style.height = `${b.figure.layout?.height || 300}px`;
    loadPlotly()
      .then((Plotly) => Plotly.newPlot(box, b.figure.data, { ...b.figure.layout, autosize: true },
                                       { displaylogo: false, responsive: true }))
      .catch((error) => box.replaceChildren(el("p", { class: "problem", text: `This figure could not be drawn: ${error.message}` })));
    return box;
  },
  player: (b) => {  // watch it learn: the dashboard's own player module, the same data
    const box = el("div", { class: "live" });
    import("./player.js").then((player) => {
      const cleanup = player.default({ data: b.data, parentElement: box });
      if (typeof cleanup === "function") cleanups.push(cleanup);
    });
    return box;
  },
  live: (b) => {
    const box = el("div", { class: "live" });
    import("./live.js").then((live) => {
      const data = { ...b.data, ...manifest.runtime };
      const cleanup = live.default({ data, parentElement: box, setStateValue: () => {}, setTriggerValue: () => {} });
      if (typeof cleanup === "function") cleanups.push(cleanup);
    });
    return box;
  },
};

function block(b) {
  const draw = BLOCKS[b.type];
  return draw ? draw(b) : el("p", { class: "problem", text: `unknown block ${b.type}` });
}

// -- steps -----------------------------------------------------------------------------------------

function current() {
  const match = /(?:^|[#&])step=([^&]+)/.exec(location.hash);
  const slug = match ? decodeURIComponent(match[1]) : slugs[0];
  return slugs.includes(slug) ? slug : slugs[0];
}

function go(index) {
  if (index >= 0 && index < steps.length) location.hash = `step=${encodeURIComponent(slugs[index])}`;
}

async function show() {
  const slug = current();
  if (slug === shown) return;
  shown = slug;
  const index = slugs.indexOf(slug), step = steps[index];
  cleanups.forEach((f) => f());
  cleanups = [];
  $("title").textContent = `${index + 1}/${steps.length} · ${step.title}`;
  document.title = `${step.title} · ${manifest.dataset}`;
  $("back").disabled = index === 0;
  $("next").disabled = index === steps.length - 1;
  $("notice").replaceChildren(el("b", { text: "What to notice: " }), document.createTextNode(step.notice));
  $("question").replaceChildren(el("b", { text: "Ask the class: " }), document.createTextNode(step.question));
  $("steps").querySelectorAll("a").forEach((a, i) => {
    if (i === index) a.setAttribute("aria-current", "step"); else a.removeAttribute("aria-current");
  });
  const main = $("step");
  main.replaceChildren(el("p", { class: "caption", text: "loading..." }));
  try {
    const data = await (await fetch(step.data)).json();
    if (shown !== slug) return;  // another step was asked for meanwhile
    main.replaceChildren(...data.blocks.map(block));
    main.dataset.step = slug;
    window.__latentLabLesson.rendered[slug] = true;
  } catch (error) {
    main.replaceChildren(el("p", { class: "problem", text: `This step could not be loaded: ${error.message}` }));
  }
}

steps.forEach((step, i) => $("steps").appendChild(el("a", { href: `#step=${encodeURIComponent(step.slug)}`,
                                                             text: `${i + 1}. ${step.title}` })));
$("back").addEventListener("click", () => go(slugs.indexOf(current()) - 1));
$("next").addEventListener("click", () => go(slugs.indexOf(current()) + 1));
document.addEventListener("keydown", (event) => {
  const inWidget = event.target instanceof HTMLElement && event.target.closest("input, textarea, select, .ll-pad");
  if (inWidget || event.altKey || event.ctrlKey || event.metaKey) return;  // arrows move a slider there
  if (event.key === "ArrowRight" || event.key === "PageDown") go(slugs.indexOf(current()) + 1);
  else if (event.key === "ArrowLeft" || event.key === "PageUp") go(slugs.indexOf(current()) - 1);
});
window.addEventListener("hashchange", show);
show();
