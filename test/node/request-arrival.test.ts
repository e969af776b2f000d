// worker/http/request-arrival.ts: a request's arrival is stamped once, by the first caller (the metrics middleware).
import { afterEach, describe, expect, it, vi } from "vitest";
import { requestArrival } from "../../worker/http/request-arrival";

describe("requestArrival", () => {
  afterEach(() => vi.useRealTimers());

  it("keeps the first stamp for a request, whenever it is asked again; each request has its own", () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000);
    const first = new Request("http://epikv.test/v1/chat/completions", { method: "POST", body: "{}" });
    expect(requestArrival(first)).toBe(1_000);
    vi.setSystemTime(1_250); // the body read, authentication and rate limit took a while
    expect(requestArrival(first)).toBe(1_000);
    const second = new Request("http://epikv.test/v1/chat/completions", { method: "POST", body: "{}" });
    expect(requestArrival(second)).toBe(1_250);
  });
});
