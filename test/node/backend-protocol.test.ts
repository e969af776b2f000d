// The KV wire protocol over real HTTP against the reference backend (tiny
// model, port 0): round trips agree with the in-process model, malformed
// input gets a clear OpenAI-style error, and the server keeps serving.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";
import { concatKv, type KvCache } from "../../backend/model/kv";
import { argmax } from "../../backend/model/sample";
import { kvEncodingMetadata, kvTensors, readKv, type KvEncoding } from "../../backend/protocol/kv-frame";
import { maxAttentionScores } from "../../backend/protocol/scores";
import { PROTOCOL } from "../../backend/protocol/calls";
import { parseSafetensors, readF32, writeSafetensors, type SafetensorsFile, type TensorInput } from "../../protocol/safetensors";
import type { Model } from "../../backend/model/forward";

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

async function post(path: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }): Promise<Response> {
  return fetch(backend.url + path, { method: "POST", headers, body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body) });
}

function requestFrame(request: unknown, kv?: KvCache, enc: KvEncoding = { dtype: "F32" }, extra: [string, TensorInput][] = []): Uint8Array {
  const tensors = [...(kv ? kvTensors(kv, model.config.headDim, enc) : []), ...extra];
  return writeSafetensors(tensors, { protocol: PROTOCOL, request: JSON.stringify(request), ...(kv ? kvEncodingMetadata(enc) : {}) });
}
const frameHeaders = { "content-type": "application/x-safetensors" };

async function frameOf(res: Response): Promise<{ file: SafetensorsFile; response: Record<string, any> }> {
  expect(res.headers.get("content-type")).toBe("application/x-safetensors");
  const file = parseSafetensors(new Uint8Array(await res.arrayBuffer()));
  return { file, response: JSON.parse(file.metadata.response) };
}

async function expectError(res: Response, status: number, code: string, message: RegExp) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string; type: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
  // The server keeps serving.
  expect((await fetch(backend.url + "/healthz")).status).toBe(200);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
}

