// A context policy as the evaluation sees it: given a conversation, prepare
// whatever per-conversation state it keeps (an index, episodes), then for a
// query and a token budget return the stored messages it would send.
//
// Every policy spends its budget through epikv's own selectContext
// (durable-objects/selection/select-context.ts) with the same pinned system messages,
// the same turn (the question as a new user message), the same reply
// priming and the same token estimator (durable-objects/selection/token-estimator.ts);
// policies differ only in the candidates they offer and their order. So a
// number in the table can never come from a different budget rule.
import type { ChatMessage, Role } from "../../durable-objects/conversation/conversation-api";
import { selectContext, type Candidate, type MessageRef } from "../../durable-objects/selection/select-context";
import {
  conversationTokens, DEFAULT_CHARS_PER_TOKEN, messageWeight, REPLY_PRIMING_TOKENS, tokensForWeight,
} from "../../durable-objects/selection/token-estimator";
import { groupUnits } from "../../durable-objects/conversation/tool-units";
import type { RowStoreFactory } from "../../durable-objects/selection/segment-index";
import type { Bm25Scorer, Kernels } from "../../wasm/src/kernels";

export interface StoredEvalMessage extends MessageRef {
  role: Role;
  content: string;
  /** Head of the message's tool-call unit (its own seq: generated conversations have no tool calls). */
  unitHead: number;
}

export interface StoredConversation {
  messages: StoredEvalMessage[];
  /** The DO's conversation_tokens (token-estimator.ts conversationTokens), the base of the budget fractions. */
  totalTokens: number;
  charsPerToken: number;
}

export interface Selection {
  /** Stored messages sent, ascending. */
  seqs: number[];
  /** Tokens of everything sent (priming, pinned, turn, history), as selectContext counts them. */
  usedTokens: number;
  /** The episode the query matched (epikv only). */
  matchedEpisode?: number | null;
}

export interface PreparedPolicy {
  select(query: string, budgetTokens: number): Selection | Promise<Selection>;
  /** Episode holding a message's segment (epikv only; null when the message is in no segment). */
  episodeOf?(seq: number): number | null;
}

/** What a policy may use: the numeric kernels, the row store the DO's segment index keeps its rows in, and the lexical index's scorer. */
export interface PolicyRuntime {
  kernels: Kernels;
  rowStore: RowStoreFactory;
  bm25Scorer: () => Bm25Scorer;
}

export interface ContextPolicy {
  name: string;
  /** One line for the table's legend. */
  summary: string;
  prepare(conversation: StoredConversation, runtime: PolicyRuntime): Promise<PreparedPolicy>;
}

/** Messages with token estimates at the estimator's uncalibrated default (what a freshly imported conversation has). */
export function storeConversation(messages: readonly ChatMessage[], charsPerToken = DEFAULT_CHARS_PER_TOKEN): StoredConversation {
  let weight = 0;
  const stored = messages.map((m, seq): StoredEvalMessage => {
    const w = messageWeight(m);
    weight += w;
    return { seq, role: m.role, content: m.content, unitHead: seq, tokens: tokensForWeight(w, charsPerToken) };
  });
  const totalTokens = conversationTokens(weight, stored.length, charsPerToken);
  return { messages: stored, totalTokens, charsPerToken };
}

/** Tokens the question costs as the turn's new user message. */
export function turnTokens(conversation: StoredConversation, query: string): number {
  return tokensForWeight(messageWeight({ content: query }), conversation.charsPerToken);
}

/** Pinned candidates: every system message, as whole units (select-context step 1). */
export function pinnedCandidates(conversation: StoredConversation): Candidate[] {
  return groupUnits(conversation.messages.filter((m) => m.role === "system"))
    .map((unit) => ({ messages: unit, provenance: { kind: "pinned" } }));
}

/** Non-system messages grouped into tool-call units, in conversation order. */
export function historyUnits(conversation: StoredConversation): StoredEvalMessage[][] {
  return groupUnits(conversation.messages.filter((m) => m.role !== "system"));
}

/** Runs selectContext with the shared pinned/turn/priming parts and a policy's own candidates. */
export function selectWith(
  conversation: StoredConversation,
  pinned: readonly Candidate[],
  query: string,
  budgetTokens: number,
  candidates: { recent?: readonly Candidate[]; ranked?: Iterable<Candidate>; minCandidateTokens?: number; maxConsecutiveSkips?: number },
): Selection {
  const result = selectContext({
    budgetTokens,
    baseTokens: REPLY_PRIMING_TOKENS,
    required: pinned,
    turnTokens: [turnTokens(conversation, query)],
    recent: candidates.recent ?? [],
    ranked: candidates.ranked ?? [],
    minCandidateTokens: candidates.minCandidateTokens,
    maxConsecutiveSkips: candidates.maxConsecutiveSkips,
  });
  return { seqs: result.stored.map((m) => m.seq), usedTokens: result.usedTokens };
}
