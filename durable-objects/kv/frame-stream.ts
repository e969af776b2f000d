// A prefill/decode request frame (docs/kv-protocol.md, "Frames") built
// from an episode cache's stored pages without materialising the cache: the
// header needs only the entry counts per head, then the data is produced one
// head at a time (positions, keys, values), straight from the page blobs.
// int8 pages go on the wire as stored (their quantization groups tile the
// head, pages.ts); fp32 and int4 pages travel as F32.
//
// Bound: besides the header, a reader of the stream holds one head of one
// layer (its pages and the chunks cut from them) at a time.
import type { Kernels } from "../../wasm/src/kernels";
import { safetensorsHeader, type TensorSpec } from "../../protocol/safetensors";
import type { KvModelInfo } from "./model-info";
import type { KvPageStore } from "./page-store";
import { parsePage, toF32, type PageEncoding } from "./pages";

export const KV_PROTOCOL = "epikv-kv/1";

export interface StreamedFrame {
  byteLength: number;
  /** Frame bytes in order; each chunk is fresh (safe to hand to a stream). */
  chunks(): Generator<Uint8Array>;
  /** Entries carried (positions over all layers and heads). */
  entries: number;
}

function wireIsInt8(enc: PageEncoding): boolean {
  return enc.dtype === "int8";
}

/** Tensor names and specs of one head on the wire, in data order. */
function headSpecs(l: number, h: number, n: number, d: number, enc: PageEncoding): [string, TensorSpec][] {
  const p = `kv.${l}.${h}.`;
  const out: [string, TensorSpec][] = [[p + "positions", { dtype: "I32", shape: [n] }]];
  for (const part of ["keys", "values"]) {
    if (!wireIsInt8(enc)) out.push([p + part, { dtype: "F32", shape: [n, d] }]);
    else {
      const groups = Math.ceil((n * d) / (enc as { groupSize: number }).groupSize);
      out.push([`${p}${part}.q`, { dtype: "U8", shape: [n, d] }], [`${p}${part}.scales`, { dtype: "F32", shape: [groups] }], [`${p}${part}.zeros`, { dtype: "F32", shape: [groups] }]);
    }
  }
  return out;
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Frame with the cache's KV (all layers × heads, n may be 0) and the JSON request as metadata. */
export function kvRequestFrame(store: KvPageStore, cache: string, model: KvModelInfo, enc: PageEncoding, request: unknown, q: Pick<Kernels, "dequantize">): StreamedFrame {
  const counts = Array.from({ length: model.layers }, (_, l) => store.headCounts(cache, l, model.kvHeads));
  const specs: [string, TensorSpec][] = [];
  counts.forEach((layer, l) => layer.forEach((n, h) => specs.push(...headSpecs(l, h, n, model.headDim, enc))));
  const metadata: Record<string, string> = { protocol: KV_PROTOCOL, request: JSON.stringify(request) };
  if (wireIsInt8(enc)) Object.assign(metadata, { kv_dtype: "int8", kv_group_size: String((enc as { groupSize: number }).groupSize) });
  else metadata.kv_dtype = "F32";
  const { header, dataBytes } = safetensorsHeader(specs, metadata);
  const d = model.headDim;
  function* headBytes(): Generator<Uint8Array> {
    for (let l = 0; l < model.layers; l++) {
      for (let h = 0; h < model.kvHeads; h++) {
        const pages = store.readHead(cache, l, h).map((p) => parsePage(p, d, enc));
        const n = pages.reduce((s, p) => s + p.positions.length, 0);
        if (n !== counts[l][h]) throw new Error(`kv cache ${cache} layer ${l} head ${h} changed while streaming (${counts[l][h]} → ${n} entries)`);
        for (const p of pages) yield bytesOf(p.positions);
        for (const part of ["keys", "values"] as const) {
          if (!wireIsInt8(enc)) for (const p of pages) yield bytesOf(toF32(p[part], q));
          else {
            for (const p of pages) yield bytesOf((p[part] as { data: Uint8Array }).data);
            for (const p of pages) yield bytesOf((p[part] as { scales: Float32Array }).scales);
            for (const p of pages) yield bytesOf((p[part] as { zeros: Float32Array }).zeros);
          }
        }
      }
    }
  }
  return {
    byteLength: header.byteLength + dataBytes,
    entries: counts.flat().reduce((a, b) => a + b, 0),
    *chunks() {
      // Pinned until the last byte (or the stream's end): a fold's later swap drops this generation only after.
      store.pin(cache);
      try {
        yield header;
        yield* headBytes();
      } finally {
        store.unpin(cache);
      }
    },
  };
}

/** The frame as one buffer (for tests and small caches). */
export function frameBytes(f: StreamedFrame): Uint8Array {
  const out = new Uint8Array(f.byteLength);
  let at = 0;
  for (const c of f.chunks()) {
    out.set(c, at);
    at += c.byteLength;
  }
  if (at !== f.byteLength) throw new Error(`frame produced ${at} bytes, header announced ${f.byteLength}`);
  return out;
}
