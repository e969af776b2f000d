// Typed access to one conversation's SQLite tables (schema.ts). Every query
// of the object lives here; ConversationDO decides when to call them.
import { fromBlob, toBlob } from "../storage/vector-blob";
import type { ConversationSettings, StoredMessage } from "./conversation-api";
import type { StoredChainView } from "./hash-chain";
import type { OnlineCentroid } from "../episodes/episodes";
import type { Sql, SqlValue } from "../storage/sql";
import { insertRows, MAX_BOUND_PARAMETERS } from "../storage/sql-batch";
import type { Utterance } from "../episodes/segmentation";
import { BoundedMap } from "../selection/bounded-memo";

export interface MessageRow {
  seq: number;
  id: string;
  role: string;
  content: string;
  name: string | null;
  tool_call_id: string | null;
  tool_calls: string | null;
  tokens: number;
  digest: string;
  chain: string;
  created_at: number;
  weight: number;
  unit_head: number;
}

/** What an append and the history rule read of the newest message. */
export type TailMessage = Pick<MessageRow, "seq" | "role" | "tool_calls" | "unit_head" | "digest" | "chain" | "created_at">;

export interface MessageMetaRow {
  seq: number;
  weight: number;
  unit_head: number;
}

export interface SegmentRow {
  id: number;
  first_seq: number;
  last_seq: number;
  episode: number | null;
  score: number;
}

export interface EpisodeRow extends OnlineCentroid {
  representatives: number[];
  top_terms: string[];
}

const MESSAGE_COLUMNS = ["seq", "id", "role", "content", "name", "tool_call_id", "tool_calls", "tokens", "digest", "chain", "created_at", "weight", "unit_head"] as const;


/** The columns a stored message is answered with (storedMessage). */
export type StoredMessageRow = Pick<MessageRow, "seq" | "id" | "role" | "content" | "name" | "tool_call_id" | "tool_calls" | "tokens" | "created_at">;

/** The columns of a row that messagesBySeq reads (what the text cache keeps; no digest or chain). */
export function storedMessageRow(r: MessageRow): StoredMessageRow {
  return { seq: r.seq, id: r.id, role: r.role, content: r.content, name: r.name, tool_call_id: r.tool_call_id, tool_calls: r.tool_calls, tokens: r.tokens, created_at: r.created_at };
}

export function storedMessage(row: StoredMessageRow): StoredMessage {
  const m: StoredMessage = { seq: row.seq, id: row.id, role: row.role as StoredMessage["role"], content: row.content, tokens: row.tokens, created_at: row.created_at };
  if (row.name !== null) m.name = row.name;
  if (row.tool_call_id !== null) m.tool_call_id = row.tool_call_id;
  if (row.tool_calls !== null) m.tool_calls = JSON.parse(row.tool_calls) as unknown[];
  return m;
}

function copyEpisode(e: Readonly<EpisodeRow>): EpisodeRow {
  return { id: e.id, centroid: e.centroid.slice(), size: e.size, representatives: [...e.representatives], top_terms: [...e.top_terms] };
}

/** `rows` (ascending ids) with `row` replacing the one of its id, or inserted in id order. */
function upsertById<T extends { id: number }>(rows: readonly T[], row: T): T[] {
  const out = rows.filter((r) => r.id !== row.id);
  let at = out.length;
  while (at > 0 && out[at - 1]!.id > row.id) at--;
  out.splice(at, 0, row);
  return out;
}

/** Sorted distinct seqs as [first, last] runs of consecutive values. */
export function seqRuns(seqs: readonly number[]): [number, number][] {
  const sorted = Int32Array.from(seqs).sort();
  const runs: [number, number][] = [];
  for (const s of sorted) {
    const run = runs[runs.length - 1];
    if (run && s <= run[1] + 1) run[1] = Math.max(run[1], s);
    else runs.push([s, s]);
  }
  return runs;
}

/** `IN (?, …)` lists stay under the bound-parameter cap. */
function inChunks<T>(values: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += MAX_BOUND_PARAMETERS) out.push(values.slice(i, i + MAX_BOUND_PARAMETERS));
  return out;
}

/** Runs `fn` as one all-or-nothing transaction (workerd: ctx.storage.transactionSync). */
export type RunTransaction = <T>(fn: () => T) => T;

