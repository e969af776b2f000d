import { describe, expect, it } from "vitest";
import { BoundedMap, boundedMemo } from "../../durable-objects/selection/bounded-memo";

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

  it("BoundedMap: overwriting a key at the bound keeps the others; a new key starts over", () => {
    const m = new BoundedMap<number, string>(2);
    m.set(1, "a");
    m.set(2, "b");
    m.set(2, "B");
    expect([m.get(1), m.get(2), m.size]).toEqual(["a", "B", 2]);
    m.set(3, "c");
    expect([m.get(1), m.get(2), m.get(3), m.size]).toEqual([undefined, undefined, "c", 1]);
    m.clear();
    expect(m.size).toBe(0);
  });
});
