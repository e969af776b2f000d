// Token bucket of the per-key rate limit (worker/limits/token-bucket.ts), driven by a fake clock.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fullBucket, take } from "../../worker/limits/token-bucket";
import { checkChatLimits } from "../../worker/limits/request-limits";
import { ApiError } from "../../worker/http/api-error";

describe("token bucket", () => {
  it("allows a burst, then refuses with the wait until the next token", () => {
    const config = { ratePerSecond: 2, burst: 3 };
    const b = fullBucket(config, 0);
    expect([take(b, config, 0), take(b, config, 0), take(b, config, 0)].every((r) => r.ok)).toBe(true);
    const refused = take(b, config, 0);
    expect(refused).toEqual({ ok: false, retryAfterMs: 500 });
    expect(take(b, config, 499).ok).toBe(false);
    expect(take(b, config, 500).ok).toBe(true);
  });

  it("never admits more than burst + rate × elapsed over any schedule", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 100, noNaN: true }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 300 }), (rate, burst, gaps) => {
        const config = { ratePerSecond: rate, burst };
        const b = fullBucket(config, 0);
        let now = 0;
        let admitted = 0;
        for (const g of gaps) {
          now += g;
          const r = take(b, config, now);
          if (r.ok) admitted++;
          else expect(r.retryAfterMs).toBeGreaterThan(0);
        }
        expect(admitted).toBeLessThanOrEqual(burst + Math.floor((rate * now) / 1000) + 1);
      }),
    );
  });
});

describe("chat request limits", () => {
  it("refuses too many messages and over-long content with named params", () => {
    const msgs = Array.from({ length: 5 }, () => ({ role: "user" as const, content: "x" }));
    expect(() => checkChatLimits(msgs, 5)).not.toThrow();
    const tooMany = (() => { try { checkChatLimits(msgs, 4); } catch (e) { return e as ApiError; } })()!;
    expect([tooMany.status, tooMany.code, tooMany.param]).toEqual([400, "too_many_messages", "messages"]);
    const long = [{ role: "user" as const, content: "é".repeat(300_000) }];
    const tooLong = (() => { try { checkChatLimits(long, 5); } catch (e) { return e as ApiError; } })()!;
    expect([tooLong.status, tooLong.code, tooLong.param]).toEqual([400, "message_too_long", "messages[0].content"]);
  });
});
