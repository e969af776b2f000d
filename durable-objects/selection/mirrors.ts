// The in-memory mirrors a turn's selection reads instead of SQLite: the
// lexical index over messages (lexical-index.ts), the
// segment relevance index (segment-index.ts), the message metadata
// (message-meta.ts), recently selected message rows (message-cache.ts) and
// the parsed IDF of the last full clustering.
//
// Each mirror is built from SQLite on first use and follows storage: the
// object appends to it only after a write committed (`followAppend`), drops
// it when it would grow past its cap (selection then reads SQLite), and the
// alarm rebuilds the index after a re-clustering. The segment index is a
// window instead: it keeps the latest MAX_INDEXED_SEGMENTS segments, the
// oldest leaving in chunks as appends arrive (docs/memory.md); so is the
// lexical index once the whole conversation's postings would pass their cap
// (the latest messages that fit, `nextLexicalFloor`). The one write here is
// that window's first seq, a hint in meta, so that a restarted object builds
// the window directly instead of first building past the cap.
import { ResidentColumns } from "../../wasm/src/bindings/retrieval";
import { ResidentBm25 } from "../../wasm/src/bindings/resident-bm25";
import { kernelsModule } from "../../wasm/src/bundled";
import { reweightRows } from "../episodes/bucket-idf";
import { storedMessageRow, type ConversationStore, type MessageRow } from "../conversation/conversation-store";
import { readBlobInto } from "../storage/vector-blob";
import type { ConversationMemory } from "../conversation/conversation-api";
import { MAX_INDEXED_SEGMENTS, reusingFactory, SegmentIndex } from "./segment-index";
import { MessageMeta } from "./message-meta";
import { MessageCache } from "./message-cache";
import { LexicalIndex, MAX_LEXICAL_DOCUMENTS, messageTerms } from "./lexical-index";
import { keepLexicalFloor, LEXICAL_BUILD_SHARE, lexicalFloor, nextLexicalFloor } from "./lexical-window";

/** Segment embeddings per SQL read (index builds). */
export const EMBEDDING_BATCH = 512;
/** The index's window drops 1/INDEX_EVICTION_PARTS of itself at once when appends pass it, so its store shifts its rows once per chunk, not per append. */
export const INDEX_EVICTION_PARTS = 8;
/** Rows per SQL read when building the in-memory message metadata. */
export const META_BATCH = 8192;
/** Messages the metadata mirror covers at most (8 bytes each: 16 MB); past it candidates are widened with SQL reads. */
export const MAX_META_MESSAGES = 2_000_000;
/** Message rows per SQL read when building the lexical index. */
export const LEXICAL_BATCH = 2048;
/**
 * Bytes the lexical index may hold (≈ 110k messages of the memory bench's
 * text, whose every message adds a new term, "msg 12345"; ≈ 400k of the
 * evaluation's chat text, with compressed postings); past it the index
 * covers the latest messages that fit, so the object stays inside its
 * memory budget (docs/context-selection.md, "Memory and time"; 16 MiB
 * beside the segment index's window and the JS heap keeps the isolate
 * under 96 MB, docs/memory.md).
 */
export const MAX_LEXICAL_BYTES = 16 * 1024 * 1024;
/** Characters of message text the per-object cache keeps (≈ 2 MB; a 4k-token context is ≈ 16k characters). */
export const MESSAGE_CACHE_CHARS = 1 << 20;
/**
 * An append's newest rows that go into the text cache as they commit: the next turn's recent window
 * reads them (one SQL read a turn otherwise, ≈ 0.1 ms in workerd). An import's older rows stay out.
 */
export const CACHED_APPEND_ROWS = 64;

/** A segment stored by a committed append, with its unweighted embedding (the index weights it with clusterIdf as it copies it in). */
export interface IndexedSegment {
  id: number;
  episode: number;
  first: number;
  last: number;
  vec: Float32Array;
}

export type MirrorMemory = ConversationMemory;

export class ConversationMirrors {
  /** In-memory relevance index of the segments; null until built, or when too large. */
  private index: SegmentIndex | null = null;
  /** Token weights and tool-unit heads of every message; null until first needed. */
  private meta: MessageMeta | null = null;
  /** Rows of recently selected messages: consecutive turns send largely the same ones. */
  readonly texts = new MessageCache(MESSAGE_CACHE_CHARS);
  private idfParsed: { raw: string; idf: Float32Array } | null = null;
  /** BM25 postings of every message from its window's floor on; null until first needed, after the window moved (rebuilt on next use), or when none fits. */
  private lexical: LexicalIndex | null = null;
  /** Not even MIN_LEXICAL_WINDOW messages fit MAX_LEXICAL_BYTES: not rebuilt on every turn. */
  private lexicalTooLarge = false;

