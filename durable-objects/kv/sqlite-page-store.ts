// KvPageStore in the Durable Object's SQLite database (table kv_pages,
// conversation/schema.ts migration 4): one row per page of one head of one layer of one episode
// cache generation, blob ≤ MAX_PAGE_BYTES. Reads go one head at a time, so
// streaming a cache never holds more than one head's pages.
import type { Sql } from "../storage/sql";
import { PinnablePageStore, type KvPageStore } from "./page-store";
import type { StoredPage } from "./pages";

interface PageRow {
  head: number;
  page: number;
  first_position: number;
  last_position: number;
  count: number;
  has_acc: number;
  blob: ArrayBuffer;
}

function toBuffer(b: Uint8Array): ArrayBuffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : (b.slice().buffer as ArrayBuffer);
}

export class SqlitePageStore extends PinnablePageStore implements KvPageStore {
  constructor(private readonly sql: Sql) {
    super();
  }

  readHead(cache: string, layer: number, head: number): StoredPage[] {
    return this.sql
      .all<PageRow>`SELECT head, page, first_position, last_position, count, has_acc, blob FROM kv_pages WHERE cache = ${cache} AND layer = ${layer} AND head = ${head} ORDER BY page`
      .map((r) => ({ head: r.head, page: r.page, firstPosition: r.first_position, lastPosition: r.last_position, count: r.count, hasAcc: r.has_acc !== 0, blob: new Uint8Array(r.blob) }));
  }

  headCounts(cache: string, layer: number, kvHeads: number): number[] {
    const counts = new Array<number>(kvHeads).fill(0);
    for (const r of this.sql.all<{ head: number; n: number }>`SELECT head, SUM(count) AS n FROM kv_pages WHERE cache = ${cache} AND layer = ${layer} GROUP BY head`) {
      if (r.head >= kvHeads) throw new RangeError(`kv cache ${cache} layer ${layer} has a page of head ${r.head}, model has ${kvHeads} KV heads`);
      counts[r.head] = r.n;
    }
    return counts;
  }

  /** Callers run this inside the object's transaction (the DO's writes are transactionSync). */
  replaceLayer(cache: string, layer: number, pages: readonly StoredPage[]): void {
    this.claim(cache);
    this.sql.run`DELETE FROM kv_pages WHERE cache = ${cache} AND layer = ${layer}`;
    for (const p of pages) {
      this.sql.run`INSERT INTO kv_pages (cache, layer, head, page, first_position, last_position, count, has_acc, blob)
                   VALUES (${cache}, ${layer}, ${p.head}, ${p.page}, ${p.firstPosition}, ${p.lastPosition}, ${p.count}, ${p.hasAcc ? 1 : 0}, ${toBuffer(p.blob)})`;
    }
  }

  copyCache(from: string, to: string): void {
    this.claim(to);
    this.dropNow(to);
    this.sql.run`INSERT INTO kv_pages (cache, layer, head, page, first_position, last_position, count, has_acc, blob)
                 SELECT ${to}, layer, head, page, first_position, last_position, count, has_acc, blob FROM kv_pages WHERE cache = ${from}`;
  }

  protected dropNow(cache: string): void {
    this.sql.run`DELETE FROM kv_pages WHERE cache = ${cache}`;
  }

  bytes(cache?: string): number {
    const r = cache === undefined
      ? this.sql.first<{ b: number | null }>`SELECT SUM(length(blob)) AS b FROM kv_pages`
      : this.sql.first<{ b: number | null }>`SELECT SUM(length(blob)) AS b FROM kv_pages WHERE cache = ${cache}`;
    return r?.b ?? 0;
  }
}
