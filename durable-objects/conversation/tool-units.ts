// Tool-call units: an assistant message that carries tool_calls and the tool
// messages answering it are sent together or not at all (OpenAI-compatible
// backends reject a tool result without its call, and a call without its
// results). Each stored message records the seq of its unit's head.

export interface UnitLink {
  seq: number;
  role: string;
  /** The assistant message carries tool_calls. */
  hasToolCalls: boolean;
  unitHead: number;
}

/** Head of a new message's unit, given the message stored just before it (null when first). */
export function unitHeadFor(previous: UnitLink | null, message: { seq: number; role: string }): number {
  if (message.role === "tool" && previous && (previous.role === "tool" || (previous.role === "assistant" && previous.hasToolCalls))) {
    return previous.role === "tool" ? previous.unitHead : previous.seq;
  }
  return message.seq;
}

/** Groups seq-ordered messages into units (runs with the same head), keeping order. */
export function groupUnits<T extends { seq: number; unitHead: number }>(messages: readonly T[]): T[][] {
  const units: T[][] = [];
  for (const m of messages) {
    const last = units[units.length - 1];
    if (last && last[0]!.unitHead === m.unitHead) last.push(m);
    else units.push([m]);
  }
  return units;
}
