// A small metrics registry (counters, gauges, histograms with labels) and the
// Prometheus text exposition format 0.0.4 writer. Pure: no I/O, no clock,
// so it runs unchanged in workerd and under Node tests.
//
// Scope: one registry lives in one Worker isolate. Production runs many
// isolates, each with its own registry, and a scrape lands on one of them,
// so everything kept here is "per isolate since it started" (the
// `epikv_isolate_start_time_seconds` gauge lets a reader see resets).
// Figures that must be global are read from Durable Objects at scrape time
// instead (worker/metrics/conversation-metrics.ts). docs/inspector.md says
// which family comes from where.

export type Labels = Record<string, string>;
export type MetricType = "counter" | "gauge" | "histogram";

/** One sample line: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** A metric family as the text format groups it: one HELP, one TYPE, its samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkName(name: string): void {
  if (!NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
}

function checkLabels(labels: Labels): void {
  for (const k of Object.keys(labels)) {
    if (!LABEL.test(k) || k.startsWith("__")) throw new Error(`invalid label name ${JSON.stringify(k)}`);
  }
}

/** Stable key of a label set (sorted), used to find a series. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

abstract class Metric {
  constructor(readonly name: string, readonly help: string) {
    checkName(name);
  }
  abstract readonly type: MetricType;
  abstract collect(): Sample[];
  family(): MetricFamily {
    return { name: this.name, help: this.help, type: this.type, samples: this.collect() };
  }
}

export class Counter extends Metric {
  readonly type = "counter";
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new Error(`counter ${this.name} can only grow by a finite amount >= 0, got ${by}`);
    checkLabels(labels);
    const key = seriesKey(labels);
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels: { ...labels }, value: by });
  }

  get(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels))?.value ?? 0;
  }

  collect(): Sample[] {
    return [...this.series.values()].map((s) => ({ name: this.name, labels: s.labels, value: s.value }));
  }
}

export class Gauge extends Metric {
  readonly type = "gauge";
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  set(labels: Labels, value: number): void {
    checkLabels(labels);
    this.series.set(seriesKey(labels), { labels: { ...labels }, value });
  }

  get(labels: Labels = {}): number | undefined {
    return this.series.get(seriesKey(labels))?.value;
  }

  collect(): Sample[] {
    return [...this.series.values()].map((s) => ({ name: this.name, labels: s.labels, value: s.value }));
  }
}

/** Cumulative-bucket histogram; `buckets` are upper bounds, +Inf is added. */
export class Histogram extends Metric {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    if (buckets.length === 0) throw new Error(`histogram ${name} needs at least one bucket`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`histogram ${name} buckets must increase strictly`);
    }
    this.buckets = [...buckets];
  }

  observe(labels: Labels, value: number): void {
    if (Number.isNaN(value)) throw new Error(`histogram ${this.name} cannot observe NaN`);
    checkLabels(labels);
    if ("le" in labels) throw new Error(`histogram ${this.name} cannot use the label "le"`);
    const key = seriesKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations so far for a label set (0 when none). */
  count(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels))?.count ?? 0;
  }

  collect(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => out.push({ name: `${this.name}_bucket`, labels: { ...s.labels, le: formatValue(le) }, value: s.counts[i]! }));
      out.push({ name: `${this.name}_bucket`, labels: { ...s.labels, le: "+Inf" }, value: s.count });
      out.push({ name: `${this.name}_sum`, labels: s.labels, value: s.sum });
      out.push({ name: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return out;
  }
}

/** A named set of metrics; each name registers once. */
export class Registry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} is already registered`);
    this.metrics.set(m.name, m);
    return m;
  }
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  families(): MetricFamily[] {
    return [...this.metrics.values()].map((m) => m.family());
  }
}

// --- text exposition format --------------------------------------------------

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Numbers as the format spells them: +Inf, -Inf, NaN, else JS's shortest round-trip form. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(",")}}`;
}

/**
 * The families as Prometheus text: `# HELP`, `# TYPE`, then samples, one
 * family after another (a name may not appear twice). A family without
 * samples still gets its HELP/TYPE lines, so a reader sees it exists.
 */
export function formatPrometheus(families: readonly MetricFamily[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const f of families) {
    checkName(f.name);
    if (seen.has(f.name)) throw new Error(`metric family ${f.name} appears twice`);
    seen.add(f.name);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      checkLabels(s.labels);
      lines.push(`${s.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
  }
  return lines.join("\n") + "\n";
}
