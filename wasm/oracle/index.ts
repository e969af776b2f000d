// Plain-TypeScript oracles: the reference every WASM kernel is tested against.
// Written for clarity, not speed.
import type { Kernels } from "../src/kernels";
import { retrievalOracle } from "./retrieval";
import { kvOracle } from "./kv";

export const oracleKernels: Kernels = { ...retrievalOracle, ...kvOracle };