  /** `lexicalCapBytes`: MAX_LEXICAL_BYTES, `indexWindow`: MAX_INDEXED_SEGMENTS; smaller in tests. */
  constructor(private readonly store: ConversationStore, private readonly lexicalCapBytes = MAX_LEXICAL_BYTES, private readonly indexWindow = MAX_INDEXED_SEGMENTS) {}

  memory(): MirrorMemory {
    return {
      index_segments: this.index?.size ?? 0, index_bytes: this.index?.bytes ?? 0, message_meta_bytes: this.meta?.bytes ?? 0, message_cache_bytes: this.texts.bytes,
      lexical_documents: this.lexical?.documents ?? 0, lexical_first_seq: this.lexical?.base ?? 0, lexical_terms: this.lexical?.terms ?? 0, lexical_bytes: this.lexical?.bytes ?? 0,
    };
  }

  /** Forgets every mirror (the storage underneath was deleted). */
  clear(): void {
    this.index = null;
    this.meta = null;
    this.lexical = null;
    this.lexicalTooLarge = false;
    this.texts.clear();
  }

  /** Called only after the append's transaction committed: the mirrors follow storage. */
  followAppend(rows: readonly MessageRow[], indexed: readonly IndexedSegment[]): void {
    if (this.lexical && rows.length) this.followLexical(this.lexical, rows);
    for (const r of rows.slice(-CACHED_APPEND_ROWS)) this.texts.put(r.seq, storedMessageRow(r));
    if (this.meta) {
      if ((rows.length && rows[0]!.seq !== this.meta.count) || this.meta.count + rows.length > MAX_META_MESSAGES) this.meta = null;
      else for (const r of rows) this.meta.append(r.seq, r.weight, r.unit_head);
    }
    if (this.index && indexed.length) {
      const index = this.index;
      let floor = 0;
      if (index.size + indexed.length > this.indexWindow) {
        floor = this.store.segmentWindowFloor(this.indexWindow - Math.ceil(this.indexWindow / INDEX_EVICTION_PARTS));
        index.evictThrough(floor);
      }
      const weighted = new Float32Array(index.dim);
      const idf = this.clusterIdf(); // the IDF the append assigned with: only a re-clustering changes it
      for (const x of indexed) if (x.id > floor) index.append(x.id, x.episode, x.first, x.last, this.weightInto(weighted, x.vec, idf));
    }
  }

  /** Rebuilds the index after a re-clustering (alarm), in the background, into the old index's WASM memories. */
  rebuildIndex(): void {
    const old = this.index;
    this.index = null;
    this.segmentIndex(old);
  }

  /**
   * The segment index over the latest `indexWindow` segments, built
   * from SQLite on first use (null when there are no segments); `reuse`: a
   * previous index whose row stores the build fills again (same dim), so a
   * rebuild does not double the memory.
   */
  segmentIndex(reuse: SegmentIndex | null = null): SegmentIndex | null {
    if (this.index) return this.index;
    const n = this.store.counter("segments");
    const dim = Number(this.store.meta("dim") ?? 0);
    if (n === 0 || dim === 0) return null;
    const idf = this.clusterIdf();
    const create = (capacity: number, d: number) => ResidentColumns.create(kernelsModule, capacity, d);
    const pool = reusingFactory(reuse && reuse.dim === dim ? reuse.release() : [], create);
    const index = new SegmentIndex(pool.factory, dim);
    const floor = this.store.segmentWindowFloor(this.indexWindow);
    for (const { episode, n } of this.store.segmentCountsByEpisode(floor)) index.reserve(episode ?? -1, n);
    // Each blob is decoded and weighted into one scratch vector that the row store copies: no array per segment (docs/memory.md).
    const weighted = new Float32Array(dim);
    for (let after = floor; ; ) {
      const batch = this.store.embeddingBatch(after, EMBEDDING_BATCH, null);
      if (!batch.length) break;
      for (const s of batch) {
        reweightRows(readBlobInto(s.vec, weighted), dim, idf);
        index.append(s.id, s.episode ?? -1, s.first_seq, s.last_seq, weighted);
      }
      after = batch[batch.length - 1]!.id;
    }
    pool.done();
    this.index = index;
    return index;
  }

