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
  dropCache(cache: string): void;
  /** Stored blob bytes, of one cache or of all. */
  bytes(cache?: string): number;
}

/** In-memory KvPageStore: real encoded pages, no SQLite (Node tests, benchmark). */
export class MemoryPageStore implements KvPageStore {
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
    this.layers.set(this.key(cache, layer), [...pages]);
  }

  copyCache(from: string, to: string): void {
    this.dropCache(to);
    for (const [k, v] of [...this.layers]) if (k.startsWith(`${from}\u0000`)) this.layers.set(`${to}\u0000${k.slice(from.length + 1)}`, v.map((p) => ({ ...p, blob: p.blob.slice() })));
  }

  dropCache(cache: string): void {
    for (const k of [...this.layers.keys()]) if (k.startsWith(`${cache}\u0000`)) this.layers.delete(k);
  }

  bytes(cache?: string): number {
    let b = 0;
    for (const [k, v] of this.layers) if (cache === undefined || k.startsWith(`${cache}\u0000`)) for (const p of v) b += p.blob.byteLength;
    return b;
  }
}
