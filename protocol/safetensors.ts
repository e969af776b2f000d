// (protocol/: the KV wire format shared by the edge and every backend.)
// safetensors framing: the byte format every tensor of the KV wire protocol
// travels in (docs/kv-protocol.md). Layout: an 8-byte little-endian header
// length N, N bytes of JSON ({name: {dtype, shape, data_offsets}} plus an
// optional "__metadata__" map of strings), then the data buffer, which the
// tensors must cover exactly (no holes, no overlaps, no trailing bytes).
//
// The parser never trusts the header: every declared size is checked against
// the bytes actually present before anything is read, so a header claiming a
// terabyte tensor fails fast without allocating it. Tensors come back as views
// into the input; `readF32` / `readI32` copy into aligned arrays.

export type Dtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "U64" | "I32" | "U32" | "I16" | "U16" | "I8" | "U8" | "BOOL";

/** Bytes per element of each dtype this parser accepts. */
export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
};

const FLOAT_DTYPES = new Set<Dtype>(["F64", "F32", "F16", "BF16"]);

export interface Tensor {
  dtype: Dtype;
  shape: number[];
  /** The tensor's bytes: a view into the parsed buffer (little-endian). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export interface ParseLimits {
  /** Largest accepted JSON header in bytes; default 16 MiB. */
  maxHeaderBytes?: number;
  /** Largest accepted number of tensors; default 65 536. */
  maxTensors?: number;
  /** Accept NaN/±Inf in float tensors; default false. */
  allowNonFinite?: boolean;
}

/** A frame that is not valid safetensors; `message` says exactly what is wrong. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

function fail(message: string): never {
  throw new SafetensorsError(message);
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Views below reinterpret little-endian bytes directly.
  throw new Error("safetensors.ts assumes a little-endian host");
}

/** Parse one safetensors frame. Throws SafetensorsError on any inconsistency. */
export function parseSafetensors(input: Uint8Array, limits: ParseLimits = {}): SafetensorsFile {
  const maxHeader = limits.maxHeaderBytes ?? 16 * 1024 * 1024;
  const maxTensors = limits.maxTensors ?? 65536;
  if (input.byteLength < 8) fail(`truncated frame: ${input.byteLength} bytes, need at least 8 for the header length`);
  const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi !== 0 || lo > maxHeader) fail(`header length ${hi * 2 ** 32 + lo} exceeds the limit of ${maxHeader} bytes`);
  const headerLen = lo;
  if (8 + headerLen > input.byteLength) fail(`truncated frame: header declares ${headerLen} bytes but only ${input.byteLength - 8} follow`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(input.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail("header must be a JSON object");

  const data = input.subarray(8 + headerLen);
  // Null-prototype maps: a tensor or metadata key named "__proto__" is an ordinary key.
  const metadata: Record<string, string> = Object.create(null);
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail("__metadata__ must be an object of strings");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k} must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (entries.length >= maxTensors) fail(`more than ${maxTensors} tensors`);
    entries.push({ name, ...checkEntry(name, raw, data.byteLength) });
  }

  // Offsets must tile the data buffer exactly.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(`tensor "${e.name}" overlaps the previous tensor (begins at ${e.begin}, previous ends at ${cursor})`);
    if (e.begin > cursor) fail(`hole in the data buffer before tensor "${e.name}" (${cursor}..${e.begin})`);
    cursor = e.end;
  }
  if (cursor !== data.byteLength) fail(`data buffer has ${data.byteLength - cursor} trailing bytes not covered by any tensor`);

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const bytes = data.subarray(e.begin, e.end);
    if (!limits.allowNonFinite && FLOAT_DTYPES.has(e.dtype)) {
      const bad = firstNonFinite(e.dtype, bytes);
      if (bad >= 0) fail(`tensor "${e.name}" has a non-finite value at element ${bad}`);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes });
  }
  return { tensors, metadata };
}

function checkEntry(name: string, raw: unknown, dataBytes: number): { dtype: Dtype; shape: number[]; begin: number; end: number } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(`tensor "${name}": entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) fail(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || shape.length > 8) fail(`tensor "${name}": shape must be an array of at most 8 dimensions`);
  for (const s of shape) {
    if (!Number.isSafeInteger(s) || s < 0) fail(`tensor "${name}": shape entries must be non-negative integers, got ${JSON.stringify(s)}`);
  }
  let elems = shape.includes(0) ? 0 : 1;
  for (const s of shape as number[]) {
    if (elems === 0) break;
    elems *= s;
    // Bounded by the buffer actually present at every step, so the product never overflows unnoticed.
    if (elems * DTYPE_BYTES[dtype as Dtype] > dataBytes) fail(`tensor "${name}": shape ${JSON.stringify(shape)} of ${dtype} needs more bytes than the ${dataBytes}-byte data buffer holds`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) fail(`tensor "${name}": data_offsets must be [begin, end]`);
  const [begin, end] = offsets;
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
    fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} must be integers with 0 ≤ begin ≤ end`);
  }
  if (end > dataBytes) fail(`tensor "${name}": data_offsets end ${end} is past the end of the ${dataBytes}-byte data buffer`);
  const want = elems * DTYPE_BYTES[dtype as Dtype];
  if (end - begin !== want) fail(`tensor "${name}": ${end - begin} bytes for ${dtype} ${JSON.stringify(shape)}, expected ${want}`);
  return { dtype: dtype as Dtype, shape: shape as number[], begin, end };
}