  /** normalize(idf ⊙ vec) in `out` (reweightRows' arithmetic, so the index holds what reweight gives). */
  private weightInto(out: Float32Array, vec: Float32Array, idf: Float32Array | null): Float32Array {
    out.set(vec);
    reweightRows(out, out.length, idf);
    return out;
  }

  /**
   * The lexical index, built from SQLite on first use (one pass over the
   * messages' text from the window's floor, LEXICAL_BATCH rows a read).
   * When it would pass LEXICAL_BUILD_SHARE of MAX_LEXICAL_BYTES it is built
   * again over the latest messages that fit (`nextLexicalFloor`), and the
   * floor is kept in meta. Null when the conversation has more messages
   * than packed postings address, or when not even MIN_LEXICAL_WINDOW
   * messages fit (then it is not built again until the object restarts:
   * `lexicalTooLarge`).
   */
  lexicalIndex(): LexicalIndex | null {
    if (this.lexical) return this.lexical;
    if (this.lexicalTooLarge || this.store.counter("messages") >= MAX_LEXICAL_DOCUMENTS) return null;
    for (let floor: number | null = lexicalFloor(this.store, this.lexicalCapBytes); floor !== null; ) {
      const built = this.buildLexical(floor);
      if (built instanceof LexicalIndex) return (this.lexical = built);
      floor = nextLexicalFloor(floor, built.reached, this.store.lastMessage()?.seq ?? built.reached);
      if (floor !== null) keepLexicalFloor(this.store, floor, this.lexicalCapBytes);
    }
    this.lexicalTooLarge = true;
    return null;
  }

  /** The index of messages from `floor` on, or the seq at which it passed its share of the cap (then it is garbage). */
  private buildLexical(floor: number): LexicalIndex | { reached: number } {
    // Its own scorer (lengths and scores in a WASM instance sized to it): WASM memory never shrinks, and a window is rebuilt smaller.
    const lexical = new LexicalIndex(floor, ResidentBm25.create(kernelsModule));
    for (let after = floor - 1; ; ) {
      const batch = this.store.page(after, LEXICAL_BATCH);
      if (!batch.length) return lexical;
      for (const r of batch) lexical.add(r.seq, r.role, messageTerms(r));
      after = batch[batch.length - 1]!.seq;
      if (lexical.bytesOnceQueried > this.lexicalCapBytes * LEXICAL_BUILD_SHARE) return { reached: after };
    }
  }

  /** Adds committed rows to the index; past the cap the window moves, and the next turn rebuilds it from the new floor. */
  private followLexical(lexical: LexicalIndex, rows: readonly MessageRow[]): void {
    const last = rows[rows.length - 1]!.seq;
    if (last >= MAX_LEXICAL_DOCUMENTS) {
      this.lexical = null;
      return;
    }
    for (const r of rows) lexical.add(r.seq, r.role, messageTerms(r));
    if (lexical.bytesOnceQueried <= this.lexicalCapBytes) return;
    this.lexical = null;
    const floor = nextLexicalFloor(lexical.base, last, last);
    if (floor === null) this.lexicalTooLarge = true;
    else keepLexicalFloor(this.store, floor, this.lexicalCapBytes);
  }

  /** The message metadata mirror, built from SQLite on first use (null past MAX_META_MESSAGES: SQL reads then). */
  messageMeta(): MessageMeta | null {
    if (this.meta) return this.meta;
    if (this.store.counter("messages") > MAX_META_MESSAGES) return null;
    const meta = new MessageMeta();
    for (let after = -1; ; ) {
      const batch = this.store.messageMetaBatch(after, META_BATCH);
      if (!batch.length) break;
      for (const r of batch) meta.append(r.seq, r.weight, r.unit_head);
      after = batch[batch.length - 1]!.seq;
    }
    this.meta = meta;
    return meta;
  }

  /**
   * The IDF of the last full clustering (null before it, or for remote
   * embedders), parsed once per stored value: every turn weights its query
   * with it. Read-only.
   */
  clusterIdf(): Float32Array | null {
    const raw = this.store.meta("cluster_idf");
    if (raw === null) return null;
    if (this.idfParsed?.raw !== raw) this.idfParsed = { raw, idf: Float32Array.from(JSON.parse(raw) as number[]) };
    return this.idfParsed.idf;
  }
}
