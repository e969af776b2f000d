// In-memory index of a conversation's segment embeddings, so a turn scores
// every segment against the query with one SIMD scan instead of reading
// embeddings from SQLite. In workerd the rows sit column-major in WASM
// (ResidentColumns, wasm/src/bindings/retrieval.ts): the hashing embedder's
// queries are sparse (a short message fills a few dozen of 384 dims, and
// IDF reweighting keeps zeros zero), so a scan reads only the query's
// nonzero columns, ~nnz/dim of the rows (docs/kernels.md, "Column scans").
//
// Rows are the IDF-weighted unit embeddings (bucket-idf.ts), grouped by
// episode and in segment-id order within one, so a dot product with the
// weighted unit query is the cosine relevance and a turn scans only the
// matched episode. Segment ids and seq spans sit beside them in typed arrays. The index lives only in the object's
// memory: built lazily from SQLite, appended to after each committed turn,
// rebuilt after each full re-clustering (IDF and labels change then), and
// dropped when the object is evicted. Memory: 4·dim bytes per segment
// (1.5 KB at 384) plus 16 bytes (score buffer, id and span columns), plus
// the unused capacity: a build reserves each episode's exact count plus
// 1/16 (`reserve`), and appends grow an episode by 1/8 in place, not by
// doubling, so an index holds at most ≈ 1.125× its rows (each row store also keeps
// ROW_STORE_SCRATCH_BYTES of scan scratch, and ResidentColumns 3·4·dim bytes
// of query buffers; stores that know their size report it as `bytes`).
// Growth happens in place (RowStore.grow: `memory.grow` for the WASM
// stores), so a growing index never holds a second memory beside the first
// (docs/memory.md). The object indexes the latest MAX_INDEXED_SEGMENTS
// segments: `evictThrough` drops the oldest (mirrors.ts).

/**
 * The row storage the index needs: `ResidentColumns` (column-major, sparse
 * scans) in workerd; `ResidentRows` (row-major) also fits; `arrayRowStore`
 * in Node tests and scripts.
 */
export interface RowStore {
  readonly capacity: number;
  readonly dim: number;
  count: number;
  /** Copies vec (length dim) into row i. */
  writeRow(i: number, vec: Float32Array): void;
  /** A copy of row i. */
  readRow(i: number): Float32Array;
  /** Widens the store to `capacity` rows, keeping its rows and count (in place for the WASM stores: no second memory beside it). */
  grow(capacity: number): void;
  /** Removes rows [0, r): rows [r, count) move to [0, count − r), count drops by r (capacity kept). */
  dropFirst(r: number): void;
  /** Bytes the store reserves, where it knows them (ResidentColumns); else the index estimates them (EpisodeRows.bytes). */
  readonly bytes?: number;
  /** query · rows[i] for i < count; may be a view valid until the next scan. */
  dotScoresView(query: Float32Array): Float32Array;
  /** The k rows (of the first count) with the largest query · row, best first; ties → lower index, NaN last. */
  topKDot(query: Float32Array, k: number): TopK;
  /** topKDot's order over the scores of the last scan (dotScoresView or topKDot), without scanning again. */
  topKLastScores(k: number): TopK;
}

import type { TopK } from "../../wasm/src/kernels";
import { SCRATCH_HEADROOM } from "../../wasm/src/bindings/retrieval-steps";

export type RowStoreFactory = (capacity: number, dim: number) => RowStore;

/**
 * 12288 segments × 384 dims × 4 bytes = 18 MiB of rows (≤ 28 MiB with the
 * slack and scan scratch): the most an index may hold, about 49k messages at
 * window 4. The isolate's 96 MB target leaves no more beside the JS heap,
 * the lexical index, the re-clustering's fit and the ArrayBuffer garbage
 * V8 has not collected yet (docs/memory.md).
 */
export const MAX_INDEXED_SEGMENTS = 12_288;
/** Rows an episode's store starts with (and the least a build reserves). */
export const INITIAL_CAPACITY = 256;
/** Scratch each WASM row store keeps beside its rows (ResidentRows' headroom, wasm/src/bindings/retrieval.ts). */
export const ROW_STORE_SCRATCH_BYTES = SCRATCH_HEADROOM;

