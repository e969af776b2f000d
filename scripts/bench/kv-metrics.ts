// What the kv policy benchmarks measure, shared by the random-model bench
// (scripts/bench-kv-policies.ts) and the recall bench (kv-recall-bench.ts):
// next-token distributions and the attention-output error of a policy's
// cache against the full cache, with the same queries and tail KV.
import { readF32, requireTensor, type SafetensorsFile } from "../../protocol/safetensors";
import type { Kernels } from "../../wasm/src/kernels";
import type { KvModelInfo } from "../../durable-objects/kv/model-info";
import type { KvPageStore } from "../../durable-objects/kv/page-store";
import { decodeHeadPages, type PageEncoding } from "../../durable-objects/kv/pages";

export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const p = Float64Array.from(logits, (x) => Math.exp(x - max));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / s);
}

export function kl(p: Float64Array, q: Float64Array): number {
  let d = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) d += p[i] * Math.log(p[i] / Math.max(q[i], 1e-30));
  return d;
}

export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Attention output of one query row over keys/values (n × d). */
function attend(q: Float32Array, keys: Float32Array, values: Float32Array, d: number): Float64Array {
  const n = keys.length / d;
  const s = new Float64Array(n);
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    let dot = 0;
    for (let i = 0; i < d; i++) dot += q[i] * keys[j * d + i];
    s[j] = dot / Math.sqrt(d);
    max = Math.max(max, s[j]);
  }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += s[j] = Math.exp(s[j] - max);
  const o = new Float64Array(d);
  for (let j = 0; j < n; j++) for (let i = 0; i < d; i++) o[i] += (s[j] / sum) * values[j * d + i];
  return o;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export interface CacheRef {
  store: KvPageStore;
  cache: string;
}

/**
 * Mean relative error ‖o_policy − o_full‖/‖o_full‖ of the last query token's
 * attention output per layer and query head, policy cache vs full cache; the
 * queries and the tail KV come from `run` (a full-cache prefill of T tokens
 * with return_block_queries and return_kv).
 */
export function attentionError(ctx: { model: KvModelInfo; encoding: PageEncoding; kernels: Kernels }, full: CacheRef, pol: CacheRef, run: SafetensorsFile, T: number): number {
  const { model, encoding, kernels } = ctx;
  const d = model.headDim, g = model.heads / model.kvHeads;
  let total = 0, count = 0;
  for (let l = 0; l < model.layers; l++) {
    const Q = readF32(requireTensor(run, `block.queries.${l}`, "F32"));
    for (let h = 0; h < model.kvHeads; h++) {
      const tailK = readF32(requireTensor(run, `kv.${l}.${h}.keys`, "F32"));
      const tailV = readF32(requireTensor(run, `kv.${l}.${h}.values`, "F32"));
      const f = decodeHeadPages(full.store.readHead(full.cache, l, h), d, encoding, kernels);
      const p = decodeHeadPages(pol.store.readHead(pol.cache, l, h), d, encoding, kernels);
      const fk = concat(f.keys, tailK), fv = concat(f.values, tailV), pk = concat(p.keys, tailK), pv = concat(p.values, tailV);
      for (let qh = h * g; qh < (h + 1) * g; qh++) {
        const q = Q.subarray((qh * T + T - 1) * d, (qh * T + T) * d);
        const of = attend(q, fk, fv, d), op = attend(q, pk, pv, d);
        let num = 0, den = 0;
        for (let i = 0; i < d; i++) {
          num += (op[i] - of[i]) ** 2;
          den += of[i] ** 2;
        }
        total += Math.sqrt(num / Math.max(den, 1e-30));
        count++;
      }
    }
  }
  return total / count;
}
