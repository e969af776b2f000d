// mulberry32: the one seeded PRNG of the project (k-means++ seeding, model
// weights, workloads, generated conversations). Bit-identical to the
// AssemblyScript copy in wasm/assembly/kmeans.ts, so seeds reproduce anywhere.

/** A generator of uniform numbers in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
