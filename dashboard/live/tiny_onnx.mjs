// tiny_onnx: a forward pass for the small ONNX decoders Latent Lab exports, in plain JavaScript.
//
// It speaks the part of onnxruntime-web's surface that live.js uses (InferenceSession.create(bytes),
// session.inputNames / outputNames / run(feeds), Tensor(type, data, dims), env), so the static lesson
// can hand it to live.js in place of the 14 MB WebAssembly runtime. It reads the ONNX protobuf itself
// and runs the graph's nodes in order (an exported graph is topologically sorted) on float32 tensors,
// accumulating in doubles. Only the operators below exist: dashboard/lesson/runtime.py checks a graph's
// operators before choosing this runtime, and ships onnxruntime-web when one is missing.

// -- protobuf ------------------------------------------------------------------------------------

class Reader {
  constructor(bytes, start = 0, end = bytes.length) { this.b = bytes; this.p = start; this.end = end; }
  more() { return this.p < this.end; }
  varint() {  // as a BigInt: int64 fields (dims, shapes) may be negative (10-byte varints)
    let result = 0n, shift = 0n, byte;
    do { byte = this.b[this.p++]; result |= BigInt(byte & 0x7f) << shift; shift += 7n; } while (byte & 0x80);
    return result;
  }
  int() { return Number(BigInt.asIntN(64, this.varint())); }
  tag() { const t = Number(this.varint()); return [t >>> 3, t & 7]; }
  bytes() { const n = Number(this.varint()); const out = this.b.subarray(this.p, this.p + n); this.p += n; return out; }
  sub() { const n = Number(this.varint()); const r = new Reader(this.b, this.p, this.p + n); this.p += n; return r; }
  float() { const v = new DataView(this.b.buffer, this.b.byteOffset + this.p, 4).getFloat32(0, true); this.p += 4; return v; }
  skip(wire) {
    if (wire === 0) this.varint(); else if (wire === 1) this.p += 8; else if (wire === 2) this.bytes();
    else if (wire === 5) this.p += 4; else throw new Error(`protobuf wire type ${wire} not supported`);
  }
  // a repeated scalar field, packed or not
  repeated(wire, one, out) {
    if (wire === 2) { const r = this.sub(); while (r.more()) out.push(one(r)); } else out.push(one(this));
  }
}

const text = (bytes) => new TextDecoder().decode(bytes);
const FLOAT = 1, INT64 = 7, INT32 = 6;

function readTensor(r) {
  const t = { dims: [], type: FLOAT, name: "", floats: [], ints: [], raw: null };
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1) r.repeated(wire, (x) => x.int(), t.dims);
    else if (field === 2) t.type = r.int();
    else if (field === 4) r.repeated(wire, (x) => x.float(), t.floats);
    else if (field === 5 || field === 7) r.repeated(wire, (x) => x.int(), t.ints);
    else if (field === 8) t.name = text(r.bytes());
    else if (field === 9) t.raw = r.bytes();
    else r.skip(wire);
  }
  const size = t.dims.reduce((a, b) => a * b, 1);
  let data;
  if (t.type === FLOAT) {
    data = new Float32Array(size);
    if (t.raw) data.set(new Float32Array(t.raw.slice().buffer));  // slice: raw_data need not be 4-aligned
    else data.set(t.floats);
  } else if (t.type === INT64 || t.type === INT32) {
    data = new Float64Array(size);  // shapes and axes: small integers, exact in a double
    if (t.raw) {
      const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
      for (let i = 0; i < size; i++) {
        data[i] = t.type === INT64 ? Number(view.getBigInt64(8 * i, true)) : view.getInt32(4 * i, true);
      }
    } else data.set(t.ints);
  } else throw new Error(`tensor ${t.name}: element type ${t.type} not supported`);
  return { name: t.name, value: new Value(data, t.dims) };
}

function readAttribute(r) {
  const a = { name: "", ints: [], floats: [] };
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1) a.name = text(r.bytes());
    else if (field === 2) a.f = r.float();
    else if (field === 3) a.i = r.int();
    else if (field === 4) a.s = text(r.bytes());
    else if (field === 5) a.t = readTensor(r.sub()).value;
    else if (field === 7) r.repeated(wire, (x) => x.float(), a.floats);
    else if (field === 8) r.repeated(wire, (x) => x.int(), a.ints);
    else r.skip(wire);
  }
  const value = a.t ?? a.f ?? a.i ?? a.s ?? (a.ints.length ? a.ints : a.floats.length ? a.floats : []);
  return [a.name, value];
}

