import { describe, expect, it } from "vitest";
import { MessageMeta } from "../../durable-objects/selection/message-meta";
import { MessageCache, ROW_OVERHEAD_CHARS } from "../../durable-objects/selection/message-cache";
import type { MessageMetaRow, StoredMessageRow } from "../../durable-objects/conversation/conversation-store";
import { unitHeadFor } from "../../durable-objects/conversation/tool-units";
import { mulberry32 } from "../../protocol/mulberry32";

/** A random conversation's (seq, weight, unit_head) rows, with tool-call units built by the real rule. */
function conversation(n: number, seed: number): MessageMetaRow[] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const rows: MessageMetaRow[] = [];
  let link: Parameters<typeof unitHeadFor>[0] = null;
  for (let seq = 0; seq < n; seq++) {
    const r = next();
    // After a tool call or result, tool results are likely (units of several messages).
    const role: string = link && (link.hasToolCalls || link.role === "tool") && r < 0.6 ? "tool" : r < 0.1 ? "system" : r < 0.55 ? "user" : "assistant";
    const hasToolCalls = role === "assistant" && next() < 0.3;
    const unitHead = unitHeadFor(link, { seq, role });
    rows.push({ seq, weight: 1 + Math.floor(next() * 400), unit_head: unitHead });
    link = { seq, role, hasToolCalls, unitHead };
  }
  return rows;
}

/** ConversationStore.unitWidenedMeta's three SQL reads, over an array. */
function sqlOracle(rows: readonly MessageMetaRow[], first: number, last: number): MessageMetaRow[] {
  let out = rows.filter((r) => r.seq >= first && r.seq <= last);
  const head = out.length ? out[0]!.unit_head : first;
  if (head < first) out = rows.filter((r) => r.seq >= head && r.seq < first).concat(out);
  const lastHead = out.length ? out[out.length - 1]!.unit_head : last;
  return out.concat(rows.filter((r) => r.unit_head === lastHead && r.seq > last));
}

describe("MessageMeta", () => {
  it("widens spans to whole tool units exactly as the SQL reads do (random conversations with tool units)", () => {
    for (const seed of [1, 2, 3]) {
      const rows = conversation(400, seed);
      expect(rows.some((r) => r.unit_head < r.seq)).toBe(true); // the generator made tool units
      const meta = new MessageMeta();
      for (const r of rows) meta.append(r.seq, r.weight, r.unit_head);
      expect(meta.count).toBe(400);
      for (let first = 0; first < 400; first += 3) {
        for (const len of [0, 1, 3, 7]) {
          const last = Math.min(399, first + len);
          expect(meta.unitWidened(first, last)).toEqual(sqlOracle(rows, first, last));
        }
      }
    }
  });

  it("grows past its initial capacity and accounts its bytes", () => {
    const meta = new MessageMeta();
    for (let seq = 0; seq < 5000; seq++) meta.append(seq, seq, seq);
    expect(meta.unitWidened(4990, 4999).map((r) => r.weight)).toEqual(Array.from({ length: 10 }, (_, i) => 4990 + i));
    expect(meta.bytes).toBe(2 * 8192 * 4);
  });

  it("keeps the smallest weight appended", () => {
    const meta = new MessageMeta();
    expect(meta.minWeight).toBe(Infinity);
    for (const [seq, w] of [[0, 40], [1, 12], [2, 90], [3, 12], [4, 30]] as const) meta.append(seq, w, seq);
    expect(meta.minWeight).toBe(12);
    meta.append(5, 3, 5);
    expect(meta.minWeight).toBe(3);
  });

  it("refuses gaps and spans outside the stored messages", () => {
    const meta = new MessageMeta();
    meta.append(0, 10, 0);
    expect(() => meta.append(2, 10, 2)).toThrow(/out of order/);
    expect(() => meta.unitWidened(0, 1)).toThrow(RangeError);
    expect(() => meta.unitWidened(-1, 0)).toThrow(RangeError);
    expect(() => meta.unitWidened(0, 0)).not.toThrow();
  });
});

