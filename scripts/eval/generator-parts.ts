// Parts both conversation generators share (generate-conversations.ts, the
// "plain" style, and generate-dialogues.ts, the "dialogue" style): session
// lengths, the everyday talk between facts, slot filling. Each function draws
// from the Rng in a fixed order, so the plain style's conversations stay
// byte-identical for a seed.
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import type { FactKind, Slots } from "./corpus/facts";
import { others } from "./corpus/facts";
import * as P from "./corpus/pools";
import * as T from "./corpus/topics";
import type { Rng } from "../../testing/random";

/** Exchanges (user + assistant) per session, drawn uniformly. */
const SESSION_EXCHANGES = { min: 8, max: 36 } as const;

/** Shared pools that any template may name as `{slot}`. */
const sharedPools: Record<string, readonly string[]> = {
  city: P.cities, name: P.firstNames, dish: P.dishes, who: others,
};

/** Rejects sizes that are not long conversations. */
export function checkMessageCount(messages: number): void {
  if (!Number.isInteger(messages) || messages < 200) {
    throw new RangeError(`messages must be an integer ≥ 200 (long conversations only), got ${messages}`);
  }
}

/** Exchanges per session, so that the sessions hold about `messages` messages. */
export function drawSessionLengths(rng: Rng, messages: number): number[] {
  const exchangesWanted = Math.floor((messages - 1) / 2);
  const sessionLengths: number[] = [];
  for (let total = 0; total < exchangesWanted;) {
    const len = Math.min(rng.int(SESSION_EXCHANGES.min, SESSION_EXCHANGES.max), exchangesWanted - total);
    sessionLengths.push(Math.max(len, 3));
    total += len;
  }
  return sessionLengths;
}

/** Appends a message (first letter capitalised) and returns its seq. */
export type Say = (role: "user" | "assistant", content: string) => number;

export function messageWriter(messages: ChatMessage[]): Say {
  return (role, content) => {
    messages.push({ role, content: capitalise(content) });
    return messages.length - 1;
  };
}

/** The topics a session talks about: those its facts force, else one to three at random. */
export function sessionTopics(rng: Rng, forced: ReadonlySet<string>): T.Topic[] {
  const named = T.topics.filter((t) => forced.has(t.name));
  return named.length ? named : rng.shuffle(T.topics).slice(0, rng.int(1, 3));
}

/** One exchange of everyday talk: small talk now and then, else a line of one of the session's topics. */
export function talkExchange(rng: Rng, topics: readonly T.Topic[], cycles: Map<string, number[]>, cache: Slots, say: Say): void {
  if (rng.chance(0.12)) {
    say("user", fill(rng.pick(T.smallTalk), {}, rng, cache));
    say("assistant", rng.pick(T.smallTalkReplies));
    return;
  }
  // Lines of a topic come round in a shuffled cycle so a session does not repeat itself;
  // the reply with the same index answers the question where one is written for it.
  const topic = rng.pick(topics);
  const line = nextLine(topic, rng, cycles);
  say("user", fill(topic.user[line], {}, rng, cache, topic.slots));
  const reply = line < topic.assistant.length && rng.chance(0.7) ? line : rng.int(0, topic.assistant.length - 1);
  say("assistant", fill(topic.assistant[reply], {}, rng, cache, topic.slots));
}

/** A new draw of the kind whose value differs from every value in `taken`. */
export function drawDistinct(kind: Pick<FactKind, "key" | "draw">, rng: Rng, taken: readonly string[]): Slots {
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

/**
 * Capitalised like a sentence, except when it opens with one of the slot
 * values: an answer ("marigold960.") must stay verbatim in its message.
 */
export function sentenceCase(text: string, slots: Slots): string {
  return Object.values(slots).some((value) => text.startsWith(value)) ? text : capitalise(text);
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

/** `--messages N --seed S [--topical]` of a generator run directly (to dump one conversation as JSON). */
export function parseGeneratorCli(argv: string[], defaultSeed: number): { messages: number; seed: number; placement: "incidental" | "topical" } {
  const get = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value)) throw new RangeError(`${flag} needs a number`);
    return value;
  };
  return { messages: get("--messages", 2_000), seed: get("--seed", defaultSeed), placement: argv.includes("--topical") ? "topical" : "incidental" };
}

/** Index of the session holding `seq`. */
export function sessionOf(sessions: readonly { first: number; last: number }[], seq: number): number {
  return sessions.findIndex((span) => seq >= span.first && seq <= span.last);
}
