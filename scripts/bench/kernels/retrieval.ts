// Bench cases of the retrieval kernels (similarity scans, top-k, k-means,
// hashing embedder) for `npm run bench:kernels`. "wasm" is the SIMD module
// through its bindings, with matrices resident in WASM memory (copied in once
// at setup, like a Durable Object keeping its segment embeddings hot); "js"
// is the best plain-JS loop we could write (scripts/bench/js/); "native" is
// usearch's exactSearch, single-threaded; "read" is the memory roofline of
// the scan: a bare read of the same rows (WASM, four lockstep streams like the
// scan, one integer add per 16 bytes), so wasm/read near 1 means the scan runs
// at the speed memory delivers the rows; "relaxed" (Lloyd only) is the
// relaxed-SIMD build (f32x4.relaxed_madd, FMA), measured when
// wasm/build/kernels.relaxed.wasm exists and the runtime accepts it (`npm
// run bench:kernels` runs Node 20 with --experimental-wasm-relaxed-simd): the
// build the Worker runs (wasm/src/bundled.ts), so the Lloyd target is checked on it.
// The "columnScores" cases are one turn's segment scan at 100k messages
// (25,000 segments × 384, docs/conversation-state.md) for queries with 8, 32,
// 96 and 384 nonzero dims: "wasm" is ResidentColumns (column-major, reads
// only the nonzero columns; picking them is included), "rows" today's
// row-major ResidentRows scan, "js" the best plain-JS column loop; GB/s
// there counts the nnz columns read. All impls see the same inputs.
import { exactSearch, MetricKind } from "usearch";
import type { BenchCase, BenchOptions } from "../bench-case";
import { jsCosineScores, jsDotScores } from "../js/similarity";
import { jsTopK } from "../js/topk";
import { jsAssign, jsCentroids } from "../js/kmeans";
import { jsEmbedText } from "../js/embed";
import { ResidentColumns } from "../../../wasm/src/bindings/retrieval";
import { ResidentRows } from "../../../wasm/src/bindings/resident-rows";
import { jsColumnScores } from "../js/column-scores";
import { existsSync } from "node:fs";
import { loadWasmModule } from "../../../wasm/src/node-module";
import { wasmKernels } from "../../../wasm/src/wasm-kernels";
import { mulberry32 } from "../../../protocol/mulberry32";

const PARAGRAPH =
  "Last spring we moved the analytics pipeline from nightly batch jobs to a streaming design, " +
  "and the team spent weeks arguing about exactly-once delivery. In the end we kept Kafka for " +
  "ingestion, wrote idempotent consumers keyed by event id, and pushed deduplication into the " +
  "warehouse. Costs fell by about a third, but on-call load went up because late events now " +
  "trigger backfills. Next quarter we want alerts on consumer lag, a replay tool for the ops " +
  "team, and a clear owner for the schema registry, which nobody maintains today.";

function randomMatrix(random: () => number, target: Float32Array): Float32Array {
  for (let i = 0; i < target.length; i++) target[i] = random() - 0.5;
  return target;
}

