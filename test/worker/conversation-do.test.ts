// ConversationDO inside workerd (SQLite storage, bundled WASM kernels), driven
// through its RPC stub as the Worker drives it.
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env as rawEnv } from "cloudflare:workers";
import type { Env } from "../../worker/env";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../durable-objects/conversation/conversation-api";
import type { ConversationApi } from "../../durable-objects/conversation/conversation-rpc";
import { conversationErrorCode } from "../../durable-objects/conversation/conversation-api";
import type { ConversationDO } from "../../durable-objects/conversation/conversation-do";
import { CACHED_APPEND_ROWS } from "../../durable-objects/selection/mirrors";
import { ROW_OVERHEAD_CHARS } from "../../durable-objects/selection/message-cache";

const env = rawEnv as unknown as Env;
/** The stub typed by the RPC contract (workers-types' Rpc mapping turns `unknown` fields into never), as the Worker uses it. */
type Stub = ConversationApi & DurableObjectStub<ConversationDO>;
const stubFor = (name: string) => env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(name)) as unknown as Stub;
const uniqueName = (label: string) => `${label}-${crypto.randomUUID()}`;

const TOPICS = [
  ["garden", "tomatoes", "compost", "seedlings", "watering"],
  ["mortgage", "interest", "lender", "payment", "refinance"],
  ["marathon", "training", "running", "pace", "shoes"],
  ["python", "compiler", "function", "debugging", "tests"],
];

/** A synthetic multi-topic history: runs of 8 messages per topic, user/assistant alternating. */
function history(n: number, system = true): ChatMessage[] {
  const out: ChatMessage[] = system ? [{ role: "system", content: "You are a helpful assistant." }] : [];
  for (let i = 0; i < n; i++) {
    const words = TOPICS[Math.floor(i / 8) % TOPICS.length]!;
    out.push({ role: i % 2 ? "assistant" : "user", content: `message ${i} about ${words[i % 5]} and ${words[(i + 2) % 5]}, also ${words[(i + 3) % 5]}` });
  }
  return out;
}

