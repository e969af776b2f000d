// Plain-TS oracles of the retrieval kernels (similarity, column scans, top-k, k-means,
// hashing embedder), one file per kernel family.
import type { RetrievalKernels } from "../src/bindings/retrieval";
import { cosineScores, dotScores, dotScoresBatch } from "./similarity";
import { columnScores } from "./column-scores";
import { topK } from "./topk";
import { kmeans } from "./kmeans";
import { embedText } from "./embed";

export const retrievalOracle: RetrievalKernels = { dotScores, cosineScores, dotScoresBatch, columnScores, topK, kmeans, embedText };
