// What the edge needs to know about a kv backend's model, read once from
// `GET /kv/v1/models/{id}` (docs/kv-protocol.md) and kept with the conversation.

export interface KvModelInfo {
  id: string;
  layers: number;
  /** Query heads. */
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  /** The token a chat opens with; null for formats that open with none (ChatML). */
  bosToken: number | null;
  /**
   * Role name → the tokens that open a message of that role: one token for
   * epikv's vocabularies (`<|user|>`), several for real chat formats
   * (ChatML `<|im_start|>` `user` `\n`), so a message is framed as
   * prefix + content + suffix.
   */
  rolePrefixes: Record<string, number[]>;
  /** The tokens that close every message (`<|end|>`; ChatML `<|im_end|>` `\n`). */
  messageSuffix: number[];
  stopTokens: number[];
  maxInputTokens: number;
  maxPrompts: number;
  maxPromptTokens: number;
  maxProfileTokens: number;
}

/** GQA group size: query heads per KV head. */
export function groupSize(m: KvModelInfo): number {
  return m.heads / m.kvHeads;
}

/** Parses the models call's JSON; throws naming the first missing field. */
export function parseModelInfo(body: unknown): KvModelInfo {
  const o = body as Record<string, any>;
  const int = (v: unknown, name: string): number => {
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new TypeError(`kv backend model metadata: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  // Token ids start at 0 (a word-level vocabulary puts its special tokens first).
  const tokenId = (v: unknown, name: string): number => {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new TypeError(`kv backend model metadata: ${name} must be a token id (integer ≥ 0), got ${JSON.stringify(v)}`);
    return v as number;
  };
  if (typeof o !== "object" || o === null) throw new TypeError("kv backend model metadata is not an object");
  const limits = (o.limits ?? {}) as Record<string, unknown>;
  const stop = Array.isArray(o.stop_tokens) ? (o.stop_tokens as number[]) : [];
  const vocabSize = int(o.vocab_size, "vocab_size");
  const framing = messageFraming(o, vocabSize, stop, tokenId);
  const info: KvModelInfo = {
    id: String(o.id),
    layers: int(o.layers, "layers"),
    heads: int(o.heads, "heads"),
    kvHeads: int(o.kv_heads, "kv_heads"),
    headDim: int(o.head_dim, "head_dim"),
    vocabSize,
    bosToken: o.bos_token === null ? null : tokenId(o.bos_token, "bos_token"),
    ...framing,
    stopTokens: stop,
    maxInputTokens: int(limits.max_input_tokens, "limits.max_input_tokens"),
    maxPrompts: int(limits.max_prompts, "limits.max_prompts"),
    maxPromptTokens: int(limits.max_prompt_tokens, "limits.max_prompt_tokens"),
    maxProfileTokens: int(limits.max_profile_tokens, "limits.max_profile_tokens"),
  };
  if (info.heads % info.kvHeads !== 0) throw new TypeError(`kv backend model metadata: heads ${info.heads} is not a multiple of kv_heads ${info.kvHeads}`);
  return info;
}

/** What a conversation stored before message framing kept: single role tokens and the end token. */
interface LegacyStoredModelInfo {
  roleTokens?: Record<string, number>;
  endToken?: number;
}

/**
 * The model info a conversation stored (kv-mode.ts keeps it with the
 * conversation, read once): one stored before message framing carries
 * `roleTokens`/`endToken`, and gets the framing the legacy wire rule gives,
 * so its token stream goes on in the template it started with.
 */
export function storedModelInfo(stored: KvModelInfo & LegacyStoredModelInfo): KvModelInfo {
  if (stored.rolePrefixes) return stored;
  const { roleTokens = {}, endToken, ...rest } = stored;
  const rolePrefixes = Object.fromEntries(Object.entries(roleTokens).map(([r, t]) => [r, [t]]));
  return { ...rest, rolePrefixes, messageSuffix: [endToken ?? stored.stopTokens[0]] };
}

type TokenIdCheck = (v: unknown, name: string) => number;

/**
 * How a message is framed (docs/kv-protocol.md, "Message framing"):
 * `role_prefixes` and `message_suffix` when the backend sends them; else
 * the legacy single tokens, prefix `[role_tokens[r]]` and suffix
 * `[stop_tokens[0]]`. Every id must be below vocab_size: a token stream
 * with an out-of-vocabulary id would fail at the backend far from its cause.
 */
function messageFraming(o: Record<string, any>, vocabSize: number, stop: unknown[], tokenId: TokenIdCheck): Pick<KvModelInfo, "rolePrefixes" | "messageSuffix"> {
  const inVocab: TokenIdCheck = (v, name) => {
    const id = tokenId(v, name);
    if (id >= vocabSize) throw new TypeError(`kv backend model metadata: ${name} must be below vocab_size ${vocabSize}, got ${id}`);
    return id;
  };
  const ids = (v: unknown, name: string, nonEmpty: boolean): number[] => {
    if (!Array.isArray(v) || (nonEmpty && v.length === 0)) throw new TypeError(`kv backend model metadata: ${name} must be ${nonEmpty ? "a non-empty" : "an"} array of token ids, got ${JSON.stringify(v)}`);
    return v.map((t, i) => inVocab(t, `${name}[${i}]`));
  };
  const roles = (v: unknown, name: string): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new TypeError(`kv backend model metadata: ${name} must be an object of role → tokens, got ${JSON.stringify(v)}`);
    return v as Record<string, unknown>;
  };
  if (o.role_prefixes !== undefined) {
    const prefixes = Object.entries(roles(o.role_prefixes, "role_prefixes")).map(([r, p]) => [r, ids(p, `role_prefixes.${r}`, true)]);
    return { rolePrefixes: Object.fromEntries(prefixes), messageSuffix: ids(o.message_suffix, "message_suffix", false) };
  }
  const legacy = Object.entries(roles(o.role_tokens ?? {}, "role_tokens")).map(([r, t]) => [r, [inVocab(t, `role_tokens.${r}`)]]);
  return { rolePrefixes: Object.fromEntries(legacy), messageSuffix: [inVocab(stop[0], "stop_tokens[0]")] };
}
