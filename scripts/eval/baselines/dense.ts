// Dense-only baseline: every message ranked by the cosine of its embedding
// with the query's, best first, rest by recency — the hashing embedder
// (the Durable Object's default, wasm/assembly/embed.ts) with IDF over the
// conversation's messages, as a dense retriever with no lexical index would
// rank them.
import { addDocumentFrequency, reweight } from "../../../durable-objects/episodes/bucket-idf";
import { HASH_EMBEDDING_DIM } from "../../../durable-objects/episodes/embedder";
import { idfFromDocumentFrequency } from "../../../wasm/src/text-features";
import { scoreRanking } from "./bm25";
import { historyUnits, pinnedCandidates, selectWith, type ContextPolicy } from "../policy";

export const denseBaseline: ContextPolicy = {
  name: "dense",
  summary: "per-message cosine of hashing-embedder vectors (IDF over messages), best first, rest by recency",
  async prepare(conversation, { kernels }) {
    const dim = HASH_EMBEDDING_DIM;
    const pinned = pinnedCandidates(conversation);
    const units = historyUnits(conversation);
    const raw = units.map((unit) => kernels.embedText(unit.map((m) => m.content).join("\n"), { dim }));
    const df = new Float64Array(dim);
    for (const v of raw) addDocumentFrequency(df, v);
    const idf = idfFromDocumentFrequency(df, units.length);
    const rows = new Float32Array(units.length * dim);
    raw.forEach((v, i) => rows.set(reweight(v, idf), i * dim));
    return {
      select(query, budget) {
        const q = reweight(kernels.embedText(query, { dim }), idf);
        return selectWith(conversation, pinned, query, budget, { ranked: scoreRanking(units, kernels.dotScores(q, rows, dim)) });
      },
    };
  },
};
