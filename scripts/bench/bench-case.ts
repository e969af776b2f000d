// One row of `npm run bench:kernels`: the same operation on the same inputs
// through each implementation, timed side by side in one run.
export interface BenchCase {
  /** Kernel name as in wasm/src/kernels.ts, e.g. "dotScores". */
  kernel: string;
  /** Human-readable input shape, e.g. "100000 x 384 fp32". */
  shape: string;
  /** Bytes of input one call reads (for GB/s); omit when meaningless. */
  bytes?: number;
  /** Implementations by name: "wasm" (SIMD), "js" (best plain-JS loop), "native" (an npm library), each one call. */
  impls: Record<string, () => unknown>;
  /** Targets from the issue, checked and printed (never asserted in tests). */
  targets?: { versus: string; atLeast: number }[];
  /**
   * The implementation the Worker runs, when it is not "wasm" (the baseline
   * SIMD build): "relaxed" for kernels that differ in the relaxed-SIMD build
   * wasm/src/bundled.ts ships. Targets are checked on it when it was measured.
   */
  production?: string;
}

/** What the runner passes to each bench file's `cases(options)` (a file may ignore it). */
export interface BenchOptions {
  /** Smoke-test mode: small inputs and few iterations (shapes say so). */
  quick: boolean;
}
