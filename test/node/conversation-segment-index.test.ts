import { describe, expect, it } from "vitest";
import { arrayRowStore, SegmentIndex } from "../../durable-objects/segment-index";
import { loadWasmModule } from "../../wasm/src/node-module";
import { ResidentRows } from "../../wasm/src/bindings/retrieval";

const unit = (dim: number, hot: number, second = -1) => {
  const v = new Float32Array(dim);
  v[hot] = 1;
  if (second >= 0) v[second] = 1;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe("SegmentIndex", () => {
  for (const [name, factory] of [
    ["plain arrays", arrayRowStore],
    ["WASM ResidentRows", (capacity: number, dim: number) => ResidentRows.create(loadWasmModule(), capacity, dim)],
  ] as const) {
    it(`scores only the asked episode, across growth (${name})`, () => {
      const dim = 8;
      const index = new SegmentIndex(factory, dim);
      // 600 segments alternating between episodes 3 and 5 (forces growth past the initial capacity).
      for (let id = 1; id <= 600; id++) index.append(id, id % 2 ? 3 : 5, id * 4, id * 4 + 3, unit(dim, id % dim, (id * 3) % dim));
      expect(index.size).toBe(600);
      const q = unit(dim, 1);
      const scored = index.scoreEpisode(3, q);
      expect(scored.count).toBe(300);
      for (let i = 0; i < scored.count; i++) {
        const id = scored.ids[i]!;
        expect(id % 2).toBe(1);
        expect(scored.firstSeq[i]).toBe(id * 4);
        const expected = unit(dim, id % dim, (id * 3) % dim)[1]!;
        expect(scored.scores[i]).toBeCloseTo(expected, 5);
      }
      expect(index.scoreEpisode(99, q).count).toBe(0);
      const reps = index.scoreSegments(5, [2, 4, 7, 1000], q);
      expect(reps.map((r) => r.id)).toEqual([2, 4]); // 7 is in episode 3, 1000 unknown
    });
  }

  it("rejects out-of-order ids and wrong dimensions", () => {
    const index = new SegmentIndex(arrayRowStore, 4);
    index.append(5, 0, 0, 3, unit(4, 0));
    expect(() => index.append(4, 0, 4, 7, unit(4, 1))).toThrow(/out of order/);
    expect(() => index.append(6, 0, 4, 7, unit(3, 1))).toThrow(RangeError);
  });
});
