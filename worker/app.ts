// The Hono application: routes only; each concern lives in its own file.
import { Hono } from "hono";
import type { Env } from "./env";
import { errorResponse, notFound, toApiError } from "./http/api-error";
import { healthRoute } from "./routes/health";
import { chatCompletionsRoute } from "./routes/chat-completions";
import { conversationsRoute } from "./routes/conversations";
import { modelsRoute } from "./routes/models";
import { openApiRoute } from "./routes/openapi";
import { kvChatRoute } from "./kv/kv-chat-route";
import { kvModelsRoute } from "./kv/kv-models";
import { httpMetrics } from "./metrics/http-metrics";
import { conversationIndexRecorder } from "./conversations/conversation-index";
import { metricsRoute } from "./routes/metrics";
import { conversationListRoute } from "./routes/conversation-list";
import { uiRoute } from "./routes/ui";
import { authenticate } from "./auth/authenticate";
import { rateLimit } from "./limits/rate-limit";
import { requestPathname } from "./http/request-path";

export const app = new Hono<{ Bindings: Env }>();
app.use("*", httpMetrics());
app.use("*", conversationIndexRecorder());
// After the recorder (it reads the tenant once the route answered); before every route.
app.use("*", authenticate());
app.use("*", rateLimit());
app.route("/", healthRoute);
app.route("/", chatCompletionsRoute);
app.route("/", conversationsRoute);
app.route("/", modelsRoute);
app.route("/", openApiRoute);
app.route("/", kvChatRoute);
app.route("/", kvModelsRoute);
app.route("/", metricsRoute);
app.route("/", conversationListRoute);
app.route("/", uiRoute);

app.notFound((c) => errorResponse(notFound(`no route for ${c.req.method} ${requestPathname(c.req.raw)}`, "route_not_found")));
app.onError((err) => {
  const apiError = toApiError(err);
  if (apiError.status >= 500 && apiError.type === "server_error") console.error("epikv internal error:", err);
  return errorResponse(apiError);
});
