// Entry point of the `kernels` module: re-exports one file per kernel.
// Every kernel takes pointers/lengths into linear memory and writes its
// results there; the JS side (wasm/src/arena.ts) owns allocation.

/** First free byte after static data; the JS arena allocates above it. */
export function heapBase(): usize {
  return __heap_base;
}

// retrieval: similarity scans, top-k, k-means, hashing embedder
export * from "./similarity";
export * from "./column-scores";
export * from "./topk";
export * from "./kmeans";
export * from "./embed";
// lexical: BM25 over postings
export * from "./bm25";
// kv: quantization, attention scoring, eviction selection, layer budgets
export * from "./quantize";
export * from "./attention";
export * from "./select";
export * from "./layer-budgets";
