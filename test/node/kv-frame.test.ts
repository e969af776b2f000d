// Frames streamed from pages (durable-objects/kv/frame-stream.ts) against the
// backend's own encoder and parser: an fp32 frame is byte-identical to
// backend/protocol/kv-frame.ts + writeSafetensors for the same cache; an int8
// frame (pages sent as stored) parses with readKv and dequantizes within the
// quantization bound; and the additive `return_block_queries` field returns
// the block's queries, equal to the same tokens' queries run as a prompt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kvTensors, readKv } from "../../backend/protocol/kv-frame";
import { PROTOCOL } from "../../backend/protocol/calls";
import { parseSafetensors, readF32, requireTensor, writeSafetensors } from "../../protocol/safetensors";
import type { KvCache } from "../../backend/model/kv";
import { frameBytes, kvRequestFrame } from "../../durable-objects/kv/frame-stream";
import { MemoryPageStore } from "../../durable-objects/kv/page-store";
import { encodeHeadPages } from "../../durable-objects/kv/pages";
import { maxAbsDiff, startKvTestBackend, type KvTestBackend } from "./kv-helpers";

let t: KvTestBackend;
beforeAll(async () => {
  t = await startKvTestBackend();
});
afterAll(() => t.backend.close());

/** A cache with different positions per head (as after pooled eviction), from a real prefill. */
async function realCache(): Promise<KvCache> {
  const tokens = Array.from({ length: 300 }, (_, i) => 32 + ((i * 37) % 90));
  const r = await t.client.frameCall("/kv/v1/prefill", { tokens, start_position: 0 }, { frame: null });
  const model = t.backend.state.models.get("epikv-tiny")!;
  const kv = readKv(r.file, model.config)!;
  return kv.map((layer, l) => layer.map((h, k) => {
    const keep = [...h.positions.keys()].filter((i) => (i + l + k) % 3 !== 0);
    const d = model.config.headDim;
    return {
      positions: Int32Array.from(keep, (i) => h.positions[i]),
      keys: Float32Array.from(keep.flatMap((i) => [...h.keys.subarray(i * d, (i + 1) * d)])),
      values: Float32Array.from(keep.flatMap((i) => [...h.values.subarray(i * d, (i + 1) * d)])),
    };
  }));
}

describe("frames streamed from pages", () => {
  it("fp32: byte-identical to the backend's encoder", async () => {
    const kv = await realCache();
    const store = new MemoryPageStore();
    kv.forEach((layer, l) => store.replaceLayer("c", l, layer.flatMap((h, k) => encodeHeadPages(h, k, t.model.headDim, { dtype: "fp32" }, t.kernels))));
    const request = { tokens: [1, 2, 3] };
    const ours = frameBytes(kvRequestFrame(store, "c", t.model, { dtype: "fp32" }, request, t.kernels));
    const reference = writeSafetensors(kvTensors(kv, t.model.headDim), { protocol: PROTOCOL, request: JSON.stringify(request), kv_dtype: "F32" });
    expect(ours).toEqual(reference);
  });

  it("a cache dropped while it streams (a fold's later swap) stays whole until the stream ends, then goes", async () => {
    const kv = await realCache();
    const store = new MemoryPageStore();
    kv.forEach((layer, l) => store.replaceLayer("c", l, layer.flatMap((h, k) => encodeHeadPages(h, k, t.model.headDim, { dtype: "fp32" }, t.kernels))));
    const whole = frameBytes(kvRequestFrame(store, "c", t.model, { dtype: "fp32" }, { tokens: [1] }, t.kernels));
    const frame = kvRequestFrame(store, "c", t.model, { dtype: "fp32" }, { tokens: [1] }, t.kernels);
    const chunks = frame.chunks();
    const got: Uint8Array[] = [chunks.next().value!, chunks.next().value!];
    store.dropCache("c");
    expect(store.bytes("c")).toBeGreaterThan(0); // deferred: a reader holds it
    for (let r = chunks.next(); !r.done; r = chunks.next()) got.push(r.value);
    const streamed = new Uint8Array(got.reduce((n, c) => n + c.byteLength, 0));
    got.reduce((at, c) => (streamed.set(c, at), at + c.byteLength), 0);
    expect(streamed).toEqual(whole);
    expect(store.bytes("c")).toBe(0); // dropped when the stream ended
    // No reader: a drop is immediate; a stream abandoned early releases its pin too.
    store.replaceLayer("d", 0, kv[0]!.flatMap((h, k) => encodeHeadPages(h, k, t.model.headDim, { dtype: "fp32" }, t.kernels)));
    const abandoned = kvRequestFrame(store, "d", t.model, { dtype: "fp32" }, { tokens: [1] }, t.kernels).chunks();
    abandoned.next();
    store.dropCache("d");
    expect(store.bytes("d")).toBeGreaterThan(0);
    abandoned.return(undefined);
    expect(store.bytes("d")).toBe(0);
  });

  it("int8: pages go on the wire as stored; the backend reads them within the quantization bound", async () => {
    const kv = await realCache();
    const store = new MemoryPageStore();
    const enc = { dtype: "int8", groupSize: 64 } as const;
    kv.forEach((layer, l) => store.replaceLayer("c", l, layer.flatMap((h, k) => encodeHeadPages(h, k, t.model.headDim, enc, t.kernels))));
    const frame = frameBytes(kvRequestFrame(store, "c", t.model, enc, { tokens: [1] }, t.kernels));
    const back = readKv(parseSafetensors(frame), t.backend.state.models.get("epikv-tiny")!.config)!;
    kv.forEach((layer, l) => layer.forEach((h, k) => {
      expect([...back[l][k].positions]).toEqual([...h.positions]);
      let range = 0;
      for (const x of h.keys) range = Math.max(range, Math.abs(x));
      expect(maxAbsDiff(back[l][k].keys, h.keys)).toBeLessThanOrEqual((2 * range) / 255 / 2 + 1e-6);
    }));
    // And the backend accepts it for a prefill.
    const res = await fetch(t.backend.url + "/kv/v1/prefill", { method: "POST", headers: { "content-type": "application/x-safetensors" }, body: frame as Uint8Array<ArrayBuffer> });
    expect(res.status).toBe(200);
  });

  it("return_block_queries: the block's own queries equal the same tokens run as a prompt", async () => {
    const block = [10, 20, 30, 40, 50, 60];
    const extra = [70, 80, 90];
    const whole = await t.client.frameCall("/kv/v1/prefill", { tokens: [...block, ...extra], start_position: 0, return_kv: false, return_block_queries: true }, { frame: null });
    const asPrompt = await t.client.frameCall("/kv/v1/prefill", { tokens: block, start_position: 0, return_kv: false, prompts: [{ tokens: extra }] }, { frame: null });
    const { heads, headDim: d, layers } = t.model;
    const T = block.length + extra.length;
    for (let l = 0; l < layers; l++) {
      const q = readF32(requireTensor(whole.file, `block.queries.${l}`, "F32", [heads, T, d]));
      const p = readF32(requireTensor(asPrompt.file, `prompt.0.queries.${l}`, "F32", [heads, extra.length, d]));
      for (let h = 0; h < heads; h++) {
        expect(maxAbsDiff(q.subarray((h * T + block.length) * d, (h * T + T) * d), p.subarray(h * extra.length * d, (h + 1) * extra.length * d))).toBeLessThanOrEqual(1e-5);
      }
    }
    const none = await t.client.frameCall("/kv/v1/prefill", { tokens: block, start_position: 0 }, { frame: null });
    expect(none.file.tensors.has("block.queries.0")).toBe(false);
  });
});
