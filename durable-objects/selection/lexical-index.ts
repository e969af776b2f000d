// The conversation's lexical index: Okapi BM25 over single messages with
// per-conversation document frequencies (Robertson & Zaragoza 2009;
// docs/context-selection.md), updated incrementally as messages are
// appended. Scoring runs in WASM (wasm/assembly/bm25.ts); this file owns the
// postings and hands the kernel one query's postings at a time.
//
// Terms: lower-cased word tokens (the hashing embedder's tokenizer,
// wasm/src/text-features.ts) reduced by the Porter stemmer, from the
// message's content and its speaker name (so "what did Caroline say…"
// matches Caroline's messages: a one-field stand-in for BM25F).
//
// Memory: postings live in one growing byte pool of blocks, one chain per
// term (a block holds 8, 16, … 1024 bytes of postings after the 4-byte
// offset of the next), so a term costs a few Int32 slots beside its Map
// entry. A posting is compressed as inverted files usually are (Zobel &
// Moffat, "Inverted files for text search engines", 2006, §5): the gap to
// the term's previous document and a flag for tf > 1 in one varint, then tf
// in one byte when it is above 1 (wasm/src/bm25-postings.ts). Most postings
// take 1 or 2 bytes instead of 4. A query copies its terms' block payloads
// one after another and the kernel decodes them; a block's unused tail is
// zero bytes, which the format skips. At most 2^24 documents, tf clamped to 255.
//
// Window: an index may start at document `base` (a conversation whose
// postings would pass the object's cap keeps the latest messages that fit;
// mirrors.ts). Postings, lengths, roles and scores are all relative to
// `base`: a window costs its own messages, not the conversation's.
import type { Bm25Query, Bm25Scorer } from "../../wasm/src/kernels";
import { tokenize } from "../../wasm/src/text-features";
import type { Role } from "../conversation/conversation-api";
import { porterStem } from "./porter-stemmer";
import { boundedMemo } from "./bounded-memo";
import { MAX_POSTING_BYTES, writePosting } from "../../wasm/src/bm25-postings";

/** Role codes 1.. (0: no document). */
const ROLES: readonly (Role | undefined)[] = [undefined, "system", "user", "assistant", "tool"];

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
/** Documents (message seqs) the packed postings can address. */
export const MAX_LEXICAL_DOCUMENTS = 1 << 24;
const MAX_TF = 255;
/** Payload bytes of a term's 1st, 2nd, … block (then the last size again). */
const BLOCK_CAPACITIES = [8, 16, 32, 64, 128, 256, 512, 1024] as const;
/** Bytes of a block's header: the offset of the next block (u32, little-endian; 0: none). */
const BLOCK_HEADER = 4;

/** Words whose stems are remembered (stemming is the index build's main cost; a conversation reuses few words). */
const STEM_CACHE_WORDS = 1 << 16;
const cachedStem = boundedMemo(STEM_CACHE_WORDS, porterStem);

/** The index terms of a text: stemmed word tokens. */
export function lexicalTerms(text: string): string[] {
  return tokenize(text).map(cachedStem);
}

/**
 * Words that mark a sentence as a question — interrogatives and the
 * do-support auxiliary — and never occur in the statement that answers it
 * ("when did I buy the car?" / "I bought the car in May"). A question's
 * BM25 terms leave them out (docs/context-selection.md, step 1); every
 * other word counts, function words included.
 */
export const QUESTION_WORDS: ReadonlySet<string> = new Set(
  ["what", "which", "who", "whom", "whose", "when", "where", "why", "how", "whatever", "whichever", "do", "does", "did"].map(porterStem),
);

/** The terms a question is searched with: its lexical terms without QUESTION_WORDS (all of them when it has nothing else). */
export function questionTerms(text: string): string[] {
  const terms = lexicalTerms(text);
  const kept = terms.filter((t) => !QUESTION_WORDS.has(t));
  return kept.length ? kept : terms;
}

/** A message's terms: its content and, when it has one, its speaker name. */
export function messageTerms(message: { content: string; name?: string | null }): string[] {
  const terms = lexicalTerms(message.content);
  return message.name ? [...lexicalTerms(message.name), ...terms] : terms;
}

/**
 * The idf (Lucene's, below) of a term in half the documents. At or below it
 * the Robertson–Spärck Jones weight is not positive (Robertson & Zaragoza
 * 2009, §3.3): the term is no evidence of relevance. Queries and feedback
 * leave such terms out; they are also the ones with the most postings.
 */
export const MIN_INFORMATIVE_IDF = Math.LN2;

/** Lucene's non-negative BM25 idf: ln(1 + (N − df + 0.5) / (df + 0.5)). */
export function bm25Idf(documents: number, df: number): number {
  return Math.log(1 + (documents - df + 0.5) / (df + 0.5));
}

