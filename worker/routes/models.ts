// GET /v1/models: the models a client may name — the "epikv" alias (the
// conversation's or deployment's model), BACKEND_MODEL when configured, and
// the models BACKENDS lists.
import { Hono } from "hono";
import type { Env } from "../env";
import { EPIKV_MODEL_ALIASES } from "../chat/upstream-request";
import { backendSpecs } from "../backend/pool-backend";

export const modelsRoute = new Hono<{ Bindings: Env }>().get("/v1/models", (c) => {
  // Plus every model a BACKENDS entry lists (worker/backend/pool.ts).
  const listed = backendSpecs(c.env).flatMap((s) => s.models ?? []);
  const names = [...new Set([EPIKV_MODEL_ALIASES[0]!, ...(c.env.BACKEND_MODEL ? [c.env.BACKEND_MODEL] : []), ...listed])];
  return c.json({ object: "list", data: names.map((id) => ({ id, object: "model", created: 0, owned_by: "epikv" })) });
});
