// The context evaluation's aggregation and tables (scripts/eval-context.ts):
// evidence recall per budget and policy, broken down by kind of question,
// conversation style, placement and age of the fact.
import type { ConversationStyle, EvalConversation, EvalQuestion, QuestionKind, Split } from "./conversation";
import { mean } from "./metrics";
import { mulberry32 } from "../../protocol/mulberry32";

export interface Outcome {
  conversation: string;
  policy: string;
  fraction: number;
  question: EvalQuestion;
  recall: number;
  budget: number;
  used: number;
  /** Share of the evidence lying in the episode the query matched (episodic policies only). */
  inMatched: number | null;
}

/** The report's breakdown of one style by kind ("dialogue/multi-hop"). */
export type StyleKind = `${ConversationStyle}/${QuestionKind}`;
const STYLE_KINDS: readonly StyleKind[] = [
  "plain/direct", "plain/paraphrased", "plain/temporal",
  "dialogue/direct", "dialogue/paraphrased", "dialogue/multi-hop", "dialogue/temporal",
];

export interface Row {
  fraction: number;
  policy: string;
  questions: number;
  recall: number;
  /** Single-fact questions worded like the statement, and paraphrased (QuestionKind; both styles). */
  direct: number;
  paraphrased: number;
  latest: number;
  history: number;
  /** Questions needing two facts, and questions about when or in what order things were said (QuestionKind). */
  multi_hop: number;
  temporal: number;
  /** Questions whose evidence is in the last quarter of the sessions, and the rest. */
  recent_quarter: number;
  older: number;
  /** Facts amid unrelated talk, and facts in sessions about their topic. */
  incidental: number;
  topical: number;
  /** Conversations of each generator style. */
  plain: number;
  dialogue: number;
  by_style_kind: Record<StyleKind, number>;
  mean_used_tokens: number;
  mean_budget_tokens: number;
  over_budget: number;
  /** Mean share of evidence in the matched episode (null for non-episodic policies). */
  evidence_in_matched_episode: number | null;
}

export interface ConversationSummary {
  id: string;
  seed: number;
  style: ConversationStyle;
  split: Split;
  placement: string;
  messages: number;
  sessions: number;
  questions: number;
  tokens: number;
  lexical_overlap: { direct: number; paraphrased: number };
  timings: Record<string, { prepare_ms: number; select_ms: number }>;
}

export function summarise(outcomes: readonly Outcome[], policies: readonly string[], fractions: readonly number[], conversations: readonly EvalConversation[]): Row[] {
  const byId = new Map(conversations.map((c) => [c.id, c]));
  const rows: Row[] = [];
  for (const fraction of fractions) {
    for (const policy of policies) {
      const mine = outcomes.filter((o) => o.fraction === fraction && o.policy === policy);
      const recallOf = (keep: (o: Outcome) => boolean): number => round(mean(mine.filter(keep).map((o) => o.recall)), 3);
      const conv = (o: Outcome): EvalConversation => byId.get(o.conversation)!;
      const inLastQuarter = (o: Outcome): boolean => o.question.sessionsAgo <= conv(o).sessions.length / 4;
      const topical = (o: Outcome): boolean => conv(o).placement === "topical";
      const ofKind = (kind: QuestionKind) => (o: Outcome): boolean => o.question.kind === kind;
      rows.push({
        fraction,
        policy,
        questions: mine.length,
        recall: recallOf(() => true),
        direct: recallOf(ofKind("direct")),
        paraphrased: recallOf(ofKind("paraphrased")),
        latest: recallOf((o) => o.question.category === "latest"),
        history: recallOf((o) => o.question.category === "history"),
        multi_hop: recallOf(ofKind("multi-hop")),
        temporal: recallOf(ofKind("temporal")),
        recent_quarter: recallOf(inLastQuarter),
        older: recallOf((o) => !inLastQuarter(o)),
        incidental: recallOf((o) => !topical(o)),
        topical: recallOf(topical),
        plain: recallOf((o) => conv(o).style === "plain"),
        dialogue: recallOf((o) => conv(o).style === "dialogue"),
        by_style_kind: Object.fromEntries(STYLE_KINDS.map((sk) => [sk, recallOf((o) => `${conv(o).style}/${o.question.kind}` === sk)])) as Record<StyleKind, number>,
        mean_used_tokens: round(mean(mine.map((o) => o.used)), 0),
        mean_budget_tokens: round(mean(mine.map((o) => o.budget)), 0),
        over_budget: mine.filter((o) => o.used > o.budget).length,
        evidence_in_matched_episode: mine.some((o) => o.inMatched === null) ? null : round(mean(mine.map((o) => o.inMatched!)), 3),
      });
    }
  }
  return rows;
}

