// The evaluation's second conversation style, "dialogue" (issue 11): harder
// than the plain style (generate-conversations.ts) in the ways real chats
// are. Facts are stated by the user or by the assistant (it books the
// dentist, suggests the wifi password), often across two or three messages
// (the thing named in one, its value in a reply or a follow-up), and their
// wording is composed from parts so no two statements of one kind share a
// template (dialogue-statements.ts). Every session opens with its date.
// Beside direct and paraphrased questions there are multi-hop ones (two
// facts from different sessions, corpus/multi-hop.ts) and temporal ones
// (when was something said, what was a value before it changed, which of two
// things came first). Distractors are as in the plain style.
//
// Run directly to dump one conversation as JSON for inspection:
//   npx tsx scripts/eval/generate-dialogues.ts --messages 2000 --seed 53 [--topical] > /tmp/conv.json
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import type { EvalConversation, EvalQuestion, SessionSpan, Split } from "./conversation";
import { dialogueFactKinds, type DialogueFactKind } from "./corpus/dialogue-facts";
import type { Slots } from "./corpus/facts";
import { multiHopChains, type MultiHopChain } from "./corpus/multi-hop";
import * as P from "./corpus/pools";
import * as T from "./corpus/topics";
import * as W from "./corpus/phrasing";
import { composeStatement, type Script, type StatementRole } from "./dialogue-statements";
import { LAST_FACT_SESSION, LAST_UPDATE_SESSION, UPDATE_GAP, type Placement } from "./generate-conversations";
import {
  checkMessageCount, drawDistinct, drawSessionLengths, fill, messageWriter, parseGeneratorCli, range, sentenceCase, sessionOf, sessionTopics, talkExchange,
} from "./generator-parts";
import { createRng, type Rng } from "../../testing/random";

export interface DialogueOptions {
  id: string;
  seed: number;
  /** Approximate number of messages (at least this many, more where facts need room). */
  messages: number;
  placement?: Placement;
  split?: Split;
  /** Distractor statements per fact and per multi-hop chain (default 2). */
  distractorsPerFact?: number;
  /** Probability that a fact that can change is changed later (default 0.6). */
  updateRate?: number;
}

/** Questions asking on which day a fact was told, and which of two facts came first. */
const WHEN_QUESTIONS = 4;
const ORDER_QUESTIONS = 3;
/** The first session's day: 6 January 2025 plus up to 200 days; later sessions follow 1–3 days apart. */
const FIRST_DAY_UTC = Date.UTC(2025, 0, 6);
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

/** Something said at a point in a session: its script is composed when the session is written. */
type Event =
  | { kind: "fact"; fact: number; role: StatementRole; slots: Slots }
  | { kind: "hop"; chain: number; part: "link" | "fact" }
  | { kind: "hop-distract"; chain: number; slots: Slots };

interface FactPlan {
  kind: DialogueFactKind;
  slots: Slots;
  update?: Slots;
  stateSeqs: number[];
  updateSeqs: number[];
}

interface HopPlan {
  chain: MultiHopChain;
  slots: Slots;
  linkSeqs: number[];
  factSeqs: number[];
}

