// The Hono application: routes only; each concern lives in its own file.
import { Hono } from "hono";
import type { Env } from "./env";
import { healthRoute } from "./routes/health";

export const app = new Hono<{ Bindings: Env }>();
app.route("/", healthRoute);
