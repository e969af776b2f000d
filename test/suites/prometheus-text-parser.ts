// A strict parser for the Prometheus text exposition format 0.0.4, for tests:
// it throws on anything a Prometheus server would refuse or that the format
// forbids (bad names, bad escapes, a family split in two, samples before
// their TYPE, non-cumulative histogram buckets, +Inf bucket ≠ _count,
// negative counters). Written from the format's documentation.

export type FamilyType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: FamilyType;
  help: string | null;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<FamilyType>(["counter", "gauge", "histogram", "summary", "untyped"]);

export class PrometheusParseError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "PrometheusParseError";
  }
}

function parseValue(raw: string, line: number): number {
  if (raw === "+Inf" || raw === "Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  if (raw === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new PrometheusParseError(line, `invalid value ${JSON.stringify(raw)}`);
  return Number(raw);
}

function unescape(s: string, line: number, allowQuote: boolean): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = s[++i];
    if (next === "\\") out += "\\";
    else if (next === "n") out += "\n";
    else if (next === '"' && allowQuote) out += '"';
    else throw new PrometheusParseError(line, `invalid escape \\${next ?? ""}`);
  }
  return out;
}

/** Family a sample name belongs to (histogram/summary suffixes fold into their base). */
function familyOf(name: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const f = families.get(name.slice(0, -suffix.length));
      if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
    }
  }
  return undefined;
}

function parseSample(text: string, line: number): ParsedSample {
  const nameMatch = METRIC_NAME.exec(text);
  if (!nameMatch) throw new PrometheusParseError(line, `invalid metric name at ${JSON.stringify(text.slice(0, 40))}`);
  const name = nameMatch[0];
  let rest = text.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    for (;;) {
      if (rest.startsWith("}")) {
        rest = rest.slice(1);
        break;
      }
      const ln = LABEL_NAME.exec(rest);
      if (!ln) throw new PrometheusParseError(line, `invalid label name in ${JSON.stringify(text)}`);
      const key = ln[0];
      if (key in labels) throw new PrometheusParseError(line, `label ${key} repeated`);
      rest = rest.slice(key.length);
      if (!rest.startsWith('="')) throw new PrometheusParseError(line, `expected =" after label ${key}`);
      rest = rest.slice(2);
      let end = 0;
      while (end < rest.length && rest[end] !== '"') end += rest[end] === "\\" ? 2 : 1;
      if (end >= rest.length) throw new PrometheusParseError(line, `unterminated label value for ${key}`);
      labels[key] = unescape(rest.slice(0, end), line, true);
      rest = rest.slice(end + 1);
      if (rest.startsWith(",")) rest = rest.slice(1);
      else if (!rest.startsWith("}")) throw new PrometheusParseError(line, `expected , or } after label ${key}`);
    }
  }
  if (!rest.startsWith(" ")) throw new PrometheusParseError(line, `expected a space before the value in ${JSON.stringify(text)}`);
  const parts = rest.trim().split(/\s+/);
  if (parts.length < 1 || parts.length > 2) throw new PrometheusParseError(line, `expected "value [timestamp]" in ${JSON.stringify(text)}`);
  if (parts.length === 2 && !/^-?\d+$/.test(parts[1]!)) throw new PrometheusParseError(line, `invalid timestamp ${parts[1]}`);
  return { name, labels, value: parseValue(parts[0]!, line) };
}

function checkFamily(f: ParsedFamily): void {
  if (f.type === "counter") {
    for (const s of f.samples) if (!(s.value >= 0)) throw new Error(`counter ${f.name} has value ${s.value}`);
  }
  if (f.type !== "histogram") return;
  const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}_bucket without le`);
      entry.buckets.push([le === "+Inf" ? Infinity : Number(le), s.value]);
    } else if (s.name === `${f.name}_count`) entry.count = s.value;
    else if (s.name === `${f.name}_sum`) entry.sum = s.value;
    else throw new Error(`histogram ${f.name} has a stray sample ${s.name}`);
  }
  for (const [key, e] of series) {
    if (e.count === undefined || e.sum === undefined) throw new Error(`histogram ${f.name}${key} lacks _count or _sum`);
    for (let i = 1; i < e.buckets.length; i++) {
      if (!(e.buckets[i]![0] > e.buckets[i - 1]![0])) throw new Error(`histogram ${f.name}${key} buckets not in increasing le order`);
      if (e.buckets[i]![1] < e.buckets[i - 1]![1]) throw new Error(`histogram ${f.name}${key} buckets not cumulative`);
    }
    const inf = e.buckets[e.buckets.length - 1];
    if (!inf || inf[0] !== Infinity) throw new Error(`histogram ${f.name}${key} lacks the +Inf bucket`);
    if (inf[1] !== e.count) throw new Error(`histogram ${f.name}${key}: +Inf bucket ${inf[1]} ≠ _count ${e.count}`);
  }
}

/** Parses and validates a whole exposition; families by name. */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  let current: ParsedFamily | null = null;
  if (text.length && !text.endsWith("\n")) throw new PrometheusParseError(text.split("\n").length, "the exposition must end with a newline");
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(raw);
      if (!m) return; // other comments are allowed
      const [, kind, name, arg] = m as unknown as [string, string, string, string | undefined];
      if (!new RegExp(`^${METRIC_NAME.source}$`).test(name)) throw new PrometheusParseError(n, `invalid metric name ${name}`);
      if (closed.has(name)) throw new PrometheusParseError(n, `family ${name} appears twice`);
      let f = families.get(name);
      if (f && current !== f) throw new PrometheusParseError(n, `family ${name} is split`);
      if (!f) {
        if (current) closed.add(current.name);
        f = { name, type: "untyped", help: null, samples: [] };
        families.set(name, f);
        current = f;
      }
      if (kind === "HELP") {
        if (f.help !== null) throw new PrometheusParseError(n, `second HELP for ${name}`);
        f.help = unescape(arg ?? "", n, false);
      } else {
        if (f.samples.length) throw new PrometheusParseError(n, `TYPE for ${name} after its samples`);
        if (!TYPES.has(arg as FamilyType)) throw new PrometheusParseError(n, `unknown type ${arg}`);
        f.type = arg as FamilyType;
      }
      return;
    }
    const sample = parseSample(raw, n);
    let f = familyOf(sample.name, families);
    if (!f) {
      if (closed.has(sample.name)) throw new PrometheusParseError(n, `family ${sample.name} appears twice`);
      if (current) closed.add(current.name);
      f = { name: sample.name, type: "untyped", help: null, samples: [] };
      families.set(sample.name, f);
      current = f;
    } else if (f !== current) throw new PrometheusParseError(n, `sample ${sample.name} outside its family's block`);
    f.samples.push(sample);
  });
  for (const f of families.values()) checkFamily(f);
  return families;
}

/** Sum of a family's samples whose labels include `match` (0 when none). */
export function sumSamples(families: Map<string, ParsedFamily>, sampleName: string, match: Record<string, string> = {}): number {
  const base = familyOf(sampleName, families);
  if (!base) return 0;
  return base.samples
    .filter((s) => s.name === sampleName && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}
