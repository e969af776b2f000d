// Authentication middleware: every route except the public ones needs an API
// key from API_KEYS (api-keys.ts). It sets the request's `tenant` (read by
// tenantOf, worker/conversations/conversation-index.ts) and `keyId` (hash
// prefix, for rate limiting and logs). No keys configured → every protected
// route answers 401: a deployment without API_KEYS fails closed.
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { errorResponse } from "../http/api-error";
import { ApiKeyConfigError, keyTable, lookupKey, presentedKey, unauthorized, type ApiKeyEntry } from "./api-keys";
import { requestPathname } from "../http/request-path";

/**
 * Public: liveness, the API description, and the inspector's static page
 * shell (its data calls go to /v1/… and need a key). /metrics is NOT public:
 * it sums conversations of every tenant (docs/reliability.md).
 */
export function isPublicPath(path: string): boolean {
  return path === "/healthz" || path === "/openapi.json" || path === "/ui" || path.startsWith("/ui/");
}

/**
 * A parsed API_KEYS value and the presented keys already found in it. A
 * Worker isolate hashes one key per request, too rarely for V8 to optimise
 * the hash: it cost 0.1–0.17 ms of a turn's profile. A key found once is
 * found again by a Map lookup (at most one entry per configured key: only
 * valid keys are kept; V8 seeds its string hashes per isolate, so the lookup's
 * timing tells an attacker nothing about a valid key).
 */
interface KeyTable {
  entries: ApiKeyEntry[];
  found: Map<string, ApiKeyEntry>;
}

/** Parsed tables by raw API_KEYS value (an isolate sees one value; hashing once per isolate). */
const tables = new Map<string, KeyTable>();

/** The key table of an API_KEYS value; throws ApiKeyConfigError (not cached, so a fixed secret is read again). */
function tableFor(raw: string): KeyTable {
  let t = tables.get(raw);
  if (!t) {
    if (tables.size > 8) tables.clear();
    t = { entries: keyTable(raw), found: new Map() };
    tables.set(raw, t);
  }
  return t;
}

function findKey(table: KeyTable, presented: string): ApiKeyEntry | null {
  const known = table.found.get(presented);
  if (known) return known;
  const entry = lookupKey(table.entries, presented);
  if (entry) table.found.set(presented, entry);
  return entry;
}

export interface AuthVariables {
  tenant: string;
  keyId: string;
}

export function authenticate(): MiddlewareHandler<{ Bindings: Env }> {
  return async function authenticateRequest(c, next) {
    if (isPublicPath(requestPathname(c.req.raw)) || c.req.method === "OPTIONS") return next();
    const raw = c.env.API_KEYS ?? "";
    let table: KeyTable;
    try {
      table = tableFor(raw);
    } catch (err) {
      // Logged without the value: the message of ApiKeyConfigError never echoes a key.
      console.error("epikv:", err instanceof ApiKeyConfigError ? err.message : "API_KEYS could not be read");
      return errorResponse(unauthorized("API keys are misconfigured on this deployment; no request can be authenticated"));
    }
    if (table.entries.length === 0) return errorResponse(unauthorized("no API keys are configured (set the API_KEYS secret); every request is refused"));
    const key = presentedKey(c.req.raw.headers);
    if (!key) return errorResponse(unauthorized("missing API key: send Authorization: Bearer <key>"), { "www-authenticate": "Bearer" });
    const entry = findKey(table, key);
    if (!entry) return errorResponse(unauthorized("invalid API key"), { "www-authenticate": "Bearer" });
    setAuth(c, { tenant: entry.tenant, keyId: entry.keyId });
    return next();
  };
}

function setAuth(c: Context, v: AuthVariables): void {
  const set = c.set as (key: string, value: unknown) => void;
  set("tenant", v.tenant);
  set("keyId", v.keyId);
}

/** The authenticated key's id (hash prefix), or null on public routes. */
export function keyIdOf(c: Context): string | null {
  const v = (c.var as Record<string, unknown> | undefined)?.keyId;
  return typeof v === "string" ? v : null;
}

