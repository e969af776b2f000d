// Oracle for group-wise asymmetric quantization (wasm/assembly/quantize.ts).
// Scalar and written for reading; every fp32 operation is spelled out with
// Math.fround in the same order as the kernel, so results agree bit for bit
// (an f64 +, −, ×, ÷ of two f32 values rounded once to f32 is the correctly
// rounded f32 result).
import type { QuantBits, QuantGroup, QuantizedTensor } from "../src/kernels";
import {
  checkQuantParams, checkQuantizedTensor, describeF16, firstNonFinite, groupCount, isF16Finite, nonFiniteError, quantDataBytes,
} from "../src/kv-arguments";

const f32 = Math.fround;

/** Largest code of a `bits`-bit unsigned level: 255 or 15. */
function levelsOf(bits: QuantBits): number {
  return bits === 8 ? 255 : 15;
}

/** Round half to even (what f32x4.nearest and the kernel's 2^23 trick do). */
export function roundHalfEven(t: number): number {
  const r = Math.round(t);
  return r - t === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Exact value of an IEEE fp16 bit pattern (finite patterns only). */
export function f16ToNumber(bits16: number): number {
  const sign = bits16 & 0x8000 ? -1 : 1;
  const exponent = (bits16 >> 10) & 0x1f;
  const mantissa = bits16 & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // subnormal
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

interface GroupParams { scale: number; zero: number; codes: number[] }

/** Scale, zero and codes of one group (values finite). */
function quantizeGroup(group: ArrayLike<number>, bits: QuantBits): GroupParams {
  const levels = levelsOf(bits);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < group.length; i++) {
    lo = Math.min(lo, group[i]);
    hi = Math.max(hi, group[i]);
  }
  // Extreme groups work on x·h − min·h for an exact power of two h: 1/2 when
  // max − min overflows fp32, 2^64 when the range is so small (< 2^-100)
  // that levels / range could overflow.
  let range = f32(hi - lo);
  let h = 1;
  if (!Number.isFinite(range)) h = 0.5;
  else if (range > 0 && range < 2 ** -100) h = 2 ** 64;
  if (h !== 1) range = f32(f32(hi * h) - f32(lo * h));
  const inverse = range > 0 ? f32(levels / range) : 0;
  const scale = f32(f32(range / levels) * (1 / h));
  const codes: number[] = [];
  for (let i = 0; i < group.length; i++) {
    const shifted = h === 1 ? f32(group[i] - lo) : f32(f32(group[i] * h) - f32(lo * h));
    codes.push(Math.min(roundHalfEven(f32(shifted * inverse)), levels));
  }
  return { scale, zero: lo, codes };
}

function quantizeNumbers(values: ArrayLike<number>, bits: QuantBits, groupSize: QuantGroup): QuantizedTensor {
  const length = values.length;
  const groups = groupCount(length, groupSize);
  const data = new Uint8Array(quantDataBytes(bits, length));
  const scales = new Float32Array(groups);
  const zeros = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const start = g * groupSize;
    const group = Array.from({ length: Math.min(groupSize, length - start) }, (_, i) => values[start + i]);
    const { scale, zero, codes } = quantizeGroup(group, bits);
    scales[g] = scale;
    zeros[g] = zero;
    codes.forEach((code, i) => {
      const index = start + i;
      if (bits === 8) data[index] = code;
      else data[index >> 1] |= code << ((index & 1) * 4); // low nibble first
    });
  }
  return { bits, groupSize, length, data, scales, zeros };
}

export function quantize(values: Float32Array, bits: QuantBits, groupSize: QuantGroup): QuantizedTensor {
  checkQuantParams("quantize", bits, groupSize);
  const bad = firstNonFinite(values);
  if (bad >= 0) throw nonFiniteError("quantize", "values", bad, values[bad]);
  return quantizeNumbers(values, bits, groupSize);
}

export function quantizeF16(bits16: Uint16Array, bits: QuantBits, groupSize: QuantGroup): QuantizedTensor {
  checkQuantParams("quantizeF16", bits, groupSize);
  const bad = bits16.findIndex((b) => !isF16Finite(b));
  if (bad >= 0) throw nonFiniteError("quantizeF16", "bits16", bad, describeF16(bits16[bad]));
  return quantizeNumbers(Array.from(bits16, f16ToNumber), bits, groupSize);
}

export function dequantize(q: QuantizedTensor): Float32Array {
  checkQuantizedTensor(q);
  const levels = levelsOf(q.bits);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const g = Math.floor(i / q.groupSize);
    const code = q.bits === 8 ? q.data[i] : (q.data[i >> 1] >> ((i & 1) * 4)) & 15;
    const scale = q.scales[g];
    const zero = q.zeros[g];
    // A group whose range overflowed fp32 is rebuilt from halves: (q·s/2 + z/2)·2.
    out[i] = Number.isFinite(f32(scale * levels))
      ? f32(f32(code * scale) + zero)
      : f32(f32(f32(code * f32(scale * 0.5)) + f32(zero * 0.5)) * 2);
  }
  return out;
}
