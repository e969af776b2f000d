// KvMode end to end in Node against the reference backend (memory stores:
// the SQLite stores are exercised in test/worker/kv-sqlite-stores.test.ts):
// profile once per model, per-layer budgets, turns streamed against an
// episode's cache + tail, turns folded into the caches, online growth
// (a new episode decodes on a copied cache at once; the background rebuild
// produces exactly the cache a from-scratch build with the new prompt
// gives), and handles falling back to bytes on a 409 miss.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvBackendError } from "../../durable-objects/kv/backend-client";
import { chatOpening, messageTokens, rolePrefix } from "../../durable-objects/kv/conversation-kv";
import { KvMode, DEFAULT_KV_SETTINGS, type KvModeSettings } from "../../durable-objects/kv/kv-mode";
import { MemoryPageStore } from "../../durable-objects/kv/page-store";
import { MemoryKvStateStore } from "../../durable-objects/kv/state-store";
import { encodeUtf8, startKvTestBackend, topicMessages, type KvTestBackend } from "./kv-helpers";

let t: KvTestBackend;
beforeAll(async () => {
  t = await startKvTestBackend();
});
afterAll(() => t.backend.close());

const settings: KvModeSettings = { ...DEFAULT_KV_SETTINGS, policy: "epicache", budget: { tokensPerHead: 40 }, blockSize: 64 };

async function openMode(pages = new MemoryPageStore(), state = new MemoryKvStateStore()): Promise<KvMode> {
  return KvMode.open({ client: t.client, pages, state, kernels: t.kernels }, settings);
}

function history(): number[] {
  const m = t.model;
  return [...chatOpening(m), ...topicMessages(12).flatMap((msg) => messageTokens(m, msg.role, encodeUtf8(msg.content)))];
}

async function streamTurn(mode: KvMode, episode: number | null, text: string): Promise<{ tokens: number[]; text: string; episode: number }> {
  const query = [...messageTokens(mode.model, "user", encodeUtf8(text)), ...rolePrefix(mode.model, "assistant")];
  const turn = mode.turn(episode, query, { maxTokens: 5 });
  const it = t.client.decodeStream(turn.request, turn.kv);
  let out = "";
  for (;;) {
    const n = await it.next();
    if (n.done) {
      mode.commitTurn(query, n.value.tokens);
      return { tokens: n.value.tokens, text: out, episode: turn.episode };
    }
    out += n.value.text;
  }
}

