// Best plain-JS group quantization / dequantization for the benchmark: one
// pass for min/max, one for the codes, typed arrays preallocated by the
// caller, Math.round replaced by (t + 0.5) | 0 (t ≥ 0). Same format and
// finite-input check as the kernel (wasm/assembly/quantize.ts); rounding of
// exact .5 ties may differ (half-up here, half-even there).

/** Quantize values into data/scales/zeros (sized by the caller); throws on non-finite input. */
export function jsQuantize(values: Float32Array, bits: 8 | 4, groupSize: number, data: Uint8Array, scales: Float32Array, zeros: Float32Array): void {
  const n = values.length;
  const levels = bits === 8 ? 255 : 15;
  for (let start = 0, g = 0; start < n; start += groupSize, g++) {
    const end = Math.min(n, start + groupSize);
    let lo = values[start]!;
    let hi = lo;
    let check = 0; // x − x is NaN for NaN and ±Inf
    for (let i = start; i < end; i++) {
      const x = values[i]!;
      check += x - x;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (check !== 0) throw new RangeError(`quantize: group ${g} holds a non-finite value`);
    const range = hi - lo;
    const inv = range > 0 ? levels / range : 0;
    scales[g] = range / levels;
    zeros[g] = lo;
    if (bits === 8) {
      for (let i = start; i < end; i++) data[i] = ((values[i]! - lo) * inv + 0.5) | 0;
    } else {
      for (let i = start; i < end; i += 2) {
        const a = ((values[i]! - lo) * inv + 0.5) | 0;
        const b = i + 1 < end ? ((values[i + 1]! - lo) * inv + 0.5) | 0 : 0;
        data[i >> 1] = a | (b << 4);
      }
    }
  }
}

export function jsDequantize(data: Uint8Array, bits: 8 | 4, groupSize: number, scales: Float32Array, zeros: Float32Array, out: Float32Array): void {
  const n = out.length;
  for (let start = 0, g = 0; start < n; start += groupSize, g++) {
    const end = Math.min(n, start + groupSize);
    const s = scales[g]!;
    const z = zeros[g]!;
    if (bits === 8) {
      for (let i = start; i < end; i++) out[i] = data[i]! * s + z;
    } else {
      for (let i = start; i < end; i += 2) {
        const b = data[i >> 1]!;
        out[i] = (b & 15) * s + z;
        if (i + 1 < end) out[i + 1] = (b >> 4) * s + z;
      }
    }
  }
}

/** fp16 bit pattern → fp32 value, all 65536 patterns (the fastest plain-JS decode). */
export function f16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let b = 0; b < 65536; b++) {
    const exponent = (b >> 10) & 0x1f;
    const mantissa = b & 0x3ff;
    const magnitude = exponent === 0 ? mantissa * 2 ** -24 : exponent === 31 ? (mantissa ? NaN : Infinity) : (1 + mantissa / 1024) * 2 ** (exponent - 15);
    table[b] = b & 0x8000 ? -magnitude : magnitude;
  }
  return table;
}

/** jsQuantize of fp16 bit patterns, decoded through the table into a scratch buffer first. */
export function jsQuantizeF16(bits16: Uint16Array, table: Float32Array, scratch: Float32Array, bits: 8 | 4, groupSize: number, data: Uint8Array, scales: Float32Array, zeros: Float32Array): void {
  for (let i = 0; i < bits16.length; i++) scratch[i] = table[bits16[i]!]!;
  jsQuantize(scratch, bits, groupSize, data, scales, zeros);
}
