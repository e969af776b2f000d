// KV pages: how one head's retained entries are stored in SQLite rows
// (docs/architecture.md "Storage": rows well under 2 MB, paged by episode, layer
// and token range). A page holds up to `pageEntries` consecutive entries of
// one KV head as one blob:
//
//   positions I32[n] | acc F32[n] (if kept) | keys | values
//
// where keys/values are fp32 [n·d], or group-quantized (the `quantize`
// kernel: x ≈ q·scale + zero per group of G values) as
//   q U8[n·d] (int8) or U8[⌈n·d/2⌉] (int4, low nibble first) | scales F32[⌈n·d/G⌉] | zeros F32[⌈n·d/G⌉].
//
// pageEntries·d is a multiple of G, so the groups of consecutive pages are
// the groups of the whole head: int8 pages go on the wire as they are.
import type { Kernels, QuantGroup, QuantizedTensor } from "../../wasm/src/kernels";
import type { HeadEntries } from "./layer-cache";

export type PageEncoding = { dtype: "fp32" } | { dtype: "int8" | "int4"; groupSize: QuantGroup };
export const DEFAULT_PAGE_ENCODING: PageEncoding = { dtype: "int8", groupSize: 64 };
/** Rows stay far below SQLite's/Durable Objects' 2 MB row limit. */
export const MAX_PAGE_BYTES = 512 * 1024;

export interface StoredPage {
  head: number;
  page: number;
  firstPosition: number;
  lastPosition: number;
  count: number;
  hasAcc: boolean;
  blob: Uint8Array;
}

type Quant = Pick<Kernels, "quantize" | "dequantize">;

/** Entries per page for a head dimension: as many as fit MAX_PAGE_BYTES (≤ 1024), a multiple of the group's rows. */
export function pageEntries(headDim: number, enc: PageEncoding): number {
  const perEntry = 8 + 2 * headDim * 4;
  let n = Math.min(1024, Math.floor(MAX_PAGE_BYTES / perEntry));
  if (enc.dtype !== "fp32") {
    const step = enc.groupSize / gcd(enc.groupSize, headDim);
    n = Math.max(step, n - (n % step));
  }
  return Math.max(1, n);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function tensorBytes(values: number, enc: PageEncoding): number {
  if (enc.dtype === "fp32") return values * 4;
  const q = enc.dtype === "int8" ? values : Math.ceil(values / 2);
  return q + 8 * Math.ceil(values / enc.groupSize);
}

export function pageBlobBytes(n: number, headDim: number, enc: PageEncoding, hasAcc: boolean): number {
  return n * 4 + (hasAcc ? n * 4 : 0) + 2 * tensorBytes(n * headDim, enc);
}

class Writer {
  at = 0;
  constructor(readonly out: Uint8Array) {}
  put(v: ArrayBufferView): void {
    this.out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), this.at);
    this.at += v.byteLength;
  }
}

class Reader {
  at = 0;
  constructor(readonly blob: Uint8Array) {}
  bytes(n: number): Uint8Array {
    if (this.at + n > this.blob.byteLength) throw new RangeError(`kv page blob truncated: need ${this.at + n} bytes, have ${this.blob.byteLength}`);
    const b = this.blob.slice(this.at, this.at + n);
    this.at += n;
    return b;
  }
  f32(n: number): Float32Array {
    return new Float32Array(this.bytes(n * 4).buffer);
  }
  i32(n: number): Int32Array {
    return new Int32Array(this.bytes(n * 4).buffer);
  }
}

function putTensor(w: Writer, values: Float32Array, enc: PageEncoding, q: Quant): void {
  if (enc.dtype === "fp32") return w.put(values);
  const t = q.quantize(values, enc.dtype === "int8" ? 8 : 4, enc.groupSize);
  w.put(t.data);
  w.put(t.scales);
  w.put(t.zeros);
}

/** The quantized form of a tensor in a page (for int8 on the wire), or fp32 values. */
export function readTensor(r: Reader, length: number, enc: PageEncoding): Float32Array | QuantizedTensor {
  if (enc.dtype === "fp32") return r.f32(length);
  const groups = Math.ceil(length / enc.groupSize);
  const data = r.bytes(enc.dtype === "int8" ? length : Math.ceil(length / 2));
  return { bits: enc.dtype === "int8" ? 8 : 4, groupSize: enc.groupSize, length, data, scales: r.f32(groups), zeros: r.f32(groups) };
}

/** Splits one head's entries into pages. */
export function encodeHeadPages(head: HeadEntries, headIndex: number, headDim: number, enc: PageEncoding, q: Quant): StoredPage[] {
  const per = pageEntries(headDim, enc);
  const pages: StoredPage[] = [];
  const hasAcc = head.acc !== undefined;
  for (let from = 0, page = 0; from < head.positions.length; from += per, page++) {
    const to = Math.min(head.positions.length, from + per), n = to - from;
    const blob = new Uint8Array(pageBlobBytes(n, headDim, enc, hasAcc));
    const w = new Writer(blob);
    w.put(head.positions.subarray(from, to));
    if (hasAcc) w.put(head.acc!.subarray(from, to));
    putTensor(w, head.keys.subarray(from * headDim, to * headDim), enc, q);
    putTensor(w, head.values.subarray(from * headDim, to * headDim), enc, q);
    if (w.at !== blob.byteLength) throw new Error(`kv page encoder wrote ${w.at} of ${blob.byteLength} bytes`);
    pages.push({ head: headIndex, page, firstPosition: head.positions[from], lastPosition: head.positions[to - 1], count: n, hasAcc, blob });
  }
  return pages;
}

export interface DecodedPage {
  positions: Int32Array;
  acc?: Float32Array;
  keys: Float32Array | QuantizedTensor;
  values: Float32Array | QuantizedTensor;
}

export function parsePage(p: StoredPage, headDim: number, enc: PageEncoding): DecodedPage {
  const r = new Reader(p.blob);
  const positions = r.i32(p.count);
  const acc = p.hasAcc ? r.f32(p.count) : undefined;
  const keys = readTensor(r, p.count * headDim, enc);
  const values = readTensor(r, p.count * headDim, enc);
  if (r.at !== p.blob.byteLength) throw new RangeError(`kv page (head ${p.head}, page ${p.page}) has ${p.blob.byteLength - r.at} trailing bytes`);
  return { positions, acc, keys, values };
}

export function toF32(t: Float32Array | QuantizedTensor, q: Pick<Kernels, "dequantize">): Float32Array {
  return t instanceof Float32Array ? t : q.dequantize(t);
}

/** Reassembles one head from its pages (in page order), dequantized to fp32. */
export function decodeHeadPages(pages: readonly StoredPage[], headDim: number, enc: PageEncoding, q: Pick<Kernels, "dequantize">): HeadEntries {
  const n = pages.reduce((s, p) => s + p.count, 0);
  const hasAcc = pages.length > 0 && pages.every((p) => p.hasAcc);
  const out: HeadEntries = { positions: new Int32Array(n), keys: new Float32Array(n * headDim), values: new Float32Array(n * headDim) };
  if (hasAcc) out.acc = new Float32Array(n);
  let at = 0;
  for (const p of pages) {
    const d = parsePage(p, headDim, enc);
    out.positions.set(d.positions, at);
    if (hasAcc) out.acc!.set(d.acc!, at);
    out.keys.set(toF32(d.keys, q), at * headDim);
    out.values.set(toF32(d.values, q), at * headDim);
    at += p.count;
  }
  return out;
}
