// The Hono application: routes only; each concern lives in its own file.
import { Hono } from "hono";
import type { Env } from "./env";
import { errorResponse, notFound, toApiError } from "./http/api-error";
import { healthRoute } from "./routes/health";
import { chatCompletionsRoute } from "./routes/chat-completions";
import { conversationsRoute } from "./routes/conversations";
import { modelsRoute } from "./routes/models";
import { openApiRoute } from "./routes/openapi";

export const app = new Hono<{ Bindings: Env }>();
app.route("/", healthRoute);
app.route("/", chatCompletionsRoute);
app.route("/", conversationsRoute);
app.route("/", modelsRoute);
app.route("/", openApiRoute);

app.notFound((c) => errorResponse(notFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`, "route_not_found")));
app.onError((err) => {
  const apiError = toApiError(err);
  if (apiError.status >= 500 && apiError.type === "server_error") console.error("epikv internal error:", err);
  return errorResponse(apiError);
});
