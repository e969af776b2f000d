// Incremental parser for Server-Sent Events as upstream OpenAI-compatible
// servers send them (WHATWG HTML §9.2 "event stream interpretation").
// Chunks may split anywhere — inside a line, between CR and LF, inside a
// UTF-8 sequence (bytes go through a streaming TextDecoder) — and lines may
// end in LF, CRLF or CR. Comment lines (":keep-alive") are ignored. Unlike a
// browser, `end()` dispatches a final event that lacks its blank line,
// because some servers close the stream right after the last `data:` line.

export interface SseEvent {
  /** `event:` field, "message" when absent. */
  event: string;
  /** `data:` lines joined by "\n". */
  data: string;
  id?: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder();
  private buffer = "";
  /** The previous chunk ended in CR: a leading LF of the next chunk belongs to it. */
  private pendingCr = false;
  private event = "";
  private data: string[] = [];
  private id: string | undefined;

  /** Feeds bytes or text; returns the events completed by it. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.line(this.buffer.slice(start, i), out);
      if (ch === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Ends the stream: flushes a trailing line and an event missing its blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    const rest = this.buffer + this.decoder.decode();
    this.buffer = "";
    if (rest !== "") this.line(rest, out);
    this.dispatch(out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === "") return this.dispatch(out);
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
    // "retry" and unknown fields are ignored, as the spec says.
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data.length > 0) {
      const ev: SseEvent = { event: this.event || "message", data: this.data.join("\n") };
      if (this.id !== undefined) ev.id = this.id;
      out.push(ev);
    }
    this.event = "";
    this.data = [];
  }
}

/** Events of a byte stream, in order, as they arrive. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(value);
    }
    yield* parser.end();
  } finally {
    reader.releaseLock();
  }
}
