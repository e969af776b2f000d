// The benchmark's "js" implementations (scripts/bench/js/) must compute the
// same thing as the oracles, or the speed-ups in docs/kernels.md would compare
// different work; and the runner's --quick --json output keeps its shape.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { retrievalOracle as oracle } from "../../wasm/oracle/retrieval";
import { mulberry32 } from "../../protocol/mulberry32";
import { jsCosineScores, jsDotScores } from "../../scripts/bench/js/similarity";
import { jsColumnScores } from "../../scripts/bench/js/column-scores";
import { jsTopK } from "../../scripts/bench/js/topk";
import { jsAssign, jsCentroids } from "../../scripts/bench/js/kmeans";
import { jsEmbedText } from "../../scripts/bench/js/embed";

const random = mulberry32(77);
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => random() * 2 - 1);

describe("benchmark plain-JS loops agree with the oracles", () => {
  it("jsColumnScores", () => {
    for (const [n, dim, pad] of [[0, 3, 1], [1, 1, 0], [7, 5, 2], [9, 384, 0], [17, 13, 3]] as const) {
      const stride = n + pad || 1;
      const cols = rand(dim * stride);
      const q = rand(dim).map((v, j) => (j % 3 === 1 ? 0 : v));
      const indices = Int32Array.from(Array.from(q.keys()).filter((j) => q[j] !== 0));
      const values = Float32Array.from(indices, (j) => q[j]!);
      const out = new Float32Array(n).fill(NaN);
      jsColumnScores(q, cols, stride, n, out);
      const want = oracle.columnScores(cols, stride, n, indices, values);
      out.forEach((v, i) => {
        let mag = 0;
        indices.forEach((j, k) => (mag += Math.abs(values[k]! * cols[j * stride + i]!)));
        expect(Math.abs(v - want[i]!), `row ${i}`).toBeLessThanOrEqual(2e-5 * mag + 1e-7); // f64 JS sums vs f32 steps
      });
    }
  });

  it("jsDotScores / jsCosineScores", () => {
    for (const [n, dim] of [[0, 3], [1, 1], [7, 5], [9, 384], [17, 13]] as const) {
      const q = rand(dim);
      const rows = rand(n * dim);
      const out = new Float32Array(n);
      jsDotScores(q, rows, n, dim, out);
      const want = oracle.dotScores(q, rows, dim);
      out.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
      jsCosineScores(q, rows, n, dim, out);
      const wantCos = oracle.cosineScores(q, rows, dim);
      out.forEach((v, i) => expect(v).toBeCloseTo(wantCos[i]!, 5));
    }
  });

  it("jsTopK, with ties and NaN", () => {
    const scores = Float32Array.from({ length: 500 }, () => (random() < 0.05 ? NaN : Math.floor(random() * 30)));
    for (const k of [1, 10, 499, 500]) {
      const got = jsTopK(scores, k);
      expect(Array.from(got.indices)).toEqual(Array.from(oracle.topK(scores, k).indices));
    }
  });

  it("jsAssign + jsCentroids iterated give the oracle's k-means fixed point (even and odd n, k not ×4)", () => {
    const dim = 6;
    for (const [n, k] of [[200, 4], [201, 5]] as const) {
      const data = rand(n * dim);
      const seeded = oracle.kmeans(data, dim, { k, seed: 2, maxIter: 0, nInit: 1 });
      const full = oracle.kmeans(data, dim, { k, seed: 2, nInit: 1, tol: 0 });
      const cent = seeded.centroids.slice();
      const labels = new Int32Array(n).fill(-1);
      const dists = new Float32Array(n);
      const sums = new Float64Array(k * dim);
      const counts = new Int32Array(k);
      for (let it = 0; it < 300; it++) {
        const changed = jsAssign(data, n, dim, cent, k, labels, dists, sums, counts);
        if (it > 0 && changed === 0) break;
        jsCentroids(sums, counts, k, dim, cent);
      }
      expect(Array.from(labels)).toEqual(Array.from(full.labels));
    }
  });

  it("jsEmbedText", () => {
    for (const text of ["", "Hello hello world", "a b a b c — Ünïcödé 東京"]) {
      const got = jsEmbedText(text, 64);
      const want = oracle.embedText(text, { dim: 64 });
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    }
  });
});

describe("npm run bench:kernels -- --quick --json", () => {
  it("prints one JSON object with every retrieval case, medians, ratios and targets", () => {
    const stdout = execFileSync("node_modules/.bin/tsx", ["scripts/bench-kernels.ts", "--quick", "--json", "--filter", "retrieval"], {
      encoding: "utf8",
      timeout: 30_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const report = JSON.parse(stdout) as {
      quick: boolean;
      cases: { file: string; kernel: string; impls: Record<string, { medianMs: number }>; ratios: Record<string, number>; targets: { met: boolean; ratio: number | null }[] }[];
    };
    expect(report.quick).toBe(true);
    const kernels = report.cases.map((c) => c.kernel);
    for (const k of ["dotScores", "dotScores+topK", "topK", "kmeans (one Lloyd iteration)", "embedText"]) expect(kernels).toContain(k);
    for (const c of report.cases) {
      expect(c.file).toBe("retrieval");
      expect(c.impls.wasm!.medianMs).toBeGreaterThan(0);
      expect(c.ratios["wasm/js"]).toBeGreaterThan(0);
      for (const t of c.targets) expect(typeof t.met).toBe("boolean");
    }
    expect(report.cases.find((c) => c.kernel === "dotScores+topK")!.impls.native).toBeDefined();
  });
});