/** Capacity after `capacity` is full: +1/8 (a doubling would leave up to half of a large episode unused; growth is in place, so a small step costs a move of the rows, not a second memory). */
export function grownCapacity(capacity: number): number {
  return Math.max(INITIAL_CAPACITY, Math.ceil(capacity * 1.125));
}

/** A segment's id, seq span, episode and relevance to a query. */
export interface IndexedSpan {
  id: number;
  first: number;
  last: number;
  episode: number;
  score: number;
}

export interface EpisodeScores {
  /** Segment ids of the episode, ascending; scores[i] belongs to ids[i]. */
  ids: Int32Array;
  firstSeq: Int32Array;
  lastSeq: Int32Array;
  /** Relevance (dot of weighted unit vectors = cosine); a fresh array. */
  scores: Float32Array;
  count: number;
}

/** One episode's rows (appended in segment-id order, so ids stay sorted). */
class EpisodeRows {
  store: RowStore;
  ids: Int32Array;
  firstSeq: Int32Array;
  lastSeq: Int32Array;
  n = 0;

  constructor(factory: RowStoreFactory, private readonly dim: number, capacity: number) {
    this.store = factory(capacity, dim);
    this.store.count = 0;
    // A reused store may hold more than asked for: the columns follow the store.
    this.ids = new Int32Array(this.store.capacity);
    this.firstSeq = new Int32Array(this.store.capacity);
    this.lastSeq = new Int32Array(this.store.capacity);
  }

  append(id: number, first: number, last: number, vec: Float32Array): void {
    if (this.n && id <= this.ids[this.n - 1]!) throw new Error(`segment index out of order: ${id} after ${this.ids[this.n - 1]}`);
    if (this.n === this.store.capacity) this.grow();
    this.store.writeRow(this.n, vec);
    this.ids[this.n] = id;
    this.firstSeq[this.n] = first;
    this.lastSeq[this.n] = last;
    this.n++;
    this.store.count = this.n;
  }

  /** Drops every row with segment id ≤ `id` (a prefix: ids ascend); returns how many. */
  dropThrough(id: number): number {
    let lo = 0, hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ids[mid]! <= id) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    this.store.dropFirst(lo);
    for (const a of [this.ids, this.firstSeq, this.lastSeq]) a.copyWithin(0, lo, this.n);
    this.n -= lo;
    return lo;
  }

  find(id: number): number {
    let lo = 0, hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.ids[mid]!;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Bytes held: the store's own count where it reports one, else rows and the score buffer (capacity × (dim + 1) × 4) and scratch; plus the three id/span columns. */
  bytes(): number {
    const capacity = this.store.capacity;
    return (this.store.bytes ?? capacity * (this.dim + 1) * 4 + ROW_STORE_SCRATCH_BYTES) + 3 * this.ids.byteLength;
  }

  private grow(): void {
    const capacity = grownCapacity(this.store.capacity);
    this.store.grow(capacity);
    const widen = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.ids = widen(this.ids);
    this.firstSeq = widen(this.firstSeq);
    this.lastSeq = widen(this.lastSeq);
  }
}

/**
 * Rows grouped by episode, so a turn scans only the matched episode's
 * segments (about 1/E of the conversation) with one SIMD pass.
 */
export class SegmentIndex {
  private readonly byEpisode = new Map<number, EpisodeRows>();
  private n = 0;

  constructor(private readonly factory: RowStoreFactory, readonly dim: number) {}

  get size(): number {
    return this.n;
  }

  /** Bytes held by all episodes' rows, buffers and columns (see the header). */
  get bytes(): number {
    let b = 0;
    for (const rows of this.byEpisode.values()) b += rows.bytes();
    return b;
  }

  /** Episodes with a store. */
  get episodes(): number {
    return this.byEpisode.size;
  }

  /** Rows all episodes' stores have room for (what their memory holds, used or not). */
  get capacity(): number {
    let c = 0;
    for (const rows of this.byEpisode.values()) c += rows.store.capacity;
    return c;
  }

