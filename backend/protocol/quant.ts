// int8 group-wise asymmetric quantization of KV tensors on the wire:
// x ≈ q · scale + zero, q ∈ [0, 255], one (scale, zero) per group of
// `groupSize` consecutive values of the flattened n × headDim tensor. This is
// the same scheme as the `quantize`/`dequantize` kernels of wasm/src/kernels.ts
// (8-bit case); the backend keeps its own copy because it only needs the
// wire format, not the Durable Object's kernels.

export const KV_GROUP_SIZES = [32, 64, 128] as const;

export interface Int8Groups {
  q: Uint8Array;
  scales: Float32Array;
  zeros: Float32Array;
}

export function quantizeInt8(x: Float32Array, groupSize: number): Int8Groups {
  const groups = Math.ceil(x.length / groupSize);
  const q = new Uint8Array(x.length), scales = new Float32Array(groups), zeros = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const a = g * groupSize, b = Math.min(x.length, a + groupSize);
    let lo = Infinity, hi = -Infinity;
    for (let i = a; i < b; i++) {
      lo = Math.min(lo, x[i]);
      hi = Math.max(hi, x[i]);
    }
    const scale = (hi - lo) / 255;
    scales[g] = scale;
    zeros[g] = lo;
    for (let i = a; i < b; i++) q[i] = scale > 0 ? Math.min(255, Math.max(0, Math.round((x[i] - lo) / scale))) : 0;
  }
  return { q, scales, zeros };
}

export function dequantizeInt8(g: Int8Groups, groupSize: number): Float32Array {
  const out = new Float32Array(g.q.length);
  for (let i = 0; i < out.length; i++) {
    const k = Math.floor(i / groupSize);
    out[i] = g.q[i] * g.scales[k] + g.zeros[k];
  }
  return out;
}