export function generateDialogue(options: DialogueOptions): EvalConversation {
  const { id, seed } = options;
  checkMessageCount(options.messages);
  const rng = createRng(seed);
  const user = rng.pick(P.firstNames);
  const sessionLengths = drawSessionLengths(rng, options.messages);
  const sessionCount = sessionLengths.length;
  const dates = sessionDates(rng.fork("dates"), sessionCount);
  const placement = options.placement ?? "incidental";
  const distractors = options.distractorsPerFact ?? 2;

  // Plan: facts with their updates and distractors, multi-hop chains, as events per session.
  const planRng = rng.fork("plan");
  const events: Event[][] = Array.from({ length: sessionCount }, () => []);
  const forcedTopics: Set<string>[] = Array.from({ length: sessionCount }, () => new Set());
  const place = (session: number, event: Event, topic?: string): void => {
    events[session]!.push(event);
    if (placement === "topical" && topic) forcedTopics[session]!.add(topic);
  };
  const lastFact = Math.floor(LAST_FACT_SESSION * sessionCount) - 1;
  const facts: FactPlan[] = planRng.shuffle(dialogueFactKinds).map((kind, fact) => {
    const slots = kind.base.draw(planRng);
    const topic = kind.base.topic;
    const stateSession = planRng.int(0, lastFact);
    const plan: FactPlan = { kind, slots, stateSeqs: [], updateSeqs: [] };
    place(stateSession, { kind: "fact", fact, role: "state", slots: withAlt(kind, slots, planRng, [slots.v]) }, topic);
    const earliest = stateSession + Math.max(1, Math.ceil(UPDATE_GAP * sessionCount));
    const latest = Math.floor(LAST_UPDATE_SESSION * sessionCount) - 1;
    if (kind.update && earliest <= latest && planRng.chance(options.updateRate ?? 0.6)) {
      const value = drawDistinct(kind.base, planRng, [slots.v]).v;
      plan.update = { ...slots, v: value, old: slots.v };
      place(planRng.int(earliest, latest), { kind: "fact", fact, role: "update", slots: plan.update }, topic);
    }
    const taken = [slots.v, ...(plan.update ? [plan.update.v] : [])];
    for (let i = 0; i < distractors; i++) {
      const other = drawDistinct(kind.base, planRng, taken);
      taken.push(other.v);
      place(planRng.int(0, sessionCount - 1), { kind: "fact", fact, role: "distract", slots: other }, topic);
    }
    return plan;
  });
  const hops: HopPlan[] = multiHopChains.map((chain, index) => {
    const slots = chain.draw(planRng);
    const linkSession = planRng.int(0, Math.max(0, lastFact - 2));
    place(linkSession, { kind: "hop", chain: index, part: "link" });
    place(planRng.int(linkSession + 1, Math.max(linkSession + 1, lastFact)), { kind: "hop", chain: index, part: "fact" });
    for (let i = 0; i < distractors; i++) {
      let other = chain.draw(planRng);
      for (let t = 0; t < 50 && (other.b === slots.b || other.v === slots.v); t++) other = chain.draw(planRng);
      place(planRng.int(0, sessionCount - 1), { kind: "hop-distract", chain: index, slots: other });
    }
    return { chain, slots, linkSeqs: [], factSeqs: [] };
  });

  // Messages, session by session.
  const textRng = rng.fork("text");
  const messages: ChatMessage[] = [{
    role: "system",
    content: `You are a friendly personal assistant for ${user}. Remember what ${user} tells you and what you arrange for them across sessions, and answer questions about it.`,
  }];
  const say = messageWriter(messages);
  const sessions: SessionSpan[] = [];
  const openers: number[] = [];
  const used = new Map<string, Set<string>>();
  const usedBy = (key: string): Set<string> => used.get(key) ?? used.set(key, new Set()).get(key)!;
  // Scripts come capitalised, with answers that open a message left verbatim (generator-parts.ts sentenceCase).
  const write = (script: Script): number[] => {
    const seqs = script.lines.map((line) => messages.push({ role: line.role, content: line.text }) - 1);
    return script.evidence.map((i) => seqs[i]!);
  };
  for (let s = 0; s < sessionCount; s++) {
    const first = messages.length;
    const pending = textRng.shuffle(events[s]);
    const exchanges = Math.max(sessionLengths[s], pending.length + 2);
    const spots = textRng.shuffle(range(1, exchanges - 2)).slice(0, pending.length).sort((a, b) => a - b);
    const eventAt = new Map(spots.map((spot, i) => [spot, pending[i]!]));
    const topics = sessionTopics(textRng, forcedTopics[s]!);
    const cycles = new Map<string, number[]>();
    for (let e = 0; e < exchanges; e++) {
      const event = eventAt.get(e);
      if (e === 0) {
        openers.push(say("user", fill(textRng.pick(W.datedGreetings), { date: dates[s]! }, textRng, {})));
        say("assistant", textRng.pick(T.greetingReplies));
      } else if (e === exchanges - 1) {
        say("user", textRng.pick(T.closings));
        say("assistant", textRng.pick(T.closingReplies));
      } else if (event?.kind === "fact") {
        const plan = facts[event.fact]!;
        const seqs = write(composeStatement(plan.kind, event.role, event.slots, textRng, usedBy(plan.kind.key)));
        if (event.role === "state") plan.stateSeqs = seqs;
        if (event.role === "update") plan.updateSeqs = seqs;
      } else if (event) {
        const hop = hops[event.chain]!;
        const seqs = write(hopScript(hop.chain, event, event.kind === "hop-distract" ? event.slots : hop.slots, textRng));
        if (event.kind === "hop" && event.part === "link") hop.linkSeqs = seqs;
        if (event.kind === "hop" && event.part === "fact") hop.factSeqs = seqs;
      } else {
        talkExchange(textRng, topics, cycles, {}, say);
      }
    }
    sessions.push({ first, last: messages.length - 1, topics: topics.map((t) => t.name) });
  }

  const questions = askQuestions(id, rng.fork("questions"), facts, hops, sessions, openers, dates);
  return { id, seed, user, placement, style: "dialogue", split: options.split ?? "report", messages, sessions, questions };
}

