// The numeric operations one forward pass needs, over a flat f32 heap
// addressed by element offsets. Two implementations: `wasmOps` (the SIMD
// kernels of wasm/build/model.wasm, heap = WASM linear memory) and `jsOps`
// (the plain-TS model math of backend/model/math/, heap = a growable JS buffer).
// One forward algorithm (forward.ts) runs on either, so "WASM vs plain JS"
// compares kernels and nothing else.

export interface ModelOps {
  readonly kind: "wasm" | "js";
  /** Reserve n f32 (or i32) slots; returns an element offset (16-byte aligned). May grow the heap. */
  alloc(n: number): number;
  mark(): number;
  reset(mark: number): void;
  /** Whole-heap views; re-take after any alloc (growth replaces the buffer). */
  f32(): Float32Array;
  i32(): Int32Array;
  matmul(y: number, x: number, w: number, tokens: number, inDim: number, outDim: number): void;
  rmsnorm(y: number, x: number, w: number, rows: number, dim: number, eps: number): void;
  rope(x: number, positions: number, tokens: number, heads: number, headDim: number, theta: number): void;
  attend(out: number, q: number, k: number, v: number, rows: number, n: number, d: number): void;
  swiglu(out: number, gate: number, up: number, n: number): void;
  add(y: number, x: number, n: number): void;
}

/** Copy `data` into fresh heap memory; returns its offset. */
export function upload(ops: ModelOps, data: Float32Array | Int32Array): number {
  const at = ops.alloc(data.length);
  if (data instanceof Float32Array) ops.f32().set(data, at);
  else ops.i32().set(data, at);
  return at;
}
