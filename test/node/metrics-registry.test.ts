// The metrics registry and its Prometheus text writer (worker/metrics/registry.ts),
// read back by the strict parser in test/shared.
import { describe, expect, it } from "vitest";
import { formatPrometheus, formatValue, Registry } from "../../worker/metrics/registry";
import { conversationFamilies, type ConversationSnapshot } from "../../worker/metrics/conversation-families";
import { parsePrometheusText, sumSamples } from "../suites/prometheus-text-parser";

describe("metrics registry → Prometheus text", () => {
  it("writes counters, gauges and histograms that a strict parser reads back exactly", () => {
    const r = new Registry();
    const c = r.counter("t_requests_total", "Requests\nwith a newline and a \\ backslash");
    const g = r.gauge("t_up", "Up");
    const h = r.histogram("t_latency_seconds", "Latency", [0.1, 1, 10]);
    c.inc({ route: "/v1/x/:id", status: "200" });
    c.inc({ route: "/v1/x/:id", status: "200" }, 2);
    c.inc({ route: 'quote " and \\ and\nnewline', status: "500" });
    g.set({}, NaN);
    for (const v of [0.05, 0.1, 0.5, 5, 50]) h.observe({ route: "a" }, v);
    const parsed = parsePrometheusText(formatPrometheus(r.families()));
    expect(parsed.get("t_requests_total")!.type).toBe("counter");
    expect(parsed.get("t_requests_total")!.help).toBe("Requests\nwith a newline and a \\ backslash");
    expect(sumSamples(parsed, "t_requests_total", { status: "200" })).toBe(3);
    expect(parsed.get("t_requests_total")!.samples.find((s) => s.labels.status === "500")!.labels.route).toBe('quote " and \\ and\nnewline');
    expect(Number.isNaN(parsed.get("t_up")!.samples[0]!.value)).toBe(true);
    const buckets = parsed.get("t_latency_seconds")!.samples.filter((s) => s.name.endsWith("_bucket")).map((s) => [s.labels.le, s.value]);
    expect(buckets).toEqual([["0.1", 2], ["1", 3], ["10", 4], ["+Inf", 5]]);
    expect(sumSamples(parsed, "t_latency_seconds_sum")).toBeCloseTo(55.65, 10);
  });

  it("keeps an empty family visible and rejects bad names, labels, decrements and duplicates", () => {
    const r = new Registry();
    r.counter("t_empty_total", "never incremented");
    expect(formatPrometheus(r.families())).toBe("# HELP t_empty_total never incremented\n# TYPE t_empty_total counter\n");
    expect(() => r.counter("t_empty_total", "again")).toThrow(/already registered/);
    expect(() => r.gauge("9bad", "x")).toThrow(/invalid metric name/);
    expect(() => r.counter("t_c", "x").inc({ "bad-label": "1" })).toThrow(/invalid label name/);
    expect(() => r.counter("t_d", "x").inc({}, -1)).toThrow(/only grow/);
    expect(() => r.histogram("t_h", "x", [1, 1])).toThrow(/increase strictly/);
    expect(() => r.histogram("t_h2", "x", [1]).observe({ le: "1" }, 1)).toThrow(/le/);
    expect(() => formatPrometheus([{ name: "a", help: "", type: "gauge", samples: [] }, { name: "a", help: "", type: "gauge", samples: [] }])).toThrow(/twice/);
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(1e-7), formatValue(3)]).toEqual(["+Inf", "-Inf", "1e-7", "3"]);
  });

  it("the parser refuses what Prometheus would refuse", () => {
    expect(() => parsePrometheusText("a 1")).toThrow(/newline/);
    expect(() => parsePrometheusText('a{x="1} 1\n')).toThrow(/unterminated/);
    expect(() => parsePrometheusText("# TYPE a counter\na -1\n")).toThrow(/counter a/);
    expect(() => parsePrometheusText("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n")).toThrow(/outside its family|twice/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n')).toThrow(/≠ _count/);
    expect(() => parsePrometheusText("a one\n")).toThrow(/invalid value/);
  });

  it("sums conversation figures by tenant, with the compression ratio and kv figures when present", () => {
    const info = (id: string, total: number, budget: number, extra: object = {}) => ({
      id, created_at: 0, settings: { budget_tokens: budget, episodes: 4, window: 4, recent_messages: 8 },
      message_count: 10, segment_count: 3, episode_count: 2, total_tokens: total, chars_per_token: 4, ...extra,
    });
    const snaps: ConversationSnapshot[] = [
      { tenant: "a", info: info("x", 10_000, 1000), stats: { turns: 3, reclusters: 2 } },
      { tenant: "a", info: info("y", 500, 1000, { kv: { layer_budgets: [4, 8], bytes_stored: 1000, full_bytes: 8000 } }), stats: { turns: 1, reclusters: 0 } },
      { tenant: "b", info: info("z", 300, 1000), stats: null },
    ];
    const parsed = parsePrometheusText(formatPrometheus(conversationFamilies(7, snaps)));
    expect(sumSamples(parsed, "epikv_conversations_indexed")).toBe(7);
    expect(sumSamples(parsed, "epikv_metrics_conversations_scanned")).toBe(3);
    expect(sumSamples(parsed, "epikv_conversation_tokens", { tenant: "a" })).toBe(10_500);
    expect(sumSamples(parsed, "epikv_compression_ratio", { tenant: "a" })).toBeCloseTo(10_500 / 1500, 10);
    expect(sumSamples(parsed, "epikv_compression_ratio", { tenant: "b" })).toBe(1);
    expect(sumSamples(parsed, "epikv_turns_total", { tenant: "a" })).toBe(4);
    expect(sumSamples(parsed, "epikv_reclusters_total", { tenant: "a" })).toBe(2);
    expect(sumSamples(parsed, "epikv_kv_bytes_stored", { tenant: "a" })).toBe(1000);
    expect(sumSamples(parsed, "epikv_kv_compression_ratio", { tenant: "a" })).toBe(8);
    expect(parsed.get("epikv_kv_bytes_stored")!.samples.some((s) => s.labels.tenant === "b")).toBe(false);
  });
});
