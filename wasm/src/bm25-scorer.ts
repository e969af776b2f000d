// copyingBm25Scorer: the Bm25Scorer contract (wasm/src/kernels.ts) over any
// Kernels — the plain-TS oracle in tests, or the copying WASM binding —
// with the scores in a JS buffer. ResidentBm25
// (wasm/src/bindings/resident-bm25.ts) is the one the Durable Object and the
// evaluation use; tests compare the two.
import { MAX_SCORER_TOP_K, type Bm25Scorer, type Kernels } from "./kernels";
import { checkScorerAdd, checkScorerDocuments, checkScorerTopK } from "./bm25-checks";

export function copyingBm25Scorer(kernels: Pick<Kernels, "bm25Scores" | "topK">): Bm25Scorer {
  let buffer = new Float32Array(0);
  let count = -1;
  const room = (n: number) => {
    if (buffer.length < n) buffer = new Float32Array(Math.max(n, 2 * buffer.length));
  };
  return {
    score(q, add = false) {
      const n = q.lengths.length;
      if (add) checkScorerAdd(n, count);
      room(n);
      // bm25Scores leaves the buffer as it was when it refuses a query.
      const scores = kernels.bm25Scores(q, buffer, add);
      count = n;
      return scores;
    },
    zero(n) {
      checkScorerDocuments(n);
      room(n);
      count = n;
      return buffer.subarray(0, n).fill(0);
    },
    topK(k, after) {
      checkScorerTopK(count, k, MAX_SCORER_TOP_K);
      return kernels.topK(buffer.subarray(0, count), k, after);
    },
    clear() {
      count = -1;
    },
    get bytes() {
      return buffer.byteLength;
    },
    bytesFor(n) {
      return 4 * Math.max(n, buffer.length);
    },
  };
}