describe("MessageCache", () => {
  const row = (seq: number, content: string): StoredMessageRow => ({ seq, id: `m${seq}`, role: "user", content, name: null, tool_call_id: null, tool_calls: null, tokens: 1, created_at: 0 });

  it("reads only the missing rows, in one call, and answers hits from memory", () => {
    const cache = new MessageCache(10_000);
    const calls: number[][] = [];
    const load = (missing: number[]) => {
      calls.push(missing);
      return new Map(missing.map((s) => [s, row(s, `text ${s}`)]));
    };
    expect([...cache.get([1, 2, 3], load).keys()].sort()).toEqual([1, 2, 3]);
    const again = cache.get([2, 3, 4], load);
    expect(calls).toEqual([[1, 2, 3], [4]]);
    expect(again.get(2)!.content).toBe("text 2");
    expect(again.get(4)!.content).toBe("text 4");
  });

  it("stays within its bound, evicting the least recently used rows first", () => {
    const per = ROW_OVERHEAD_CHARS + 100;
    const cache = new MessageCache(3 * per);
    const load = (missing: number[]) => new Map(missing.map((s) => [s, row(s, "x".repeat(100))]));
    cache.get([1, 2, 3], load);
    expect(cache.size).toBe(3 * per);
    cache.get([1], load); // 1 is now the most recent
    cache.get([4], load); // evicts 2, the least recent
    expect(cache.size).toBe(3 * per);
    const reloaded: number[] = [];
    cache.get([1, 2, 3, 4], (missing) => {
      reloaded.push(...missing);
      return load(missing);
    });
    expect(reloaded).toEqual([2]);
    expect(cache.size).toBeLessThanOrEqual(3 * per);
    // A row larger than the whole bound is answered but not kept.
    const huge = cache.get([9], (m) => new Map(m.map((s) => [s, row(s, "y".repeat(4 * per))])));
    expect(huge.get(9)!.content.length).toBe(4 * per);
    expect(cache.size).toBeLessThanOrEqual(3 * per);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it("loads exactly what a plain least-recently-used list would miss (random access)", () => {
    // mulberry32, not a bare LCG taken mod n: an LCG's low bits cycle, so `% 8` was always 0 and `% 60` reached 17 values (no eviction ever ran).
    const random = mulberry32(7);
    const next = (n: number) => Math.floor(random() * n);
    const text = (seq: number) => "t".repeat(seq % 50);
    const max = 20 * (ROW_OVERHEAD_CHARS + 25);
    const cache = new MessageCache(max);
    const lru: { seq: number; chars: number }[] = []; // oldest first
    let last = -1;
    let evictions = 0;
    for (let round = 0; round < 400; round++) {
      // A third of the rounds start with the most recently used row (a hit on the newest end of the list).
      const seqs = [...new Set([...(last >= 0 && next(3) === 0 ? [last] : []), ...Array.from({ length: 1 + next(8) }, () => next(60))])];
      const before = lru.map((e) => e.seq);
      const expectedMissing = seqs.filter((q) => !lru.some((e) => e.seq === q));
      for (const q of seqs) {
        const at = lru.findIndex((e) => e.seq === q);
        if (at >= 0) lru.push(...lru.splice(at, 1));
      }
      for (const q of expectedMissing) {
        lru.push({ seq: q, chars: ROW_OVERHEAD_CHARS + text(q).length });
        while (lru.reduce((t, e) => t + e.chars, 0) > max) lru.shift();
      }
      let missing: number[] = [];
      const got = cache.get(seqs, (m) => ((missing = m), new Map(m.map((q) => [q, row(q, text(q))]))));
      expect(missing).toEqual(expectedMissing);
      expect([...got.keys()].sort((a, b) => a - b)).toEqual([...seqs].sort((a, b) => a - b));
      expect(cache.size).toBe(lru.reduce((t, e) => t + e.chars, 0));
      last = lru[lru.length - 1]!.seq;
      evictions += before.filter((q) => !lru.some((e) => e.seq === q)).length;
    }
    expect(evictions).toBeGreaterThan(100);
  });
});
