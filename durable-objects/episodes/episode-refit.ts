// Full re-clustering of a conversation's episodes (docs/architecture.md,
// EpiCache step 3), run only from the object's alarm.
//
// planRefit reads and computes, over the latest REFIT_WINDOW segments (the
// window the segment index holds, MAX_INDEXED_SEGMENTS; the whole
// conversation until it is longer): k-means on at most MAX_FIT_SEGMENTS
// IDF-weighted segment embeddings (an even stride over the window),
// written straight into a WASM instance of their own (ResidentRows, one per
// isolate, grown in place to at most MAX_FIT_SEGMENTS rows: 6.3 MB), so the
// fit's rows pass through no JavaScript copy first, and a re-clustering
// leaves no memory behind for the garbage collector (a fresh instance per
// fit did: V8 collects WebAssembly memories late, docs/memory.md),
// stable ids for the new clusters, then every segment assigned to its nearest
// centroid in streamed batches of REFIT_BATCH (only one batch of vectors in
// memory), representatives (top-n by cosine, conversation order) and top
// terms. applyRefit writes the result; call it inside one transaction.
import { ResidentRows } from "../../wasm/src/bindings/resident-rows";
import { reweightRows } from "./bucket-idf";
import { readBlobInto } from "../storage/vector-blob";
import { idfFromDocumentFrequency } from "../../wasm/src/text-features";
import type { ConversationStore } from "../conversation/conversation-store";
import { fitOptions, matchEpisodeIds, nearestCentroid, REPRESENTATIVES_PER_EPISODE, strideSample, TopN } from "./episodes";
import { segmentText } from "./segmentation";
import { topTerms } from "./top-terms";
import { MAX_INDEXED_SEGMENTS } from "../selection/segment-index";

export const REFIT_BATCH = 512;

export interface RefitPlan {
  segments: number;
  /** New labels of the window's segments. */
  labels: { id: number; episode: number; score: number }[];
  /** Segments at or below this id (older than the window) keep their episode, renamed by `renamed`. */
  floor: number;
  /** Episodes older segments belong to that no new cluster took the id of: each goes to the new cluster nearest its centroid. */
  renamed: { from: number; to: number }[];
  episodes: { id: number; centroid: Float32Array; size: number; representatives: number[]; top_terms: string[] }[];
  idf: Float32Array | null;
  meanCosine: number;
  nextFreeId: number;
}

let fitArena: { module: WebAssembly.Module; rows: ResidentRows } | null = null;

/** Rows for a fit of n × dim: the isolate's fit instance (see the header), grown in place when n is more than it held. */
function fitRows(module: WebAssembly.Module, n: number, dim: number): ResidentRows {
  if (!fitArena || fitArena.module !== module || fitArena.rows.dim !== dim) fitArena = { module, rows: ResidentRows.create(module, n, dim) };
  const rows = fitArena.rows;
  if (rows.capacity < n) rows.grow(n);
  rows.count = n;
  return rows;
}

/**
 * Segments a re-clustering reads: the latest MAX_INDEXED_SEGMENTS, the
 * window the segment index holds (mirrors.ts). Past it, reading every
 * segment's embedding at each re-clustering was the isolate's largest
 * garbage (docs/memory.md); older segments keep their episode.
 */
export const REFIT_WINDOW = MAX_INDEXED_SEGMENTS;

/**
 * `module`: the kernels module (the fit runs in an instance of it of its
 * own, see the header); `window`: REFIT_WINDOW, smaller in tests.
 */
