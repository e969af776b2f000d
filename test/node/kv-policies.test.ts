// Conformance of every eviction policy on synthetic layers (no backend):
// one score per entry, selection within budget and order-preserving, the
// WASM kernels and the plain-TS oracles select the same entries, protection
// never exceeds the budget, a layer within budget is left untouched; plus
// budgets (bytes → M, per-layer floors) and page encoding edge cases.
import { describe, expect, it } from "vitest";
import { isPolicyName, POLICIES, POLICY_NAMES, policyByName } from "../../durable-objects/kv/policies/index";
import type { LayerScoreInput } from "../../durable-objects/kv/policy";
import { clampProtection, evictLayer, overBudget } from "../../durable-objects/kv/evict";
import type { HeadEntries } from "../../durable-objects/kv/layer-cache";
import { entryBytes, layerBudgets, tokensPerHead } from "../../durable-objects/kv/budgets";
import { decodeHeadPages, encodeHeadPages, pageEntries } from "../../durable-objects/kv/pages";
import type { KvModelInfo } from "../../durable-objects/kv/model-info";
import { kvOracle } from "../../wasm/oracle/kv";
import { loadWasmModule } from "../../wasm/src/node-module";
import { wasmKernels } from "../../wasm/src/wasm-kernels";

const wasm = wasmKernels(loadWasmModule());
const D = 8, HEADS = 4, KV = 2;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** Heads with different retained positions followed by a shared block of T positions. */
function layer(seed: number, cached: number[], T: number, acc: boolean): HeadEntries[] {
  const r = rng(seed);
  const start = 1000;
  return cached.map((n) => {
    const old = Array.from({ length: n }, (_, i) => i * 3 + (seed % 2));
    const positions = Int32Array.from([...old, ...Array.from({ length: T }, (_, i) => start + i)]);
    const total = positions.length;
    const h: HeadEntries = { positions, keys: Float32Array.from({ length: total * D }, r), values: Float32Array.from({ length: total * D }, r) };
    if (acc) h.acc = Float32Array.from({ length: total }, () => Math.abs(r()));
    return h;
  });
}

function input(seed: number, entries: HeadEntries[], T: number, budget: number, kernels: LayerScoreInput["kernels"] = wasm): LayerScoreInput {
  const r = rng(seed + 7);
  return {
    layer: 0, entries, blockTokens: T, heads: HEADS, kvHeads: KV, headDim: D, budget, kernels,
    promptQueries: Float32Array.from({ length: HEADS * 5 * D }, r),
    blockQueries: Float32Array.from({ length: HEADS * T * D }, r),
  };
}

const clone = (l: HeadEntries[]) => l.map((h) => ({ positions: h.positions.slice(), keys: h.keys.slice(), values: h.values.slice(), acc: h.acc?.slice() }));

describe("the policy registry (policies/index.ts)", () => {
  it("names each policy by its key, and accepts exactly those names", () => {
    expect(POLICY_NAMES.length).toBeGreaterThanOrEqual(5);
    for (const name of POLICY_NAMES) {
      expect(POLICIES[name].name).toBe(name);
      expect(policyByName(name)).toBe(POLICIES[name]);
      expect(isPolicyName(name)).toBe(true);
    }
    for (const bad of ["", "H2O", "toString", "__proto__", 1, null]) expect(isPolicyName(bad)).toBe(false);
    expect(() => policyByName("toString")).toThrow(/unknown kv policy/);
  });
});

