// Episodes: clusters of segment embeddings (docs/architecture.md, EpiCache steps 3 and 7),
// kept online.
//
// - Full clustering: k-means (k-means++ with a fixed seed, Lloyd, restarts)
//   on the unit (IDF-weighted) segment embeddings; centroids are raw means.
//   It runs only in the object's alarm, fitted on at most MAX_FIT_SEGMENTS
//   segments (an even stride over the conversation) so memory stays bounded,
//   then every segment is assigned in streamed batches.
// - Online: a new segment joins the nearest centroid (the k-means rule,
//   argmin ‖x − c‖² = argmax 2x·c − ‖c‖²) and the centroid moves to the new
//   running mean. While fewer than E episodes exist, a new segment seeds its
//   own episode. Nothing on the request path waits for a full clustering.
// - Re-clustering is scheduled when enough new segments arrived since the
//   last fit, or when they fit their centroids clearly worse than the fitted
//   segments did (drift), see shouldRecluster.
// - Query time: the episode whose raw centroid has the largest dot product
//   with the query embedding (step 7).
// - Episode ids stay stable across re-clusterings: each new cluster takes the
//   id of the old episode with the most similar centroid (greedy, best pairs
//   first, cosine ≥ ID_MATCH_MIN_COSINE), otherwise a fresh id.
import type { Kernels, KMeansOptions } from "../../wasm/src/kernels";

export const KMEANS_SEED = 42;
export const KMEANS_RESTARTS = 4;
/**
 * Rows the full k-means fits on: a sample of 4096 (an even stride), 6.3 MB at
 * 384 dims, then every segment is assigned to its nearest centroid. Fitting a
 * few thousand sampled points for k ≤ a dozen clusters loses little against
 * the full batch (Sculley 2010, "Web-scale k-means clustering": mini-batches
 * of about 1000 points come close to full-batch k-means), and the fit is
 * the re-clustering's largest allocation (docs/memory.md).
 */
export const MAX_FIT_SEGMENTS = 4096;
/** n in "top-n windows by cosine to the centroid" (n = 8 in the published runs). */
export const REPRESENTATIVES_PER_EPISODE = 8;
export const ID_MATCH_MIN_COSINE = 0.5;

export interface OnlineCentroid {
  id: number;
  centroid: Float32Array;
  size: number;
}

export interface Assignment {
  /** Index into the centroid list. */
  index: number;
  /** Cosine between the vector and the centroid. */
  cosine: number;
}

/** Nearest centroid by squared Euclidean distance (the k-means assignment). */
export function nearestCentroid(vec: Float32Array, centroids: readonly Float32Array[]): Assignment {
  let best = -1;
  let bestScore = -Infinity;
  let bestCos = 0;
  for (let j = 0; j < centroids.length; j++) {
    const c = centroids[j]!;
    let dot = 0, cc = 0, vv = 0;
    for (let i = 0; i < c.length; i++) {
      dot += vec[i]! * c[i]!;
      cc += c[i]! * c[i]!;
      vv += vec[i]! * vec[i]!;
    }
    const score = 2 * dot - cc;
    if (score > bestScore) {
      bestScore = score;
      best = j;
      bestCos = cc > 0 && vv > 0 ? dot / Math.sqrt(cc * vv) : 0;
    }
  }
  return { index: best, cosine: bestCos };
}

/**
 * Online step for one new segment: seeds a new episode while fewer than
 * `k` exist, else joins the nearest and moves its centroid to the running
 * mean. Mutates `episodes`; returns the episode id and cosine to its centroid.
 */
export function assignOnline(episodes: OnlineCentroid[], vec: Float32Array, k: number, nextId: () => number): { id: number; cosine: number; seeded: boolean } {
  if (episodes.length < k) {
    const id = nextId();
    episodes.push({ id, centroid: Float32Array.from(vec), size: 1 });
    return { id, cosine: 1, seeded: true };
  }
  const { index, cosine } = nearestCentroid(vec, episodes.map((e) => e.centroid));
  const episode = episodes[index]!;
  episode.size += 1;
  const c = episode.centroid;
  for (let i = 0; i < c.length; i++) c[i]! += (vec[i]! - c[i]!) / episode.size;
  return { id: episode.id, cosine, seeded: false };
}

/** Step 7: index of the centroid with the largest dot product with the query (-1 when none). */
export function matchQueryEpisode(kernels: Kernels, query: Float32Array, centroids: Float32Array, dim: number): { index: number; scores: Float32Array } {
  if (centroids.length === 0) return { index: -1, scores: new Float32Array(0) };
  const scores = kernels.dotScores(query, centroids, dim);
  const top = kernels.topK(scores, 1);
  return { index: top.indices.length ? top.indices[0]! : -1, scores };
}

