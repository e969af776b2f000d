// GET /metrics inside workerd: the exposition parses with a strict
// Prometheus text parser, and its counters move when traffic flows
// (requests by route and status, latency histogram, tokens, budget use,
// backend health, and the global figures read from the Durable Objects).
import { describe, expect, it } from "vitest";
import { parsePrometheusText, sumSamples, type ParsedFamily } from "../suites/prometheus-text-parser";
import { api, chat, runPendingAlarm, syntheticHistory, uniqueId, waitFor } from "./support/epikv-client";
import { OTHER_API_KEY, TEST_TENANT } from "../../testing/test-api-keys";

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const res = await api("GET", "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

const requests = (m: Map<string, ParsedFamily>, labels: Record<string, string>) => sumSamples(m, "epikv_http_requests_total", labels);

describe("GET /metrics (workerd)", () => {
  it("is for operator tenants only: a tenant key outside METRICS_TENANTS gets 403, no key 401", async () => {
    const other = await api("GET", "/metrics", undefined, { authorization: `Bearer ${OTHER_API_KEY}` });
    expect(other.status).toBe(403);
    const body = await other.json<{ error: { type: string; code: string } }>();
    expect(body.error).toMatchObject({ type: "permission_error", code: "metrics_forbidden" });
    expect((await api("GET", "/metrics", undefined, { authorization: "" })).status).toBe(401);
  });

  it("parses strictly and its counters move with traffic", async () => {
    const before = await scrape();
    for (const family of ["epikv_http_requests_total", "epikv_http_request_duration_seconds", "epikv_context_tokens_sent_total", "epikv_context_budget_use_ratio",
      "epikv_backend_completion_tokens_total", "epikv_backend_up", "epikv_conversation_episodes", "epikv_compression_ratio", "epikv_reclusters_total",
      "epikv_kv_pin_hits_total", "epikv_kv_pin_misses_total", "epikv_isolate_start_time_seconds"]) {
      expect(before.has(family), family).toBe(true);
    }

    const id = uniqueId("metrics");
    expect((await api("POST", "/v1/conversations", { id, settings: { budget_tokens: 300 } })).status).toBe(201);
    expect((await api("POST", `/v1/conversations/${id}/messages`, { messages: syntheticHistory(120, id) })).status).toBe(201);
    expect(await runPendingAlarm(id)).toBe(true); // the re-clustering runs, and is counted
    const turn = await chat({ messages: [{ role: "user", content: `lisbon trams again? ${id}` }] }, id);
    expect(turn.status).toBe(200);
    const reply = await turn.json<{ usage: { prompt_tokens: number; completion_tokens: number } }>();
    const sent = Number(turn.headers.get("x-epikv-context-tokens"));
    expect(sent).toBeGreaterThan(0);
    expect((await api("GET", "/v1/conversations/no-such-conversation-xyz")).status).toBe(404);
    expect((await api("GET", "/no/such/route")).status).toBe(404);
    const refused = await chat({ model: "test-double-fail-500", messages: [{ role: "user", content: `fail ${id}` }] }, id);
    expect(refused.status).toBe(502);

    // The index write runs under waitUntil; wait until a scrape sees the conversation.
    const after = await waitFor(scrape, (m) => sumSamples(m, "epikv_conversation_messages", { tenant: TEST_TENANT }) >= sumSamples(before, "epikv_conversation_messages", { tenant: TEST_TENANT }) + 122);

    const delta = (labels: Record<string, string>) => requests(after, labels) - requests(before, labels);
    expect(delta({ method: "POST", route: "/v1/conversations", status: "201" })).toBe(1);
    expect(delta({ method: "POST", route: "/v1/conversations/:id/messages", status: "201" })).toBe(1);
    expect(delta({ method: "POST", route: "/v1/chat/completions", status: "200" })).toBe(1);
    expect(delta({ method: "POST", route: "/v1/chat/completions", status: "502" })).toBe(1);
    expect(delta({ method: "GET", route: "/v1/conversations/:id", status: "404" })).toBe(1);
    expect(delta({ method: "GET", route: "unmatched", status: "404" })).toBe(1);
    expect(delta({ method: "GET", route: "/metrics", status: "200" })).toBeGreaterThanOrEqual(1);
    const chatLatency = (m: Map<string, ParsedFamily>) => sumSamples(m, "epikv_http_request_duration_seconds_count", { route: "/v1/chat/completions", status: "200" });
    expect(chatLatency(after) - chatLatency(before)).toBe(1);

    const grew = (name: string) => sumSamples(after, name) - sumSamples(before, name);
    expect(grew("epikv_context_tokens_sent_total")).toBe(sent);
    expect(grew("epikv_context_budget_tokens_total")).toBe(300);
    expect(grew("epikv_context_budget_use_ratio_count")).toBe(1);
    expect(grew("epikv_backend_prompt_tokens_total")).toBe(reply.usage.prompt_tokens);
    expect(grew("epikv_backend_completion_tokens_total")).toBe(reply.usage.completion_tokens);
    expect(sumSamples(after, "epikv_backend_requests_total", { outcome: "ok" }) - sumSamples(before, "epikv_backend_requests_total", { outcome: "ok" })).toBe(1);
    expect(sumSamples(after, "epikv_backend_requests_total", { outcome: "502" }) - sumSamples(before, "epikv_backend_requests_total", { outcome: "502" })).toBe(1);
    expect(sumSamples(after, "epikv_backend_up")).toBe(0); // the last turn failed

    // global figures, read from the Durable Objects
    const t = { tenant: TEST_TENANT };
    expect(sumSamples(after, "epikv_conversation_episodes", t)).toBeGreaterThan(sumSamples(before, "epikv_conversation_episodes", t));
    expect(sumSamples(after, "epikv_reclusters_total", t) - sumSamples(before, "epikv_reclusters_total", t)).toBeGreaterThanOrEqual(1);
    expect(sumSamples(after, "epikv_turns_total", t) - sumSamples(before, "epikv_turns_total", t)).toBe(1);
    expect(sumSamples(after, "epikv_compression_ratio", t)).toBeGreaterThan(1);
    expect(sumSamples(after, "epikv_conversations_indexed")).toBeGreaterThanOrEqual(1);
  });
});
