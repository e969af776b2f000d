// Conformance suite of the kv kernels (quantization, attention scoring,
// eviction selection, layer budgets): the WASM bindings against the
// plain-TS oracles on random and edge-case inputs, plus hand-computed cases.
// Runs in Node (test/node/kernels-kv.test.ts) and inside workerd
// (test/worker/kernels-kv.test.ts) with the same cases.
import { describe, expect, it } from "vitest";
import type { Kernels, QuantBits, QuantGroup, QuantizedTensor } from "../../wasm/src/kernels";
import { oracleKernels as oracle } from "../../wasm/oracle";
import { f16ToNumber } from "../../wasm/oracle/quantize";
import { createRng, type Rng } from "../../testing/random";

const BITS: QuantBits[] = [8, 4];
const GROUPS: QuantGroup[] = [32, 64, 128];

/** Same length and the same value at every index (NaN = NaN, −0 = +0). */
function expectSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(a === e || (Number.isNaN(a) && Number.isNaN(e)))) expect(a, `${what}[${i}]`).toBe(e);
  }
}

function expectSameTensor(actual: QuantizedTensor, expected: QuantizedTensor, what: string): void {
  expect([actual.bits, actual.groupSize, actual.length]).toEqual([expected.bits, expected.groupSize, expected.length]);
  expectSameValues(actual.data, expected.data, `${what} data`);
  expectSameValues(actual.scales, expected.scales, `${what} scales`);
  expectSameValues(actual.zeros, expected.zeros, `${what} zeros`);
}

/** |a − e| ≤ atol + rtol·|e| at every index. */
function expectClose(actual: Float32Array, expected: Float32Array, rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= atol + rtol * Math.abs(expected[i]))) expect(actual[i], `${what}[${i}] (oracle ${expected[i]})`).toBe(expected[i]);
  }
}

function randomF32(rng: Rng, length: number, spread = 1, offset = 0): Float32Array {
  return Float32Array.from({ length }, () => offset + (rng.next() * 2 - 1) * spread);
}

/**
 * The documented bound: |x − x̂| ≤ scale/2 per element, up to fp32 rounding
 * (the reciprocal of the scale, the product and the sum each round once:
 * a few ulps of the group's magnitude on top of scale/2; for subnormal
 * groups the scale itself sits on the 2^-149 grid, so q·2^-150 < 2^-141 more).
 */
function expectWithinHalfScale(values: ArrayLike<number>, q: QuantizedTensor, restored: Float32Array): void {
  for (let g = 0; g < q.scales.length; g++) {
    const start = g * q.groupSize;
    const end = Math.min(values.length, start + q.groupSize);
    let magnitude = 0;
    for (let i = start; i < end; i++) magnitude = Math.max(magnitude, Math.abs(values[i]));
    const bound = (q.scales[g] / 2) * (1 + 2 ** -10) + magnitude * 2 ** -22 + 2 ** -141;
    for (let i = start; i < end; i++) {
      const err = Math.abs(values[i] - restored[i]);
      if (!(err <= bound)) expect(err, `|x − x̂| at ${i} (scale ${q.scales[g]})`).toBeLessThanOrEqual(bound);
    }
  }
}