function readNode(r) {
  const n = { inputs: [], outputs: [], op: "", attrs: {} };
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1) n.inputs.push(text(r.bytes()));
    else if (field === 2) n.outputs.push(text(r.bytes()));
    else if (field === 4) n.op = text(r.bytes());
    else if (field === 5) { const [k, v] = readAttribute(r.sub()); n.attrs[k] = v; }
    else if (field === 7) { const domain = text(r.bytes()); if (domain && domain !== "ai.onnx") throw new Error(`operator domain ${domain} not supported`); }
    else r.skip(wire);
  }
  return n;
}

function readName(r) {  // ValueInfoProto: its name
  let name = "";
  while (r.more()) { const [field, wire] = r.tag(); if (field === 1) name = text(r.bytes()); else r.skip(wire); }
  return name;
}

function readGraph(r) {
  const g = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1) g.nodes.push(readNode(r.sub()));
    else if (field === 5) { const t = readTensor(r.sub()); g.initializers.set(t.name, t.value); }
    else if (field === 11) g.inputs.push(readName(r.sub()));
    else if (field === 12) g.outputs.push(readName(r.sub()));
    else r.skip(wire);
  }
  g.inputs = g.inputs.filter((name) => !g.initializers.has(name));
  return g;
}

function readModel(bytes) {
  const r = new Reader(bytes);
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 7) return readGraph(r.sub());
    r.skip(wire);
  }
  throw new Error("no graph in this ONNX model");
}

// -- tensors -------------------------------------------------------------------------------------

class Value {
  constructor(data, dims) { this.data = data; this.dims = dims.map(Number); }
  get size() { return this.data.length; }
}

const prod = (dims) => dims.reduce((a, b) => a * b, 1);

function strides(dims) {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

// Element-wise operators by number: one function with a switch keeps every loop below monomorphic (a
// callback per operator made V8 call through a megamorphic site per element, about 10x slower).
const ADD = 0, SUB = 1, MUL = 2, DIV = 3, MAX = 4, MIN = 5;
function binaryOp(op, p, q) {
  switch (op) {
    case ADD: return p + q;
    case SUB: return p - q;
    case MUL: return p * q;
    case DIV: return p / q;
    case MAX: return p > q ? p : q;
    default: return p < q ? p : q;
  }
}

// numpy broadcasting of two tensors through a binary operator
function broadcast(a, b, op) {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d) => [...new Array(rank - d.length).fill(1), ...d];
  const da = pad(a.dims), db = pad(b.dims);
  const dims = da.map((x, i) => {
    if (x !== db[i] && x !== 1 && db[i] !== 1) throw new Error(`shapes ${a.dims} and ${b.dims} do not broadcast`);
    return Math.max(x, db[i]);
  });
  const out = new Float32Array(prod(dims));
  const as = a.data, bs = b.data, n = out.length;
  if (as.length === n && bs.length === n) {
    for (let i = 0; i < n; i++) out[i] = binaryOp(op, as[i], bs[i]);
  } else if (bs.length === 1 && as.length === n) {
    const y = bs[0];
    for (let i = 0; i < n; i++) out[i] = binaryOp(op, as[i], y);
  } else if (as.length === 1 && bs.length === n) {
    const x = as[0];
    for (let i = 0; i < n; i++) out[i] = binaryOp(op, x, bs[i]);
  } else {
    const so = strides(dims), sa = strides(da), sb = strides(db);
    for (let i = 0; i < n; i++) {
      let ia = 0, ib = 0, rest = i;
      for (let k = 0; k < rank; k++) {
        const c = Math.floor(rest / so[k]); rest -= c * so[k];
        if (da[k] !== 1) ia += c * sa[k];
        if (db[k] !== 1) ib += c * sb[k];
      }
      out[i] = binaryOp(op, as[ia], bs[ib]);
    }
  }
  return new Value(out, dims);
}

const ERF = 0, SIGMOID = 1, RELU = 2, TANH = 3, EXP = 4, SQRT = 5, NEG = 6, LEAKY = 7;
function unaryOp(op, v, alpha) {
  switch (op) {
    case ERF: return erf(v);
    case SIGMOID: return 1 / (1 + Math.exp(-v));
    case RELU: return v > 0 ? v : 0;
    case TANH: return Math.tanh(v);
    case EXP: return Math.exp(v);
    case SQRT: return Math.sqrt(v);
    case NEG: return -v;
    default: return v >= 0 ? v : alpha * v;
  }
}

