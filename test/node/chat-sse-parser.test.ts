// The upstream SSE parser on well-formed and malformed input: chunks split
// anywhere (inside lines, between CR and LF, inside UTF-8), CRLF/CR line
// ends, comments, multi-line data, a missing final blank line.
import { describe, expect, it } from "vitest";
import { SseParser, sseEvents } from "../../worker/backend/sse-parser";

function parseAll(chunks: (string | Uint8Array)[]) {
  const p = new SseParser();
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

/** Every way of cutting `text` into two chunks must parse the same as the whole. */
function everySplit(text: string) {
  const whole = parseAll([text]);
  for (let i = 1; i < text.length; i++) expect(parseAll([text.slice(0, i), text.slice(i)]), `split at ${i}`).toEqual(whole);
  return whole;
}

describe("SseParser", () => {
  it("parses data events and [DONE] with LF line ends, at every split point", () => {
    const events = everySplit('data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n');
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', '{"a":2}', "[DONE]"]);
    expect(events.every((e) => e.event === "message")).toBe(true);
  });

  it("accepts CRLF and bare CR line ends, including a CR/LF pair split across chunks", () => {
    expect(everySplit("data: x\r\n\r\ndata: y\r\n\r\n").map((e) => e.data)).toEqual(["x", "y"]);
    expect(everySplit("data: x\r\rdata: y\r\r").map((e) => e.data)).toEqual(["x", "y"]);
    // CR at the end of one chunk, LF at the start of the next: one line end, not two.
    expect(parseAll(["data: a\r", "\ndata: b\r\n\r\n"]).map((e) => e.data)).toEqual(["a\nb"]);
  });

  it("ignores comments and unknown fields, joins multi-line data, keeps event names and ids", () => {
    const events = everySplit(": keep-alive\nretry: 100\nfoo: bar\nevent: error\nid: 7\ndata: line1\ndata: line2\n\n:ping\n\n");
    expect(events).toEqual([{ event: "error", data: "line1\nline2", id: "7" }]);
  });

  it("handles a field without a colon, no space after the colon, and empty events", () => {
    expect(parseAll(["data\n\ndata:x\n\n\n\n"]).map((e) => e.data)).toEqual(["", "x"]);
  });

  it("dispatches a final event that lacks its blank line, and a final line without line end", () => {
    expect(parseAll(['data: {"last":true}\n']).map((e) => e.data)).toEqual(['{"last":true}']);
    expect(parseAll(['data: {"last":true}']).map((e) => e.data)).toEqual(['{"last":true}']);
    expect(parseAll([""])).toEqual([]);
  });

  it("decodes UTF-8 split inside a multi-byte character", () => {
    const bytes = new TextEncoder().encode("data: héllo 😀\n\n");
    for (let i = 1; i < bytes.length; i++) {
      expect(parseAll([bytes.slice(0, i), bytes.slice(i)]).map((e) => e.data), `split at byte ${i}`).toEqual(["héllo 😀"]);
    }
  });

  it("passes malformed JSON through as data (the chunk layer rejects it)", () => {
    expect(parseAll(["data: {not json\n\n"]).map((e) => e.data)).toEqual(["{not json"]);
  });
});

describe("sseEvents", () => {
  it("reads events from a byte stream delivered one byte at a time", async () => {
    const bytes = new TextEncoder().encode("data: 1\r\n\r\n: c\r\ndata: 2\r\n\r\n");
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const out: string[] = [];
    for await (const e of sseEvents(stream)) out.push(e.data);
    expect(out).toEqual(["1", "2"]);
  });
});
