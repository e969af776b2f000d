// Continuum-style KV pinning (Li et al., "Continuum: Efficient and Robust
// Multi-Turn LLM Agent Scheduling with KV Cache Time-to-Live", 2025, §4): when
// a turn ends in a tool call, the agent will be back once the tool returns, so
// the backend that just served the conversation keeps it (its KV prefix)
// pinned for a time-to-live predicted from how long that tool usually takes;
// past the TTL the pin is released (by the Durable Object's alarm) and the
// conversation may go to any backend again.
//
// Prediction: per tool name, an EWMA of the observed duration and of its
// absolute deviation (Jacobson's TCP RTO estimator, RFC 6298 §2):
// TTL = mean + K·dev, clamped to [MIN_TTL_MS, MAX_TTL_MS]; a tool never seen
// gets DEFAULT_TTL_MS. Several tools in one turn: the longest prediction.
// A tool's duration is observed from the commit of the turn that called it to
// the arrival of the turn that carries its result. Pure functions; the object
// stores the state as JSON in its meta table.

export const PIN_ALPHA = 0.25;
export const PIN_BETA = 0.25;
export const PIN_K = 2;
export const MIN_TTL_MS = 1_000;
export const MAX_TTL_MS = 300_000;
export const DEFAULT_TTL_MS = 15_000;
/** Tools remembered per conversation (the least observed are forgotten first). */
export const MAX_TOOLS = 64;

export interface ToolTiming {
  /** EWMA of observed durations, ms. */
  mean: number;
  /** EWMA of |observed - mean|, ms. */
  dev: number;
  /** Observations so far. */
  n: number;
}

export type ToolTimings = Record<string, ToolTiming>;

export interface BackendPin {
  backend: string;
  /** Tool names the pinned turn called. */
  tools: string[];
  /** When the tool-calling turn committed (ms). */
  started_at: number;
  /** Pin released at this time (ms). */
  until: number;
}

export interface PinningState {
  pin: BackendPin | null;
  timings: ToolTimings;
}

export interface TurnRouting {
  /** Backend that served this turn. */
  backend: string;
  /** Tool names the reply called (empty: the turn did not end in a tool call). */
  toolCalls: string[];
  /** The turn's new messages included tool results. */
  toolResults: boolean;
  /** When the turn arrived at the edge (ms). */
  arrivedAt: number;
  /** Commit time (ms). */
  now: number;
}

export function observe(timings: ToolTimings, tool: string, ms: number): ToolTimings {
  if (!Number.isFinite(ms) || ms < 0) return timings;
  const prev = timings[tool];
  const next: ToolTiming = prev
    ? { mean: (1 - PIN_ALPHA) * prev.mean + PIN_ALPHA * ms, dev: (1 - PIN_BETA) * prev.dev + PIN_BETA * Math.abs(ms - prev.mean), n: prev.n + 1 }
    : { mean: ms, dev: ms / 2, n: 1 }; // RFC 6298: first sample R → SRTT = R, RTTVAR = R/2
  const out = { ...timings, [tool]: next };
  const names = Object.keys(out);
  if (names.length > MAX_TOOLS) {
    names.sort((a, b) => out[a]!.n - out[b]!.n);
    for (const name of names.slice(0, names.length - MAX_TOOLS)) if (name !== tool) delete out[name];
  }
  return out;
}

export function predictTtlMs(timings: ToolTimings, tools: readonly string[]): number {
  if (tools.length === 0) return 0;
  const one = (tool: string) => {
    const t = timings[tool];
    if (!t) return DEFAULT_TTL_MS;
    return Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, Math.ceil(t.mean + PIN_K * t.dev)));
  };
  return Math.max(...tools.map(one));
}

/** The pin if it still holds at `now`. */
export function activePin(pin: BackendPin | null, now: number): BackendPin | null {
  return pin !== null && pin.until > now ? pin : null;
}

/**
 * State after a committed turn: tool results observe the pinned tools'
 * durations; a reply ending in tool calls pins this backend for the predicted
 * TTL; any other reply releases the pin.
 */
export function afterTurn(state: PinningState, turn: TurnRouting): PinningState {
  let timings = state.timings;
  if (turn.toolResults && state.pin) {
    for (const tool of state.pin.tools) timings = observe(timings, tool, turn.arrivedAt - state.pin.started_at);
  }
  if (turn.toolCalls.length === 0) return { pin: null, timings };
  const ttl = predictTtlMs(timings, turn.toolCalls);
  return { pin: { backend: turn.backend, tools: [...new Set(turn.toolCalls)], started_at: turn.now, until: turn.now + ttl }, timings };
}

/** Tool names of an assistant reply's tool_calls (OpenAI shape); unnamed calls count as "unknown". */
export function toolNames(toolCalls: readonly unknown[] | undefined): string[] {
  if (!Array.isArray(toolCalls)) return [];
  return toolCalls.map((c) => {
    const name = (c as { function?: { name?: unknown } } | null)?.function?.name;
    return typeof name === "string" && name !== "" ? name.slice(0, 128) : "unknown";
  });
}