/** Row counts of every table (what "writes nothing" is checked against). */
async function rowCounts(stub: Stub): Promise<Record<string, number>> {
  return runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql.exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'`).toArray();
    const out: Record<string, number> = {};
    for (const { name } of tables) out[name] = state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${name}`).one().n;
    out.meta_text = state.storage.sql.exec<{ t: string }>(`SELECT group_concat(key || '=' || value, ';') AS t FROM meta`).one().t.length;
    return out;
  });
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to fail");
}

describe("ConversationDO lifecycle and persistence", () => {
  it("configures, persists across stubs (requests), pages messages, and destroys", async () => {
    const name = uniqueName("persist");
    expect(await stubFor(name).info()).toBeNull();
    const created = await stubFor(name).configure(name, { budget_tokens: 2000, window: 4 });
    expect(created).toMatchObject({ id: name, message_count: 0, settings: { budget_tokens: 2000, episodes: 4 } });

    const imported = await stubFor(name).importMessages(history(30));
    expect(imported).toMatchObject({ appended: 31, duplicates: 0, message_count: 31, replayed: false });

    const fresh = stubFor(name); // a fresh stub: a new request path to the same object
    const info = (await fresh.info())!;
    expect(info.message_count).toBe(31);
    expect(info.segment_count).toBe(7); // 30 utterances / window 4 → 7 full windows
    expect(info.total_tokens).toBeGreaterThan(31 * 4);

    const page1 = await fresh.listMessages(-1, 20);
    expect(page1.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(page1.messages[0]!.id).toMatch(/^msg_/);
    const page2 = await fresh.listMessages(page1.next_after!, 20);
    expect(page2.messages.map((m) => m.seq)).toEqual(Array.from({ length: 11 }, (_, i) => 20 + i));
    expect(page2.next_after).toBeNull();

    // A restart: every object instance is dropped; state (and the relevance index, rebuilt lazily) comes back from SQLite.
    const previewBefore = await fresh.previewContext("compost and seedlings", 300);
    await abortAllDurableObjects();
    const restarted = stubFor(name);
    expect((await restarted.info())!.message_count).toBe(31);
    expect(await restarted.previewContext("compost and seedlings", 300)).toEqual(previewBefore);
    expect(await restarted.commitTurn([{ role: "user", content: "after restart" }], { role: "assistant", content: "still here" })).toEqual({ message_count: 33, appended: 2 });
    const again = restarted;

    expect(await again.destroy()).toBe(true);
    expect(await stubFor(name).info()).toBeNull();
    expect(await stubFor(name).destroy()).toBe(false);
  });

  it("rejects bad input with invalid_request", async () => {
    const stub = stubFor(uniqueName("bad"));
    expect(conversationErrorCode(await errorOf(stub.configure("x", { episodes: -1 })))).toBe("invalid_request");
    expect(conversationErrorCode(await errorOf(stub.planTurn([])))).toBe("invalid_request");
    expect(conversationErrorCode(await errorOf(stub.importMessages([{ role: "wizard", content: "x" } as never])))).toBe("invalid_request");
    expect(conversationErrorCode(await errorOf(stub.listMessages(-1, 5000)))).toBe("invalid_request");
    expect(conversationErrorCode(await errorOf(stub.importMessages([{ role: "user", content: "x".repeat(600_000) }])))).toBe("invalid_request");
  });
});

describe("turns", () => {
  it("recognises resent history: planTurn counts and commitTurn appends only what is new", async () => {
    const name = uniqueName("dedup");
    const stub = stubFor(name);
    await stub.configure(name, {});
    const turn1: ChatMessage[] = [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }];
    expect((await stub.planTurn(turn1)).new_messages).toBe(2);
    expect(await stub.commitTurn(turn1, { role: "assistant", content: "hello" })).toEqual({ message_count: 3, appended: 3 });

    const turn2 = [...turn1, { role: "assistant", content: "hello" } as ChatMessage, { role: "user", content: "how are you" } as ChatMessage];
    const plan = await stub.planTurn(turn2);
    expect(plan.new_messages).toBe(1);
    expect(plan.context.messages.map((m) => [m.role, m.content, m.provenance.kind])).toEqual([
      ["system", "Be brief.", "pinned"],
      ["user", "hi", "recent"],
      ["assistant", "hello", "recent"],
      ["user", "how are you", "turn"],
    ]);
    expect(await stub.commitTurn(turn2, { role: "assistant", content: "fine" })).toEqual({ message_count: 5, appended: 2 });

    // Only-new-messages clients get the same result.
    expect(await stub.commitTurn([{ role: "user", content: "bye" }], { role: "assistant", content: "ciao" })).toEqual({ message_count: 7, appended: 2 });
    const all = await stub.listMessages(-1, 100);
    expect(all.messages.map((m) => m.content)).toEqual(["Be brief.", "hi", "hello", "how are you", "fine", "bye", "ciao"]);
  });

  it('rejects edited history with history_conflict and writes nothing under history "strict" (recordTurn refuses before accepting)', async () => {
    const name = uniqueName("conflict");
    const stub = stubFor(name);
    await stub.configure(name, { history: "strict" });
    await stub.commitTurn([{ role: "user", content: "a" }], { role: "assistant", content: "b" });
    await stub.commitTurn([{ role: "user", content: "c" }], { role: "assistant", content: "d" });
    const before = await rowCounts(stub);
    const edited: ChatMessage[] = [{ role: "user", content: "a" }, { role: "assistant", content: "B!" }, { role: "user", content: "e" }];
    expect(conversationErrorCode(await errorOf(stub.planTurn(edited)))).toBe("history_conflict");
    expect(conversationErrorCode(await errorOf(stub.commitTurn(edited, { role: "assistant", content: "x" })))).toBe("history_conflict");
    expect(conversationErrorCode(await errorOf(stub.recordTurn(edited, { role: "assistant", content: "x" })))).toBe("history_conflict");
    expect(conversationErrorCode(await errorOf(stub.recordTurn([{ role: "user", content: "e" }], { role: "user", content: "not a reply" })))).toBe("invalid_request");
    expect(await rowCounts(stub)).toEqual(before);
  });

  it("forks edited history by default: planning writes nothing, the commit supersedes in one step", async () => {
    const name = uniqueName("fork");
    const stub = stubFor(name);
    await stub.commitTurn([{ role: "user", content: "a" }], { role: "assistant", content: "b" });
    await stub.commitTurn([{ role: "user", content: "c" }], { role: "assistant", content: "d" });
    const before = await rowCounts(stub);
    const edited: ChatMessage[] = [{ role: "user", content: "a" }, { role: "assistant", content: "B!" }, { role: "user", content: "e" }];
    const plan = await stub.planTurn(edited);
    expect(plan.new_messages).toBe(2);
    expect(plan.context.messages.map((m) => m.content)).toEqual(["a", "B!", "e"]);
    expect(await rowCounts(stub)).toEqual(before);
    expect(await stub.commitTurn(edited, { role: "assistant", content: "x" })).toEqual({ message_count: 4, appended: 3 });
    expect((await stub.listMessages()).messages.map((m) => m.content)).toEqual(["a", "B!", "e", "x"]);
    const all = (await stub.listMessages(-1, 100, true)).messages;
    expect(all.map((m) => [m.seq, m.content, m.superseded_at !== undefined])).toEqual([
      [0, "a", false], [1, "B!", false], [1, "b", true], [2, "e", false], [2, "c", true], [3, "x", false], [3, "d", true],
    ]);
  });

  it("a turn's acceptance matches history again when a write came between its plan and its reply (the plan's match is reused only while nothing was written)", async () => {
    const name = uniqueName("plan-then-write");
    const stub = stubFor(name);
    await stub.configure(name, { history: "strict" });
    await stub.commitTurn([{ role: "user", content: "a" }], { role: "assistant", content: "b" });
    const resent: ChatMessage[] = [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }];
    const start = await stub.beginTurn(resent);
    if (start.kind !== "go") throw new Error(`expected a go, got ${start.kind}`);
    expect(start.plan!.new_messages).toBe(1);
    // Another writer appends while this turn's backend answers: the history the plan matched is gone.
    await stub.importMessages([{ role: "user", content: "x" }]);
    expect(conversationErrorCode(await errorOf(stub.recordTurn(resent, { role: "assistant", content: "d" }, undefined, undefined, { ticket: start.ticket })))).toBe("history_conflict");
    expect((await stub.listMessages()).messages.map((m) => m.content)).toEqual(["a", "b", "x"]);
    // Nothing written since this plan: its match stands at the acceptance.
    const again = await stub.beginTurn([{ role: "user", content: "y" }]);
    if (again.kind !== "go") throw new Error(`expected a go, got ${again.kind}`);
    expect(await stub.recordTurn([{ role: "user", content: "y" }], { role: "assistant", content: "z" }, undefined, undefined, { ticket: again.ticket })).toEqual({ appended: 2 });
    expect((await stub.listMessages()).messages.map((m) => m.content)).toEqual(["a", "b", "x", "y", "z"]);
  });

  it("recordTurn answers once the turn is accepted; a read sent after the answer waits for the write (write delayed 50 ms)", async () => {
    const name = uniqueName("record");
    await stubFor(name).commitTurn([{ role: "user", content: "a" }], { role: "assistant", content: "b" });
    for (let i = 0; i < 3; i++) {
      // Stretch the tick between acceptance and write: a read that could slip in before the write would now see the old state.
      await runInDurableObject(stubFor(name), (instance) => {
        const target = instance as unknown as { yieldBeforeWrite: () => Promise<void> };
        const real = target.yieldBeforeWrite.bind(instance);
        target.yieldBeforeWrite = async () => {
          target.yieldBeforeWrite = real;
          await new Promise((resolve) => setTimeout(resolve, 50));
        };
      });
      expect(await stubFor(name).recordTurn([{ role: "user", content: `q${i}` }], { role: "assistant", content: `r${i}` })).toEqual({ appended: 2 });
      const listed = (await stubFor(name).listMessages()).messages.map((m) => m.content);
      expect(listed.slice(-2)).toEqual([`q${i}`, `r${i}`]);
    }
    expect((await stubFor(name).info())!.message_count).toBe(8);
  });

  it("a write that fails after recordTurn accepted stores nothing of the turn and frees the conversation (fault injected)", async () => {
    const name = uniqueName("record-write-fails");
    const stub = stubFor(name);
    await stub.commitTurn([{ role: "user", content: "a" }], { role: "assistant", content: "b" });
    const start = await stub.beginTurn([{ role: "user", content: "c" }]);
    if (start.kind !== "go") throw new Error(`expected a go, got ${start.kind}`);
    const before = await rowCounts(stub);
    // Fault injection: the turn's transaction throws inside SQLite's transaction, after acceptance.
    await runInDurableObject(stub, (instance) => {
      const target = instance as unknown as { storeRows: (prepared: unknown, forkAt: unknown, extra: () => void) => void };
      const real = target.storeRows.bind(instance);
      target.storeRows = (prepared, forkAt, extra) => {
        target.storeRows = real;
        real(prepared, forkAt, () => {
          extra();
          throw new Error("injected storage failure");
        });
      };
    });
    expect(await stub.recordTurn([{ role: "user", content: "c" }], { role: "assistant", content: "d" }, undefined, undefined, { ticket: start.ticket })).toEqual({ appended: 2 });
    expect((await stub.listMessages()).messages.map((m) => m.content)).toEqual(["a", "b"]); // after the write's end: rolled back
    expect(await rowCounts(stub)).toEqual(before);
    // The ticket went back: the next turn starts at once instead of queueing behind the lost one until its lease runs out.
    const next = await Promise.race([stub.beginTurn([{ role: "user", content: "c" }]), new Promise<{ kind: "timeout" }>((r) => setTimeout(() => r({ kind: "timeout" }), 5000))]);
    expect(next.kind).toBe("go");
    if (next.kind === "go") expect(await stub.endTurn(next.ticket)).toBe(true);
  });

  it("a conversation embedded by another embedder refuses the turn before accepting it, and stores nothing", async () => {
    const name = uniqueName("record-embedder");
    const stub = stubFor(name);
    await stub.importMessages(history(8, false)); // closes segments: the conversation's embedder is recorded
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { store: { setMeta(key: string, value: string): void } }).store.setMeta("embedder", "another-embedder");
    });
    const before = await rowCounts(stub);
    const turn = history(12, false).slice(8);
    const refused = await errorOf(stub.recordTurn(turn.slice(0, 3), turn[3]!));
    expect(String(refused)).toMatch(/embedded with another-embedder/);
    expect(await rowCounts(stub)).toEqual(before);
  });

  it("planTurn and previewContext write nothing", async () => {
    const name = uniqueName("readonly");
    const stub = stubFor(name);
    await stub.configure(name, { budget_tokens: 1500 });
    await stub.importMessages(history(120));
    await runDurableObjectAlarm(stub);
    const before = await rowCounts(stub);
    await stub.planTurn([...history(120), { role: "user", content: "what about the mortgage payment?" }]);
    await stub.planTurn([{ role: "user", content: "new topic entirely" }]);
    await stub.previewContext("running shoes", 300);
    expect(await rowCounts(stub)).toEqual(before);
  });

  it("commitTurn is all-or-nothing: a failure inside its transaction leaves no trace", async () => {
    const name = uniqueName("atomic");
    const stub = stubFor(name);
    await stub.importMessages(history(10));
    const before = await rowCounts(stub);
    const error = await runInDurableObject(stub as DurableObjectStub<ConversationDO>, async (instance: ConversationDO) => {
      // Fault injection into the real object: the last write of the turn throws.
      const store = (instance as unknown as { store: { addCounter(name: string, d: number): void } }).store;
      const original = store.addCounter.bind(store);
      store.addCounter = (counter, delta) => {
        if (counter === "turns") throw new Error("injected failure");
        original(counter, delta);
      };
      try {
        await instance.commitTurn([{ role: "user", content: "enough new text to close a segment window" }], { role: "assistant", content: "reply" }, { prompt_tokens: 500, completion_tokens: 3 }, 400);
        return null;
      } catch (e) {
        return String(e);
      } finally {
        store.addCounter = original;
      }
    });
    expect(error).toMatch(/injected failure/);
    expect(await rowCounts(stub)).toEqual(before);
    expect((await stub.info())!.message_count).toBe(11);
  });

  it("calibrates chars-per-token from the backend's usage", async () => {
    const name = uniqueName("calibrate");
    const stub = stubFor(name);
    await stub.importMessages(history(20));
    const plan = await stub.planTurn([{ role: "user", content: "tell me about compost" }]);
    const before = (await stub.info())!.chars_per_token;
    await stub.commitTurn([{ role: "user", content: "tell me about compost" }], { role: "assistant", content: "ok" }, { prompt_tokens: plan.context.used_tokens * 2, completion_tokens: 1 }, plan.context.used_tokens);
    const after = (await stub.info())!.chars_per_token;
    expect(after).toBeLessThan(before);
  });
});

describe("context selection in the object", () => {
  it("stays within budget, orders by seq, and explains every message", async () => {
    const name = uniqueName("select");
    const stub = stubFor(name);
    await stub.configure(name, { budget_tokens: 400, recent_messages: 4 });
    await stub.importMessages(history(400));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    for (const budget of [60, 150, 400, 2000]) {
      const ctx = await stub.previewContext("how is my marathon training pace going?", budget);
      expect(ctx.used_tokens).toBeLessThanOrEqual(budget);
      expect(ctx.budget_tokens).toBe(budget);
      const seqs = ctx.messages.map((m) => m.seq!);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(ctx.messages.reduce((s, m) => s + m.tokens, 0) + 3).toBe(ctx.used_tokens);
      expect(ctx.conversation_tokens).toBeGreaterThan(budget / 2);
      expect(ctx.messages[0]!.provenance).toEqual({ kind: "pinned" });
      if (budget >= 400) {
        expect(ctx.matched_episode).not.toBeNull();
        const ranked = ctx.messages.filter((m) => m.provenance.kind === "ranked");
        expect(ranked.length).toBeGreaterThan(0);
        // The best-scored ranked messages are about the query's topic, and every one explains its scores.
        const byFused = ranked.map((m) => m.provenance).filter((p) => p.kind === "ranked").sort((a, b) => b.fused - a.fused);
        const top = byFused.slice(0, 5).map((p) => ctx.messages.find((m) => m.seq === p.seq)!);
        const onTopic = top.filter((m) => /marathon|training|running|pace|shoes/i.test(m.content)).length;
        expect(onTopic / top.length).toBeGreaterThan(0.7);
        for (const p of byFused) expect(Number.isFinite(p.lexical) && Number.isFinite(p.fused)).toBe(true);
      }
    }
  });

  it("answers context_over_budget when pinned + turn alone do not fit", async () => {
    const stub = stubFor(uniqueName("over"));
    await stub.importMessages([{ role: "system", content: "x".repeat(2000) }]);
    const error = await errorOf(stub.planTurn([{ role: "user", content: "hi" }], { budget_tokens: 100 }));
    expect(conversationErrorCode(error)).toBe("context_over_budget");
  });

  it("sends a tool call and its results together", async () => {
    const stub = stubFor(uniqueName("tools"));
    const call = [{ id: "call_1", type: "function", function: { name: "weather", arguments: "{}" } }];
    await stub.importMessages([
      { role: "user", content: "weather?" },
      { role: "assistant", content: "", tool_calls: call },
    ]);
    const plan = await stub.planTurn([{ role: "tool", content: "sunny", tool_call_id: "call_1" }], { budget_tokens: 200 });
    const roles = plan.context.messages.map((m) => m.role);
    expect(roles.slice(-2)).toEqual(["assistant", "tool"]);
    expect(plan.context.messages.at(-2)!.tool_calls).toEqual(call);
    expect(plan.context.messages.at(-1)!.tool_call_id).toBe("call_1");
  });
});

describe("imports", () => {
  it("is idempotent under a key, and dedups a resent history without one", async () => {
    const name = uniqueName("import");
    const stub = stubFor(name);
    const msgs = history(50);
    const first = await stub.importMessages(msgs, "key-1");
    expect(first).toMatchObject({ appended: 51, replayed: false });
    const replay = await stub.importMessages(msgs, "key-1");
    expect(replay).toEqual({ ...first, replayed: true });
    const resent = await stub.importMessages(msgs, "key-2");
    expect(resent).toMatchObject({ appended: 0, duplicates: 51, message_count: 51, replayed: false });
    const more = await stub.importMessages([...msgs, { role: "user", content: "one more" }]);
    expect(more).toMatchObject({ appended: 1, message_count: 52 });
    // The key is bound to its messages.
    expect(conversationErrorCode(await errorOf(stub.importMessages([{ role: "user", content: "other" }], "key-1")))).toBe("invalid_request");
  });

  it("is atomic: a bad message anywhere in a large import writes nothing", async () => {
    const stub = stubFor(uniqueName("import-atomic"));
    await stub.importMessages(history(10));
    const before = await rowCounts(stub);
    const msgs: ChatMessage[] = history(5000, false);
    msgs[4321] = { role: "user", content: 42 as unknown as string };
    const error = await errorOf(stub.importMessages(msgs, "atomic-key"));
    expect(conversationErrorCode(error)).toBe("invalid_request");
    expect(String(error)).toMatch(/messages\[4321\]\.content/);
    expect(await rowCounts(stub)).toEqual(before);
  });

  it("imports 10,000 messages in one atomic call", async () => {
    const stub = stubFor(uniqueName("big"));
    const result = await stub.importMessages(history(10_000, false), "bulk");
    expect(result).toMatchObject({ appended: 10_000, message_count: 10_000 });
    const info = (await stub.info())!;
    expect(info.segment_count).toBe(2500);
    expect(info.episode_count).toBe(4); // online seeding; the alarm refits
  });
});

describe("alarm re-clustering", () => {
  it("runs k-means in the alarm, keeps episode ids stable, and lists top terms", async () => {
    const name = uniqueName("alarm");
    const stub = stubFor(name);
    await stub.configure(name, { episodes: 4, window: 4 });
    await stub.importMessages(history(320));
    const scheduled = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ kind: string }>("SELECT kind FROM schedule").toArray());
    expect(scheduled.map((r) => r.kind)).toEqual(["recluster"]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const episodes = await stub.episodes();
    expect(episodes.length).toBe(4);
    expect(episodes.reduce((s, e) => s + e.size, 0)).toBe(80);
    for (const e of episodes) {
      expect(e.representative_segments.length).toBeGreaterThan(0);
      expect(e.representative_segments).toEqual([...e.representative_segments].sort((a, b) => a - b));
      expect(e.top_terms.length).toBeGreaterThan(0);
      expect(e.segments.length).toBe(e.size);
    }
    // Each topic's words dominate one episode.
    const termSets = episodes.map((e) => e.top_terms.join(" "));
    for (const words of TOPICS) expect(termSets.some((t) => words.some((w) => t.includes(w)))).toBe(true);
    const counters = await runInDurableObject(stub, (_i, state) =>
      Object.fromEntries(state.storage.sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters").toArray().map((r) => [r.name, r.value])),
    );
    expect(counters).toMatchObject({ reclusters: 1, at_fit: 80, since_fit: 0 });
    expect(await runDurableObjectAlarm(stub)).toBe(false); // nothing left scheduled

    // Re-clustering the same data again keeps the ids.
    const ids = episodes.map((e) => e.id).sort();
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("INSERT INTO schedule (kind, run_at) VALUES ('recluster', 0)");
      return state.storage.setAlarm(Date.now() + 60_000); // far enough that only the test fires it
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.episodes()).map((e) => e.id).sort()).toEqual(ids);
  });

  it("reports its in-memory structures and a pending re-clustering in info()", async () => {
    const stub = stubFor(uniqueName("memory"));
    const imported = history(400);
    await stub.importMessages(imported);
    const before = (await stub.info())!;
    expect(before.recluster_pending).toBe(true);
    // Nothing built before a turn, but for the text cache, which holds the import's newest rows (the next turn's recent window).
    const newest = imported.slice(-CACHED_APPEND_ROWS).reduce((n, m) => n + ROW_OVERHEAD_CHARS + m.content.length, 0);
    expect(before.memory).toEqual({ index_segments: 0, index_bytes: 0, message_meta_bytes: 0, message_cache_bytes: 2 * newest, lexical_documents: 0, lexical_first_seq: 0, lexical_terms: 0, lexical_bytes: 0 });
    expect(await runDurableObjectAlarm(stub)).toBe(true); // re-clusters and rebuilds the index in the background
    const settled = (await stub.info())!;
    expect(settled.recluster_pending).toBe(false);
    expect(settled.memory!.index_segments).toBe(settled.segment_count);
    // ≈ 1.5 KB per segment, plus reserve and per-episode scratch: bounded by 1.25 × rows + 1 MiB per episode.
    expect(settled.memory!.index_bytes).toBeGreaterThan(settled.segment_count * 384 * 4);
    expect(settled.memory!.index_bytes).toBeLessThan(settled.segment_count * 385 * 4 * 1.25 + settled.episode_count * 1.5 * 2 ** 20);

    const plan = await stub.planTurn([{ role: "user", content: "marathon pace and shoes" }]);
    const cached = plan.context.messages.filter((m) => m.seq !== null).reduce((n, m) => n + m.content.length, 0);
    await stub.commitTurn([{ role: "user", content: "marathon pace and shoes" }], { role: "assistant", content: "ok" });
    const after = (await stub.info())!;
    expect(after.message_count).toBe(403);
    expect(after.memory!.message_meta_bytes).toBeGreaterThanOrEqual(after.message_count * 8);
    expect(after.memory!.message_cache_bytes).toBeGreaterThanOrEqual(2 * cached);
    expect(after.memory!.index_segments).toBe(after.segment_count); // appended after the commit
  });

  it("plans the same context from its in-memory mirrors as from a fresh object (tool units included)", async () => {
    const name = uniqueName("mirror");
    const stub = stubFor(name);
    const msgs: ChatMessage[] = [...history(60, true)];
    msgs.push({ role: "assistant", content: "", tool_calls: [{ id: "c1", type: "function", function: { name: "pace", arguments: "{}" } }] } as ChatMessage);
    msgs.push({ role: "tool", content: "marathon pace 5:00", tool_call_id: "c1" } as ChatMessage);
    msgs.push({ role: "tool", content: "marathon shoes size 44", tool_call_id: "c1" } as ChatMessage);
    msgs.push(...history(60, false));
    await stub.importMessages(msgs);
    await runDurableObjectAlarm(stub);
    const query = [{ role: "user" as const, content: "what was the marathon pace 5:00 and the shoes size 44" }];
    const warm = await stub.planTurn(query, { budget_tokens: 1500 }); // builds index, metadata mirror, text cache
    const again = await stub.planTurn(query, { budget_tokens: 1500 }); // answered from them
    await abortAllDurableObjects(); // a fresh object reads everything from SQLite again
    const fresh = await stubFor(name).planTurn(query, { budget_tokens: 1500 });
    expect(again).toEqual(warm);
    expect(fresh).toEqual(warm);
    // The tool unit (seqs 61–63: call and two results) is sent whole.
    const seqs = new Set(fresh.context.messages.map((m) => m.seq));
    expect([61, 62, 63].map((s) => seqs.has(s))).toEqual([true, true, true]);
  });

  it("a turn never runs the full clustering itself", async () => {
    const stub = stubFor(uniqueName("noblock"));
    await stub.importMessages(history(200));
    await stub.commitTurn([{ role: "user", content: "running pace question" }], { role: "assistant", content: "answer" });
    const reclusters = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COALESCE(MAX(value), 0) AS n FROM counters WHERE name = 'reclusters'").one().n);
    expect(reclusters).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
  });
});
