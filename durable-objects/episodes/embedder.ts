// Segment/query embedders (docs/architecture.md, EpiCache step 2). The default is the
// WASM signed feature-hashing embedder; an OpenAI-compatible /v1/embeddings
// endpoint replaces it by configuration (ConversationEnv.EMBEDDINGS_URL).
import type { Kernels } from "../../wasm/src/kernels";
import type { ConversationEnv } from "../conversation/env";

export const HASH_EMBEDDING_DIM = 384;

export interface Embedder {
  /** Recorded with the conversation; embeddings from different embedders are never mixed. */
  readonly name: string;
  /** Whether per-conversation bucket IDF applies (hashing embedder only; see bucket-idf.ts). */
  readonly usesIdf: boolean;
  /** Unit vectors (all-zero for empty text), one per text. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export function hashEmbedder(kernels: Kernels, dim = HASH_EMBEDDING_DIM): Embedder {
  return {
    name: `hash-${dim}`,
    usesIdf: true,
    embed: async (texts) => texts.map((t) => kernels.embedText(t, { dim })),
  };
}

/** Texts per /v1/embeddings request. */
export const EMBEDDINGS_BATCH = 64;

/** An OpenAI-compatible /v1/embeddings client; vectors are L2-normalised here. */
export function openAiEmbedder(url: string, model: string, apiKey: string | undefined, fetcher: typeof fetch = fetch): Embedder {
  const endpoint = url.replace(/\/+$/, "").endsWith("/embeddings") ? url : `${url.replace(/\/+$/, "")}/embeddings`;
  return {
    name: `openai:${model}`,
    usesIdf: false,
    async embed(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += EMBEDDINGS_BATCH) {
        const batch = texts.slice(i, i + EMBEDDINGS_BATCH);
        const res = await fetcher(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
          body: JSON.stringify({ model, input: batch }),
        });
        if (!res.ok) throw new Error(`embeddings endpoint ${endpoint} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        out.push(...parseEmbeddingsResponse(await res.json(), batch.length));
      }
      return out;
    },
  };
}

/** Validates an OpenAI embeddings response and returns unit vectors in input order. */
export function parseEmbeddingsResponse(body: unknown, expected: number): Float32Array[] {
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data) || data.length !== expected) {
    throw new Error(`embeddings response must have data[${expected}], got ${Array.isArray(data) ? `data[${data.length}]` : typeof data}`);
  }
  const out: Float32Array[] = new Array(expected);
  let dim = -1;
  data.forEach((item: { index?: unknown; embedding?: unknown }, position) => {
    const index = typeof item?.index === "number" ? item.index : position;
    const embedding = item?.embedding;
    if (!Array.isArray(embedding) || embedding.length === 0 || !embedding.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw new Error(`embeddings response item ${position} has no finite numeric embedding`);
    }
    if (dim >= 0 && embedding.length !== dim) throw new Error(`embeddings response mixes dimensions ${dim} and ${embedding.length}`);
    if (!Number.isInteger(index) || index < 0 || index >= expected || out[index]) throw new Error(`embeddings response has a bad index ${index}`);
    dim = embedding.length;
    const vec = Float32Array.from(embedding as number[]);
    let norm = 0;
    for (const x of vec) norm += x * x;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < vec.length; i++) vec[i]! *= inv;
    out[index] = vec;
  });
  return out;
}

/** The embedder the environment configures (remote when EMBEDDINGS_URL is set). */
export function embedderFromEnv(env: ConversationEnv, kernels: () => Kernels): Embedder {
  if (env.EMBEDDINGS_URL) return openAiEmbedder(env.EMBEDDINGS_URL, env.EMBEDDINGS_MODEL ?? "text-embedding-3-small", env.EMBEDDINGS_API_KEY);
  return hashEmbedder(kernels());
}
