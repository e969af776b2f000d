// Parsing of conversation exports by `npm run cli -- import` (scripts/cli/import-file.ts):
// JSON and JSONL, with every malformed line reported by number.
import { describe, expect, it } from "vitest";
import { batches, detectFormat, ImportParseError, parseImport } from "../../scripts/cli/import-file";
import { batchKey } from "../../scripts/epikv-cli";
import { renderTable } from "../../scripts/cli/table";

const m = (role: string, content: unknown, extra: object = {}) => ({ role, content, ...extra });

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImportParseError);
    return (err as ImportParseError).problems;
  }
  throw new Error("expected an ImportParseError");
}

describe("cli import file parsing", () => {
  it("reads a JSON array, a {messages} object and JSONL with blank lines and CRLF to the same messages", () => {
    const msgs = [m("system", "be brief"), m("user", "hi"), m("assistant", null, { tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] }), m("tool", "42", { tool_call_id: "c1" }), m("user", [{ type: "text", text: "parts" }])];
    const fromArray = parseImport(JSON.stringify(msgs), "a.json");
    const fromObject = parseImport(JSON.stringify({ messages: msgs }), "b.json");
    const fromJsonl = parseImport("\uFEFF" + msgs.map((x) => JSON.stringify(x)).join("\r\n\r\n") + "\n", "c.jsonl");
    expect(fromArray).toEqual(msgs);
    expect(fromObject).toEqual(msgs);
    expect(fromJsonl).toEqual(msgs);
  });

  it("detects the format by extension, else by content", () => {
    expect(detectFormat("x.JSONL", "[]")).toBe("jsonl");
    expect(detectFormat("x.ndjson", "")).toBe("jsonl");
    expect(detectFormat("x.json", "{")).toBe("json");
    expect(detectFormat("export.txt", '[{"role":"user","content":"a"}]')).toBe("json");
    expect(detectFormat("export.txt", '{"role":"user","content":"a"}\n{"role":"user","content":"b"}')).toBe("jsonl");
    expect(parseImport('{"role":"user","content":"a"}\n{"role":"assistant","content":"b"}', "stdin")).toHaveLength(2);
  });

  it("reports every malformed JSONL line with its number and a snippet, syntax and shape together", () => {
    const text = ['{"role":"user","content":"ok"}', "{not json", "", '{"role":"user","content":"ok"}', '{"role":"user",', "[1,2]"].join("\n");
    const p = problems(() => parseImport(text, "bad.jsonl"));
    expect(p).toHaveLength(3);
    expect(p[0]).toMatch(/^line 2: invalid JSON .*"\{not json"/);
    expect(p[1]).toMatch(/^line 5: invalid JSON/);
    expect(p[2]).toMatch(/^line 6: expected a message object, got an array/);
  });

  it("reports messages of the wrong shape, with positions, all at once", () => {
    const text = [m("user", "fine"), m("wizard", "x"), m("user", 3), "just text", m(undefined as unknown as string, "x"), m("assistant", null)].map((x) => JSON.stringify(x)).join("\n");
    const p = problems(() => parseImport(text, "shape.jsonl"));
    expect(p).toEqual([
      expect.stringMatching(/^line 2: "role" must be one of system, developer, user, assistant, tool; got "wizard"/),
      expect.stringMatching(/^line 3: "content" must be a string/),
      expect.stringMatching(/^line 4: expected a message object, got string/),
      expect.stringMatching(/^line 5: "role" is missing/),
      expect.stringMatching(/^line 6: "content" must be .*null only for an assistant message with tool_calls/),
    ]);
    const json = problems(() => parseImport(JSON.stringify([m("user", "a"), 7]), "x.json"));
    expect(json).toEqual([expect.stringMatching(/^messages\[1\]: expected a message object, got number/)]);
  });

  it("names the file, caps the list at 20 and counts the rest", () => {
    const text = Array.from({ length: 25 }, () => "{oops").join("\n");
    try {
      parseImport(text, "many.jsonl");
      throw new Error("unreachable");
    } catch (err) {
      const e = err as ImportParseError;
      expect(e.problems).toHaveLength(20);
      expect(e.more).toBe(5);
      expect(e.message).toMatch(/^many\.jsonl: 25 problems:/);
      expect(e.message).toMatch(/… and 5 more$/);
    }
  });

  it("refuses invalid JSON, a wrong top level and an empty file with clear errors", () => {
    expect(problems(() => parseImport("[{", "x.json"))[0]).toMatch(/^invalid JSON: /);
    expect(problems(() => parseImport('{"msgs":[]}', "x.json"))[0]).toMatch(/expected a JSON array of messages, or an object with a "messages" array/);
    expect(problems(() => parseImport("\n\n", "x.jsonl"))).toEqual(["no messages found"]);
    expect(problems(() => parseImport("[]", "x.json"))).toEqual(["no messages found"]);
  });

  it("batches keep order, and a batch's Idempotency-Key depends on its position and content only", () => {
    const items = Array.from({ length: 7 }, (_, i) => m("user", `m${i}`)) as never[];
    const parts = batches(items, 3);
    expect(parts.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(parts.flat()).toEqual(items);
    expect(() => batches(items, 0)).toThrow(/positive integer/);
    expect(batchKey("c", 0, parts[0]!)).toBe(batchKey("c", 0, JSON.parse(JSON.stringify(parts[0]))));
    expect(batchKey("c", 0, parts[0]!)).not.toBe(batchKey("c", 1, parts[0]!));
    expect(batchKey("c", 0, parts[0]!)).not.toBe(batchKey("c", 0, parts[1]!));
    expect(batchKey("c", 0, parts[0]!).length).toBeLessThanOrEqual(255);
  });

  it("renders aligned tables with numbers to the right and long cells clipped", () => {
    const t = renderTable(["id", "n", "text"], [["a", 5, "x".repeat(100)], ["bb", 12, "short"]], { 2: 10 }).split("\n");
    expect(t[0]).toBe("id   n  text");
    expect(t[2]).toBe("a    5  xxxxxxxxx…");
    expect(t[3]).toBe("bb  12  short");
  });
});