describe.each(POLICY_NAMES)("policy %s", (name) => {
  const policy = POLICIES[name];
  it.each([[1, 5], [7, 12], [40, 3]])("seed %i, budget %i: within budget, ordered, WASM = oracle", (seed, budget) => {
    const T = 33;
    const base = layer(seed, [20 + seed, 9], T, policy.needs.accumulator);
    const viaWasm = evictLayer(wasm, policy, input(seed, clone(base), T, budget));
    const viaOracle = evictLayer(kvOracle, policy, input(seed, clone(base), T, budget, kvOracle));
    viaWasm.layer.forEach((h, i) => {
      expect([...h.positions]).toEqual([...viaOracle.layer[i].positions]);
      for (let j = 1; j < h.positions.length; j++) expect(h.positions[j]).toBeGreaterThan(h.positions[j - 1]);
      expect(h.keys.length).toBe(h.positions.length * D);
      // Kept entries carry their own keys (gathered, not re-indexed).
      const src = base[i];
      h.positions.forEach((p, j) => {
        const at = [...src.positions].indexOf(p);
        expect([...h.keys.subarray(j * D, (j + 1) * D)]).toEqual([...src.keys.subarray(at * D, (at + 1) * D)]);
      });
    });
    const counts = viaWasm.layer.map((h) => h.positions.length);
    if (!policy.evicts) expect(counts).toEqual(base.map((h) => h.positions.length));
    else if (policy.mode === "pooled") expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(budget * KV);
    else for (const c of counts) expect(c).toBeLessThanOrEqual(budget);
    const scores = policy.score(input(seed, clone(base), T, budget));
    scores.forEach((s, i) => expect(s.length).toBe(base[i].positions.length));
  });

  it("leaves a layer within budget untouched", () => {
    const base = layer(3, [2, 4], 4, policy.needs.accumulator);
    const out = evictLayer(wasm, policy, input(3, base, 4, 100));
    expect(out.selection).toBeNull();
    expect(out.layer.map((h) => [...h.positions])).toEqual(base.map((h) => [...h.positions]));
    expect(overBudget(policy, base, 100)).toBe(false);
  });
});

describe("selection helpers, budgets, pages", () => {
  it("protection never exceeds the budget", () => {
    expect(clampProtection({ sinks: 4, recent: 32 }, 10)).toEqual({ sinks: 4, recent: 6 });
    expect(clampProtection({ sinks: 4, recent: 0 }, 2)).toEqual({ sinks: 2, recent: 0 });
  });

  it("a bytes budget becomes M over every episode cache; layer budgets keep a floor", () => {
    const m = { layers: 4, kvHeads: 2, headDim: 16 } as KvModelInfo;
    const enc = { dtype: "int8", groupSize: 64 } as const;
    expect(entryBytes(16, enc)).toBe(4 + 2 * (16 + 2));
    expect(tokensPerHead({ bytesPerConversation: 4 * 4 * 2 * 40 * 100 }, m, 4, enc)).toBe(100);
    expect(() => tokensPerHead({ bytesPerConversation: 10 }, m, 4, enc)).toThrow(/below one entry/);
    expect(() => tokensPerHead({ tokensPerHead: 0 }, m, 1, enc)).toThrow(/positive integer/);
    const b = layerBudgets(wasm, 4, 64, [1, 0.9, 0.5, 0.99], 1.1);
    for (const x of b) expect(x).toBeGreaterThanOrEqual(16);
    expect(layerBudgets(wasm, 4, 64, null)).toEqual([64, 64, 64, 64]);
    expect(layerBudgets(wasm, 4, 64, [1, 0, 0, 0], 0)).toEqual([64, 64, 64, 64]);
  });

  it("pages: int4 with odd lengths, group-aligned page sizes, fp32 exact", () => {
    for (const d of [16, 24, 3]) {
      for (const enc of [{ dtype: "fp32" }, { dtype: "int8", groupSize: 32 }, { dtype: "int4", groupSize: 128 }] as const) {
        const per = pageEntries(d, enc);
        if (enc.dtype !== "fp32") expect((per * d) % enc.groupSize).toBe(0);
        const r = rng(d);
        const n = per + 5;
        const head: HeadEntries = { positions: Int32Array.from({ length: n }, (_, i) => i * 2), keys: Float32Array.from({ length: n * d }, r), values: Float32Array.from({ length: n * d }, r) };
        const pages = encodeHeadPages(head, 0, d, enc, wasm);
        expect(pages.length).toBe(2);
        const back = decodeHeadPages(pages, d, enc, wasm);
        expect([...back.positions]).toEqual([...head.positions]);
        const tol = enc.dtype === "fp32" ? 0 : enc.dtype === "int8" ? 1 / 255 + 1e-6 : 1 / 15 + 1e-6;
        let worst = 0;
        for (let i = 0; i < head.keys.length; i++) worst = Math.max(worst, Math.abs(back.keys[i] - head.keys[i]));
        expect(worst).toBeLessThanOrEqual(tol);
      }
    }
    expect(decodeHeadPages([], 16, { dtype: "fp32" }, wasm).positions.length).toBe(0);
  });
});
