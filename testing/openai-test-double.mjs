// TEST DOUBLE of an OpenAI-compatible GPU backend (vLLM/SGLang/llama.cpp
// stand-in). It records every request and answers deterministically, so tests
// can check exactly what epikv sent. One fetch handler serves both the
// Worker-runtime tests (as an auxiliary workerd Worker bound to epikv as
// BACKEND) and the end-to-end test and benchmark (wrapped in a Node HTTP
// server by test-double-server.mjs).
//
// The reply to a request is `echo <n>: <last user message>` where n is the
// number of messages received. The request's `model` picks a behaviour:
//   test-double-fail-500   → HTTP 500 with an OpenAI error body
//   test-double-cut-stream → a stream that stops mid-reply (no finish, no [DONE])
//   test-double-bad-json   → a stream whose second event is not JSON
//   test-double-no-done    → a finished stream without the final [DONE]
//   test-double-slow       → stream chunks 25 ms apart (client-disconnect tests); a
//                            non-streamed answer after 150 ms (concurrent-turn tests)
//   test-double-hang       → accepts the request, then sends nothing for 10 s
//   test-double-tool-call  → the reply is a call of the first tool in `tools` (finish_reason tool_calls)
//   anything else          → a normal answer (stream or not)
// A body field test_double_reply_words: n appends n filler words to the reply.
// A URL path starting /mode/<behaviour>/ forces that behaviour whatever the
// model (one test double plays several backends of a pool: a BACKENDS entry
// http://test-double-backend.test/mode/test-double-fail-500/v1 is a backend
// that always fails). Recorded requests carry `mode`.
// Control routes: GET /__test/requests (recorded requests, oldest first),
// POST /__test/reset.

const MAX_RECORDED = 1000;
/** @type {{ path: string, authorization: string | null, body: any, at: number }[]} */
const recorded = [];

/** Deterministic token count: ~4 characters per token plus 4 per message and 3 for the reply. */
export function testDoublePromptTokens(messages) {
  return messages.reduce((n, m) => n + Math.ceil(String(m.content ?? "").length / 4) + 4, 3);
}

export function testDoubleReply(messages) {
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  return `echo ${messages.length}: ${String(lastUser?.content ?? "").slice(0, 200)}`;
}

export function recordedRequests() {
  return recorded;
}

function json(status, value) {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** How long test-double-slow takes to answer a non-streamed request. */
const SLOW_ANSWER_MS = 150;

export async function handleTestDoubleRequest(request) {
  const url = new URL(request.url);
  if (url.pathname === "/__test/requests") return json(200, { requests: recorded });
  if (url.pathname === "/__test/reset") {
    recorded.length = 0;
    return json(200, { ok: true });
  }
  if (url.pathname.endsWith("/models")) return json(200, { object: "list", data: [{ id: "test-double-model", object: "model" }] });
  if (!url.pathname.endsWith("/chat/completions") || request.method !== "POST") {
    return json(404, { error: { message: `test double has no ${request.method} ${url.pathname}`, type: "not_found" } });
  }
  let body;
  try {
    body = await request.json();
  } catch {
    return json(400, { error: { message: "test double: body is not JSON", type: "invalid_request_error" } });
  }
  const mode = /^\/mode\/([^/]+)\//.exec(url.pathname)?.[1] ?? null;
  recorded.push({ path: url.pathname, mode, authorization: request.headers.get("authorization"), body, at: Date.now() });
  if (recorded.length > MAX_RECORDED) recorded.shift();

  const messages = Array.isArray(body.messages) ? body.messages : [];
  const model = mode ?? String(body.model ?? "test-double-model");
  if (model === "test-double-fail-500") return json(500, { error: { message: "test double: simulated backend failure", type: "server_error" } });
  if (model === "test-double-hang") {
    await sleep(10_000);
    return json(504, { error: { message: "test double: hung", type: "server_error" } });
  }

  // Load tests ask for a reply length (Zipf-distributed, scripts/load/): filler words after the echo.
  const extraWords = Number.isInteger(body.test_double_reply_words) ? Math.min(4096, Math.max(0, body.test_double_reply_words)) : 0;
  const content = testDoubleReply(messages) + " lorem".repeat(extraWords);
  const toolName = body.tools?.[0]?.function?.name ?? "lookup";
  const toolCall = { id: `call_${recorded.length}`, type: "function", function: { name: toolName, arguments: JSON.stringify({ q: content.slice(0, 40) }) } };
  const usage = { prompt_tokens: testDoublePromptTokens(messages), completion_tokens: content.split(" ").length, total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const id = `chatcmpl-testdouble-${recorded.length}`;
  const created = 1_700_000_000;

  if (!body.stream) {
    if (model === "test-double-slow") await sleep(SLOW_ANSWER_MS);
    return json(200, {
      id, object: "chat.completion", created, model,
      choices: [model === "test-double-tool-call"
        ? { index: 0, message: { role: "assistant", content: null, tool_calls: [toolCall] }, finish_reason: "tool_calls" }
        : { index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage,
    });
  }

  const chunk = (choices, extra = {}) => ({ id, object: "chat.completion.chunk", created, model, choices, ...extra });
  const pieces = content.match(/\S+\s*/g) ?? [content];
  const events = [chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])];
  if (model === "test-double-tool-call") {
    events.push(chunk([{ index: 0, delta: { tool_calls: [{ index: 0, ...toolCall }] }, finish_reason: null }]));
    events.push(chunk([{ index: 0, delta: {}, finish_reason: "tool_calls" }]));
  } else {
    for (const p of pieces) events.push(chunk([{ index: 0, delta: { content: p }, finish_reason: null }]));
    events.push(chunk([{ index: 0, delta: {}, finish_reason: "stop" }]));
  }
  if (body.stream_options?.include_usage) events.push(chunk([], { usage }));

  const encoder = new TextEncoder();
  const delay = model === "test-double-slow" ? 25 : 0;
  const stream = new ReadableStream({
    async start(controller) {
      const send = (text) => controller.enqueue(encoder.encode(text));
      try {
        for (let i = 0; i < events.length; i++) {
          if (model === "test-double-cut-stream" && i === 2) break;
          if (model === "test-double-bad-json" && i === 1) {
            send("data: {not json\n\n");
            continue;
          }
          send(`data: ${JSON.stringify(events[i])}\n\n`);
          if (delay) await sleep(delay);
        }
        if (model !== "test-double-cut-stream" && model !== "test-double-no-done") send("data: [DONE]\n\n");
        controller.close();
      } catch {
        // the reader went away (epikv cancelled); nothing more to send
      }
    },
  });
  return new Response(stream, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

export default { fetch: handleTestDoubleRequest };
