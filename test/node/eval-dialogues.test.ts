// The context evaluation's second generator style (scripts/eval/generate-dialogues.ts)
// and the suite's tune/report split (scripts/eval/suite.ts): deterministic,
// every answer verbatim in its evidence, facts stated by the assistant and
// over several messages, multi-hop evidence from different sessions, wording
// that never repeats a template within a kind, a fixed split.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateDialogue } from "../../scripts/eval/generate-dialogues";
import { generateConversation } from "../../scripts/eval/generate-conversations";
import { evaluationSuite, suiteEntries } from "../../scripts/eval/suite";
import { composeStatement, type StatementRole } from "../../scripts/eval/dialogue-statements";
import { dialogueFactKinds } from "../../scripts/eval/corpus/dialogue-facts";
import { others } from "../../scripts/eval/corpus/facts";
import * as W from "../../scripts/eval/corpus/phrasing";
import { lexicalOverlap, mean } from "../../scripts/eval/metrics";
import { createRng } from "../../testing/random";
import { termsOf } from "../../durable-objects/episodes/top-terms";
import type { EvalConversation } from "../../scripts/eval/conversation";
import { margins, summarise, type Outcome } from "../../scripts/eval/report";

const small = { id: "d", seed: 53, messages: 1_500 };
const conversations = [53, 54, 55].map((seed) => generateDialogue({ ...small, seed }));
const sessionOf = (conv: EvalConversation, seq: number): number => conv.sessions.findIndex((s) => seq >= s.first && seq <= s.last);

