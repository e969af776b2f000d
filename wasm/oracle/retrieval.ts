// Plain-TS oracles of the retrieval kernels (similarity, top-k, k-means,
// hashing embedder), one file per kernel family.
import type { RetrievalKernels } from "../src/bindings/retrieval";
import { cosineScores, dotScores, dotScoresBatch } from "./similarity";
import { topK } from "./topk";
import { kmeans } from "./kmeans";
import { embedText } from "./embed";

export const retrievalOracle: RetrievalKernels = { dotScores, cosineScores, dotScoresBatch, topK, kmeans, embedText };
