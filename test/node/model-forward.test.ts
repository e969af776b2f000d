// The reference model's forward pass (backend/model/forward.ts) on the tiny
// model: WASM and plain-TS kernel sets agree, and both agree with a naive
// masked full pass (backend/model/reference.ts) in every way the KV protocol
// relies on. Tolerance: logits and keys within 2e-4 absolute (fp32 sums in
// different orders; logits here are of order 1–10).
import { describe, expect, it } from "vitest";
import { createModel, loadWeights } from "../../backend/model/load";
import { concatKv, filterKv, KvError, type KvCache } from "../../backend/model/kv";
import { blockCausal, causal, referenceForward } from "../../backend/model/reference";
import { mulberry32 } from "../../protocol/mulberry32";

const weights = loadWeights("epikv-tiny");
const wasm = createModel(weights, "wasm");
const js = createModel(weights, "js");
const c = weights.config;
const V = c.vocabSize;
const rand = mulberry32(11);
const tokens = Array.from({ length: 40 }, () => Math.floor(rand() * 256));
const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
const TOL = 2e-4;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
const row = (logits: Float32Array, r: number) => logits.subarray(r * V, (r + 1) * V);

describe("reference model forward pass", () => {
  it("WASM and plain-TS forward passes agree with the naive causal reference", () => {
    const positions = range(0, tokens.length);
    const ref = referenceForward(weights, tokens, positions, causal);
    for (const model of [wasm, js]) {
      const out = model.forward({ tokens, positions, logits: "all" });
      expect(maxDiff(out.logits, ref.logits)).toBeLessThan(TOL);
      // Keys leave post-RoPE, per KV head.
      for (let l = 0; l < c.layers; l++)
        for (let h = 0; h < c.kvHeads; h++)
          for (let t = 0; t < tokens.length; t += 7)
            expect(maxDiff(out.kv[l][h].keys.subarray(t * c.headDim, (t + 1) * c.headDim), ref.keys[l].subarray((t * c.kvHeads + h) * c.headDim, (t * c.kvHeads + h + 1) * c.headDim))).toBeLessThan(TOL);
    }
    // Logits are not degenerate (the comparison can fail).
    expect(maxDiff(row(ref.logits, 0), row(ref.logits, 1))).toBeGreaterThan(0.01);
  });

  it("decoding token by token with KV returned by prefill equals one full pass", () => {
    const split = 25;
    const full = wasm.forward({ tokens, positions: range(0, tokens.length), logits: "all" });
    let past: KvCache = wasm.forward({ tokens: tokens.slice(0, split), positions: range(0, split), logits: "none" }).kv;
    for (let t = split; t < tokens.length; t++) {
      const step = wasm.forward({ tokens: [tokens[t]], positions: [t], past });
      expect(maxDiff(step.logits, row(full.logits, t))).toBeLessThan(TOL);
      past = concatKv(past, step.kv);
    }
  });

  it("prefill of a block at absolute positions p..p+B against supplied KV equals the full pass", () => {
    const p = 16, B = 12;
    const full = js.forward({ tokens, positions: range(0, tokens.length), logits: "all" });
    const past = wasm.forward({ tokens: tokens.slice(0, p), positions: range(0, p), logits: "none" }).kv;
    const block = wasm.forward({ tokens: tokens.slice(p, p + B), positions: range(p, B), past, logits: "all" });
    expect(maxDiff(block.logits, full.logits.subarray(p * V, (p + B) * V))).toBeLessThan(TOL);
    expect(maxDiff(block.kv[2][1].keys, full.kv[2][1].keys.subarray(p * c.headDim, (p + B) * c.headDim))).toBeLessThan(TOL);
  });

  it("decoding against a subset of positions equals full attention masked to that subset", () => {
    const n = tokens.length - 1;
    const positions = range(0, tokens.length);
    const past = wasm.forward({ tokens: tokens.slice(0, n), positions: range(0, n), logits: "none" }).kv;
    // Keep sinks 0..1, every third position, and the last 4 (the same subset in every head and layer).
    const keep = (p: number) => p < 2 || p % 3 === 0 || p >= n - 4;
    const subset = filterKv(past, (_l, _h, p) => keep(p), c.headDim);
    const step = wasm.forward({ tokens: [tokens[n]], positions: [n], past: subset });
    // Earlier tokens attend causally (their KV was computed with full attention); the last sees the subset and itself.
    const ref = referenceForward(weights, tokens, positions, (i, j) => (i === n ? j === n || keep(j) : causal(i, j)));
    expect(maxDiff(step.logits, row(ref.logits, n))).toBeLessThan(TOL);
    // And differs from unmasked attention, so the subset mattered.
    const fullStep = wasm.forward({ tokens: [tokens[n]], positions: [n], past });
    expect(maxDiff(step.logits, fullStep.logits)).toBeGreaterThan(1e-3);
  });

  it("heads may retain different positions", () => {
    const n = 30;
    const past = wasm.forward({ tokens: tokens.slice(0, n), positions: range(0, n), logits: "none" }).kv;
    const keep = (l: number, h: number, p: number) => (p + l + h) % 2 === 0 || p > 25;
    const a = wasm.forward({ tokens: [tokens[n]], positions: [n], past: filterKv(past, keep, c.headDim) });
    const b = js.forward({ tokens: [tokens[n]], positions: [n], past: filterKv(past, keep, c.headDim) });
    expect(maxDiff(a.logits, b.logits)).toBeLessThan(TOL);
  });

  it("the block mask used for layer profiling equals the naive block-causal reference", () => {
    const B = 8;
    const out = wasm.forward({ tokens, positions: range(0, tokens.length), logits: "all", blockSize: B });
    const ref = referenceForward(weights, tokens, range(0, tokens.length), blockCausal(B));
    expect(maxDiff(out.logits, ref.logits)).toBeLessThan(TOL);
    // The first block sees the same context as causal attention; later blocks do not.
    const full = wasm.forward({ tokens, positions: range(0, tokens.length), logits: "all" });
    expect(maxDiff(row(out.logits, B - 1), row(full.logits, B - 1))).toBeLessThan(TOL);
    expect(maxDiff(row(out.logits, B + 3), row(full.logits, B + 3))).toBeGreaterThan(1e-3);
  });

  it("rejects out-of-range tokens and positions, and supplied KV that does not precede the new tokens", () => {
    const past = wasm.forward({ tokens: [1, 2, 3], positions: [0, 1, 2], logits: "none" }).kv;
    expect(() => wasm.forward({ tokens: [V], positions: [0] })).toThrow(KvError);
    expect(() => wasm.forward({ tokens: [1, 2], positions: [5, 5] })).toThrow(/strictly increasing/);
    expect(() => wasm.forward({ tokens: [1], positions: [-1] })).toThrow(/outside/);
    expect(() => wasm.forward({ tokens: [1], positions: [c.maxPositions] })).toThrow(/outside/);
    expect(() => wasm.forward({ tokens: [1], positions: [2], past })).toThrow(/not before/);
    expect(() => wasm.forward({ tokens: [1], positions: [3], past: past.slice(1) })).toThrow(/layers/);
  });
});
