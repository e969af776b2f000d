// The calls of the KV protocol (docs/kv-protocol.md), independent of HTTP:
// each takes the decoded request (JSON fields, plus the KV cache its frame
// carried) and returns JSON and tensors. server.ts does the transport.
import type { Model } from "../model/forward";
import { decode, type DecodeResult } from "../model/generate";
import { checkPositions, concatKv, emptyKv, KvError, lastPosition, type KvCache } from "../model/kv";
import { makeSampler } from "../model/sample";
import { chatTokens, CHAT_TEMPLATE, messageFraming, ROLES, type ChatMessage, type Role, type SpecialToken } from "../model/tokenizer";
import type { TensorInput } from "../../protocol/safetensors";
import { invalid, ProtocolError } from "./errors";
import { asObject, intArray, optBool, optInt, optNumber, optString, type Json } from "./fields";
import type { KvHandleStore } from "./handles";
import { kvEncodingMetadata, kvTensors, type KvEncoding } from "./kv-frame";
import { profileSensitivity } from "./profile";
import { KV_GROUP_SIZES } from "./kv-frame";
import { maxAttentionScores } from "./scores";

export const PROTOCOL = "epikv-kv/1";

export interface BackendLimits {
  /** Tokens per prefill block / decode input. */
  maxInputTokens: number;
  maxNewTokens: number;
  /** Representative prompts per prefill, and tokens per prompt. */
  maxPrompts: number;
  maxPromptTokens: number;
  /** Tokens over all profiling windows. */
  maxProfileTokens: number;
}

export const DEFAULT_LIMITS: BackendLimits = { maxInputTokens: 8192, maxNewTokens: 4096, maxPrompts: 16, maxPromptTokens: 4096, maxProfileTokens: 16384 };
/** max_tokens when a request names none: the seeded models never learned to stop. */
export const DEFAULT_MAX_TOKENS = 128;

export interface BackendState {
  models: Map<string, Model>;
  defaultModel: string;
  handles: KvHandleStore;
  limits: BackendLimits;
}

export interface FrameReply {
  tensors: [string, TensorInput][];
  metadata: Record<string, string>;
  response: Json;
}

export function pickModel(state: BackendState, name: unknown): Model {
  const id = optString(name, "model", 200) ?? state.defaultModel;
  const m = state.models.get(id);
  if (!m) throw new ProtocolError("model_not_found", `model "${id}" is not served here (available: ${[...state.models.keys()].join(", ")})`, "model");
  return m;
}

export function modelMetadata(m: Model, state: BackendState): Json {
  const c = m.config;
  const tok = m.tokenizer;
  const framing = messageFraming(tok);
  return {
    protocol: PROTOCOL,
    id: c.name,
    object: "model",
    architecture: "llama",
    layers: c.layers,
    heads: c.heads,
    kv_heads: c.kvHeads,
    head_dim: c.headDim,
    d_model: c.dModel,
    ffn_dim: c.ffnDim,
    rope: { type: "default", theta: c.ropeTheta, pairing: "rotate_half" },
    rms_eps: c.rmsEps,
    max_positions: c.maxPositions,
    vocab_size: c.vocabSize,
    tokenizer: tok.describe() as Json,
    // role_tokens: for edges that predate role_prefixes (the same single tokens).
    role_tokens: Object.fromEntries(ROLES.map((r) => [r, tok.special(`<|${r}|>` as SpecialToken)])),
    role_prefixes: framing.rolePrefixes,
    message_suffix: framing.messageSuffix,
    bos_token: tok.special("<|bos|>"),
    stop_tokens: [...tok.stopTokens],
    chat_template: CHAT_TEMPLATE,
    kv: { encodings: ["F32", "int8"], int8_group_sizes: [...KV_GROUP_SIZES], keys: "post_rope" },
    handles: { max_ttl_s: state.handles.maxTtlS },
    limits: {
      max_input_tokens: state.limits.maxInputTokens,
      max_new_tokens: state.limits.maxNewTokens,
      max_prompts: state.limits.maxPrompts,
      max_prompt_tokens: state.limits.maxPromptTokens,
      max_profile_tokens: state.limits.maxProfileTokens,
    },
  };
}

