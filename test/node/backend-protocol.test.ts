// The KV wire protocol over real HTTP against the reference backend (tiny
// model, port 0): round trips agree with the in-process model, malformed
// input gets a clear OpenAI-style error, and the server keeps serving.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";
import { concatKv, type KvCache } from "../../backend/model/kv";
import { argmax } from "../../backend/model/sample";
import { readKv, type KvEncoding } from "../../backend/protocol/kv-frame";
import { maxAttentionScores } from "../../backend/protocol/scores";
import { PROTOCOL } from "../../backend/protocol/calls";
import { chatOpening, messageTokens, rolePrefix } from "../../durable-objects/kv/conversation-kv";
import { parseModelInfo } from "../../durable-objects/kv/model-info";
import { parseSafetensors, readF32, type TensorInput } from "../../protocol/safetensors";
import type { Model } from "../../backend/model/forward";
import { expectError as expectErrorAt, frameHeaders, frameOf, maxDiff, post as postTo, requestFrame as frameFor } from "./support/kv-http";
import { kvMalformedSuite } from "./support/kv-malformed-suite";

let backend: RunningBackend;
let model: Model;
const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
const text = "The quick brown fox jumps over the lazy dog; naïve café ☕ 12345.";
let tokens: number[];

beforeAll(async () => {
  backend = await startBackend(0);
  model = backend.state.models.get("epikv-tiny")!;
});
afterAll(() => backend.close());

const post = (path: string, body: unknown, headers?: Record<string, string>) => postTo(backend.url, path, body, headers);
const requestFrame = (request: unknown, kv?: KvCache, enc?: KvEncoding, extra?: [string, TensorInput][]) => frameFor(model, request, kv, enc, extra);

const expectError = (res: Response, status: number, code: string, message: RegExp) => expectErrorAt(backend.url, res, status, code, message);

