// The OpenAI-compatible backend client: every way an upstream call can fail
// becomes one clear ApiError (502/504), and a well-formed stream is yielded
// chunk by chunk. Upstream answers are built here byte for byte; the
// "unreachable" case uses a real closed port.
import { describe, expect, it } from "vitest";
import { openAiCompatibleBackend } from "../../worker/backend/openai-compatible-backend";
import type { BackendConfig } from "../../worker/backend/backend-config";
import { ApiError } from "../../worker/http/api-error";

const config = (over: Partial<BackendConfig> = {}): BackendConfig => ({
  baseUrl: "http://backend.test/v1",
  apiKey: "sk-test",
  defaultModel: undefined,
  timeoutMs: 2000,
  fetcher: undefined,
  ...over,
});

function sseResponse(parts: string[], gapMs = 0): Response {
  const enc = new TextEncoder();
  return new Response(
    new ReadableStream<Uint8Array>({
      async start(c) {
        for (const p of parts) {
          c.enqueue(enc.encode(p));
          if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
        }
        c.close();
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
}

const chunk = (content: string | null, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;

async function drain(gen: AsyncGenerator<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

async function apiErrorOf(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe("openAiCompatibleBackend", () => {
  it("posts to {base}/chat/completions with the bearer key and JSON body", async () => {
    let seen: { url: string; init: RequestInit } | undefined;
    const backend = openAiCompatibleBackend(config(), async (url, init) => {
      seen = { url, init };
      return Response.json({ choices: [{ message: { role: "assistant", content: "hi" } }], usage: { prompt_tokens: 3, completion_tokens: 1 } });
    });
    const out = await backend.complete(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }));
    expect(out.choices[0]!.message.content).toBe("hi");
    expect(seen!.url).toBe("http://backend.test/v1/chat/completions");
    expect(new Headers(seen!.init.headers).get("authorization")).toBe("Bearer sk-test");
    expect(JSON.parse(String(seen!.init.body))).toEqual({ model: "m", messages: [{ role: "user", content: "x" }] });
  });

  it("maps an unreachable backend (closed port) to 502 upstream_unreachable", async () => {
    const backend = openAiCompatibleBackend(config({ baseUrl: "http://127.0.0.1:1/v1" }));
    const err = await apiErrorOf(backend.complete(JSON.stringify({ messages: [] })));
    expect([err.status, err.code]).toEqual([502, "upstream_unreachable"]);
    const err2 = await apiErrorOf(backend.stream(JSON.stringify({ messages: [], stream: true })));
    expect(err2.code).toBe("upstream_unreachable");
  });

  it("maps non-2xx to 502 with the backend's own message", async () => {
    const backend = openAiCompatibleBackend(config(), async () => Response.json({ error: { message: "model overloaded" } }, { status: 503 }));
    const err = await apiErrorOf(backend.complete(JSON.stringify({})));
    expect(err.status).toBe(502);
    expect(err.code).toBe("upstream_status_503");
    expect(err.message).toContain("model overloaded");
    expect((await apiErrorOf(backend.stream(JSON.stringify({ stream: true })))).code).toBe("upstream_status_503");
  });

  it("rejects a non-JSON or choice-less completion", async () => {
    const bad = openAiCompatibleBackend(config(), async () => new Response("<html>gateway</html>", { status: 200 }));
    expect((await apiErrorOf(bad.complete(JSON.stringify({})))).code).toBe("upstream_invalid_response");
    const empty = openAiCompatibleBackend(config(), async () => Response.json({ choices: [] }));
    expect((await apiErrorOf(empty.complete(JSON.stringify({})))).code).toBe("upstream_invalid_response");
  });

  it("yields stream chunks as they arrive and stops at [DONE]", async () => {
    const backend = openAiCompatibleBackend(config(), async () => sseResponse([chunk("Hel"), chunk("lo"), chunk(null, "stop"), "data: [DONE]\n\n", chunk("after done")]));
    const chunks = (await drain(await backend.stream(JSON.stringify({ stream: true })))) as { choices: { delta: { content?: string } }[] }[];
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? "").join("")).toBe("Hello");
    expect(chunks).toHaveLength(3);
  });

  it("accepts a finished stream that omits [DONE]", async () => {
    const backend = openAiCompatibleBackend(config(), async () => sseResponse([chunk("a"), chunk(null, "stop")]));
    expect(await drain(await backend.stream(JSON.stringify({ stream: true })))).toHaveLength(2);
  });

  it("fails a stream cut before any finish_reason (no [DONE])", async () => {
    const backend = openAiCompatibleBackend(config(), async () => sseResponse([chunk("a"), chunk("b")]));
    const err = await apiErrorOf(drain(await backend.stream(JSON.stringify({ stream: true }))));
    expect([err.status, err.code]).toEqual([502, "upstream_stream_incomplete"]);
  });

  it("fails a stream carrying invalid JSON or an error object", async () => {
    const badJson = openAiCompatibleBackend(config(), async () => sseResponse([chunk("a"), "data: {oops\n\n", chunk(null, "stop")]));
    expect((await apiErrorOf(drain(await badJson.stream(JSON.stringify({ stream: true }))))).code).toBe("upstream_invalid_response");
    const midError = openAiCompatibleBackend(config(), async () => sseResponse([chunk("a"), 'data: {"error":{"message":"CUDA out of memory"}}\n\n']));
    const err = await apiErrorOf(drain(await midError.stream(JSON.stringify({ stream: true }))));
    expect(err.code).toBe("upstream_stream_error");
    expect(err.message).toContain("CUDA out of memory");
  });

  it("times out with 504 when the backend goes silent mid-stream", async () => {
    const backend = openAiCompatibleBackend(config({ timeoutMs: 50 }), async (_u, init) => {
      const enc = new TextEncoder();
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(enc.encode(chunk("a")));
            init.signal?.addEventListener("abort", () => c.error(new Error("aborted")));
          },
        }),
      );
    });
    const err = await apiErrorOf(drain(await backend.stream(JSON.stringify({ stream: true }))));
    expect([err.status, err.code]).toEqual([504, "upstream_timeout"]);
  });

  it("does not time out a slow stream whose gaps stay under the limit", async () => {
    const backend = openAiCompatibleBackend(config({ timeoutMs: 80 }), async () => sseResponse([chunk("a"), chunk("b"), chunk("c"), chunk(null, "stop")], 30));
    expect(await drain(await backend.stream(JSON.stringify({ stream: true })))).toHaveLength(4);
  });
});
