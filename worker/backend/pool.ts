// Several backends per model. BACKENDS (JSON) lists them:
//   [{"name":"gpu-a","url":"http://10.0.0.5:8000/v1","models":["llama-3.1-8b"],"apiKey":"…"},
//    {"name":"gpu-b","url":"http://10.0.0.6:8000/v1","models":["llama-3.1-8b"],"binding":"BACKEND"}]
// `models` absent = serves any model; `binding` names a service binding to
// fetch through instead of the network. Without BACKENDS the single
// BACKEND_URL (+ BACKEND_API_KEY, BACKEND service binding) is the pool.
//
// Order of candidates for a turn: the backend the conversation is pinned to
// (pinning: its KV is there), then the healthy ones by rendezvous hash of the
// conversation id (each conversation keeps going to the same backend — its
// prefix cache — while the set is stable), then the ones cooling down.
import { ApiError, notFound } from "../http/api-error";

export interface BackendSpec {
  name: string;
  /** Base URL including /v1. */
  url: string;
  /** Models served; null = any (the backend decides). */
  models: string[] | null;
  apiKey?: string;
  /** Service binding to fetch through (env[binding]). */
  binding?: string;
}

export class BackendsConfigError extends ApiError {
  constructor(detail: string) {
    super(500, `BACKENDS is invalid: ${detail}`, "server_error", null, "backends_misconfigured");
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseBackends(raw: string): BackendSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new BackendsConfigError("not valid JSON");
  }
  if (!Array.isArray(json) || json.length === 0) throw new BackendsConfigError("must be a non-empty JSON array");
  const seen = new Set<string>();
  return json.map((b, i) => {
    const o = b as Record<string, unknown>;
    if (typeof o !== "object" || o === null) throw new BackendsConfigError(`entry ${i} is not an object`);
    if (typeof o.name !== "string" || !NAME.test(o.name)) throw new BackendsConfigError(`entry ${i}: name must be 1-64 letters, digits, ".", "_" or "-"`);
    if (seen.has(o.name)) throw new BackendsConfigError(`entry ${i}: duplicate name ${o.name}`);
    seen.add(o.name);
    if (typeof o.url !== "string" || !/^https?:\/\//.test(o.url)) throw new BackendsConfigError(`entry ${i} (${o.name}): url must be http(s)://…`);
    if (o.models !== undefined && (!Array.isArray(o.models) || !o.models.every((m) => typeof m === "string"))) throw new BackendsConfigError(`entry ${i} (${o.name}): models must be an array of strings`);
    if (o.apiKey !== undefined && typeof o.apiKey !== "string") throw new BackendsConfigError(`entry ${i} (${o.name}): apiKey must be a string`);
    if (o.binding !== undefined && typeof o.binding !== "string") throw new BackendsConfigError(`entry ${i} (${o.name}): binding must be a string`);
    const spec: BackendSpec = { name: o.name, url: o.url.replace(/\/+$/, ""), models: (o.models as string[] | undefined) ?? null };
    if (o.apiKey) spec.apiKey = o.apiKey as string;
    if (o.binding) spec.binding = o.binding as string;
    return spec;
  });
}

export function servesModel(spec: BackendSpec, model: string | undefined): boolean {
  return model === undefined || spec.models === null || spec.models.includes(model);
}

/** Backends serving `model`; none → 404 model_not_found (OpenAI's code). */
export function backendsForModel(specs: readonly BackendSpec[], model: string | undefined): BackendSpec[] {
  const serving = specs.filter((s) => servesModel(s, model));
  if (serving.length === 0) {
    const known = [...new Set(specs.flatMap((s) => s.models ?? []))];
    throw notFound(`The model \`${model}\` does not exist or you do not have access to it; models served here: ${known.join(", ") || "(none)"}`, "model_not_found");
  }
  return serving;
}

/** 32-bit FNV-1a: a small stable hash for rendezvous ordering (not security). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function orderCandidates(
  candidates: readonly BackendSpec[],
  conversationKey: string,
  pinned: string | null,
  isHealthy: (name: string) => boolean,
): BackendSpec[] {
  const score = (s: BackendSpec) => fnv1a(`${s.name}\u0000${conversationKey}`);
  const rank = (s: BackendSpec) => (s.name === pinned ? 0 : isHealthy(s.name) ? 1 : 2);
  return [...candidates].sort((a, b) => rank(a) - rank(b) || score(b) - score(a) || (a.name < b.name ? -1 : 1));
}
