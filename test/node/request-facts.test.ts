// worker/http/request-path.ts: facts about a request several middlewares read — its arrival, stamped by the first caller (the metrics middleware), and its path.
import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { requestArrival, requestPathname } from "../../worker/http/request-path";

describe("requestArrival", () => {
  afterEach(() => vi.useRealTimers());

  it("keeps the first stamp for a request, whenever it is asked again; each request has its own", async () => {
    vi.useFakeTimers();
    const app = new Hono();
    app.use("*", async (c, next) => {
      requestArrival(c);
      vi.setSystemTime(Date.now() + 250); // the body read, authentication and rate limit took a while
      await next();
    });
    app.get("/t", (c) => c.json({ arrived: requestArrival(c), now: Date.now() }));
    vi.setSystemTime(1_000);
    expect(await (await app.request("/t")).json()).toEqual({ arrived: 1_000, now: 1_250 });
    expect(await (await app.request("/t")).json()).toEqual({ arrived: 1_250, now: 1_500 });
  });
});

describe("requestPathname", () => {
  it("gives the URL's pathname: query and fragment left out, percent-escapes kept", () => {
    const request = new Request("http://epikv.test/v1/conversations/a%20b/messages?limit=5#x");
    expect(requestPathname(request)).toBe("/v1/conversations/a%20b/messages");
    expect(requestPathname(new Request("http://epikv.test/healthz"))).toBe("/healthz");
    expect(requestPathname(new Request("http://epikv.test"))).toBe("/");
    expect(requestPathname(new Request("http://epikv.test:8787/a?b/c"))).toBe("/a");
    expect(requestPathname(new Request("http://epikv.test/a#b?c"))).toBe("/a");
  });

  it("equals URL.pathname on random normalised URLs", () => {
    const pieces = ["v1", "conversations", "a%20b", "x.y", "~", "%2F", "ü", "chat", ""];
    for (let i = 0; i < 500; i++) {
      const segs = Array.from({ length: 1 + (i % 5) }, (_, j) => pieces[(i * 7 + j * 3) % pieces.length]);
      const tail = ["", "?q=1/2", "#f", "?a#b", "?"][i % 5];
      const request = new Request(`http://host${i % 2 ? ":8787" : ""}/${segs.join("/")}${tail}`);
      expect(requestPathname(request)).toBe(new URL(request.url).pathname);
    }
  });
});