  /**
   * Drops every segment with id ≤ `id` (the oldest: a window over the latest
   * segments, mirrors.ts); the stores keep their memory for the rows that
   * follow.
   */
  evictThrough(id: number): void {
    for (const rows of this.byEpisode.values()) this.n -= rows.dropThrough(id);
  }

  /** Sizes an episode's storage before its rows are appended (a build knows each episode's count): count + 1/16, no regrowth for a while. */
  reserve(episode: number, count: number): void {
    if (this.byEpisode.has(episode)) throw new Error(`episode ${episode} already has rows; reserve before appending`);
    this.byEpisode.set(episode, new EpisodeRows(this.factory, this.dim, Math.max(INITIAL_CAPACITY, Math.ceil(count * 1.0625))));
  }

  append(id: number, episode: number, first: number, last: number, weightedUnit: Float32Array): void {
    if (weightedUnit.length !== this.dim) throw new RangeError(`segment ${id} has ${weightedUnit.length} dims, index ${this.dim}`);
    if (this.n >= MAX_INDEXED_SEGMENTS) throw new RangeError(`segment index is full (${MAX_INDEXED_SEGMENTS} segments)`);
    let rows = this.byEpisode.get(episode);
    if (!rows) this.byEpisode.set(episode, (rows = new EpisodeRows(this.factory, this.dim, INITIAL_CAPACITY)));
    rows.append(id, first, last, weightedUnit);
    this.n++;
  }

  /**
   * Empties the index and hands back its row stores, for a rebuild to fill
   * again (reusingFactory): a rebuild after re-clustering then needs no second
   * set of WASM memories while the old one waits for garbage collection.
   */
  release(): RowStore[] {
    const stores = [...this.byEpisode.values()].map((rows) => rows.store);
    this.byEpisode.clear();
    this.n = 0;
    return stores;
  }

  /** Relevance of every segment of `episode` to a weighted unit query. */
  scoreEpisode(episode: number, query: Float32Array): EpisodeScores {
    const rows = this.byEpisode.get(episode);
    if (!rows || rows.n === 0) return { ids: new Int32Array(0), firstSeq: new Int32Array(0), lastSeq: new Int32Array(0), scores: new Float32Array(0), count: 0 };
    const scores = rows.store.dotScoresView(query).slice(0, rows.n);
    return { ids: rows.ids, firstSeq: rows.firstSeq, lastSeq: rows.lastSeq, scores, count: rows.n };
  }

  /**
   * The k segments of `episode` most relevant to a weighted unit query, best
   * first (ties → lower segment id, NaN last): one scan and the top-k inside
   * the row store, so the episode's scores never leave it.
   */
  topOfEpisode(episode: number, query: Float32Array, k: number): IndexedSpan[] {
    return this.episodeRanking(query)(episode, k);
  }

  /**
   * topOfEpisode for one query, asked repeatedly with growing k (the lazy
   * merge, rank-candidates.ts): each episode is scanned once, and a longer
   * list is a top-k over the scores that scan left in its row store. Valid
   * while nothing else scans or appends to the index.
   */
  episodeRanking(query: Float32Array): (episode: number, k: number) => IndexedSpan[] {
    const scanned = new Set<number>();
    return (episode, k) => {
      const rows = this.byEpisode.get(episode);
      if (!rows || rows.n === 0 || k <= 0) return [];
      const kk = Math.min(k, rows.n);
      const best = scanned.has(episode) ? rows.store.topKLastScores(kk) : rows.store.topKDot(query, kk);
      scanned.add(episode);
      const out: IndexedSpan[] = new Array(best.indices.length);
      for (let r = 0; r < out.length; r++) {
        const i = best.indices[r]!;
        out[r] = { id: rows.ids[i]!, first: rows.firstSeq[i]!, last: rows.lastSeq[i]!, episode, score: best.scores[r]! };
      }
      return out;
    };
  }

  /** Relevance and span of individual segments (other episodes' representatives); unknown ids are skipped. */
  scoreSegments(episode: number, ids: readonly number[], query: Float32Array): IndexedSpan[] {
    const rows = this.byEpisode.get(episode);
    if (!rows) return [];
    const out: IndexedSpan[] = [];
    for (const id of ids) {
      const i = rows.find(id);
      if (i < 0) continue;
      const v = rows.store.readRow(i);
      let s = 0;
      for (let d = 0; d < this.dim; d++) s += v[d]! * query[d]!;
      out.push({ id, first: rows.firstSeq[i]!, last: rows.lastSeq[i]!, episode, score: s });
    }
    return out;
  }
}

