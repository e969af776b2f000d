// Plain-text tables for terminal output: a header row, a rule, aligned cells
// (numbers right-aligned), long cells cut with an ellipsis.
export type Cell = string | number | null | undefined;

export function cellText(c: Cell): string {
  if (c === null || c === undefined) return "—";
  return typeof c === "number" ? (Number.isInteger(c) ? String(c) : c.toFixed(3)) : c.replace(/\s+/g, " ");
}

export function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, Math.max(0, max - 1)) + "…";
}

export function renderTable(header: string[], rows: Cell[][], maxWidth: Partial<Record<number, number>> = {}): string {
  const text = rows.map((r) => r.map((c, i) => clip(cellText(c), maxWidth[i] ?? 80)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number" || r[i] === null || r[i] === undefined));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...text.map(line)].join("\n");
}
