// Typed binding of the lexical kernel (wasm/assembly/bm25.ts).
import type { Kernels } from "../kernels";
import type { KernelInstance } from "../instance";
import { badPosting, checkBm25Query } from "../bm25-checks";

export type LexicalKernels = Pick<Kernels, "bm25Scores">;

export function lexicalBindings(instance: KernelInstance): LexicalKernels {
  const kernel = instance.exports.bm25ScoresF32;
  if (typeof kernel !== "function") throw new Error("kernels module has no export bm25ScoresF32; rebuild with npm run build");
  const { arena } = instance;
  return {
    bm25Scores(q, into, add = false) {
      checkBm25Query(q, into, add);
      const n = q.lengths.length;
      return arena.scoped(() => {
        const posts = arena.put(q.posts);
        const starts = arena.put(q.starts);
        const idf = arena.put(q.idf);
        const lengths = arena.put(q.lengths);
        const out = add ? arena.put(into!.subarray(0, n)) : arena.alloc(n * 4);
        const bad = kernel(posts, starts, idf, q.idf.length, lengths, n, q.avgDocLength, q.k1, q.b, out, add ? 1 : 0);
        if (bad >= 0) throw badPosting(q, bad);
        if (!into) return arena.f32(out, n).slice();
        const scores = into.subarray(0, n);
        scores.set(arena.f32(out, n));
        return scores;
      });
    },
  };
}
