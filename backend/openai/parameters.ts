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
const NO_OP_VALUE: Record<string, (v: unknown) => boolean> = {
  frequency_penalty: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  logit_bias: (v) => typeof v === "object" && v !== null && Object.keys(v).length === 0,
  response_format: (v) => typeof v === "object" && v !== null && (v as Json).type === "text",
  tools: (v) => Array.isArray(v) && v.length === 0,
  tool_choice: (v) => v === "none",
  parallel_tool_calls: () => true,
};

/** Refuses (400, naming the field) any parameter this backend would otherwise have to ignore. */
export function checkParameters(body: Json): void {
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    if ((USED_PARAMETERS as readonly string[]).includes(key) || (LABEL_PARAMETERS as readonly string[]).includes(key)) continue;
    const noOp = NO_OP_VALUE[key];
    if (noOp) {
      if (!noOp(value)) invalid(`${key} is not supported by the reference backend (its model has no ${key === "response_format" ? "constrained decoding" : key.startsWith("tool") || key.startsWith("parallel") ? "tool calling" : key}); omit it`, key);
      continue;
    }
    invalid(`Unrecognized request argument supplied: ${key}`, key);
  }
}
