// One layer of one episode's KV cache while the edge works on it: per KV
// head, the retained absolute positions (strictly increasing) with their
// post-RoPE keys and values, and, for policies that keep running statistics
// (H2O), one accumulated score per entry. Heads of a layer may retain
// different positions (pooled budgets, docs/architecture.md, EpiCache step 5). Only one
// layer is ever held at a time (docs/kv-mode.md, "Memory bound").

export interface HeadEntries {
  positions: Int32Array; // n
  keys: Float32Array; // n × headDim, post-RoPE
  values: Float32Array; // n × headDim
  /** Running per-entry score (H2O's accumulated attention); absent for stateless policies. */
  acc?: Float32Array; // n
}

export type LayerEntries = HeadEntries[];

export function emptyHead(): HeadEntries {
  return { positions: new Int32Array(0), keys: new Float32Array(0), values: new Float32Array(0) };
}

/** Bytes of the typed arrays a layer holds (what the memory meter counts). */
export function layerBytes(layer: readonly HeadEntries[]): number {
  let b = 0;
  for (const h of layer) b += h.positions.byteLength + h.keys.byteLength + h.values.byteLength + (h.acc?.byteLength ?? 0);
  return b;
}

export function entryCount(layer: readonly HeadEntries[]): number {
  return layer.reduce((s, h) => s + h.positions.length, 0);
}

function cat<T extends Int32Array | Float32Array>(a: T, b: T, make: new (n: number) => T): T {
  const out = new make(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `cached` followed by the block's entries, head by head; the block's positions must follow the cache's. */
export function appendBlock(cached: readonly HeadEntries[], block: readonly HeadEntries[], withAcc: boolean): LayerEntries {
  if (cached.length !== block.length) throw new RangeError(`appendBlock: ${cached.length} cached heads but ${block.length} block heads`);
  return cached.map((h, i) => {
    const b = block[i];
    const last = h.positions.length ? h.positions[h.positions.length - 1] : -1;
    if (b.positions.length && b.positions[0] <= last) throw new RangeError(`appendBlock: block position ${b.positions[0]} does not follow cached position ${last} (head ${i})`);
    const out: HeadEntries = { positions: cat(h.positions, b.positions, Int32Array), keys: cat(h.keys, b.keys, Float32Array), values: cat(h.values, b.values, Float32Array) };
    if (withAcc) out.acc = cat(h.acc ?? new Float32Array(h.positions.length), b.acc ?? new Float32Array(b.positions.length), Float32Array);
    return out;
  });
}

/** The entries of `head` whose index has keep[i] ≠ 0, order preserved. */
export function gatherHead(head: HeadEntries, keep: ArrayLike<number>, headDim: number): HeadEntries {
  let n = 0;
  for (let i = 0; i < head.positions.length; i++) if (keep[i]) n++;
  const out: HeadEntries = { positions: new Int32Array(n), keys: new Float32Array(n * headDim), values: new Float32Array(n * headDim) };
  if (head.acc) out.acc = new Float32Array(n);
  let j = 0;
  for (let i = 0; i < head.positions.length; i++) {
    if (!keep[i]) continue;
    out.positions[j] = head.positions[i];
    out.keys.set(head.keys.subarray(i * headDim, (i + 1) * headDim), j * headDim);
    out.values.set(head.values.subarray(i * headDim, (i + 1) * headDim), j * headDim);
    if (out.acc) out.acc[j] = head.acc![i];
    j++;
  }
  return out;
}

/**
 * The sorted union of the heads' positions and, per head, the union index of
 * each of its entries. selectKeep takes one length-n row per head; heads that
 * retained different positions are laid out on the union, absent cells scored
 * NaN (ranked below every number) and masked out afterwards.
 */
export function unionLayout(layer: readonly HeadEntries[]): { positions: Int32Array; index: Int32Array[] } {
  const all = new Set<number>();
  for (const h of layer) for (const p of h.positions) all.add(p);
  const positions = Int32Array.from([...all].sort((a, b) => a - b));
  const at = new Map<number, number>();
  positions.forEach((p, i) => at.set(p, i));
  return { positions, index: layer.map((h) => Int32Array.from(h.positions, (p) => at.get(p)!)) };
}
