// The decode loop: feed input tokens at explicit positions against a KV
// cache, then sample one token at a time. Yields each token; returns the KV
// of every token fed (input + generated, the final one included when
// `kvOfLast`, so the transcript's cache is complete) and why it stopped.
import type { Model } from "./forward";
import { concatKv, type KvCache } from "./kv";
import type { Sampler } from "./sample";

export interface DecodeInput {
  tokens: readonly number[];
  positions: readonly number[];
  past: KvCache;
}

export interface DecodeOptions {
  maxTokens: number;
  sampler: Sampler;
  stopTokens: readonly number[];
  /** Run one more step so the last generated token's KV is returned too. */
  kvOfLast: boolean;
  /** Checked between tokens; true stops early (client went away). */
  cancelled?: () => boolean;
}

export interface DecodeResult {
  kv: KvCache;
  finishReason: "stop" | "length" | "cancelled";
  /** Position of the next token after everything fed. */
  nextPosition: number;
}

export function* decode(model: Model, input: DecodeInput, o: DecodeOptions): Generator<number, DecodeResult, void> {
  let out = model.forward({ tokens: input.tokens, positions: input.positions, past: input.past });
  let fed = out.kv;
  let past = concatKv(input.past, out.kv);
  let next = input.positions[input.positions.length - 1] + 1;
  let finishReason: DecodeResult["finishReason"] = "length";
  for (let i = 0; i < o.maxTokens && next < model.config.maxPositions; i++) {
    if (o.cancelled?.()) {
      finishReason = "cancelled";
      break;
    }
    const token = o.sampler(out.logits);
    yield token;
    const stop = o.stopTokens.includes(token);
    const last = stop || i === o.maxTokens - 1;
    if (!last || o.kvOfLast) {
      out = model.forward({ tokens: [token], positions: [next], past });
      fed = concatKv(fed, out.kv);
      past = concatKv(past, out.kv);
      next++;
    }
    if (stop) {
      finishReason = "stop";
      break;
    }
  }
  return { kv: fed, finishReason, nextPosition: next };
}
