// The OpenAPI 3.1 description of every route the Worker registers
// (test/worker/api-openapi.test.ts checks none is missing). Written by hand:
// the shapes follow durable-objects/conversation/conversation-api.ts and OpenAI's
// Chat Completions API.
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../../durable-objects/conversation/turn-api";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ "application/json": { schema } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [String(code), { $ref: `#/components/responses/Error${code}` }]));
const idParam = { name: "id", in: "path", required: true, schema: ref("ConversationId") };

const ERROR_TEXT: Record<number, string> = {
  400: "Invalid request (malformed JSON, wrong types, unknown roles, non-text content parts, limits: too_many_messages, message_too_long…)",
  401: "Missing or invalid API key (code invalid_api_key)",
  403: "The key's tenant may not use this route (code metrics_forbidden: /metrics is for METRICS_TENANTS)",
  429: "Rate limit of this API key (code rate_limit_exceeded, Retry-After header) or too many turns waiting on one conversation (conversation_busy)",
  404: "No such conversation or route",
  409: "Under settings.history \"strict\": the request's history diverges from the stored conversation (by default it forks instead)",
  413: "Request body larger than MAX_BODY_BYTES",
  415: "Content-Type is not application/json",
  500: "Internal error",
  502: "The backend was unreachable, answered non-2xx, or broke off its stream",
  504: "The backend sent nothing within BACKEND_TIMEOUT_MS",
};

