// ConversationStore keeps write-through copies of meta, counters and
// episodes (read dozens of times per turn). On real Durable Object SQLite:
// they follow every write, and a transaction that throws (rolled back by
// workerd) leaves them agreeing with storage again.
import { runInDurableObject } from "cloudflare:test";
import { env as rawEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../worker/env";
import { storeOf } from "./support/conversation-store";
import { appendBase, supersedeFrom } from "../../durable-objects/conversation/fork";
import { prepareAppend, writeAppend } from "../../durable-objects/conversation/ingest";
import { hashEmbedder } from "../../durable-objects/episodes/embedder";
import { bundledKernels } from "../../wasm/src/bundled";
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import { createRng } from "../../testing/random";
import type { AppendStart } from "../../durable-objects/conversation/fork";
import { ConversationMirrors } from "../../durable-objects/selection/mirrors";
import { recentMeta } from "../../durable-objects/selection/turn-context";

const env = rawEnv as unknown as Env;

function stored(state: DurableObjectState, query: string, ...bindings: string[]): unknown {
  return state.storage.sql.exec(query, ...bindings).toArray()[0]?.value ?? null;
}

describe("ConversationStore cached rows (workerd SQLite)", () => {
  it("follows writes, and a failed transaction leaves it agreeing with storage", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`store-cache-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance, state) => {
      const store = storeOf(state);
      expect(store.counter("messages")).toBe(0); // cached as 0
      store.transaction(() => {
        store.addCounter("messages", 3);
        store.setMeta("chars_per_token", "3.5");
        store.saveEpisode({ id: 1, centroid: Float32Array.from([1, 0]), size: 2, representatives: [4], top_terms: ["tram"] });
      });
      expect(store.counter("messages")).toBe(3);
      expect(store.meta("chars_per_token")).toBe("3.5");
      expect(store.episodes().map((e) => [e.id, [...e.centroid], e.size])).toEqual([[1, [1, 0], 2]]);

      expect(() =>
        store.transaction(() => {
          store.addCounter("messages", 10);
          store.setMeta("chars_per_token", "9");
          store.deleteEpisodes();
          throw new Error("fault in the middle of a write");
        }),
      ).toThrow(/fault in the middle/);
      // Rolled back in storage, and the store answers from storage again.
      expect(stored(state, "SELECT value FROM counters WHERE name = ?", "messages")).toBe(3);
      expect(store.counter("messages")).toBe(3);
      expect(store.meta("chars_per_token")).toBe("3.5");
      expect(store.episodes()).toHaveLength(1);
    });
  });

  it("hands out copies of episodes, so a caller's update is not seen until it is saved", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`store-copy-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance, state) => {
      const store = storeOf(state);
      store.saveEpisode({ id: 7, centroid: Float32Array.from([0.5, 0.5]), size: 1, representatives: [], top_terms: [] });
      const [e] = store.episodes();
      e!.centroid[0] = 99;
      e!.size = 42;
      expect(store.episodes()[0]!.centroid[0]).toBe(0.5);
      store.saveEpisode(e!);
      expect(store.episodes()[0]!.centroid[0]).toBe(99);
      expect(store.episodes()[0]!.size).toBe(42);
      // Saves are written through in id order, and the cache agrees with a fresh read of storage.
      store.saveEpisode({ id: 3, centroid: Float32Array.from([1, 0]), size: 2, representatives: [5], top_terms: ["a"] });
      store.saveEpisode({ id: 9, centroid: Float32Array.from([0, 1]), size: 1, representatives: [], top_terms: [] });
      store.saveEpisode({ id: 3, centroid: Float32Array.from([0.5, 0]), size: 4, representatives: [5, 6], top_terms: ["b"] });
      const fromStorage = storeOf(state).episodes();
      expect(store.episodes().map((x) => x.id)).toEqual([3, 7, 9]);
      expect(store.episodes()).toEqual(fromStorage);
      expect(store.sharedEpisodes().length).toBe(3);
    });
  });

  it("counts the messages created before a time as a scan would (the last-message shortcut, with or without the newest message passed, and the binary search)", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`store-created-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance, state) => {
      const store = storeOf(state);
      expect(store.countCreatedBefore(100, 0)).toBe(0);
      const times = [10, 20, 20, 30, 45, 45, 45, 60];
      store.insertMessages(times.map((created_at, seq) => ({
        seq, id: `m${seq}`, role: seq % 2 ? "assistant" : "user", content: `message ${seq}`, name: null, tool_call_id: null, tool_calls: null,
        tokens: 3, digest: `d${seq}`, chain: `c${seq}`, created_at, weight: 1, unit_head: seq,
      })));
      for (const count of [1, 4, times.length]) {
        for (const t of [0, 10, 11, 20, 21, 45, 46, 60, 61, 1000]) {
          const expected = times.slice(0, count).filter((x) => x < t).length;
          expect(store.countCreatedBefore(t, count), `t ${t}, first ${count}`).toBe(expected);
          // With the newest message already read (used only when it is the count-th message).
          expect(store.countCreatedBefore(t, count, store.lastMessage()), `t ${t}, first ${count}, newest passed`).toBe(expected);
        }
      }
    });
  });

  it("an append's `next` is what appendBase reads once it is stored, and the last message, the system messages, chain values and tail digests, the recent window and the text cache agree with storage, through random appends, tool units, system messages and forks", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`store-next-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_instance, state) => {
      const store = storeOf(state);
      const mirrors = new ConversationMirrors(store);
      const embedder = hashEmbedder(bundledKernels());
      const rnd = createRng(7).next;
      const window = 3;
      const pick = (): ChatMessage => {
        const r = rnd();
        if (r < 0.1) return { role: "system", content: `rule ${Math.floor(rnd() * 100)}` };
        if (r < 0.2) return { role: "assistant", content: "", tool_calls: [{ id: `call${Math.floor(rnd() * 1e6)}`, type: "function", function: { name: "look", arguments: "{}" } }] };
        if (r < 0.3) return { role: "tool", content: "result", tool_call_id: "call1" };
        return { role: rnd() < 0.5 ? "user" : "assistant", content: `note ${Math.floor(rnd() * 1000)} about trains` };
      };
      let known: AppendStart | undefined;
      for (let step = 0; step < 60; step++) {
        const count = store.counter("messages");
        const forkAt = count > 4 && rnd() < 0.15 ? count - 1 - Math.floor(rnd() * 3) : null;
        const messages = Array.from({ length: 1 + Math.floor(rnd() * 5) }, pick);
        // With a known start, prepareAppend must give what it gives reading storage.
        const fresh = await prepareAppend(store, messages, window, 4, embedder, 1_000 + step, forkAt);
        if (known && forkAt === null) {
          const reused = await prepareAppend(store, messages, window, 4, embedder, 1_000 + step, null, undefined, known);
          expect(reused.rows, `step ${step}`).toEqual(fresh.rows);
          expect(reused.segments, `step ${step}`).toEqual(fresh.segments);
          expect(reused.firstSegmentId).toBe(fresh.firstSegmentId);
        }
        store.lastMessage(); // as a turn's plan reads it: the append then carries it
        store.transaction(() => {
          if (forkAt !== null) supersedeFrom(store, forkAt, 2_000 + step, { reclusterAt: 9e12 });
          writeAppend(store, fresh, embedder, 4, null);
        });
        if (forkAt !== null) mirrors.clear();
        else mirrors.followAppend(fresh.rows, []);
        known = fresh.next;
        const sqlLast = state.storage.sql.exec("SELECT seq, role, tool_calls, unit_head, digest, chain, created_at FROM messages ORDER BY seq DESC LIMIT 1").toArray()[0] ?? null;
        expect(pick3(store.lastMessage()), `step ${step}: lastMessage`).toEqual(pick3(sqlLast as never));
        const sqlPinned = state.storage.sql.exec("SELECT seq, weight, unit_head FROM messages WHERE role = 'system' ORDER BY seq").toArray();
        expect(store.pinnedMeta(), `step ${step}: pinned`).toEqual(sqlPinned);
        // The recent window from the metadata mirror is storage's, for the whole conversation and for a fork point.
        const total = store.counter("messages");
        // Chain values (kept by seq) are storage's after forks replaced messages at those seqs.
        const chains = state.storage.sql.exec("SELECT seq, chain FROM messages ORDER BY seq").toArray() as { seq: number; chain: string }[];
        for (const { seq, chain } of chains) expect(store.chainView(total).chainAt(seq), `step ${step}: chain ${seq}`).toBe(chain);
        const digests = (state.storage.sql.exec("SELECT digest FROM messages ORDER BY seq").toArray() as { digest: string }[]).map((r) => r.digest);
        for (const n of [1, 2]) expect(store.chainView(total).tailDigests(n), `step ${step}: last ${n} digests`).toEqual(digests.slice(-n));
        for (const [n, upTo] of [[4, total], [1, total], [7, Math.max(0, total - 2)]] as const) {
          expect(recentMeta({ store, mirrors }, n, upTo).filter((r) => r.seq < upTo), `step ${step}: recent ${n} of ${upTo}`).toEqual(store.recentMeta(n, upTo).filter((r) => r.seq < upTo));
        }
        if (forkAt === null) {
          // The append's rows are in the text cache as storage holds them (no read: `load` would throw).
          const seqs = fresh.rows.map((r) => r.seq);
          const cached = mirrors.texts.get(seqs, () => { throw new Error(`step ${step}: appended rows not cached`); });
          const sqlRows = store.messagesBySeq(seqs);
          for (const seq of seqs) expect(cached.get(seq), `step ${step}: cached row ${seq}`).toEqual(sqlRows.get(seq));
        }
        const read = appendBase(store, null, window);
        expect(pick3(known.last), `step ${step}: last`).toEqual(pick3(read.last));
        expect(known.tail.map((u) => [u.seq, u.role, u.content, u.name ?? null]), `step ${step}: open tail`).toEqual(read.tail.map((u) => [u.seq, u.role, u.content, u.name ?? null]));
        expect(known.nextSegmentId, `step ${step}: next segment id`).toBe(read.nextSegmentId);
      }
    });
  });

  it("a fork alone (no append after it) leaves no stale last message, system messages or chain values", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`store-fork-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_instance, state) => {
      const store = storeOf(state);
      const embedder = hashEmbedder(bundledKernels());
      const messages: ChatMessage[] = [{ role: "user", content: "one" }, { role: "system", content: "rule" }, { role: "assistant", content: "two" }, { role: "user", content: "three" }];
      const prepared = await prepareAppend(store, messages, 3, 4, embedder, 1_000, null);
      store.transaction(() => writeAppend(store, prepared, embedder, 4, null));
      expect(store.lastMessage()!.seq).toBe(3);
      expect(store.pinnedMeta().map((r) => r.seq)).toEqual([1]);
      expect(store.chainView(4).chainAt(3)).not.toBe("");
      store.transaction(() => supersedeFrom(store, 1, 2_000, { reclusterAt: 9e12 }));
      expect(store.lastMessage()!.seq).toBe(0);
      expect(store.pinnedMeta()).toEqual([]);
      expect(store.chainView(1).chainAt(3)).toBe("");
    });
  });
});

/** The fields of a tail message an append continues from. */
function pick3(m: { seq: number; role: string; tool_calls: string | null; unit_head: number; digest: string; chain: string; created_at: number } | null): unknown {
  return m && { seq: m.seq, role: m.role, tool_calls: m.tool_calls, unit_head: m.unit_head, digest: m.digest, chain: m.chain, created_at: m.created_at };
}