export function parseMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) invalid("messages must be a non-empty array", "messages");
  return v.map((raw, i) => {
    const m = asObject(raw, `messages[${i}]`);
    const role = m.role === "developer" ? "system" : m.role;
    if (!ROLES.includes(role as Role)) invalid(`messages[${i}].role must be one of ${ROLES.join(", ")}, developer`, `messages[${i}].role`);
    let content = m.content;
    if (Array.isArray(content)) {
      content = content
        .map((p, j) => {
          const part = asObject(p, `messages[${i}].content[${j}]`);
          if (part.type !== "text" || typeof part.text !== "string") invalid(`messages[${i}].content[${j}] must be {"type":"text","text":…}`, `messages[${i}].content`);
          return part.text;
        })
        .join("");
    }
    if (content === null || content === undefined) content = "";
    if (typeof content !== "string") invalid(`messages[${i}].content must be a string or an array of text parts`, `messages[${i}].content`);
    return { role: role as Role, content };
  });
}

export function tokenizeCall(state: BackendState, body: Json): Json {
  const m = pickModel(state, body.model);
  let tokens: number[];
  if (body.messages !== undefined) tokens = chatTokens(m.tokenizer, parseMessages(body.messages), optBool(body.add_generation_prompt, "add_generation_prompt") ?? true);
  else {
    const text = optString(body.text, "text");
    if (text === undefined) invalid("give text or messages", "text");
    tokens = m.tokenizer.encode(text);
  }
  return { protocol: PROTOCOL, model: m.config.name, tokens, count: tokens.length };
}

export function detokenizeCall(state: BackendState, body: Json): Json {
  const m = pickModel(state, body.model);
  const tokens = intArray(body.tokens, "tokens", { min: 0, max: m.config.vocabSize - 1, maxLength: 1 << 20 });
  return { protocol: PROTOCOL, model: m.config.name, text: m.tokenizer.decode(tokens, optBool(body.keep_special, "keep_special") ?? false) };
}

/** The cache a call runs against: the frame's bytes, a pinned handle, or nothing. */
function resolvePast(state: BackendState, m: Model, body: Json, kv: KvCache | null): KvCache {
  const handle = optString(body.kv_handle, "kv_handle", 200);
  if (handle !== undefined && kv) invalid("give either kv tensors or kv_handle, not both", "kv_handle");
  if (handle !== undefined) return state.handles.get(m.config.name, handle);
  return kv ?? emptyKv(m.config);
}

/** Explicit positions, or start_position + i, or right after the cache. */
function resolvePositions(m: Model, body: Json, count: number, past: KvCache): number[] {
  let positions: number[];
  if (body.positions !== undefined) {
    positions = intArray(body.positions, "positions", { min: 0, max: m.config.maxPositions - 1 });
    if (positions.length !== count) throw new ProtocolError("invalid_positions", `positions has ${positions.length} entries for ${count} tokens`, "positions");
  } else {
    const start = optInt(body.start_position, "start_position", 0, m.config.maxPositions - 1) ?? lastPosition(past) + 1;
    positions = Array.from({ length: count }, (_, i) => start + i);
  }
  try {
    checkPositions(m.config, positions, "positions");
  } catch (e) {
    throw new ProtocolError("invalid_positions", (e as Error).message, "positions");
  }
  const last = lastPosition(past);
  if (positions[0] <= last) throw new ProtocolError("invalid_positions", `first position ${positions[0]} is not after the supplied kv (last position ${last})`, "positions");
  return positions;
}

function kvEncoding(v: unknown): KvEncoding {
  if (v === undefined || v === null) return { dtype: "F32" };
  const o = asObject(v, "kv_encoding");
  if (o.dtype === "F32") return { dtype: "F32" };
  if (o.dtype !== "int8") invalid('kv_encoding.dtype must be "F32" or "int8"', "kv_encoding.dtype");
  const g = o.group_size ?? 64;
  if (!(KV_GROUP_SIZES as readonly unknown[]).includes(g)) invalid(`kv_encoding.group_size must be one of ${KV_GROUP_SIZES.join(", ")}`, "kv_encoding.group_size");
  return { dtype: "int8", groupSize: g as (typeof KV_GROUP_SIZES)[number] };
}

