// Seeded samplers for the BurstGPT-shaped workload (Wang et al., "BurstGPT: A
// Real-world Workload Dataset to Optimize LLM Serving Systems", 2024):
// request inter-arrivals follow a Gamma distribution (shape < 1 = bursty:
// many short gaps and a few long ones, §3.3), request and response lengths a
// Zipf distribution (§3.4). Pure functions over a seeded PRNG, so one seed
// gives one workload, replayed identically against epikv and the bare proxy.

function normal(random: () => number): number {
  // Box-Muller; 1 - u keeps log away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape k, scale θ), mean kθ (Marsaglia & Tsang 2000; k < 1 via the k+1 boost). */
export function gamma(random: () => number, shape: number, scale: number): number {
  if (!(shape > 0) || !(scale > 0)) throw new Error("gamma: shape and scale must be > 0");
  if (shape < 1) return gamma(random, shape + 1, scale) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
  }
}

/** Zipf over 1..n with exponent s: P(k) ∝ k^-s, sampled by inverse CDF (the table is built once). */
export function zipf(n: number, s: number): (random: () => number) => number {
  if (!(n >= 1) || !(s > 0)) throw new Error("zipf: n ≥ 1 and s > 0");
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = sum += Math.pow(k, -s);
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return (random) => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

/** Exponential with the given mean (think time between a reply and the next turn). */
export function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** Quantile of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
