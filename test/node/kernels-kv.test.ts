// kv kernels (quantization, attention scoring, selection, layer budgets):
// WASM SIMD build vs plain-TS oracles in Node, plus the zero-copy bindings.
import { describe, expect, it } from "vitest";
import { loadWasmModule } from "../../wasm/src/node-module";
import { instantiateKernels } from "../../wasm/src/instance";
import { wasmKernelsFromInstance } from "../../wasm/src/wasm-kernels";
import { kvDirect } from "../../wasm/src/bindings/kv";
import { kvKernelSuite } from "../suites/kernels-kv-suite";

const instance = instantiateKernels(loadWasmModule());
const kernels = wasmKernelsFromInstance(instance);

kvKernelSuite("node", () => kernels);

describe("kv kernels: zero-copy path and arena hygiene", () => {
  const direct = kvDirect(instance);

  it("quantizeFrom / quantizeF16From / dequantizeTo equal the copying calls", () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
    const viaCopy = kernels.quantize(values, 8, 64);
    const viaDirect = direct.quantizeFrom(values.length, 8, 64, (dst) => {
      for (let i = 0; i < dst.length; i++) dst[i] = Math.sin(i) * 3;
    });
    expect(viaDirect).toEqual(viaCopy);
    const bits16 = Uint16Array.from({ length: 77 }, (_, i) => 0x3c00 + i);
    expect(direct.quantizeF16From(77, 4, 32, (dst) => dst.set(bits16))).toEqual(kernels.quantizeF16(bits16, 4, 32));
    const sum = direct.dequantizeTo(viaCopy, (restored) => restored.reduce((s, x) => s + x, 0));
    expect(sum).toBeCloseTo(kernels.dequantize(viaCopy).reduce((s, x) => s + x, 0), 3);
  });

  it("quantizes resident values in place, repeatedly, and releases them", () => {
    const values = Float32Array.from({ length: 300 }, (_, i) => Math.cos(i) * 2);
    const mark = instance.arena.mark();
    const resident = direct.resident(values.length);
    resident.values().set(values);
    for (const bits of [8, 4] as const) {
      const inPlace = resident.quantizeTo(bits, 64, (q) => ({ ...q, data: q.data.slice(), scales: q.scales.slice(), zeros: q.zeros.slice() }));
      expect(inPlace).toEqual(kernels.quantize(values, bits, 64));
    }
    const inner = direct.resident(10);
    expect(() => resident.release()).toThrow(/reverse order/);
    inner.release();
    resident.release();
    expect(instance.arena.mark()).toBe(mark);
    expect(() => resident.quantizeTo(8, 64, () => 0)).toThrow(/released/);
  });

  it("frees the arena after every call, also after an error", () => {
    const mark = instance.arena.mark();
    kernels.quantize(new Float32Array(5000), 4, 128);
    kernels.attentionScores(new Float32Array(64), new Float32Array(640), 64, { kind: "mean", pool: 5 });
    kernels.selectKeep(new Float32Array(800), 8, { budget: 10, mode: "pooled" });
    kernels.allocateLayerBudgets(Float64Array.of(0.1, 0.2), 64, 1.1);
    expect(() => kernels.quantize(Float32Array.of(1, NaN), 8, 32)).toThrow(RangeError);
    expect(() => direct.quantizeFrom(3, 8, 32, (dst) => dst.fill(Infinity))).toThrow(/values\[0\] is Infinity/);
    expect(instance.arena.mark()).toBe(mark);
  });

  it("quantizes a large tensor (4M values) within scale/2", () => {
    const n = 1 << 22;
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = Math.sin(i * 0.37) * (1 + (i % 97));
    const q = kernels.quantize(values, 8, 64);
    const restored = kernels.dequantize(q);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const scale = q.scales[i >> 6];
      if (scale > 0) worst = Math.max(worst, Math.abs(values[i] - restored[i]) / scale);
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-3);
    expect(worst).toBeGreaterThan(0.4); // the bound is reached, not vacuous
  });
});
