// The PyTorch backend (backends/torch/, docs/torch-backend.md) against the
// TypeScript reference backend on identical weights, both over real HTTP:
// epikv-tiny loaded from its epikv file and from an export in Hugging Face
// layout (config.json + model.safetensors) give the same prefill logits,
// block KV, logits against a ragged subset of positions, prompt queries and
// scores, greedy and seeded decodes, profiles and chats, within 1e-4 in
// fp32. Then pinning with its byte cap, and the shared malformed-input cases.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type RunningBackend } from "../../backend/server";
import { filterKv, type KvCache } from "../../backend/model/kv";
import { argmax } from "../../backend/model/sample";
import { weightsPath } from "../../backend/model/load";
import { readKv } from "../../backend/protocol/kv-frame";
import type { Model } from "../../backend/model/forward";
import { parseSafetensors, readF32, writeSafetensors, type TensorInput } from "../../protocol/safetensors";
import { frameHeaders, frameOf, maxDiff, post, requestFrame } from "./support/kv-http";
import { kvMalformedSuite } from "./support/kv-malformed-suite";
import { startTorchBackend, TORCH_PYTHON, type TorchBackend } from "../../testing/torch-backend";

const TOL = 1e-4;
let reference: RunningBackend;
let torch: TorchBackend;
/** A second process with small caps: 50 000 pinned bytes, 1 KiB bodies. */
let small: TorchBackend;
let model: Model;
let hfDir: string;
const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
const tokens = [...new TextEncoder().encode("Rent is due on the first; the train to Lisbon leaves at nine, naïve café ☕ — and the puppy chewed the sofa.")];

/** epikv-tiny in Hugging Face layout: same tensors, config.json, and the byte vocabulary as epikv-tokenizer.json. */
function exportHfLayout(dir: string, extraConfig: Record<string, unknown> = {}): void {
  const file = parseSafetensors(new Uint8Array(readFileSync(weightsPath("epikv-tiny"))));
  const c = JSON.parse(file.metadata.config);
  const tensors: [string, TensorInput][] = [...file.tensors].map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.bytes }]);
  writeFileSync(join(dir, "model.safetensors"), writeSafetensors(tensors, { format: "pt" }));
  writeFileSync(join(dir, "config.json"), JSON.stringify({
    architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_act: "silu", num_hidden_layers: c.layers, hidden_size: c.dModel,
    num_attention_heads: c.heads, num_key_value_heads: c.kvHeads, head_dim: c.headDim, intermediate_size: c.ffnDim, vocab_size: c.vocabSize,
    rope_theta: c.ropeTheta, rms_norm_eps: c.rmsEps, max_position_embeddings: c.maxPositions, tie_word_embeddings: false, ...extraConfig,
  }));
  writeFileSync(join(dir, "epikv-tokenizer.json"), JSON.stringify({ type: "byte" }));
}

beforeAll(async () => {
  hfDir = join(mkdtempSync(join(tmpdir(), "epikv-torch-")), "epikv-tiny-hf");
  const linearDir = join(hfDir, "..", "epikv-tiny-linear2");
  mkdirSync(hfDir);
  mkdirSync(linearDir);
  exportHfLayout(hfDir);
  exportHfLayout(linearDir, { rope_scaling: { rope_type: "linear", factor: 2 } });
  reference = await startBackend(0);
  model = reference.state.models.get("epikv-tiny")!;
  [torch, small] = await Promise.all([startTorchBackend(["--model", "epikv-tiny", "--model", hfDir, "--model", linearDir]), startTorchBackend(["--handle-bytes", "50000", "--max-body-bytes", "1024"])]);
}, 120_000); // two Python processes importing torch on a shared machine
afterAll(async () => {
  await torch?.close();
  await small?.close();
  await reference?.close();
  if (hfDir) rmSync(join(hfDir, ".."), { recursive: true, force: true });
});

