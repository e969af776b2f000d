import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import { conversationErrorCode, HistoryConflictError } from "../../durable-objects/conversation/conversation-api";
import {
  chainValues, commonPrefixLength, longestPrefixSuffixOverlap, matchRequest, messageDigest, messageId, type StoredChainView,
} from "../../durable-objects/conversation/hash-chain";

/** A stored conversation held in arrays (the DO reads the same view from SQLite). */
function storedView(messages: ChatMessage[]): StoredChainView & { reads: number } {
  const digests = messages.map(messageDigest);
  const chains = chainValues(digests);
  const view = {
    reads: 0,
    count: messages.length,
    chainAt(seq: number) {
      view.reads++;
      if (seq < 0 || seq >= messages.length) throw new RangeError(`seq ${seq} out of range`);
      return chains[seq]!;
    },
    tailDigests: (n: number) => (n <= 0 ? [] : digests.slice(messages.length - n)),
    hasSystemDigest: (d: string) => messages.some((m, i) => m.role === "system" && digests[i] === d),
  };
  return view;
}

const u = (content: string): ChatMessage => ({ role: "user", content });
const a = (content: string): ChatMessage => ({ role: "assistant", content });
const sys = (content: string): ChatMessage => ({ role: "system", content });

describe("message digest and chain", () => {
  it("separates every field and frames them unambiguously", () => {
    const base = messageDigest(u("hello"));
    expect(messageDigest(u("hello"))).toBe(base);
    expect(messageDigest(a("hello"))).not.toBe(base);
    expect(messageDigest({ ...u("hello"), name: "bob" })).not.toBe(base);
    expect(messageDigest({ role: "tool", content: "x", tool_call_id: "1" })).not.toBe(messageDigest({ role: "tool", content: "x", tool_call_id: "2" }));
    // Field boundaries cannot be shifted: ("a\",\"b") vs two fields.
    expect(messageDigest({ role: "user", content: 'a","b' })).not.toBe(messageDigest({ role: "user", content: "a", name: "b" }));
  });

  it("chains depend on everything before, so ids differ for repeated content", () => {
    const chains = chainValues([messageDigest(u("ok")), messageDigest(u("ok"))]);
    expect(chains[0]).not.toBe(chains[1]);
    expect(messageId(chains[0]!)).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(chainValues([messageDigest(u("ok"))], chains[0])).toEqual([chains[1]]);
  });
});

describe("longestPrefixSuffixOverlap", () => {
  const brute = (p: string[], t: string[]) => {
    for (let j = Math.min(p.length, t.length); j > 0; j--) {
      if (p.slice(0, j).every((x, i) => x === t[t.length - j + i])) return j;
    }
    return 0;
  };
  it("matches brute force on random sequences over a tiny alphabet (many repeats)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 30 }), fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 30 }), (p, t) => {
        expect(longestPrefixSuffixOverlap(p, t)).toBe(brute(p, t));
      }),
      { numRuns: 500 },
    );
  });
  it("handles empty inputs and full matches", () => {
    expect(longestPrefixSuffixOverlap([], ["a"])).toBe(0);
    expect(longestPrefixSuffixOverlap(["a"], [])).toBe(0);
    expect(longestPrefixSuffixOverlap(["a", "b"], ["x", "a", "b"])).toBe(2);
    expect(longestPrefixSuffixOverlap(["a", "a", "a"], ["a", "a"])).toBe(2);
  });
});

describe("matchRequest (the documented rule)", () => {
  const history = [sys("be brief"), u("hi"), a("hello"), u("what is 2+2"), a("4")];

  it("(a) full history resent plus new messages: only the new ones are appended", () => {
    const m = matchRequest([...history, u("and 3+3?")], storedView(history));
    expect(m.rule).toBe("full-history");
    expect(m.newIndices).toEqual([5]);
    expect(m.duplicates).toBe(5);
  });

  it("(a) finds the common prefix with O(log N) chain reads", () => {
    const long = Array.from({ length: 4096 }, (_, i) => (i % 2 ? a(`a${i}`) : u(`u${i}`)));
    const view = storedView(long);
    expect(matchRequest([...long, u("next")], view).newIndices).toEqual([4096]);
    expect(view.reads).toBeLessThanOrEqual(14);
  });

  it("(a) an empty conversation takes everything as new; an exact resend adds nothing", () => {
    expect(matchRequest(history, storedView([])).newIndices).toEqual([0, 1, 2, 3, 4]);
    const same = matchRequest(history, storedView(history));
    expect(same.newIndices).toEqual([]);
    expect(same.duplicates).toBe(5);
  });

  it("(b) a trimmed history (system prompt + last exchange) overlaps the stored tail", () => {
    const m = matchRequest([sys("be brief"), u("what is 2+2"), a("4"), u("and 3+3?")], storedView(history));
    expect(m.rule).toBe("tail-overlap");
    expect(m.newIndices).toEqual([3]);
  });

  it("(b)/(d) a repeated system prompt with only the new message is not stored twice", () => {
    const m = matchRequest([sys("be brief"), u("and 3+3?")], storedView(history));
    expect(m.newIndices).toEqual([1]);
    expect(m.duplicates).toBe(1);
  });

  it("(d) only new messages: all appended, even when they repeat older content", () => {
    expect(matchRequest([u("hi")], storedView(history)).newIndices).toEqual([0]);
    const m = matchRequest([u("something else"), a("sure")], storedView(history));
    expect(m.rule).toBe("new-only");
    expect(m.newIndices).toEqual([0, 1]);
  });

  it("(d) a changed system prompt is a new system message", () => {
    const m = matchRequest([sys("be verbose"), u("hi again")], storedView(history));
    expect(m.newIndices).toEqual([0, 1]);
  });

  it("(c) edited history is a conflict, not silently duplicated", () => {
    const edited = [sys("be brief"), u("hi"), a("HELLO (edited)"), u("what is 2+2"), a("4"), u("next")];
    let error: unknown;
    try {
      matchRequest(edited, storedView(history));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HistoryConflictError);
    expect(conversationErrorCode(error)).toBe("history_conflict");
    expect((error as HistoryConflictError).matchedMessages).toBe(2);
  });

  it("(c) rewinding to an earlier point is a conflict too", () => {
    expect(() => matchRequest([sys("be brief"), u("hi"), a("hello"), u("regenerate from here")], storedView(history))).toThrow(/history_conflict/);
  });

  it("random histories: resending any prefix-extension dedups exactly", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "ok"), { minLength: 1, maxLength: 20 }), fc.array(fc.constantFrom("x", "y"), { maxLength: 5 }), (stored, fresh) => {
        const msgs = stored.map((c, i) => (i % 2 ? a(c) : u(c)));
        const extra = fresh.map(u);
        const m = matchRequest([...msgs, ...extra], storedView(msgs));
        expect(m.newIndices).toEqual(extra.map((_, i) => msgs.length + i));
      }),
      { numRuns: 200 },
    );
  });

  it("commonPrefixLength is 0 for unrelated requests", () => {
    expect(commonPrefixLength(chainValues([messageDigest(u("zzz"))]), storedView(history))).toBe(0);
  });
});
