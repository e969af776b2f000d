// How the dialogue style (generate-dialogues.ts) states a fact: one of
// several shapes of one to three messages, by the user or the assistant,
// each composed from a kind's own parts (corpus/dialogue-facts.ts) and
// generic ones (corpus/phrasing.ts). A script lists its messages and which of
// them are needed to know the fact (its evidence). The composition's
// signature (shape and every part chosen) is kept per kind so that no two
// statements of one kind in a conversation share a template.
import type { DialogueFactKind } from "./corpus/dialogue-facts";
import type { Slots } from "./corpus/facts";
import * as W from "./corpus/phrasing";
import { fill, sentenceCase } from "./generator-parts";
import type { Rng } from "../../testing/random";

export interface ScriptLine {
  role: "user" | "assistant";
  text: string;
}

export interface Script {
  /** Alternating user / assistant messages, starting with the user and ending with the assistant. */
  lines: ScriptLine[];
  /** Indices of `lines` needed to know the fact. */
  evidence: number[];
}

/** `{v}` is the answer; `{old}` the previous value (updates), `{alt}` a second option the assistant offers. */
export type StatementRole = "state" | "update" | "distract";

/** One composition: its lines (not yet capitalised), evidence and signature, before the per-kind uniqueness check. */
interface Draft extends Script {
  signature: string;
}

/**
 * A statement of `kind` in `role`, never a signature already in `used` (up
 * to 50 tries; the part pools give thousands of combinations per kind).
 */
export function composeStatement(kind: DialogueFactKind, role: StatementRole, slots: Slots, rng: Rng, used: Set<string>): Script {
  for (let attempt = 0; attempt < 50; attempt++) {
    const draft = role === "state" ? stateDraft(kind, slots, rng) : role === "update" ? updateDraft(kind, slots, rng) : distractDraft(kind, slots, rng);
    if (used.has(draft.signature)) continue;
    used.add(draft.signature);
    const lines = draft.lines.map((line) => ({ ...line, text: sentenceCase(line.text, slots) }));
    return { lines: withClosingReply(lines, rng), evidence: draft.evidence };
  }
  throw new Error(`fact kind ${kind.key}: no unused ${role} composition left`);
}

/** One draft's tools: picks that record their index in the signature, slot filling, the kind's names. */
interface Composer {
  pick<T>(label: string, items: readonly T[]): T;
  /** A shape; shapes listed twice are twice as likely but sign alike. */
  shape(shapes: readonly string[]): string;
  fill(template: string): string;
  /** One of the kind's names for the thing, filled. */
  entity(): string;
  /** The draft, signed with every pick made so far. */
  done(lines: ScriptLine[], evidence: number[]): Draft;
}

function composer(kind: DialogueFactKind, slots: Slots, rng: Rng): Composer {
  const parts: string[] = [];
  const cache: Slots = {};
  const c: Composer = {
    pick: (label, items) => {
      const i = rng.int(0, items.length - 1);
      parts.push(`${label}${i}`);
      return items[i]!;
    },
    shape: (shapes) => {
      const shape = shapes[rng.int(0, shapes.length - 1)]!;
      parts.push(shape);
      return shape;
    },
    fill: (template) => fill(template, slots, rng, cache),
    entity: () => c.fill(c.pick("e", kind.entity)),
    done: (lines, evidence) => ({ lines, evidence, signature: parts.join("/") }),
  };
  return c;
}

/** The value as a generic frame says it (kind.spoken, e.g. "Dr. {v}"). */
const spoken = (kind: DialogueFactKind, template: string): string => template.replaceAll("{v}", kind.spoken ?? "{v}");

/** One user message: lead-in, a frame (with one of the kind's names where it says `{entity}`), trailer. */
function oneLiner(c: Composer, leadIns: readonly string[], frames: readonly string[], names: () => string): Draft {
  const frame = c.pick("f", frames);
  const body = frame.includes("{entity}") ? frame.replace("{entity}", names()) : frame;
  return c.done([{ role: "user", text: `${c.pick("l", leadIns)}${c.fill(body)}${c.pick("t", W.trailers)}.` }], [0]);
}

/** The user names the thing, the assistant asks, the user gives the value: the first and last messages are needed. */
function followUp(c: Composer, kind: DialogueFactKind, leadIns: readonly string[], mentions: readonly string[], askBack: readonly string[]): Draft {
  return c.done([
    { role: "user", text: `${c.pick("l", leadIns)}${c.fill(c.pick("m", mentions).replace("{entity}", c.entity()))}.` },
    { role: "assistant", text: c.pick("a", askBack) },
    { role: "user", text: c.fill(spoken(kind, c.pick("r", W.valueReplies))) },
  ], [0, 2]);
}

function stateDraft(kind: DialogueFactKind, slots: Slots, rng: Rng): Draft {
  const c = composer(kind, slots, rng);
  const shape = c.shape(["say", "say", "follow-up", "assistant-asks", ...(kind.request ? ["offer", "choice", "choice"] : [])]);
  if (shape === "say") return oneLiner(c, W.leadIns, [...kind.say, ...W.sayFrames.map((t) => spoken(kind, t))], c.entity);
  if (shape === "follow-up") return followUp(c, kind, W.leadIns, W.mentionFrames, W.askBack);
  if (shape === "assistant-asks") {
    return c.done([
      { role: "user", text: c.pick("p", W.userPrompts) },
      { role: "assistant", text: c.fill(c.pick("a", W.assistantAsks).replace("{entity}", c.entity())) },
      { role: "user", text: c.fill(spoken(kind, c.pick("r", W.valueReplies))) },
    ], [1, 2]);
  }
  const request = kind.request!;
  const ask: ScriptLine = { role: "user", text: `${c.pick("l", W.leadIns)}${c.fill(c.pick("q", request.ask))}` };
  if (shape === "offer") return c.done([ask, { role: "assistant", text: c.fill(c.pick("o", request.offer)) }], [0, 1]);
  return c.done([
    ask, { role: "assistant", text: c.fill(c.pick("c", request.choice)) }, { role: "user", text: c.fill(c.pick("k", request.accept)) },
  ], [0, 1, 2]);
}

function updateDraft(kind: DialogueFactKind, slots: Slots, rng: Rng): Draft {
  const c = composer(kind, slots, rng);
  const shape = c.shape(["say", "say", "follow-up", ...(kind.request ? ["offer"] : [])]);
  if (shape === "say") return oneLiner(c, W.updateLeadIns, [...(kind.update ?? []), ...W.updateFrames.map((t) => spoken(kind, t))], c.entity);
  if (shape === "follow-up") return followUp(c, kind, W.updateLeadIns, W.updateMentions, W.updateAskBack);
  return c.done([
    { role: "user", text: c.fill(c.pick("q", W.changeRequests).replace("{entity}", c.entity())) },
    { role: "assistant", text: c.fill(c.pick("o", kind.request!.offer)) },
  ], [0, 1]);
}

/** Someone else's version: the plain kind's distractor templates, or a generic frame with the kind's `other` names. */
function distractDraft(kind: DialogueFactKind, slots: Slots, rng: Rng): Draft {
  const c = composer(kind, slots, rng);
  return oneLiner(c, W.leadIns, [...kind.base.distract, ...W.sayFrames.map((t) => spoken(kind, t))], () => c.pick("o", kind.other));
}

/** A script that ends on the user's line gets the assistant's acknowledgement. */
function withClosingReply(lines: ScriptLine[], rng: Rng): ScriptLine[] {
  return lines.at(-1)!.role === "user" ? [...lines, { role: "assistant", text: rng.pick(W.acknowledgements) }] : lines;
}
