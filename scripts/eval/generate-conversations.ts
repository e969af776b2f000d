// Deterministic generator of long multi-session conversations for the context
// evaluation (issue 3, `npm run eval:context`). A user persona chats with an
// assistant over many sessions: greetings, small talk and everyday topics
// (corpus/topics.ts), with facts (corpus/facts.ts) stated once, some changed
// later, and distractors (the same kind of fact about other people). The
// questions are asked after the last session and record the seqs of the
// messages that hold their answers. The same seed gives the same conversation.
//
// Run directly to dump one conversation as JSON for inspection:
//   npx tsx scripts/eval/generate-conversations.ts --messages 2000 --seed 7 [--topical] > /tmp/conv.json
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import type { EvalConversation, EvalQuestion, SessionSpan } from "./conversation";
import { factKinds, others, type FactKind, type Slots } from "./corpus/facts";
import * as P from "./corpus/pools";
import * as T from "./corpus/topics";
import { createRng, type Rng } from "../../testing/random";

export interface GenerateOptions {
  id: string;
  seed: number;
  /** Approximate number of messages (the result has at least this many, a few more when facts need room). */
  messages: number;
  /** How many fact kinds to state (default: all of corpus/facts.ts). */
  facts?: number;
  /** Distractor statements per fact (default 2). */
  distractorsPerFact?: number;
  /** Probability that a fact with update templates is changed later (default 0.6). */
  updateRate?: number;
  /**
   * "incidental" (default): facts come up amid whatever the session is about.
   * "topical": a fact with a natural topic (corpus/facts.ts) and its
   * distractors come up in sessions about that topic only.
   */
  placement?: Placement;
}

export type Placement = "incidental" | "topical";

/** Exchanges (user + assistant) per session, drawn uniformly. */
const SESSION_EXCHANGES = { min: 8, max: 36 } as const;
/** Facts are stated before this fraction of the sessions, so every question is asked many sessions later. */
const LAST_FACT_SESSION = 0.85;
/** Updates happen at least this fraction of the sessions after the statement, and before this one. */
const UPDATE_GAP = 0.1;
const LAST_UPDATE_SESSION = 0.92;

const stateLeadIns = ["By the way, ", "Oh, before I forget: ", "Random thing, but ", "Side note: ", "Also, ", ""] as const;
const updateLeadIns = ["Quick update: ", "Oh, one change: ", "Small correction to something I told you: ", "Update: ", ""] as const;

/** Shared pools that any template may name as `{slot}`. */
const sharedPools: Record<string, readonly string[]> = {
  city: P.cities, name: P.firstNames, dish: P.dishes, who: others,
};

type Event =
  | { kind: "state"; fact: number }
  | { kind: "update"; fact: number }
  | { kind: "distract"; fact: number; slots: Slots };

interface FactPlan {
  kind: FactKind;
  slots: Slots;
  stateSession: number;
  /** Present when the fact changes. */
  update?: { session: number; value: string };
  stateSeq: number;
  updateSeq: number;
}

