// Byte-level vocabulary (ids 0–255 are the bytes of UTF-8 text) plus special
// and role tokens, and the chat template that frames messages with them.
// Plain text never encodes to a special token: "<|end|>" typed by a user stays
// seven bytes, so message content cannot forge a turn boundary.

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

export function applyChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt = true): number[] {
  const out = [BOS];
  for (const m of messages) {
    out.push(specialId(`<|${m.role}|>` as SpecialToken));
    // A loop, not a spread: spreading a long message's tokens as arguments overflows the stack.
    for (const t of encodeText(m.content)) out.push(t);
    out.push(END);
  }
  if (addGenerationPrompt) out.push(specialId("<|assistant|>"));
  return out;
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

export function tokenName(id: number): string {
  return id < BYTE_TOKENS ? `<0x${id.toString(16).padStart(2, "0").toUpperCase()}>` : (SPECIAL_TOKENS[id - BYTE_TOKENS] ?? `<unk:${id}>`);
}
