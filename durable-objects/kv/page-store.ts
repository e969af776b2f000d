// Where an episode cache's pages live. The Durable Object stores them in its
// SQLite database (sqlite-page-store.ts); Node tests and the benchmark use the
// in-memory store below, which holds the same encoded blobs. Both are
// synchronous, as Durable Object SQL is.
import type { StoredPage } from "./pages";

export interface KvPageStore {
  /** Pages of one head of one layer of a cache, in page (= position) order. */
  readHead(cache: string, layer: number, head: number): StoredPage[];
  /** Entries per head for one layer (length = kvHeads; zeros for an absent layer). */
  headCounts(cache: string, layer: number, kvHeads: number): number[];
  /** Atomically replaces every page of one layer of a cache. */
  replaceLayer(cache: string, layer: number, pages: readonly StoredPage[]): void;
  /** Copies every page of `from` to `to` (replacing `to`). */
  copyCache(from: string, to: string): void;
  /** Drops a cache's pages: now, or when the last reader that pinned it unpins. */
  dropCache(cache: string): void;
  /** A reader streaming the cache (kvRequestFrame) holds it until unpin: a drop meanwhile waits. */
  pin(cache: string): void;
  unpin(cache: string): void;
  /** Stored blob bytes, of one cache or of all. */
  bytes(cache?: string): number;
}

/**
 * The pinning half of a page store, over the store's own immediate drop. A
 * fold swaps cache generations once per block and drops the ones the
 * previous swap retired, so under load a turn still streaming its
 * generation could lose it to the second swap of a multi-block fold
 * (docs/kv-mode.md, "Storage"): a pinned generation is dropped only after
 * its last reader unpins.
 */
export abstract class PinnablePageStore {
  private readonly pins = new Map<string, number>();
  private readonly deferred = new Set<string>();

  /** Deletes a cache's pages now. */
  protected abstract dropNow(cache: string): void;

  dropCache(cache: string): void {
    if (this.pins.has(cache)) this.deferred.add(cache);
    else this.dropNow(cache);
  }

  pin(cache: string): void {
    this.pins.set(cache, (this.pins.get(cache) ?? 0) + 1);
  }

  /** Releases one pin; the last one runs a drop that waited for it. */
  unpin(cache: string): void {
    const n = (this.pins.get(cache) ?? 0) - 1;
    if (n > 0) return void this.pins.set(cache, n);
    this.pins.delete(cache);
    if (this.deferred.delete(cache)) this.dropNow(cache);
  }

  /** A writer reuses the name: a drop deferred for its earlier contents no longer applies. */
  protected claim(cache: string): void {
    this.deferred.delete(cache);
  }
}

/** In-memory KvPageStore: real encoded pages, no SQLite (Node tests, benchmark). */
export class MemoryPageStore extends PinnablePageStore implements KvPageStore {
  private readonly layers = new Map<string, StoredPage[]>();

  private key(cache: string, layer: number): string {
    return `${cache}\u0000${layer}`;
  }

  readHead(cache: string, layer: number, head: number): StoredPage[] {
    return (this.layers.get(this.key(cache, layer)) ?? []).filter((p) => p.head === head).sort((a, b) => a.page - b.page);
  }

  headCounts(cache: string, layer: number, kvHeads: number): number[] {
    const counts = new Array<number>(kvHeads).fill(0);
    for (const p of this.layers.get(this.key(cache, layer)) ?? []) counts[p.head] += p.count;
    return counts;
  }

  replaceLayer(cache: string, layer: number, pages: readonly StoredPage[]): void {
    this.claim(cache);
    this.layers.set(this.key(cache, layer), [...pages]);
  }

  copyCache(from: string, to: string): void {
    this.claim(to);
    this.dropNow(to);
    for (const [k, v] of [...this.layers]) if (k.startsWith(`${from}\u0000`)) this.layers.set(`${to}\u0000${k.slice(from.length + 1)}`, v.map((p) => ({ ...p, blob: p.blob.slice() })));
  }

  protected dropNow(cache: string): void {
    for (const k of [...this.layers.keys()]) if (k.startsWith(`${cache}\u0000`)) this.layers.delete(k);
  }

  bytes(cache?: string): number {
    let b = 0;
    for (const [k, v] of this.layers) if (cache === undefined || k.startsWith(`${cache}\u0000`)) for (const p of v) b += p.blob.byteLength;
    return b;
  }
}
