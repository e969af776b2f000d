// The request body limit from MAX_BODY_BYTES (default in json-body.ts).
import type { Env } from "../env";
import { DEFAULT_MAX_BODY_BYTES } from "./json-body";

export function maxBodyBytes(env: Env): number {
  const n = Number(env.MAX_BODY_BYTES);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_BODY_BYTES;
}