export function planRefit(store: ConversationStore, module: WebAssembly.Module, k: number, usesIdf: boolean, window = REFIT_WINDOW): RefitPlan | null {
  const n = store.counter("segments");
  const dim = Number(store.meta("dim") ?? 0);
  if (n === 0 || dim === 0) return null;
  const df = store.metaJson<number[]>("bucket_df");
  const idf = usesIdf && df ? idfFromDocumentFrequency(df, n) : null;

  // Segment ids are 1..n; the window is (floor, n].
  const floor = Math.max(0, n - window);
  const sampleIds = strideSample(n - floor).map((i) => floor + i + 1);
  const fit = fitRows(module, sampleIds.length, dim);
  const rows = fit.rows().subarray(0, sampleIds.length * dim);
  for (let i = 0; i < sampleIds.length; i += REFIT_BATCH) {
    const ids = sampleIds.slice(i, i + REFIT_BATCH);
    const blobs = store.embeddingBlobsById(ids);
    ids.forEach((id, j) => readBlobInto(blobs.get(id)!, rows.subarray((i + j) * dim, (i + j + 1) * dim)));
  }
  reweightRows(rows, dim, idf);
  const fitted = fit.kmeans(fitOptions(k, sampleIds.length)).centroids;
  const centroids = Array.from({ length: fitted.length / dim }, (_, j) => fitted.slice(j * dim, (j + 1) * dim));
  const previous = store.episodes();
  const firstFree = Math.max(store.counter("next_episode_id"), 1 + Math.max(-1, ...previous.map((e) => e.id)));
  const { ids, nextFreeId } = matchEpisodeIds(previous, centroids, firstFree);

  const sizes = new Array<number>(centroids.length).fill(0);
  const reps = centroids.map(() => new TopN(REPRESENTATIVES_PER_EPISODE));
  const labels: RefitPlan["labels"] = [];
  let cosineSum = 0;
  // One matrix for every batch: the blobs are decoded into it and re-weighted in place (no arrays per segment, docs/memory.md).
  const scratch = new Float32Array(REFIT_BATCH * dim);
  for (let after = floor; ; ) {
    const batch = store.embeddingBatch(after, REFIT_BATCH, null);
    if (!batch.length) break;
    batch.forEach((s, i) => readBlobInto(s.vec, scratch.subarray(i * dim, (i + 1) * dim)));
    reweightRows(scratch.subarray(0, batch.length * dim), dim, idf);
    for (const [i, s] of batch.entries()) {
      const { index, cosine } = nearestCentroid(scratch.subarray(i * dim, (i + 1) * dim), centroids);
      sizes[index]!++;
      reps[index]!.offer(s.id, cosine);
      cosineSum += cosine;
      labels.push({ id: s.id, episode: ids[index]!, score: cosine });
    }
    after = batch[batch.length - 1]!.id;
  }
  // Older segments stay where they are: an episode no new cluster took the id of goes to the one nearest its centroid.
  const renamed: RefitPlan["renamed"] = [];
  if (floor > 0) {
    const older = new Map<number, number>();
    const inWindow = new Map(store.segmentCountsByEpisode(floor).map((c) => [c.episode, c.n]));
    for (const c of store.segmentCountsByEpisode()) if (c.episode !== null) older.set(c.episode, c.n - (inWindow.get(c.episode) ?? 0));
    for (const p of previous) {
      const count = older.get(p.id) ?? 0;
      const kept = ids.indexOf(p.id);
      const j = kept >= 0 ? kept : nearestCentroid(p.centroid, centroids).index;
      if (kept < 0 && count > 0) renamed.push({ from: p.id, to: ids[j]! });
      sizes[j]! += count;
    }
  }
  const repIds = reps.map((r) => r.idsInOrder());
  const terms = topTerms(repIds.map((list) => store.segmentsById(list).map((s) => segmentText(store.utterancesBetween(s.first_seq, s.last_seq)))));
  const episodes = centroids
    .map((centroid, j) => ({ id: ids[j]!, centroid, size: sizes[j]!, representatives: repIds[j]!, top_terms: terms[j]! }))
    .filter((e) => e.size > 0);
  return { segments: n, labels, floor, renamed, episodes, idf, meanCosine: labels.length ? cosineSum / labels.length : 0, nextFreeId };
}

export function applyRefit(store: ConversationStore, plan: RefitPlan): void {
  for (const l of plan.labels) store.setSegmentEpisode(l.id, l.episode, l.score);
  for (const r of plan.renamed) store.renameOlderSegments(r.from, r.to, plan.floor);
  store.deleteEpisodes();
  for (const e of plan.episodes) store.saveEpisode(e);
  if (plan.idf) store.setMeta("cluster_idf", JSON.stringify(Array.from(plan.idf)));
  store.setMeta("fit_mean_cosine", String(plan.meanCosine));
  store.setCounter("next_episode_id", plan.nextFreeId);
  store.setCounter("at_fit", plan.segments);
  store.setCounter("since_fit", 0);
  store.setCounter("online_cosine_sum", 0);
  store.addCounter("reclusters", 1);
}
