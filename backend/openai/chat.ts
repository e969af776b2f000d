// OpenAI-compatible /v1/chat/completions over the reference model, so epikv's
// context mode (any OpenAI-compatible server) runs against it too. The chat
// is templated (backend/model/tokenizer.ts), prefilled and decoded; usage is
// reported; `stop` strings end the text without being returned; `logprobs`
// (openai/logprobs.ts) are reported per token. Every other parameter is used,
// accepted at its no-op value, or refused (openai/parameters.ts).
// Default temperature is 0 (greedy, deterministic), not OpenAI's 1: this is a
// reference backend for tests and local runs.
import { randomUUID } from "node:crypto";
import { decode } from "../model/generate";
import { emptyKv } from "../model/kv";
import { makeSampler } from "../model/sample";
import { chatTokens } from "../model/tokenizer";
import { DEFAULT_MAX_TOKENS, parseMessages, pickModel, type BackendState } from "../protocol/calls";
import { invalid } from "../protocol/errors";
import { asObject, optBool, optInt, optNumber, type Json } from "../protocol/fields";
import { checkParameters } from "./parameters";
import { MAX_TOP_LOGPROBS, tokenLogprob, type TokenLogprob } from "./logprobs";

/** A piece of the reply: text that is final, and the logprobs of the tokens it came from (null unless asked for). */
export interface ChatDelta {
  text: string;
  logprobs: TokenLogprob[] | null;
}

export interface ChatRun {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** The client asked for logprobs (the reply carries a logprobs object, possibly empty). */
  logprobs: boolean;
  promptTokens: number;
  /** Text deltas as they become final; returns the finish reason and completion token count. */
  deltas: AsyncGenerator<ChatDelta, { finishReason: "stop" | "length"; completionTokens: number }, void>;
}

export function startChat(state: BackendState, body: Json, cancelled: () => boolean): ChatRun {
  checkParameters(body);
  const m = pickModel(state, body.model);
  const messages = parseMessages(body.messages);
  optInt(body.n, "n", 1, 1); // one choice per request
  const maxTokens = optInt(body.max_completion_tokens, "max_completion_tokens", 0, state.limits.maxNewTokens) ?? optInt(body.max_tokens, "max_tokens", 0, state.limits.maxNewTokens) ?? DEFAULT_MAX_TOKENS;
  const temperature = optNumber(body.temperature, "temperature", 0, 2) ?? 0;
  const topP = optNumber(body.top_p, "top_p", 0, 1);
  const seed = optInt(body.seed, "seed", -(2 ** 31), 2 ** 32 - 1);
  const stream = optBool(body.stream, "stream") ?? false;
  const includeUsage = stream ? (optBool(asObject(body.stream_options ?? {}, "stream_options").include_usage, "stream_options.include_usage") ?? false) : true;
  const stops = body.stop === undefined || body.stop === null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  if (!Array.isArray(stops) || stops.length > 4 || stops.some((s) => typeof s !== "string" || s.length === 0)) invalid("stop must be a non-empty string or an array of up to 4 such strings", "stop");
  const logprobs = optBool(body.logprobs, "logprobs") ?? false;
  const topLogprobs = optInt(body.top_logprobs, "top_logprobs", 0, MAX_TOP_LOGPROBS);
  if (topLogprobs !== undefined && !logprobs) invalid("top_logprobs needs logprobs: true", "top_logprobs");
  const prompt = chatTokens(m.tokenizer, messages, true);
  if (prompt.length > state.limits.maxInputTokens) invalid(`the chat is ${prompt.length} tokens, at most ${state.limits.maxInputTokens} allowed`, "messages");
  const positions = prompt.map((_, i) => i);
  const sample = makeSampler({ temperature, topP, seed: seed === undefined ? undefined : seed >>> 0 });
  /** Logprobs of tokens sampled but not yet handed out with a delta. */
  let scored: TokenLogprob[] = [];
  const tokens = decode(m, { tokens: prompt, positions, past: emptyKv(m.config) }, {
    maxTokens,
    sampler: logprobs
      ? (logits) => {
          const id = sample(logits);
          scored.push(tokenLogprob(m.tokenizer, logits, id, topLogprobs ?? 0));
          return id;
        }
      : sample,
    stopTokens: m.tokenizer.stopTokens,
    kvOfLast: false,
    cancelled,
  });
  const holdBack = Math.max(0, ...stops.map((s) => (s as string).length - 1));

  const delta = (text: string): ChatDelta => {
    if (!logprobs) return { text, logprobs: null };
    const taken = scored;
    scored = [];
    return { text, logprobs: taken };
  };

  async function* deltas(): AsyncGenerator<ChatDelta, { finishReason: "stop" | "length"; completionTokens: number }, void> {
    const dec = m.tokenizer.streamDecoder();
    let pending = "";
    let count = 0;
    let finish: "stop" | "length" = "length";
    for (;;) {
      const step = tokens.next();
      if (step.done) {
        finish = step.value.finishReason === "stop" ? "stop" : "length";
        break;
      }
      count++;
      pending += dec.push(step.value);
      const hit = firstStop(pending, stops as string[]);
      if (hit >= 0) {
        if (hit > 0) yield delta(pending.slice(0, hit));
        return { finishReason: "stop", completionTokens: count };
      }
      if (pending.length > holdBack) {
        yield delta(pending.slice(0, pending.length - holdBack));
        pending = pending.slice(pending.length - holdBack);
      }
      await new Promise((r) => setImmediate(r));
    }
    pending += dec.end();
    const hit = firstStop(pending, stops as string[]);
    if (hit >= 0) pending = pending.slice(0, hit);
    if (pending) yield delta(pending);
    return { finishReason: hit >= 0 ? "stop" : finish, completionTokens: count };
  }
  return { model: m.config.name, stream, includeUsage, logprobs, promptTokens: prompt.length, deltas: deltas() };
}

function firstStop(text: string, stops: string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

export function completionId(): string {
  return `chatcmpl-${randomUUID().replaceAll("-", "").slice(0, 24)}`;
}
