// A ChatBackend over the pool: each call goes to the ordered candidates
// (pool.ts) with retries and failover (retry.ts), records passive health
// (health.ts), and reports which backend answered. A stream counts as
// answered once its first chunk arrived; later failures are not retried.
import type { Env } from "../env";
import type { ChatBackend, ChatChunk, UpstreamJson } from "./chat-backend";
import { backendHealth, DEFAULT_COOLDOWN_MS, type BackendHealth } from "./health";
import { openAiCompatibleBackend } from "./openai-compatible-backend";
import { backendConfig, type BackendConfig } from "./backend-config";
import { backendsForModel, BackendsConfigError, orderCandidates, parseBackends, type BackendSpec } from "./pool";
import { DEFAULT_RETRIES, withFailover } from "./retry";

export interface PoolOptions {
  /** Conversation key for affinity (tenant + id). */
  conversationKey: string;
  model: string | undefined;
  pinnedBackend: string | null;
  /** Called with the backend's name once it answered. */
  onServed: (name: string) => void;
  health?: BackendHealth;
}

export const LEGACY_BACKEND_NAME = "default";

export function backendSpecs(env: Env): BackendSpec[] {
  if (env.BACKENDS && env.BACKENDS.trim() !== "") return parseBackends(env.BACKENDS);
  const legacy = backendConfig(env);
  const spec: BackendSpec = { name: LEGACY_BACKEND_NAME, url: legacy.baseUrl, models: null };
  if (legacy.apiKey) spec.apiKey = legacy.apiKey;
  return [spec];
}

/** The client config of one backend (timeouts from BACKEND_TIMEOUT_MS; fetcher from its binding). */
export function configOf(env: Env, spec: BackendSpec): BackendConfig {
  const base = backendConfig(env);
  let fetcher: Fetcher | undefined;
  if (spec.binding) {
    fetcher = (env as unknown as Record<string, Fetcher | undefined>)[spec.binding];
    if (!fetcher || typeof fetcher.fetch !== "function") throw new BackendsConfigError(`${spec.name}: binding ${spec.binding} is not bound`);
  } else if (spec.name === LEGACY_BACKEND_NAME && !env.BACKENDS) {
    fetcher = base.fetcher;
  }
  return { baseUrl: spec.url, apiKey: spec.apiKey, defaultModel: base.defaultModel, timeoutMs: base.timeoutMs, fetcher };
}

function intVar(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && raw !== "" && Number.isInteger(n) && n >= 0 ? n : fallback;
}

/** Throws 404 model_not_found when no backend serves the model. */
export function pooledBackend(env: Env, options: PoolOptions): ChatBackend {
  const health = options.health ?? backendHealth;
  const specs = backendsForModel(backendSpecs(env), options.model);
  const retries = intVar(env.BACKEND_RETRIES, DEFAULT_RETRIES);
  const cooldown = intVar(env.BACKEND_COOLDOWN_MS, DEFAULT_COOLDOWN_MS);
  const candidates = orderCandidates(specs, options.conversationKey, options.pinnedBackend, (name) => health.isHealthy(name, Date.now()));
  const clients = new Map<string, ChatBackend>();
  const client = (spec: BackendSpec) => {
    let c = clients.get(spec.name);
    if (!c) clients.set(spec.name, (c = openAiCompatibleBackend(configOf(env, spec))));
    return c;
  };
  const failover = {
    retries,
    onFailure: (spec: BackendSpec) => health.markFailure(spec.name, Date.now(), cooldown),
    onSuccess: (spec: BackendSpec) => health.markSuccess(spec.name),
  };
  return {
    async complete(body: UpstreamJson) {
      const { value, spec } = await withFailover(candidates, (spec) => client(spec).complete(body), failover);
      options.onServed(spec.name);
      return value;
    },
    async stream(body: UpstreamJson) {
      const { value, spec } = await withFailover(
        candidates,
        async (spec) => {
          const chunks = await client(spec).stream(body);
          const first = await chunks.next();
          return { chunks, first };
        },
        failover,
      );
      options.onServed(spec.name);
      return prepend(value.first, value.chunks);
    },
  };
}

async function* prepend(first: IteratorResult<ChatChunk>, rest: AsyncGenerator<ChatChunk>): AsyncGenerator<ChatChunk> {
  if (first.done) return;
  yield first.value;
  yield* rest;
}
