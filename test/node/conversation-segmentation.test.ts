import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closeWindows, segmentText, type Utterance } from "../../durable-objects/episodes/segmentation";
import { groupUnits, unitHeadFor } from "../../durable-objects/conversation/tool-units";
import { topTerms } from "../../durable-objects/episodes/top-terms";

const utt = (seq: number, role = seq % 2 ? "assistant" : "user", content = `m${seq}`): Utterance => ({ seq, role, content });

describe("segmentation (EpiCache step 1)", () => {
  it("formats each utterance as {speaker} said, \"{text}\" (name wins over role)", () => {
    expect(segmentText([utt(0, "user", "hi"), { seq: 1, role: "assistant", content: "yo", name: "Ava" }])).toBe('user said, "hi"\nAva said, "yo"\n');
  });

  it("cuts full windows only, skipping system messages, and returns the open tail", () => {
    const msgs = [utt(0, "system", "rules"), utt(1), utt(2), utt(3), utt(4), utt(5)];
    const { segments, openTail } = closeWindows([], msgs, 2);
    expect(segments.map((s) => [s.first_seq, s.last_seq])).toEqual([[1, 2], [3, 4]]);
    expect(openTail.map((u) => u.seq)).toEqual([5]);
  });

  it("incremental appends give the same segments as one batch", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 10 }), (w, chunks) => {
        const all: Utterance[] = [];
        let seq = 0;
        const incremental: string[] = [];
        let tail: Utterance[] = [];
        for (const size of chunks) {
          const chunk = Array.from({ length: size }, () => utt(seq++, seq % 5 === 0 ? "system" : "user"));
          all.push(...chunk);
          const step = closeWindows(tail, chunk, w);
          tail = step.openTail;
          incremental.push(...step.segments.map((s) => s.text));
          expect(tail.length).toBeLessThan(w);
        }
        expect(incremental).toEqual(closeWindows([], all, w).segments.map((s) => s.text));
      }),
      { numRuns: 200 },
    );
  });

  it("rejects a bad window", () => {
    expect(() => closeWindows([], [], 0)).toThrow(RangeError);
  });
});

describe("tool-call units", () => {
  it("groups an assistant tool call with the tool results that follow it", () => {
    const rows: { seq: number; role: string; hasToolCalls: boolean; unitHead: number }[] = [];
    const add = (role: string, hasToolCalls = false) => {
      const prev = rows[rows.length - 1] ?? null;
      const seq = rows.length;
      rows.push({ seq, role, hasToolCalls, unitHead: unitHeadFor(prev, { seq, role }) });
    };
    add("user");
    add("assistant", true);
    add("tool");
    add("tool");
    add("assistant");
    add("tool"); // orphan tool result: its own unit
    expect(rows.map((r) => r.unitHead)).toEqual([0, 1, 1, 1, 4, 5]);
    expect(groupUnits(rows).map((u) => u.map((r) => r.seq))).toEqual([[0], [1, 2, 3], [4], [5]]);
  });
});

describe("top terms", () => {
  it("prefers words distinctive to an episode and drops stop words", () => {
    const terms = topTerms([
      ['user said, "my dog Rex loves the park"\n', 'assistant said, "Rex sounds like a happy dog"\n'],
      ['user said, "the tax forms are due"\n', 'assistant said, "file the tax forms online"\n'],
    ], 3);
    expect(terms[0]).toContain("rex");
    expect(terms[0]).toContain("dog");
    expect(terms[1]).toContain("tax");
    expect(terms.flat()).not.toContain("the");
    expect(terms.flat()).not.toContain("said");
  });
});
