// In-memory index of a conversation's segment embeddings, so a turn scores
// every segment against the query with one SIMD scan instead of reading
// embeddings from SQLite. In workerd the rows sit column-major in WASM
// (ResidentColumns, wasm/src/bindings/retrieval.ts): the hashing embedder's
// queries are sparse (a short message fills a few dozen of 384 dims, and
// IDF reweighting keeps zeros zero), so a scan reads only the query's
// nonzero columns, ~nnz/dim of the rows (docs/kernels.md, "Column scans").
//
// Rows are the IDF-weighted unit embeddings (bucket-idf.ts) in one store,
// in segment-id order, each episode's row numbers beside them, so a dot
// product with the weighted unit query is the cosine relevance; a turn
// scans the store once and takes a top-k per episode over that scan's
// scores (the default ranking merges every episode's list,
// rank-candidates.ts). Segment ids, seq spans and episodes sit beside the
// rows in typed arrays. The index lives only in the object's memory: built
// lazily from SQLite, appended to after each committed turn, rebuilt after
// each full re-clustering (IDF and labels change then), and dropped when
// the object is evicted. Memory: 4·dim bytes per segment (1.5 KB at 384)
// plus 20 bytes (score buffer, id, span and episode columns, the episode's
// row list), plus the unused capacity: a build reserves the exact count
// plus 1/16 (`reserve`), and appends grow the store by 1/8 in place, not by
// doubling, so an index holds at most ≈ 1.125× its rows (the store also
// keeps ROW_STORE_SCRATCH_BYTES of scan scratch, and ResidentColumns
// 3·4·dim bytes of query buffers; stores that know their size report it as
// `bytes`). Growth happens in place (RowStore.grow: `memory.grow` for the
// WASM stores), so a growing index never holds a second memory beside the
// first (docs/memory.md). The object indexes the latest
// MAX_INDEXED_SEGMENTS segments: `evictThrough` drops the oldest
// (mirrors.ts).

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
  /** Bytes the store reserves, where it knows them (ResidentColumns); else the index estimates them (SegmentIndex.bytes). */
  readonly bytes?: number;
  /** query · rows[i] for i < count; may be a view valid until the next scan. */
  dotScoresView(query: Float32Array): Float32Array;
  /**
   * The k of rows[0..n) (row numbers below count) with the largest score in
   * the last scan, best first, as positions into `rows`; ties → the earlier
   * position, NaN last.
   */
  topKOf(rows: Int32Array, n: number, k: number): TopK;
  /** The k rows below count with the largest score in the last scan, best first (ties → lower row, NaN last). */
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
/** Rows the store starts with (and the least a build reserves). */
const INITIAL_CAPACITY = 256;
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

/**
 * The latest segments' rows in one store, in segment-id order (appends come
 * in id order, and the window drops the oldest, a prefix), with each
 * episode's row numbers beside them: a turn scans the store once and takes
 * a top-k per episode over that scan's scores. One store, not one per
 * episode: a store's memory never shrinks, so as the window moved from one
 * episode to another, per-episode stores kept the size each had ever
 * reached (docs/memory.md).
 */
export class SegmentIndex {
  private store: RowStore | null = null;
  private ids: Int32Array<ArrayBuffer> = new Int32Array(0);
  private firstSeq: Int32Array<ArrayBuffer> = new Int32Array(0);
  private lastSeq: Int32Array<ArrayBuffer> = new Int32Array(0);
  private episodeOf: Int32Array<ArrayBuffer> = new Int32Array(0);
  /** Each episode's row numbers, ascending (so in segment-id order too). */
  private readonly byEpisode = new Map<number, { rows: Int32Array; n: number }>();
  private n = 0;
  private reserved = 0;
  /** Scans since the index last changed: a ranking scans once per query. */
  private scans = 0;

  constructor(private readonly factory: RowStoreFactory, readonly dim: number) {}

  get size(): number {
    return this.n;
  }

  /** Rows the store has room for. */
  get capacity(): number {
    return this.store?.capacity ?? 0;
  }

  /** Bytes held: the store's own count where it reports one, else rows and the score buffer (capacity × (dim + 1) × 4) and scratch; plus the id, span and episode columns and the episodes' row lists. */
  get bytes(): number {
    const capacity = this.capacity;
    let lists = 0;
    for (const e of this.byEpisode.values()) lists += e.rows.byteLength;
    const store = this.store ? (this.store.bytes ?? capacity * (this.dim + 1) * 4 + ROW_STORE_SCRATCH_BYTES) : 0;
    return store + 4 * this.ids.byteLength + lists;
  }

