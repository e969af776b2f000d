// The lexical index's memory cap on real Durable Object SQLite: past it the
// mirror is not built (nor rebuilt every turn), and the turn's context is
// ranked by segments instead, still within its budget.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env as rawEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../worker/env";
import { ConversationStore } from "../../durable-objects/conversation/conversation-store";
import { sqlOver } from "../../durable-objects/storage/sql";
import { ConversationMirrors } from "../../durable-objects/selection/mirrors";
import { turnContext } from "../../durable-objects/selection/turn-context";
import { bundledKernels } from "../../wasm/src/bundled";
import { hashEmbedder } from "../../durable-objects/episodes/embedder";
import { DEFAULT_SETTINGS } from "../../durable-objects/conversation/settings";

const env = rawEnv as unknown as Env;
const TOPICS = ["sourdough starter hydration", "marathon training pace", "tax return deadline", "garden tomato blight"];

describe("lexical index cap (workerd SQLite)", () => {
  it("past the cap, no lexical mirror and a segment-ranked context within budget; under it, ranked messages", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`lexical-cap-${crypto.randomUUID()}`));
    const messages = Array.from({ length: 400 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `about the ${TOPICS[i % 4]} again, note ${i}` }));
    await stub.importMessages(messages as never);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      const store = new ConversationStore(sqlOver(state.storage.sql), (fn) => state.storage.transactionSync(fn));
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
