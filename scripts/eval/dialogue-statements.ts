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
import type { Rng } from "./random";

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

/** Picks an element and records its index in the signature. */
function picker(rng: Rng, parts: string[]) {
  return <T>(label: string, items: readonly T[]): T => {
    const i = rng.int(0, items.length - 1);
    parts.push(`${label}${i}`);
    return items[i]!;
  };
}

/** The value as a generic frame says it (kind.spoken, e.g. "Dr. {v}"). */
const spoken = (kind: DialogueFactKind, template: string): string => template.replaceAll("{v}", kind.spoken ?? "{v}");

function stateDraft(kind: DialogueFactKind, slots: Slots, rng: Rng): Draft {
  const parts: string[] = [];
  const pick = picker(rng, parts);
  const cache: Slots = {};
  const f = (template: string): string => fill(template, slots, rng, cache);
  const entity = (): string => f(pick("e", kind.entity));
  const shapes = ["say", "say", "follow-up", "assistant-asks", ...(kind.request ? ["offer", "choice", "choice"] : [])];
  const shape = pick("shape", shapes);
  parts[parts.length - 1] = shape;
  if (shape === "say") {
    const frames = [...kind.say, ...W.sayFrames.map((t) => spoken(kind, t))];
    const frame = pick("f", frames);
    const body = frame.includes("{entity}") ? frame.replace("{entity}", entity()) : frame;
    return { lines: [{ role: "user", text: `${pick("l", W.leadIns)}${f(body)}${pick("t", W.trailers)}.` }], evidence: [0], signature: parts.join("/") };
  }
  if (shape === "follow-up") {
    return {
      lines: [
        { role: "user", text: `${pick("l", W.leadIns)}${f(pick("m", W.mentionFrames).replace("{entity}", entity()))}.` },
        { role: "assistant", text: pick("a", W.askBack) },
        { role: "user", text: f(spoken(kind, pick("r", W.valueReplies))) },
      ],
      evidence: [0, 2],
      signature: parts.join("/"),
    };
  }
  if (shape === "assistant-asks") {
    return {
      lines: [
        { role: "user", text: pick("p", W.userPrompts) },
        { role: "assistant", text: f(pick("a", W.assistantAsks).replace("{entity}", entity())) },
        { role: "user", text: f(spoken(kind, pick("r", W.valueReplies))) },
      ],
      evidence: [1, 2],
      signature: parts.join("/"),
    };
  }
  const request = kind.request!;
  const ask = { role: "user" as const, text: `${pick("l", W.leadIns)}${f(pick("q", request.ask))}` };
  if (shape === "offer") {
    return { lines: [ask, { role: "assistant", text: f(pick("o", request.offer)) }], evidence: [0, 1], signature: parts.join("/") };
  }
  return {
    lines: [ask, { role: "assistant", text: f(pick("c", request.choice)) }, { role: "user", text: f(pick("k", request.accept)) }],
    evidence: [0, 1, 2],
    signature: parts.join("/"),
  };
}

function updateDraft(kind: DialogueFactKind, slots: Slots, rng: Rng): Draft {
  const parts: string[] = [];
  const pick = picker(rng, parts);
  const cache: Slots = {};
  const f = (template: string): string => fill(template, slots, rng, cache);
  const entity = (): string => f(pick("e", kind.entity));
  const shape = pick("shape", ["say", "say", "follow-up", ...(kind.request ? ["offer"] : [])]);
  parts[parts.length - 1] = shape;
  if (shape === "say") {
    const frame = pick("f", [...(kind.update ?? []), ...W.updateFrames.map((t) => spoken(kind, t))]);
    const body = frame.includes("{entity}") ? frame.replace("{entity}", entity()) : frame;
    return { lines: [{ role: "user", text: `${pick("l", W.updateLeadIns)}${f(body)}${pick("t", W.trailers)}.` }], evidence: [0], signature: parts.join("/") };
  }
  if (shape === "follow-up") {
    return {
      lines: [
        { role: "user", text: `${pick("l", W.updateLeadIns)}${f(pick("m", W.updateMentions).replace("{entity}", entity()))}.` },
        { role: "assistant", text: pick("a", W.updateAskBack) },
        { role: "user", text: f(spoken(kind, pick("r", W.valueReplies))) },
      ],
      evidence: [0, 2],
      signature: parts.join("/"),
    };
  }
  return {
    lines: [
      { role: "user", text: `${f(pick("q", W.changeRequests).replace("{entity}", entity()))}` },
      { role: "assistant", text: f(pick("o", kind.request!.offer)) },
    ],
    evidence: [0, 1],
    signature: parts.join("/"),
  };
}

function distractDraft(kind: DialogueFactKind, slots: Slots, rng: Rng): Draft {
  const parts: string[] = [];
  const pick = picker(rng, parts);
  const cache: Slots = {};
  const f = (template: string): string => fill(template, slots, rng, cache);
  const frames = [...kind.base.distract, ...W.sayFrames.map((t) => spoken(kind, t))];
  const frame = pick("f", frames);
  const body = frame.includes("{entity}") ? frame.replace("{entity}", pick("o", kind.other)) : frame;
  return { lines: [{ role: "user", text: `${pick("l", W.leadIns)}${f(body)}${pick("t", W.trailers)}.` }], evidence: [0], signature: parts.join("/") };
}

/** A script that ends on the user's line gets the assistant's acknowledgement. */
function withClosingReply(lines: ScriptLine[], rng: Rng): ScriptLine[] {
  return lines.at(-1)!.role === "user" ? [...lines, { role: "assistant", text: rng.pick(W.acknowledgements) }] : lines;
}
