// Typed bindings of the kv kernels (wasm/assembly/{quantize,attention,select,
// layer-budgets}.ts). Each call places its inputs in the instance's arena,
// runs the kernel, copies the results out and frees the arena, so callers
// never see pointers. `kvDirect` adds zero-copy variants for large tensors:
// the caller writes its input straight into WASM memory, or reads a result
// there, inside a callback whose view dies when the callback returns.
import type { Kernels, QuantBits, QuantGroup, QuantizedTensor } from "../kernels";
import type { KernelInstance } from "../instance";
import {
  checkAttentionShape, checkLayerBudgets, checkQuantizedTensor, checkQuantParams, checkSelect, describeF16, firstNonFinite,
  groupCount, isF16Finite, logitOverflowError, nonFiniteError, poolWidth, quantDataBytes,
} from "../kv-arguments";

export type KvKernels = Pick<Kernels, "quantize" | "quantizeF16" | "dequantize" | "attentionScores" | "accumulateAttention" | "selectKeep" | "allocateLayerBudgets">;

/** Zero-copy entry points (same kernels, same checks, same results as KvKernels). */
export interface KvDirect {
  /** Quantize `length` fp32 values that `fill` writes into WASM memory (the view is valid only inside fill). */
  quantizeFrom(length: number, bits: QuantBits, groupSize: QuantGroup, fill: (values: Float32Array) => void): QuantizedTensor;
  /** Same for fp16 bit patterns. */
  quantizeF16From(length: number, bits: QuantBits, groupSize: QuantGroup, fill: (bits16: Uint16Array) => void): QuantizedTensor;
  /** Dequantize into WASM memory and hand the view to `use` (valid only inside use); returns what use returns. */
  dequantizeTo<T>(q: QuantizedTensor, use: (values: Float32Array) => T): T;
  /**
   * `length` fp32 slots that stay in WASM memory until release(), for values
   * quantized repeatedly or filled piecewise. Release resident buffers in
   * reverse order of creation (the arena is a stack).
   */
  resident(length: number): ResidentValues;
}

export interface ResidentValues {
  /** A view of the resident values; take it again after other kernel calls (memory may grow). */
  values(): Float32Array;
  /** Quantize the resident values; `use` sees the result as views into WASM memory, valid only inside use. */
  quantizeTo<T>(bits: QuantBits, groupSize: QuantGroup, use: (q: QuantizedTensor) => T): T;
  release(): void;
}

/** A QuantizedTensor whose arrays are fresh copies (for results leaving an arena scope). */
function copyTensor(q: QuantizedTensor): QuantizedTensor {
  return { ...q, data: q.data.slice(), scales: q.scales.slice(), zeros: q.zeros.slice() };
}

const MODE_MAX = 0;
const MODE_MEAN = 1;
const MODE_ACCUMULATE = 2;

export function kvBindings(instance: KernelInstance): KvKernels {
  const direct = kvDirect(instance);
  const { exports: x, arena } = instance;

  /** Scores of one KV head into fresh memory; out holds nPad floats (acc values first when accumulating). */
  function attention(kernel: string, q: Float32Array, k: Float32Array, d: number, mode: number, pool: number, acc?: Float32Array): Float32Array {
    const { nq, n } = checkAttentionShape(kernel, q, k, d);
    if (acc !== undefined && acc.length !== n) throw new RangeError(`${kernel}: acc has length ${acc.length}, expected n = ${n}`);
    const nPad = (n + 3) & ~3;
    return arena.scoped(() => {
      const qPtr = arena.put(q);
      const kPtr = arena.put(k);
      const outPtr = arena.alloc(nPad * 4);
      const scratchPtr = arena.alloc(3 * nPad * 4);
      if (acc !== undefined) {
        const out = arena.f32(outPtr, nPad);
        out.set(acc);
        out.fill(0, n);
      }
      const failedRow = x.attentionScoresF32(qPtr, nq, kPtr, n, d, mode, pool, outPtr, scratchPtr);
      if (failedRow >= 0) throw logitOverflowError(kernel, failedRow);
      return arena.f32(outPtr, n).slice();
    });
  }

  return {
    quantize(values, bits, groupSize) {
      return direct.quantizeFrom(values.length, bits, groupSize, (dst) => dst.set(values));
    },
    quantizeF16(bits16, bits, groupSize) {
      return direct.quantizeF16From(bits16.length, bits, groupSize, (dst) => dst.set(bits16));
    },
    dequantize(q) {
      return direct.dequantizeTo(q, (values) => values.slice());
    },
    attentionScores(q, k, d, reduce) {
      const pool = poolWidth(reduce);
      return attention("attentionScores", q, k, d, reduce.kind === "max" ? MODE_MAX : MODE_MEAN, pool);
    },
    accumulateAttention(acc, q, k, d) {
      // computed on a copy: acc is only updated when every row succeeded
      acc.set(attention("accumulateAttention", q, k, d, MODE_ACCUMULATE, 1, acc));
    },
    selectKeep(scores, heads, options) {
      const { n, budget } = checkSelect(scores, heads, options);
      return arena.scoped(() => {
        const scoresPtr = arena.put(scores);
        const protectPtr = options.protect !== undefined && n > 0 ? arena.put(options.protect) : 0;
        const maskPtr = arena.alloc(heads * n);
        const keysPtr = arena.alloc(heads * n * 4);
        const listPtr = arena.alloc(heads * n * 4);
        x.selectKeep(scoresPtr, heads, n, budget, options.mode === "pooled" ? 1 : 0, protectPtr, maskPtr, keysPtr, listPtr);
        return arena.u8(maskPtr, heads * n).slice();
      });
    },
    allocateLayerBudgets(sensitivity, budget, alpha) {
      checkLayerBudgets(sensitivity, budget, alpha);
      const layers = sensitivity.length;
      return arena.scoped(() => {
        const sensPtr = arena.put(sensitivity);
        const outPtr = arena.alloc(layers * 4);
        const bad = x.allocateLayerBudgets(sensPtr, layers, budget, alpha, outPtr);
        if (bad >= 0) throw nonFiniteError("allocateLayerBudgets", "sensitivity", bad, sensitivity[bad]);
        return arena.i32(outPtr, layers).slice();
      });
    },
  };
}

