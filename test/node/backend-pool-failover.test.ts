// Backend pool ordering, passive health and retry/failover (worker/backend/{pool,health,retry}.ts).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { BackendsConfigError, backendsForModel, orderCandidates, parseBackends, type BackendSpec } from "../../worker/backend/pool";
import { BackendHealth } from "../../worker/backend/health";
import { backoffMs, BACKOFF_CAP_MS, isRetryable, withFailover } from "../../worker/backend/retry";
import { ApiError, upstreamError } from "../../worker/http/api-error";

const specs: BackendSpec[] = parseBackends(
  JSON.stringify([
    { name: "a", url: "http://a/v1", models: ["m1"] },
    { name: "b", url: "http://b/v1/", models: ["m1", "m2"] },
    { name: "c", url: "http://c/v1" },
  ]),
);

describe("BACKENDS", () => {
  it("parses names, urls (trailing slash dropped) and model lists; null = any model", () => {
    expect(specs.map((s) => [s.name, s.url, s.models])).toEqual([["a", "http://a/v1", ["m1"]], ["b", "http://b/v1", ["m1", "m2"]], ["c", "http://c/v1", null]]);
  });

  it("refuses malformed configuration", () => {
    for (const raw of ["", "{}", "[]", '[{"name":"a"}]', '[{"name":"a","url":"ftp://x"}]', '[{"name":"a","url":"http://x"},{"name":"a","url":"http://y"}]', '[{"name":"a","url":"http://x","models":[1]}]']) {
      expect(() => parseBackends(raw), raw).toThrow(BackendsConfigError);
    }
  });

  it("answers 404 model_not_found when no backend serves the model", () => {
    const only = specs.filter((s) => s.models !== null);
    expect(backendsForModel(only, "m2").map((s) => s.name)).toEqual(["b"]);
    expect(backendsForModel(specs, "zzz").map((s) => s.name)).toEqual(["c"]);
    let err: ApiError | undefined;
    try {
      backendsForModel(only, "zzz");
    } catch (e) {
      err = e as ApiError;
    }
    expect([err?.status, err?.code]).toEqual([404, "model_not_found"]);
  });
});

describe("candidate order", () => {
  it("puts the pinned backend first, then healthy ones by a stable per-conversation hash, then cooling ones", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(null, "a", "b", "c"), fc.subarray(["a", "b", "c"]), (conv, pinned, sick) => {
        const order = orderCandidates(specs, conv, pinned, (n) => !sick.includes(n)).map((s) => s.name);
        expect([...order].sort()).toEqual(["a", "b", "c"]);
        if (pinned) expect(order[0]).toBe(pinned);
        const rest = order.filter((n) => n !== pinned);
        const firstSick = rest.findIndex((n) => sick.includes(n));
        if (firstSick >= 0) expect(rest.slice(firstSick).every((n) => sick.includes(n))).toBe(true);
        expect(orderCandidates(specs, conv, pinned, (n) => !sick.includes(n)).map((s) => s.name)).toEqual(order);
      }),
    );
  });

  it("spreads conversations over the backends", () => {
    const firsts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const n = orderCandidates(specs, `conv-${i}`, null, () => true)[0]!.name;
      firsts.set(n, (firsts.get(n) ?? 0) + 1);
    }
    for (const n of ["a", "b", "c"]) expect(firsts.get(n)!).toBeGreaterThan(800);
  });
});

describe("passive health", () => {
  it("cools a failed backend down, longer on repeated failures, and clears it on success", () => {
    const h = new BackendHealth();
    h.markFailure("a", 0, 1000);
    expect(h.isHealthy("a", 999)).toBe(false);
    expect(h.isHealthy("a", 1000)).toBe(true);
    h.markFailure("a", 1000, 1000);
    expect(h.isHealthy("a", 2999)).toBe(false);
    h.markSuccess("a");
    expect(h.isHealthy("a", 1001)).toBe(true);
  });
});

describe("retry and failover", () => {
  const noSleep = { sleep: async () => {}, random: () => 0.5 };

  it("retries connect failures, 5xx and timeouts on the next candidate; never 4xx or bad answers", async () => {
    expect(isRetryable(upstreamError(502, "x", "upstream_unreachable"))).toBe(true);
    expect(isRetryable(upstreamError(502, "x", "upstream_status_503"))).toBe(true);
    expect(isRetryable(upstreamError(504, "x", "upstream_timeout"))).toBe(true);
    expect(isRetryable(upstreamError(502, "x", "upstream_status_400"))).toBe(false);
    expect(isRetryable(upstreamError(502, "x", "upstream_invalid_response"))).toBe(false);
    expect(isRetryable(new Error("boom"))).toBe(false);

    const calls: string[] = [];
    const failed: string[] = [];
    const out = await withFailover(specs, async (s) => {
      calls.push(s.name);
      if (s.name !== "c") throw upstreamError(502, "down", "upstream_unreachable");
      return 42;
    }, { retries: 2, onFailure: (s) => failed.push(s.name), ...noSleep });
    expect([out.value, out.spec.name, calls, failed]).toEqual([42, "c", ["a", "b", "c"], ["a", "b"]]);
  });

  it("stops at the first non-retryable error and after retries + 1 attempts", async () => {
    const calls: string[] = [];
    await expect(withFailover(specs, async (s) => {
      calls.push(s.name);
      throw upstreamError(502, "bad request", "upstream_status_400");
    }, { retries: 5, ...noSleep })).rejects.toMatchObject({ code: "upstream_status_400" });
    expect(calls).toEqual(["a"]);
    const again: string[] = [];
    await expect(withFailover(specs.slice(0, 1), async (s) => {
      again.push(s.name);
      throw upstreamError(502, "x", "upstream_status_500");
    }, { retries: 3, ...noSleep })).rejects.toMatchObject({ code: "upstream_status_500" });
    expect(again).toEqual(["a", "a", "a", "a"]);
  });

  it("backs off with capped full jitter", () => {
    expect(backoffMs(1, () => 0.999)).toBeLessThan(50);
    expect(backoffMs(30, () => 0.999)).toBeLessThan(BACKOFF_CAP_MS);
    expect(backoffMs(3, () => 0)).toBe(0);
  });
});