/** Kinds of question whose margin the report states (the target is per budget, for direct and paraphrased questions). */
const MARGIN_KINDS: readonly (QuestionKind | "all")[] = ["all", "direct", "paraphrased", "multi-hop", "temporal"];
/** Bootstrap resamples for a margin's interval (fixed seed: the report is reproducible). */
const BOOTSTRAP_RESAMPLES = 2000;

export interface Margin {
  fraction: number;
  kind: QuestionKind | "all";
  questions: number;
  /** Mean of (recall of `policy` − recall of `baseline`) over the same questions. */
  margin: number;
  /** 95% percentile interval of that mean under a paired bootstrap over conversations. */
  low: number;
  high: number;
}

/**
 * `policy` − `baseline` per budget and kind of question, with a paired
 * cluster-bootstrap interval: conversations are resampled with replacement,
 * and both policies keep their outcome on each of a drawn conversation's
 * questions (Efron & Tibshirani 1993 for the bootstrap; the paired test of
 * IR evaluation, Sakai, SIGIR 2006). Questions of one conversation share its
 * text and generator draws, so resampling single questions would make the
 * interval too narrow; resampling whole conversations keeps that
 * dependence (Field & Welsh 2007, cluster bootstrap).
 */
export function margins(outcomes: readonly Outcome[], policy: string, baseline: string, fractions: readonly number[]): Margin[] {
  const out: Margin[] = [];
  for (const fraction of fractions) {
    const recallOf = (name: string) => new Map(outcomes.filter((o) => o.fraction === fraction && o.policy === name).map((o) => [`${o.conversation}\0${o.question.id}`, o]));
    const mine = recallOf(policy);
    const theirs = recallOf(baseline);
    for (const kind of MARGIN_KINDS) {
      const byConversation = new Map<string, number[]>();
      for (const [key, o] of mine) {
        if ((kind !== "all" && o.question.kind !== kind) || !theirs.has(key)) continue;
        const list = byConversation.get(o.conversation) ?? [];
        list.push(o.recall - theirs.get(key)!.recall);
        byConversation.set(o.conversation, list);
      }
      const clusters = [...byConversation.values()];
      const diffs = clusters.flat();
      if (!diffs.length) continue;
      const rand = mulberry32(fraction * 7919 + MARGIN_KINDS.indexOf(kind));
      const means = Array.from({ length: BOOTSTRAP_RESAMPLES }, () => {
        let sum = 0;
        let count = 0;
        for (let i = 0; i < clusters.length; i++) {
          const drawn = clusters[Math.floor(rand() * clusters.length)]!;
          for (const d of drawn) sum += d;
          count += drawn.length;
        }
        return sum / count;
      }).sort((a, b) => a - b);
      out.push({
        fraction, kind, questions: diffs.length, margin: round(mean(diffs), 3),
        low: round(means[Math.floor(0.025 * BOOTSTRAP_RESAMPLES)]!, 3), high: round(means[Math.ceil(0.975 * BOOTSTRAP_RESAMPLES) - 1]!, 3),
      });
    }
  }
  return out;
}

export interface PerConversation {
  conversation: string;
  messages: number;
  policy: string;
  recall: Record<string, number>;
}