/** Chain values the store keeps (a history match reads O(log n) of them, the first one every turn). */
const CACHED_CHAINS = 1024;

export class ConversationStore {
  // Write-through copies of the small tables a turn reads dozens of times
  // (meta, counters, episodes: about 35 SQL reads per turn before). Every
  // write goes through this class and updates them after SQLite accepted it;
  // a transaction that throws has been rolled back, so they are dropped then
  // (transaction) and read again from storage.
  private readonly metaCache = new Map<string, string | null>();
  private readonly counterCache = new Map<string, number>();
  private episodeCache: EpisodeRow[] | null = null;
  /**
   * Bumped by every write to messages or segments, and when the cached rows
   * are dropped: a value read from them and kept with the version it was
   * read at is still current while the version is (lastMessage here; the
   * turn's history match and the next append's base, conversation-do.ts).
   */
  private version = 0;
  /** The same for messages alone: what was read of them (the last message, the system messages) stays current across segment writes. */
  private messageVersion = 0;
  private lastMessageCache: { version: number; row: TailMessage | null } | null = null;
  private pinnedCache: { version: number; rows: MessageMetaRow[] } | null = null;
  /**
   * Hash-chain values read by seq (every turn's history match reads the first message's, hash-chain.ts):
   * a stored message's chain never changes until a fork supersedes it, which drops them.
   */
  private readonly chains = new BoundedMap<number, string>(CACHED_CHAINS);

  constructor(readonly sql: Sql, private readonly runTransaction: RunTransaction = (fn) => fn()) {}

  /** `fn` in one transaction; on failure (storage rolled back) the cached rows are dropped. */
  transaction<T>(fn: () => T): T {
    try {
      return this.runTransaction(fn);
    } catch (err) {
      this.forgetCached();
      throw err;
    }
  }

  /** Drops the cached rows (after a failed transaction, or storage deleted underneath). */
  forgetCached(): void {
    this.version++;
    this.messageVersion++;
    this.chains.clear();
    this.metaCache.clear();
    this.counterCache.clear();
    this.episodeCache = null;
  }

