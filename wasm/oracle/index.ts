// Plain-TypeScript oracles: the reference every WASM kernel is tested against.
// Written for clarity, not speed.
import type { Kernels } from "../src/kernels";
import { retrievalOracle } from "./retrieval";
import { kvOracle } from "./kv";
import { bm25Scores } from "./bm25";

export const oracleKernels: Kernels = { ...retrievalOracle, bm25Scores, ...kvOracle };
