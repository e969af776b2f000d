// Continuum-style KV pinning: the backend keeps a conversation's KV for a TTL
// and accepts the handle in place of the bytes. A handle that expired or was
// evicted for space is a clear miss (409 kv_handle_miss); the caller then
// resends the bytes. Bounded by total bytes; the least recently used goes first.
import { randomUUID } from "node:crypto";
import type { KvCache } from "../model/kv";
import { ProtocolError } from "./errors";

interface Entry {
  model: string;
  kv: KvCache;
  bytes: number;
  expiresAt: number;
}

export interface HandleInfo {
  handle: string;
  expiresAt: number;
}

export class KvHandleStore {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(
    readonly maxBytes = 256 * 1024 * 1024,
    readonly maxTtlS = 3600,
    private readonly now: () => number = Date.now,
  ) {}

  /** Store (or replace) a cache; returns its handle and expiry (ms since epoch). */
  put(model: string, kv: KvCache, ttlS: number, handle: string = `kvh_${randomUUID()}`): HandleInfo {
    if (!(ttlS > 0) || ttlS > this.maxTtlS) throw new ProtocolError("invalid_request", `keep.ttl_s must be in (0, ${this.maxTtlS}]`, "keep.ttl_s");
    this.delete(handle);
    const bytes = kv.reduce((s, layer) => s + layer.reduce((t, h) => t + h.positions.byteLength + h.keys.byteLength + h.values.byteLength, 0), 0);
    if (bytes > this.maxBytes) throw new ProtocolError("payload_too_large", `kv of ${bytes} bytes exceeds the handle store (${this.maxBytes} bytes)`, "keep");
    this.sweep();
    for (const [id] of this.entries) {
      if (this.total + bytes <= this.maxBytes) break;
      this.delete(id);
    }
    const expiresAt = this.now() + ttlS * 1000;
    this.entries.set(handle, { model, kv, bytes, expiresAt });
    this.total += bytes;
    return { handle, expiresAt };
  }

  /** The cache behind a handle, or a kv_handle_miss error. Touching renews LRU order, not the TTL. */
  get(model: string, handle: string): KvCache {
    const e = this.entries.get(handle);
    if (!e || e.expiresAt <= this.now()) {
      if (e) this.delete(handle);
      throw new ProtocolError("kv_handle_miss", `kv handle "${handle}" is unknown or expired; resend the KV bytes`, "kv_handle");
    }
    if (e.model !== model) throw new ProtocolError("invalid_request", `kv handle "${handle}" belongs to model "${e.model}", not "${model}"`, "kv_handle");
    this.entries.delete(handle);
    this.entries.set(handle, e);
    return e.kv;
  }

  delete(handle: string): boolean {
    const e = this.entries.get(handle);
    if (!e) return false;
    this.entries.delete(handle);
    this.total -= e.bytes;
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.delete(id);
  }
}
