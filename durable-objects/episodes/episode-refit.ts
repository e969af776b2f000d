// Full re-clustering of a conversation's episodes (docs/architecture.md,
// EpiCache step 3), run only from the object's alarm.
//
// planRefit reads and computes: k-means on at most MAX_FIT_SEGMENTS
// IDF-weighted segment embeddings (an even stride over the conversation),
// written straight into a dedicated WASM instance (ResidentRows) that is
// dropped when the plan is made, so the fit's rows neither stay in the
// shared kernels instance's memory (linear memory never shrinks) nor pass
// through a JavaScript copy first (docs/memory.md),
// stable ids for the new clusters, then every segment assigned to its nearest
// centroid in streamed batches of REFIT_BATCH (only one batch of vectors in
// memory), representatives (top-n by cosine, conversation order) and top
// terms. applyRefit writes the result; call it inside one transaction.
import { ResidentRows } from "../../wasm/src/bindings/resident-rows";
import { reweightRows } from "./bucket-idf";
import { idfFromDocumentFrequency } from "../../wasm/src/text-features";
import type { ConversationStore } from "../conversation/conversation-store";
import { fitOptions, matchEpisodeIds, nearestCentroid, REPRESENTATIVES_PER_EPISODE, strideSample, TopN } from "./episodes";
import { segmentText } from "./segmentation";
import { topTerms } from "./top-terms";

export const REFIT_BATCH = 512;

export interface RefitPlan {
  segments: number;
  labels: { id: number; episode: number; score: number }[];
  episodes: { id: number; centroid: Float32Array; size: number; representatives: number[]; top_terms: string[] }[];
  idf: Float32Array | null;
  meanCosine: number;
  nextFreeId: number;
}

/** `module`: the kernels module (the fit instantiates it once, for this plan only). */
export function planRefit(store: ConversationStore, module: WebAssembly.Module, k: number, usesIdf: boolean): RefitPlan | null {
  const n = store.counter("segments");
  const dim = Number(store.meta("dim") ?? 0);
  if (n === 0 || dim === 0) return null;
  const df = store.metaJson<number[]>("bucket_df");
  const idf = usesIdf && df ? idfFromDocumentFrequency(df, n) : null;

  const sampleIds = strideSample(n).map((i) => i + 1); // segment ids are 1..n
  const fit = ResidentRows.create(module, sampleIds.length, dim);
  const rows = fit.rows();
  for (let i = 0; i < sampleIds.length; i += REFIT_BATCH) {
    const ids = sampleIds.slice(i, i + REFIT_BATCH);
    const vectors = store.embeddingsById(ids);
    ids.forEach((id, j) => rows.set(vectors.get(id)!, (i + j) * dim));
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
  // One matrix for every batch: the blobs are copied in and re-weighted in place (no arrays per segment, docs/memory.md).
  const scratch = new Float32Array(REFIT_BATCH * dim);
  for (let after = 0; ; ) {
    const batch = store.embeddingBatch(after, REFIT_BATCH, null);
    if (!batch.length) break;
    batch.forEach((s, i) => scratch.set(new Float32Array(s.vec, 0, dim), i * dim));
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
  const repIds = reps.map((r) => r.idsInOrder());
  const terms = topTerms(repIds.map((list) => store.segmentsById(list).map((s) => segmentText(store.utterancesBetween(s.first_seq, s.last_seq)))));
  const episodes = centroids
    .map((centroid, j) => ({ id: ids[j]!, centroid, size: sizes[j]!, representatives: repIds[j]!, top_terms: terms[j]! }))
    .filter((e) => e.size > 0);
  return { segments: n, labels, episodes, idf, meanCosine: labels.length ? cosineSum / labels.length : 0, nextFreeId };
}

export function applyRefit(store: ConversationStore, plan: RefitPlan): void {
  for (const l of plan.labels) store.setSegmentEpisode(l.id, l.episode, l.score);
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