export function generateConversation(options: GenerateOptions): EvalConversation {
  const { id, seed } = options;
  if (!Number.isInteger(options.messages) || options.messages < 200) {
    throw new RangeError(`messages must be an integer ≥ 200 (long conversations only), got ${options.messages}`);
  }
  const rng = createRng(seed);
  const user = rng.pick(P.firstNames);

  // Session lengths first, so facts can be placed by session index.
  const exchangesWanted = Math.floor((options.messages - 1) / 2);
  const sessionLengths: number[] = [];
  for (let total = 0; total < exchangesWanted;) {
    const len = Math.min(rng.int(SESSION_EXCHANGES.min, SESSION_EXCHANGES.max), exchangesWanted - total);
    sessionLengths.push(Math.max(len, 3));
    total += len;
  }
  const sessionCount = sessionLengths.length;

  // Facts, their updates and distractors, as events per session.
  const planRng = rng.fork("plan");
  const kinds = planRng.shuffle(factKinds).slice(0, options.facts ?? factKinds.length);
  const events: Event[][] = Array.from({ length: sessionCount }, () => []);
  const placement = options.placement ?? "incidental";
  // Topics a session must be about (topical placement), chosen with its facts.
  const forcedTopics: Set<string>[] = Array.from({ length: sessionCount }, () => new Set());
  const place = (session: number, kind: FactKind, event: Event): void => {
    events[session]!.push(event);
    if (placement === "topical" && kind.topic) forcedTopics[session]!.add(kind.topic);
  };
  const plans: FactPlan[] = kinds.map((kind, fact) => {
    const slots = kind.draw(planRng);
    const stateSession = planRng.int(0, Math.floor(LAST_FACT_SESSION * sessionCount) - 1);
    place(stateSession, kind, { kind: "state", fact });
    const plan: FactPlan = { kind, slots, stateSession, stateSeq: -1, updateSeq: -1 };
    const earliest = stateSession + Math.max(1, Math.ceil(UPDATE_GAP * sessionCount));
    const latest = Math.floor(LAST_UPDATE_SESSION * sessionCount) - 1;
    if (kind.update && earliest <= latest && planRng.chance(options.updateRate ?? 0.6)) {
      const session = planRng.int(earliest, latest);
      plan.update = { session, value: drawDistinct(kind, planRng, [slots.v]).v };
      place(session, kind, { kind: "update", fact });
    }
    return plan;
  });
  plans.forEach((plan, fact) => {
    const taken = [plan.slots.v, ...(plan.update ? [plan.update.value] : [])];
    for (let i = 0; i < (options.distractorsPerFact ?? 2); i++) {
      const slots = drawDistinct(plan.kind, planRng, taken);
      taken.push(slots.v);
      place(planRng.int(0, sessionCount - 1), plan.kind, { kind: "distract", fact, slots });
    }
  });

  // Messages, session by session.
  const textRng = rng.fork("text");
  const messages: ChatMessage[] = [{
    role: "system",
    content: `You are a friendly personal assistant for ${user}. Remember what ${user} tells you across sessions and answer questions about it.`,
  }];
  const sessions: SessionSpan[] = [];
  const say = (role: "user" | "assistant", content: string): number => {
    messages.push({ role, content: capitalise(content) });
    return messages.length - 1;
  };
  for (let s = 0; s < sessionCount; s++) {
    const first = messages.length;
    const pending = textRng.shuffle(events[s]);
    const exchanges = Math.max(sessionLengths[s], pending.length + 2);
    // Slots where events go: any exchange but the greeting and the closing.
    const eventAt = new Map<number, Event>();
    const spots = textRng.shuffle(range(1, exchanges - 2)).slice(0, pending.length).sort((a, b) => a - b);
    spots.forEach((spot, i) => eventAt.set(spot, pending[i]));
    const forced = T.topics.filter((t) => forcedTopics[s]!.has(t.name));
    const sessionTopics = forced.length ? forced : textRng.shuffle(T.topics).slice(0, textRng.int(1, 3));
    const cycles = new Map<string, number[]>();
    for (let e = 0; e < exchanges; e++) {
      const cache: Slots = {};
      if (e === 0) {
        say("user", textRng.pick(T.greetings));
        say("assistant", textRng.pick(T.greetingReplies));
      } else if (e === exchanges - 1) {
        say("user", textRng.pick(T.closings));
        say("assistant", textRng.pick(T.closingReplies));
      } else if (eventAt.has(e)) {
        const event = eventAt.get(e)!;
        const plan = plans[event.fact];
        if (event.kind === "state") {
          plan.stateSeq = say("user", `${textRng.pick(stateLeadIns)}${fill(textRng.pick(plan.kind.state), plan.slots, textRng, cache)}.`);
        } else if (event.kind === "update") {
          const slots = { ...plan.slots, v: plan.update!.value, old: plan.slots.v };
          plan.updateSeq = say("user", `${textRng.pick(updateLeadIns)}${fill(textRng.pick(plan.kind.update!), slots, textRng, cache)}.`);
        } else {
          say("user", `${textRng.pick(stateLeadIns)}${fill(textRng.pick(plan.kind.distract), event.slots, textRng, cache)}.`);
        }
        say("assistant", textRng.pick(T.acknowledgements));
      } else if (textRng.chance(0.12)) {
        say("user", fill(textRng.pick(T.smallTalk), {}, textRng, cache));
        say("assistant", textRng.pick(T.smallTalkReplies));
      } else {
        // Lines of a topic come round in a shuffled cycle so a session does not repeat itself;
        // the reply with the same index answers the question where one is written for it.
        const topic = textRng.pick(sessionTopics);
        const line = nextLine(topic, textRng, cycles);
        say("user", fill(topic.user[line], {}, textRng, cache, topic.slots));
        const reply = line < topic.assistant.length && textRng.chance(0.7) ? line : textRng.int(0, topic.assistant.length - 1);
        say("assistant", fill(topic.assistant[reply], {}, textRng, cache, topic.slots));
      }
    }
    sessions.push({ first, last: messages.length - 1, topics: sessionTopics.map((t) => t.name) });
  }

  const questionRng = rng.fork("questions");
  const questions: EvalQuestion[] = [];
  const sessionOf = (seq: number): number => sessions.findIndex((span) => seq >= span.first && seq <= span.last);
  const ask = (plan: FactPlan, template: string, q: Omit<EvalQuestion, "id" | "query" | "fact" | "factSession" | "sessionsAgo">): void => {
    const factSession = sessionOf(q.evidence[0]);
    questions.push({
      id: `${id}/q${questions.length}`,
      query: fill(template, plan.slots, questionRng, {}),
      fact: plan.kind.key,
      factSession,
      sessionsAgo: sessionCount - factSession,
      ...q,
    });
  };
  for (const plan of plans) {
    const { kind } = plan;
    if (plan.update) {
      const latest = { answers: [plan.update.value], evidence: [plan.updateSeq], category: "latest" as const };
      ask(plan, questionRng.pick(kind.ask), { ...latest, paraphrased: false });
      ask(plan, questionRng.pick(kind.paraphrase), { ...latest, paraphrased: true });
      if (kind.askHistory) {
        ask(plan, questionRng.pick(kind.askHistory), {
          answers: [plan.slots.v, plan.update.value], evidence: [plan.stateSeq, plan.updateSeq], category: "history", paraphrased: false,
        });
      }
    } else {
      const single = { answers: [plan.slots.v], evidence: [plan.stateSeq], category: "single" as const };
      ask(plan, questionRng.pick(kind.ask), { ...single, paraphrased: false });
      ask(plan, questionRng.pick(kind.paraphrase), { ...single, paraphrased: true });
    }
  }
  return { id, seed, user, placement, messages, sessions, questions };
}

