// scripts/profile-turns.ts reads a V8 CPU profile (the inspector's
// Profiler.stop): self time where samples landed, total time up the call
// tree, a recursive function counted once per sample.
import { describe, expect, it } from "vitest";
import { profileTimes } from "../../scripts/profile-turns";

const frame = (functionName: string, lineNumber = 0) => ({ functionName, url: "file:///b/index.js", lineNumber });

describe("profileTimes", () => {
  it("sums self time per function and total time over callers, recursion once", () => {
    // root → turn → rank → rank (recursive) ; root → idle
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2, 5] },
        { id: 2, callFrame: frame("turn", 9), children: [3] },
        { id: 3, callFrame: frame("rank", 20), children: [4] },
        { id: 4, callFrame: frame("rank", 20) },
        { id: 5, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
      ],
      samples: [4, 3, 2, 5, 4],
      timeDeltas: [100, 200, 50, 1000, 100],
    };
    const byName = new Map(profileTimes(profile).map((r) => [r.name, r]));
    expect(byName.get("rank index.js:21")).toEqual({ name: "rank index.js:21", self: 400, total: 400 });
    expect(byName.get("turn index.js:10")).toEqual({ name: "turn index.js:10", self: 50, total: 450 });
    expect(byName.get("(idle) (native):0")!.self).toBe(1000);
    expect(byName.has("(root) index.js:1")).toBe(false); // no sample landed in it
  });

  it("refuses a sample naming a node the profile does not have", () => {
    expect(() => profileTimes({ nodes: [{ id: 1, callFrame: frame("f") }], samples: [7], timeDeltas: [1] })).toThrow(/sample 0 names node 7/);
  });

  it("takes an empty profile and a sample without its time delta", () => {
    expect(profileTimes({ nodes: [{ id: 1, callFrame: frame("f") }], samples: [], timeDeltas: [] })).toEqual([]);
    expect(profileTimes({ nodes: [{ id: 1, callFrame: frame("f") }], samples: [1], timeDeltas: [] })).toEqual([{ name: "f index.js:1", self: 0, total: 0 }]);
  });
});
