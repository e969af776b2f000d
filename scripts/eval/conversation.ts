// What the context evaluation runs on: a long multi-session conversation, and
// questions about facts stated in it, each with the seqs of the messages that
// hold the answer (its evidence). Messages are in conversation order and a
// message's seq is its index in `messages`, as in the Durable Object.
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";

export type QuestionCategory =
  /** A fact stated once and never changed. */
  | "single"
  /** A fact that changed later; the question asks for the current value (evidence: the update). */
  | "latest"
  /** A fact that changed; the question asks for the old and the new value (evidence: both). */
  | "history";

/**
 * What a question asks of the retriever, for the report's breakdown:
 * - "direct": one fact's value, worded like its statement;
 * - "paraphrased": one fact's value, avoiding the statement's words;
 * - "multi-hop": needs two facts stated in separate messages (a bridge entity links them);
 * - "temporal": about when something was said or what a value was before it changed
 *   (the plain style's old+new questions count here too).
 */
export type QuestionKind = "direct" | "paraphrased" | "multi-hop" | "temporal";

/**
 * How a conversation was generated: "plain" (generate-conversations.ts: each
 * fact in one user message from a few fixed templates) or "dialogue"
 * (generate-dialogues.ts: facts stated by the user or the assistant, often
 * over two or three messages, with composed wording; dated sessions).
 */
export type ConversationStyle = "plain" | "dialogue";

/** "tune": for choosing parameters; "report": for the published numbers (suite.ts gives the rule). */
export type Split = "tune" | "report";

export interface EvalQuestion {
  id: string;
  /** The user's question, sent as the query of the turn. */
  query: string;
  /** Values a correct answer contains; each appears verbatim in some evidence message. */
  answers: string[];
  /** Seqs of the messages that hold the answer (ascending). */
  evidence: number[];
  /**
   * Fact kind, see corpus/facts.ts; in the dialogue style a multi-hop chain's
   * key (corpus/multi-hop.ts), or "a+b" for a question about two facts' order.
   */
  fact: string;
  category: QuestionCategory;
  /** True when the question avoids the statement's wording (corpus/facts.ts `paraphrase`). */
  paraphrased: boolean;
  /** Session of the earliest evidence message. */
  factSession: number;
  /** Sessions between the earliest evidence and the end of the conversation, where the question is asked. */
  sessionsAgo: number;
  kind: QuestionKind;
}

export interface SessionSpan {
  /** Seq of the session's first and last message (inclusive). */
  first: number;
  last: number;
  /** Everyday topics the session talks about (corpus/topics.ts names). */
  topics: string[];
}

export interface EvalConversation {
  id: string;
  seed: number;
  /** The user's name (the persona). */
  user: string;
  /** Where facts come up: amid unrelated talk, or in sessions about their topic (generate-conversations.ts). */
  placement: "incidental" | "topical";
  style: ConversationStyle;
  split: Split;
  messages: ChatMessage[];
  sessions: SessionSpan[];
  /** Asked after the last message. */
  questions: EvalQuestion[];
}