/** A plain-array RowStore, row-major (Node tests and scripts/eval; an independent reference for the WASM stores). */
export function arrayRowStore(capacity: number, dim: number): RowStore {
  let data = new Float32Array(capacity * dim);
  let count = capacity;
  let last = new Float32Array(0);
  const checkRow = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= capacity) throw new RangeError(`arrayRowStore: row ${i} outside [0, ${capacity})`);
  };
  return {
    get capacity() {
      return capacity;
    },
    dim,
    get count() {
      return count;
    },
    set count(n: number) {
      count = n;
    },
    writeRow(i, vec) {
      checkRow(i);
      if (vec.length !== dim) throw new RangeError(`arrayRowStore: row has length ${vec.length}, expected ${dim}`);
      data.set(vec, i * dim);
    },
    readRow(i) {
      checkRow(i);
      return data.slice(i * dim, (i + 1) * dim);
    },
    dropFirst(r) {
      if (!Number.isInteger(r) || r < 0 || r > count) throw new RangeError(`arrayRowStore: cannot drop ${r} of ${count} rows`);
      data.copyWithin(0, r * dim, count * dim);
      data.fill(0, (count - r) * dim, count * dim);
      count -= r;
    },
    grow(next) {
      if (!Number.isInteger(next) || next < capacity) throw new RangeError(`arrayRowStore: cannot grow from ${capacity} to ${next} rows`);
      const wider = new Float32Array(next * dim);
      wider.set(data);
      data = wider;
      capacity = next;
    },
    dotScoresView,
    topKDot(query, k) {
      dotScoresView(query);
      return topOfLast(k);
    },
    topKLastScores: topOfLast,
  };
  function topOfLast(k: number): TopK {
    const scores = last;
    const order = Array.from(scores.keys()).sort((a, b) => byScoreDesc(scores[a]!, scores[b]!) || a - b).slice(0, Math.max(0, Math.min(k, scores.length)));
    return { indices: Int32Array.from(order), scores: Float32Array.from(order, (i) => scores[i]!) };
  }
  function dotScoresView(query: Float32Array): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += query[d]! * data[i * dim + d]!;
      out[i] = s;
    }
    last = out;
    return out;
  }
}

/** A released store is reused only up to this multiple of the requested capacity. */
export const REUSE_MAX_SLACK = 1.5;

/**
 * A factory that first reuses released stores (SegmentIndex.release): the
 * smallest one with at least the requested capacity (up to REUSE_MAX_SLACK
 * times it), else the largest smaller one grown in place to the request,
 * else a new one from `create`. A WASM store's memory never shrinks and is
 * freed only by a garbage collection, so a rebuild that created a store
 * beside a released one would hold both until then (docs/memory.md). Call
 * `done()` after the build so leftovers can be collected.
 */
export function reusingFactory(released: RowStore[], create: RowStoreFactory): { factory: RowStoreFactory; done: () => void } {
  const pool = [...released];
  return {
    factory(capacity, dim) {
      let best = -1;
      // Best fit, and never one past REUSE_MAX_SLACK × the request (that would hold the slack for the index's life).
      for (let i = 0; i < pool.length; i++) {
        const c = pool[i]!.capacity;
        if (c >= capacity && c <= capacity * REUSE_MAX_SLACK && (best < 0 || c < pool[best]!.capacity)) best = i;
      }
      if (best < 0) {
        for (let i = 0; i < pool.length; i++) {
          const c = pool[i]!.capacity;
          if (c < capacity && (best < 0 || c > pool[best]!.capacity)) best = i;
        }
      }
      if (best < 0) return create(capacity, dim);
      const store = pool.splice(best, 1)[0]!;
      if (store.capacity < capacity) store.grow(capacity);
      store.count = 0;
      return store;
    },
    done: () => void pool.splice(0),
  };
}

/** Descending numeric order with NaN after every number (the kernels' top-k convention). */
function byScoreDesc(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b - a;
}
