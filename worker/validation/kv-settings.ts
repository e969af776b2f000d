// The optional `kv` field of a kv-mode chat request (docs/kv-mode.md):
// every field is checked here, at the edge, so a bad setting is a 400 naming
// the field instead of a failure inside the conversation's Durable Object.
import { invalidRequest } from "../http/api-error";
import { describe, isObject, optionalInt, rejectUnknownKeys, requireObject, type JsonObject } from "./fields";
import { isPolicyName, POLICY_NAMES } from "../../durable-objects/kv/policies/index";
import type { KvModeSettings } from "../../durable-objects/kv/kv-mode";
import type { PageEncoding } from "../../durable-objects/kv/pages";

const FIELDS = ["policy", "budget", "blockSize", "encoding", "alpha", "promptTokens", "pinTtlS"] as const;
const GROUP_SIZES = [32, 64, 128] as const;

function parseBudget(v: unknown): KvModeSettings["budget"] {
  const budget = requireObject(v, "kv.budget");
  rejectUnknownKeys(budget, ["tokensPerHead", "bytesPerConversation"], "kv.budget.");
  const tokens = optionalInt(budget, "tokensPerHead", 1, 2 ** 24, "kv.budget.");
  const bytes = optionalInt(budget, "bytesPerConversation", 1, 10 * 2 ** 30, "kv.budget.");
  if ((tokens === undefined) === (bytes === undefined)) {
    throw invalidRequest("kv.budget needs exactly one of tokensPerHead or bytesPerConversation", "kv.budget");
  }
  return tokens !== undefined ? { tokensPerHead: tokens } : { bytesPerConversation: bytes! };
}

function parseEncoding(v: unknown): PageEncoding {
  const enc = requireObject(v, "kv.encoding");
  rejectUnknownKeys(enc, ["dtype", "groupSize"], "kv.encoding.");
  if (enc.dtype === "fp32") {
    if (enc.groupSize !== undefined) throw invalidRequest("kv.encoding.groupSize applies to int8 and int4 only", "kv.encoding.groupSize");
    return { dtype: "fp32" };
  }
  if (enc.dtype !== "int8" && enc.dtype !== "int4") {
    throw invalidRequest(`kv.encoding.dtype must be fp32, int8 or int4, got ${JSON.stringify(enc.dtype)}`, "kv.encoding.dtype");
  }
  const groupSize = enc.groupSize ?? 64;
  if (!GROUP_SIZES.includes(groupSize as 32)) throw invalidRequest(`kv.encoding.groupSize must be 32, 64 or 128, got ${JSON.stringify(groupSize)}`, "kv.encoding.groupSize");
  return { dtype: enc.dtype, groupSize: groupSize as 32 | 64 | 128 };
}

/** Parses the `kv` field; undefined when absent (the conversation's stored settings apply). */
export function parseKvSettings(v: unknown): Partial<KvModeSettings> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalidRequest(`kv must be an object {${FIELDS.join(", ")}}, got ${describe(v)}`, "kv", "invalid_type");
  const kv: JsonObject = v;
  rejectUnknownKeys(kv, FIELDS, "kv.");
  const out: Partial<KvModeSettings> = {};
  if (kv.policy !== undefined) {
    if (!isPolicyName(kv.policy)) throw invalidRequest(`kv.policy must be one of ${POLICY_NAMES.join(", ")}, got ${JSON.stringify(kv.policy)}`, "kv.policy");
    out.policy = kv.policy;
  }
  if (kv.budget !== undefined) out.budget = parseBudget(kv.budget);
  if (kv.encoding !== undefined) out.encoding = parseEncoding(kv.encoding);
  if (kv.alpha !== undefined) {
    if (typeof kv.alpha !== "number" || !(kv.alpha >= 0 && kv.alpha <= 10)) throw invalidRequest(`kv.alpha must be a number between 0 and 10, got ${JSON.stringify(kv.alpha)}`, "kv.alpha");
    out.alpha = kv.alpha;
  }
  const blockSize = optionalInt(kv, "blockSize", 1, 65_536, "kv.");
  if (blockSize !== undefined) out.blockSize = blockSize;
  const promptTokens = optionalInt(kv, "promptTokens", 1, 65_536, "kv.");
  if (promptTokens !== undefined) out.promptTokens = promptTokens;
  const pinTtlS = optionalInt(kv, "pinTtlS", 0, 86_400, "kv.");
  if (pinTtlS !== undefined) out.pinTtlS = pinTtlS;
  return out;
}
