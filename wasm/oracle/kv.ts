// PLACEHOLDER until the kv oracles land.
import type { KvKernels } from "../src/bindings/kv";

const missing = (): never => { throw new Error("kv oracle not written yet"); };
export const kvOracle: KvKernels = { quantize: missing, quantizeF16: missing, dequantize: missing, attentionScores: missing, accumulateAttention: missing, selectKeep: missing, allocateLayerBudgets: missing };
