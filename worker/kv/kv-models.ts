// GET /v1/kv/models, so an OpenAI client whose base URL is `…/v1/kv` (the
// README's kv setup) can list models. kv mode decodes with the kv backend's
// one model (KV_BACKEND_URL); a request names it by one of these aliases or
// not at all, and any other name is 404 model_not_found.
import { Hono } from "hono";
import type { Env } from "../env";
import { EPIKV_MODEL_ALIASES } from "../chat/upstream-request";

export const KV_MODEL_NAMES: readonly string[] = ["epikv-kv", ...EPIKV_MODEL_ALIASES];

export const kvModelsRoute = new Hono<{ Bindings: Env }>().get("/v1/kv/models", (c) =>
  c.json({ object: "list", data: KV_MODEL_NAMES.map((id) => ({ id, object: "model", created: 0, owned_by: "epikv" })) }),
);