describe("KV protocol over HTTP", () => {
  it("publishes model metadata", async () => {
    const meta = (await (await fetch(backend.url + "/kv/v1/models/epikv-tiny")).json()) as Record<string, any>;
    expect(meta).toMatchObject({ protocol: PROTOCOL, id: "epikv-tiny", layers: 4, heads: 4, kv_heads: 2, head_dim: 16, vocab_size: 264, rope: { theta: 10000 } });
    expect(meta.role_tokens.user).toBe(259);
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

describe("KV protocol rejects malformed input and keeps serving", () => {
  const kv = () => model.forward({ tokens: [1, 2, 3, 4], positions: [0, 1, 2, 3], logits: "none" }).kv;

  it("truncated frames, lying headers and huge declared sizes", async () => {
    const good = requestFrame({ tokens: [5] }, kv());
    await expectError(await post("/kv/v1/prefill", good.subarray(0, good.length - 3), frameHeaders), 400, "invalid_frame", /trailing|past the end|truncated/);
    await expectError(await post("/kv/v1/prefill", good.subarray(0, 6), frameHeaders), 400, "invalid_frame", /truncated frame/);
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(0, 0xfffffff0, true);
    await expectError(await post("/kv/v1/prefill", lying, frameHeaders), 400, "invalid_frame", /exceeds the limit/);
    const header = JSON.stringify({ "kv.0.0.keys": { dtype: "F32", shape: [2 ** 30, 2 ** 20], data_offsets: [0, 2 ** 52] } });
    const huge = new Uint8Array(8 + header.length + 8);
    new DataView(huge.buffer).setUint32(0, header.length, true);
    huge.set(new TextEncoder().encode(header), 8);
    await expectError(await post("/kv/v1/prefill", huge, frameHeaders), 400, "invalid_frame", /needs more bytes than the 8-byte data buffer/);
  });

  it("NaN, wrong shapes, missing heads, stray tensors, unknown encodings", async () => {
    const bad = kv();
    bad[1][0].keys[5] = NaN;
    await expectError(await post("/kv/v1/prefill", requestFrame({ tokens: [5] }, bad), frameHeaders), 400, "invalid_frame", /"kv.1.0.keys" has a non-finite value at element 5/);
    const k = kv();
    const tensors = kvTensors(k, 16).map(([n, t]) => (n === "kv.2.1.values" ? ([n, { dtype: "F32", shape: [2, 32], data: t.data }] as [string, TensorInput]) : [n, t] as [string, TensorInput]));
    await expectError(await post("/kv/v1/prefill", writeSafetensors(tensors, { request: JSON.stringify({ tokens: [5] }) }), frameHeaders), 400, "invalid_kv", /"kv.2.1.values" has shape \[2,32\], expected \[4,16\]/);
    const missing = kvTensors(k, 16).filter(([n]) => !n.startsWith("kv.3.1."));
    await expectError(await post("/kv/v1/prefill", writeSafetensors(missing, { request: JSON.stringify({ tokens: [5] }) }), frameHeaders), 400, "invalid_kv", /missing tensor "kv.3.1.positions"/);
    await expectError(await post("/kv/v1/prefill", requestFrame({ tokens: [5] }, k, undefined, [["kv.4.0.positions", { dtype: "I32", shape: [0], data: new Int32Array(0) }]]), frameHeaders), 400, "invalid_kv", /unexpected tensor "kv.4.0.positions"/);
    await expectError(await post("/kv/v1/prefill", writeSafetensors(kvTensors(k, 16), { kv_dtype: "fp8", request: "{}" }), frameHeaders), 400, "invalid_kv", /unknown kv_dtype "fp8"/);
    await expectError(await post("/kv/v1/prefill", writeSafetensors([], { protocol: "epikv-kv/99" }), frameHeaders), 400, "invalid_frame", /speaks protocol "epikv-kv\/99"/);
  });

  it("out-of-range and out-of-order positions and tokens", async () => {
    const k = kv();
    await expectError(await post("/kv/v1/prefill", requestFrame({ tokens: [5], start_position: 2 }, k), frameHeaders), 400, "invalid_positions", /not after the supplied kv \(last position 3\)/);
    await expectError(await post("/kv/v1/prefill", { tokens: [5, 6], positions: [4, 4] }), 400, "invalid_positions", /strictly increasing/);
    await expectError(await post("/kv/v1/prefill", { tokens: [5], positions: [1 << 20] }), 400, "invalid_request", /positions\[0\]/);
    await expectError(await post("/kv/v1/prefill", { tokens: [5, 6], positions: [1] }), 400, "invalid_positions", /1 entries for 2 tokens/);
    const shuffled = kv();
    shuffled[0][1].positions.set([0, 2, 1, 3]);
    await expectError(await post("/kv/v1/prefill", requestFrame({ tokens: [5] }, shuffled), frameHeaders), 400, "invalid_positions", /kv layer 0 head 1: positions must be strictly increasing/);
    const negative = kv();
    negative[2][0].positions[0] = -5;
    await expectError(await post("/kv/v1/decode", requestFrame({ tokens: [5] }, negative), frameHeaders), 400, "invalid_positions", /position -5 at index 0 is outside/);
    await expectError(await post("/kv/v1/decode", { tokens: [264] }), 400, "invalid_request", /tokens\[0\] = 264/);
    await expectError(await post("/kv/v1/decode", { tokens: [] }), 400, "invalid_request", /at least 1/);
  });

  it("bad JSON, unknown models, routes and methods, media types, oversized bodies", async () => {
    await expectError(await post("/kv/v1/prefill", new TextEncoder().encode("{nope"), { "content-type": "application/json" }), 400, "invalid_request", /not valid JSON/);
    await expectError(await post("/kv/v1/decode", { model: "gpt-5", tokens: [1] }), 404, "model_not_found", /"gpt-5" is not served here/);
    await expectError(await fetch(backend.url + "/kv/v1/nope"), 404, "not_found", /no route GET \/kv\/v1\/nope/);
    await expectError(await fetch(backend.url + "/kv/v1/prefill"), 405, "method_not_allowed", /use POST/);
    await expectError(await post("/kv/v1/prefill", new Uint8Array(4), { "content-type": "text/plain" }), 415, "unsupported_media_type", /text\/plain/);
    const small = await startBackend(0, { maxBodyBytes: 1024 });
    try {
      const res = await fetch(small.url + "/kv/v1/prefill", { method: "POST", headers: frameHeaders, body: new Uint8Array(4096) });
      expect(res.status).toBe(413);
      expect(((await res.json()) as any).error.code).toBe("payload_too_large");
      expect((await fetch(small.url + "/healthz")).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
