// Chat Completions `logprobs`: for each generated token its log-probability
// under the distribution it was sampled from (softmax of the logits, before
// temperature and top_p, as OpenAI reports), and the `top_logprobs` most
// likely alternatives. `token` and `bytes` come from the model's tokenizer (a
// byte, a word, or a special token).
import type { Tokenizer } from "../model/tokenizer";

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

function tokenEntry(tok: Tokenizer, id: number, logprob: number): TopLogprob {
  const { text, bytes } = tok.tokenPiece(id);
  return { token: text, logprob, bytes };
}

/** log softmax of the logits at `chosen`, and the `top` highest (ties → lower id). */
export function tokenLogprob(tok: Tokenizer, logits: Float32Array, chosen: number, top: number): TokenLogprob {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  const logZ = max + Math.log(sum);
  const alternatives: TopLogprob[] = [];
  if (top > 0) {
    const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
    for (const id of order.slice(0, top)) alternatives.push(tokenEntry(tok, id, logits[id]! - logZ));
  }
  return { ...tokenEntry(tok, chosen, logits[chosen]! - logZ), top_logprobs: alternatives };
}
