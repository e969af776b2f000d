// API keys → tenants. API_KEYS (a secret; `wrangler secret put API_KEYS`) is
// either a JSON object {"<key>": "<tenant>"} or "key:tenant,key:tenant".
// Only SHA-256 digests of the keys are kept in memory, and a presented key is
// compared against every digest in constant time, so neither response timing
// nor logs reveal a key. Logs and errors name a key by its hash prefix only.
import { ApiError } from "../http/api-error";
import { sha256Text, toHex } from "../../protocol/sha256";

/** Tenants name Durable Objects (with the conversation id), so they use a small safe alphabet. */
const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Keys shorter than this are refused at configuration time (guessable). */
export const MIN_KEY_LENGTH = 16;

export interface ApiKeyEntry {
  /** SHA-256 of the key. */
  digest: Uint8Array;
  /** First 12 hex digits of the digest: what logs and metrics may show. */
  keyId: string;
  tenant: string;
}

/** A configuration mistake: the Worker refuses requests rather than run open. */
export class ApiKeyConfigError extends Error {
  constructor(detail: string) {
    super(`API_KEYS is invalid: ${detail}`);
    this.name = "ApiKeyConfigError";
  }
}

/** Raw (key, tenant) pairs of an API_KEYS value; throws ApiKeyConfigError (never echoing a key). */
export function parseApiKeys(raw: string): { key: string; tenant: string }[] {
  const text = raw.trim();
  if (text === "") return [];
  let pairs: [string, unknown][];
  if (text.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiKeyConfigError("starts with { but is not valid JSON");
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ApiKeyConfigError("JSON form must be an object {key: tenant}");
    pairs = Object.entries(json);
  } else {
    pairs = text.split(",").map((item, i) => {
      const at = item.lastIndexOf(":");
      if (at <= 0) throw new ApiKeyConfigError(`entry ${i} is not key:tenant`);
      return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
    });
  }
  return pairs.map(([key, tenant], i) => {
    if (key.length < MIN_KEY_LENGTH) throw new ApiKeyConfigError(`entry ${i}: keys must be at least ${MIN_KEY_LENGTH} characters`);
    if (typeof tenant !== "string" || !TENANT_PATTERN.test(tenant)) throw new ApiKeyConfigError(`entry ${i}: tenant must be 1-64 letters, digits, ".", "_" or "-"`);
    return { key, tenant };
  });
}

export function hexPrefix(bytes: Uint8Array, digits = 12): string {
  return toHex(bytes.subarray(0, Math.ceil(digits / 2))).slice(0, digits);
}

/** Equal-length byte comparison whose time does not depend on where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function keyTable(raw: string): ApiKeyEntry[] {
  return parseApiKeys(raw).map(({ key, tenant }) => {
    const digest = sha256Text(key);
    return { digest, keyId: hexPrefix(digest), tenant };
  });
}

/**
 * The entry of a presented key, or null. Every entry is compared (no early
 * exit), and the presented key is hashed first, so the time taken depends on
 * neither the key nor which entry matched.
 */
export function lookupKey(table: readonly ApiKeyEntry[], presented: string): ApiKeyEntry | null {
  const digest = sha256Text(presented);
  let found: ApiKeyEntry | null = null;
  for (const entry of table) if (constantTimeEqual(entry.digest, digest)) found = entry;
  return found;
}

/** The key a request presents: `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key`. */
export function presentedKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  return headers.get("x-api-key");
}

/** 401 in OpenAI's shape (type invalid_request_error, code invalid_api_key). */
export function unauthorized(message: string): ApiError {
  return new ApiError(401, message, "invalid_request_error", null, "invalid_api_key");
}