/** Deterministic even-stride sample of `count` items from n (all when n ≤ count). */
export function strideSample(n: number, count = MAX_FIT_SEGMENTS): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * n) / count));
}

/** The k-means options of a full fit (step 3) on n rows: k clipped to n, the fixed seed and restarts. */
export function fitOptions(k: number, n: number): KMeansOptions {
  return { k: Math.min(k, n), seed: KMEANS_SEED, nInit: KMEANS_RESTARTS };
}

/** Full k-means fit (step 3) on unit rows; k is clipped to the number of rows. */
export function fitEpisodes(kernels: Kernels, rows: Float32Array, dim: number, k: number): Float32Array {
  const n = rows.length / dim;
  if (n === 0) return new Float32Array(0);
  return kernels.kmeans(rows, dim, fitOptions(k, n)).centroids;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : 0;
}

/** Stable ids for new centroids (see header). Returns one id per new centroid and the next free id. */
export function matchEpisodeIds(previous: readonly OnlineCentroid[], next: readonly Float32Array[], nextFreeId: number): { ids: number[]; nextFreeId: number } {
  const pairs: { i: number; j: number; cos: number }[] = [];
  for (let i = 0; i < next.length; i++) {
    for (let j = 0; j < previous.length; j++) {
      const cos = cosine(next[i]!, previous[j]!.centroid);
      if (cos >= ID_MATCH_MIN_COSINE) pairs.push({ i, j, cos });
    }
  }
  pairs.sort((a, b) => b.cos - a.cos || a.i - b.i || a.j - b.j);
  const ids: number[] = new Array(next.length).fill(-1);
  const taken = new Set<number>();
  for (const p of pairs) {
    if (ids[p.i] !== -1 || taken.has(p.j)) continue;
    ids[p.i] = previous[p.j]!.id;
    taken.add(p.j);
  }
  let free = nextFreeId;
  for (let i = 0; i < ids.length; i++) if (ids[i] === -1) ids[i] = free++;
  return { ids, nextFreeId: free };
}

/** Keeps the n best (score, id) pairs; ties keep the earlier (lower id). */
export class TopN {
  private items: { id: number; score: number }[] = [];
  constructor(private readonly n: number) {}
  offer(id: number, score: number): void {
    if (this.items.length < this.n) {
      this.items.push({ id, score });
    } else {
      const worst = this.items[this.items.length - 1]!;
      if (!(score > worst.score)) return;
      this.items[this.items.length - 1] = { id, score };
    }
    this.items.sort((a, b) => b.score - a.score || a.id - b.id);
  }
  /** Ids of the kept items, in id (conversation) order — the representative prompt's order (step 3). */
  idsInOrder(): number[] {
    return this.items.map((x) => x.id).sort((a, b) => a - b);
  }
}

export interface ReclusterStats {
  /** Segments in the conversation. */
  segments: number;
  /** Segments added since the last full clustering. */
  sinceFit: number;
  /** Segments at the last full clustering (0 = never clustered). */
  atFit: number;
  /** Mean cosine of fitted segments to their centroids at the last fit. */
  fitMeanCosine: number;
  /** Sum of cosines of the segments assigned online since. */
  onlineCosineSum: number;
  episodesWanted: number;
}

export const RECLUSTER_MIN_NEW = 8;
export const RECLUSTER_GROWTH = 0.25;
export const RECLUSTER_DRIFT = 0.1;

/**
 * Whether to schedule a full re-clustering: never clustered and at least E
 * segments exist; or new segments since the fit reach max(RECLUSTER_MIN_NEW,
 * 25% of the fitted count); or at least RECLUSTER_MIN_NEW new segments fit
 * their centroids more than RECLUSTER_DRIFT (mean cosine) worse than the
 * fitted ones did.
 */
export function shouldRecluster(s: ReclusterStats): boolean {
  if (s.atFit === 0) return s.segments >= Math.max(2, s.episodesWanted) && s.sinceFit > 0;
  if (s.sinceFit >= Math.max(RECLUSTER_MIN_NEW, Math.ceil(RECLUSTER_GROWTH * s.atFit))) return true;
  if (s.sinceFit >= RECLUSTER_MIN_NEW && s.onlineCosineSum / s.sinceFit < s.fitMeanCosine - RECLUSTER_DRIFT) return true;
  return false;
}
