// GET /openapi.json: the hand-written OpenAPI 3.1 document (worker/openapi/document.ts).
import { Hono } from "hono";
import type { Env } from "../env";
import { openApiDocument } from "../openapi/document";

export const openApiRoute = new Hono<{ Bindings: Env }>().get("/openapi.json", (c) => c.json(openApiDocument(c.env.EPIKV_VERSION)));
