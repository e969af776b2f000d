// The reference backend: a standalone Node HTTP server on 127.0.0.1 that
// speaks epikv's KV wire protocol (docs/kv-protocol.md) and an
// OpenAI-compatible chat API, over the seeded Llama-architecture models.
// `npm start` runs it beside `wrangler dev`; tests start it on port 0.
//
// Run: tsx backend/server.ts   (env: EPIKV_BACKEND_PORT=8788,
// EPIKV_BACKEND_MODELS=epikv-tiny[,epikv-small], EPIKV_BACKEND_KERNELS=wasm|js,
// EPIKV_BACKEND_MAX_BODY_BYTES=67108864)
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { DEFAULT_MODEL } from "./model/config";
import { createModel, loadTokenizer, loadWeights } from "./model/load";
import { KvError, type KvCache } from "./model/kv";
import { completionId, startChat } from "./openai/chat";
import {
  decodeCall, DEFAULT_LIMITS, detokenizeCall, modelMetadata, pickModel, prefillCall, profileCall, PROTOCOL, tokenizeCall,
  type BackendLimits, type BackendState, type FrameReply,
} from "./protocol/calls";
import { ProtocolError } from "./protocol/errors";
import type { Json } from "./protocol/fields";
import { KvHandleStore } from "./protocol/handles";
import { kvTensors, readKv } from "./protocol/kv-frame";
import { bodyKind, parseFrameBody, parseJsonBody, readBody } from "./http/body";
import { sendSse, startSse, yieldToLoop } from "./http/sse";
import { writeSafetensors } from "../protocol/safetensors";

export interface BackendOptions {
  /** Model names under backend/weights/; default [epikv-tiny]. The first is the default model. */
  models?: string[];
  kernels?: "wasm" | "js";
  maxBodyBytes?: number;
  /** Largest JSON body (chat, tokenize); default 4 MiB. */
  maxJsonBytes?: number;
  handles?: KvHandleStore;
  limits?: Partial<BackendLimits>;
}

export interface RunningBackend {
  server: Server;
  state: BackendState;
  url: string;
  close(): Promise<void>;
}

export function createBackendState(o: BackendOptions = {}): BackendState {
  const names = o.models?.length ? o.models : [DEFAULT_MODEL];
  const models = new Map(names.map((n) => [n, createModel(loadWeights(n), o.kernels ?? "wasm", loadTokenizer(n))]));
  return { models, defaultModel: names[0], handles: o.handles ?? new KvHandleStore(), limits: { ...DEFAULT_LIMITS, ...o.limits } };
}

const FRAME_TYPE = "application/x-safetensors";

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "EpiKV-Protocol": PROTOCOL });
  res.end(text);
}

function frameBytes(reply: FrameReply): Uint8Array {
  return writeSafetensors(reply.tensors, { ...reply.metadata, protocol: PROTOCOL, response: JSON.stringify(reply.response) });
}

function sendFrame(res: ServerResponse, reply: FrameReply | Uint8Array): void {
  const bytes = reply instanceof Uint8Array ? reply : frameBytes(reply);
  res.writeHead(200, { "Content-Type": FRAME_TYPE, "Content-Length": bytes.byteLength, "EpiKV-Protocol": PROTOCOL });
  res.end(bytes);
}

