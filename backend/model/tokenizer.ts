// Tokenizers of the reference backend. Each model brings its own (chosen by
// its files, backend/model/load.ts): the seeded models use the byte-level
// vocabulary below (ids 0–255 are the bytes of UTF-8 text, then special and
// role tokens); the recall models ship a word-level vocabulary
// (word-tokenizer.ts, docs/recall-model.md). Both frame messages with the
// same chat template. Plain text never encodes to a special token: "<|end|>"
// typed by a user stays seven bytes (or one unknown word), so message content
// cannot forge a turn boundary.

export const SPECIAL_TOKENS = ["<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|end|>", "<|pad|>"] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

export const BYTE_TOKENS = 256;
export const VOCAB_SIZE = BYTE_TOKENS + SPECIAL_TOKENS.length;

export function specialId(token: SpecialToken): number {
  return BYTE_TOKENS + SPECIAL_TOKENS.indexOf(token);
}

export const BOS = specialId("<|bos|>");
export const EOS = specialId("<|eos|>");
export const END = specialId("<|end|>");
/** Generation stops after any of these. */
export const STOP_TOKENS: readonly number[] = [END, EOS];

export const ROLES = ["system", "user", "assistant", "tool"] as const;
export type Role = (typeof ROLES)[number];

/** The template `applyChatTemplate` implements, in the Jinja dialect other servers publish. */
export const CHAT_TEMPLATE =
  "<|bos|>{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

const encoder = new TextEncoder();

export function encodeText(text: string): number[] {
  return Array.from(encoder.encode(text));
}

export interface ChatMessage {
  role: Role;
  content: string;
}

/** The chat template in the byte-level vocabulary. */
export function applyChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt = true): number[] {
  return chatTokens(byteTokenizer, messages, addGenerationPrompt);
}

/** Text of token ids; special tokens are dropped unless `keepSpecial`, invalid UTF-8 becomes U+FFFD. */
export function decodeTokens(ids: readonly number[], keepSpecial = false): string {
  let text = "";
  let bytes: number[] = [];
  const flush = () => {
    text += new TextDecoder().decode(new Uint8Array(bytes));
    bytes = [];
  };
  for (const id of ids) {
    if (id < BYTE_TOKENS) bytes.push(id);
    else {
      flush();
      if (keepSpecial) text += SPECIAL_TOKENS[id - BYTE_TOKENS] ?? "";
    }
  }
  flush();
  return text;
}

/** Incremental detokenizer for streaming: holds back bytes of an incomplete UTF-8 sequence. */
export class StreamDecoder {
  private readonly decoder = new TextDecoder();
  push(id: number): string {
    if (id >= BYTE_TOKENS) return "";
    return this.decoder.decode(new Uint8Array([id]), { stream: true });
  }
  end(): string {
    return this.decoder.decode();
  }
}

/** What the backend needs of a model's tokenizer. */
export interface Tokenizer {
  readonly vocabSize: number;
  /** Id of a special token (every SpecialToken exists in every vocabulary). */
  special(token: SpecialToken): number;
  readonly stopTokens: readonly number[];
  encode(text: string): number[];
  /** Text of token ids; special tokens are dropped unless `keepSpecial`. */
  decode(ids: readonly number[], keepSpecial?: boolean): string;
  streamDecoder(): { push(id: number): string; end(): string };
  /** The `tokenizer` field of the model metadata (docs/kv-protocol.md). */
  describe(): Record<string, unknown>;
  /** One token as logprobs report it: its text (special tokens included) and raw bytes. */
  tokenPiece(id: number): { text: string; bytes: number[] };
}

/**
 * How the chat template frames a message: the tokens that open each role
 * and those that close every message (the model metadata's `role_prefixes`
 * and `message_suffix`, docs/kv-protocol.md). chatTokens frames with these
 * very arrays, so what the edge builds from the metadata is what this
 * backend tokenizes.
 */
export function messageFraming(tok: Tokenizer): { rolePrefixes: Record<Role, number[]>; messageSuffix: number[] } {
  return {
    rolePrefixes: Object.fromEntries(ROLES.map((r) => [r, [tok.special(`<|${r}|>`)]])) as Record<Role, number[]>,
    messageSuffix: [tok.special("<|end|>")],
  };
}

/** The chat template (`CHAT_TEMPLATE`) in any vocabulary: <|bos|>, then role prefix + content + suffix per message. */
export function chatTokens(tok: Tokenizer, messages: readonly ChatMessage[], addGenerationPrompt = true): number[] {
  const { rolePrefixes, messageSuffix } = messageFraming(tok);
  const out = [tok.special("<|bos|>")];
  for (const m of messages) {
    // Loops, not spreads: spreading a long message's tokens as arguments overflows the stack.
    for (const t of rolePrefixes[m.role]) out.push(t);
    for (const t of tok.encode(m.content)) out.push(t);
    for (const t of messageSuffix) out.push(t);
  }
  if (addGenerationPrompt) for (const t of rolePrefixes.assistant) out.push(t);
  return out;
}

export const byteTokenizer: Tokenizer = {
  vocabSize: VOCAB_SIZE,
  special: specialId,
  stopTokens: STOP_TOKENS,
  encode: encodeText,
  decode: decodeTokens,
  streamDecoder: () => new StreamDecoder(),
  tokenPiece: (id) =>
    id < BYTE_TOKENS
      ? { text: new TextDecoder().decode(new Uint8Array([id])), bytes: [id] } // a lone byte of a multi-byte character reads as U+FFFD
      : { text: SPECIAL_TOKENS[id - BYTE_TOKENS] ?? "", bytes: Array.from(new TextEncoder().encode(SPECIAL_TOKENS[id - BYTE_TOKENS] ?? "")) },
  describe: () => ({ type: "byte", byte_tokens: BYTE_TOKENS, special_tokens: Object.fromEntries(SPECIAL_TOKENS.map((t, i) => [t, BYTE_TOKENS + i])) }),
};

export function tokenName(id: number): string {
  return id < BYTE_TOKENS ? `<0x${id.toString(16).padStart(2, "0").toUpperCase()}>` : (SPECIAL_TOKENS[id - BYTE_TOKENS] ?? `<unk:${id}>`);
}
