// Token estimator: a documented guess, calibrated per conversation.
//
// Without the backend's tokenizer, a message costs
//   tokens = ceil(weight / charsPerToken) + MESSAGE_OVERHEAD_TOKENS
// where weight counts ASCII characters once and every other code point
// NON_ASCII_WEIGHT times (CJK, emoji and accented text tokenize far more
// densely than English; at the default 4 chars/token a non-ASCII code point
// costs about one token). A request adds REPLY_PRIMING_TOKENS (the
// assistant-turn header chat templates append), following OpenAI's
// documented counting for chat models (≈ 3–4 tokens per message, 3 for the
// reply).
//
// Calibration: after each turn the backend reports usage.prompt_tokens for
// what was sent; the ratio actual / estimated moves charsPerToken by an
// exponential moving average (weight CALIBRATION_ALPHA), clamped to
// [MIN_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN], so one odd reply cannot wreck
// the estimate and the budget check tracks the real tokenizer over time.

export const DEFAULT_CHARS_PER_TOKEN = 4;
export const MIN_CHARS_PER_TOKEN = 1;
export const MAX_CHARS_PER_TOKEN = 8;
export const MESSAGE_OVERHEAD_TOKENS = 4;
export const REPLY_PRIMING_TOKENS = 3;
export const NON_ASCII_WEIGHT = 4;
export const CALIBRATION_ALPHA = 0.3;
/** Turns whose estimate is below this are too small to calibrate from (overheads dominate). */
export const MIN_CALIBRATION_TOKENS = 32;

/** Weighted character count of a text (see header). */
export function textWeight(text: string): number {
  let weight = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) weight += 1;
    else if (code >= 0xdc00 && code <= 0xdfff) continue; // low surrogate: counted with its high half
    else weight += NON_ASCII_WEIGHT;
  }
  return weight;
}

/** Weight of a message: content plus the fields a chat template also renders. */
export function messageWeight(m: { content: string; name?: string; tool_call_id?: string; tool_calls?: unknown[] }): number {
  let weight = textWeight(m.content);
  if (m.name) weight += textWeight(m.name);
  if (m.tool_call_id) weight += textWeight(m.tool_call_id);
  if (m.tool_calls?.length) weight += textWeight(JSON.stringify(m.tool_calls));
  return weight;
}

export function tokensForWeight(weight: number, charsPerToken: number): number {
  return Math.ceil(weight / charsPerToken) + MESSAGE_OVERHEAD_TOKENS;
}

/** Estimated tokens of a whole stored conversation: its total weight, plus the per-message overhead. */
export function conversationTokens(totalWeight: number, messages: number, charsPerToken: number): number {
  return Math.ceil(totalWeight / charsPerToken) + MESSAGE_OVERHEAD_TOKENS * messages;
}

/**
 * New chars-per-token after a turn. `estimatedTokens` is what the estimator
 * said the sent context costs (at `charsPerToken`), `promptTokens` what the
 * backend counted. Returns the old value when the sample is unusable.
 */
export function calibrateCharsPerToken(charsPerToken: number, estimatedTokens: number, promptTokens: number): number {
  if (!(Number.isFinite(estimatedTokens) && Number.isFinite(promptTokens))) return charsPerToken;
  if (estimatedTokens < MIN_CALIBRATION_TOKENS || promptTokens <= 0) return charsPerToken;
  // Only the text part scales with charsPerToken; overheads are taken as exact.
  const target = clamp((charsPerToken * estimatedTokens) / promptTokens, MIN_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN);
  return clamp((1 - CALIBRATION_ALPHA) * charsPerToken + CALIBRATION_ALPHA * target, MIN_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