function askQuestions(
  id: string, rng: Rng, facts: readonly FactPlan[], hops: readonly HopPlan[], sessions: readonly SessionSpan[],
  openers: readonly number[], dates: readonly string[],
): EvalQuestion[] {
  const questions: EvalQuestion[] = [];
  const ask = (query: string, q: Pick<EvalQuestion, "answers" | "evidence" | "fact" | "category" | "kind">): void => {
    const evidence = [...new Set(q.evidence)].sort((a, b) => a - b);
    const factSession = sessionOf(sessions, evidence[0]!);
    questions.push({
      id: `${id}/q${questions.length}`, query, ...q, evidence, paraphrased: q.kind === "paraphrased", factSession,
      sessionsAgo: sessions.length - factSession,
    });
  };
  const unchanged: FactPlan[] = [];
  for (const plan of facts) {
    const { kind, slots } = plan;
    const q = (templates: readonly string[]): string => fill(rng.pick(templates), slots, rng, {});
    if (plan.update) {
      const latest = { answers: [plan.update.v], evidence: plan.updateSeqs, fact: kind.key, category: "latest" as const };
      ask(q(kind.ask), { ...latest, kind: "direct" });
      ask(q(kind.paraphrase), { ...latest, kind: "paraphrased" });
      ask(rng.pick([`What was ${kind.label} before I changed it?`, `Before the change, what did I say ${kind.label} was?`]), {
        answers: [slots.v], evidence: [...plan.stateSeqs, ...plan.updateSeqs], fact: kind.key, category: "history", kind: "temporal",
      });
    } else {
      const single = { answers: [slots.v], evidence: plan.stateSeqs, fact: kind.key, category: "single" as const };
      ask(q(kind.ask), { ...single, kind: "direct" });
      ask(q(kind.paraphrase), { ...single, kind: "paraphrased" });
      unchanged.push(plan);
    }
  }
  for (const plan of rng.shuffle(unchanged).slice(0, WHEN_QUESTIONS)) {
    const session = sessionOf(sessions, plan.stateSeqs[0]!);
    ask(rng.pick([`When did I tell you about ${plan.kind.label}?`, `On what day did we sort out ${plan.kind.label}?`]), {
      answers: [dates[session]!], evidence: [openers[session]!, ...plan.stateSeqs], fact: plan.kind.key, category: "single", kind: "temporal",
    });
  }
  const pairs = rng.shuffle(unchanged);
  for (let i = 0; i + 1 < pairs.length && i < 2 * ORDER_QUESTIONS; i += 2) {
    const [a, b] = [pairs[i]!, pairs[i + 1]!];
    const earlier = a.stateSeqs[0]! < b.stateSeqs[0]! ? a : b;
    ask(`Which came up first between us, ${a.kind.label} or ${b.kind.label}? And what was it?`, {
      answers: [earlier.slots.v], evidence: [...a.stateSeqs, ...b.stateSeqs], fact: `${a.kind.key}+${b.kind.key}`, category: "single", kind: "temporal",
    });
  }
  for (const hop of hops) {
    ask(fill(rng.pick(hop.chain.ask), hop.slots, rng, {}), {
      answers: [hop.slots.v], evidence: [...hop.linkSeqs, ...hop.factSeqs], fact: hop.chain.key, category: "single", kind: "multi-hop",
    });
  }
  return questions;
}

/** A multi-hop chain's link, fact (said by the user, or asked and answered) or distractor. */
function hopScript(chain: MultiHopChain, event: Extract<Event, { kind: "hop" | "hop-distract" }>, slots: Slots, rng: Rng): Script {
  const f = (templates: readonly string[]): string => fill(rng.pick(templates), slots, rng, {});
  // Only the answer must stay verbatim; a bridge that opens a message is capitalised.
  const line = (role: "user" | "assistant", text: string) => ({ role, text: sentenceCase(text, { v: slots.v }) });
  const ack = line("assistant", rng.pick(W.acknowledgements));
  if (event.kind === "hop-distract") return { lines: [line("user", `${rng.pick(W.leadIns)}${f(chain.distract)}.`), ack], evidence: [0] };
  if (event.part === "fact" && chain.factAsked && rng.chance(0.5)) {
    return { lines: [line("user", f(chain.factAsked.ask)), line("assistant", f(chain.factAsked.answer))], evidence: [1] };
  }
  return { lines: [line("user", `${rng.pick(W.leadIns)}${f(event.part === "link" ? chain.link : chain.fact)}.`), ack], evidence: [0] };
}

/** The state statement's slots plus `{alt}`, a second value the assistant may offer beside the real one. */
function withAlt(kind: DialogueFactKind, slots: Slots, rng: Rng, taken: readonly string[]): Slots {
  return kind.request ? { ...slots, alt: drawDistinct(kind.base, rng, taken).v } : slots;
}

/** "Monday, March 3": one day per session, strictly increasing. */
function sessionDates(rng: Rng, count: number): string[] {
  let day = FIRST_DAY_UTC + rng.int(0, 200) * 86_400_000;
  return Array.from({ length: count }, () => {
    const date = new Date(day);
    day += rng.int(1, 3) * 86_400_000;
    return `${WEEKDAYS[date.getUTCDay()]}, ${P.months[date.getUTCMonth()]} ${date.getUTCDate()}`;
  });
}

function parseCli(argv: string[]): DialogueOptions {
  const { messages, seed, placement } = parseGeneratorCli(argv, 53);
  return { id: `dialogue-${placement}-${messages}-s${seed}`, seed, messages, placement };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(generateDialogue(parseCli(process.argv.slice(2))), null, 1) + "\n");
}