/**
 * The evaluation's conversations: `full` is the documented run (four sizes,
 * each with incidental and with topical fact placement), `quick` a smoke run.
 */
export function evaluationSuite(preset: "full" | "quick"): EvalConversation[] {
  const sizes = preset === "quick"
    ? [{ messages: 2_000, seed: 11, placement: "incidental" as const }, { messages: 2_000, seed: 12, placement: "topical" as const }]
    : ([["incidental", 0], ["topical", 1]] as const).flatMap(([placement, offset]) => [
      { messages: 2_000, seed: 11 + offset, placement },
      { messages: 4_000, seed: 23 + offset, placement },
      { messages: 7_000, seed: 37 + offset, placement },
      { messages: 10_000, seed: 41 + offset, placement },
    ]);
  return sizes.map(({ messages, seed, placement }) =>
    generateConversation({ id: `${placement}-${messages}-s${seed}`, seed, messages, placement }));
}

/** A new draw of the kind whose value differs from every value in `taken`. */
function drawDistinct(kind: FactKind, rng: Rng, taken: readonly string[]): Slots {
  for (let attempt = 0; attempt < 100; attempt++) {
    const slots = kind.draw(rng);
    if (!taken.includes(slots.v)) return slots;
  }
  throw new Error(`fact kind ${kind.key}: could not draw a value distinct from ${taken.join(", ")}`);
}

/**
 * Fills `{slot}` from `slots`, then from the per-exchange `cache` (so a user
 * line and the assistant's reply talk about the same thing), then from the
 * topic's pools and the shared pools. `{x2}` draws from x's pool a value
 * different from `{x}`.
 */
export function fill(template: string, slots: Slots, rng: Rng, cache: Slots, topicPools: Record<string, readonly string[]> = {}): string {
  return template.replace(/\{(\w+?)(2?)\}/g, (match, name: string, second: string) => {
    const key = name + second;
    if (key in slots) return slots[key];
    if (key in cache) return cache[key];
    const pool = topicPools[name] ?? sharedPools[name];
    if (!pool) throw new Error(`template slot ${match} has no value or pool: "${template}"`);
    const avoid = second ? cache[name] : undefined;
    let value = rng.pick(pool);
    for (let i = 0; i < 20 && value === avoid; i++) value = rng.pick(pool);
    cache[key] = value;
    return value;
  });
}

/** Index of the topic's next user line in this session's shuffled cycle. */
function nextLine(topic: T.Topic, rng: Rng, cycles: Map<string, number[]>): number {
  let cycle = cycles.get(topic.name);
  if (!cycle || cycle.length === 0) {
    cycle = rng.shuffle(range(0, topic.user.length - 1));
    cycles.set(topic.name, cycle);
  }
  return cycle.pop()!;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

function parseCli(argv: string[]): GenerateOptions {
  const get = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value)) throw new RangeError(`${flag} needs a number`);
    return value;
  };
  const messages = get("--messages", 2_000);
  const seed = get("--seed", 11);
  const placement: Placement = argv.includes("--topical") ? "topical" : "incidental";
  return { id: `${placement}-${messages}-s${seed}`, seed, messages, placement };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(generateConversation(parseCli(process.argv.slice(2))), null, 1) + "\n");
}