  /** Sizes the store before a build's rows are appended (a build knows each episode's count): their sum + 1/16, no regrowth for a while. */
  reserve(episode: number, count: number): void {
    if (this.byEpisode.has(episode)) throw new Error(`episode ${episode} already has rows; reserve before appending`);
    if (this.store) throw new Error("reserve before appending");
    this.byEpisode.set(episode, { rows: new Int32Array(Math.max(16, count)), n: 0 });
    this.reserved += count;
  }

  append(id: number, episode: number, first: number, last: number, weightedUnit: Float32Array): void {
    if (weightedUnit.length !== this.dim) throw new RangeError(`segment ${id} has ${weightedUnit.length} dims, index ${this.dim}`);
    if (this.n >= MAX_INDEXED_SEGMENTS) throw new RangeError(`segment index is full (${MAX_INDEXED_SEGMENTS} segments)`);
    if (this.n && id <= this.ids[this.n - 1]!) throw new Error(`segment index out of order: ${id} after ${this.ids[this.n - 1]}`);
    if (!this.store) this.setStore(this.factory(Math.max(INITIAL_CAPACITY, Math.ceil(this.reserved * 1.0625)), this.dim));
    const store = this.store!;
    if (this.n === store.capacity) {
      store.grow(grownCapacity(store.capacity));
      this.widenColumns();
    }
    store.writeRow(this.n, weightedUnit);
    this.ids[this.n] = id;
    this.firstSeq[this.n] = first;
    this.lastSeq[this.n] = last;
    this.episodeOf[this.n] = episode;
    let e = this.byEpisode.get(episode);
    if (!e) this.byEpisode.set(episode, (e = { rows: new Int32Array(16), n: 0 }));
    if (e.n === e.rows.length) {
      const wider = new Int32Array(Math.ceil(e.rows.length * 1.5));
      wider.set(e.rows);
      e.rows = wider;
    }
    e.rows[e.n++] = this.n;
    this.n++;
    store.count = this.n;
    this.scans++;
  }

  /**
   * Empties the index and hands back its store, for a rebuild to fill again
   * (reusingFactory): a rebuild after re-clustering then needs no second
   * WASM memory while the old one waits for garbage collection.
   */
  release(): RowStore[] {
    const stores = this.store ? [this.store] : [];
    this.store = null;
    this.byEpisode.clear();
    this.n = 0;
    this.reserved = 0;
    this.scans++;
    return stores;
  }

  /**
   * Drops every segment with id ≤ `id` (the oldest: a window over the latest
   * segments, mirrors.ts); the store keeps its memory for the rows that
   * follow.
   */
  evictThrough(id: number): void {
    let r = 0, hi = this.n;
    while (r < hi) {
      const mid = (r + hi) >> 1;
      if (this.ids[mid]! <= id) r = mid + 1;
      else hi = mid;
    }
    if (r === 0) return;
    this.store!.dropFirst(r);
    for (const a of [this.ids, this.firstSeq, this.lastSeq, this.episodeOf]) a.copyWithin(0, r, this.n);
    this.n -= r;
    for (const [episode, e] of this.byEpisode) {
      let drop = 0;
      while (drop < e.n && e.rows[drop]! < r) drop++;
      e.rows.copyWithin(0, drop, e.n);
      e.n -= drop;
      for (let i = 0; i < e.n; i++) e.rows[i]! -= r;
      if (e.n === 0) this.byEpisode.delete(episode);
    }
    this.scans++;
  }

  /** Relevance of every segment of `episode` to a weighted unit query. */
  scoreEpisode(episode: number, query: Float32Array): EpisodeScores {
    const e = this.byEpisode.get(episode);
    if (!e || e.n === 0) return { ids: new Int32Array(0), firstSeq: new Int32Array(0), lastSeq: new Int32Array(0), scores: new Float32Array(0), count: 0 };
    const all = this.scan(query);
    const rows = e.rows.subarray(0, e.n);
    return {
      ids: rows.map((i) => this.ids[i]!), firstSeq: rows.map((i) => this.firstSeq[i]!), lastSeq: rows.map((i) => this.lastSeq[i]!),
      scores: Float32Array.from(rows, (i) => all[i]!), count: e.n,
    };
  }

  /**
   * The k segments of `episode` most relevant to a weighted unit query, best
   * first (ties → lower segment id, NaN last): one scan and the top-k inside
   * the row store, so the scores never leave it.
   */
  topOfEpisode(episode: number, query: Float32Array, k: number): IndexedSpan[] {
    return this.queryRanking(query).ofEpisode(episode, k);
  }

