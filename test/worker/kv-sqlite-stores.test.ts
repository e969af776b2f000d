// kv mode's SQLite stores on real Durable Object SQLite (workerd): pages
// round-trip (fp32 exactly, int8/int4 within the quantization bound), rows
// stay far below 2 MB, counts/copy/drop/bytes agree with the in-memory store,
// a frame streamed from SQLite pages is byte-identical to one streamed from
// memory, and the token stream crosses chunk boundaries. The tables come from
// the object's one schema (conversation/schema.ts).
import { runInDurableObject } from "cloudflare:test";
import { env as rawEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../worker/env";
import { sqlOver } from "../../durable-objects/storage/sql";
import { migrate } from "../../durable-objects/conversation/schema";
import { SqlitePageStore } from "../../durable-objects/kv/sqlite-page-store";
import { MemoryPageStore } from "../../durable-objects/kv/page-store";
import { SqliteKvStateStore, TOKEN_CHUNK } from "../../durable-objects/kv/state-store";
import { decodeHeadPages, encodeHeadPages, MAX_PAGE_BYTES, type PageEncoding } from "../../durable-objects/kv/pages";
import { frameBytes, kvRequestFrame } from "../../durable-objects/kv/frame-stream";
import type { KvModelInfo } from "../../durable-objects/kv/model-info";
import type { HeadEntries } from "../../durable-objects/kv/layer-cache";
import { parseSafetensors } from "../../protocol/safetensors";
import { bundledKernels } from "../../wasm/src/bundled";

const env = rawEnv as unknown as Env;
const D = 16;
const model: KvModelInfo = { id: "test", layers: 2, heads: 4, kvHeads: 2, headDim: D, vocabSize: 264, bosToken: 256, rolePrefixes: {}, messageSuffix: [262], stopTokens: [262], maxInputTokens: 8192, maxPrompts: 16, maxPromptTokens: 4096, maxProfileTokens: 16384 };

function randomHead(n: number, seed: number, acc = false): HeadEntries {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const positions = new Int32Array(n);
  for (let i = 0, p = 0; i < n; i++) positions[i] = p += 1 + Math.floor(Math.abs(rand()) * 3);
  const head: HeadEntries = { positions, keys: Float32Array.from({ length: n * D }, rand), values: Float32Array.from({ length: n * D }, rand) };
  if (acc) head.acc = Float32Array.from({ length: n }, () => Math.abs(rand()));
  return head;
}

function inDo<T>(fn: (sql: ReturnType<typeof sqlOver>) => T | Promise<T>): Promise<T> {
  const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`kv-${crypto.randomUUID()}`));
  return runInDurableObject(stub, async (_i, state) => {
    const sql = sqlOver(state.storage.sql);
    // The object's constructor ran the migrations, kv mode's tables included.
    expect(migrate(sql)).toEqual([]);
    return fn(sql);
  });
}

describe("SqlitePageStore", () => {
  it.each([{ dtype: "fp32" }, { dtype: "int8", groupSize: 64 }, { dtype: "int4", groupSize: 32 }] as PageEncoding[])("round-trips pages ($dtype) and agrees with the memory store", async (enc) => {
    await inDo((sql) => {
      const k = bundledKernels();
      const store = new SqlitePageStore(sql), memory = new MemoryPageStore();
      const heads = [randomHead(2500, 1, true), randomHead(700, 2, true)];
      for (const s of [store, memory]) s.replaceLayer("e0.g0", 1, heads.flatMap((h, i) => encodeHeadPages(h, i, D, enc, k)));
      expect(store.headCounts("e0.g0", 1, 2)).toEqual([2500, 700]);
      expect(store.headCounts("e0.g0", 0, 2)).toEqual([0, 0]);
      expect(store.bytes("e0.g0")).toBe(memory.bytes("e0.g0"));
      const maxRow = sql.first<{ m: number }>`SELECT MAX(length(blob)) AS m FROM kv_pages`!.m;
      expect(maxRow).toBeLessThanOrEqual(MAX_PAGE_BYTES);
      expect(sql.first<{ n: number }>`SELECT COUNT(*) AS n FROM kv_pages WHERE head = 0`!.n).toBeGreaterThan(1);
      heads.forEach((h, i) => {
        const back = decodeHeadPages(store.readHead("e0.g0", 1, i), D, enc, k);
        expect([...back.positions]).toEqual([...h.positions]);
        expect([...back.acc!]).toEqual([...h.acc!]);
        const tol = enc.dtype === "fp32" ? 0 : enc.dtype === "int8" ? 2 / 255 : 2 / 15; // half a step of a group spanning [-1, 1]
        let worst = 0;
        for (let j = 0; j < h.keys.length; j++) worst = Math.max(worst, Math.abs(back.keys[j] - h.keys[j]), Math.abs(back.values[j] - h.values[j]));
        expect(worst).toBeLessThanOrEqual(tol / 2 + 1e-6);
      });
      // A frame from SQLite pages is the frame from memory pages, and parses.
      const fromSql = frameBytes(kvRequestFrame(store, "e0.g0", model, enc, { tokens: [1] }, k));
      expect(fromSql).toEqual(frameBytes(kvRequestFrame(memory, "e0.g0", model, enc, { tokens: [1] }, k)));
      const file = parseSafetensors(fromSql);
      expect(file.tensors.get("kv.1.0.positions")!.shape).toEqual([2500]);
      expect(file.tensors.has(enc.dtype === "int8" ? "kv.1.1.keys.q" : "kv.1.1.keys")).toBe(true);
      store.copyCache("e0.g0", "e0.g1");
      expect(store.bytes("e0.g1")).toBe(store.bytes("e0.g0"));
      store.replaceLayer("e0.g0", 1, []);
      expect(store.headCounts("e0.g0", 1, 2)).toEqual([0, 0]);
      store.dropCache("e0.g1");
      expect(store.bytes()).toBe(0);
    });
  });
});

describe("SqliteKvStateStore", () => {
  it("keeps the token stream across chunk rows, state values and queued rebuilds", async () => {
    await inDo((sql) => {
      const s = new SqliteKvStateStore(sql);
      const tokens = Array.from({ length: 2 * TOKEN_CHUNK + 123 }, (_, i) => (i * 7) % 264);
      s.appendTokens(tokens.slice(0, 1000));
      s.appendTokens(tokens.slice(1000));
      expect(s.tokenCount()).toBe(tokens.length);
      expect(sql.first<{ n: number }>`SELECT COUNT(*) AS n FROM kv_tokens`!.n).toBe(3);
      expect(s.readTokens(TOKEN_CHUNK - 5, TOKEN_CHUNK + 5)).toEqual(tokens.slice(TOKEN_CHUNK - 5, TOKEN_CHUNK + 5));
      expect(s.readTokens(0, tokens.length + 10)).toEqual(tokens);
      s.set("conversation", { folded: 256, episodes: [] });
      expect(s.get("conversation")).toEqual({ folded: 256, episodes: [] });
      expect(s.get("missing")).toBeNull();
      s.queueRebuild(3, [1, 2, 3]);
      s.queueRebuild(1, [4]);
      s.queueRebuild(3, [5, 6]);
      expect(s.rebuilds().find((r) => r.episode === 3)!.promptTokens).toEqual([5, 6]);
      s.doneRebuild(3);
      expect(s.rebuilds()).toEqual([{ episode: 1, promptTokens: [4] }]);
    });
  });
});
