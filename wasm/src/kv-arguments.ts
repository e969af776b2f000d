// Argument checks shared by the kv kernels' WASM bindings and their oracles,
// so both reject the same inputs with the same RangeError/TypeError messages.
import type { AttentionReduce, QuantBits, QuantGroup, QuantizedTensor, SelectOptions } from "./kernels";

export function checkQuantParams(kernel: string, bits: number, groupSize: number): void {
  if (bits !== 8 && bits !== 4) throw new RangeError(`${kernel}: bits must be 8 or 4, got ${bits}`);
  if (groupSize !== 32 && groupSize !== 64 && groupSize !== 128) {
    throw new RangeError(`${kernel}: groupSize must be 32, 64 or 128, got ${groupSize}`);
  }
}

/** Bytes of quantized data for `length` values. */
export function quantDataBytes(bits: QuantBits, length: number): number {
  return bits === 8 ? length : Math.ceil(length / 2);
}

export function groupCount(length: number, groupSize: QuantGroup): number {
  return Math.ceil(length / groupSize);
}

/** The RangeError for a non-finite value handed to a kernel that accepts finite values only. */
export function nonFiniteError(kernel: string, what: string, index: number, value: number | string): RangeError {
  return new RangeError(`${kernel}: ${what}[${index}] is ${value}; only finite values are accepted`);
}

/** First index in [from, to) whose value is not finite, or -1. */
export function firstNonFinite(values: ArrayLike<number>, from = 0, to = values.length): number {
  for (let i = from; i < to; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** fp16 bit patterns with exponent 31 are ±Inf or NaN. */
export function isF16Finite(bits16: number): boolean {
  return (bits16 & 0x7c00) !== 0x7c00;
}

export function describeF16(bits16: number): string {
  const hex = `0x${bits16.toString(16).padStart(4, "0")}`;
  return (bits16 & 0x03ff) === 0 ? `${bits16 & 0x8000 ? "-" : "+"}Infinity (fp16 ${hex})` : `NaN (fp16 ${hex})`;
}

export function checkQuantizedTensor(q: QuantizedTensor): void {
  checkQuantParams("dequantize", q.bits, q.groupSize);
  if (!Number.isInteger(q.length) || q.length < 0) throw new RangeError(`dequantize: length must be a non-negative integer, got ${q.length}`);
  const bytes = quantDataBytes(q.bits, q.length);
  const groups = groupCount(q.length, q.groupSize);
  if (q.data.length !== bytes) throw new RangeError(`dequantize: data has ${q.data.length} bytes, expected ${bytes} for ${q.length} int${q.bits} values`);
  if (q.scales.length !== groups || q.zeros.length !== groups) {
    throw new RangeError(`dequantize: expected ${groups} scales and zeros, got ${q.scales.length} and ${q.zeros.length}`);
  }
}

export interface AttentionShape {
  /** Query rows. */
  nq: number;
  /** Keys. */
  n: number;
}

export function checkAttentionShape(kernel: string, q: Float32Array, k: Float32Array, d: number): AttentionShape {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`${kernel}: d must be a positive integer, got ${d}`);
  if (q.length % d !== 0) throw new RangeError(`${kernel}: q has ${q.length} values, not a multiple of d = ${d}`);
  if (k.length % d !== 0) throw new RangeError(`${kernel}: k has ${k.length} values, not a multiple of d = ${d}`);
  const nonFiniteQ = firstNonFinite(q);
  if (nonFiniteQ >= 0) throw nonFiniteError(kernel, "q", nonFiniteQ, q[nonFiniteQ]);
  const nonFiniteK = firstNonFinite(k);
  if (nonFiniteK >= 0) throw nonFiniteError(kernel, "k", nonFiniteK, k[nonFiniteK]);
  return { nq: q.length / d, n: k.length / d };
}

/** Max-pool width for a reduce (1 = none); odd positive integer. */
export function poolWidth(reduce: AttentionReduce): number {
  if (reduce.kind === "max") return 1;
  if (reduce.kind !== "mean") throw new RangeError(`attentionScores: reduce.kind must be "max" or "mean", got ${String((reduce as { kind: unknown }).kind)}`);
  const pool = reduce.pool ?? 1;
  if (!Number.isInteger(pool) || pool < 1 || pool % 2 === 0) {
    throw new RangeError(`attentionScores: pool must be an odd positive integer, got ${pool}`);
  }
  return pool;
}

export function logitOverflowError(kernel: string, row: number): RangeError {
  return new RangeError(`${kernel}: the logits of query row ${row} overflow fp32 (|q·k|/√d too large); scale q or k down`);
}

export interface SelectShape {
  n: number;
  /** Budget clipped to n. */
  budget: number;
}

export function checkSelect(scores: Float32Array, heads: number, options: SelectOptions): SelectShape {
  if (!Number.isInteger(heads) || heads < 1) throw new RangeError(`selectKeep: heads must be a positive integer, got ${heads}`);
  if (scores.length % heads !== 0) throw new RangeError(`selectKeep: scores has ${scores.length} values, not a multiple of heads = ${heads}`);
  const n = scores.length / heads;
  const { budget, mode, protect } = options;
  if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`selectKeep: budget must be a non-negative integer, got ${budget}`);
  if (mode !== "pooled" && mode !== "per-head") throw new RangeError(`selectKeep: mode must be "pooled" or "per-head", got ${String(mode)}`);
  if (protect !== undefined && protect.length !== n) throw new RangeError(`selectKeep: protect has length ${protect.length}, expected n = ${n}`);
  return { n, budget: Math.min(budget, n) };
}

export function checkLayerBudgets(sensitivity: Float64Array, budget: number, alpha: number): void {
  if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`allocateLayerBudgets: budget must be a positive integer, got ${budget}`);
  if (budget * sensitivity.length > 0x7fffffff) throw new RangeError(`allocateLayerBudgets: budget × layers must stay below 2^31`);
  if (!Number.isFinite(alpha) || alpha < 0) throw new RangeError(`allocateLayerBudgets: alpha must be finite and ≥ 0, got ${alpha}`);
  const bad = firstNonFinite(sensitivity);
  if (bad >= 0) throw nonFiniteError("allocateLayerBudgets", "sensitivity", bad, sensitivity[bad]);
}