export function createBackendServer(o: BackendOptions = {}): { server: Server; state: BackendState } {
  const state = createBackendState(o);
  const maxBody = o.maxBodyBytes ?? 64 * 1024 * 1024;
  const maxJson = o.maxJsonBytes ?? 4 * 1024 * 1024;

  /** JSON or frame body → request fields and the KV the frame carried. */
  async function kvRequest(req: IncomingMessage): Promise<{ body: Json; kv: KvCache | null }> {
    const kind = bodyKind(req);
    const bytes = await readBody(req, kind === "json" ? maxJson : maxBody);
    if (kind === "json") return { body: parseJsonBody(bytes), kv: null };
    const { file, body } = parseFrameBody(bytes, PROTOCOL);
    const model = pickModel(state, body.model);
    return { body, kv: readKv(file, model.config) };
  }

  async function jsonRequest(req: IncomingMessage): Promise<Json> {
    if (bodyKind(req) !== "json") throw new ProtocolError("unsupported_media_type", "this endpoint takes application/json");
    return parseJsonBody(await readBody(req, maxJson));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://backend");
    let path = url.pathname.replace(/\/+$/, "") || "/";
    // Clients configured with a base URL that omits /v1 reach the same routes.
    if (path === "/chat/completions" || path === "/models" || path.startsWith("/models/")) path = "/v1" + path;
    const method = req.method ?? "GET";
    const allow = (m: string) => {
      if (method !== m) throw new ProtocolError("method_not_allowed", `${method} ${path} is not supported; use ${m}`);
    };
    let closed = false;
    res.on("close", () => (closed = true));

    if (path === "/healthz") {
      allow("GET");
      return sendJson(res, 200, { ok: true, protocol: PROTOCOL, models: [...state.models.keys()] });
    }
    if (path === "/v1/models" || path === "/kv/v1/models") {
      allow("GET");
      const list = [...state.models.values()].map((m) => (path.startsWith("/kv") ? modelMetadata(m, state) : { id: m.config.name, object: "model", created: 0, owned_by: "epikv" }));
      return sendJson(res, 200, { object: "list", data: list });
    }
    const modelPath = /^\/(kv\/)?v1\/models\/(.+)$/.exec(path);
    if (modelPath) {
      allow("GET");
      const m = pickModel(state, decodeURIComponent(modelPath[2]));
      return sendJson(res, 200, modelPath[1] ? modelMetadata(m, state) : { id: m.config.name, object: "model", created: 0, owned_by: "epikv" });
    }
    if (path === "/kv/v1/tokenize") {
      allow("POST");
      return sendJson(res, 200, tokenizeCall(state, await jsonRequest(req)));
    }
    if (path === "/kv/v1/detokenize") {
      allow("POST");
      return sendJson(res, 200, detokenizeCall(state, await jsonRequest(req)));
    }
    if (path === "/kv/v1/profile") {
      allow("POST");
      return sendJson(res, 200, profileCall(state, await jsonRequest(req)));
    }
    if (path === "/kv/v1/prefill") {
      allow("POST");
      const { body, kv } = await kvRequest(req);
      return sendFrame(res, prefillCall(state, body, kv));
    }
    if (path === "/kv/v1/decode") {
      allow("POST");
      const { body, kv } = await kvRequest(req);
      const session = decodeCall(state, body, kv, () => closed);
      const generated: number[] = [];
      if (!session.stream) {
        for (let s = session.tokens.next(); ; s = session.tokens.next()) {
          if (s.done) return sendFrame(res, session.finish(s.value, generated));
          generated.push(s.value);
        }
      }
      // Streaming: validate by taking the first step before committing to 200.
      let step = session.tokens.next();
      startSse(res, { "EpiKV-Protocol": PROTOCOL });
      const dec = session.model.tokenizer.streamDecoder();
      try {
        while (!step.done) {
          generated.push(step.value);
          sendSse(res, { index: generated.length - 1, token: step.value, text: dec.push(step.value) }, "token");
          await yieldToLoop();
          step = session.tokens.next();
        }
        const reply = session.finish(step.value, generated);
        sendSse(res, { ...reply.response, frame: Buffer.from(frameBytes(reply)).toString("base64") }, "done");
      } catch (e) {
        sendSse(res, errorBody(e), "error");
      }
      return void res.end();
    }
    const handlePath = /^\/kv\/v1\/handles\/([^/]+)$/.exec(path);
    if (handlePath) {
      const id = decodeURIComponent(handlePath[1]);
      if (method === "DELETE") {
        if (!state.handles.delete(id)) throw new ProtocolError("kv_handle_miss", `kv handle "${id}" is unknown or expired`, "kv_handle");
        res.writeHead(204).end();
        return;
      }
      allow("GET");
      const m = pickModel(state, url.searchParams.get("model") ?? undefined);
      const kv = state.handles.get(m.config.name, id);
      return sendFrame(res, { tensors: kvTensors(kv, m.config.headDim), metadata: { kv_dtype: "F32" }, response: { protocol: PROTOCOL, model: m.config.name, kv_handle: id } });
    }
    if (path === "/v1/chat/completions") {
      allow("POST");
      return chat(await jsonRequest(req), res, () => closed);
    }
    throw new ProtocolError("not_found", `no route ${method} ${path}`);
  }

  async function chat(body: Json, res: ServerResponse, cancelled: () => boolean): Promise<void> {
    const run = startChat(state, body, cancelled);
    const id = completionId(), created = Math.floor(Date.now() / 1000);
    const usage = (completion: number) => ({ prompt_tokens: run.promptTokens, completion_tokens: completion, total_tokens: run.promptTokens + completion });
    if (!run.stream) {
      let text = "";
      let logprobs: unknown[] | null = null;
      let r = await run.deltas.next();
      for (; !r.done; r = await run.deltas.next()) {
        text += r.value.text;
        if (r.value.logprobs) (logprobs ??= []).push(...r.value.logprobs);
      }
      if (run.logprobs) logprobs ??= [];
      return sendJson(res, 200, {
        id, object: "chat.completion", created, model: run.model, system_fingerprint: PROTOCOL,
        choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: logprobs && { content: logprobs, refusal: null }, finish_reason: r.value.finishReason }],
        usage: usage(r.value.completionTokens),
      });
    }
    const chunk = (delta: Json, finish: string | null, logprobs: unknown[] | null = null) => ({
      id, object: "chat.completion.chunk", created, model: run.model, system_fingerprint: PROTOCOL,
      choices: [{ index: 0, delta, logprobs: logprobs && { content: logprobs, refusal: null }, finish_reason: finish }],
    });
    startSse(res);
    sendSse(res, chunk({ role: "assistant", content: "" }, null));
    try {
      let r = await run.deltas.next();
      for (; !r.done; r = await run.deltas.next()) sendSse(res, chunk({ content: r.value.text }, null, r.value.logprobs));
      sendSse(res, chunk({}, r.value.finishReason));
      if (run.includeUsage) sendSse(res, { id, object: "chat.completion.chunk", created, model: run.model, choices: [], usage: usage(r.value.completionTokens) });
      sendSse(res, "[DONE]");
    } catch (e) {
      sendSse(res, errorBody(e));
    }
    res.end();
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e) => {
      const err = asProtocolError(e);
      if (!err) console.error("backend: internal error:", e);
      if (res.headersSent) return void res.end();
      if (err?.code === "payload_too_large") res.setHeader("Connection", "close");
      sendJson(res, err?.status ?? 500, errorBody(e));
      // A refused oversized body is not drained: the connection closes instead.
      if (err?.code === "payload_too_large") res.on("finish", () => req.destroy());
    });
  });
  return { server, state };
}

