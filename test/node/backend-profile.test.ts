// Layer sensitivity profiling (docs/architecture.md, EpiCache step 6) with the intended
// block-restricted mask, on the tiny model; and the handle store's TTL/LRU.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";
import { blockCausal } from "../../backend/model/reference";
import { profileSensitivity } from "../../backend/protocol/profile";
import { KvHandleStore } from "../../backend/protocol/handles";
import { emptyKv } from "../../backend/model/kv";
import { ProtocolError } from "../../backend/protocol/errors";

let backend: RunningBackend;
beforeAll(async () => {
  backend = await startBackend(0);
});
afterAll(() => backend.close());

const texts = [
  "Alice said, \"I moved to Lisbon last spring and started learning Portuguese.\"\nBob said, \"How is the weather?\"\n",
  "Bob said, \"My dog Rex chased a cat up the old oak tree again this morning.\"\nAlice said, \"Poor cat.\"\n",
];

describe("layer sensitivity profiling", () => {
  it("the block mask lets a token see only earlier tokens of its own block", () => {
    const m = blockCausal(4);
    expect([0, 1, 2, 3, 4, 5].map((j) => m(5, j))).toEqual([false, false, false, false, true, true]);
    expect(m(3, 3) && m(3, 0) && !m(3, 4) && !m(4, 3)).toBe(true);
  });

  it("layer 0 keys are unaffected (cosine 1), deeper layers deviate, smaller blocks deviate more", async () => {
    const res = await fetch(backend.url + "/kv/v1/profile", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts, block_size: 16 }) });
    expect(res.status).toBe(200);
    const p = (await res.json()) as { sensitivity: number[]; per_head: number[][]; tokens: number };
    expect(p.sensitivity).toHaveLength(4);
    expect(p.per_head).toHaveLength(4);
    // Keys of layer 0 depend on the token embedding only, so no mask can change them.
    expect(p.sensitivity[0]).toBeCloseTo(1, 6);
    for (const s of p.sensitivity.slice(1)) {
      expect(s).toBeLessThan(0.9999);
      expect(s).toBeGreaterThan(-1);
    }
    const model = backend.state.models.get("epikv-tiny")!;
    const windows = texts.map((t) => [...new TextEncoder().encode(t)]);
    const coarse = profileSensitivity(model, windows, 64);
    const fine = profileSensitivity(model, windows, 4);
    const mean = (xs: number[]) => xs.slice(1).reduce((a, b) => a + b, 0) / (xs.length - 1);
    expect(mean(fine.sensitivity)).toBeLessThan(mean(coarse.sensitivity));
  });

  it("a block as long as the window changes nothing and is refused", async () => {
    const res = await fetch(backend.url + "/kv/v1/profile", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts: ["short"], block_size: 16 }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/beyond the first block/);
  });
});

describe("kv handle store", () => {
  const c = { name: "m", layers: 1, dModel: 4, heads: 1, kvHeads: 1, headDim: 2, ffnDim: 4, vocabSize: 4, ropeTheta: 10000, rmsEps: 1e-5, maxPositions: 16 };
  const kv = (n: number) => [[{ positions: new Int32Array(n), keys: new Float32Array(2 * n), values: new Float32Array(2 * n) }]];

  it("expires entries after their TTL and names the miss", () => {
    let now = 1000;
    const store = new KvHandleStore(1 << 20, 60, () => now);
    const { handle } = store.put("m", emptyKv(c), 10);
    expect(store.get("m", handle)).toHaveLength(1);
    now += 10_001;
    expect(() => store.get("m", handle)).toThrow(ProtocolError);
    expect(() => store.get("m", handle)).toThrow(/unknown or expired/);
    expect(() => store.put("m", emptyKv(c), 61)).toThrow(/ttl_s/);
  });

  it("evicts the least recently used when over its byte budget", () => {
    const store = new KvHandleStore(100, 60);
    const a = store.put("m", kv(2), 60).handle; // 40 bytes
    const b = store.put("m", kv(2), 60).handle;
    store.get("m", a); // a is now the most recent
    store.put("m", kv(2), 60);
    expect(() => store.get("m", b)).toThrow(/unknown or expired/);
    expect(store.get("m", a)).toBeDefined();
    expect(() => store.get("other", a)).toThrow(/belongs to model "m"/);
  });
});
