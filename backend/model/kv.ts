// A KV cache as the wire protocol carries it: per layer, per KV head, the
// retained absolute positions (strictly increasing) with their post-RoPE keys
// and values. Heads of one layer may retain different positions (AdaKV-style
// pooled budgets, docs/architecture.md, EpiCache step 5).
import type { ModelConfig } from "./config";

export interface HeadKv {
  positions: Int32Array; // n
  keys: Float32Array; // n × headDim, post-RoPE
  values: Float32Array; // n × headDim
}
export type LayerKv = HeadKv[];
export type KvCache = LayerKv[];

/** Bad KV or positions supplied by a caller; the message names the offending entry. */
export class KvError extends Error {
  override name = "KvError";
}

export function emptyKv(c: ModelConfig): KvCache {
  return Array.from({ length: c.layers }, () =>
    Array.from({ length: c.kvHeads }, () => ({ positions: new Int32Array(0), keys: new Float32Array(0), values: new Float32Array(0) })),
  );
}

/** a followed by b, head by head (b's positions must all come after a's). */
export function concatKv(a: KvCache, b: KvCache): KvCache {
  return a.map((layer, l) =>
    layer.map((h, k) => {
      const o = b[l][k];
      const cat = <T extends Int32Array | Float32Array>(x: T, y: T, make: new (n: number) => T): T => {
        const out = new make(x.length + y.length);
        out.set(x);
        out.set(y, x.length);
        return out;
      };
      return { positions: cat(h.positions, o.positions, Int32Array), keys: cat(h.keys, o.keys, Float32Array), values: cat(h.values, o.values, Float32Array) };
    }),
  );
}

/** Keep, in every head, the entries whose position satisfies `keep`. */
export function filterKv(kv: KvCache, keep: (layer: number, head: number, position: number) => boolean, headDim: number): KvCache {
  return kv.map((layer, l) =>
    layer.map((h, k) => {
      const idx = [...h.positions.keys()].filter((i) => keep(l, k, h.positions[i]));
      const pick = (src: Float32Array) => {
        const out = new Float32Array(idx.length * headDim);
        idx.forEach((i, j) => out.set(src.subarray(i * headDim, (i + 1) * headDim), j * headDim));
        return out;
      };
      return { positions: Int32Array.from(idx, (i) => h.positions[i]), keys: pick(h.keys), values: pick(h.values) };
    }),
  );
}

export function kvEntries(kv: KvCache): number {
  return kv.reduce((s, layer) => s + layer.reduce((t, h) => t + h.positions.length, 0), 0);
}

/** The largest position in the cache, or -1 when empty. */
export function lastPosition(kv: KvCache): number {
  let last = -1;
  for (const layer of kv) for (const h of layer) if (h.positions.length) last = Math.max(last, h.positions[h.positions.length - 1]);
  return last;
}

/** Structure, position order and range of a cache against a model; throws KvError. */
export function checkKv(c: ModelConfig, kv: KvCache): void {
  if (kv.length !== c.layers) throw new KvError(`kv has ${kv.length} layers, model has ${c.layers}`);
  kv.forEach((layer, l) => {
    if (layer.length !== c.kvHeads) throw new KvError(`kv layer ${l} has ${layer.length} heads, model has ${c.kvHeads} KV heads`);
    layer.forEach((h, k) => {
      const n = h.positions.length;
      if (h.keys.length !== n * c.headDim || h.values.length !== n * c.headDim) {
        throw new KvError(`kv layer ${l} head ${k}: ${n} positions need ${n}×${c.headDim} keys and values`);
      }
      checkPositions(c, h.positions, `kv layer ${l} head ${k}`);
    });
  });
}

/** Integers in [0, maxPositions), strictly increasing. */
export function checkPositions(c: ModelConfig, positions: ArrayLike<number>, what: string): void {
  let prev = -1;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    if (!Number.isInteger(p) || p < 0 || p >= c.maxPositions) throw new KvError(`${what}: position ${p} at index ${i} is outside [0, ${c.maxPositions})`);
    if (p <= prev) throw new KvError(`${what}: positions must be strictly increasing (${prev} then ${p} at index ${i})`);
    prev = p;
  }
}
