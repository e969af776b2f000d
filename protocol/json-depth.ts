// Nesting depth of JSON text, measured before JSON.parse. Parsing deep input
// is fine, but every later recursive walk (structured clone across RPC,
// JSON.stringify, hashing a message) can overflow the stack on it, so both
// the Worker (worker/http/json-body.ts) and the reference backend
// (backend/http/body.ts) refuse it up front with a 400 naming the limit.
// One linear pass over the text; brackets inside strings do not count.

/** Deepest nesting any request may have: a chat body is ~6 deep, a tool's JSON Schema rarely 20. */
export const MAX_JSON_DEPTH = 64;

/** The 0-based index at which `text` first nests deeper than `limit`, or -1 when it never does. */
export function firstTooDeep(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      if (++depth > limit) return i;
    } else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) {
      depth--;
    }
  }
  return -1;
}

/** The refusal text both servers send (the caller wraps it in its own error type). */
export function tooDeepMessage(at: number, limit = MAX_JSON_DEPTH): string {
  return `request body nests deeper than ${limit} levels (at character ${at}); flatten it (tool_calls arguments travel as JSON strings)`;
}