describe("generateDialogue", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = JSON.stringify(generateDialogue(small));
    expect(JSON.stringify(generateDialogue(small))).toBe(a);
    expect(JSON.stringify(generateDialogue({ ...small, seed: 54 }))).not.toBe(a);
  });

  it("records sorted evidence that holds every answer verbatim, asked many sessions later", () => {
    for (const conv of conversations) {
      expect(conv.style).toBe("dialogue");
      expect(conv.messages.length).toBeGreaterThanOrEqual(small.messages - 1);
      expect(new Set(conv.questions.map((q) => q.kind))).toEqual(new Set(["direct", "paraphrased", "multi-hop", "temporal"]));
      for (const q of conv.questions) {
        expect(q.evidence.length).toBeGreaterThan(0);
        expect([...new Set(q.evidence)].sort((x, y) => x - y)).toEqual(q.evidence);
        const texts = q.evidence.map((seq) => conv.messages[seq]!.content);
        for (const answer of q.answers) expect(texts.some((t) => t.includes(answer)), `${q.id}: ${answer} in ${texts.join(" | ")}`).toBe(true);
        expect(q.paraphrased).toBe(q.kind === "paraphrased");
        expect(q.factSession).toBe(sessionOf(conv, q.evidence[0]!));
        expect(q.sessionsAgo).toBeGreaterThanOrEqual(Math.floor(0.08 * conv.sessions.length));
      }
    }
  });

  it("has the assistant state facts, and facts spread over two and three messages", () => {
    const single = conversations.flatMap((c) => c.questions.filter((q) => q.kind === "direct").map((q) => ({ c, q })));
    expect(single.some(({ c, q }) => q.evidence.some((s) => c.messages[s]!.role === "assistant"))).toBe(true);
    // An answer said only by the assistant.
    expect(single.some(({ c, q }) => q.evidence.every((s) => c.messages[s]!.role === "assistant" || !c.messages[s]!.content.includes(q.answers[0]!)))).toBe(true);
    expect(single.some(({ q }) => q.evidence.length === 1)).toBe(true);
    expect(single.some(({ q }) => q.evidence.length === 2)).toBe(true);
    expect(single.some(({ q }) => q.evidence.length === 3)).toBe(true);
    // Every evidence message of a single fact lies within one exchange of the next (one statement, not scattered).
    for (const { q } of single) expect(q.evidence.at(-1)! - q.evidence[0]!).toBeLessThanOrEqual(2);
  });

  it("multi-hop evidence is two or more messages from different sessions, none adjacent", () => {
    for (const conv of conversations) {
      const hops = conv.questions.filter((q) => q.kind === "multi-hop");
      expect(hops.length).toBeGreaterThanOrEqual(5);
      for (const q of hops) {
        expect(q.evidence.length).toBeGreaterThanOrEqual(2);
        for (let i = 1; i < q.evidence.length; i++) expect(q.evidence[i]! - q.evidence[i - 1]!).toBeGreaterThan(1);
        expect(sessionOf(conv, q.evidence.at(-1)!)).toBeGreaterThan(sessionOf(conv, q.evidence[0]!));
        // The value is not in the message that names the question's subject.
        expect(conv.messages[q.evidence[0]!]!.content.includes(q.answers[0]!)).toBe(false);
      }
    }
  });

  it("temporal questions need the session's dated opener, or both statements of a change or an order", () => {
    for (const conv of conversations) {
      const temporal = conv.questions.filter((q) => q.kind === "temporal");
      const when = temporal.filter((q) => /^\w+day, \w+ \d+$/.test(q.answers[0]!));
      expect(when.length).toBeGreaterThan(0);
      for (const q of when) expect(q.evidence[0]).toBe(conv.sessions[q.factSession]!.first);
      const before = temporal.filter((q) => q.category === "history");
      // The old value was stated sessions before the change.
      for (const q of before) {
        const changed = sessionOf(conv, q.evidence.at(-1)!);
        expect(q.evidence.some((s) => sessionOf(conv, s) < changed && conv.messages[s]!.content.includes(q.answers[0]!))).toBe(true);
      }
      expect(temporal.some((q) => q.fact.includes("+"))).toBe(true);
    }
  });

  it("paraphrased questions share no content word with any part of their kind, direct ones do", () => {
    const words = (t: string): string[] => termsOf(t.replace(/\{\w+\}/g, " "));
    const generic = [W.leadIns, W.trailers, W.updateLeadIns, W.sayFrames, W.updateFrames, W.mentionFrames, W.askBack, W.updateMentions,
      W.updateAskBack, W.valueReplies, W.assistantAsks, W.userPrompts, W.changeRequests, W.acknowledgements].flat();
    for (const kind of dialogueFactKinds) {
      const r = kind.request;
      const parts = [...kind.entity, ...kind.say, ...(kind.update ?? []), ...(r ? [...r.ask, ...r.offer, ...r.choice, ...r.accept] : []), ...generic];
      const stated = new Set(parts.flatMap(words));
      for (const p of kind.paraphrase) expect(words(p).filter((w) => stated.has(w)), `${kind.key}: ${p}`).toEqual([]);
    }
    const conv = conversations[0]!;
    const overlap = (kind: string): number => mean(conv.questions.filter((q) => q.kind === kind)
      .map((q) => lexicalOverlap(q.query, q.evidence.map((s) => conv.messages[s]!.content))));
    expect(overlap("paraphrased")).toBe(0);
    expect(overlap("direct")).toBeGreaterThan(0.2);
  });

  it("never repeats a template within a kind", () => {
    // Forty statements of a kind: far more than a conversation has, enough that some shapes would repeat without the check.
    const roles: StatementRole[] = [...Array<StatementRole>(40).fill("state"), ...Array<StatementRole>(6).fill("update"), ...Array<StatementRole>(10).fill("distract")];
    for (const kind of dialogueFactKinds) {
      const rng = createRng(7);
      const used = new Set<string>();
      const slots = { ...kind.base.draw(rng), old: "OLDVALUE", alt: "ALTVALUE" };
      // Slot values and people masked, the assistant's closing acknowledgement (a random pick) dropped: what is left is the template.
      const mask = (text: string): string => [...others, ...Object.values(slots)].reduce((t, v) => t.split(v).join("<slot>"), text).toLowerCase();
      const acks = new Set<string>(W.acknowledgements);
      const texts = roles.filter((role) => role !== "update" || kind.update)
        .map((role) => composeStatement(kind, role, slots, rng, used).lines.filter((l) => !acks.has(l.text)).map((l) => mask(l.text)).join(" | "));
      expect(new Set(texts).size, `${kind.key}:\n${texts.join("\n")}`).toBe(texts.length);
    }
  });

  it("tiles the messages into dated sessions", () => {
    const conv = conversations[0]!;
    expect(conv.sessions[0]!.first).toBe(1);
    for (let s = 1; s < conv.sessions.length; s++) expect(conv.sessions[s]!.first).toBe(conv.sessions[s - 1]!.last + 1);
    expect(conv.sessions.at(-1)!.last).toBe(conv.messages.length - 1);
    const dates = conv.sessions.map((s) => conv.messages[s.first]!.content.match(/\w+day, \w+ \d+/)?.[0]);
    expect(dates.every(Boolean)).toBe(true);
    expect(new Set(dates).size).toBe(dates.length);
  });

  it("rejects sizes that are not long conversations", () => {
    expect(() => generateDialogue({ ...small, messages: 10 })).toThrow(/messages/);
  });
});