export function kvDirect(instance: KernelInstance): KvDirect {
  const { exports: x, arena } = instance;

  /** Shared body of the fp32 and fp16 paths: input already placed at srcPtr; `use` sees views of the result. */
  function quantizeAt<T>(
    kernel: "quantizeF32" | "quantizeF16", srcPtr: number, length: number, bits: QuantBits, groupSize: QuantGroup,
    describe: (group: number) => RangeError, use: (q: QuantizedTensor) => T,
  ): T {
    const groups = groupCount(length, groupSize);
    const bytes = quantDataBytes(bits, length);
    const dataPtr = arena.alloc(bytes);
    const scalesPtr = arena.alloc(groups * 4);
    const zerosPtr = arena.alloc(groups * 4);
    const badGroup = x[kernel](srcPtr, length, bits, groupSize, dataPtr, scalesPtr, zerosPtr);
    if (badGroup >= 0) throw describe(badGroup);
    return use({
      bits, groupSize, length,
      data: arena.u8(dataPtr, bytes),
      scales: arena.f32(scalesPtr, groups),
      zeros: arena.f32(zerosPtr, groups),
    });
  }

  /** The RangeError for the first non-finite value of group g of the fp32 values at srcPtr. */
  function nonFiniteF32(srcPtr: number, length: number, groupSize: number, g: number): RangeError {
    const values = arena.f32(srcPtr, length);
    const at = firstNonFinite(values, g * groupSize, Math.min(length, (g + 1) * groupSize));
    return nonFiniteError("quantize", "values", at, values[at]);
  }

  function checkLength(kernel: string, length: number): void {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`${kernel}: length must be a non-negative integer, got ${length}`);
  }

  return {
    quantizeFrom(length, bits, groupSize, fill) {
      checkQuantParams("quantize", bits, groupSize);
      checkLength("quantize", length);
      return arena.scoped(() => {
        const srcPtr = arena.alloc(length * 4);
        fill(arena.f32(srcPtr, length));
        return quantizeAt("quantizeF32", srcPtr, length, bits, groupSize, (g) => nonFiniteF32(srcPtr, length, groupSize, g), copyTensor);
      });
    },
    quantizeF16From(length, bits, groupSize, fill) {
      checkQuantParams("quantizeF16", bits, groupSize);
      checkLength("quantizeF16", length);
      return arena.scoped(() => {
        const srcPtr = arena.alloc(length * 2);
        fill(arena.u16(srcPtr, length));
        const describe = (g: number): RangeError => {
          const bits16 = arena.u16(srcPtr, length);
          let at = g * groupSize;
          while (isF16Finite(bits16[at])) at++;
          return nonFiniteError("quantizeF16", "bits16", at, describeF16(bits16[at]));
        };
        return quantizeAt("quantizeF16", srcPtr, length, bits, groupSize, describe, copyTensor);
      });
    },
    resident(length) {
      checkLength("resident", length);
      const srcPtr = arena.alloc(length * 4);
      const end = arena.mark();
      let released = false;
      return {
        values: () => arena.f32(srcPtr, length),
        quantizeTo(bits, groupSize, use) {
          if (released) throw new Error("resident values were released");
          checkQuantParams("quantize", bits, groupSize);
          return arena.scoped(() => quantizeAt("quantizeF32", srcPtr, length, bits, groupSize, (g) => nonFiniteF32(srcPtr, length, groupSize, g), use));
        },
        release() {
          if (released) return;
          if (arena.mark() !== end) throw new Error("resident values must be released in reverse order of creation");
          released = true;
          arena.reset(srcPtr);
        },
      };
    },
    dequantizeTo(q, use) {
      checkQuantizedTensor(q);
      return arena.scoped(() => {
        const dataPtr = arena.put(q.data);
        const scalesPtr = arena.put(q.scales);
        const zerosPtr = arena.put(q.zeros);
        const outPtr = arena.alloc(q.length * 4);
        x.dequantize(dataPtr, q.length, q.bits, q.groupSize, scalesPtr, zerosPtr, outPtr);
        return use(arena.f32(outPtr, q.length));
      });
    },
  };
}