/** The same request to both backends (torch naming `torchModel`), frames back. */
async function both(path: string, request: Record<string, unknown>, kv: KvCache | undefined, torchModel: string, enc?: Parameters<typeof requestFrame>[3]) {
  const send = (url: string, req: Record<string, unknown>) => (kv ? post(url, path, requestFrame(model, req, kv, enc), frameHeaders) : post(url, path, req));
  const ref = await frameOf(await send(reference.url, request));
  const got = await frameOf(await send(torch.url, { ...request, model: torchModel }));
  return { ref, got };
}

function expectSameKv(a: KvCache, b: KvCache): void {
  a.forEach((layer, l) => layer.forEach((h, k) => {
    expect([...b[l][k].positions]).toEqual([...h.positions]);
    expect(maxDiff(b[l][k].keys, h.keys)).toBeLessThan(TOL);
    expect(maxDiff(b[l][k].values, h.values)).toBeLessThan(TOL);
  }));
}

const f32 = (f: { tensors: Map<string, any> }, name: string) => readF32(f.tensors.get(name)!);

describe("torch backend: parity with the reference backend on identical weights", () => {
  it("publishes the metadata the edge reads and tokenizes alike", async () => {
    const meta = async (url: string, id: string) => (await (await fetch(`${url}/kv/v1/models/${id}`)).json()) as Record<string, any>;
    const ref = await meta(reference.url, "epikv-tiny");
    for (const id of ["epikv-tiny", "epikv-tiny-hf"]) {
      const got = await meta(torch.url, id);
      for (const k of ["protocol", "layers", "heads", "kv_heads", "head_dim", "d_model", "ffn_dim", "vocab_size", "bos_token", "stop_tokens", "role_tokens", "role_prefixes", "message_suffix", "tokenizer", "chat_template", "kv", "limits", "max_positions"]) expect(got[k], k).toEqual(ref[k]);
      expect(got.rope.theta).toBe(ref.rope.theta);
    }
    for (const body of [{ text: "<|end|> stays bytes ☕" }, { messages: [{ role: "user", content: "<|end|>" }, { role: "developer", content: [{ type: "text", text: "hi" }] }], add_generation_prompt: false }, { tokens: [104, 105, 0xe2, 0x98, 262, 0x95], keep_special: true }]) {
      const path = "tokens" in body ? "/kv/v1/detokenize" : "/kv/v1/tokenize";
      const [a, b] = await Promise.all([reference.url, torch.url].map(async (u) => (await post(u, path, body)).json()));
      expect(b).toEqual(a);
    }
  });

  for (const torchModel of ["epikv-tiny", "epikv-tiny-hf"]) {
    it(`prefill block by block: block KV and last logits within 1e-4 (${torchModel})`, async () => {
      const p = 48;
      const first = await both("/kv/v1/prefill", { tokens: tokens.slice(0, p), return_logits: "last" }, undefined, torchModel);
      const kvRef = readKv(first.ref.file, model.config)!;
      expectSameKv(kvRef, readKv(first.got.file, model.config)!);
      expect(maxDiff(f32(first.got.file, "logits"), f32(first.ref.file, "logits"))).toBeLessThan(TOL);
      const second = await both("/kv/v1/prefill", { tokens: tokens.slice(p), return_logits: "last", return_block_queries: true }, kvRef, torchModel);
      expect(second.got.response).toMatchObject({ first_position: p, last_position: tokens.length - 1, usage: second.ref.response.usage });
      expectSameKv(readKv(second.ref.file, model.config)!, readKv(second.got.file, model.config)!);
      const logitDiff = maxDiff(f32(second.got.file, "logits"), f32(second.ref.file, "logits"));
      console.log(`torch vs reference (${torchModel}), prefill against returned KV: max |Δlogit| = ${logitDiff.toExponential(2)}`);
      expect(logitDiff).toBeLessThan(TOL);
      for (let l = 0; l < 4; l++) expect(maxDiff(f32(second.got.file, `block.queries.${l}`), f32(second.ref.file, `block.queries.${l}`))).toBeLessThan(TOL);
    });
  }

  it("linear RoPE scaling by 2 at positions 2p is the unscaled model at positions p", async () => {
    const p = tokens.slice(0, 24);
    const ref = await frameOf(await post(reference.url, "/kv/v1/prefill", { tokens: p, positions: range(0, 24), return_logits: "last" }));
    const got = await frameOf(await post(torch.url, "/kv/v1/prefill", { model: "epikv-tiny-linear2", tokens: p, positions: range(0, 24).map((i) => 2 * i), return_logits: "last" }));
    expect(maxDiff(f32(got.file, "logits"), f32(ref.file, "logits"))).toBeLessThan(TOL);
    expect(maxDiff(f32(got.file, "kv.3.1.keys"), f32(ref.file, "kv.3.1.keys"))).toBeLessThan(TOL);
    const meta = (await (await fetch(`${torch.url}/kv/v1/models/epikv-tiny-linear2`)).json()) as any;
    expect(meta.rope).toMatchObject({ type: "linear", scaling: { factor: 2 } });
  });

  it("logits, prompt queries and scores against a ragged subset of positions within 1e-4", async () => {
    const p = 64;
    const full = model.forward({ tokens: tokens.slice(0, p), positions: range(0, p), logits: "none" }).kv;
    // Each head keeps a different subset (AdaKV-style pooled budgets); layer 2 head 1 keeps nothing.
    const subset = filterKv(full, (l, h, pos) => !(l === 2 && h === 1) && (pos * (l + 2) + h) % 3 !== 0, model.config.headDim);
    const request = { tokens: tokens.slice(p, p + 6), start_position: p + 3, return_logits: "last", prompts: [{ tokens: tokens.slice(10, 17) }, { tokens: [32, 104] }], return_scores: true };
    const { ref, got } = await both("/kv/v1/prefill", request, subset, "epikv-tiny");
    const logits = f32(got.file, "logits");
    const scoreDiff = Math.max(...[0, 1].flatMap((i) => range(0, 8).map((lh) => maxDiff(f32(got.file, `prompt.${i}.scores.${lh >> 1}.${lh & 1}`), f32(ref.file, `prompt.${i}.scores.${lh >> 1}.${lh & 1}`)))));
    console.log(`torch vs reference, ragged subset: max |Δlogit| = ${maxDiff(logits, f32(ref.file, "logits")).toExponential(2)}, max |Δscore| = ${scoreDiff.toExponential(2)}`);
    expect(maxDiff(logits, f32(ref.file, "logits"))).toBeLessThan(TOL);
    // The subset matters: against the whole cache the logits are clearly different.
    const whole = model.forward({ tokens: tokens.slice(p, p + 6), positions: range(p + 3, 6), past: full, logits: "last" }).logits;
    expect(maxDiff(logits, whole)).toBeGreaterThan(1e-2);
    expect(got.response.prompts).toEqual(ref.response.prompts);
    for (let i = 0; i < 2; i++)
      for (let l = 0; l < 4; l++) {
        expect(maxDiff(f32(got.file, `prompt.${i}.queries.${l}`), f32(ref.file, `prompt.${i}.queries.${l}`))).toBeLessThan(TOL);
        for (let h = 0; h < 2; h++) {
          const s = f32(got.file, `prompt.${i}.scores.${l}.${h}`);
          expect(s.length).toBe(subset[l][h].positions.length + 6);
          expect(maxDiff(s, f32(ref.file, `prompt.${i}.scores.${l}.${h}`))).toBeLessThan(TOL);
        }
      }
  });

  it("decodes the same greedy and seeded tokens with the same KV, framed and streamed", async () => {
    const p = 40;
    const past = filterKv(model.forward({ tokens: tokens.slice(0, p), positions: range(0, p), logits: "none" }).kv, (_, h, pos) => pos % 4 !== h, model.config.headDim);
    const greedy = { tokens: tokens.slice(p, p + 3), max_tokens: 10, stop_tokens: [] };
    const g = await both("/kv/v1/decode", greedy, past, "epikv-tiny");
    expect(g.got.response.tokens).toEqual(g.ref.response.tokens);
    expect(g.got.response).toMatchObject({ finish_reason: "length", next_position: p + 13, text: g.ref.response.text, usage: g.ref.response.usage });
    expectSameKv(readKv(g.ref.file, model.config)!, readKv(g.got.file, model.config)!);
    const seeded = await both("/kv/v1/decode", { ...greedy, temperature: 0.9, top_p: 0.95, seed: 7, max_tokens: 16 }, past, "epikv-tiny");
    expect(seeded.got.response.tokens).toEqual(seeded.ref.response.tokens);
    expect(seeded.got.response.tokens).not.toEqual(g.ref.response.tokens.concat(seeded.got.response.tokens.slice(10)));
    const sse = await (await post(torch.url, "/kv/v1/decode", requestFrame(model, { ...greedy, stream: true }, past), frameHeaders)).text();
    const events = sse.trim().split("\n\n").map((e) => ({ event: /^event: (.*)$/m.exec(e)![1], data: JSON.parse(/^data: (.*)$/m.exec(e)![1]) }));
    expect(events.filter((e) => e.event === "token").map((e) => e.data.token)).toEqual(g.ref.response.tokens);
    expect(events.at(-1)!.event).toBe("done");
    expectSameKv(readKv(g.ref.file, model.config)!, readKv(parseSafetensors(Buffer.from(events.at(-1)!.data.frame, "base64")), model.config)!);
  });

  it("takes int8 group-quantized KV and returns it int8-encoded", async () => {
    const p = 30;
    const kv = model.forward({ tokens: tokens.slice(0, p), positions: range(0, p), logits: "none" }).kv;
    const request = { tokens: tokens.slice(p, p + 4), return_logits: "last", kv_encoding: { dtype: "int8", group_size: 32 } };
    const { ref, got } = await both("/kv/v1/prefill", request, kv, "epikv-tiny", { dtype: "int8", groupSize: 64 });
    expect(got.file.metadata).toMatchObject({ kv_dtype: "int8", kv_group_size: "32" });
    // Same dequantized input on both sides, so the logits agree to fp32 rounding.
    expect(maxDiff(f32(got.file, "logits"), f32(ref.file, "logits"))).toBeLessThan(TOL);
    const exact = model.forward({ tokens: tokens.slice(p, p + 4), positions: range(p, 4), past: kv, logits: "last" });
    // Returned codes dequantize to the exact keys within one quantization step.
    expect(maxDiff(readKv(got.file, model.config)![1][1].keys, exact.kv[1][1].keys)).toBeLessThan(0.05);
    expect(argmax(f32(got.file, "logits"))).toBe(argmax(exact.logits));
  });

  it("profiles the same layer sensitivities and chats the same replies", async () => {
    const windows = [tokens.slice(0, 70), tokens.slice(20, 60)];
    const [a, b] = await Promise.all([reference.url, torch.url].map(async (u) => (await post(u, "/kv/v1/profile", { windows, block_size: 16 })).json() as Promise<any>));
    expect(b.tokens).toBe(a.tokens);
    expect(maxDiff(b.sensitivity, a.sensitivity)).toBeLessThan(TOL);
    expect(maxDiff(b.per_head.flat(), a.per_head.flat())).toBeLessThan(TOL);
    const chat = { messages: [{ role: "user", content: "Where does the train go?" }], max_tokens: 24, stop: ["zz"] };
    const [x, y] = await Promise.all([reference.url, torch.url].map(async (u) => (await post(u, "/v1/chat/completions", chat)).json() as Promise<any>));
    expect(y.choices[0].message.content).toBe(x.choices[0].message.content);
    expect(y.usage).toEqual(x.usage);
    const streamed = await (await post(torch.url, "/chat/completions", { ...chat, stream: true, stream_options: { include_usage: true } })).text();
    const chunks = streamed.trim().split("\n\n").map((e) => e.slice(6));
    expect(chunks.at(-1)).toBe("[DONE]");
    const parsed = chunks.slice(0, -1).map((c) => JSON.parse(c));
    expect(parsed.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe(x.choices[0].message.content);
    expect(parsed.at(-1).usage).toEqual(x.usage);
  });
});

describe("torch backend: pinned KV", () => {
  it("decodes by handle as by bytes, serves and deletes it, then answers 409 kv_handle_miss", async () => {
    const first = await frameOf(await post(torch.url, "/kv/v1/prefill", { tokens: tokens.slice(0, 20), keep: { ttl_s: 60 }, return_kv: false }));
    const handle = first.response.kv_handle as string;
    expect(handle).toMatch(/^kvh_/);
    expect(first.file.tensors.size).toBe(0);
    const health = (await (await fetch(torch.url + "/healthz")).json()) as any;
    expect(health.handles).toMatchObject({ count: 1, max_bytes: 256 * 1024 * 1024 });
    expect(health.handles.bytes).toBeGreaterThanOrEqual(4 * 2 * 20 * (2 * 16 * 4 + 4));
    const viaHandle = await frameOf(await post(torch.url, "/kv/v1/decode", { kv_handle: handle, tokens: [tokens[20]], max_tokens: 4, stop_tokens: [] }));
    const kv = model.forward({ tokens: tokens.slice(0, 20), positions: range(0, 20), logits: "none" }).kv;
    const viaBytes = await frameOf(await post(reference.url, "/kv/v1/decode", requestFrame(model, { tokens: [tokens[20]], max_tokens: 4, stop_tokens: [] }, kv), frameHeaders));
    expect(viaHandle.response.tokens).toEqual(viaBytes.response.tokens);
    const stored = await frameOf(await fetch(`${torch.url}/kv/v1/handles/${handle}`));
    expectSameKv(kv, readKv(stored.file, model.config)!);
    expect((await fetch(`${torch.url}/kv/v1/handles/${handle}`, { method: "DELETE" })).status).toBe(204);
    const miss = await post(torch.url, "/kv/v1/decode", { kv_handle: handle, tokens: [1] });
    expect(miss.status).toBe(409);
    expect(((await miss.json()) as any).error).toMatchObject({ code: "kv_handle_miss", type: "conflict_error" });
  });

  it("evicts the least recently used handle under its byte cap and says so in /healthz", async () => {
    // One 20-token cache of epikv-tiny is 8 heads × 20 × (2 × 16 × 4 + 4) = 21 120 bytes: the cap holds two.
    const pin = async () => (await frameOf(await post(small.url, "/kv/v1/prefill", { tokens: tokens.slice(0, 20), keep: { ttl_s: 60 }, return_kv: false }))).response.kv_handle as string;
    const [a, b] = [await pin(), await pin()];
    await frameOf(await post(small.url, "/kv/v1/decode", { kv_handle: a, tokens: [5], max_tokens: 1 })); // a is now the most recently used
    const c = await pin();
    expect((await post(small.url, "/kv/v1/decode", { kv_handle: b, tokens: [5], max_tokens: 1 })).status).toBe(409);
    for (const h of [a, c]) expect((await post(small.url, "/kv/v1/decode", { kv_handle: h, tokens: [5], max_tokens: 1 })).status).toBe(200);
    const health = (await (await fetch(small.url + "/healthz")).json()) as any;
    expect(health.handles).toMatchObject({ count: 2, max_bytes: 50000, evicted: 1 });
  });
});

/** Raw bytes to the server, the client's side then half-closed; the status code and body that come back. */
function rawExchange(url: string, bytes: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let got = "";
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    socket.on("data", (d) => (got += d));
    socket.on("error", reject);
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1]), body: got.slice(got.indexOf("\r\n\r\n") + 4) }));
  });
}