export function perConversation(outcomes: readonly Outcome[], policies: readonly string[], fractions: readonly number[], conversations: readonly EvalConversation[]): PerConversation[] {
  return conversations.flatMap((conv) => policies.map((policy) => ({
    conversation: conv.id,
    messages: conv.messages.length,
    policy,
    recall: Object.fromEntries(fractions.map((f) => [`1/${f}`, round(mean(outcomes
      .filter((o) => o.conversation === conv.id && o.policy === policy && o.fraction === f).map((o) => o.recall)), 3)])),
  })));
}

/** The tables of the markdown report, in order, separated by blank lines. */
export function markdownReport(rows: readonly Row[], perConv: readonly PerConversation[], described: readonly ConversationSummary[], fractions: readonly number[], margin: readonly Margin[] = []): string[] {
  const out: string[] = [];
  out.push(markdownTable(
    ["budget", "policy", "evidence recall", "mean tokens used / budget", "over budget", "evidence in matched episode"],
    rows.map((r) => [`1/${r.fraction}`, r.policy, pct(r.recall), `${r.mean_used_tokens} / ${r.mean_budget_tokens}`, r.over_budget,
      r.evidence_in_matched_episode === null ? "–" : pct(r.evidence_in_matched_episode)]),
  ), "");
  out.push("Recall by kind of question (both styles):", "");
  out.push(markdownTable(
    ["budget", "policy", "direct", "paraphrased", "changed: latest", "changed: old+new", "multi-hop", "temporal", "fact in last ¼ of sessions", "older",
      "fact amid unrelated talk", "amid its topic", "plain style", "dialogue style"],
    rows.map((r) => [`1/${r.fraction}`, r.policy, pct(r.direct), pct(r.paraphrased), pct(r.latest), pct(r.history), pct(r.multi_hop), pct(r.temporal),
      pct(r.recent_quarter), pct(r.older), pct(r.incidental), pct(r.topical), pct(r.plain), pct(r.dialogue)]),
  ), "");
  if (margin.length) {
    out.push("epikv − bm25, points of evidence recall on the same questions (95% paired-bootstrap interval over conversations):", "");
    const points = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
    const kinds = MARGIN_KINDS.filter((k) => margin.some((m) => m.kind === k));
    out.push(markdownTable(
      ["budget", "policy", ...kinds],
      fractions.map((f) => [`1/${f}`, "epikv − bm25", ...kinds.map((k) => {
        const m = margin.find((x) => x.fraction === f && x.kind === k);
        return m ? `${points(m.margin)} [${points(m.low)}, ${points(m.high)}] (n ${m.questions})` : "–";
      })]),
    ), "");
  }
  out.push("Recall by style and kind of question (plain temporal = old+new questions):", "");
  out.push(markdownTable(
    ["budget", "policy", ...STYLE_KINDS],
    rows.map((r) => [`1/${r.fraction}`, r.policy, ...STYLE_KINDS.map((sk) => pct(r.by_style_kind[sk]))]),
  ), "");
  out.push(markdownTable(
    ["conversation", "policy", ...fractions.map((f) => `1/${f}`)],
    perConv.map((p) => [p.conversation, p.policy, ...fractions.map((f) => pct(p.recall[`1/${f}`]!))]),
  ), "");
  out.push(markdownTable(
    ["conversation", "style", "split", "messages", "sessions", "questions", "tokens", "word overlap q/evidence: direct", "paraphrased"],
    described.map((d) => [d.id, d.style, d.split, d.messages, d.sessions, d.questions, d.tokens, pct(d.lexical_overlap.direct), pct(d.lexical_overlap.paraphrased)]),
  ), "");
  return out;
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map((_, i) => (i < 2 ? "---" : "---:")).join(" | ")} |`];
  for (const r of rows) lines.push(`| ${r.join(" | ")} |`);
  return lines.join("\n");
}

export function round(x: number, digits: number): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

export const pct = (x: number): string => (Number.isNaN(x) ? "–" : `${(100 * x).toFixed(1)}%`);
