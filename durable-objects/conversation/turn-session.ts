// What ConversationDO does around a chat turn besides appending messages:
// idempotent results (stored in import_keys under TURN_KEY_PREFIX, bound to
// the request's messages by their hash chain) and Continuum pinning state
// (pinning.ts, kept as JSON in meta, released by an "unpin" schedule row).
// All functions run inside the object, on its store.
import type { ChatMessage } from "./conversation-api";
import { InvalidConversationRequestError } from "./conversation-api";
import type { ConversationStore } from "./conversation-store";
import { activePin, afterTurn, toolNames, type BackendPin, type PinningState, type ToolTimings } from "./pinning";
import { isIdempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH, TURN_KEY_PREFIX, type StoredTurnResponse } from "./turn-api";

export const UNPIN_JOB = "unpin";
const PIN_META = "backend_pin";
const TIMINGS_META = "tool_timings";

/** An Idempotency-Key argument (turns and imports), or undefined when none was given. */
export function validIdempotencyKey(key: unknown): string | undefined {
  if (key === undefined || key === null) return undefined;
  if (!isIdempotencyKey(key)) throw new InvalidConversationRequestError(`Idempotency-Key must be a string of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  return key;
}

interface StoredTurn {
  fingerprint: string;
  response: StoredTurnResponse;
}

/** The stored result for this key, or null; a key reused with other messages is a 400. */
export function storedTurn(store: ConversationStore, key: string, fingerprint: string): StoredTurnResponse | null {
  const stored = store.importResult<StoredTurn>(TURN_KEY_PREFIX + key);
  if (!stored) return null;
  if (stored.fingerprint !== fingerprint) throw new InvalidConversationRequestError("this Idempotency-Key was already used for a turn with different messages");
  return stored.response;
}

export function saveTurn(store: ConversationStore, key: string, fingerprint: string, response: StoredTurnResponse, now: number): void {
  store.saveImportResult(TURN_KEY_PREFIX + key, { fingerprint, response } satisfies StoredTurn, now);
}

export function pinningState(store: ConversationStore): PinningState {
  return { pin: store.metaJson<BackendPin | null>(PIN_META) ?? null, timings: store.metaJson<ToolTimings>(TIMINGS_META) ?? {} };
}

export function pinnedBackend(store: ConversationStore, now: number): string | null {
  return activePin(pinningState(store).pin, now)?.backend ?? null;
}

/** Updates pin and tool timings after a committed turn (inside its transaction); schedules the release. */
export function recordRouting(store: ConversationStore, newMessages: readonly ChatMessage[], reply: ChatMessage, backend: string, arrivedAt: number, now: number): void {
  const before = pinningState(store);
  const after = afterTurn(before, {
    backend,
    toolCalls: toolNames(reply.tool_calls),
    toolResults: newMessages.some((m) => m.role === "tool"),
    arrivedAt,
    now,
  });
  store.setMeta(PIN_META, JSON.stringify(after.pin));
  if (after.timings !== before.timings) store.setMeta(TIMINGS_META, JSON.stringify(after.timings));
  if (after.pin) store.schedule(UNPIN_JOB, after.pin.until);
}

/** The alarm's part: drop an expired pin; a pin that still holds gets its release scheduled again. */
export function releaseExpiredPin(store: ConversationStore, now: number): void {
  const { pin } = pinningState(store);
  if (pin === null) return;
  if (pin.until <= now) store.setMeta(PIN_META, "null");
  else store.schedule(UNPIN_JOB, pin.until);
}