function unary(x, op, alpha = 0) {
  const xs = x.data, out = new Float32Array(xs.length);
  for (let i = 0; i < out.length; i++) out[i] = unaryOp(op, xs[i], alpha);
  return new Value(out, x.dims);
}

// erf to ~1e-15 relative (W. J. Cody's rational approximations would do; this series / continued
// fraction pair is shorter): a Taylor series near 0, the complementary continued fraction beyond.
function erf(x) {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...)))), evaluated bottom up
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + (n / 2) / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}

// out (m x n) = op(a) (m x k) @ op(b) (k x n); the inner loop runs over contiguous memory when it can
function matmul2d(a, b, m, k, n, transA, transB) {
  const out = new Float32Array(m * n);
  const row = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) row[t] = transA ? a[t * m + i] : a[i * k + t];
    if (transB) {  // b is n x k: a dot product of two contiguous rows per output
      for (let j = 0; j < n; j++) {
        let s = 0;
        const base = j * k;
        for (let t = 0; t < k; t++) s += row[t] * b[base + t];
        out[i * n + j] = s;
      }
    } else {  // b is k x n: add each of its rows, scaled, into the output row
      const acc = new Float64Array(n);
      for (let t = 0; t < k; t++) {
        const v = row[t], base = t * n;
        for (let j = 0; j < n; j++) acc[j] += v * b[base + j];
      }
      for (let j = 0; j < n; j++) out[i * n + j] = acc[j];
    }
  }
  return out;
}

function gemm([a, b, c], attrs) {
  const transA = attrs.transA || 0, transB = attrs.transB || 0;
  const alpha = attrs.alpha ?? 1, beta = attrs.beta ?? 1;
  const m = transA ? a.dims[1] : a.dims[0], k = transA ? a.dims[0] : a.dims[1];
  const n = transB ? b.dims[0] : b.dims[1];
  let y = new Value(matmul2d(a.data, b.data, m, k, n, transA, transB), [m, n]);
  const scalar = (v) => new Value(Float64Array.of(v), []);
  if (alpha !== 1) y = broadcast(y, scalar(alpha), MUL);
  if (c) y = broadcast(y, beta === 1 ? c : broadcast(c, scalar(beta), MUL), ADD);
  return y;
}

function matmul([a, b]) {
  if (b.dims.length !== 2) throw new Error("MatMul: only a 2-D right-hand side is supported");
  const k = b.dims[0], n = b.dims[1];
  const m = a.size / k;
  return new Value(matmul2d(a.data, b.data, m, k, n, 0, 0), [...a.dims.slice(0, -1), n]);
}

function reshape([x, shape], attrs) {
  const wanted = Array.from(shape.data);
  const dims = wanted.map((d, i) => (d === 0 && !attrs.allowzero ? x.dims[i] : d));
  const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
  return new Value(x.data, dims.map((d) => (d === -1 ? x.size / known : d)));
}

function flatten([x], attrs) {
  const axis = attrs.axis ?? 1;
  const a = axis < 0 ? axis + x.dims.length : axis;
  return new Value(x.data, [prod(x.dims.slice(0, a)), prod(x.dims.slice(a))]);
}

// For each kernel tap k (offset k * dilation - pad): the positions p in [0, count) whose partner
// p * stride + offset lies in [0, size), as [first, last) in two arrays. Computed once per operator
// call, so the inner loops need no bounds checks and allocate nothing.
function spans(taps, count, size, stride, dilation, pad) {
  const first = new Int32Array(taps), last = new Int32Array(taps);
  for (let k = 0; k < taps; k++) {
    const offset = k * dilation - pad;
    let a = 0;
    while (a < count && a * stride + offset < 0) a++;
    let b = count;
    while (b > a && (b - 1) * stride + offset >= size) b--;
    first[k] = a; last[k] = b;
  }
  return [first, last];
}

