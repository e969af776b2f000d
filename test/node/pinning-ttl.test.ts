// Continuum-style pinning TTL (durable-objects/conversation/pinning.ts) and the turn queue
// that orders a conversation's turns (durable-objects/conversation/turn-queue.ts).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { activePin, afterTurn, DEFAULT_TTL_MS, MAX_TOOLS, MAX_TTL_MS, MIN_TTL_MS, observe, predictTtlMs, toolNames, type PinningState } from "../../durable-objects/conversation/pinning";
import { ConversationBusyError, TurnQueue } from "../../durable-objects/conversation/turn-queue";

describe("tool duration prediction", () => {
  it("starts from the first sample, follows a steady tool, and widens for a jittery one", () => {
    let steady = {};
    for (let i = 0; i < 30; i++) steady = observe(steady, "search", 2000);
    expect(predictTtlMs(steady, ["search"])).toBeGreaterThanOrEqual(2000);
    expect(predictTtlMs(steady, ["search"])).toBeLessThan(2100);
    let jittery = {};
    for (let i = 0; i < 30; i++) jittery = observe(jittery, "search", i % 2 ? 1000 : 3000);
    expect(predictTtlMs(jittery, ["search"])).toBeGreaterThan(predictTtlMs(steady, ["search"]) + 1000);
    expect(predictTtlMs({}, ["never-seen"])).toBe(DEFAULT_TTL_MS);
    expect(predictTtlMs(steady, [])).toBe(0);
  });

  it("always predicts within [MIN, MAX] and ignores impossible samples", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.double({ min: -1e9, max: 1e9 })), { maxLength: 50 }), (samples) => {
        let t = {};
        for (const [tool, ms] of samples) t = observe(t, tool, ms);
        for (const tool of ["a", "b", "c"]) {
          const ttl = predictTtlMs(t, [tool]);
          expect(ttl === DEFAULT_TTL_MS || (ttl >= MIN_TTL_MS && ttl <= MAX_TTL_MS)).toBe(true);
        }
        expect(observe(t, "a", Number.NaN)).toBe(t);
      }),
    );
  });

  it("forgets the least observed tools past MAX_TOOLS", () => {
    let t = {};
    for (let i = 0; i < MAX_TOOLS + 10; i++) t = observe(t, `tool-${i}`, 100);
    expect(Object.keys(t).length).toBe(MAX_TOOLS);
    expect(Object.keys(t)).toContain(`tool-${MAX_TOOLS + 9}`);
  });
});

describe("pin lifecycle", () => {
  const empty: PinningState = { pin: null, timings: {} };

  it("pins after a tool call, times the tool when its result arrives, releases after a plain reply", () => {
    const s1 = afterTurn(empty, { backend: "gpu-a", toolCalls: ["search"], toolResults: false, arrivedAt: 0, now: 1000 });
    expect(s1.pin).toEqual({ backend: "gpu-a", tools: ["search"], started_at: 1000, until: 1000 + DEFAULT_TTL_MS });
    expect(activePin(s1.pin, 1000 + DEFAULT_TTL_MS - 1)?.backend).toBe("gpu-a");
    expect(activePin(s1.pin, 1000 + DEFAULT_TTL_MS)).toBeNull();
    const s2 = afterTurn(s1, { backend: "gpu-a", toolCalls: ["search"], toolResults: true, arrivedAt: 4000, now: 5000 });
    expect(s2.timings.search).toEqual({ mean: 3000, dev: 1500, n: 1 });
    expect(s2.pin!.until).toBe(5000 + 3000 + 2 * 1500);
    const s3 = afterTurn(s2, { backend: "gpu-b", toolCalls: [], toolResults: true, arrivedAt: 6000, now: 7000 });
    expect(s3.pin).toBeNull();
    expect(s3.timings.search!.n).toBe(2);
  });

  it("reads tool names from OpenAI tool_calls", () => {
    expect(toolNames([{ type: "function", function: { name: "get_weather" } }, {}, null])).toEqual(["get_weather", "unknown", "unknown"]);
    expect(toolNames(undefined)).toEqual([]);
  });
});

describe("turn queue", () => {
  it("grants the conversation in arrival order, one holder at a time", async () => {
    const q = new TurnQueue({ maxWaiting: 10 });
    const order: number[] = [];
    const t0 = await q.acquire(60_000);
    const waiting = [1, 2, 3].map((i) => q.acquire(60_000).then((t) => {
      order.push(i);
      return t;
    }));
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(q.release(t0)).toBe(true);
    expect(q.release(t0)).toBe(false);
    for (const p of waiting) q.release(await p);
    expect(order).toEqual([1, 2, 3]);
  });

  it("hands the conversation on when a lease runs out, and refuses past maxWaiting", async () => {
    const timers: (() => void)[] = [];
    const q = new TurnQueue({ maxWaiting: 1, setTimer: (fn) => timers.push(fn), clearTimer: () => {} });
    const t0 = await q.acquire(100);
    const next = q.acquire(100);
    await expect(q.acquire(100)).rejects.toBeInstanceOf(ConversationBusyError);
    timers[0]!(); // t0's lease expires
    const t1 = await next;
    expect(q.holds(t1)).toBe(true);
    expect(q.release(t0)).toBe(false); // the late holder cannot release someone else's turn
  });

  it("arms no timer for a lone holder; the next turn takes over a lapsed lease", async () => {
    let now = 1000;
    const timers: (() => void)[] = [];
    const q = new TurnQueue({ maxWaiting: 4, now: () => now, setTimer: (fn) => timers.push(fn), clearTimer: () => {} });
    const t0 = await q.acquire(100);
    expect(q.release(t0)).toBe(true);
    const t1 = await q.acquire(100);
    expect(timers).toHaveLength(0); // nobody waited: no timer armed or cleared
    now += 100; // t1's holder vanished; its lease has run out
    const t2 = await q.acquire(100);
    expect(q.holds(t2)).toBe(true);
    expect(q.release(t1)).toBe(false);
    // A waiter arms one timer for the holder's remaining lease; the waiter it promotes gets its own.
    const t3 = q.acquire(100);
    expect(timers).toHaveLength(1);
    const t4 = q.acquire(100);
    expect(timers).toHaveLength(1);
    timers[0]!();
    expect(q.holds(await t3)).toBe(true);
    expect(timers).toHaveLength(2); // t4 still waits behind t3
    expect(q.release(await t3)).toBe(true);
    expect(q.holds(await t4)).toBe(true);
  });
});