function firstNonFinite(dtype: Dtype, bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "F32") {
    for (let i = 0; i * 4 < bytes.byteLength; i++) if (!Number.isFinite(dv.getFloat32(i * 4, true))) return i;
  } else if (dtype === "F64") {
    for (let i = 0; i * 8 < bytes.byteLength; i++) if (!Number.isFinite(dv.getFloat64(i * 8, true))) return i;
  } else if (dtype === "F16") {
    for (let i = 0; i * 2 < bytes.byteLength; i++) if ((dv.getUint16(i * 2, true) & 0x7c00) === 0x7c00) return i;
  } else if (dtype === "BF16") {
    for (let i = 0; i * 2 < bytes.byteLength; i++) if ((dv.getUint16(i * 2, true) & 0x7f80) === 0x7f80) return i;
  }
  return -1;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A named tensor of a file, or a clear error naming what is missing or wrong. */
export function requireTensor(file: SafetensorsFile, name: string, dtype: Dtype, shape?: readonly (number | null)[]): Tensor {
  const t = file.tensors.get(name);
  if (!t) fail(`missing tensor "${name}"`);
  if (t.dtype !== dtype) fail(`tensor "${name}" has dtype ${t.dtype}, expected ${dtype}`);
  if (shape && (shape.length !== t.shape.length || shape.some((s, i) => s !== null && s !== t.shape[i]))) {
    fail(`tensor "${name}" has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape.map((s) => s ?? "*"))}`);
  }
  return t;
}

/** Copy an F32 tensor into a fresh, aligned Float32Array. */
export function readF32(t: Tensor): Float32Array {
  if (t.dtype !== "F32") fail(`expected F32, got ${t.dtype}`);
  const out = new Float32Array(elementCount(t.shape));
  new Uint8Array(out.buffer).set(t.bytes);
  return out;
}

/** Copy an I32 tensor into a fresh, aligned Int32Array. */
export function readI32(t: Tensor): Int32Array {
  if (t.dtype !== "I32") fail(`expected I32, got ${t.dtype}`);
  const out = new Int32Array(elementCount(t.shape));
  new Uint8Array(out.buffer).set(t.bytes);
  return out;
}

export interface TensorInput {
  dtype: Dtype;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** A tensor's header entry before its data is at hand (streamed frames). */
export interface TensorSpec {
  dtype: Dtype;
  shape: readonly number[];
}

/**
 * The first bytes of a frame (u64 length, JSON header space-padded to 8 bytes)
 * for tensors whose data follows in the given order; lets a sender stream
 * the data without holding it (durable-objects/kv/frame-stream.ts).
 */
export function safetensorsHeader(specs: Iterable<[string, TensorSpec]>, metadata?: Record<string, string>): { header: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = Object.assign(Object.create(null), metadata);
  let offset = 0;
  for (const [name, t] of specs) {
    if (name === "__metadata__") throw new SafetensorsError('"__metadata__" is not a tensor name');
    if (!Object.hasOwn(DTYPE_BYTES, t.dtype)) throw new SafetensorsError(`tensor "${name}": unknown dtype ${t.dtype}`);
    const want = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + want] };
    offset += want;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength);
  new DataView(out.buffer).setUint32(0, json.byteLength, true);
  out.set(json, 8);
  return { header: out, dataBytes: offset };
}

/** Encode tensors (in the given order) and string metadata into one frame; the header is space-padded to 8 bytes. */
export function writeSafetensors(tensors: Iterable<[string, TensorInput]>, metadata?: Record<string, string>): Uint8Array {
  const list = [...tensors];
  for (const [name, t] of list) {
    if (!Object.hasOwn(DTYPE_BYTES, t.dtype)) continue; // reported by safetensorsHeader
    const want = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== want) throw new SafetensorsError(`tensor "${name}": ${t.data.byteLength} bytes for ${t.dtype} ${JSON.stringify(t.shape)}, expected ${want}`);
  }
  const { header, dataBytes } = safetensorsHeader(list, metadata);
  const out = new Uint8Array(header.byteLength + dataBytes);
  out.set(header);
  let at = header.byteLength;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
