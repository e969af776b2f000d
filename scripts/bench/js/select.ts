// Best plain-JS pooled keep-mask selection for the benchmark: the kernel's
// radix select on order-preserving u32 keys (wasm/assembly/select.ts) in
// typed arrays — 8-bit histograms instead of a sort, lower bytes resolved
// only on the entries that share the threshold's top byte.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function keyOf(x: number): number {
  if (x !== x) return 1; // NaN below every number
  f32[0] = x;
  let bits = u32[0]!;
  if (bits === 0x80000000) bits = 0;
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

/** Pooled selection: keep protected positions in every head, then the best budget·H − protected entries. */
export function jsSelectPooled(scores: Float32Array, heads: number, budget: number, protect: Uint8Array | undefined, mask: Uint8Array, keys: Uint32Array, list: Uint32Array): void {
  const n = scores.length / heads;
  const total = scores.length;
  let protectedCount = 0;
  if (protect) for (let i = 0; i < n; i++) protectedCount += protect[i] ? 1 : 0;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const p = protect !== undefined && protect[i] !== 0;
      mask[h * n + i] = p ? 1 : 0;
      keys[h * n + i] = p ? 0 : keyOf(scores[h * n + i]!);
    }
  }
  const take = (Math.min(budget, n) - protectedCount) * heads;
  if (take <= 0) return;
  if (take >= (n - protectedCount) * heads) {
    mask.fill(1);
    return;
  }
  // top byte over all keys, then the lower bytes only for entries sharing the threshold's top byte
  const histogram = new Uint32Array(256);
  for (let i = 0; i < total; i++) histogram[keys[i]! >>> 24]!++;
  let need = take;
  let top = 255;
  for (; top > 0; top--) {
    if (histogram[top]! >= need) break;
    need -= histogram[top]!;
  }
  let listed = 0;
  for (let i = 0; i < total; i++) {
    const byte = keys[i]! >>> 24;
    if (byte > top) mask[i] = 1;
    else if (byte === top) list[listed++] = i;
  }
  let prefix = (top << 24) >>> 0;
  let prefixMask = 0xff000000;
  for (let shift = 16; shift >= 0; shift -= 8) {
    histogram.fill(0);
    for (let j = 0; j < listed; j++) {
      const key = keys[list[j]!]!;
      if (((key & prefixMask) >>> 0) === prefix) histogram[(key >>> shift) & 255]!++;
    }
    let b = 255;
    for (; b > 0; b--) {
      if (histogram[b]! >= need) break;
      need -= histogram[b]!;
    }
    prefix = (prefix | (b << shift)) >>> 0;
    prefixMask = (prefixMask | (255 << shift)) >>> 0;
  }
  for (let j = 0; j < listed; j++) {
    const i = list[j]!;
    const key = keys[i]!;
    if (key > prefix) mask[i] = 1;
    else if (key === prefix && need > 0) {
      mask[i] = 1;
      need--;
    }
  }
}
