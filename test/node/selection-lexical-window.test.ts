import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MIN_LEXICAL_WINDOW, nextLexicalFloor } from "../../durable-objects/selection/lexical-window";

describe("nextLexicalFloor", () => {
  it("moves the floor forward to keep ¾ of the messages that fitted, ending at the newest; null under the minimum window", () => {
    fc.assert(fc.property(fc.nat(1 << 22), fc.integer({ min: 1, max: 1 << 20 }), fc.nat(1 << 20), (floor, built, appended) => {
      const reached = floor + built; // the seq at which the build passed the cap
      const last = reached + appended;
      const next = nextLexicalFloor(floor, reached, last);
      const keep = Math.floor((built * 3) / 4);
      if (keep < MIN_LEXICAL_WINDOW) {
        expect(next).toBeNull();
        return;
      }
      expect(next).not.toBeNull();
      expect(next!).toBeGreaterThan(floor); // always progress: the same window is never built twice
      expect(next!).toBeLessThanOrEqual(last);
      expect(last + 1 - next!).toBeLessThanOrEqual(keep); // at most ¾ of what fitted: a quarter of the cap left for appends
      if (last + 1 - keep > floor) expect(last + 1 - next!).toBe(keep);
    }), { numRuns: 500 });
    expect(nextLexicalFloor(0, 131_071, 999_999)).toBe(1_000_000 - 98_303);
    // A stale `last` below `reached` still moves the floor by a quarter of what was built, not by one message.
    expect(nextLexicalFloor(1000, 9000, 5000)).toBe(9001 - 6000);
  });
});
