// Chat Completions `logprobs` for the byte-level model: for each generated
// token its log-probability under the distribution it was sampled from
// (softmax of the logits, before temperature and top_p, as OpenAI reports),
// and the `top_logprobs` most likely alternatives. A token is one byte or one
// special token, so `token` is its text (a lone byte of a multi-byte UTF-8
// character reads as U+FFFD) and `bytes` its raw bytes.
import { BYTE_TOKENS, SPECIAL_TOKENS } from "../model/tokenizer";

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}
export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

/** OpenAI's bound on top_logprobs. */
export const MAX_TOP_LOGPROBS = 20;

function tokenEntry(id: number, logprob: number): TopLogprob {
  if (id < BYTE_TOKENS) return { token: new TextDecoder().decode(new Uint8Array([id])), logprob, bytes: [id] };
  const text = SPECIAL_TOKENS[id - BYTE_TOKENS] ?? "";
  return { token: text, logprob, bytes: Array.from(new TextEncoder().encode(text)) };
}

/** log softmax of the logits at `chosen`, and the `top` highest (ties → lower id). */
export function tokenLogprob(logits: Float32Array, chosen: number, top: number): TokenLogprob {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  const logZ = max + Math.log(sum);
  const alternatives: TopLogprob[] = [];
  if (top > 0) {
    const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
    for (const id of order.slice(0, top)) alternatives.push(tokenEntry(id, logits[id]! - logZ));
  }
  return { ...tokenEntry(chosen, logits[chosen]! - logZ), top_logprobs: alternatives };
}
