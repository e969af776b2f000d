// Plain-TypeScript oracles of the kv kernels, one file per kernel.
import type { KvKernels } from "../src/bindings/kv";
import { dequantize, quantize, quantizeF16 } from "./quantize";
import { accumulateAttention, attentionScores } from "./attention";
import { selectKeep } from "./select";
import { allocateLayerBudgets } from "./layer-budgets";

export const kvOracle: KvKernels = {
  quantize, quantizeF16, dequantize, attentionScores, accumulateAttention, selectKeep, allocateLayerBudgets,
};
