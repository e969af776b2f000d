// Segments: windows of `window` utterances (docs/architecture.md, EpiCache step 1).
//
// Utterances are the conversation's non-system messages in order (system
// messages are pinned, never segmented). Segment i covers utterances
// [i·w, (i+1)·w). Only full windows become segments; the still-open tail
// (fewer than w utterances) stays unsegmented until it fills and is covered
// by the recent window meanwhile. A segment's text is one line per utterance:
//   {speaker} said, "{text}"\n
// where the speaker is the message's name, or its role.

export interface Utterance {
  seq: number;
  role: string;
  content: string;
  name?: string | null;
}

export interface SegmentSpan {
  first_seq: number;
  last_seq: number;
  text: string;
}

export function segmentText(utterances: readonly Utterance[]): string {
  let text = "";
  for (const u of utterances) text += `${u.name || u.role} said, "${u.content}"\n`;
  return text;
}

/**
 * Cuts the open tail plus newly appended messages into full windows.
 * `openTail` are the utterances after the last stored segment (fewer than
 * `window`); system messages in `appended` are skipped.
 */
export function closeWindows(openTail: readonly Utterance[], appended: readonly Utterance[], window: number): { segments: SegmentSpan[]; openTail: Utterance[] } {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  const pending = [...openTail, ...appended.filter((u) => u.role !== "system")];
  const segments: SegmentSpan[] = [];
  let i = 0;
  for (; i + window <= pending.length; i += window) {
    const group = pending.slice(i, i + window);
    segments.push({ first_seq: group[0]!.seq, last_seq: group[group.length - 1]!.seq, text: segmentText(group) });
  }
  return { segments, openTail: pending.slice(i) };
}