  // --- meta and counters -------------------------------------------------
  meta(key: string): string | null {
    if (this.metaCache.has(key)) return this.metaCache.get(key)!;
    const value = this.sql.first<{ value: string }>`SELECT value FROM meta WHERE key = ${key}`?.value ?? null;
    this.metaCache.set(key, value);
    return value;
  }
  setMeta(key: string, value: string): void {
    this.sql.run`INSERT INTO meta (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
    this.metaCache.set(key, value);
  }
  metaJson<T>(key: string): T | null {
    const raw = this.meta(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  }
  exists(): boolean {
    return this.meta("id") !== null;
  }
  settings(): ConversationSettings | null {
    return this.metaJson<ConversationSettings>("settings");
  }
  counter(name: string): number {
    const cached = this.counterCache.get(name);
    if (cached !== undefined) return cached;
    const value = this.sql.first<{ value: number }>`SELECT value FROM counters WHERE name = ${name}`?.value ?? 0;
    this.counterCache.set(name, value);
    return value;
  }
  setCounter(name: string, value: number): void {
    this.sql.run`INSERT INTO counters (name, value) VALUES (${name}, ${value}) ON CONFLICT (name) DO UPDATE SET value = excluded.value`;
    this.counterCache.set(name, value);
  }
  addCounter(name: string, delta: number): void {
    this.sql.run`INSERT INTO counters (name, value) VALUES (${name}, ${delta}) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`;
    const cached = this.counterCache.get(name);
    if (cached === undefined) return;
    // SQLite adds integers exactly and reals in f64, as JS does.
    this.counterCache.set(name, cached + delta);
  }

  // --- messages ----------------------------------------------------------
  messageCount(): number {
    return this.sql.first<{ n: number }>`SELECT COUNT(*) AS n FROM messages`!.n;
  }
  chainView(count: number): StoredChainView {
    return {
      count,
      chainAt: (seq) => this.chainAt(seq),
      tailDigests: (n) => {
        if (n <= 0) return [];
        // A request of one new message asks for the last stored digest: the cached last message has it.
        const last = n === 1 && this.lastMessageCache?.version === this.messageVersion ? this.lastMessageCache.row : undefined;
        if (last && last.seq === count - 1) return [last.digest];
        return this.sql.all<{ digest: string }>`SELECT digest FROM messages WHERE seq >= ${count - n} ORDER BY seq`.map((r) => r.digest);
      },
      hasSystemDigest: (digest) => this.sql.first`SELECT 1 AS x FROM messages WHERE digest = ${digest} AND role = 'system' LIMIT 1` !== null,
    };
  }
  /** The version of messages and segments (see `version`): unchanged means no write since. */
  get writeVersion(): number {
    return this.version;
  }
  lastMessage(): TailMessage | null {
    if (this.lastMessageCache?.version === this.messageVersion) return this.lastMessageCache.row;
    const row = this.sql.first<TailMessage>`SELECT seq, role, tool_calls, unit_head, digest, chain, created_at FROM messages ORDER BY seq DESC LIMIT 1`;
    this.lastMessageCache = { version: this.messageVersion, row };
    return row;
  }
  /** The last message before `seq` (the live tail once a fork at `seq` has superseded the rest). */
  lastMessageBefore(seq: number): TailMessage | null {
    return this.sql.first`SELECT seq, role, tool_calls, unit_head, digest, chain, created_at FROM messages WHERE seq < ${seq} ORDER BY seq DESC LIMIT 1`;
  }
  /**
   * Messages created before `t` among the first `count`: created_at never
   * decreases along seq (appends only, each at its own time), so a binary
   * search with O(log N) point reads, after one read for the usual case
   * (the last message is older than `t`: the client saw them all). A
   * caller that has just read the newest message passes it, and that read
   * is saved.
   */
  countCreatedBefore(t: number, count: number, newest?: Pick<MessageRow, "seq" | "created_at"> | null): number {
    if (count === 0) return 0;
    const last = newest?.seq === count - 1 ? newest.created_at
      : this.sql.first<{ created_at: number }>`SELECT created_at FROM messages WHERE seq = ${count - 1}`?.created_at;
    if (last !== undefined && last < t) return count;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const at = this.sql.first<{ created_at: number }>`SELECT created_at FROM messages WHERE seq = ${mid}`?.created_at ?? Number.POSITIVE_INFINITY;
      if (at < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  private chainAt(seq: number): string {
    const known = this.chains.get(seq);
    if (known !== undefined) return known;
    const chain = this.sql.first<{ chain: string }>`SELECT chain FROM messages WHERE seq = ${seq}`?.chain ?? "";
    if (chain !== "") this.chains.set(seq, chain);
    return chain;
  }
  /** Moves messages at and after `seq` to superseded_messages (fork.ts); returns how many and their weight. */
  supersedeMessagesFrom(seq: number, now: number): { count: number; weight: number } {
    this.chains.clear();
    const moved = this.sql.first<{ n: number; w: number | null }>`SELECT COUNT(*) AS n, SUM(weight) AS w FROM messages WHERE seq >= ${seq}`!;
    const columns = MESSAGE_COLUMNS.join(", ");
    this.sql.exec(`INSERT INTO superseded_messages (${columns}, superseded_at) SELECT ${columns}, ? FROM messages WHERE seq >= ?`, [now, seq]);
    this.sql.run`DELETE FROM messages WHERE seq >= ${seq}`;
    this.version++;
    this.messageVersion++;
    return { count: moved.n, weight: moved.w ?? 0 };
  }
  /** Superseded messages with seq in (after, through], oldest fork first (listing with include_superseded). */
  supersededBetween(after: number, through: number): (MessageRow & { superseded_at: number })[] {
    return this.sql.all`SELECT * FROM superseded_messages WHERE seq > ${after} AND seq <= ${through} ORDER BY seq, superseded_at`;
  }
  insertMessages(rows: readonly MessageRow[]): void {
    const known = this.lastMessageCache?.version === this.messageVersion ? this.lastMessageCache.row : undefined;
    const pinned = this.pinnedCache?.version === this.messageVersion ? this.pinnedCache.rows : undefined;
    insertRows(this.sql, "messages", MESSAGE_COLUMNS, rows.map((r) => MESSAGE_COLUMNS.map((c) => r[c] as SqlValue)));
    this.version++;
    this.messageVersion++;
    // Rows after the known last message make the last of them the last message: the next turn's history match reads no SQL.
    const last = rows[rows.length - 1];
    if (known !== undefined && last && (known === null || rows[0]!.seq > known.seq)) {
      this.lastMessageCache = { version: this.messageVersion, row: { seq: last.seq, role: last.role, tool_calls: last.tool_calls, unit_head: last.unit_head, digest: last.digest, chain: last.chain, created_at: last.created_at } };
      if (pinned) {
        const added = rows.filter((r) => r.role === "system").map((r) => ({ seq: r.seq, weight: r.weight, unit_head: r.unit_head }));
        this.pinnedCache = { version: this.messageVersion, rows: added.length ? pinned.concat(added) : pinned };
      }
    }
  }
  page(after: number, limit: number): MessageRow[] {
    return this.sql.all<MessageRow>`SELECT * FROM messages WHERE seq > ${after} ORDER BY seq LIMIT ${limit}`;
  }
  /**
   * The stored messages with these seqs. One query for the whole selection:
   * selected messages come in runs (segments, the recent window), so the
   * seqs are sent as [first, last] runs in one JSON parameter and each run is
   * a primary-key range scan; only the answered columns are read.
   */
  messagesBySeq(seqs: readonly number[]): Map<number, StoredMessageRow> {
    const out = new Map<number, StoredMessageRow>();
    const runs = seqRuns(seqs);
    if (!runs.length) return out;
    type Raw = [number, string, string, string, string | null, string | null, string | null, number, number];
    const rows = this.sql.allRaw<Raw>`SELECT m.seq, m.id, m.role, m.content, m.name, m.tool_call_id, m.tool_calls, m.tokens, m.created_at
      FROM json_each(${JSON.stringify(runs)}) AS r CROSS JOIN messages m ON m.seq BETWEEN json_extract(r.value, '$[0]') AND json_extract(r.value, '$[1]')`;
    for (const [seq, id, role, content, name, tool_call_id, tool_calls, tokens, created_at] of rows) {
      out.set(seq, { seq, id, role, content, name, tool_call_id, tool_calls, tokens, created_at });
    }
    return out;
  }
  utterancesBetween(first: number, last: number): Utterance[] {
    return this.sql.all<Utterance>`SELECT seq, role, content, name FROM messages WHERE seq BETWEEN ${first} AND ${last} AND role != 'system' ORDER BY seq`;
  }
  /** Utterances after `afterSeq` (the open segment tail; fewer than a window). */
  utterancesAfter(afterSeq: number, limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): Utterance[] {
    return this.sql.all<Utterance>`SELECT seq, role, content, name FROM messages WHERE seq > ${afterSeq} AND seq < ${beforeSeq} AND role != 'system' ORDER BY seq LIMIT ${limit}`;
  }
  /** The system messages' metadata (read-only: the rows are kept until a write other than an append). */
  pinnedMeta(): readonly MessageMetaRow[] {
    if (this.pinnedCache?.version !== this.messageVersion) {
      this.pinnedCache = { version: this.messageVersion, rows: this.sql.all<MessageMetaRow>`SELECT seq, weight, unit_head FROM messages WHERE role = 'system' ORDER BY seq` };
    }
    return this.pinnedCache.rows;
  }
  /** The last `n` messages' metadata, widened back to the head of the first one's tool unit. */
  recentMeta(n: number, count: number): MessageMetaRow[] {
    if (n <= 0 || count === 0) return [];
    const from = Math.max(0, count - n);
    const head = this.sql.first<{ unit_head: number }>`SELECT unit_head FROM messages WHERE seq = ${from}`?.unit_head ?? from;
    return this.sql.all<MessageMetaRow>`SELECT seq, weight, unit_head FROM messages WHERE seq >= ${Math.min(head, from)} ORDER BY seq`;
  }
  /** One batch of message metadata, seqs above `afterSeq` (a cursor: callers loop on the last seq). */
  messageMetaBatch(afterSeq: number, limit: number): MessageMetaRow[] {
    return this.sql.all<MessageMetaRow>`SELECT seq, weight, unit_head FROM messages WHERE seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`;
  }
  /** Metadata of [first, last] widened to whole tool units on both ends. */
  unitWidenedMeta(first: number, last: number): MessageMetaRow[] {
    let rows = this.sql.all<MessageMetaRow>`SELECT seq, weight, unit_head FROM messages WHERE seq BETWEEN ${first} AND ${last} ORDER BY seq`;
    const head = rows.length ? rows[0]!.unit_head : first;
    if (head < first) rows = this.sql.all<MessageMetaRow>`SELECT seq, weight, unit_head FROM messages WHERE seq >= ${head} AND seq < ${first} ORDER BY seq`.concat(rows);
    const lastHead = rows.length ? rows[rows.length - 1]!.unit_head : last;
    const tail = this.sql.all<MessageMetaRow>`SELECT seq, weight, unit_head FROM messages WHERE unit_head = ${lastHead} AND seq > ${last} ORDER BY seq`;
    return tail.length ? rows.concat(tail) : rows;
  }

  // --- segments and embeddings ------------------------------------------
  lastSegment(): SegmentRow | null {
    return this.sql.first<SegmentRow>`SELECT * FROM segments ORDER BY id DESC LIMIT 1`;
  }
  /** The last segment that ends before `seq` (what survives a fork at `seq`). */
  lastSegmentBefore(seq: number): SegmentRow | null {
    return this.sql.first<SegmentRow>`SELECT * FROM segments WHERE last_seq < ${seq} ORDER BY id DESC LIMIT 1`;
  }
  /** Deletes segments reaching `seq` or later with their embeddings; returns the (unweighted) embeddings deleted. */
  deleteSegmentsFrom(seq: number): Float32Array[] {
    const vecs = this.sql.all<{ vec: ArrayBuffer }>`SELECT e.vec FROM segments s JOIN segment_embeddings e ON e.segment_id = s.id WHERE s.last_seq >= ${seq}`.map((r) => fromBlob(r.vec));
    this.sql.run`DELETE FROM segment_embeddings WHERE segment_id IN (SELECT id FROM segments WHERE last_seq >= ${seq})`;
    this.sql.run`DELETE FROM segments WHERE last_seq >= ${seq}`;
    this.version++;
    return vecs;
  }
  /** Batched inserts of segments and their (unweighted) embeddings. */
  insertSegments(rows: readonly { segment: SegmentRow; vec: Float32Array }[]): void {
    insertRows(this.sql, "segments", ["id", "first_seq", "last_seq", "episode", "score"], rows.map(({ segment: s }) => [s.id, s.first_seq, s.last_seq, s.episode, s.score]));
    insertRows(this.sql, "segment_embeddings", ["segment_id", "vec"], rows.map(({ segment, vec }) => [segment.id, toBlob(vec)]));
    this.version++;
  }
  /** Moves the segments with id ≤ throughId from one episode to another (a re-clustering's older segments). */
  renameOlderSegments(from: number, to: number, throughId: number): void {
    this.sql.run`UPDATE segments SET episode = ${to} WHERE episode = ${from} AND id <= ${throughId}`;
  }
  setSegmentEpisode(id: number, episode: number, score: number): void {
    this.sql.run`UPDATE segments SET episode = ${episode}, score = ${score} WHERE id = ${id}`;
  }
  segmentsById(ids: readonly number[]): SegmentRow[] {
    const out: SegmentRow[] = [];
    for (const chunk of inChunks(ids)) out.push(...this.sql.exec<SegmentRow>(`SELECT * FROM segments WHERE id IN (${chunk.map(() => "?").join(",")}) ORDER BY id`, chunk));
    return out;
  }
  /** Segment count per episode (null: not assigned yet). */
  /** Segments per episode, of those with id > afterId. */
  segmentCountsByEpisode(afterId = 0): { episode: number | null; n: number }[] {
    return this.sql.all`SELECT episode, COUNT(*) AS n FROM segments WHERE id > ${afterId} GROUP BY episode`;
  }
  /** The id below the latest `count` segments: those are the ones with a larger id (0 when there are at most `count`). */
  segmentWindowFloor(count: number): number {
    return this.sql.all<{ id: number }>`SELECT id FROM segments ORDER BY id DESC LIMIT 1 OFFSET ${count}`[0]?.id ?? 0;
  }
  segmentsOfEpisode(episode: number): SegmentRow[] {
    return this.sql.all<SegmentRow>`SELECT * FROM segments WHERE episode = ${episode} ORDER BY id`;
  }
  /**
   * One batch of segments with embeddings, ids above `afterId`, optionally of
   * one episode; callers loop on the last id (a cursor), so only one batch of
   * vectors is in memory at a time.
   */
  embeddingBatch(afterId: number, limit: number, episode: number | null): (SegmentRow & { vec: ArrayBuffer })[] {
    return episode === null
      ? this.sql.all`SELECT s.*, e.vec FROM segments s JOIN segment_embeddings e ON e.segment_id = s.id WHERE s.id > ${afterId} ORDER BY s.id LIMIT ${limit}`
      : this.sql.all`SELECT s.*, e.vec FROM segments s JOIN segment_embeddings e ON e.segment_id = s.id WHERE s.episode = ${episode} AND s.id > ${afterId} ORDER BY s.id LIMIT ${limit}`;
  }
  /** The stored embedding blobs of `ids` (vector-blob.ts decodes them). */
  embeddingBlobsById(ids: readonly number[]): Map<number, ArrayBuffer> {
    const out = new Map<number, ArrayBuffer>();
    for (const chunk of inChunks(ids)) {
      const rows = this.sql.exec<{ segment_id: number; vec: ArrayBuffer }>(`SELECT segment_id, vec FROM segment_embeddings WHERE segment_id IN (${chunk.map(() => "?").join(",")})`, chunk);
      for (const r of rows) out.set(r.segment_id, r.vec);
    }
    return out;
  }

  // --- episodes ----------------------------------------------------------
  /** The episodes, by id; copies, so a caller may update one before saveEpisode. */
  episodes(): EpisodeRow[] {
    return this.sharedEpisodes().map(copyEpisode);
  }
  /**
   * The cached episodes themselves, for readers that change nothing (a
   * turn's routing): copying every centroid was ≈ 0.1 ms of a turn. Their
   * centroids must not be written to.
   */
  sharedEpisodes(): readonly Readonly<EpisodeRow>[] {
    this.episodeCache ??= this.sql
      .all<{ id: number; centroid: ArrayBuffer; size: number; representatives: string; top_terms: string }>`SELECT * FROM episodes ORDER BY id`
      .map((r) => ({ id: r.id, centroid: fromBlob(r.centroid), size: r.size, representatives: JSON.parse(r.representatives) as number[], top_terms: JSON.parse(r.top_terms) as string[] }));
    return this.episodeCache;
  }
  saveEpisode(e: EpisodeRow): void {
    this.sql.run`INSERT INTO episodes (id, centroid, size, representatives, top_terms) VALUES (${e.id}, ${toBlob(e.centroid)}, ${e.size}, ${JSON.stringify(e.representatives)}, ${JSON.stringify(e.top_terms)})
                 ON CONFLICT (id) DO UPDATE SET centroid = excluded.centroid, size = excluded.size, representatives = excluded.representatives, top_terms = excluded.top_terms`;
    // Written through: every commit saves the episodes its segments joined, and reading them all back cost the next turn a query.
    if (this.episodeCache) this.episodeCache = upsertById(this.episodeCache, copyEpisode(e));
  }
  deleteEpisodes(): void {
    this.sql.run`DELETE FROM episodes`;
    this.episodeCache = null;
  }

  // --- idempotency keys --------------------------------------------------
  importResult<T>(key: string): T | null {
    const row = this.sql.first<{ result: string }>`SELECT result FROM import_keys WHERE key = ${key}`;
    return row ? (JSON.parse(row.result) as T) : null;
  }
  saveImportResult(key: string, result: unknown, now: number): void {
    this.sql.run`INSERT INTO import_keys (key, result, created_at) VALUES (${key}, ${JSON.stringify(result)}, ${now})`;
  }

  // --- schedule (one alarm, set for the earliest row) --------------------
  schedule(kind: string, runAt: number): void {
    this.sql.run`INSERT INTO schedule (kind, run_at) VALUES (${kind}, ${runAt}) ON CONFLICT (kind) DO UPDATE SET run_at = MIN(run_at, excluded.run_at)`;
  }
  dueJobs(now: number): { kind: string; run_at: number }[] {
    return this.sql.all`SELECT kind, run_at FROM schedule WHERE run_at <= ${now} ORDER BY run_at`;
  }
  earliestJob(): number | null {
    return this.sql.first<{ t: number | null }>`SELECT MIN(run_at) AS t FROM schedule`?.t ?? null;
  }
  hasJob(kind: string): boolean {
    return this.sql.first`SELECT 1 AS x FROM schedule WHERE kind = ${kind}` !== null;
  }
  deleteJob(kind: string): void {
    this.sql.run`DELETE FROM schedule WHERE kind = ${kind}`;
  }
}