// NCHW convolution (groups, pads, strides, dilations): for each weight, one strided multiply-add over
// the output positions it reaches
function conv([x, w, bias], attrs) {
  const [n, cin, h, wd] = x.dims, [cout, cpg, kh, kw] = w.dims;
  const groups = attrs.group || 1, [sh, sw] = attrs.strides?.length ? attrs.strides : [1, 1];
  const [dh, dw] = attrs.dilations?.length ? attrs.dilations : [1, 1];
  const [pt, pl, pb, pr] = attrs.pads?.length ? attrs.pads : [0, 0, 0, 0];
  if (attrs.auto_pad && attrs.auto_pad !== "NOTSET") throw new Error("Conv: auto_pad not supported");
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const xs = x.data, ws = w.data, plane = oh * ow;
  const acc = new Float64Array(n * cout * plane);
  const opg = cout / groups;
  const [ya, yb] = spans(kh, oh, h, sh, dh, pt), [xa, xb] = spans(kw, ow, wd, sw, dw, pl);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / opg), oBase = (b * cout + o) * plane;
      for (let c = 0; c < cpg; c++) {
        const xBase = (b * cin + g * cpg + c) * h * wd, wBase = (o * cpg + c) * kh * kw;
        for (let i = 0; i < kh; i++) {
          const y0 = ya[i], y1 = yb[i];
          for (let j = 0; j < kw; j++) {
            const v = ws[wBase + i * kw + j], x0 = xa[j], x1 = xb[j];
            for (let y = y0; y < y1; y++) {
              const src = xBase + (y * sh + i * dh - pt) * wd + j * dw - pl, dst = oBase + y * ow;
              for (let xo = x0; xo < x1; xo++) acc[dst + xo] += v * xs[src + xo * sw];
            }
          }
        }
      }
    }
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < out.length; i++) out[i] = acc[i] + (bias ? bias.data[Math.floor(i / plane) % cout] : 0);
  return new Value(out, [n, cout, oh, ow]);
}

// NCHW transposed convolution (one group): input position p reaches output p * stride - pad + k * dilation
function convTranspose([x, w, bias], attrs) {
  const [n, cin, h, wd] = x.dims, [, cout, kh, kw] = w.dims;
  if ((attrs.group || 1) !== 1) throw new Error("ConvTranspose: only group=1 is supported");
  const [sh, sw] = attrs.strides?.length ? attrs.strides : [1, 1];
  const [dh, dw] = attrs.dilations?.length ? attrs.dilations : [1, 1];
  const [pt, pl, pb, pr] = attrs.pads?.length ? attrs.pads : [0, 0, 0, 0];
  const [oph, opw] = attrs.output_padding?.length ? attrs.output_padding : [0, 0];
  if (attrs.output_shape?.length || (attrs.auto_pad && attrs.auto_pad !== "NOTSET")) {
    throw new Error("ConvTranspose: output_shape / auto_pad not supported");
  }
  const oh = sh * (h - 1) + oph + ((kh - 1) * dh + 1) - pt - pb;
  const ow = sw * (wd - 1) + opw + ((kw - 1) * dw + 1) - pl - pr;
  const xs = x.data, ws = w.data, plane = oh * ow;
  const acc = new Float64Array(n * cout * plane);
  const [ya, yb] = spans(kh, h, oh, sh, dh, pt), [xa, xb] = spans(kw, wd, ow, sw, dw, pl);  // input rows / columns
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < cin; c++) {
      const xBase = (b * cin + c) * h * wd;
      for (let o = 0; o < cout; o++) {
        const wBase = (c * cout + o) * kh * kw, oBase = (b * cout + o) * plane;
        for (let i = 0; i < kh; i++) {
          const y0 = ya[i], y1 = yb[i];
          for (let j = 0; j < kw; j++) {
            const v = ws[wBase + i * kw + j], x0 = xa[j], x1 = xb[j];
            for (let y = y0; y < y1; y++) {
              const src = xBase + y * wd, dst = oBase + (y * sh + i * dh - pt) * ow + j * dw - pl;
              for (let xi = x0; xi < x1; xi++) acc[dst + xi * sw] += v * xs[src + xi];
            }
          }
        }
      }
    }
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < out.length; i++) out[i] = acc[i] + (bias ? bias.data[Math.floor(i / plane) % cout] : 0);
  return new Value(out, [n, cout, oh, ow]);
}

// nearest up-sampling by whole factors (torch's nn.Upsample(mode="nearest") as exported)
function resize([x, , scales, sizes], attrs) {
  if ((attrs.mode || "nearest") !== "nearest") throw new Error(`Resize: mode ${attrs.mode} not supported`);
  const target = sizes && sizes.size ? Array.from(sizes.data)
    : x.dims.map((d, i) => Math.floor(d * scales.data[i]));
  const [n, c, h, w] = x.dims, [, , oh, ow] = target;
  if (oh % h || ow % w) throw new Error("Resize: only whole up-sampling factors are supported");
  const fy = oh / h, fx = ow / w;
  const out = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) out[(p * oh + y) * ow + xo] = x.data[(p * h + Math.floor(y / fy)) * w + Math.floor(xo / fx)];
    }
  }
  return new Value(out, [n, c, oh, ow]);
}