export function openApiDocument(version: string): object {
  return {
    openapi: "3.1.0",
    info: {
      title: "epikv",
      version,
      description:
        "OpenAI-compatible chat API that keeps long conversations inside a fixed token budget: one Durable Object per conversation selects the context (EpiCache episodes, arXiv 2509.17396) sent to an OpenAI-compatible backend.",
    },
    paths: {
      "/healthz": { get: { summary: "Liveness and build information", security: [], responses: { "200": { description: "OK", content: json({ type: "object" }) } } } },
      "/openapi.json": { get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1 document", content: json({ type: "object" }) } } } },
      "/v1/models": { get: { summary: "Models a client may name", responses: { "200": { description: "Model list", content: json(ref("ModelList")) } } } },
      "/v1/kv/models": { get: { summary: "Models a kv-mode request may name (epikv-kv, the aliases, BACKEND_MODEL)", responses: { "200": { description: "Model list", content: json(ref("ModelList")) } } } },
      "/v1/chat/completions": {
        post: {
          summary: "Chat Completions over a conversation",
          description:
            "OpenAI Chat Completions. The conversation is named by X-Conversation-Id or conversation_id; without one a new conversation is created. Resent history is recognised and stored once. The backend receives only the selected context (never more than the budget). With stream: true the answer is SSE chunks ending in `data: [DONE]`; a failed stream ends with `data: {\"error\":…}` and records nothing.",
          parameters: [
            { name: "X-Conversation-Id", in: "header", required: false, schema: ref("ConversationId") },
            { name: "Idempotency-Key", in: "header", required: false, description: "A retry with the same key and messages returns the first result (X-Epikv-Idempotent-Replay: true) and appends nothing", schema: { type: "string", maxLength: MAX_IDEMPOTENCY_KEY_LENGTH } },
          ],
          requestBody: { required: true, content: json(ref("ChatCompletionRequest")) },
          responses: {
            "200": {
              description: "A chat.completion object, or an SSE stream of chat.completion.chunk objects",
              headers: {
                "X-Conversation-Id": { description: "The conversation this turn was recorded in", schema: ref("ConversationId") },
                "X-Epikv-Context-Tokens": { description: "Estimated tokens of the context sent", schema: { type: "integer" } },
                "X-Epikv-Budget-Tokens": { description: "Budget the context was chosen under", schema: { type: "integer" } },
                "X-Epikv-Context-Messages": { description: "Messages in the context sent", schema: { type: "integer" } },
                "X-Epikv-Matched-Episode": { description: "Episode the query matched (absent when none)", schema: { type: "integer" } },
                "Server-Timing": { description: "plan, backend and commit durations in ms (streams: plan only)", schema: { type: "string" } },
                "X-Epikv-Backend": { description: "Name of the backend (BACKENDS) that answered", schema: { type: "string" } },
                "X-Epikv-Idempotent-Replay": { description: "true when this is the stored result of an earlier request with the same Idempotency-Key", schema: { type: "string" } },
              },
              content: { ...json(ref("ChatCompletion")), "text/event-stream": { schema: { type: "string" } } },
            },
            ...errors(400, 401, 404, 409, 413, 415, 429, 500, 502, 504),
          },
        },
      },
      "/v1/kv/chat/completions": {
        post: {
          summary: "Chat Completions in kv mode (episodic KV cache)",
          description:
            "The same OpenAI surface as /v1/chat/completions (point a client at …/v1/kv), but the conversation's Durable Object decodes against its compressed episodic KV cache on a KV-protocol backend (KV_BACKEND_URL, docs/kv-protocol.md) instead of re-sending text. Optional body field `kv`: {policy: full|recent|h2o|snapkv|epicache, budget, blockSize, encoding, alpha}. See docs/kv-mode.md.",
          parameters: [{ name: "X-Conversation-Id", in: "header", required: false, schema: ref("ConversationId") }],
          requestBody: { required: true, content: json(ref("ChatCompletionRequest")) },
          responses: {
            "200": {
              description: "A chat.completion object (with an `epikv` field describing the kv turn), or an SSE stream of chat.completion.chunk objects",
              headers: { "X-Conversation-Id": { description: "The conversation this turn was recorded in", schema: ref("ConversationId") } },
              content: { ...json(ref("ChatCompletion")), "text/event-stream": { schema: { type: "string" } } },
            },
            ...errors(400, 401, 404, 409, 413, 415, 429, 500, 502),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics (text exposition format 0.0.4)",
          description: "Per-isolate request figures (requests, latency, tokens, budget use, backend health) followed by figures summed over the Durable Objects (conversations, tokens, episodes, re-clusterings, compression, kv bytes). docs/inspector.md lists every family and where it comes from.",
          responses: { "200": { description: "Metrics", content: { "text/plain": { schema: { type: "string" } } } }, ...errors(401, 403, 500) },
        },
      },
      "/ui": { get: { summary: "The conversation inspector (HTML page; no external resources)", security: [], responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } } },
      "/ui/inspector.js": { get: { summary: "The inspector's script", security: [], responses: { "200": { description: "JavaScript", content: { "text/javascript": { schema: { type: "string" } } } } } } },
      "/ui/inspector.css": { get: { summary: "The inspector's stylesheet", security: [], responses: { "200": { description: "CSS", content: { "text/css": { schema: { type: "string" } } } } } } },
      "/v1/conversations": {
        get: {
          summary: "The tenant's conversations, most recently used first",
          description: "Read from the conversation index: conversations created, or used successfully, through this API. Each entry is the conversation's info plus last_seen_at.",
          parameters: [{ name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 200, default: 50 } }],
          responses: {
            "200": {
              description: "A list",
              content: json({ type: "object", properties: { object: { const: "list" }, tenant: { type: "string" }, total: { type: "integer" }, data: { type: "array", items: { allOf: [ref("Conversation"), { type: "object", properties: { last_seen_at: { type: "integer" } } }] } } } }),
            },
            ...errors(400, 500),
          },
        },
        post: {
          summary: "Create a conversation (or update an existing one's settings)",
          requestBody: { required: false, content: json(ref("CreateConversationRequest")) },
          responses: {
            "201": { description: "Created", content: json(ref("Conversation")) },
            "200": { description: "Existed; settings updated", content: json(ref("Conversation")) },
            ...errors(400, 413, 415, 500),
          },
        },
      },
      "/v1/conversations/{id}": {
        get: { summary: "Conversation info", parameters: [idParam], responses: { "200": { description: "OK", content: json(ref("Conversation")) }, ...errors(400, 404, 500) } },
        delete: {
          summary: "Delete a conversation and all its state",
          parameters: [idParam],
          responses: {
            "200": { description: "Deleted", content: json({ type: "object", properties: { id: { type: "string" }, object: { const: "conversation.deleted" }, deleted: { const: true } } }) },
            ...errors(400, 404, 500),
          },
        },
      },
      "/v1/conversations/{id}/messages": {
        post: {
          summary: "Bulk import of existing history",
          description: "Appends messages not already held (resent history is deduplicated). With the same Idempotency-Key a repeated call changes nothing and answers replayed: true.",
          parameters: [idParam, { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: MAX_IDEMPOTENCY_KEY_LENGTH } }],
          requestBody: { required: true, content: json({ type: "object", required: ["messages"], additionalProperties: false, properties: { messages: { type: "array", minItems: 1, maxItems: 50000, items: ref("ChatMessage") } } }) },
          responses: { "201": { description: "Imported", content: json(ref("ImportResult")) }, "200": { description: "Replayed", content: json(ref("ImportResult")) }, ...errors(400, 404, 409, 413, 415, 500) },
        },
        get: {
          summary: "Page through messages in conversation order",
          parameters: [
            idParam,
            { name: "after", in: "query", required: false, description: "Return messages with seq > after", schema: { type: "integer", minimum: -1 } },
            { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
            { name: "include_superseded", in: "query", required: false, description: "Also list the messages regenerate/edit forks superseded (marked superseded_at), each after the live message that took its seq", schema: { type: "boolean", default: false } },
          ],
          responses: { "200": { description: "A page", content: json(ref("MessagePage")) }, ...errors(400, 404, 500) },
        },
      },
      "/v1/conversations/{id}/episodes": {
        get: { summary: "Episodes with their segments, representative segments and top terms", parameters: [idParam], responses: { "200": { description: "OK", content: json({ type: "object", properties: { object: { const: "list" }, data: { type: "array", items: ref("Episode") } } }) }, ...errors(400, 404, 500) } },
      },
      "/v1/conversations/{id}/context": {
        post: {
          summary: "Preview the context a query would send (no backend call)",
          parameters: [idParam],
          requestBody: { required: true, content: json({ type: "object", required: ["query"], additionalProperties: false, properties: { query: { type: "string", minLength: 1 }, budget_tokens: { type: "integer", minimum: 1 } } }) },
          responses: { "200": { description: "The selection, in conversation order, with provenance", content: json(ref("ContextSelection")) }, ...errors(400, 404, 413, 415, 500) },
        },
      },
    },
    // Every route needs an API key (Authorization: Bearer) except those with `security: []`.
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "An API key from API_KEYS; it selects the tenant" } },
      schemas: {
        ConversationId: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$" },
        Role: { type: "string", enum: ["system", "developer", "user", "assistant", "tool"], description: "developer is stored as system" },
        ChatMessage: {
          type: "object",
          required: ["role"],
          properties: {
            role: ref("Role"),
            content: { oneOf: [{ type: "string" }, { type: "null" }, { type: "array", items: { type: "object", required: ["type", "text"], properties: { type: { const: "text" }, text: { type: "string" } } } }], description: "Text or text content parts (joined with newlines); other part types are rejected" },
            name: { type: "string" },
            tool_call_id: { type: "string" },
            tool_calls: { type: "array", items: { type: "object" } },
          },
        },
        ChatCompletionRequest: {
          type: "object",
          required: ["messages"],
          properties: {
            model: { type: "string", description: "A backend model, or \"epikv\" for the conversation's/deployment's model" },
            messages: { type: "array", minItems: 1, items: ref("ChatMessage") },
            stream: { type: "boolean" },
            stream_options: { type: "object", properties: { include_usage: { type: "boolean" } } },
            conversation_id: ref("ConversationId"),
            budget_tokens: { type: "integer", minimum: 1, description: "Context budget for this turn (default: the conversation's)" },
            n: { const: 1 },
          },
          additionalProperties: { description: "Sampling parameters (temperature, max_tokens, stop, seed, …) forwarded to the backend" },
        },
        ChatCompletion: {
          type: "object",
          properties: {
            id: { type: "string" },
            object: { const: "chat.completion" },
            model: { type: "string" },
            choices: { type: "array", items: { type: "object", properties: { index: { type: "integer" }, message: ref("ChatMessage"), finish_reason: { type: ["string", "null"] } } } },
            usage: ref("Usage"),
          },
        },
        Usage: { type: "object", properties: { prompt_tokens: { type: "integer" }, completion_tokens: { type: "integer" }, total_tokens: { type: "integer" } } },
        Settings: {
          type: "object",
          additionalProperties: false,
          properties: {
            budget_tokens: { type: "integer", minimum: 64, maximum: 2000000 },
            episodes: { type: "integer", minimum: 1, maximum: 64 },
            window: { type: "integer", minimum: 1, maximum: 64 },
            recent_messages: { type: "integer", minimum: 0, maximum: 1024 },
            model: { type: "string" },
            backend: { type: "string" },
            history: { enum: ["fork", "strict"], description: "fork (default): a resend that diverges (regenerate, edit) supersedes the stored messages from the divergence point; strict: it is refused with 409 history_conflict" },
          },
        },
        CreateConversationRequest: { type: "object", additionalProperties: false, properties: { id: ref("ConversationId"), settings: ref("Settings") } },
        Conversation: {
          type: "object",
          properties: {
            object: { const: "conversation" },
            id: ref("ConversationId"),
            created_at: { type: "integer" },
            settings: ref("Settings"),
            message_count: { type: "integer" },
            segment_count: { type: "integer" },
            episode_count: { type: "integer" },
            total_tokens: { type: "integer" },
            chars_per_token: { type: "number" },
            kv: ref("KvFigures"),
          },
        },
        KvFigures: {
          type: "object",
          description: "kv-mode conversations only: per-layer KV budgets and stored bytes (worker/ui/kv-figures.ts)",
          required: ["layer_budgets", "bytes_stored"],
          properties: {
            layer_budgets: { type: "array", items: { type: "integer", minimum: 0 }, description: "Retained entries per KV head, per layer" },
            bytes_stored: { type: "integer", minimum: 0 },
            full_bytes: { type: "integer", minimum: 0, description: "Uncompressed fp32 bytes of the whole conversation's cache" },
            encoding: { type: "string" },
          },
        },
        StoredMessage: {
          allOf: [ref("ChatMessage"), { type: "object", properties: { seq: { type: "integer" }, id: { type: "string" }, tokens: { type: "integer" }, created_at: { type: "integer" } } }],
        },
        MessagePage: { type: "object", properties: { object: { const: "list" }, data: { type: "array", items: ref("StoredMessage") }, next_after: { type: ["integer", "null"] } } },
        ImportResult: { type: "object", properties: { appended: { type: "integer" }, duplicates: { type: "integer" }, message_count: { type: "integer" }, replayed: { type: "boolean" } } },
        Episode: {
          type: "object",
          properties: {
            id: { type: "integer" },
            size: { type: "integer" },
            segments: { type: "array", items: { type: "object", properties: { id: { type: "integer" }, first_seq: { type: "integer" }, last_seq: { type: "integer" }, score: { type: "number" } } } },
            representative_segments: { type: "array", items: { type: "integer" } },
            top_terms: { type: "array", items: { type: "string" } },
          },
        },
        ContextSelection: {
          type: "object",
          properties: {
            messages: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  seq: { type: ["integer", "null"] },
                  id: { type: ["string", "null"] },
                  role: ref("Role"),
                  content: { type: "string" },
                  tokens: { type: "integer" },
                  provenance: {
                    type: "object",
                    description: "Why the message is sent. ranked: seq is the matched message, lexical its BM25 score, dense its cosine (null past the candidate pool), fused the score it was ranked by, window the messages around it that it brought along (first..last seq; null when it came alone; docs/context-selection.md).",
                    properties: {
                      kind: { enum: ["pinned", "recent", "episode", "ranked", "turn"] }, episode: { type: ["integer", "null"] }, score: { type: "number" },
                      seq: { type: "integer" }, lexical: { type: "number" }, dense: { type: ["number", "null"] }, fused: { type: "number" },
                      window: { type: ["object", "null"], properties: { first: { type: "integer" }, last: { type: "integer" } } },
                    },
                  },
                },
              },
            },
            matched_episode: { type: ["integer", "null"] },
            budget_tokens: { type: "integer" },
            used_tokens: { type: "integer" },
            conversation_tokens: { type: "integer" },
          },
        },
        ModelList: { type: "object", properties: { object: { const: "list" }, data: { type: "array", items: { type: "object", properties: { id: { type: "string" }, object: { const: "model" } } } } } },
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: { type: "object", properties: { message: { type: "string" }, type: { type: "string" }, param: { type: ["string", "null"] }, code: { type: ["string", "null"] } } } },
        },
      },
      responses: Object.fromEntries(Object.entries(ERROR_TEXT).map(([code, description]) => [`Error${code}`, { description, content: json(ref("Error")) }])),
    },
  };
}
