// KV caches inside a safetensors frame (docs/kv-protocol.md, "KV tensors").
// Per layer l and KV head h:
//   kv.{l}.{h}.positions  I32 [n]          strictly increasing absolute positions
//   kv.{l}.{h}.keys       F32 [n, headDim]  post-RoPE keys        (fp32 encoding)
//   kv.{l}.{h}.values     F32 [n, headDim]
// or, in the int8 encoding (metadata kv_dtype = "int8", kv_group_size = G),
//   kv.{l}.{h}.keys.q U8 [n, headDim], kv.{l}.{h}.keys.scales F32 [⌈n·headDim/G⌉],
//   kv.{l}.{h}.keys.zeros F32 [same], and likewise for values.
import type { ModelConfig } from "../model/config";
import { checkKv, emptyKv, KvError, type KvCache } from "../model/kv";
import { readF32, readI32, requireTensor, SafetensorsError, type SafetensorsFile, type TensorInput } from "../../protocol/safetensors";
import { ProtocolError } from "./errors";
import { epikvKernels } from "../kernels";

/** Group sizes of the int8 encoding: the `quantize` kernel's (wasm/src/kernels.ts), x ≈ q · scale + zero per group. */
export const KV_GROUP_SIZES = [32, 64, 128] as const;
type KvGroupSize = (typeof KV_GROUP_SIZES)[number];

export type KvEncoding = { dtype: "F32" } | { dtype: "int8"; groupSize: KvGroupSize };

export function kvEncodingMetadata(e: KvEncoding): Record<string, string> {
  return e.dtype === "F32" ? { kv_dtype: "F32" } : { kv_dtype: "int8", kv_group_size: String(e.groupSize) };
}

/** Tensors of `kv` in layer, head order. */
export function kvTensors(kv: KvCache, headDim: number, enc: KvEncoding = { dtype: "F32" }): [string, TensorInput][] {
  const out: [string, TensorInput][] = [];
  kv.forEach((layer, l) =>
    layer.forEach((h, k) => {
      const n = h.positions.length, p = `kv.${l}.${k}.`;
      out.push([p + "positions", { dtype: "I32", shape: [n], data: h.positions }]);
      for (const part of ["keys", "values"] as const) {
        if (enc.dtype === "F32") out.push([p + part, { dtype: "F32", shape: [n, headDim], data: h[part] }]);
        else {
          const g = epikvKernels().quantize(h[part], 8, enc.groupSize);
          out.push(
            [`${p}${part}.q`, { dtype: "U8", shape: [n, headDim], data: g.data }],
            [`${p}${part}.scales`, { dtype: "F32", shape: [g.scales.length], data: g.scales }],
            [`${p}${part}.zeros`, { dtype: "F32", shape: [g.zeros.length], data: g.zeros }],
          );
        }
      }
    }),
  );
  return out;
}

function encodingOf(meta: Record<string, string>): KvEncoding {
  const dtype = meta.kv_dtype ?? "F32";
  if (dtype === "F32") return { dtype };
  if (dtype !== "int8") throw new ProtocolError("invalid_kv", `unknown kv_dtype "${dtype}" (expected "F32" or "int8")`, "kv_dtype");
  const g = Number(meta.kv_group_size);
  if (!(KV_GROUP_SIZES as readonly number[]).includes(g)) {
    throw new ProtocolError("invalid_kv", `kv_group_size must be one of ${KV_GROUP_SIZES.join(", ")}, got "${meta.kv_group_size}"`, "kv_group_size");
  }
  return { dtype, groupSize: g as KvGroupSize };
}

/**
 * The KV cache a frame carries, or null when it has no kv.* tensors. Every
 * layer and head must be present; stray kv.* names, wrong shapes or dtypes,
 * and bad positions are errors naming the tensor.
 */
export function readKv(file: SafetensorsFile, c: ModelConfig): KvCache | null {
  const names = [...file.tensors.keys()].filter((n) => n.startsWith("kv."));
  if (names.length === 0) return null;
  const enc = encodingOf(file.metadata);
  const expected = new Set(kvTensors(emptyKv(c), c.headDim, enc).map(([n]) => n));
  for (const n of names) if (!expected.has(n)) throw new ProtocolError("invalid_kv", `unexpected tensor "${n}" (model has ${c.layers} layers × ${c.kvHeads} KV heads, kv_dtype ${enc.dtype})`, n);
  try {
    const kv: KvCache = [];
    for (let l = 0; l < c.layers; l++) {
      const layer = [];
      for (let k = 0; k < c.kvHeads; k++) {
        const p = `kv.${l}.${k}.`;
        const positions = readI32(requireTensor(file, p + "positions", "I32", [null]));
        const n = positions.length;
        const part = (name: "keys" | "values"): Float32Array => {
          if (enc.dtype === "F32") return readF32(requireTensor(file, p + name, "F32", [n, c.headDim]));
          const groups = Math.ceil((n * c.headDim) / enc.groupSize);
          const q = requireTensor(file, `${p}${name}.q`, "U8", [n, c.headDim]).bytes;
          const scales = readF32(requireTensor(file, `${p}${name}.scales`, "F32", [groups]));
          const zeros = readF32(requireTensor(file, `${p}${name}.zeros`, "F32", [groups]));
          try {
            return epikvKernels().dequantize({ bits: 8, groupSize: enc.groupSize, length: q.length, data: q, scales, zeros });
          } catch (e) {
            if (e instanceof RangeError) throw new ProtocolError("invalid_kv", `${p}${name}: ${e.message}`, `${p}${name}.scales`);
            throw e;
          }
        };
        layer.push({ positions, keys: part("keys"), values: part("values") });
      }
      kv.push(layer);
    }
    checkKv(c, kv);
    return kv;
  } catch (e) {
    if (e instanceof SafetensorsError || e instanceof KvError) throw new ProtocolError(e instanceof KvError ? "invalid_positions" : "invalid_kv", e.message);
    throw e;
  }
}
