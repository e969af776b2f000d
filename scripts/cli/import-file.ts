// Parses a conversation export for `epikv-cli import`: JSON (an array of
// messages, or an object with a `messages` array) or JSONL (one message per
// line; blank lines skipped). Every problem is reported with its line, and
// the parse goes on to list up to MAX_REPORTED problems at once, so a bad
// file is fixed in one pass. The Worker validates messages fully again;
// this catches what would otherwise fail a whole batch mid-import.

export const IMPORT_ROLES = ["system", "developer", "user", "assistant", "tool"] as const;
const MAX_REPORTED = 20;

export interface ImportMessage {
  role: (typeof IMPORT_ROLES)[number];
  content: string | null | { type: string; text?: string }[];
  [field: string]: unknown;
}

export type ImportFormat = "json" | "jsonl";

export class ImportParseError extends Error {
  constructor(readonly source: string, readonly problems: string[], readonly more: number) {
    super(`${source}: ${problems.length + more} problem${problems.length + more === 1 ? "" : "s"}:\n  ${problems.join("\n  ")}${more ? `\n  … and ${more} more` : ""}`);
    this.name = "ImportParseError";
  }
}

/** The format from the file name, else by content: a text that parses as one JSON value is JSON. */
export function detectFormat(name: string, text: string): ImportFormat {
  if (/\.(jsonl|ndjson)$/i.test(name)) return "jsonl";
  if (/\.json$/i.test(name)) return "json";
  try {
    JSON.parse(text);
    return "json";
  } catch {
    return "jsonl";
  }
}

/** Why `value` is not an importable message, or null when it is. */
export function messageProblem(value: unknown): string | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return `expected a message object, got ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}`;
  const m = value as Record<string, unknown>;
  if (typeof m.role !== "string") return `"role" is missing or not a string`;
  if (!(IMPORT_ROLES as readonly string[]).includes(m.role)) return `"role" must be one of ${IMPORT_ROLES.join(", ")}; got ${JSON.stringify(m.role)}`;
  const c = m.content;
  const parts = Array.isArray(c) && c.every((p) => p !== null && typeof p === "object" && typeof (p as { type?: unknown }).type === "string");
  if (!(typeof c === "string" || parts || (c === null && m.role === "assistant" && Array.isArray(m.tool_calls)) || (c === undefined && m.role === "assistant" && Array.isArray(m.tool_calls)))) {
    return `"content" must be a string or an array of content parts (null only for an assistant message with tool_calls)`;
  }
  return null;
}

/** Stands in for a line that is not JSON (its problem comes from the syntax map). */
const SYNTAX_ERROR = Symbol("syntax error");

function collect(source: string, entries: Iterable<{ where: string; value: unknown }>, syntaxProblem: (where: string) => string | undefined = () => undefined): ImportMessage[] {
  const out: ImportMessage[] = [];
  const problems: string[] = [];
  let more = 0;
  for (const { where, value } of entries) {
    const problem = value === SYNTAX_ERROR ? syntaxProblem(where)! : messageProblem(value);
    if (problem === null) out.push(value as ImportMessage);
    else if (problems.length < MAX_REPORTED) problems.push(`${where}: ${problem}`);
    else more++;
  }
  if (problems.length) throw new ImportParseError(source, problems, more);
  if (out.length === 0) throw new ImportParseError(source, ["no messages found"], 0);
  return out;
}

/** Parses a whole file's text into messages, or throws ImportParseError listing every problem (first 20). */
export function parseImport(text: string, source: string, format: ImportFormat = detectFormat(source, text)): ImportMessage[] {
  const body = text.replace(/^\uFEFF/, "");
  if (format === "json") {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      throw new ImportParseError(source, [`invalid JSON: ${(err as Error).message}`], 0);
    }
    const list = Array.isArray(value) ? value : (value as { messages?: unknown } | null)?.messages;
    if (!Array.isArray(list)) throw new ImportParseError(source, ["expected a JSON array of messages, or an object with a \"messages\" array"], 0);
    return collect(source, list.map((v, i) => ({ where: `messages[${i}]`, value: v })));
  }
  // Syntax and shape problems are reported together, in line order.
  const entries: { where: string; value: unknown }[] = [];
  const syntax = new Map<string, string>();
  body.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `line ${i + 1}`;
    try {
      entries.push({ where, value: JSON.parse(line) });
    } catch (err) {
      syntax.set(where, `invalid JSON (${(err as Error).message}): ${JSON.stringify(line.length > 60 ? line.slice(0, 60) + "…" : line)}`);
      entries.push({ where, value: SYNTAX_ERROR });
    }
  });
  return collect(source, entries, (where) => syntax.get(where));
}

/** Splits messages into batches of at most `size` (the Worker accepts up to 50,000 per call). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`batch size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
