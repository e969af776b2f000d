// The segment index's window on real Durable Object SQLite: it holds the
// latest `indexWindow` segments (MAX_INDEXED_SEGMENTS in the object), the
// oldest leave in chunks as committed appends arrive, and a turn ranks from
// it without reading embeddings from SQLite (docs/memory.md). A
// re-clustering re-labels the same window; older segments keep their
// episode.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env as rawEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../worker/env";
import type { ConversationStore } from "../../durable-objects/conversation/conversation-store";
import { ConversationMirrors, INDEX_EVICTION_PARTS } from "../../durable-objects/selection/mirrors";
import type { SegmentIndex } from "../../durable-objects/selection/segment-index";
import { turnContext } from "../../durable-objects/selection/turn-context";
import { bundledKernels } from "../../wasm/src/bundled";
import { hashEmbedder } from "../../durable-objects/episodes/embedder";
import { DEFAULT_SETTINGS } from "../../durable-objects/conversation/settings";
import { prepareAppend, writeAppend } from "../../durable-objects/conversation/ingest";
import { applyRefit, planRefit } from "../../durable-objects/episodes/episode-refit";
import { kernelsModule } from "../../wasm/src/bundled";
import { storeOf } from "./support/conversation-store";

const env = rawEnv as unknown as Env;
const TOPICS = ["sourdough starter hydration", "marathon training pace", "tax return deadline", "garden tomato blight"];
const say = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ role: (from + k) % 2 ? "assistant" : "user", content: `about the ${TOPICS[(from + k) % 4]} again, note ${from + k}` }));

/** Segment ids the index holds, over every episode, ascending. */
function indexedIds(index: SegmentIndex, store: ConversationStore): number[] {
  const q = new Float32Array(index.dim).fill(1);
  return store.episodes().flatMap((e) => Array.from(index.scoreEpisode(e.id, q).ids.subarray(0, index.scoreEpisode(e.id, q).count))).sort((a, b) => a - b);
}

describe("segment index window (workerd SQLite)", () => {
  it("builds over the latest segments, drops the oldest as appends commit, and a turn ranks from it", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`index-window-${crypto.randomUUID()}`));
    await stub.importMessages(say(0, 400) as never);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      const store = storeOf(state);
      const window = 32;
      const mirrors = new ConversationMirrors(store, undefined, window);
      const index = mirrors.segmentIndex()!;
      const n = store.counter("segments");
      expect(n).toBeGreaterThan(window);
      expect(index.size).toBe(window);
      expect(indexedIds(index, store)).toEqual(Array.from({ length: window }, (_, i) => n - window + 1 + i));

      // A committed append (as the object writes one) moves the window by a chunk.
      const embedder = hashEmbedder(bundledKernels());
      const prepared = await prepareAppend(store, say(400, 40) as never, DEFAULT_SETTINGS.window, 4, embedder, Date.now());
      const indexed = store.transaction(() => writeAppend(store, prepared, embedder, DEFAULT_SETTINGS.episodes, mirrors.clusterIdf()));
      expect(indexed.length).toBeGreaterThan(0);
      mirrors.followAppend(prepared.rows, indexed);
      expect(mirrors.segmentIndex()).toBe(index); // moved, not rebuilt
      const after = store.counter("segments");
      const kept = window - Math.ceil(window / INDEX_EVICTION_PARTS);
      expect(index.size).toBe(kept);
      expect(indexedIds(index, store)).toEqual(Array.from({ length: kept }, (_, i) => after - kept + 1 + i));

      const context = await turnContext({ store, mirrors, kernels: bundledKernels(), embedder, settings: DEFAULT_SETTINGS, charsPerToken: 4 }, "how is the marathon training pace?", 600, []);
      expect(context.used_tokens).toBeLessThanOrEqual(600);
      expect(context.messages.length).toBeGreaterThan(0);
    });
  });

  it("a re-clustering re-labels the latest window; older segments keep their episode (renamed when its id went away)", async () => {
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`refit-window-${crypto.randomUUID()}`));
    await stub.importMessages(say(0, 400) as never);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      const store = storeOf(state);
      const n = store.counter("segments");
      const whole = planRefit(store, kernelsModule, DEFAULT_SETTINGS.episodes, true, n)!;
      expect(whole.floor).toBe(0);
      expect(whole.labels.length).toBe(n);
      expect(whole.renamed).toEqual([]);
      expect(planRefit(store, kernelsModule, DEFAULT_SETTINGS.episodes, true)).toEqual(whole); // REFIT_WINDOW ≥ n: the whole conversation

      const window = 32;
      const plan = planRefit(store, kernelsModule, DEFAULT_SETTINGS.episodes, true, window)!;
      expect(plan.floor).toBe(n - window);
      expect(plan.labels.map((l) => l.id)).toEqual(Array.from({ length: window }, (_, i) => n - window + 1 + i));
      expect(plan.episodes.reduce((s, e) => s + e.size, 0)).toBe(n);
      const before = new Map(store.episodes().flatMap((e) => store.segmentsOfEpisode(e.id).map((s) => [s.id, e.id] as const)));
      store.transaction(() => applyRefit(store, plan));
      const ids = new Set(plan.episodes.map((e) => e.id));
      const renamed = new Map(plan.renamed.map((r) => [r.from, r.to]));
      for (const e of store.episodes()) {
        expect(ids.has(e.id)).toBe(true);
        for (const s of store.segmentsOfEpisode(e.id)) {
          if (s.id > plan.floor) expect(e.id).toBe(plan.labels[s.id - plan.floor - 1]!.episode);
          else expect(e.id).toBe(renamed.get(before.get(s.id)!) ?? before.get(s.id));
        }
      }
      expect(store.episodes().reduce((s, e) => s + store.segmentsOfEpisode(e.id).length, 0)).toBe(n);
    });
  });
});
