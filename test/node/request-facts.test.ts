// worker/http/request-path.ts: facts about a request computed once — its arrival, stamped by the first caller (the metrics middleware), and its path.
import { afterEach, describe, expect, it, vi } from "vitest";
import { requestArrival, requestPathname } from "../../worker/http/request-path";

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

  it("gives a request's path as the URL's pathname: query and fragment left out, percent-escapes kept", () => {
    const request = new Request("http://epikv.test/v1/conversations/a%20b/messages?limit=5#x");
    expect(requestPathname(request)).toBe("/v1/conversations/a%20b/messages");
    expect(requestPathname(new Request("http://epikv.test/healthz"))).toBe("/healthz");
  });
});
