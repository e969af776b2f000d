// PLACEHOLDER until the kv kernels land (quantization, attention scoring, selection, layer budgets).
import type { Kernels } from "../kernels";
import type { KernelInstance } from "../instance";

export type KvKernels = Pick<Kernels, "quantize" | "quantizeF16" | "dequantize" | "attentionScores" | "accumulateAttention" | "selectKeep" | "allocateLayerBudgets">;

export function kvBindings(_instance: KernelInstance): KvKernels {
  const missing = (): never => { throw new Error("kv kernels not built yet"); };
  return { quantize: missing, quantizeF16: missing, dequantize: missing, attentionScores: missing, accumulateAttention: missing, selectKeep: missing, allocateLayerBudgets: missing };
}