export function cases(options: BenchOptions = { quick: false }): BenchCase[] {
  const random = mulberry32(2509_17396);
  const module = loadWasmModule();
  const kernels = wasmKernels(module);
  const dim = 384;

  // --- scans over resident rows -------------------------------------------------
  const n = options.quick ? 2000 : 100_000;
  const resident = ResidentRows.create(module, n, dim);
  randomMatrix(random, resident.rows());
  const rows = resident.rows().slice(); // the JS and usearch copy
  const query = randomMatrix(random, new Float32Array(dim));
  const queries4 = randomMatrix(random, new Float32Array(4 * dim));
  const jsOut = new Float32Array(n);
  const jsOut4 = new Float32Array(n);
  const scanShape = `${n} x ${dim} fp32`;
  const scanBytes = n * dim * 4;
  const k = 10;
  const LEXICAL_K = 512;

  // --- the same scan on rows that fit in L3 (compute bound rather than memory bound) ---
  const nSmall = options.quick ? 500 : 10_000;
  const small = ResidentRows.create(module, nSmall, dim);
  small.rows().set(rows.subarray(0, nSmall * dim));
  const rowsSmall = rows.slice(0, nSmall * dim);
  const jsOutSmall = new Float32Array(nSmall);

  // --- top-k on a score vector left in WASM memory by a scan -----------------------
  // (n × 1 rows holding the dot scores; a scan with query [1] leaves them as the last scores)
  const scoresJs = resident.dotScores(query);
  const scoreSource = ResidentRows.create(module, n, 1);
  scoreSource.rows().set(scoresJs);
  scoreSource.dotScoresView(Float32Array.of(1));
  const sparseJs = Float32Array.from(scoresJs, (v, i) => (i % 10 < 3 ? Math.abs(v) : 0));
  const sparseSource = ResidentRows.create(module, n, 1);
  sparseSource.rows().set(sparseJs);
  sparseSource.dotScoresView(Float32Array.of(1));

  // --- one Lloyd iteration --------------------------------------------------------
  const kn = options.quick ? 200 : 2000;
  const kk = 8;
  const points = ResidentRows.create(module, kn, dim);
  randomMatrix(random, points.rows());
  const pointsJs = points.rows().slice();
  const seeds = kernels.kmeans(pointsJs, dim, { k: kk, seed: 1, maxIter: 0, nInit: 1 }).centroids; // k-means++ only
  const wasmCent = seeds.slice();
  const wasmLabels = new Int32Array(kn).fill(-1);
  const jsCent = seeds.slice();
  const jsLabels = new Int32Array(kn).fill(-1);
  const jsDists = new Float32Array(kn);
  const jsSums = new Float64Array(kk * dim);
  const jsCounts = new Int32Array(kk);
  const relaxedLloyd = relaxedLloydIteration(pointsJs, kn, dim, seeds);

  // --- one turn's segment scan at 100k messages, column-major vs row-major ------------
  const segN = options.quick ? 1000 : 25_000;
  const segRows = ResidentRows.create(module, segN, dim);
  randomMatrix(random, segRows.rows());
  const segCols = ResidentColumns.create(module, segN, dim);
  for (let i = 0; i < segN; i++) segCols.writeRow(i, segRows.row(i));
  const segColsJs = new Float32Array(dim * segN);
  for (let j = 0; j < dim; j++) segColsJs.set(segCols.column(j), j * segN);
  const segOut = new Float32Array(segN);
  /** A query with `nnz` distinct nonzero dims, spread over all 384 (as hashed features are). */
  const sparseQuery = (nnz: number): Float32Array => {
    const q = new Float32Array(dim);
    const dims = Array.from({ length: dim }, (_, j) => j);
    for (let k = 0; k < nnz; k++) {
      const pick = k + Math.floor(random() * (dim - k));
      [dims[k], dims[pick]] = [dims[pick]!, dims[k]!];
      q[dims[k]!] = random() - 0.5 || 0.25;
    }
    return q;
  };
  // Each call scans with the next of QUERIES different queries (the same
  // sequence for every impl), so the columns a turn reads are not all still
  // in cache from the previous call: turn after turn, the query changes.
  const QUERIES = 16;
  const rotating = (nnz: number) => {
    const qs = Array.from({ length: QUERIES }, () => sparseQuery(nnz));
    let next = 0;
    return () => qs[next++ % QUERIES]!;
  };
  const columnCases = [8, 32, 96, 128, 192, 256, 384].flatMap((nnz): BenchCase[] => {
    const scan = rotating(nnz);
    const scanTop = rotating(nnz);
    return [
      {
        kernel: "columnScores",
        shape: `${segN} x ${dim} fp32, query nnz ${nnz}`,
        bytes: nnz * segN * 4,
        impls: {
          wasm: () => segCols.dotScoresView(scan()),
          rows: () => segRows.dotScoresView(scan()),
          js: () => jsColumnScores(scan(), segColsJs, segN, segN, segOut),
        },
      },
      {
        kernel: "columnScores+topK",
        shape: `${segN} x ${dim} fp32, query nnz ${nnz}, k = ${k}`,
        bytes: nnz * segN * 4,
        impls: {
          wasm: () => segCols.topKDot(scanTop(), k),
          rows: () => segRows.topKDot(scanTop(), k),
          js: () => {
            jsColumnScores(scanTop(), segColsJs, segN, segN, segOut);
            return jsTopK(segOut, k);
          },
        },
      },
    ];
  });

  const readRows = resident.kernelInstance.exports.readRowsRooflineF32!;
  const rowsPtr = resident.rows().byteOffset;

  return [
    {
      kernel: "dotScores",
      shape: `${scanShape}, resident`,
      bytes: scanBytes,
      impls: {
        wasm: () => resident.dotScoresView(query),
        js: () => jsDotScores(query, rows, n, dim, jsOut),
        read: () => readRows(rowsPtr, n, dim, 4),
      },
      targets: [{ versus: "js", atLeast: 6 }],
    },
    {
      kernel: "dotScores",
      shape: `${nSmall} x ${dim} fp32, resident, fits in L3`,
      bytes: nSmall * dim * 4,
      impls: {
        wasm: () => small.dotScoresView(query),
        js: () => jsDotScores(query, rowsSmall, nSmall, dim, jsOutSmall),
      },
    },
    {
      kernel: "dotScores+topK",
      shape: `${scanShape}, k = ${k}`,
      bytes: scanBytes,
      impls: {
        wasm: () => resident.topKDot(query, k),
        js: () => {
          jsDotScores(query, rows, n, dim, jsOut);
          return jsTopK(jsOut, k);
        },
        native: () => exactSearch(rows, query, dim, k, MetricKind.IP, 1),
      },
      targets: [
        { versus: "native", atLeast: 1.0 },
        { versus: "js", atLeast: 6 },
      ],
    },
    {
      kernel: "cosineScores",
      shape: `${scanShape}, resident`,
      bytes: scanBytes,
      impls: {
        wasm: () => resident.cosineScoresView(query),
        js: () => jsCosineScores(query, rows, n, dim, jsOut),
      },
    },
    {
      kernel: "dotScoresBatch",
      shape: `4 queries x ${scanShape}`,
      bytes: scanBytes,
      impls: {
        wasm: () => resident.dotScoresBatch(queries4),
        js: () => {
          for (let q = 0; q < 4; q++) jsDotScores(queries4.subarray(q * dim, (q + 1) * dim), rows, n, dim, jsOut4);
        },
      },
    },
    {
      kernel: "topK",
      shape: `${n} fp32 scores, k = ${k}`,
      bytes: n * 4,
      impls: {
        wasm: () => scoreSource.topKLastScores(k),
        js: () => jsTopK(scoresJs, k),
      },
    },
    {
      // The lexical ranking's shape (durable-objects/selection/message-ranking.ts): k = 512 of the BM25
      // scores of every message, most of them 0, read in place like topKLastScores.
      kernel: "topK",
      shape: `${n} fp32 scores, 30% positive, k = ${LEXICAL_K}`,
      bytes: n * 4,
      impls: {
        wasm: () => sparseSource.topKLastScores(LEXICAL_K),
        js: () => jsTopK(sparseJs, LEXICAL_K),
      },
    },
    {
      kernel: "kmeans (one Lloyd iteration)",
      shape: `${kn} x ${dim} fp32, k = ${kk}`,
      bytes: kn * dim * 4,
      impls: {
        wasm: () => points.lloydIteration(wasmCent, wasmLabels),
        js: () => {
          jsAssign(pointsJs, kn, dim, jsCent, kk, jsLabels, jsDists, jsSums, jsCounts);
          return jsCentroids(jsSums, jsCounts, kk, dim, jsCent);
        },
        ...(relaxedLloyd ? { relaxed: relaxedLloyd } : {}),
      },
      targets: [{ versus: "js", atLeast: 12 }],
      production: "relaxed",
    },
    {
      kernel: "embedText",
      shape: `paragraph (${PARAGRAPH.split(/\s+/).length} words) → ${dim}`,
      impls: {
        wasm: () => kernels.embedText(PARAGRAPH, { dim }),
        js: () => jsEmbedText(PARAGRAPH, dim),
      },
    },
    ...columnCases,
  ];
}

/**
 * One Lloyd iteration through the relaxed-SIMD build on its own resident
 * copy of the points, or undefined (with a note on stderr) when that build
 * is missing or this runtime rejects relaxed SIMD (Node 20 without
 * --experimental-wasm-relaxed-simd).
 */
function relaxedLloydIteration(points: Float32Array, n: number, dim: number, seeds: Float32Array): (() => unknown) | undefined {
  const file = new URL("../../../wasm/build/kernels.relaxed.wasm", import.meta.url);
  if (!existsSync(file)) {
    process.stderr.write("relaxed-SIMD build not measured: wasm/build/kernels.relaxed.wasm is missing (npm run build)\n");
    return undefined;
  }
  let module: WebAssembly.Module;
  try {
    module = loadWasmModule("kernels", true);
  } catch {
    process.stderr.write("relaxed-SIMD build not measured: this runtime rejects relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd, as npm run bench:kernels passes)\n");
    return undefined;
  }
  const rows = ResidentRows.create(module, n, dim);
  rows.rows().set(points);
  const cent = seeds.slice();
  const labels = new Int32Array(n).fill(-1);
  return () => rows.lloydIteration(cent, labels);
}
