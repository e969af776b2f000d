// PLACEHOLDER until the retrieval kernels land (similarity, top-k, k-means, embedder).
import type { Kernels } from "../kernels";
import type { KernelInstance } from "../instance";

export type RetrievalKernels = Pick<Kernels, "dotScores" | "cosineScores" | "dotScoresBatch" | "topK" | "kmeans" | "embedText">;

export function retrievalBindings(_instance: KernelInstance): RetrievalKernels {
  const missing = (): never => { throw new Error("retrieval kernels not built yet"); };
  return { dotScores: missing, cosineScores: missing, dotScoresBatch: missing, topK: missing, kmeans: missing, embedText: missing };
}