export function kvKernelSuite(runtime: string, kernels: () => Kernels): void {
  describe(`kv kernels vs oracles (${runtime})`, () => {
    describe("quantize / dequantize", () => {
      it("match the oracle bit for bit on random data of many lengths, within scale/2", () => {
        const rng = createRng(1);
        const k = kernels();
        for (const length of [0, 1, 2, 3, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4099]) {
          for (const bits of BITS) {
            for (const groupSize of GROUPS) {
              const values = randomF32(rng, length, 10 ** rng.int(-3, 3), rng.next() - 0.5);
              const q = k.quantize(values, bits, groupSize);
              const what = `int${bits} g${groupSize} n=${length}`;
              expectSameTensor(q, oracle.quantize(values, bits, groupSize), what);
              expect(q.data.length).toBe(bits === 8 ? length : Math.ceil(length / 2));
              expect(q.scales.length).toBe(Math.ceil(length / groupSize));
              const restored = k.dequantize(q);
              expectSameValues(restored, oracle.dequantize(q), `${what} dequantized`);
              expectWithinHalfScale(values, q, restored);
            }
          }
        }
      });

      it("stores int4 as two codes per byte, low nibble first", () => {
        // One group 0..15 repeated: min 0, max 15 → scale (15 − 0)/15 = 1, zero 0, code = value.
        const values = Float32Array.from({ length: 32 }, (_, i) => i % 16);
        for (const impl of [kernels(), oracle]) {
          const q = impl.quantize(values, 4, 32);
          expect(q.scales[0]).toBe(1);
          expect(q.zeros[0]).toBe(0);
          expect(q.data[0]).toBe(0x10); // values 0 (low) and 1 (high)
          expect(q.data[7]).toBe(0xfe); // values 14 (low) and 15 (high)
          expectSameValues(impl.dequantize(q), values, "int4 round trip");
        }
      });

      it("keeps constant groups and single-element tails exact (scale 0)", () => {
        const k = kernels();
        // 64 × 2.5, then a one-value tail group (length 65, group 64)
        const values = new Float32Array(65).fill(2.5);
        values[64] = -7.25;
        for (const bits of BITS) {
          const q = k.quantize(values, bits, 64);
          expectSameTensor(q, oracle.quantize(values, bits, 64), `constant int${bits}`);
          expectSameValues(q.scales, [0, 0], "scales");
          expectSameValues(q.zeros, [2.5, -7.25], "zeros");
          expectSameValues(k.dequantize(q), values, "restored");
        }
      });

      it("handles huge (range beyond fp32) and tiny (subnormal) magnitudes", () => {
        const k = kernels();
        const rng = createRng(2);
        const huge = randomF32(rng, 200, 3.4e38);
        huge[0] = 3.4e38;
        huge[1] = -3.4e38; // max − min overflows fp32 in group 0
        const tiny = Float32Array.from({ length: 200 }, () => (rng.next() * 2 - 1) * 1e-39);
        tiny[5] = 1.4e-45; // smallest subnormal
        for (const [name, values] of [["huge", huge], ["tiny", tiny]] as const) {
          for (const bits of BITS) {
            for (const groupSize of GROUPS) {
              const q = k.quantize(values, bits, groupSize);
              expectSameTensor(q, oracle.quantize(values, bits, groupSize), `${name} int${bits} g${groupSize}`);
              const restored = k.dequantize(q);
              expect(restored.every(Number.isFinite)).toBe(true);
              expectSameValues(restored, oracle.dequantize(q), `${name} dequantized`);
              expectWithinHalfScale(values, q, restored);
            }
          }
        }
      });

      it("quantizes fp16 bit patterns (normals, subnormals, ±0, ±65504) like their exact fp32 values", () => {
        const k = kernels();
        const rng = createRng(3);
        const finite = (b: number): boolean => (b & 0x7c00) !== 0x7c00;
        const patterns = Uint16Array.from({ length: 777 }, () => {
          let b: number;
          do b = rng.int(0, 0xffff); while (!finite(b));
          return b;
        });
        patterns.set([0x0000, 0x8000, 0x0001, 0x83ff, 0x7bff, 0xfbff, 0x3c00], 0);
        const subnormals = Uint16Array.from({ length: 70 }, (_, i) => (i & 1 ? 0x8000 : 0) | rng.int(0, 0x3ff));
        for (const bits16 of [patterns, subnormals, new Uint16Array(0), Uint16Array.of(0x3555)]) {
          const widened = Float32Array.from(bits16, f16ToNumber);
          for (const bits of BITS) {
            for (const groupSize of GROUPS) {
              const q = k.quantizeF16(bits16, bits, groupSize);
              expectSameTensor(q, oracle.quantizeF16(bits16, bits, groupSize), `f16 int${bits} g${groupSize}`);
              expectSameTensor(q, k.quantize(widened, bits, groupSize), `f16 vs f32 int${bits}`);
              expectWithinHalfScale(widened, q, k.dequantize(q));
            }
          }
        }
      });

      it("rejects non-finite input with a RangeError naming the element", () => {
        const k = kernels();
        for (const [bad, label] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]] as const) {
          const values = new Float32Array(100).fill(1);
          values[70] = bad;
          for (const impl of [k, oracle]) {
            expect(() => impl.quantize(values, 8, 64)).toThrow(RangeError);
            expect(() => impl.quantize(values, 4, 32)).toThrow(`values[70] is ${label}`);
          }
        }
        // whole groups take a vector path, tails a scalar one: try both, at group edges
        for (const at of [0, 5, 31, 32, 63, 64, 127, 128, 130]) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const values = Float32Array.from({ length: 131 }, (_, i) => i / 7);
            values[at] = bad;
            for (const groupSize of GROUPS) expect(() => k.quantize(values, 8, groupSize)).toThrow(`values[${at}] is ${bad}`);
          }
        }
        for (const pattern of [0x7c00, 0xfc00, 0x7e00, 0x7c01]) {
          const bits16 = new Uint16Array(40).fill(0x3c00);
          bits16[33] = pattern;
          for (const impl of [k, oracle]) expect(() => impl.quantizeF16(bits16, 8, 32)).toThrow(/bits16\[33\] is .*(Infinity|NaN)/);
        }
      });

      it("rejects bad parameters and inconsistent tensors", () => {
        for (const impl of [kernels(), oracle]) {
          expect(() => impl.quantize(new Float32Array(4), 2 as QuantBits, 32)).toThrow(RangeError);
          expect(() => impl.quantize(new Float32Array(4), 8, 16 as QuantGroup)).toThrow(RangeError);
          const q = impl.quantize(new Float32Array(70), 8, 32);
          expect(() => impl.dequantize({ ...q, length: 71 })).toThrow(RangeError);
          expect(() => impl.dequantize({ ...q, scales: q.scales.subarray(1) })).toThrow(RangeError);
        }
      });
    });

    describe("attentionScores / accumulateAttention", () => {
      const shapes: [nq: number, n: number, d: number][] = [
        [1, 1, 1], [0, 5, 4], [3, 0, 4], [2, 7, 3], [5, 9, 64], [4, 33, 5], [8, 130, 64], [1, 1000, 1], [3, 17, 65], [7, 258, 128],
      ];
      // Kernel: fp32 sums in another order and a polynomial exp (≈1e-7 relative).
      const RTOL = 1e-4;
      const ATOL = 1e-7;

      it("match the oracle for max, mean and mean + max-pool on random shapes", () => {
        const k = kernels();
        const rng = createRng(4);
        for (const [nq, n, d] of shapes) {
          const q = randomF32(rng, nq * d, 2);
          const keys = randomF32(rng, n * d, 2);
          for (const reduce of [{ kind: "max" }, { kind: "mean" }, { kind: "mean", pool: 3 }, { kind: "mean", pool: 7 }, { kind: "mean", pool: 2 * n + 1 }] as const) {
            const what = `${reduce.kind}${"pool" in reduce ? reduce.pool : ""} nq=${nq} n=${n} d=${d}`;
            expectClose(k.attentionScores(q, keys, d, reduce), oracle.attentionScores(q, keys, d, reduce), RTOL, ATOL, what);
          }
        }
      });

      it("accumulates H2O scores in place like the oracle", () => {
        const k = kernels();
        const rng = createRng(5);
        for (const [nq, n, d] of shapes) {
          const q = randomF32(rng, nq * d, 2);
          const keys = randomF32(rng, n * d, 2);
          const acc = Float32Array.from({ length: n }, () => rng.next() * 3);
          const expected = acc.slice();
          k.accumulateAttention(acc, q, keys, d);
          oracle.accumulateAttention(expected, q, keys, d);
          expectClose(acc, expected, RTOL, ATOL, `accumulate nq=${nq} n=${n} d=${d}`);
        }
      });

      it("gives rows that sum to one and stays stable for large logits", () => {
        const k = kernels();
        const rng = createRng(6);
        const d = 16;
        const q = randomF32(rng, 3 * d, 40); // logits of order ±1000: exp would overflow without the max subtraction
        const keys = randomF32(rng, 50 * d, 40);
        const mean = k.attentionScores(q, keys, d, { kind: "mean" });
        expect(mean.every(Number.isFinite)).toBe(true);
        expect(mean.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
        expectClose(mean, oracle.attentionScores(q, keys, d, { kind: "mean" }), RTOL, ATOL, "large logits");
      });

      it("hand case: one query, two keys", () => {
        // q = (1, 0), keys (1, 0) and (0, 0), d = 2: logits 1/√2 and 0,
        // softmax → 1/(1 + e^(−1/√2)) ≈ 0.66976 and e^(−1/√2)/(1 + e^(−1/√2)) ≈ 0.33024.
        const p0 = 1 / (1 + Math.exp(-Math.SQRT1_2));
        for (const impl of [kernels(), oracle]) {
          const out = impl.attentionScores(Float32Array.of(1, 0), Float32Array.of(1, 0, 0, 0), 2, { kind: "max" });
          expect(out[0]).toBeCloseTo(p0, 6);
          expect(out[1]).toBeCloseTo(1 - p0, 6);
          // pool 3 over two keys: both windows hold both keys → both get the max
          const pooled = impl.attentionScores(Float32Array.of(1, 0), Float32Array.of(1, 0, 0, 0), 2, { kind: "mean", pool: 3 });
          expect(pooled[1]).toBeCloseTo(p0, 6);
        }
      });

      it("rejects bad shapes, non-finite input and overflowing logits; acc is untouched on error", () => {
        for (const impl of [kernels(), oracle]) {
          expect(() => impl.attentionScores(new Float32Array(4), new Float32Array(4), 0, { kind: "max" })).toThrow(RangeError);
          expect(() => impl.attentionScores(new Float32Array(5), new Float32Array(4), 2, { kind: "max" })).toThrow(RangeError);
          expect(() => impl.attentionScores(new Float32Array(4), new Float32Array(4), 2, { kind: "mean", pool: 2 })).toThrow(/odd/);
          expect(() => impl.attentionScores(Float32Array.of(1, NaN), new Float32Array(4), 2, { kind: "max" })).toThrow(/q\[1\] is NaN/);
          expect(() => impl.attentionScores(new Float32Array(2), Float32Array.of(0, 0, -Infinity, 0), 2, { kind: "max" })).toThrow(/k\[2\]/);
          const big = new Float32Array(8).fill(1e20); // dot = 4e40 > fp32 max
          expect(() => impl.attentionScores(big, big, 4, { kind: "max" })).toThrow(/query row 0 overflow/);
          const acc = Float32Array.of(1, 2);
          expect(() => impl.accumulateAttention(acc, big.subarray(0, 4), big, 4)).toThrow(RangeError);
          expectSameValues(acc, [1, 2], "acc after error");
          expect(() => impl.accumulateAttention(new Float32Array(3), new Float32Array(4), new Float32Array(8), 4)).toThrow(/acc has length 3/);
        }
      });
    });

    describe("selectKeep", () => {
      it("hand cases: per-head and pooled budgets, ties, protection, NaN", () => {
        // h0: [5, 1, 4, 4, 0], h1: [0, 0, 0, 9, 1]
        const scores = Float32Array.of(5, 1, 4, 4, 0, 0, 0, 0, 9, 1);
        for (const impl of [kernels(), oracle]) {
          // per head, B = 2: h0 keeps 5@0 and the first of the tied 4s (@2); h1 keeps 9@3 and 1@4
          expect([...impl.selectKeep(scores, 2, { budget: 2, mode: "per-head" })]).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 1, 1]);
          // pooled, B·H = 4: 9 (h1@3), 5 (h0@0), 4 (h0@2), 4 (h0@3) → h0 keeps 3, h1 keeps 1
          expect([...impl.selectKeep(scores, 2, { budget: 2, mode: "pooled" })]).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1, 0]);
          // protect position 0 (a sink), per head B = 2: it takes one slot in each head;
          // the other goes to h0's best free 4@2 and h1's 9@3
          const sink = Uint8Array.of(1, 0, 0, 0, 0);
          expect([...impl.selectKeep(scores, 2, { budget: 2, mode: "per-head", protect: sink })]).toEqual([1, 0, 1, 0, 0, 1, 0, 0, 1, 0]);
          // pooled with the sink: 4 − 2 protected = 2 free slots: 9 (h1@3), 4 (h0@2)
          expect([...impl.selectKeep(scores, 2, { budget: 2, mode: "pooled", protect: sink })]).toEqual([1, 0, 1, 0, 0, 1, 0, 0, 1, 0]);
          // three protected > budget 2: all protected kept, nothing else
          const many = Uint8Array.of(0, 1, 0, 1, 1);
          expect([...impl.selectKeep(scores, 2, { budget: 2, mode: "pooled", protect: many })]).toEqual([0, 1, 0, 1, 1, 0, 1, 0, 1, 1]);
          // NaN never beats a number (not even −Inf); NaNs tie by index
          const withNaN = Float32Array.of(NaN, -Infinity, NaN, 2);
          expect([...impl.selectKeep(withNaN, 1, { budget: 3, mode: "per-head" })]).toEqual([1, 1, 0, 1]);
          // −0 and +0 tie → lower index; budget beyond n keeps all; budget 0 keeps nothing
          expect([...impl.selectKeep(Float32Array.of(-0, 0, -1), 1, { budget: 1, mode: "pooled" })]).toEqual([1, 0, 0]);
          expect([...impl.selectKeep(scores, 2, { budget: 99, mode: "pooled" })]).toEqual(new Array(10).fill(1));
          expect([...impl.selectKeep(scores, 2, { budget: 0, mode: "per-head" })]).toEqual(new Array(10).fill(0));
        }
      });

      it("match the oracle exactly on random scores, ties, NaN/Inf, protection and budgets", () => {
        const k = kernels();
        const rng = createRng(7);
        const specials = [NaN, Infinity, -Infinity, 0, -0];
        for (let trial = 0; trial < 150; trial++) {
          const heads = rng.int(1, 8);
          const n = rng.pick([0, 1, 2, 3, 5, 17, 64, 100, 301]);
          const levels = rng.pick([3, 50, 0]); // few distinct values → many ties; 0 = continuous
          const scores = Float32Array.from({ length: heads * n }, () => {
            if (rng.chance(0.05)) return rng.pick(specials);
            const x = rng.next() * 2 - 1;
            return levels ? Math.round(x * levels) / levels : x;
          });
          const protect = rng.chance(0.5) ? Uint8Array.from({ length: n }, () => (rng.chance(0.1) ? 1 : 0)) : undefined;
          const budget = rng.int(0, n + 2);
          for (const mode of ["pooled", "per-head"] as const) {
            const options = { budget, mode, protect };
            const mask = k.selectKeep(scores, heads, options);
            expectSameValues(mask, oracle.selectKeep(scores, heads, options), `trial ${trial} ${mode} H=${heads} n=${n} B=${budget}`);
            const protectedCount = protect ? protect.reduce((s, p) => s + p, 0) : 0;
            const kept = mask.reduce((s, m) => s + m, 0);
            expect(kept).toBe(heads * Math.max(Math.min(budget, n), protectedCount));
          }
        }
      });

      it("rejects bad shapes and budgets", () => {
        for (const impl of [kernels(), oracle]) {
          expect(() => impl.selectKeep(new Float32Array(6), 0, { budget: 1, mode: "pooled" })).toThrow(RangeError);
          expect(() => impl.selectKeep(new Float32Array(7), 2, { budget: 1, mode: "pooled" })).toThrow(RangeError);
          expect(() => impl.selectKeep(new Float32Array(6), 2, { budget: -1, mode: "pooled" })).toThrow(RangeError);
          expect(() => impl.selectKeep(new Float32Array(6), 2, { budget: 1.5, mode: "per-head" })).toThrow(RangeError);
          expect(() => impl.selectKeep(new Float32Array(6), 2, { budget: 1, mode: "pooled", protect: new Uint8Array(2) })).toThrow(/protect/);
          expect(() => impl.selectKeep(new Float32Array(6), 2, { budget: 1, mode: "top" as "pooled" })).toThrow(/mode/);
        }
      });
    });

    describe("allocateLayerBudgets", () => {
      it("hand cases (docs/architecture.md, EpiCache step 6)", () => {
        for (const impl of [kernels(), oracle]) {
          const s = Float64Array.of(0, 0.5, 1);
          // α = 1, M = 100, L = 3: ŝ = [0, 0.5, 1], w = [1, 0.5, 0], Σw = 1.5, M·L = 300
          // b = [300·1/1.5 = 200, 300·0.5/1.5 = 100, 0 → floor max(1, 100/4) = 25]
          expect([...impl.allocateLayerBudgets(s, 100, 1)]).toEqual([200, 100, 25]);
          // α = 2: w = [1, 0.25, 0], Σw = 1.25 → [300/1.25 = 240, 75/1.25 = 60, 0 → 25]
          expect([...impl.allocateLayerBudgets(s, 100, 2)]).toEqual([240, 60, 25]);
          // α = 0 turns allocation off; equal sensitivities give every layer M
          expect([...impl.allocateLayerBudgets(s, 100, 0)]).toEqual([100, 100, 100]);
          expect([...impl.allocateLayerBudgets(Float64Array.of(0.7, 0.7, 0.7, 0.7), 64, 1.3)]).toEqual([64, 64, 64, 64]);
          // α = 1.1, M = 64, L = 4, s = [0.2, 0.9, 0.5, 0.7]: min 0.2, max 0.9
          // ŝ = [0, 1, 0.3/0.7 = 0.428571…, 0.5/0.7 = 0.714285…]
          // w = [1, 0, 0.571429^1.1 = 0.540329, 0.285714^1.1 = 0.252072], Σw = 1.792401
          // w·256/Σw = [142.825, 0, 77.173, 36.002] → [142, 0 → max(1, 16) = 16, 77, 36]
          expect([...impl.allocateLayerBudgets(Float64Array.of(0.2, 0.9, 0.5, 0.7), 64, 1.1)]).toEqual([142, 16, 77, 36]);
          // M = 3: floor(3/4) = 0, so the floor is 1. s = [1, 0]: ŝ = [1, 0], w = [0, 1] → [1, 3·2/1 = 6]
          expect([...impl.allocateLayerBudgets(Float64Array.of(1, 0), 3, 1)]).toEqual([1, 6]);
          expect([...impl.allocateLayerBudgets(new Float64Array(0), 10, 1)]).toEqual([]);
          expect([...impl.allocateLayerBudgets(Float64Array.of(0.3), 10, 1.1)]).toEqual([10]);
        }
      });

      it("match the oracle exactly on random sensitivities", () => {
        const k = kernels();
        const rng = createRng(8);
        for (let trial = 0; trial < 300; trial++) {
          const layers = rng.int(1, 80);
          const sensitivity = Float64Array.from({ length: layers }, () => (rng.chance(0.1) ? 0.5 : rng.next()));
          const budget = rng.int(1, 5000);
          const alpha = rng.pick([0, 1, 1.1, 1.3, 2, rng.next() * 3]);
          const got = k.allocateLayerBudgets(sensitivity, budget, alpha);
          expectSameValues(got, oracle.allocateLayerBudgets(sensitivity, budget, alpha), `trial ${trial}`);
          expect(got.every((b) => b >= Math.max(1, Math.floor(budget / 4)))).toBe(true);
        }
      });

      it("rejects non-finite sensitivities and bad budgets or α", () => {
        for (const impl of [kernels(), oracle]) {
          expect(() => impl.allocateLayerBudgets(Float64Array.of(0.1, NaN), 10, 1)).toThrow(/sensitivity\[1\] is NaN/);
          expect(() => impl.allocateLayerBudgets(Float64Array.of(0.1), 0, 1)).toThrow(RangeError);
          expect(() => impl.allocateLayerBudgets(Float64Array.of(0.1), 2.5, 1)).toThrow(RangeError);
          expect(() => impl.allocateLayerBudgets(Float64Array.of(0.1), 10, -1)).toThrow(RangeError);
          expect(() => impl.allocateLayerBudgets(Float64Array.of(0.1), 10, Infinity)).toThrow(RangeError);
        }
      });
    });
  });
}
