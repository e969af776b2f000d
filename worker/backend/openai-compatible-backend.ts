// ChatBackend over HTTP for any OpenAI-compatible server. Maps every way a
// call can fail to one ApiError: unreachable → 502 upstream_unreachable,
// a 4xx that judges the client's request (unknown model, a parameter out of
// range) → passed through with the backend's status and error fields,
// any other non-2xx → 502 upstream_status_N, unparsable answer → 502
// upstream_invalid_response, stream ending before a finish → 502
// upstream_stream_incomplete, silence past the timeout → 504 upstream_timeout.
import { ApiError, upstreamError } from "../http/api-error";
import type { BackendConfig } from "./backend-config";
import type { ChatBackend, ChatChunk, ChatCompletion, UpstreamJson } from "./chat-backend";
import { sseEvents } from "./sse-parser";
import { passedThrough, upstreamMessage } from "./upstream-errors";

type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export function openAiCompatibleBackend(config: BackendConfig, fetchFn?: FetchFn): ChatBackend {
  const doFetch: FetchFn = fetchFn ?? (config.fetcher ? (u, i) => config.fetcher!.fetch(u, i) : (u, i) => fetch(u, i));
  const url = `${config.baseUrl}/chat/completions`;

  async function post(body: UpstreamJson, streaming: boolean, watchdog: Watchdog): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: streaming ? "text/event-stream" : "application/json" };
    if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
    let res: Response;
    try {
      res = await doFetch(url, { method: "POST", headers, body, signal: watchdog.signal });
    } catch (err) {
      throw watchdog.fired ? timeoutError(config) : upstreamError(502, `backend unreachable at ${url}: ${(err as Error).message}`, "upstream_unreachable");
    }
    if (!res.ok) {
      const detail = await res.text().catch(() => "");
      watchdog.stop();
      throw passedThrough(res.status, detail) ?? upstreamError(502, `backend answered HTTP ${res.status}: ${upstreamMessage(detail)}`, `upstream_status_${res.status}`);
    }
    return res;
  }

  return {
    async complete(body) {
      const watchdog = new Watchdog(config.timeoutMs);
      try {
        const res = await post(body, false, watchdog);
        let text: string;
        try {
          text = await res.text();
        } catch (err) {
          throw watchdog.fired ? timeoutError(config) : upstreamError(502, `backend response broke off: ${(err as Error).message}`, "upstream_stream_incomplete");
        }
        return parseCompletion(text);
      } finally {
        watchdog.stop();
      }
    },

    async stream(body) {
      const watchdog = new Watchdog(config.timeoutMs);
      let res: Response;
      try {
        res = await post(body, true, watchdog);
      } catch (err) {
        watchdog.stop();
        throw err;
      }
      if (!res.body) {
        watchdog.stop();
        throw upstreamError(502, "backend answered without a body", "upstream_invalid_response");
      }
      return chatChunks(res.body, watchdog, config);
    },
  };
}

async function* chatChunks(body: ReadableStream<Uint8Array>, watchdog: Watchdog, config: BackendConfig): AsyncGenerator<ChatChunk> {
  let finished = false;
  try {
    watchdog.restart();
    for await (const ev of sseEvents(body)) {
      watchdog.restart();
      if (ev.data === "[DONE]") return;
      const chunk = parseChunk(ev.data);
      if (chunk.choices.some((c) => c.finish_reason)) finished = true;
      yield chunk;
    }
    // Some servers omit [DONE]; a chunk with a finish_reason proves the reply is whole.
    if (!finished) throw upstreamError(502, "backend stream ended before the reply finished (no finish_reason, no [DONE])", "upstream_stream_incomplete");
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw watchdog.fired ? timeoutError(config) : upstreamError(502, `backend stream broke off: ${(err as Error).message}`, "upstream_stream_incomplete");
  } finally {
    watchdog.stop();
  }
}

export function parseCompletion(text: string): ChatCompletion {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw upstreamError(502, `backend answered with invalid JSON: ${text.slice(0, 200)}`, "upstream_invalid_response");
  }
  const obj = json as ChatCompletion;
  const message = obj?.choices?.[0]?.message;
  if (!message || (typeof message.content !== "string" && message.content !== null)) {
    throw upstreamError(502, "backend answer has no choices[0].message", "upstream_invalid_response");
  }
  return obj;
}

export function parseChunk(data: string): ChatChunk {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw upstreamError(502, `backend stream carried invalid JSON: ${data.slice(0, 200)}`, "upstream_invalid_response");
  }
  const obj = json as ChatChunk & { error?: unknown };
  if (obj && typeof obj === "object" && obj.error) {
    throw upstreamError(502, `backend reported an error mid-stream: ${upstreamMessage(JSON.stringify(obj.error))}`, "upstream_stream_error");
  }
  if (!obj || !Array.isArray(obj.choices)) throw upstreamError(502, `backend stream chunk has no choices array: ${data.slice(0, 200)}`, "upstream_invalid_response");
  return obj;
}

function timeoutError(config: BackendConfig): ApiError {
  return upstreamError(504, `backend sent nothing for ${config.timeoutMs} ms`, "upstream_timeout");
}

/** Aborts the request after `ms` of silence; restarted on every chunk. */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  fired = false;
  constructor(private readonly ms: number) {
    this.restart();
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  restart(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new Error(`no data for ${this.ms} ms`));
    }, this.ms);
  }
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