export class LexicalIndex {
  private readonly termIds = new Map<string, number>();
  /** Per term: first block, last block, bytes used in the last block, its capacity level, df, last document, payload bytes of the full blocks. */
  private head = new Int32Array(1024);
  private tail = new Int32Array(1024);
  private fill = new Int32Array(1024);
  private level = new Uint8Array(1024);
  private df = new Int32Array(1024);
  private lastDocOf = new Int32Array(1024);
  private closedBytes = new Int32Array(1024);
  /** Blocks: [next block offset (4 bytes), encoded postings…, zero bytes]. Offset 0 is never a block. */
  private pool = new Uint8Array(1 << 16);
  private poolTop = 1;
  /** Length in terms of each document, at seq − base (0: not indexed). */
  private lengths = new Uint32Array(1024);
  /** Role of each document by seq − base (ROLE_CODES), which neighbours.ts needs to pair turns. */
  private roleCodes = new Uint8Array(1024);
  /** One past the largest document added, relative to `base`. */
  private span = 0;
  /** Per-query postings buffer reused across turns (a query at 100k messages gathers ~70k postings). */
  private postsScratch = new Uint8Array(1024);
  private documentCount = 0;
  private totalLength = 0;
  private lastDoc = -1;

  /**
   * `base`: the first document (seq) the index may hold; earlier ones score 0. `scorer`: scores this
   * index's queries (turn-ranking.ts) and holds their scores; the index takes it over (clears it).
   */
  constructor(readonly base: number, readonly scorer: Bm25Scorer) {
    if (!Number.isInteger(base) || base < 0 || base >= MAX_LEXICAL_DOCUMENTS) throw new RangeError(`lexical index: base ${base} must be an integer in [0, ${MAX_LEXICAL_DOCUMENTS})`);
    this.lastDoc = base - 1;
    scorer.clear();
  }

  /** Documents indexed (messages with at least one term). */
  get documents(): number {
    return this.documentCount;
  }
  /** One past the largest document (seq) seen. */
  get size(): number {
    return this.base + this.span;
  }
  /** Documents from `base` to the last: the length of a query's scores. */
  get windowSize(): number {
    return this.span;
  }
  get terms(): number {
    return this.termIds.size;
  }
  /** Bytes held by the typed arrays and the scorer, plus an estimate of the term map (64 bytes a term). */
  get bytes(): number {
    return this.ownBytes + this.scorer.bytes;
  }
  /** `bytes` with the scorer at the size the next query gives it (what a cap on the index must count). */
  get bytesOnceQueried(): number {
    return this.ownBytes + this.scorer.bytesFor(this.span);
  }
  private get ownBytes(): number {
    const perTerm = this.head.byteLength + this.tail.byteLength + this.fill.byteLength + this.level.byteLength + this.df.byteLength + this.lastDocOf.byteLength + this.closedBytes.byteLength;
    return this.pool.byteLength + this.lengths.byteLength + this.roleCodes.byteLength + perTerm + this.postsScratch.byteLength + this.termIds.size * 64;
  }

  /** The role of document `doc`, or null when it was never added. */
  role(doc: number): Role | null {
    const d = doc - this.base;
    return d >= 0 && d < this.span ? ROLES[this.roleCodes[d]!] ?? null : null;
  }

