// The persistent part of a conversation's kv mode besides its pages: the
// token stream (chunked), small JSON state (settings, model, budgets,
// episodes, folded position) and queued cache rebuilds. The Durable Object
// keeps it in SQLite (SqliteKvStateStore); Node tests use MemoryKvStateStore.
import type { Sql } from "../storage/sql";

export interface KvStateStore {
  get<T>(key: string): T | null;
  set(key: string, value: unknown): void;
  appendTokens(tokens: readonly number[]): void;
  tokenCount(): number;
  /** Tokens [from, to). */
  readTokens(from: number, to: number): number[];
  queueRebuild(episode: number, promptTokens: readonly number[]): void;
  /** Queued rebuilds, oldest first. */
  rebuilds(): { episode: number; promptTokens: number[] }[];
  doneRebuild(episode: number): void;
}

/** Tokens per kv_tokens row (64 KiB of Int32). */
export const TOKEN_CHUNK = 16384;

export class MemoryKvStateStore implements KvStateStore {
  private readonly values = new Map<string, string>();
  private readonly tokens: number[] = [];
  private readonly queue = new Map<number, number[]>();
  get<T>(key: string): T | null {
    const v = this.values.get(key);
    return v === undefined ? null : (JSON.parse(v) as T);
  }
  set(key: string, value: unknown): void {
    this.values.set(key, JSON.stringify(value));
  }
  appendTokens(tokens: readonly number[]): void {
    for (const t of tokens) this.tokens.push(t); // not a spread: a long message would overflow the stack
  }
  tokenCount(): number {
    return this.tokens.length;
  }
  readTokens(from: number, to: number): number[] {
    return this.tokens.slice(from, to);
  }
  queueRebuild(episode: number, promptTokens: readonly number[]): void {
    this.queue.delete(episode);
    this.queue.set(episode, [...promptTokens]);
  }
  rebuilds(): { episode: number; promptTokens: number[] }[] {
    return [...this.queue].map(([episode, promptTokens]) => ({ episode, promptTokens }));
  }
  doneRebuild(episode: number): void {
    this.queue.delete(episode);
  }
}

export class SqliteKvStateStore implements KvStateStore {
  constructor(private readonly sql: Sql) {}
  get<T>(key: string): T | null {
    const r = this.sql.first<{ value: string }>`SELECT value FROM kv_state WHERE key = ${key}`;
    return r ? (JSON.parse(r.value) as T) : null;
  }
  set(key: string, value: unknown): void {
    this.sql.run`INSERT INTO kv_state (key, value) VALUES (${key}, ${JSON.stringify(value)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
  }
  tokenCount(): number {
    return this.get<number>("token_count") ?? 0;
  }
  private chunk(i: number): Int32Array {
    const r = this.sql.first<{ tokens: ArrayBuffer }>`SELECT tokens FROM kv_tokens WHERE chunk = ${i}`;
    return r ? new Int32Array(r.tokens.slice(0)) : new Int32Array(0);
  }
  appendTokens(tokens: readonly number[]): void {
    let count = this.tokenCount();
    let at = 0;
    while (at < tokens.length) {
      const c = Math.floor(count / TOKEN_CHUNK), used = count % TOKEN_CHUNK;
      const take = Math.min(TOKEN_CHUNK - used, tokens.length - at);
      const next = new Int32Array(used + take);
      next.set(this.chunk(c).subarray(0, used));
      next.set(tokens.slice(at, at + take), used);
      this.sql.run`INSERT INTO kv_tokens (chunk, tokens) VALUES (${c}, ${next.buffer as ArrayBuffer}) ON CONFLICT (chunk) DO UPDATE SET tokens = excluded.tokens`;
      count += take;
      at += take;
    }
    this.set("token_count", count);
  }
  readTokens(from: number, to: number): number[] {
    const out: number[] = [];
    const end = Math.min(to, this.tokenCount());
    for (let c = Math.floor(from / TOKEN_CHUNK); c * TOKEN_CHUNK < end; c++) {
      const chunk = this.chunk(c), base = c * TOKEN_CHUNK;
      for (let i = Math.max(from, base); i < Math.min(end, base + chunk.length); i++) out.push(chunk[i - base]);
    }
    return out;
  }
  queueRebuild(episode: number, promptTokens: readonly number[]): void {
    this.sql.run`INSERT INTO kv_rebuilds (episode, prompt, requested_at) VALUES (${episode}, ${Int32Array.from(promptTokens).buffer as ArrayBuffer}, ${Date.now()})
                 ON CONFLICT (episode) DO UPDATE SET prompt = excluded.prompt, requested_at = excluded.requested_at`;
  }
  rebuilds(): { episode: number; promptTokens: number[] }[] {
    return this.sql.all<{ episode: number; prompt: ArrayBuffer }>`SELECT episode, prompt FROM kv_rebuilds ORDER BY requested_at, episode`.map((r) => ({ episode: r.episode, promptTokens: [...new Int32Array(r.prompt.slice(0))] }));
  }
  doneRebuild(episode: number): void {
    this.sql.run`DELETE FROM kv_rebuilds WHERE episode = ${episode}`;
  }
}