/** A POST whose body goes out chunked (no Content-Length), as the edge streams frames. */
function chunkedPost(url: string, path: string, parts: Uint8Array[], type = "application/x-safetensors"): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: "POST", headers: { "content-type": type } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe("torch backend: request bodies", () => {
  it("reads chunked frames, and refuses a body cut short, a malformed chunk and an oversized chunked body", async () => {
    const frame = requestFrame(model, { tokens: [5, 6], return_logits: "last" }, model.forward({ tokens: [1, 2, 3], positions: [0, 1, 2], logits: "none" }).kv);
    const half = Math.floor(frame.length / 2);
    const ok = await chunkedPost(torch.url, "/kv/v1/prefill", [frame.subarray(0, half), frame.subarray(half)]);
    expect(ok.status).toBe(200);
    expect(parseSafetensors(new Uint8Array(ok.body)).tensors.get("logits")!.shape).toEqual([1, 264]);
    const short = await rawExchange(torch.url, "POST /kv/v1/tokenize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\": \"hi\"}");
    expect(short.status).toBe(400);
    expect(JSON.parse(short.body).error.message).toMatch(/body ended after 14 of 100 declared bytes/);
    const badChunk = await rawExchange(torch.url, "POST /kv/v1/tokenize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    expect(badChunk.status).toBe(400);
    expect(JSON.parse(badChunk.body).error.message).toMatch(/malformed chunked body/);
    const big = await chunkedPost(small.url, "/kv/v1/prefill", [new Uint8Array(600), new Uint8Array(600)]);
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body.toString()).error.code).toBe("payload_too_large");
    expect((await fetch(torch.url + "/healthz")).status).toBe(200);
  });
});

