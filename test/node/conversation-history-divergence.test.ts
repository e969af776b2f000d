// The fork rule (durable-objects/conversation/history-divergence.ts): what
// chat UIs send on regenerate and edit forks at the divergence point; only
// new turns, trimmed histories and full resends append; strict mode keeps the
// 409; a turn that queued behind others appends after them.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import { HistoryConflictError } from "../../durable-objects/conversation/conversation-api";
import { chainValues, messageDigest, type StoredChainView } from "../../durable-objects/conversation/hash-chain";
import { liveBefore, resolveHistory, type HistoryOptions } from "../../durable-objects/conversation/history-divergence";

const u = (content: string): ChatMessage => ({ role: "user", content });
const a = (content: string): ChatMessage => ({ role: "assistant", content });
const sys = (content: string): ChatMessage => ({ role: "system", content });

function view(messages: ChatMessage[]): StoredChainView {
  const digests = messages.map(messageDigest);
  const chains = chainValues(digests);
  return {
    count: messages.length,
    chainAt: (seq) => chains[seq]!,
    tailDigests: (n) => (n <= 0 ? [] : digests.slice(messages.length - n)),
    hasSystemDigest: (d) => messages.some((m, i) => m.role === "system" && digests[i] === d),
  };
}

function resolve(request: ChatMessage[], stored: ChatMessage[], options: Partial<HistoryOptions> = {}) {
  return resolveHistory(request, view(stored), { mode: "fork", lastRole: stored.at(-1)?.role ?? null, ...options });
}

const history = [sys("be brief"), u("hi"), a("hello"), u("what is 2+2"), a("4")];

describe("resolveHistory", () => {
  it("regenerate: the history without its last reply forks before that reply", () => {
    const d = resolve(history.slice(0, 4), history);
    expect([d.rule, d.forkAt, d.newIndices]).toEqual(["fork", 4, []]);
  });

  it("regenerate of the first reply (one user message) forks too", () => {
    const d = resolve([u("hi")], [u("hi"), a("hello")]);
    expect([d.rule, d.forkAt]).toEqual(["fork", 1]);
  });

  it("edit of a middle message forks at it; the edited message and what follows are new", () => {
    const d = resolve([sys("be brief"), u("hi"), a("hello"), u("what is 3+3"), ], history);
    expect([d.rule, d.forkAt, d.newIndices]).toEqual(["fork", 3, [3]]);
  });

  it("edit of the first message with later history resent forks at 0 (was: appended as 3 new messages)", () => {
    const d = resolve([u("A'"), a("x"), u("C")], [u("A"), a("reply")]);
    expect([d.rule, d.forkAt, d.newIndices]).toEqual(["fork", 0, [0, 1, 2]]);
  });

  it("rewinding to an earlier point forks there", () => {
    const d = resolve([sys("be brief"), u("hi"), a("hello"), u("regenerate from here")], history);
    expect([d.rule, d.forkAt, d.newIndices]).toEqual(["fork", 3, [3]]);
  });

  it("appends (no fork) for full resends, trimmed histories and new-only turns", () => {
    expect(resolve([...history, u("next")], history)).toMatchObject({ rule: "full-history", forkAt: null, newIndices: [5] });
    expect(resolve([sys("be brief"), u("what is 2+2"), a("4"), u("and 3+3?")], history)).toMatchObject({ rule: "tail-overlap", forkAt: null, newIndices: [3] });
    expect(resolve([u("hi")], history)).toMatchObject({ rule: "new-only", forkAt: null, newIndices: [0] });
    expect(resolve([sys("be verbose"), u("hi again")], history)).toMatchObject({ rule: "new-only", forkAt: null });
  });

  it('history "strict" keeps the 409 for what would fork, and appends what would append', () => {
    expect(() => resolve(history.slice(0, 3).concat(u("edited")), history, { mode: "strict" })).toThrow(HistoryConflictError);
    expect(resolve([...history, u("next")], history, { mode: "strict" }).newIndices).toEqual([5]);
    // Regenerate of a first reply was never a conflict: strict mode treats it as before (a new turn).
    expect(resolve([u("hi")], [u("hi"), a("hello")], { mode: "strict" })).toMatchObject({ rule: "new-only", forkAt: null });
  });

  it("(q) a resend that queued behind other turns appends its new tail after them, also in strict mode", () => {
    const h = [u("q0"), a("r0")];
    const afterOthers = [...h, u("m1"), a("r1"), u("m2"), a("r2")];
    for (const mode of ["fork", "strict"] as const) {
      expect(resolve([...h, u("m3")], afterOthers, { seen: 2, mode })).toMatchObject({ rule: "queued", forkAt: null, newIndices: [2] });
    }
    // Without knowing it queued, the same request is an edit.
    expect(resolve([...h, u("m3")], afterOthers)).toMatchObject({ rule: "fork", forkAt: 2 });
    // A regenerate that arrived after the reply it replaces still forks.
    expect(resolve([u("q0")], h, { seen: 2 })).toMatchObject({ rule: "fork", forkAt: 1 });
  });

  it("random stored histories and requests: new messages are always the request's suffix from the fork point, which never exceeds the common prefix", () => {
    const msg = fc.tuple(fc.constantFrom("user", "assistant", "system"), fc.constantFrom("a", "b", "c")).map(([role, c]) => ({ role, content: c }) as ChatMessage);
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 8 }), fc.array(msg, { minLength: 1, maxLength: 8 }), (stored, request) => {
        let d;
        try {
          d = resolve(request, stored);
        } catch (e) {
          throw new Error(`fork mode never throws: ${String(e)}`);
        }
        if (d.forkAt !== null) {
          expect(d.forkAt).toBeLessThanOrEqual(Math.min(stored.length, request.length));
          expect(d.newIndices).toEqual(Array.from({ length: request.length - d.forkAt }, (_, i) => d.forkAt! + i));
          // What stays is exactly the request's prefix before the fork.
          expect(stored.slice(0, d.forkAt).map(messageDigest)).toEqual(request.slice(0, d.forkAt).map(messageDigest));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("liveBefore is the per-message exclusion test while a fork is pending", () => {
    expect([0, 3, 4, 9].map(liveBefore(4))).toEqual([true, true, false, false]);
    expect(liveBefore(null)(1e9)).toBe(true);
  });
});
