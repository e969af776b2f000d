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
  bosToken: number;
  /** Role name → the special token that opens a message of that role. */
  roleTokens: Record<string, number>;
  /** The token that closes a message (`<|end|>`); the first of stop_tokens. */
  endToken: number;
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
  const info: KvModelInfo = {
    id: String(o.id),
    layers: int(o.layers, "layers"),
    heads: int(o.heads, "heads"),
    kvHeads: int(o.kv_heads, "kv_heads"),
    headDim: int(o.head_dim, "head_dim"),
    vocabSize: int(o.vocab_size, "vocab_size"),
    bosToken: tokenId(o.bos_token, "bos_token"),
    roleTokens: (o.role_tokens ?? {}) as Record<string, number>,
    endToken: tokenId(stop[0], "stop_tokens[0]"),
    stopTokens: stop,
    maxInputTokens: int(limits.max_input_tokens, "limits.max_input_tokens"),
    maxPrompts: int(limits.max_prompts, "limits.max_prompts"),
    maxPromptTokens: int(limits.max_prompt_tokens, "limits.max_prompt_tokens"),
    maxProfileTokens: int(limits.max_profile_tokens, "limits.max_profile_tokens"),
  };
  if (info.heads % info.kvHeads !== 0) throw new TypeError(`kv backend model metadata: heads ${info.heads} is not a multiple of kv_heads ${info.kvHeads}`);
  return info;
}