// Slice on any axes (steps of 1): the decoders' crop back to the image size
function slice([x, starts, ends, axes, steps]) {
  const rank = x.dims.length;
  const lo = new Array(rank).fill(0), hi = x.dims.slice();
  const ax = axes ? Array.from(axes.data) : Array.from(starts.data, (_, i) => i);
  ax.forEach((a0, i) => {
    if (steps && steps.data[i] !== 1) throw new Error("Slice: only step 1 is supported");
    const a = a0 < 0 ? a0 + rank : a0, d = x.dims[a];
    const clamp = (v) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    lo[a] = clamp(starts.data[i]); hi[a] = clamp(ends.data[i]);
  });
  const dims = hi.map((h, i) => Math.max(0, h - lo[i]));
  const out = new Float32Array(prod(dims));
  const so = strides(dims), sx = strides(x.dims);
  for (let i = 0; i < out.length; i++) {
    let rest = i, src = 0;
    for (let k = 0; k < rank; k++) { const c = Math.floor(rest / so[k]); rest -= c * so[k]; src += (c + lo[k]) * sx[k]; }
    out[i] = x.data[src];
  }
  return new Value(out, dims);
}

function clip([x, low, high], attrs) {
  const lo = low && low.size ? low.data[0] : (attrs.min ?? -Infinity);
  const hi = high && high.size ? high.data[0] : (attrs.max ?? Infinity);
  const xs = x.data, out = new Float32Array(xs.length);
  for (let i = 0; i < out.length; i++) out[i] = xs[i] < lo ? lo : xs[i] > hi ? hi : xs[i];
  return new Value(out, x.dims);
}

const OPS = {
  Add: ([a, b]) => broadcast(a, b, ADD),
  Sub: ([a, b]) => broadcast(a, b, SUB),
  Mul: ([a, b]) => broadcast(a, b, MUL),
  Div: ([a, b]) => broadcast(a, b, DIV),
  Max: ([a, b]) => broadcast(a, b, MAX),
  Min: ([a, b]) => broadcast(a, b, MIN),
  Erf: ([x]) => unary(x, ERF),
  Sigmoid: ([x]) => unary(x, SIGMOID),
  Relu: ([x]) => unary(x, RELU),
  LeakyRelu: ([x], attrs) => unary(x, LEAKY, attrs.alpha ?? 0.01),
  Tanh: ([x]) => unary(x, TANH),
  Exp: ([x]) => unary(x, EXP),
  Sqrt: ([x]) => unary(x, SQRT),
  Neg: ([x]) => unary(x, NEG),
  Identity: ([x]) => x,
  Clip: clip,
  Gemm: gemm,
  MatMul: matmul,
  Reshape: reshape,
  Flatten: flatten,
  Conv: conv,
  ConvTranspose: convTranspose,
  Resize: resize,
  Slice: slice,
  Constant: (_, attrs) => attrs.value,
};

/** The operators this runtime runs (dashboard/lesson/runtime.py keeps the same list). */
export const OPERATORS = Object.keys(OPS);

// -- the onnxruntime-web surface live.js uses ----------------------------------------------------

export const env = { wasm: {}, logLevel: "error" };

export class Tensor {
  constructor(type, data, dims) {
    if (type !== "float32") throw new Error(`tensor type ${type} not supported`);
    this.type = type; this.data = data; this.dims = dims;
  }
}

export class InferenceSession {
  constructor(graph) {
    this.graph = graph;
    this.inputNames = graph.inputs;
    this.outputNames = graph.outputs;
    const missing = [...new Set(graph.nodes.map((n) => n.op).filter((op) => !OPS[op]))];
    if (missing.length) throw new Error(`operators not supported by tiny_onnx: ${missing.join(", ")}`);
  }

  static async create(bytes) { return new InferenceSession(readModel(bytes)); }

  async run(feeds) {
    const values = new Map(this.graph.initializers);
    for (const [name, tensor] of Object.entries(feeds)) values.set(name, new Value(tensor.data, tensor.dims));
    for (const node of this.graph.nodes) {
      const inputs = node.inputs.map((name) => (name ? values.get(name) : undefined));
      const out = OPS[node.op](inputs, node.attrs);
      values.set(node.outputs[0], out);
    }
    const result = {};
    for (const name of this.outputNames) {
      const v = values.get(name);
      result[name] = { data: v.data instanceof Float32Array ? v.data : Float32Array.from(v.data), dims: v.dims };
    }
    return result;
  }
}

export default { env, Tensor, InferenceSession, OPERATORS };