  /** Adds document `doc` (ascending: each call's doc exceeds the previous one's) with its role and terms. */
  add(doc: number, role: Role | string, terms: readonly string[]): void {
    if (!Number.isInteger(doc) || doc <= this.lastDoc || doc >= MAX_LEXICAL_DOCUMENTS) {
      throw new RangeError(`lexical index: document ${doc} must be an integer above ${this.lastDoc} and below ${MAX_LEXICAL_DOCUMENTS}`);
    }
    this.lastDoc = doc;
    const d = doc - this.base;
    this.span = d + 1;
    this.lengths = grown(this.lengths, this.span);
    this.roleCodes = grown(this.roleCodes, this.span);
    this.roleCodes[d] = Math.max(0, ROLES.indexOf(role as Role));
    if (!terms.length) return;
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [term, count] of tf) this.post(this.termId(term), d, Math.min(count, MAX_TF));
    this.lengths[d] = terms.length;
    this.documentCount++;
    this.totalLength += terms.length;
  }

  /**
   * The kernel input for a query (its distinct indexed terms, plus expansion terms whose idf is scaled
   * by their weight; related-terms.ts), or null when none of them is indexed. Its postings are a view
   * of a buffer the next query reuses: score them before querying again. Its documents count from
   * `base` (document base + i is i).
   */
  query(terms: readonly string[], expansion: ReadonlyMap<string, number> = new Map()): Bm25Query | null {
    const ids: number[] = [];
    const scale: number[] = [];
    const take = (t: string, w: number) => {
      const id = this.termIds.get(t);
      if (id === undefined) return;
      ids.push(id);
      scale.push(w);
    };
    const own = new Set(terms);
    for (const t of own) take(t, 1);
    for (const [t, w] of expansion) if (!own.has(t) && w > 0) take(t, w);
    if (!ids.length) return null;
    const starts = new Int32Array(ids.length + 1);
    ids.forEach((id, i) => (starts[i + 1] = starts[i]! + this.closedBytes[id]! + this.fill[id]!));
    this.postsScratch = grown(this.postsScratch, starts[ids.length]!);
    const posts = this.postsScratch.subarray(0, starts[ids.length]!);
    const idf = new Float32Array(ids.length);
    ids.forEach((id, i) => {
      idf[i] = scale[i]! * bm25Idf(this.documentCount, this.df[id]!);
      this.copyPostings(id, posts, starts[i]!);
    });
    return {
      posts, starts, idf, lengths: this.lengths.subarray(0, this.span),
      avgDocLength: this.totalLength / this.documentCount, k1: BM25_K1, b: BM25_B,
    };
  }

  /** A term's BM25 idf in this index (0 for a term it does not hold). */
  idf(term: string): number {
    const id = this.termIds.get(term);
    return id === undefined ? 0 : bm25Idf(this.documentCount, this.df[id]!);
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id !== undefined) return id;
    id = this.termIds.size;
    this.termIds.set(term, id);
    if (id >= this.head.length) {
      const n = this.head.length * 2;
      this.head = grown(this.head, n);
      this.tail = grown(this.tail, n);
      this.fill = grown(this.fill, n);
      this.level = grown(this.level, n);
      this.df = grown(this.df, n);
      this.lastDocOf = grown(this.lastDocOf, n);
      this.closedBytes = grown(this.closedBytes, n);
    }
    const block = this.newBlock(0);
    this.head[id] = block;
    this.tail[id] = block;
    this.lastDocOf[id] = -1;
    return id;
  }

  /** A zeroed block of the level's capacity (the pool only grows, and grows zeroed). */
  private newBlock(level: number): number {
    const at = this.poolTop;
    this.poolTop += BLOCK_HEADER + BLOCK_CAPACITIES[level]!;
    this.pool = grown(this.pool, this.poolTop);
    return at;
  }

  /** Appends (doc − base, tf) to term `id`'s chain, encoded (wasm/src/bm25-postings.ts). */
  private post(id: number, doc: number, tf: number): void {
    let lvl = this.level[id]!;
    if (this.fill[id]! + MAX_POSTING_BYTES > BLOCK_CAPACITIES[lvl]!) {
      // The rest of the block stays zero: a zero byte where a posting would start ends the block.
      this.closedBytes[id]! += BLOCK_CAPACITIES[lvl]!;
      lvl = Math.min(lvl + 1, BLOCK_CAPACITIES.length - 1);
      const block = this.newBlock(lvl);
      writeU32(this.pool, this.tail[id]!, block);
      this.tail[id] = block;
      this.fill[id] = 0;
      this.level[id] = lvl;
    }
    const at = writePosting(this.pool, this.tail[id]! + BLOCK_HEADER + this.fill[id]!, doc - this.lastDocOf[id]!, tf);
    this.fill[id] = at - this.tail[id]! - BLOCK_HEADER;
    this.lastDocOf[id] = doc;
    this.df[id]!++;
  }

  /** Copies term `id`'s block payloads to out[at, …), one after another (closedBytes + fill bytes). */
  private copyPostings(id: number, out: Uint8Array, at: number): void {
    let block = this.head[id]!;
    for (let lvl = 0; block !== this.tail[id]; lvl = Math.min(lvl + 1, BLOCK_CAPACITIES.length - 1)) {
      out.set(this.pool.subarray(block + BLOCK_HEADER, block + BLOCK_HEADER + BLOCK_CAPACITIES[lvl]!), at);
      at += BLOCK_CAPACITIES[lvl]!;
      block = readU32(this.pool, block);
    }
    out.set(this.pool.subarray(block + BLOCK_HEADER, block + BLOCK_HEADER + this.fill[id]!), at);
  }
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** `a`, or a copy at least `n` long (doubling) when it is shorter. */
function grown<T extends Uint32Array | Int32Array | Uint8Array>(a: T, n: number): T {
  if (n <= a.length) return a;
  const out = new (a.constructor as new (n: number) => T)(grownLength(a.length, n));
  out.set(a);
  return out;
}

/**
 * Arrays this long and longer grow by a quarter, not double: the index's
 * bytes then follow its content within 25%, so the cap holds more messages
 * and a window of ¾ the messages needs about ¾ the bytes (with doubling it
 * could need all of them, and a window move built twice).
 */
const LINEAR_GROWTH_FROM = 1 << 18;

/** `length` grown (doubling, then by quarters from LINEAR_GROWTH_FROM) until it holds `n` (at least 1024). */
function grownLength(length: number, n: number): number {
  let size = Math.max(length, 1024);
  while (size < n) size = size < LINEAR_GROWTH_FROM ? size * 2 : size + (size >> 2);
  return size;
}