describe("evaluation suite and its split", () => {
  it("assigns each conversation to a fixed half: size + placement + style + replicate even is tune", () => {
    const entries = suiteEntries("full");
    expect(entries.filter((e) => e.replicate === 0).map((e) => `${e.id}:${e.split}`)).toEqual([
      "incidental-2000-s11:tune", "incidental-4000-s23:report", "incidental-7000-s37:tune", "incidental-10000-s41:report",
      "topical-2000-s12:report", "topical-4000-s24:tune", "topical-7000-s38:report", "topical-10000-s42:tune",
      "dialogue-incidental-2000-s53:report", "dialogue-incidental-4000-s61:tune", "dialogue-incidental-7000-s71:report", "dialogue-incidental-10000-s83:tune",
      "dialogue-topical-2000-s54:tune", "dialogue-topical-4000-s62:report", "dialogue-topical-7000-s72:tune", "dialogue-topical-10000-s84:report",
    ]);
    // replicate r of a cell: seed + 1000·r, and the other half when r is odd
    expect(entries.filter((e) => e.id.startsWith("incidental-2000-")).map((e) => `${e.id}:${e.split}`))
      .toEqual(["incidental-2000-s11:tune", "incidental-2000-s1011:report", "incidental-2000-s2011:tune"]);
    expect(new Set(entries.map((e) => e.id)).size).toBe(48);
    for (const split of ["tune", "report"] as const) {
      const half = entries.filter((e) => e.split === split);
      expect(half.length).toBe(24);
      for (const style of ["plain", "dialogue"] as const) {
        for (const placement of ["incidental", "topical"] as const) {
          const cell = half.filter((e) => e.style === style && e.placement === placement).map((e) => e.messages);
          expect(new Set(cell)).toEqual(new Set([2_000, 4_000, 7_000, 10_000]));
        }
      }
    }
    const quick = evaluationSuite("quick", "report");
    expect(quick.map((c) => c.id)).toEqual(["topical-2000-s12", "dialogue-incidental-2000-s53"]);
    expect(quick.every((c) => c.split === "report")).toBe(true);
  });

  it("the split does not change a conversation's text", () => {
    const base = { id: "x", seed: 5, messages: 600 };
    const strip = (c: EvalConversation) => JSON.stringify({ ...c, split: null });
    expect(strip(generateConversation({ ...base, split: "tune" }))).toBe(strip(generateConversation({ ...base, split: "report" })));
    expect(strip(generateDialogue({ ...base, split: "tune" }))).toBe(strip(generateDialogue({ ...base, split: "report" })));
  });

  it("keeps the plain style's conversations byte-identical to the published ones", () => {
    // The two 2,000-message plain conversations, without the fields added since (kind, style, split).
    const plain = evaluationSuite("quick").filter((c) => c.style === "plain")
      .map((c) => ({ ...c, split: undefined, style: undefined, questions: c.questions.map((q) => ({ ...q, kind: undefined })) }));
    expect(createHash("sha256").update(JSON.stringify(plain)).digest("hex")).toBe("754c51417f3b167385228f68d686a41562a8497dae9ad0064191666c091c1cf0");
  });
});

