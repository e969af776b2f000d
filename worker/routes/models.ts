// GET /v1/models: the models a client may name — the "epikv" alias (the
// conversation's or deployment's model) and BACKEND_MODEL when configured.
import { Hono } from "hono";
import type { Env } from "../env";
import { EPIKV_MODEL_ALIASES } from "../chat/upstream-request";

export const modelsRoute = new Hono<{ Bindings: Env }>().get("/v1/models", (c) => {
  const names = [EPIKV_MODEL_ALIASES[0]!, ...(c.env.BACKEND_MODEL ? [c.env.BACKEND_MODEL] : [])];
  return c.json({ object: "list", data: names.map((id) => ({ id, object: "model", created: 0, owned_by: "epikv" })) });
});
