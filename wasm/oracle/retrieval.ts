// PLACEHOLDER until the retrieval oracles land.
import type { RetrievalKernels } from "../src/bindings/retrieval";

const missing = (): never => { throw new Error("retrieval oracle not written yet"); };
export const retrievalOracle: RetrievalKernels = { dotScores: missing, cosineScores: missing, dotScoresBatch: missing, topK: missing, kmeans: missing, embedText: missing };
