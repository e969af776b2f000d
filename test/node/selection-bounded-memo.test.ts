import { describe, expect, it } from "vitest";
import { boundedMemo } from "../../durable-objects/selection/bounded-memo";

describe("boundedMemo", () => {
  it("computes a key once while it is remembered, and starts over at its bound", () => {
    const computed: string[] = [];
    const upper = boundedMemo(3, (w: string) => (computed.push(w), w.toUpperCase()));
    expect([upper("a"), upper("b"), upper("a"), upper("c"), upper("b")]).toEqual(["A", "B", "A", "C", "B"]);
    expect(computed).toEqual(["a", "b", "c"]);
    upper("d"); // the fourth key: the memo is cleared first
    upper("a");
    expect(computed).toEqual(["a", "b", "c", "d", "a"]);
  });
});