/** Protocol errors as they are; bad KV found mid-computation as invalid_positions; anything else is a bug (500). */
function asProtocolError(e: unknown): ProtocolError | null {
  if (e instanceof ProtocolError) return e;
  if (e instanceof KvError) return new ProtocolError("invalid_positions", e.message);
  return null;
}

function errorBody(e: unknown): Json {
  const known = asProtocolError(e);
  if (known) return known.toJSON();
  return new ProtocolError("internal_error", `internal error: ${(e as Error)?.message ?? String(e)}`).toJSON();
}

/** Start on 127.0.0.1:port (0 = any free port). */
export async function startBackend(port = 0, o: BackendOptions = {}): Promise<RunningBackend> {
  const { server, state } = createBackendServer(o);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server, state, url,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.EPIKV_BACKEND_PORT ?? 8788);
  const models = process.env.EPIKV_BACKEND_MODELS?.split(",").map((s) => s.trim()).filter(Boolean);
  const kernels = process.env.EPIKV_BACKEND_KERNELS === "js" ? "js" : "wasm";
  const maxBodyBytes = process.env.EPIKV_BACKEND_MAX_BODY_BYTES ? Number(process.env.EPIKV_BACKEND_MAX_BODY_BYTES) : undefined;
  const b = await startBackend(port, { models, kernels, maxBodyBytes });
  console.log(`epikv reference backend on ${b.url} (${PROTOCOL}; models: ${[...b.state.models.keys()].join(", ")}; kernels: ${kernels})`);
  const stop = () => void b.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