/** keep: {ttl_s} pins `full` under a handle (the request's own handle when it used one). */
function keepKv(state: BackendState, m: Model, body: Json, full: () => KvCache): Json {
  if (body.keep === undefined || body.keep === null) return {};
  const keep = asObject(body.keep, "keep");
  const ttl = optNumber(keep.ttl_s, "keep.ttl_s", Number.MIN_VALUE, state.handles.maxTtlS) ?? 300;
  const reuse = optString(body.kv_handle, "kv_handle", 200);
  const info = state.handles.put(m.config.name, full(), ttl, reuse);
  return { kv_handle: info.handle, kv_handle_expires_at: new Date(info.expiresAt).toISOString() };
}

function wrapKvErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KvError) throw new ProtocolError("invalid_positions", e.message);
    throw e;
  }
}

export function prefillCall(state: BackendState, body: Json, kv: KvCache | null): FrameReply {
  const m = pickModel(state, body.model);
  const c = m.config, L = state.limits;
  const tokens = intArray(body.tokens, "tokens", { min: 0, max: c.vocabSize - 1, minLength: 1, maxLength: L.maxInputTokens });
  const past = resolvePast(state, m, body, kv);
  const positions = resolvePositions(m, body, tokens.length, past);
  const promptsRaw = body.prompts ?? [];
  if (!Array.isArray(promptsRaw) || promptsRaw.length > L.maxPrompts) invalid(`prompts must be an array of at most ${L.maxPrompts} {tokens}`, "prompts");
  const prompts = promptsRaw.map((p, i) => intArray(asObject(p, `prompts[${i}]`).tokens, `prompts[${i}].tokens`, { min: 0, max: c.vocabSize - 1, minLength: 1, maxLength: L.maxPromptTokens }));
  const wantQueries = optBool(body.return_queries, "return_queries") ?? prompts.length > 0;
  const wantScores = optBool(body.return_scores, "return_scores") ?? false;
  const wantKv = optBool(body.return_kv, "return_kv") ?? true;
  // Additive (epikv-kv/1): the block's own post-RoPE queries, for baselines that score with them (SnapKV window, H2O).
  const wantBlockQueries = optBool(body.return_block_queries, "return_block_queries") ?? false;
  const logitsMode = body.return_logits ?? "none";
  if (logitsMode !== "none" && logitsMode !== "last") invalid('return_logits must be "none" or "last"', "return_logits");
  const enc = kvEncoding(body.kv_encoding);

  return wrapKvErrors(() => {
    const out = m.forward({ tokens, positions, past, logits: logitsMode, captureQueries: wantBlockQueries });
    const cache = concatKv(past, out.kv);
    const tensors: [string, TensorInput][] = wantKv ? kvTensors(out.kv, c.headDim, enc) : [];
    if (wantBlockQueries) out.queries!.forEach((q, l) => tensors.push([`block.queries.${l}`, { dtype: "F32", shape: [c.heads, tokens.length, c.headDim], data: q }]));
    if (logitsMode === "last") tensors.push(["logits", { dtype: "F32", shape: [1, c.vocabSize], data: out.logits }]);
    const promptInfo: Json[] = [];
    const after = positions[positions.length - 1] + 1;
    prompts.forEach((p, i) => {
      if (after + p.length > c.maxPositions) throw new ProtocolError("invalid_positions", `prompts[${i}] would run past max_positions ${c.maxPositions}`, "prompts");
      const pos = p.map((_, j) => after + j);
      const run = m.forward({ tokens: p, positions: pos, past: cache, logits: "none", captureQueries: true });
      const queries = run.queries!;
      if (wantQueries) queries.forEach((q, l) => tensors.push([`prompt.${i}.queries.${l}`, { dtype: "F32", shape: [c.heads, p.length, c.headDim], data: q }]));
      if (wantScores) {
        maxAttentionScores(c, queries, cache).forEach((layer, l) =>
          layer.forEach((s, h) => tensors.push([`prompt.${i}.scores.${l}.${h}`, { dtype: "F32", shape: [s.length], data: s }])),
        );
      }
      promptInfo.push({ tokens: p.length, first_position: after, last_position: after + p.length - 1 });
    });
    const response: Json = {
      protocol: PROTOCOL,
      model: c.name,
      first_position: positions[0],
      last_position: positions[positions.length - 1],
      tokens: tokens.length,
      prompts: promptInfo,
      ...keepKv(state, m, body, () => cache),
      usage: { prompt_tokens: tokens.length + prompts.reduce((s, p) => s + p.length, 0), cached_entries: cacheEntries(past) },
    };
    return { tensors, metadata: { ...(wantKv ? kvEncodingMetadata(enc) : {}) }, response };
  });
}

