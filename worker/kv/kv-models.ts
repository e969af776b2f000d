// GET /v1/kv/models, so an OpenAI client whose base URL is `…/v1/kv` (the
// README's kv setup) can list models. kv mode decodes with the kv backend's
// default model (KV_BACKEND_URL); a request names it by "epikv-kv", an epikv
// alias, BACKEND_MODEL (npm start sets it to the reference backend's model,
// which is also its kv model) or not at all. Any other name is 404
// model_not_found.
import { Hono } from "hono";
import type { Env } from "../env";
import { EPIKV_MODEL_ALIASES } from "../chat/upstream-request";

export function kvModelNames(env: Pick<Env, "BACKEND_MODEL">): string[] {
  return [...new Set(["epikv-kv", ...EPIKV_MODEL_ALIASES, ...(env.BACKEND_MODEL ? [env.BACKEND_MODEL] : [])])];
}

export const kvModelsRoute = new Hono<{ Bindings: Env }>().get("/v1/kv/models", (c) =>
  c.json({ object: "list", data: kvModelNames(c.env).map((id) => ({ id, object: "model", created: 0, owned_by: "epikv" })) }),
);
