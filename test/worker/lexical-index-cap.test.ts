// The lexical index's memory cap on real Durable Object SQLite: past it the
// index covers the latest messages that fit (a window whose first seq is
// kept in meta); when not even MIN_LEXICAL_WINDOW messages fit, the mirror
// is not built (nor rebuilt every turn), and the turn's context is ranked by
// segments instead, still within its budget.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env as rawEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../worker/env";
import { ConversationMirrors } from "../../durable-objects/selection/mirrors";
import { LEXICAL_FLOOR_META, lexicalFloor, MIN_LEXICAL_WINDOW } from "../../durable-objects/selection/lexical-window";
import { supersedeFrom } from "../../durable-objects/conversation/fork";
import { turnContext } from "../../durable-objects/selection/turn-context";
import { bundledKernels } from "../../wasm/src/bundled";
import { hashEmbedder } from "../../durable-objects/episodes/embedder";
import { DEFAULT_SETTINGS } from "../../durable-objects/conversation/settings";
import { storeOf } from "./support/conversation-store";

const env = rawEnv as unknown as Env;
const TOPICS = ["sourdough starter hydration", "marathon training pace", "tax return deadline", "garden tomato blight"];

describe("lexical index cap (workerd SQLite)", () => {
  it("past the cap, a window over the latest messages that fit, kept in meta and moved by appends", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`lexical-window-${crypto.randomUUID()}`));
    const note = (i: number) => ({ role: i % 2 ? "assistant" : "user", content: `about the ${TOPICS[i % 4]} again, note n${i}` });
    await stub.importMessages(Array.from({ length: 4000 }, (_, i) => note(i)) as never);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const cap = 420_000; // ≈ 2000–2500 of these messages (each adds a term, "n123"), beside the scorer instance's 128 KiB
    await runInDurableObject(stub, async (instance, state) => {
      const store = storeOf(state);
      const mirrors = new ConversationMirrors(store, cap);
      const lexical = mirrors.lexicalIndex()!;
      expect(lexical.base).toBeGreaterThan(0);
      expect(lexical.documents).toBe(4000 - lexical.base);
      expect(lexical.documents).toBeGreaterThanOrEqual(MIN_LEXICAL_WINDOW);
      expect(lexical.bytes).toBeLessThanOrEqual(cap);
      expect(lexicalFloor(store, cap)).toBe(lexical.base);
      expect(mirrors.memory()).toMatchObject({ lexical_first_seq: lexical.base, lexical_documents: lexical.documents });
      const source = { store, mirrors, kernels: bundledKernels(), embedder: hashEmbedder(bundledKernels()), settings: DEFAULT_SETTINGS, charsPerToken: 4 };
      const ranked = async (query: string) => (await turnContext(source, query, 2000, [])).messages.filter((m) => m.provenance.kind === "ranked").map((m) => m.seq);
      expect(await ranked("what was note n3990 about?")).toContain(3990); // inside the window
      expect(await ranked(`what was note n${lexical.base - 5} about?`)).not.toContain(lexical.base - 5); // below it: no lexical score
      expect(lexical.bytes).toBeLessThanOrEqual(cap); // the queries' score buffer was counted when the window was chosen
      mirrors.followAppend(store.page(3999, 10), []); // nothing new: the window stays
      expect(mirrors.lexicalIndex()).toBe(lexical);
      // A restarted object builds the window from the kept floor.
      expect(new ConversationMirrors(store, cap).lexicalIndex()!.base).toBe(lexical.base);

      // Appends past the cap move the window: the next build starts later, from the floor kept in meta.
      await instance.importMessages(Array.from({ length: 1500 }, (_, i) => note(4000 + i)) as never);
      store.forgetCached(); // the object's own store wrote the rows and counters
      mirrors.followAppend(store.page(3999, 2000), []);
      const moved = mirrors.lexicalIndex()!;
      expect(moved.base).toBeGreaterThan(lexical.base);
      expect(lexicalFloor(store, cap)).toBe(moved.base);
      expect(moved.documents).toBe(5500 - moved.base);
      expect(moved.bytes).toBeLessThanOrEqual(cap);
      expect(await ranked("what was note n5000 about?")).toContain(5000);

      // A fork moves the kept floor back by as many messages as it superseded: the window keeps its size.
      const at = moved.base + 10;
      store.transaction(() => supersedeFrom(store, at, Date.now(), { reclusterAt: Date.now() }));
      const backTo = Math.max(0, moved.base - (5500 - at));
      expect(lexicalFloor(store, cap)).toBe(backTo);
      const afterFork = new ConversationMirrors(store, cap).lexicalIndex()!;
      expect(afterFork.base).toBe(backTo);
      expect(afterFork.documents).toBe(at - backTo);
      // A floor kept under another cap is not used.
      expect(lexicalFloor(store, cap * 2)).toBe(0);
      expect(store.meta(LEXICAL_FLOOR_META)).toBe(`${backTo}/${cap}`);
    });
  });

  it("past the cap, no lexical mirror and a segment-ranked context within budget; under it, ranked messages", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`lexical-cap-${crypto.randomUUID()}`));
    const messages = Array.from({ length: 400 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `about the ${TOPICS[i % 4]} again, note ${i}` }));
    await stub.importMessages(messages as never);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      const store = storeOf(state);
      const source = (mirrors: ConversationMirrors) => ({
        store, mirrors, kernels: bundledKernels(), embedder: hashEmbedder(bundledKernels()), settings: DEFAULT_SETTINGS, charsPerToken: 4,
      });
      const capped = new ConversationMirrors(store, 4096);
      expect(capped.lexicalIndex()).toBeNull();
      expect(capped.lexicalIndex()).toBeNull();
      const fallback = await turnContext(source(capped), "how is the marathon training pace?", 600, []);
      expect(fallback.used_tokens).toBeLessThanOrEqual(600);
      expect(fallback.messages.some((m) => m.provenance.kind === "episode")).toBe(true);
      expect(fallback.messages.some((m) => m.provenance.kind === "ranked")).toBe(false);

      const uncapped = new ConversationMirrors(store);
      expect(uncapped.lexicalIndex()!.documents).toBe(400);
      const ranked = await turnContext(source(uncapped), "how is the marathon training pace?", 600, []);
      expect(ranked.used_tokens).toBeLessThanOrEqual(600);
      expect(ranked.messages.some((m) => m.provenance.kind === "ranked")).toBe(true);
    });
  });
});