describe("KV protocol over HTTP", () => {
  it("publishes model metadata", async () => {
    const meta = (await (await fetch(backend.url + "/kv/v1/models/epikv-tiny")).json()) as Record<string, any>;
    expect(meta).toMatchObject({ protocol: PROTOCOL, id: "epikv-tiny", layers: 4, heads: 4, kv_heads: 2, head_dim: 16, vocab_size: 264, rope: { theta: 10000 } });
    expect(meta.role_tokens.user).toBe(259);
    expect(meta.role_prefixes).toEqual({ system: [258], user: [259], assistant: [260], tool: [261] });
    expect(meta.message_suffix).toEqual([262]);
    expect(meta.chat_template).toContain("<|assistant|>");
    const list = (await (await fetch(backend.url + "/v1/models")).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(["epikv-tiny"]);
  });

  it("tokenizes and detokenizes text (byte-level) and chats (template with role tokens)", async () => {
    const t = (await (await post("/kv/v1/tokenize", { text })).json()) as { tokens: number[] };
    tokens = t.tokens;
    expect(tokens).toEqual([...new TextEncoder().encode(text)]);
    const d = (await (await post("/kv/v1/detokenize", { tokens })).json()) as { text: string };
    expect(d.text).toBe(text);
    const chat = (await (await post("/kv/v1/tokenize", { messages: [{ role: "user", content: "<|end|>" }] })).json()) as { tokens: number[] };
    expect(chat.tokens).toEqual([256, 259, ...new TextEncoder().encode("<|end|>"), 262, 260]);
    // The template frames each message exactly as the edge does from role_prefixes and message_suffix.
    const meta = parseModelInfo(await (await fetch(backend.url + "/kv/v1/models/epikv-tiny")).json());
    const messages = [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }];
    const framed = (await (await post("/kv/v1/tokenize", { messages, add_generation_prompt: true })).json()) as { tokens: number[] };
    expect(framed.tokens).toEqual([...chatOpening(meta), ...messages.flatMap((m) => messageTokens(meta, m.role, [...new TextEncoder().encode(m.content)])), ...rolePrefix(meta, "assistant")]);
  });

  it("prefills block by block against returned KV and matches one in-process full pass", async () => {
    const p = 30, n = tokens.length;
    const a = await frameOf(await post("/kv/v1/prefill", { tokens: tokens.slice(0, p) }));
    expect(a.response).toMatchObject({ first_position: 0, last_position: p - 1, tokens: p });
    const kvA = readKv(a.file, model.config)!;
    const b = await frameOf(await post("/kv/v1/prefill", requestFrame({ tokens: tokens.slice(p), start_position: p, return_logits: "last" }, kvA), frameHeaders));
    const kvB = readKv(b.file, model.config)!;
    expect([...kvB[0][0].positions]).toEqual(range(p, n - p));
    const full = model.forward({ tokens, positions: range(0, n), logits: "last" });
    const both = concatKv(kvA, kvB);
    for (let l = 0; l < 4; l++) expect(maxDiff(both[l][1].keys, full.kv[l][1].keys)).toBeLessThan(2e-4);
    expect(maxDiff(readF32(b.file.tensors.get("logits")!), full.logits)).toBeLessThan(2e-4);
  });

  it("returns post-RoPE queries of representative prompts and their max-attention scores", async () => {
    const p = 20;
    const prompt = tokens.slice(40, 48);
    const res = await frameOf(await post("/kv/v1/prefill", { tokens: tokens.slice(0, p), prompts: [{ tokens: prompt }], return_scores: true }));
    expect(res.response.prompts).toEqual([{ tokens: 8, first_position: p, last_position: p + 7 }]);
    const kv = readKv(res.file, model.config)!;
    const queries = range(0, 4).map((l) => readF32(res.file.tensors.get(`prompt.0.queries.${l}`)!));
    expect(res.file.tensors.get("prompt.0.queries.3")!.shape).toEqual([4, 8, 16]);
    const local = model.forward({ tokens: prompt, positions: range(p, 8), past: kv, logits: "none", captureQueries: true });
    queries.forEach((q, l) => expect(maxDiff(q, local.queries![l])).toBeLessThan(2e-4));
    const scores = maxAttentionScores(model.config, queries, kv);
    for (let l = 0; l < 4; l++)
      for (let h = 0; h < 2; h++) {
        const s = readF32(res.file.tensors.get(`prompt.0.scores.${l}.${h}`)!);
        expect(s.length).toBe(p);
        expect(maxDiff(s, scores[l][h])).toBeLessThan(1e-6);
        expect(Math.max(...s)).toBeLessThanOrEqual(1);
        expect(Math.min(...s)).toBeGreaterThan(0);
      }
  });

  it("decodes greedily against supplied KV at explicit positions, streaming, and returns the new tokens' KV", async () => {
    const p = 25;
    const kv = model.forward({ tokens: tokens.slice(0, p), positions: range(0, p), logits: "none" }).kv;
    // Reference: greedy continuation of the whole sequence in process.
    let seq = tokens.slice(0, p + 3);
    const expected: number[] = [];
    for (let i = 0; i < 5; i++) {
      const next = argmax(model.forward({ tokens: seq, positions: range(0, seq.length) }).logits);
      expected.push(next);
      seq = [...seq, next];
    }
    const req = { tokens: tokens.slice(p, p + 3), positions: range(p, 3), max_tokens: 5, stop_tokens: [] };
    const plain = await frameOf(await post("/kv/v1/decode", requestFrame(req, kv), frameHeaders));
    expect(plain.response.tokens).toEqual(expected);
    expect(plain.response).toMatchObject({ finish_reason: "length", next_position: p + 8, usage: { prompt_tokens: 3, completion_tokens: 5, cached_entries: 4 * 2 * p } });
    expect([...readKv(plain.file, model.config)![3][1].positions]).toEqual(range(p, 8));

    const sse = await (await post("/kv/v1/decode", requestFrame({ ...req, stream: true }, kv), frameHeaders)).text();
    const events = sse.trim().split("\n\n").map((e) => ({ event: /^event: (.*)$/m.exec(e)![1], data: JSON.parse(/^data: (.*)$/m.exec(e)![1]) }));
    expect(events.filter((e) => e.event === "token").map((e) => e.data.token)).toEqual(expected);
    const done = events.at(-1)!;
    expect(done.event).toBe("done");
    const streamedKv = readKv(parseSafetensors(Buffer.from(done.data.frame, "base64")), model.config)!;
    expect(maxDiff(streamedKv[2][0].values, readKv(plain.file, model.config)![2][0].values)).toBe(0);
  });

  it("accepts int8 group-quantized KV and returns it int8-encoded on request", async () => {
    const p = 30;
    const kv = model.forward({ tokens: tokens.slice(0, p), positions: range(0, p), logits: "none" }).kv;
    const res = await frameOf(await post("/kv/v1/prefill", requestFrame({ tokens: tokens.slice(p, p + 4), return_logits: "last", kv_encoding: { dtype: "int8", group_size: 32 } }, kv, { dtype: "int8", groupSize: 64 }), frameHeaders));
    expect(res.file.metadata.kv_dtype).toBe("int8");
    expect(res.file.tensors.get("kv.0.0.keys.q")!.dtype).toBe("U8");
    const back = readKv(res.file, model.config)!;
    const exact = model.forward({ tokens: tokens.slice(p, p + 4), positions: range(p, 4), past: kv, logits: "last" });
    // Error of int8 with groups of 32: at most half a step of (max − min)/255 per group.
    expect(maxDiff(back[1][1].keys, exact.kv[1][1].keys)).toBeLessThan(0.05);
    expect(maxDiff(readF32(res.file.tensors.get("logits")!), exact.logits)).toBeLessThan(0.5);
    expect(argmax(readF32(res.file.tensors.get("logits")!))).toBe(argmax(exact.logits));
  });

  it("pins KV under a handle (Continuum-style) and answers a clear miss once it is gone", async () => {
    const first = await frameOf(await post("/kv/v1/prefill", { tokens: tokens.slice(0, 20), keep: { ttl_s: 60 }, return_kv: false }));
    const handle = first.response.kv_handle as string;
    expect(handle).toMatch(/^kvh_/);
    expect(first.file.tensors.size).toBe(0);
    const viaHandle = await frameOf(await post("/kv/v1/decode", { kv_handle: handle, tokens: [tokens[20]], max_tokens: 4, stop_tokens: [] }));
    const kv = model.forward({ tokens: tokens.slice(0, 20), positions: range(0, 20), logits: "none" }).kv;
    const viaBytes = await frameOf(await post("/kv/v1/decode", requestFrame({ tokens: [tokens[20]], max_tokens: 4, stop_tokens: [] }, kv), frameHeaders));
    expect(viaHandle.response.tokens).toEqual(viaBytes.response.tokens);
    const stored = await frameOf(await fetch(`${backend.url}/kv/v1/handles/${handle}`));
    expect(readKv(stored.file, model.config)![0][0].positions.length).toBe(20);
    expect((await fetch(`${backend.url}/kv/v1/handles/${handle}`, { method: "DELETE" })).status).toBe(204);
    await expectError(await post("/kv/v1/decode", { kv_handle: handle, tokens: [1] }), 409, "kv_handle_miss", /unknown or expired; resend the KV bytes/);
    await expectError(await post("/kv/v1/decode", requestFrame({ kv_handle: "kvh_x", tokens: [1] }, kv), frameHeaders), 400, "invalid_request", /either kv tensors or kv_handle/);
  });
});


kvMalformedSuite("reference backend", () => ({ url: backend.url, model, startSmall: (maxBodyBytes) => startBackend(0, { maxBodyBytes }) }));
