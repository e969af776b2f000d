// What the reference backend does with each Chat Completions parameter
// (docs/reference-backend.md, "Parameters"). Nothing is ignored silently: a
// parameter is either used, accepted at its no-op value, or refused with a
// 400 naming it — as OpenAI refuses an argument it does not recognise.
import { invalid } from "../protocol/errors";
import type { Json } from "../protocol/fields";

/** Read and used by startChat (backend/openai/chat.ts). */
export const USED_PARAMETERS = [
  "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop", "n", "logprobs", "top_logprobs",
] as const;

/** Accepted and without effect on the reply: labels for the caller's own bookkeeping. */
export const LABEL_PARAMETERS = ["user", "metadata", "store"] as const;

/**
 * Understood but not implemented by this model; accepted only at the value
 * that changes nothing (which a client library may send by default).
 */
const NO_OP_VALUE: ReadonlyMap<string, (v: unknown) => boolean> = new Map([
  ["frequency_penalty", (v: unknown) => v === 0],
  ["presence_penalty", (v: unknown) => v === 0],
  ["logit_bias", (v: unknown) => typeof v === "object" && v !== null && Object.keys(v).length === 0],
  ["response_format", (v: unknown) => typeof v === "object" && v !== null && (v as Json).type === "text"],
  ["tools", (v: unknown) => Array.isArray(v) && v.length === 0],
  ["tool_choice", (v: unknown) => v === "none"],
  ["parallel_tool_calls", () => true],
]); // a Map, not an object literal: a body key such as "valueOf" must not find Object.prototype's

/** Refuses (400, naming the field) any parameter this backend would otherwise have to ignore. */
export function checkParameters(body: Json): void {
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    if ((USED_PARAMETERS as readonly string[]).includes(key) || (LABEL_PARAMETERS as readonly string[]).includes(key)) continue;
    const noOp = NO_OP_VALUE.get(key);
    if (noOp) {
      if (!noOp(value)) invalid(`${key} is not supported by the reference backend (its model has no ${key === "response_format" ? "constrained decoding" : key.startsWith("tool") || key.startsWith("parallel") ? "tool calling" : key}); omit it`, key);
      continue;
    }
    invalid(`Unrecognized request argument supplied: ${key}`, key);
  }
}
