// Shared setup of the kv-mode Node tests: the reference backend on port 0,
// its client, the WASM kernels, and a multi-topic conversation stream.
import { startBackend, type RunningBackend, type BackendOptions } from "../../backend/server";
import { KvBackendClient } from "../../durable-objects/kv/backend-client";
import type { KvEngine } from "../../durable-objects/kv/block-prefill";
import type { KvModelInfo } from "../../durable-objects/kv/model-info";
import { MemoryPageStore } from "../../durable-objects/kv/page-store";
import type { PageEncoding } from "../../durable-objects/kv/pages";
import { loadWasmModule } from "../../wasm/src/node-module";
import { wasmKernels } from "../../wasm/src/wasm-kernels";
import type { Kernels } from "../../wasm/src/kernels";

export interface KvTestBackend {
  backend: RunningBackend;
  client: KvBackendClient;
  model: KvModelInfo;
  kernels: Kernels;
  engine(encoding: PageEncoding, extra?: Partial<KvEngine>): KvEngine;
}

export async function startKvTestBackend(options: BackendOptions = {}): Promise<KvTestBackend> {
  const backend = await startBackend(0, options);
  const client = new KvBackendClient(backend.url);
  const model = await client.model(options.models?.[0] ?? "epikv-tiny");
  const kernels = wasmKernels(loadWasmModule());
  return { backend, client, model, kernels, engine: (encoding, extra = {}) => ({ client, store: new MemoryPageStore(), model, kernels, encoding, ...extra }) };
}

const TOPICS = [
  ["the garden", "tomatoes need sun and water every morning", "we planted basil beside the roses"],
  ["the trip to Lisbon", "the train leaves at nine from the central station", "book the hotel near the river"],
  ["the budget", "rent is due on the first of the month", "groceries cost more than last year"],
  ["the new puppy", "she chewed the sofa cushion again", "walks twice a day keep her calm"],
];

/** Deterministic user/assistant messages cycling through topics (multi-episode). */
export function topicMessages(count: number): { role: "user" | "assistant"; content: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const t = TOPICS[Math.floor(i / 4) % TOPICS.length];
    return { role: i % 2 === 0 ? "user" : "assistant", content: `About ${t[0]}: ${t[1 + (i % 2)]} (note ${i}).` };
  });
}

export function encodeUtf8(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
