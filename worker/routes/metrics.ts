// GET /metrics: Prometheus text format. This isolate's request-path figures
// (worker/metrics/worker-metrics.ts) followed by the global figures read from
// the Durable Objects (worker/metrics/conversation-metrics.ts).
import { Hono } from "hono";
import type { Env } from "../env";
import { conversationFamilies } from "../metrics/conversation-families";
import { readConversations } from "../metrics/conversation-metrics";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "../metrics/registry";
import { workerMetrics } from "../metrics/worker-metrics";

export const metricsRoute = new Hono<{ Bindings: Env }>().get("/metrics", async (c) => {
  const { indexed, snapshots } = await readConversations(c.env);
  const text = formatPrometheus([...workerMetrics().registry.families(), ...conversationFamilies(indexed, snapshots)]);
  return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
});
