// Side-by-side timing of one BenchCase: every implementation is warmed up,
// then timed in interleaved rounds (the order rotates each round) so drift
// on a shared machine hits all of them alike; the median per call is kept.
import type { BenchCase } from "./bench-case";

export interface MeasureSettings {
  /** Timed rounds per implementation. */
  samples: number;
  /** Minimum wall time of one sample; fast kernels are repeated within a sample to reach it. */
  minSampleMs: number;
  /** Warm-up time per implementation before timing. */
  warmupMs: number;
  /** Stop taking samples (keeping at least 3) once a case has run this long. */
  maxCaseMs: number;
}

export interface ImplTiming {
  medianMs: number;
  /** Fastest sample: on a loaded machine closer to the undisturbed time than the median. */
  minMs: number;
  /** Input bytes per second / 1e9, when the case gives bytes. */
  gbps?: number;
  samples: number;
  repsPerSample: number;
}

/** Warm up `fn` for about `ms`; returns the mean time of one call. */
function warmup(fn: () => unknown, ms: number): number {
  const start = performance.now();
  let calls = 0;
  do {
    fn();
    calls++;
  } while (performance.now() - start < ms || calls < 2);
  return (performance.now() - start) / calls;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function measureCase(c: BenchCase, settings: MeasureSettings): Record<string, ImplTiming> {
  const names = Object.keys(c.impls);
  const reps: Record<string, number> = {};
  for (const name of names) {
    const perCall = warmup(c.impls[name]!, settings.warmupMs);
    reps[name] = Math.max(1, Math.ceil(settings.minSampleMs / Math.max(perCall, 1e-6)));
  }
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const start = performance.now();
  for (let round = 0; round < settings.samples; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      const fn = c.impls[name]!;
      const r = reps[name]!;
      const t0 = performance.now();
      for (let j = 0; j < r; j++) fn();
      times[name]!.push((performance.now() - t0) / r);
    }
    if (round >= 2 && performance.now() - start > settings.maxCaseMs) break;
  }
  const out: Record<string, ImplTiming> = {};
  for (const name of names) {
    const medianMs = median(times[name]!);
    out[name] = {
      medianMs,
      minMs: Math.min(...times[name]!),
      ...(c.bytes ? { gbps: c.bytes / (medianMs * 1e6) } : {}),
      samples: times[name]!.length,
      repsPerSample: reps[name]!,
    };
  }
  return out;
}
