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
import type { EvalConversation, EvalQuestion, SessionSpan, Split } from "./conversation";
import { factKinds, type FactKind, type Slots } from "./corpus/facts";
import * as P from "./corpus/pools";
import * as T from "./corpus/topics";
import {
  checkMessageCount, drawDistinct, drawSessionLengths, fill, messageWriter, parseGeneratorCli, range, sessionOf, sessionTopics, talkExchange,
} from "./generator-parts";
import { createRng } from "../../testing/random";

export { fill } from "./generator-parts";
export { evaluationSuite } from "./suite";

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
  /** The suite's half this conversation belongs to (suite.ts; default "report"). It does not change the text. */
  split?: Split;
}

export type Placement = "incidental" | "topical";

/** Facts are stated before this fraction of the sessions, so every question is asked many sessions later. */
export const LAST_FACT_SESSION = 0.85;
/** Updates happen at least this fraction of the sessions after the statement, and before this one. */
export const UPDATE_GAP = 0.1;
export const LAST_UPDATE_SESSION = 0.92;

const stateLeadIns = ["By the way, ", "Oh, before I forget: ", "Random thing, but ", "Side note: ", "Also, ", ""] as const;
const updateLeadIns = ["Quick update: ", "Oh, one change: ", "Small correction to something I told you: ", "Update: ", ""] as const;

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
  checkMessageCount(options.messages);
  const rng = createRng(seed);
  const user = rng.pick(P.firstNames);

  // Session lengths first, so facts can be placed by session index.
  const sessionLengths = drawSessionLengths(rng, options.messages);
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
  const say = messageWriter(messages);
  for (let s = 0; s < sessionCount; s++) {
    const first = messages.length;
    const pending = textRng.shuffle(events[s]);
    const exchanges = Math.max(sessionLengths[s], pending.length + 2);
    // Slots where events go: any exchange but the greeting and the closing.
    const eventAt = new Map<number, Event>();
    const spots = textRng.shuffle(range(1, exchanges - 2)).slice(0, pending.length).sort((a, b) => a - b);
    spots.forEach((spot, i) => eventAt.set(spot, pending[i]));
    const topics = sessionTopics(textRng, forcedTopics[s]!);
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
      } else {
        talkExchange(textRng, topics, cycles, cache, say);
      }
    }
    sessions.push({ first, last: messages.length - 1, topics: topics.map((t) => t.name) });
  }

  const questionRng = rng.fork("questions");
  const questions: EvalQuestion[] = [];
  const ask = (plan: FactPlan, template: string, q: Omit<EvalQuestion, "id" | "query" | "fact" | "factSession" | "sessionsAgo" | "kind">): void => {
    const factSession = sessionOf(sessions, q.evidence[0]);
    questions.push({
      id: `${id}/q${questions.length}`,
      query: fill(template, plan.slots, questionRng, {}),
      fact: plan.kind.key,
      factSession,
      sessionsAgo: sessionCount - factSession,
      ...q,
      // An old+new question asks what the value was before it changed.
      kind: q.category === "history" ? "temporal" : q.paraphrased ? "paraphrased" : "direct",
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
  return { id, seed, user, placement, style: "plain", split: options.split ?? "report", messages, sessions, questions };
}

function parseCli(argv: string[]): GenerateOptions {
  const { messages, seed, placement } = parseGeneratorCli(argv, 11);
  return { id: `${placement}-${messages}-s${seed}`, seed, messages, placement };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(generateConversation(parseCli(process.argv.slice(2))), null, 1) + "\n");
}
