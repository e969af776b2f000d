// Backend settings from wrangler vars/secrets (worker/env.ts documents each).
import type { Env } from "../env";

export interface BackendConfig {
  /** OpenAI base URL including the version path, e.g. http://127.0.0.1:8000/v1. */
  baseUrl: string;
  apiKey: string | undefined;
  /** Model forwarded when neither the request nor the conversation names one. */
  defaultModel: string | undefined;
  /** Limit for the backend's first byte, and for each gap between stream chunks. */
  timeoutMs: number;
  /** Service binding to a backend Worker; used instead of the public network when bound. */
  fetcher: Fetcher | undefined;
}

export const DEFAULT_BACKEND_TIMEOUT_MS = 120_000;

export function backendConfig(env: Env): BackendConfig {
  const timeout = Number(env.BACKEND_TIMEOUT_MS);
  return {
    baseUrl: (env.BACKEND_URL || "http://127.0.0.1:8000/v1").replace(/\/+$/, ""),
    apiKey: env.BACKEND_API_KEY || undefined,
    defaultModel: env.BACKEND_MODEL || undefined,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_BACKEND_TIMEOUT_MS,
    fetcher: env.BACKEND,
  };
}
