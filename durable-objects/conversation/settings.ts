// Per-conversation settings: defaults and validation.
import type { ConversationSettings } from "./conversation-api";
import { InvalidConversationRequestError } from "./conversation-api";

export const DEFAULT_SETTINGS: ConversationSettings = {
  budget_tokens: 4096,
  episodes: 4, // docs/architecture.md, EpiCache step 3 default E
  window: 4, // docs/architecture.md, EpiCache step 1 default w
  recent_messages: 8, // ≥ window, so the still-open segment tail is always a recency candidate
};

const LIMITS = {
  budget_tokens: [64, 2_000_000],
  episodes: [1, 64],
  window: [1, 64],
  recent_messages: [0, 1024],
} as const;

/** Merges a partial update into settings, rejecting unknown keys and out-of-range values. */
export function mergeSettings(base: ConversationSettings, update: Partial<ConversationSettings> | undefined): ConversationSettings {
  if (update === undefined || update === null) return { ...base };
  if (typeof update !== "object" || Array.isArray(update)) throw new InvalidConversationRequestError("settings must be an object");
  const out: ConversationSettings = { ...base };
  for (const [key, value] of Object.entries(update)) {
    if (value === undefined) continue;
    if (key in LIMITS) {
      const [lo, hi] = LIMITS[key as keyof typeof LIMITS];
      if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) {
        throw new InvalidConversationRequestError(`${key} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(value)}`);
      }
      (out as unknown as Record<string, number>)[key] = value;
    } else if (key === "history") {
      if (value !== "fork" && value !== "strict") throw new InvalidConversationRequestError(`history must be "fork" or "strict", got ${JSON.stringify(value)}`);
      out.history = value;
    } else if (key === "model" || key === "backend") {
      if (typeof value !== "string" || value.length === 0 || value.length > 200) {
        throw new InvalidConversationRequestError(`${key} must be a non-empty string of at most 200 characters`);
      }
      out[key] = value;
    } else {
      throw new InvalidConversationRequestError(`unknown setting ${JSON.stringify(key)}`);
    }
  }
  return out;
}
