// HTTP client of the KV wire protocol (docs/kv-protocol.md, `epikv-kv/1`),
// used by the kv-mode orchestration in the Durable Object (and by Node
// tests and the benchmark against the reference backend). Frames are sent
// as streams built from stored pages (frame-stream.ts); a request may name a
// pinned handle first and falls back to the bytes on 409 kv_handle_miss.
import { parseSafetensors, type SafetensorsFile } from "../../protocol/safetensors";
import { KV_PROTOCOL, type StreamedFrame } from "./frame-stream";
import { parseModelInfo, type KvModelInfo } from "./model-info";

export type Fetcher = (input: string, init?: RequestInit) => Promise<Response>;

/** A non-2xx answer of the backend, with its OpenAI-style error code. */
export class KvBackendError extends Error {
  override name = "KvBackendError";
  constructor(readonly status: number, readonly code: string, message: string) {
    super(`kv backend ${status} ${code}: ${message}`);
  }
}

export interface FrameResult {
  file: SafetensorsFile;
  response: Record<string, any>;
  /** Bytes sent in the request body and received in the response. */
  bytesSent: number;
  bytesReceived: number;
  /** True when the request went with a handle and the backend still held it. */
  usedHandle: boolean;
}

/** What to send as KV: a handle to try first, and/or the frame builder for the bytes. */
export interface KvSource {
  handle?: string;
  /** The request to send with the handle when it differs (the pinned KV already covers a prefix of the tokens). */
  handleRequest?: Record<string, unknown>;
  /** Builds the frame around the given JSON request; null when there is no KV to send. */
  frame: ((request: Record<string, unknown>) => StreamedFrame) | null;
}

function streamOf(frame: StreamedFrame): ReadableStream<Uint8Array> {
  const it = frame.chunks();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

async function failure(res: Response): Promise<KvBackendError> {
  let code = "http_error", message = res.statusText;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    /* not JSON: keep the status line */
  }
  return new KvBackendError(res.status, code, message);
}

export class KvBackendClient {
  private readonly fetcher: Fetcher;
  constructor(readonly baseUrl: string, fetcher: Fetcher = (i, init) => fetch(i, init)) {
    // A connection that fails is the backend's fault, not a bug: it surfaces as 502 upstream_unreachable (worker/kv/kv-errors.ts).
    this.fetcher = async (input, init) => {
      try {
        return await fetcher(input, init);
      } catch (err) {
        throw new KvBackendError(502, "upstream_unreachable", `cannot reach ${this.baseUrl}: ${(err as Error)?.message ?? String(err)}`);
      }
    };
  }

  private url(path: string): string {
    return this.baseUrl.replace(/\/+$/, "") + path;
  }

  private async json(path: string, body?: unknown): Promise<any> {
    const res = await this.fetcher(this.url(path), body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!res.ok) throw await failure(res);
    return res.json();
  }

  async model(id?: string): Promise<KvModelInfo> {
    return parseModelInfo(await this.json(id ? `/kv/v1/models/${encodeURIComponent(id)}` : "/kv/v1/models").then((b) => (Array.isArray(b?.data) ? b.data[0] : b)));
  }

  async tokenize(model: string, text: string): Promise<number[]> {
    return (await this.json("/kv/v1/tokenize", { model, text })).tokens;
  }

  /** Tokens of messages in the model's chat template (no generation prompt): <|bos|> then each message. */
  async tokenizeMessages(model: string, messages: readonly { role: string; content: string }[]): Promise<number[]> {
    return (await this.json("/kv/v1/tokenize", { model, messages, add_generation_prompt: false })).tokens;
  }

  async detokenize(model: string, tokens: number[]): Promise<string> {
    return (await this.json("/kv/v1/detokenize", { model, tokens })).text;
  }

  async profile(model: string, windows: number[][], blockSize: number): Promise<number[]> {
    return (await this.json("/kv/v1/profile", { model, windows, block_size: blockSize })).sensitivity;
  }

