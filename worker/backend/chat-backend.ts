// The one interface the chat route needs from a GPU backend (context mode):
// an OpenAI-compatible Chat Completions endpoint, called whole or streamed.
// Implementations: openai-compatible-backend.ts (vLLM, SGLang, llama.cpp
// server, Ollama, TGI — anything serving /v1/chat/completions).
import type { JsonObject } from "../validation/fields";

/** The parts of an OpenAI chat.completion response epikv reads; the rest is passed through. */
export interface ChatCompletion extends JsonObject {
  choices: { index?: number; message: { role?: string; content: string | null; tool_calls?: unknown[] }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  model?: string;
}

/** One chat.completion.chunk of a stream. */
export interface ChatChunk extends JsonObject {
  choices: { index?: number; delta?: { role?: string; content?: string | null; tool_calls?: unknown[] }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
}

/** A request body as JSON text (worker/chat/upstream-request.ts builds it without re-serialising the context). */
export type UpstreamJson = string;

export interface ChatBackend {
  /** Sends a non-streaming request; resolves with the parsed completion or throws an ApiError (502/504). */
  complete(body: UpstreamJson): Promise<ChatCompletion>;
  /**
   * Sends a streaming request. Resolves once the backend answered 2xx (a
   * non-2xx or unreachable backend throws here, before any byte reaches the
   * client); the generator then yields chunks as they arrive and throws an
   * ApiError if the stream breaks before it finished.
   */
  stream(body: UpstreamJson): Promise<AsyncGenerator<ChatChunk>>;
}
