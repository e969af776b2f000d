// Selection (issue 5, "Must show"): for every policy, the positions kept per
// layer and KV head equal the oracle selection (wasm/oracle selectKeep,
// plain TS) computed from the same scores; EpiCache's scores themselves
// equal the backend's own max-attention scores for the same cache, block
// and representative prompt (return_scores), and StreamingLLM keeps exactly
// the sinks plus the latest positions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readF32, requireTensor } from "../../protocol/safetensors";
import { prefillBlock, type KvEngine } from "../../durable-objects/kv/block-prefill";
import type { LayerSelection } from "../../durable-objects/kv/evict";
import { frameBytes, kvRequestFrame } from "../../durable-objects/kv/frame-stream";
import { chatOpening, messageTokens } from "../../durable-objects/kv/conversation-kv";
import { POLICIES } from "../../durable-objects/kv/policies/index";
import { STREAMING_SINKS } from "../../durable-objects/kv/policies/recent";
import type { PolicyName } from "../../durable-objects/kv/policies/index";
import { kvOracle } from "../../wasm/oracle/kv";
import { encodeUtf8, startKvTestBackend, topicMessages, type KvTestBackend } from "./kv-helpers";

let t: KvTestBackend;
beforeAll(async () => {
  t = await startKvTestBackend();
});
afterAll(() => t.backend.close());

const B = 48;
const BUDGET = 20;

function conversationTokens(): number[] {
  const m = t.model;
  return [...chatOpening(m), ...topicMessages(10).flatMap((msg) => messageTokens(m, msg.role, encodeUtf8(msg.content)))];
}

/** Kept positions per head from a keep mask over the union layout (absent cells are NaN-scored and never real). */
function oracleKept(s: LayerSelection): Int32Array[] {
  const n = s.positions.length, H = s.kept.length;
  const mask = kvOracle.selectKeep(s.scores, H, { budget: s.budget, mode: s.mode, protect: s.protect });
  return Array.from({ length: H }, (_, h) => Int32Array.from([...s.positions].filter((_, i) => mask[h * n + i] && !Number.isNaN(s.scores[h * n + i]))));
}

describe.each(["recent", "h2o", "snapkv", "epicache"] as PolicyName[])("selection of %s", (name) => {
  it("keeps exactly the oracle selection, within budget, order preserved", async () => {
    const events: { layer: number; selection: LayerSelection }[] = [];
    const engine: KvEngine = t.engine({ dtype: "fp32" }, { onSelection: (e) => events.push(e) });
    const m = t.model;
    const tokens = conversationTokens();
    const spec = { cache: "sel", policy: POLICIES[name], budgets: Array.from({ length: m.layers }, (_, l) => BUDGET + 4 * l), promptTokens: encodeUtf8("About the garden: tomatoes and basil.") };
    const blocks = Math.floor(tokens.length / B);
    expect(blocks).toBeGreaterThanOrEqual(5);
    for (let b = 0; b < blocks; b++) {
      const before = events.length;
      const supplied = engine.store.bytes("sel") > 0 ? frameBytes(kvRequestFrame(engine.store, "sel", m, engine.encoding, { tokens: tokens.slice(b * B, (b + 1) * B), start_position: b * B, prompts: [{ tokens: spec.promptTokens }], return_scores: true, return_kv: false }, t.kernels)) : null;
      await prefillBlock(engine, spec, tokens.slice(b * B, (b + 1) * B), b * B);
      if (b > 0) expect(events.length - before).toBe(m.layers); // every layer over budget after the first block
      if (name === "epicache" && supplied) {
        // The backend's own scores for the same cache + block + prompt.
        const res = await fetch(t.backend.url + "/kv/v1/prefill", { method: "POST", headers: { "content-type": "application/x-safetensors" }, body: supplied as Uint8Array<ArrayBuffer> });
        const file = (await import("../../protocol/safetensors")).parseSafetensors(new Uint8Array(await res.arrayBuffer()));
        for (const e of events.slice(before)) {
          const n = e.selection.positions.length;
          for (let h = 0; h < m.kvHeads; h++) {
            const backendScores = readF32(requireTensor(file, `prompt.0.scores.${e.layer}.${h}`, "F32"));
            const ours = [...e.selection.scores.subarray(h * n, (h + 1) * n)].filter((x) => !Number.isNaN(x));
            expect(ours.length).toBe(backendScores.length);
            ours.forEach((x, i) => expect(Math.abs(x - backendScores[i])).toBeLessThanOrEqual(1e-5));
          }
        }
      }
    }
    expect(events.length).toBeGreaterThan(0);
    for (const { layer, selection: s } of events) {
      expect(s.kept).toEqual(oracleKept(s));
      const budget = spec.budgets[layer];
      const counts = s.kept.map((k) => k.length);
      if (POLICIES[name].mode === "pooled") expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(budget * m.kvHeads);
      else for (const c of counts) expect(c).toBeLessThanOrEqual(budget);
      for (const k of s.kept) for (let i = 1; i < k.length; i++) expect(k[i]).toBeGreaterThan(k[i - 1]);
      if (name === "recent") {
        for (const k of s.kept) {
          const latest = [...s.positions].filter((p) => p >= STREAMING_SINKS).slice(-(budget - STREAMING_SINKS));
          expect([...k]).toEqual([...Array.from({ length: STREAMING_SINKS }, (_, i) => i), ...latest]);
        }
      }
    }
    // The stored cache is what the last selection kept.
    for (let l = 0; l < m.layers; l++) {
      const last = events.filter((e) => e.layer === l).at(-1)!;
      expect(engine.store.headCounts("sel", l, m.kvHeads)).toEqual(last.selection.kept.map((k) => k.length));
    }
  });
});