describe("torch backend: loading checkpoints", () => {
  it("refuses malformed checkpoint directories with a message naming the problem", () => {
    const base = join(hfDir, "..");
    const variant = (name: string, change: (dir: string) => void) => {
      const dir = join(base, name);
      mkdirSync(dir);
      exportHfLayout(dir);
      change(dir);
      return dir;
    };
    const weights = readFileSync(join(hfDir, "model.safetensors"));
    const config = JSON.parse(readFileSync(join(hfDir, "config.json"), "utf8"));
    const cases: [string, RegExp][] = [
      [variant("truncated", (d) => writeFileSync(join(d, "model.safetensors"), weights.subarray(0, 5000))), /truncated\/model.safetensors: tensor "model.embed_tokens.weight": shape \[264,64\] of F32 needs more bytes than the 1000-byte data buffer holds/],
      [variant("lying-header", (d) => { const w = Buffer.from(weights); w.writeUInt32LE(0xfffffff0, 0); writeFileSync(join(d, "model.safetensors"), w); }), /header length \d+ exceeds the limit/],
      [variant("wrong-shape", (d) => writeFileSync(join(d, "config.json"), JSON.stringify({ ...config, intermediate_size: 96 }))), /"model.layers.0.mlp.gate_proj.weight" has shape \[128, 64\], expected \[96, 64\]/],
      [variant("gqa", (d) => writeFileSync(join(d, "config.json"), JSON.stringify({ ...config, num_key_value_heads: 3 }))), /heads must be a multiple of config.kv_heads/],
      [variant("gpt2", (d) => writeFileSync(join(d, "config.json"), JSON.stringify({ ...config, model_type: "gpt2" }))), /model_type "gpt2" is not supported/],
      [variant("dynamic-rope", (d) => writeFileSync(join(d, "config.json"), JSON.stringify({ ...config, rope_scaling: { rope_type: "dynamic", factor: 2 } }))), /rope_scaling type "dynamic" is not supported/],
      [variant("word-vocab", (d) => writeFileSync(join(d, "epikv-tokenizer.json"), JSON.stringify({ type: "word" }))), /unknown tokenizer type "word"/],
      [variant("hf-tokenizer", (d) => { rmSync(join(d, "epikv-tokenizer.json")); writeFileSync(join(d, "tokenizer.json"), "{}"); }), /tokenizer/i],
    ];
    // One interpreter loads every directory and prints one error line per case.
    const script = "import sys, torch\nfrom epikv_torch.weights import load_model\nfor d in sys.argv[1:]:\n  try:\n    load_model(d, torch.device('cpu'), torch.float32); print('loaded')\n  except Exception as e:\n    print(type(e).__name__ + ': ' + str(e).replace(chr(10), ' '))\n";
    const run = spawnSync(TORCH_PYTHON, ["-c", script, ...cases.map(([d]) => d)], { cwd: join(__dirname, "../../backends/torch"), encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    cases.forEach(([dir, message], i) => expect(lines[i], dir).toMatch(message));
  });
});

kvMalformedSuite("torch backend", () => ({ url: torch.url, model, startSmall: async (maxBodyBytes) => {
  expect(maxBodyBytes).toBe(1024); // the limit `small` was started with
  return { url: small.url, close: async () => {} };
} }));
