// GET /metrics: Prometheus text format. This isolate's request-path figures
// (worker/metrics/worker-metrics.ts) followed by the global figures read from
// the Durable Objects (worker/metrics/conversation-metrics.ts).
import { Hono } from "hono";
import type { Env } from "../env";
import { conversationFamilies } from "../metrics/conversation-families";
import { readConversations } from "../metrics/conversation-metrics";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "../metrics/registry";
import { workerMetrics } from "../metrics/worker-metrics";
import { ApiError } from "../http/api-error";
import { tenantOf } from "../conversations/conversation-index";

/** Tenants allowed to scrape (METRICS_TENANTS, comma-separated): the figures span every tenant, so a tenant key alone may not read them. */
export function mayScrapeMetrics(tenant: string, metricsTenants: string | undefined): boolean {
  return (metricsTenants ?? "").split(",").map((t) => t.trim()).filter(Boolean).includes(tenant);
}

export const metricsRoute = new Hono<{ Bindings: Env }>().get("/metrics", async (c) => {
  if (!mayScrapeMetrics(tenantOf(c), c.env.METRICS_TENANTS)) {
    throw new ApiError(403, "/metrics sums every tenant's figures; only operator tenants (METRICS_TENANTS) may read it", "permission_error", null, "metrics_forbidden");
  }
  const { indexed, snapshots } = await readConversations(c.env);
  const text = formatPrometheus([...workerMetrics().registry.families(), ...conversationFamilies(indexed, snapshots)]);
  return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
});
