// Synthetic multi-session chats for the recall models (docs/recall-model.md):
// topics visited as sessions of small talk, each stating facts "my E is V"
// about its entities, later sessions updating some ("actually , my E is V2
// now ."), and questions "what is my E ?" whose answer is the entity's latest
// value. Entity → value bindings are drawn fresh per seed, so a model must
// copy the value from the conversation; nothing about them is in the weights.
import { mulberry32 } from "../../protocol/mulberry32";
import { TOPICS, VALUES } from "./vocabulary";

export interface RecallMessage {
  role: "user" | "assistant";
  content: string;
  topic: number;
}

export interface RecallQuestion {
  topic: number;
  entity: string;
  /** The entity's latest value: the expected answer. */
  answer: string;
  text: string;
  /** How many times the entity was stated (1 = never updated). */
  statements: number;
}

export interface RecallChat {
  messages: RecallMessage[];
  questions: RecallQuestion[];
}

export interface RecallChatOptions {
  seed: number;
  /** Stop adding sessions once the chat has about this many words. */
  words: number;
  /** Topics used, in order of first visit (default: all). */
  topics?: number;
  /** Facts stated per session visit. */
  factsPerSession?: number;
  /** Chatter messages per session visit. */
  chatterPerSession?: number;
  /** Probability that a fact in a revisited topic updates an already stated entity. */
  updateRate?: number;
  /**
   * Whether facts are referred to again before the question: the assistant
   * echoes each fact ("ok , noted : my E is V .") and small talk mentions
   * the topic's entities (default). Off: each fact is stated once and only
   * the question refers to it, so no attention reaches it before.
   */
  mentions?: boolean;
}

const ADJECTIVES = ["nice", "good", "great"];

export function recallChat(o: RecallChatOptions): RecallChat {
  const rand = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const topics = TOPICS.slice(0, o.topics ?? TOPICS.length);
  const factsPer = o.factsPerSession ?? 3, chatterPer = o.chatterPerSession ?? 6, updateRate = o.updateRate ?? 0.3;
  const messages: RecallMessage[] = [];
  const latest = new Map<string, { value: string; topic: number; count: number }>();
  let words = 0;
  const say = (role: RecallMessage["role"], content: string, topic: number) => {
    messages.push({ role, content, topic });
    words += content.split(" ").length + 2;
  };
  const mentions = o.mentions ?? true;
  const chatter = (t: number) => {
    const c = mentions ? [...topics[t].chatter, ...topics[t].entities] : topics[t].chatter;
    const forms = [
      () => `the ${pick(c)} was ${pick(ADJECTIVES)} today , and the ${pick(c)} too .`,
      () => `we will talk more about the ${pick(c)} and the ${pick(c)} .`,
      () => `i keep the ${pick(c)} in mind ; the ${pick(c)} is ${pick(ADJECTIVES)} .`,
      () => `so , what about the ${pick(c)} ? tell me more on the ${pick(c)} .`,
    ];
    return pick(forms)();
  };
  for (let visit = 0; words < o.words; visit++) {
    const t = visit % topics.length;
    const topic = topics[t];
    say("user", `let us talk about the ${topic.name} today .`, t);
    say("assistant", `sure , the ${topic.name} . ${chatter(t)}`, t);
    const stated = topic.entities.filter((e) => latest.has(e));
    const fresh = topic.entities.filter((e) => !latest.has(e));
    for (let i = 0; i < chatterPer + factsPer; i++) {
      const factTurn = i % Math.ceil((chatterPer + factsPer) / factsPer) === 1 && (fresh.length > 0 || stated.length > 0);
      if (!factTurn) {
        say(i % 2 ? "assistant" : "user", chatter(t), t);
        continue;
      }
      const update = stated.length > 0 && (fresh.length === 0 || rand() < updateRate);
      const entity = update ? pick(stated) : fresh.splice(Math.floor(rand() * fresh.length), 1)[0];
      const previous = latest.get(entity);
      let value = pick(VALUES);
      while (value === previous?.value) value = pick(VALUES);
      latest.set(entity, { value, topic: t, count: (previous?.count ?? 0) + 1 });
      if (!update) stated.push(entity);
      say("user", update ? `actually , my ${entity} is ${value} now .` : `${pick(["remember", "note"])} that my ${entity} is ${value} .`, t);
      say("assistant", mentions ? `ok , noted : my ${entity} is ${value} .` : "ok , noted .", t);
    }
  }
  const questions: RecallQuestion[] = [];
  for (const [entity, f] of latest) questions.push({ topic: f.topic, entity, answer: f.value, text: `about the ${topics[f.topic].name} : what is my ${entity} ?`, statements: f.count });
  return { messages, questions };
}

/** The question form ending in "E is" (docs/recall-model.md). */
export function completionQuestion(topic: string, entity: string): string {
  return `about the ${topic} , so my ${entity} is`;
}