describe("KvMode", () => {
  it("profiles once, budgets every layer above zero, streams turns and folds them", async () => {
    const state = new MemoryKvStateStore();
    const mode = await openMode(new MemoryPageStore(), state);
    mode.setEpisodes([{ id: 0, promptTokens: encodeUtf8("About the garden: tomatoes.") }, { id: 1, promptTokens: encodeUtf8("About the trip: the train to Lisbon.") }]);
    mode.append(history());
    const { blocks } = await mode.fold();
    expect(blocks).toBe(Math.floor(history().length / 64));
    expect(state.get<number[]>(`profile:${t.model.id}:64`)).toHaveLength(t.model.layers);
    const budgets = mode.layerBudgets();
    expect(budgets).toHaveLength(t.model.layers);
    for (const b of budgets) expect(b).toBeGreaterThanOrEqual(Math.max(1, Math.floor(40 / 4)));
    const before = mode.tokenCount();
    const turn = await streamTurn(mode, 1, "When does the train leave?");
    expect(turn.tokens.length).toBeGreaterThan(0);
    expect(turn.episode).toBe(1);
    expect(mode.tokenCount()).toBeGreaterThan(before);
    // Reopening reads the stored model and profile: no second profile call changes them.
    const again = await openMode(new MemoryPageStore(), state);
    expect(again.layerBudgets()).toEqual(budgets);
  });

  it("online growth: a new episode decodes at once, its rebuild equals a from-scratch build", async () => {
    const pages = new MemoryPageStore();
    const mode = await openMode(pages);
    const promptA = encodeUtf8("About the garden: tomatoes need sun.");
    const promptB = encodeUtf8("About the budget: rent is due.");
    mode.setEpisodes([{ id: 0, promptTokens: promptA }]);
    mode.append(history());
    await mode.fold();
    const { queued } = mode.setEpisodes([{ id: 0, promptTokens: promptA }, { id: 7, promptTokens: promptB }]);
    expect(queued).toEqual([7]);
    // Before the background run: the turn does not wait; it decodes on an existing episode's cache.
    const early = await streamTurn(mode, 7, "How much is the rent?");
    expect(early.tokens.length).toBeGreaterThan(0);
    expect(early.episode).toBe(0);
    // The background run adds episode 7 on a copy of episode 0's cache (valid at once) and queues its rebuild.
    await mode.fold();
    const copied = mode.episodes().find((e) => e.id === 7)!;
    expect(pages.bytes(copied.cache)).toBe(pages.bytes(mode.episodes().find((e) => e.id === 0)!.cache));
    const onCopy = await streamTurn(mode, 7, "And the groceries?");
    expect(onCopy.episode).toBe(7);
    expect(await mode.runRebuilds()).toEqual([7]);
    const rebuilt = mode.episodes().find((e) => e.id === 7)!;
    expect(rebuilt.generation).toBeGreaterThan(copied.generation);
    expect(rebuilt.promptTokens).toEqual(promptB);
    // Reference: the same stream built from scratch with prompt B.
    const ref = await openMode();
    ref.setEpisodes([{ id: 7, promptTokens: promptB }]);
    // Same appends as the conversation (the stored profile is taken at the first fold).
    ref.append(history());
    await ref.fold();
    ref.append((mode as unknown as { state: MemoryKvStateStore }).state.readTokens(history().length, mode.folded()));
    await ref.fold();
    expect(ref.folded()).toBe(mode.folded());
    // Replaced generations are dropped (one swap later): only live caches and the last retired ones remain.
    const live = new Set(mode.episodes().map((e) => e.cache));
    expect(pages.bytes()).toBeLessThanOrEqual([...live].reduce((s, c) => s + pages.bytes(c), 0) * 2);
    for (let l = 0; l < t.model.layers; l++) {
      for (let h = 0; h < t.model.kvHeads; h++) {
        const a = pages.readHead(rebuilt.cache, l, h).map((p) => [...p.blob]);
        const b = (ref.engine.store as MemoryPageStore).readHead(ref.episodes()[0].cache, l, h).map((p) => [...p.blob]);
        expect(a.length).toBeGreaterThan(0);
        expect(a).toEqual(b);
      }
    }
  });

  it("a handle the backend no longer holds falls back to the bytes; a held one is used", async () => {
    const mode = await openMode();
    mode.setEpisodes([{ id: 0, promptTokens: encodeUtf8("About the puppy.") }]);
    mode.append(history());
    await mode.fold();
    const query = [...messageTokens(mode.model, "user", encodeUtf8("vet?")), ...rolePrefix(mode.model, "assistant")];
    const missed = mode.turn(0, query, { maxTokens: 4 }, "no-such-handle");
    const viaBytes = await t.client.frameCall("/kv/v1/decode", { ...missed.request, return_kv: false }, missed.kv);
    expect(viaBytes.usedHandle).toBe(false);
    // Without bytes to fall back on, the miss surfaces as a 409.
    await expect(t.client.frameCall("/kv/v1/decode", { ...missed.request, return_kv: false }, { handle: "no-such-handle", frame: null })).rejects.toMatchObject({ status: 409, code: "kv_handle_miss" } satisfies Partial<KvBackendError>);
    // Pin the episode cache + tail on the backend (prefill with keep), then decode the query by handle.
    const tail = missed.request.tokens as number[];
    const pin = await t.client.frameCall("/kv/v1/prefill", { tokens: tail.slice(0, tail.length - query.length), start_position: missed.request.start_position, keep: { ttl_s: 60 }, return_kv: false }, missed.kv);
    const handle = pin.response.kv_handle as string;
    expect(typeof handle).toBe("string");
    const start = (missed.request.start_position as number) + tail.length - query.length;
    const viaHandle = await t.client.frameCall("/kv/v1/decode", { model: t.model.id, tokens: query, start_position: start, max_tokens: 4, return_kv: false }, { handle, frame: null });
    expect(viaHandle.usedHandle).toBe(true);
    expect(viaHandle.response.tokens).toEqual(viaBytes.response.tokens);
    expect(viaHandle.bytesSent).toBeLessThan(viaBytes.bytesSent / 10);
  });
});