  /**
   * Rankings of one query asked repeatedly with growing k (the lazy merge,
   * rank-candidates.ts): `ofEpisode(e, k)`, an episode's best k (ties →
   * lower segment id), and `ofAll(k)`, the best k of every indexed segment
   * (ties → lower segment id); both NaN last. The store is scanned once and
   * each list is a top-k over that scan's scores. Valid while nothing else
   * scans or appends to the index.
   */
  queryRanking(query: Float32Array): { ofEpisode: (episode: number, k: number) => IndexedSpan[]; ofAll: (k: number) => IndexedSpan[] } {
    let scanned = -1;
    const scanOnce = () => {
      if (scanned === this.scans) return;
      this.scan(query);
      scanned = this.scans;
    };
    const spans = (best: TopK, row: (r: number) => number): IndexedSpan[] => {
      const out: IndexedSpan[] = new Array(best.indices.length);
      for (let r = 0; r < out.length; r++) {
        const i = row(best.indices[r]!);
        out[r] = { id: this.ids[i]!, first: this.firstSeq[i]!, last: this.lastSeq[i]!, episode: this.episodeOf[i]!, score: best.scores[r]! };
      }
      return out;
    };
    return {
      ofEpisode: (episode, k) => {
        const e = this.byEpisode.get(episode);
        if (!e || e.n === 0 || k <= 0) return [];
        scanOnce();
        return spans(this.store!.topKOf(e.rows, e.n, Math.min(k, e.n)), (p) => e.rows[p]!);
      },
      ofAll: (k) => {
        if (this.n === 0 || k <= 0) return [];
        scanOnce();
        return spans(this.store!.topKLastScores(Math.min(k, this.n)), (i) => i);
      },
    };
  }

  /** Relevance and span of individual segments (other episodes' representatives); unknown ids, and ids of another episode, are skipped. */
  scoreSegments(episode: number, ids: readonly number[], query: Float32Array): IndexedSpan[] {
    const out: IndexedSpan[] = [];
    for (const id of ids) {
      const i = this.find(id);
      if (i < 0 || this.episodeOf[i] !== episode) continue;
      const v = this.store!.readRow(i);
      let s = 0;
      for (let d = 0; d < this.dim; d++) s += v[d]! * query[d]!;
      out.push({ id, first: this.firstSeq[i]!, last: this.lastSeq[i]!, episode, score: s });
    }
    return out;
  }

  private find(id: number): number {
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

  /** Scores of every row for `query` (the store's view, valid until the next scan). */
  private scan(query: Float32Array): Float32Array {
    this.scans++;
    return this.store!.dotScoresView(query);
  }

  private setStore(store: RowStore): void {
    this.store = store;
    store.count = 0;
    this.widenColumns();
  }

  /** The id, span and episode columns follow the store's capacity (a reused store may hold more than asked for). */
  private widenColumns(): void {
    const capacity = this.store!.capacity;
    const widen = (a: Int32Array): Int32Array<ArrayBuffer> => {
      if (a.length >= capacity) return a as Int32Array<ArrayBuffer>;
      const b = new Int32Array(capacity);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.ids = widen(this.ids);
    this.firstSeq = widen(this.firstSeq);
    this.lastSeq = widen(this.lastSeq);
    this.episodeOf = widen(this.episodeOf);
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
    topKOf,
    topKLastScores: (k) => topKOf(Int32Array.from({ length: last.length }, (_, i) => i), last.length, k),
  };
  function topKOf(rows: Int32Array, n: number, k: number): TopK {
    const scores = last;
    const order = Array.from({ length: n }, (_, p) => p).sort((a, b) => byScoreDesc(scores[rows[a]!]!, scores[rows[b]!]!) || a - b).slice(0, Math.max(0, Math.min(k, n)));
    return { indices: Int32Array.from(order), scores: Float32Array.from(order, (p) => scores[rows[p]!]!) };
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

/** A released store up to this multiple of the requested capacity fits it; a larger one is taken only when no other can serve. */
export const REUSE_MAX_SLACK = 1.5;

/**
 * A factory that first reuses released stores (SegmentIndex.release): the
 * smallest one with at least the requested capacity (up to REUSE_MAX_SLACK
 * times it), else the largest smaller one grown in place to the request,
 * else the smallest larger one, and only with none left a new one from
 * `create`. A WASM store's memory never shrinks and is freed only by a
 * garbage collection, which V8 does not hurry for WebAssembly memory: a
 * rebuild that dropped a store and created another beside it held both
 * until then, and over a long import such pairs piled up (docs/memory.md).
 * Ask for the largest capacities first. Call `done()` after the build so
 * leftovers (more stores than episodes) can be collected.
 */
export function reusingFactory(released: RowStore[], create: RowStoreFactory): { factory: RowStoreFactory; done: () => void } {
  const pool = [...released];
  return {
    factory(capacity, dim) {
      let best = -1;
      // Best fit up to REUSE_MAX_SLACK × the request (a larger store holds its slack for the index's life).
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
      if (best < 0) {
        for (let i = 0; i < pool.length; i++) if (best < 0 || pool[i]!.capacity < pool[best]!.capacity) best = i;
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
