// WASM SIMD model kernels (wasm/assembly/model/) against their plain-TS
// oracles (backend/model/math/) on random and edge-case shapes: empty, single,
// lengths that are not multiples of 4, d = 1, large, and NaN propagation.
import { describe, expect, it } from "vitest";
import { jsOps } from "../../backend/model/ops-js";
import { wasmOps } from "../../backend/model/ops-wasm";
import { upload, type ModelOps } from "../../backend/model/ops";
import { mulberry32 } from "../../protocol/mulberry32";
import { loadWasmModule } from "../../wasm/src/node-module";

const wasm = wasmOps(loadWasmModule("model"));
const js = jsOps();
const rand = mulberry32(7);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

/** Run `op` on both kernel sets with the same inputs; return both outputs. */
function both(inputs: (Float32Array | Int32Array)[], outLen: number, op: (ops: ModelOps, out: number, ins: number[]) => void, inPlace = -1) {
  return [wasm, js].map((ops) => {
    const m = ops.mark();
    const ins = inputs.map((a) => upload(ops, a));
    const out = inPlace >= 0 ? ins[inPlace] : ops.alloc(outLen);
    op(ops, out, ins);
    const res = ops.f32().slice(out, out + outLen);
    ops.reset(m);
    return res;
  });
}

function expectClose(a: Float32Array, b: Float32Array, tol = 1e-5) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) expect(a[i]).toBeNaN();
    else expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
  }
}

describe("model kernels: WASM SIMD vs plain-TS oracle", () => {
  it.each([
    [0, 5, 3], [1, 1, 1], [1, 7, 5], [3, 13, 9], [4, 16, 8], [5, 64, 33], [9, 130, 17], [2, 1024, 64],
  ])("matmul tokens=%i in=%i out=%i", (t, i, o) => {
    const [a, b] = both([randn(t * i), randn(o * i)], t * o, (ops, y, [x, w]) => ops.matmul(y, x, w, t, i, o));
    expectClose(a, b, 1e-5);
  });

  it.each([[0, 4], [1, 1], [3, 7], [2, 64], [5, 257]])("rmsnorm rows=%i dim=%i", (r, d) => {
    const [a, b] = both([randn(r * d, 3), randn(d)], r * d, (ops, y, [x, w]) => ops.rmsnorm(y, x, w, r, d, 1e-5));
    expectClose(a, b, 1e-5);
  });

  it.each([[1, 1, 2], [3, 2, 16], [4, 4, 6], [2, 3, 32]])("rope tokens=%i heads=%i headDim=%i, large positions", (t, h, hd) => {
    const pos = Int32Array.from({ length: t }, (_, i) => [0, 1, 4095, (1 << 20) - 1][i % 4] + i);
    const [a, b] = both([randn(t * h * hd), pos], t * h * hd, (ops, _o, [x, p]) => ops.rope(x, p, t, h, hd, 10000), 0);
    expectClose(a, b, 1e-5);
  });

  it("rope at position 0 is the identity and preserves norms elsewhere", () => {
    const x = randn(32);
    const [a] = both([x, new Int32Array([0, 977])], 32, (ops, _o, [xx, p]) => ops.rope(xx, p, 2, 1, 16, 10000), 0);
    expectClose(a.subarray(0, 16), x.subarray(0, 16), 0);
    const norm = (v: Float32Array) => Math.hypot(...v);
    expect(norm(a.subarray(16))).toBeCloseTo(norm(x.subarray(16)), 4);
  });

  it.each([[1, 0, 4], [1, 1, 1], [2, 5, 3], [4, 17, 16], [2, 300, 33], [1, 2048, 64]])("attend rows=%i n=%i d=%i", (r, n, d) => {
    const [a, b] = both([randn(r * d, 2), randn(n * d, 2), randn(n * d)], r * d, (ops, out, [q, k, v]) => ops.attend(out, q, k, v, r, n, d));
    expectClose(a, b, 1e-5);
    if (n === 0) expect([...a].every((x) => x === 0)).toBe(true);
  });

  it.each([0, 1, 3, 4, 129])("swiglu and add n=%i", (n) => {
    const [a, b] = both([randn(n, 8), randn(n)], n, (ops, out, [g, u]) => ops.swiglu(out, g, u, n));
    expectClose(a, b, 1e-5);
    const [c, d] = both([randn(n), randn(n)], n, (ops, _o, [y, x]) => ops.add(y, x, n), 0);
    expectClose(c, d, 0);
  });

  it("NaN propagates (inputs are validated at the protocol edge, not in kernels)", () => {
    const x = randn(8);
    x[3] = NaN;
    const [a, b] = both([x, randn(16)], 2, (ops, y, [xx, w]) => ops.matmul(y, xx, w, 1, 8, 2));
    expect(a[0]).toBeNaN();
    expect(b[0]).toBeNaN();
  });
});