describe("report breakdown (scripts/eval/report.ts)", () => {
  it("averages recall per kind and per style over the matching questions only", () => {
    const plain = generateConversation({ id: "p", seed: 5, messages: 600 });
    const dialogue = generateDialogue({ id: "d", seed: 5, messages: 600 });
    // Recall 1 for the dialogue style's multi-hop questions and the plain style's paraphrased ones, 0 elsewhere.
    const hit = (c: EvalConversation, kind: string): boolean => (c.style === "dialogue" ? kind === "multi-hop" : kind === "paraphrased");
    const outcomes: Outcome[] = [plain, dialogue].flatMap((c) => c.questions.map((question) => ({
      conversation: c.id, policy: "x", fraction: 4, question, recall: hit(c, question.kind) ? 1 : 0, budget: 10, used: 9, inMatched: null,
    })));
    const [row] = summarise(outcomes, ["x"], [4], [plain, dialogue]);
    expect(row!.multi_hop).toBe(1);
    expect(row!.temporal).toBe(0);
    expect(row!.direct).toBe(0);
    const paraphrased = outcomes.filter((o) => o.question.kind === "paraphrased");
    expect(row!.paraphrased).toBeCloseTo(paraphrased.filter((o) => o.recall === 1).length / paraphrased.length, 3);
    expect(row!.by_style_kind["plain/paraphrased"]).toBe(1);
    expect(row!.by_style_kind["dialogue/paraphrased"]).toBe(0);
    expect(row!.by_style_kind["dialogue/multi-hop"]).toBe(1);
    const dialogueOutcomes = outcomes.filter((o) => o.conversation === "d");
    expect(row!.dialogue).toBeCloseTo(dialogueOutcomes.filter((o) => o.recall === 1).length / dialogueOutcomes.length, 3);
    expect(row!.questions).toBe(outcomes.length);
  });

  it("states a policy's margin over a baseline on the same questions, with a paired-bootstrap interval around it", () => {
    const convs = [7, 8, 9].map((seed) => generateDialogue({ id: `d${seed}`, seed, messages: 600 }));
    const questions = convs.flatMap((conv) => conv.questions.map((question) => ({ conversation: conv.id, question })));
    const outcome = (policy: string, { conversation, question }: (typeof questions)[number], recall: number): Outcome =>
      ({ conversation, policy, fraction: 8, question, recall, budget: 10, used: 9, inMatched: null });
    // a finds every direct question's evidence and half of the rest; b finds half of everything; c is a.
    const a = questions.map((q, i) => outcome("a", q, q.question.kind === "direct" ? 1 : i % 2));
    const b = questions.map((q, i) => outcome("b", q, i % 2));
    const c = a.map((o) => ({ ...o, policy: "c" }));
    const byKind = (ms: ReturnType<typeof margins>, kind: string) => ms.find((m) => m.kind === kind)!;
    const ab = margins([...b.reverse(), ...a], "a", "b", [8]); // pairs by question, not by order
    const direct = questions.map((q, i) => ({ q, i })).filter(({ q }) => q.question.kind === "direct");
    expect(byKind(ab, "direct").margin).toBeCloseTo(direct.filter(({ i }) => i % 2 === 0).length / direct.length, 3);
    expect(byKind(ab, "direct").questions).toBe(direct.length);
    expect(byKind(ab, "paraphrased")).toMatchObject({ margin: 0, low: 0, high: 0 });
    const all = byKind(ab, "all");
    expect(all.low).toBeLessThan(all.margin);
    expect(all.high).toBeGreaterThan(all.margin);
    expect(all.low).toBeGreaterThan(0); // every difference is ≥ 0 and some are 1 in every conversation
    expect(margins([...a, ...c], "a", "c", [8]).every((m) => m.margin === 0 && m.low === 0 && m.high === 0)).toBe(true);
    expect(margins([...a, ...b], "a", "b", [8])).toEqual(ab); // a fixed seed: the same interval every run
  });

  it("resamples whole conversations: a margin that lives in one of two conversations has an interval from 0 to 1", () => {
    const convs = [7, 8].map((seed) => generateDialogue({ id: `d${seed}`, seed, messages: 600 }));
    const outcomes = convs.flatMap((conv, k) => conv.questions.flatMap((question): Outcome[] => ["a", "b"].map((policy) =>
      ({ conversation: conv.id, policy, fraction: 8, question, recall: policy === "a" && k === 0 ? 1 : 0, budget: 10, used: 9, inMatched: null }))));
    const all = margins(outcomes, "a", "b", [8]).find((m) => m.kind === "all")!;
    expect(all.margin).toBeCloseTo(convs[0]!.questions.length / (convs[0]!.questions.length + convs[1]!.questions.length), 3);
    // Resampling single questions would put the interval tightly around the margin; by conversation, a quarter of
    // the draws hold only the tied conversation and a quarter only the winning one.
    expect(all.low).toBe(0);
    expect(all.high).toBe(1);
  });
});