  /** One frame-answering call (prefill, or non-streaming decode). */
  async frameCall(path: "/kv/v1/prefill" | "/kv/v1/decode", request: Record<string, unknown>, kv: KvSource): Promise<FrameResult> {
    if (kv.handle !== undefined) {
      const withHandle = { ...(kv.handleRequest ?? request), kv_handle: kv.handle };
      const res = await this.fetcher(this.url(path), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(withHandle) });
      if (res.ok) return this.readFrame(res, JSON.stringify(withHandle).length, true);
      const err = await failure(res);
      if (err.code !== "kv_handle_miss" || !kv.frame) throw err;
    }
    return this.send(path, request, kv.frame);
  }

  private async send(path: string, request: Record<string, unknown>, frame: KvSource["frame"]): Promise<FrameResult> {
    let res: Response, sent: number;
    if (!frame) {
      const body = JSON.stringify(request);
      sent = body.length;
      res = await this.fetcher(this.url(path), { method: "POST", headers: { "content-type": "application/json" }, body });
    } else {
      const f = frame(request);
      sent = f.byteLength;
      // A stream of known length: the edge never holds the whole frame (frame-stream.ts).
      res = await this.fetcher(this.url(path), { method: "POST", headers: { "content-type": "application/x-safetensors" }, body: streamOf(f), duplex: "half" } as RequestInit);
    }
    if (!res.ok) throw await failure(res);
    return this.readFrame(res, sent, false);
  }

  private async readFrame(res: Response, sent: number, usedHandle: boolean): Promise<FrameResult> {
    const bytes = new Uint8Array(await res.arrayBuffer());
    const file = parseSafetensors(bytes);
    if (file.metadata.protocol !== KV_PROTOCOL) throw new KvBackendError(res.status, "invalid_frame", `response frame speaks "${file.metadata.protocol}", expected ${KV_PROTOCOL}`);
    return { file, response: JSON.parse(file.metadata.response ?? "{}"), bytesSent: sent, bytesReceived: bytes.byteLength, usedHandle };
  }

  /**
   * Streaming decode: yields each generated token's text as it arrives, then
   * returns the `done` metadata. The KV source works as for frameCall.
   */
  async *decodeStream(request: Record<string, unknown>, kv: KvSource): AsyncGenerator<{ token: number; text: string }, Record<string, any> & { bytesSent: number; usedHandle: boolean }> {
    const req = { ...request, stream: true, return_kv: false };
    let res: Response | null = null, sent = 0, usedHandle = false;
    if (kv.handle !== undefined) {
      const body = JSON.stringify({ ...(kv.handleRequest ?? request), stream: true, return_kv: false, kv_handle: kv.handle });
      const r = await this.fetcher(this.url("/kv/v1/decode"), { method: "POST", headers: { "content-type": "application/json" }, body });
      if (r.ok) [res, sent, usedHandle] = [r, body.length, true];
      else {
        const err = await failure(r);
        if (err.code !== "kv_handle_miss" || !kv.frame) throw err;
      }
    }
    if (!res) {
      if (kv.frame) {
        const f = kv.frame(req);
        sent = f.byteLength;
        res = await this.fetcher(this.url("/kv/v1/decode"), { method: "POST", headers: { "content-type": "application/x-safetensors" }, body: streamOf(f), duplex: "half" } as RequestInit);
      } else {
        const body = JSON.stringify(req);
        sent = body.length;
        res = await this.fetcher(this.url("/kv/v1/decode"), { method: "POST", headers: { "content-type": "application/json" }, body });
      }
      if (!res.ok) throw await failure(res);
    }
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const record = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(record)?.[1] ?? "message";
        const data = JSON.parse(record.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n"));
        if (event === "token") yield { token: data.token, text: data.text };
        else if (event === "error") throw new KvBackendError(500, data.error?.code ?? "stream_error", data.error?.message ?? "stream failed");
        else if (event === "done") {
          delete data.frame;
          return { ...data, bytesSent: sent, usedHandle };
        }
      }
    }
    throw new KvBackendError(502, "stream_truncated", "decode stream ended without a done event");
  }
}
