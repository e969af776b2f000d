// Server-sent events: one `event:`/`data:` record per call.
import type { ServerResponse } from "node:http";

export function startSse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", Connection: "keep-alive", ...headers });
}

export function sendSse(res: ServerResponse, data: unknown, event?: string): void {
  res.write(`${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}

/** Let the event loop run (other requests, client disconnects) between tokens. */
export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));