function cacheEntries(kv: KvCache): number {
  return kv.reduce((s, layer) => s + layer.reduce((t, h) => t + h.positions.length, 0), 0);
}

export interface DecodeSession {
  model: Model;
  stream: boolean;
  tokens: Generator<number, DecodeResult, void>;
  finish(result: DecodeResult, generated: number[]): FrameReply;
}

export function decodeCall(state: BackendState, body: Json, kv: KvCache | null, cancelled?: () => boolean): DecodeSession {
  const m = pickModel(state, body.model);
  const c = m.config, L = state.limits;
  const input = intArray(body.tokens, "tokens", { min: 0, max: c.vocabSize - 1, minLength: 1, maxLength: L.maxInputTokens });
  const past = resolvePast(state, m, body, kv);
  const positions = resolvePositions(m, body, input.length, past);
  const maxTokens = optInt(body.max_tokens, "max_tokens", 0, L.maxNewTokens) ?? DEFAULT_MAX_TOKENS;
  const temperature = optNumber(body.temperature, "temperature", 0, 2) ?? 0;
  const topP = optNumber(body.top_p, "top_p", 0, 1);
  const seed = optInt(body.seed, "seed", 0, 2 ** 32 - 1);
  const stopTokens = body.stop_tokens === undefined ? [...m.tokenizer.stopTokens] : intArray(body.stop_tokens, "stop_tokens", { min: 0, max: c.vocabSize - 1, maxLength: 64 });
  const wantKv = optBool(body.return_kv, "return_kv") ?? true;
  const stream = optBool(body.stream, "stream") ?? false;
  const enc = kvEncoding(body.kv_encoding);
  const tokens = wrapKvErrors(() => decode(m, { tokens: input, positions, past }, { maxTokens, sampler: makeSampler({ temperature, topP, seed }), stopTokens, kvOfLast: true, cancelled }));
  return {
    model: m,
    stream,
    tokens,
    finish(result, generated) {
      const response: Json = {
        protocol: PROTOCOL,
        model: c.name,
        tokens: generated,
        text: m.tokenizer.decode(generated),
        finish_reason: result.finishReason,
        first_position: positions[0],
        next_position: result.nextPosition,
        ...keepKv(state, m, body, () => concatKv(past, result.kv)),
        usage: { prompt_tokens: input.length, completion_tokens: generated.length, total_tokens: input.length + generated.length, cached_entries: cacheEntries(past) },
      };
      return { tensors: wantKv ? kvTensors(result.kv, c.headDim, enc) : [], metadata: wantKv ? kvEncodingMetadata(enc) : {}, response };
    },
  };
}

export function profileCall(state: BackendState, body: Json): Json {
  const m = pickModel(state, body.model);
  const c = m.config, L = state.limits;
  const blockSize = optInt(body.block_size, "block_size", 1, L.maxProfileTokens);
  if (blockSize === undefined) invalid("block_size is required", "block_size");
  let windows: number[][];
  if (body.windows !== undefined) {
    if (!Array.isArray(body.windows) || body.windows.length === 0) invalid("windows must be a non-empty array of token arrays", "windows");
    windows = body.windows.map((w, i) => intArray(w, `windows[${i}]`, { min: 0, max: c.vocabSize - 1, maxLength: L.maxProfileTokens }));
  } else if (body.texts !== undefined) {
    if (!Array.isArray(body.texts) || body.texts.length === 0) invalid("texts must be a non-empty array of strings", "texts");
    windows = body.texts.map((t, i) => m.tokenizer.encode(optString(t, `texts[${i}]`) ?? ""));
  } else invalid("give windows (token arrays) or texts", "windows");
  const total = windows.reduce((s, w) => s + w.length, 0);
  if (total > L.maxProfileTokens) invalid(`profiling windows hold ${total} tokens, at most ${L.maxProfileTokens} allowed`, "windows");
  if (windows.every((w) => w.length <= blockSize)) invalid(`every window is at most block_size (${blockSize}) tokens; sensitivity needs tokens beyond the first block`, "block_size");
  const p = profileSensitivity(m, windows, blockSize);
  return { protocol: PROTOCOL, model: c.name, block_size: blockSize, windows: windows.length, tokens: p.tokens, sensitivity: p.sensitivity, per_head: p.perHead };
}
