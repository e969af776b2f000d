// Block-wise prefill of one episode cache (docs/architecture.md, EpiCache steps 4–5):
// the block goes to the backend at its original absolute positions, against
// the episode's current (evicted) cache streamed from its pages; the backend
// returns the block's KV plus the queries the policy scores with (the
// episode's representative prompt for EpiCache, the block's own for SnapKV
// and H2O). Then, one layer at a time: read the layer's pages, append the
// block, score, evict to the layer's budget, write the layer's pages back.
//
// Working memory: the response (block KV of all layers + queries) plus one
// layer of (cache + block) and its new pages — H_kv·(M_l + B + |P|)-sized per
// layer, independent of the conversation's length.
import type { Kernels } from "../../wasm/src/kernels";
import { readF32, readI32, requireTensor, type SafetensorsFile } from "../../protocol/safetensors";
import type { KvBackendClient } from "./backend-client";
import { evictLayer, type LayerSelection } from "./evict";
import { kvRequestFrame } from "./frame-stream";
import { appendBlock, layerBytes, type HeadEntries } from "./layer-cache";
import type { MemoryMeter } from "./memory-meter";
import type { KvModelInfo } from "./model-info";
import type { KvPageStore } from "./page-store";
import { decodeHeadPages, encodeHeadPages, type PageEncoding } from "./pages";
import type { EvictionPolicy } from "./policy";

/** What every kv-mode operation of one conversation shares. */
export interface KvEngine {
  client: KvBackendClient;
  store: KvPageStore;
  model: KvModelInfo;
  kernels: Kernels;
  encoding: PageEncoding;
  meter?: MemoryMeter;
  /** Called for every layer that was evicted (tests compare it with the oracle selection). */
  onSelection?: (e: { cache: string; layer: number; selection: LayerSelection }) => void;
}

/** One episode cache: where its pages live, how it is evicted, and with what prompt. */
export interface CacheSpec {
  /** Where the cache's pages are read from. */
  cache: string;
  /** Where the evicted cache is written (default: `cache`); a new generation leaves `cache` intact for readers (copy-on-write). */
  target?: string;
  policy: EvictionPolicy;
  /** Per-layer budgets b_l (entries per KV head). */
  budgets: readonly number[];
  /** The episode's representative prompt, tokenized (EpiCache only). */
  promptTokens?: readonly number[];
}

export interface BlockStats {
  bytesSent: number;
  bytesReceived: number;
  entriesSent: number;
  entriesKept: number;
}

/** The block's KV for one layer from a prefill response (F32, every head holds every block position). */
function blockLayer(file: SafetensorsFile, layer: number, m: KvModelInfo, count: number): HeadEntries[] {
  return Array.from({ length: m.kvHeads }, (_, h) => {
    const p = `kv.${layer}.${h}.`;
    return {
      positions: readI32(requireTensor(file, p + "positions", "I32", [count])),
      keys: readF32(requireTensor(file, p + "keys", "F32", [count, m.headDim])),
      values: readF32(requireTensor(file, p + "values", "F32", [count, m.headDim])),
    };
  });
}

function optionalQueries(file: SafetensorsFile, name: string, m: KvModelInfo): Float32Array | undefined {
  return file.tensors.has(name) ? readF32(requireTensor(file, name, "F32", [m.heads, null, m.headDim])) : undefined;
}

/** Prefills `tokens` at positions start… into the cache and evicts it back to budget. */
export async function prefillBlock(engine: KvEngine, spec: CacheSpec, tokens: readonly number[], start: number): Promise<BlockStats> {
  const { client, store, model: m, kernels, encoding } = engine;
  const needs = spec.policy.needs;
  if (spec.budgets.length !== m.layers) throw new RangeError(`cache ${spec.cache}: ${spec.budgets.length} layer budgets for ${m.layers} layers`);
  if (needs.promptQueries && !spec.promptTokens?.length) throw new RangeError(`cache ${spec.cache}: policy ${spec.policy.name} needs a representative prompt`);
  const request: Record<string, unknown> = {
    model: m.id,
    tokens: [...tokens],
    start_position: start,
    return_kv: true,
    kv_encoding: { dtype: "F32" },
    return_block_queries: needs.blockQueries,
    ...(needs.promptQueries ? { prompts: [{ tokens: spec.promptTokens!.slice(0, m.maxPromptTokens) }], return_queries: true } : {}),
  };
  const held = m.layers * m.kvHeads > 0 && Array.from({ length: m.layers }, (_, l) => store.headCounts(spec.cache, l, m.kvHeads)).flat().some((n) => n > 0);
  let entriesSent = 0;
  const res = await client.frameCall("/kv/v1/prefill", request, {
    frame: held
      ? (req) => {
          const f = kvRequestFrame(store, spec.cache, m, encoding, req, kernels);
          entriesSent = f.entries;
          return f;
        }
      : null,
  });
  const responseBytes = res.bytesReceived;
  let entriesKept = 0;
  for (let l = 0; l < m.layers; l++) {
    const cached = Array.from({ length: m.kvHeads }, (_, h) => decodeHeadPages(store.readHead(spec.cache, l, h), m.headDim, encoding, kernels));
    const block = blockLayer(res.file, l, m, tokens.length);
    const entries = appendBlock(cached, block, needs.accumulator);
    const { layer, selection } = evictLayer(kernels, spec.policy, {
      layer: l,
      entries,
      blockTokens: tokens.length,
      heads: m.heads,
      kvHeads: m.kvHeads,
      headDim: m.headDim,
      promptQueries: needs.promptQueries ? optionalQueries(res.file, `prompt.0.queries.${l}`, m) : undefined,
      blockQueries: needs.blockQueries ? optionalQueries(res.file, `block.queries.${l}`, m) : undefined,
      budget: spec.budgets[l],
      kernels,
    });
    if (selection) engine.onSelection?.({ cache: spec.cache, layer: l, selection });
    const pages = layer.flatMap((h, i) => encodeHeadPages(h, i, m.headDim, encoding, kernels));
    engine.meter?.note(responseBytes + layerBytes(cached) + layerBytes(entries) + (layer === entries ? 0 : layerBytes(layer)) + (selection ? selection.scores.byteLength : 0) + pages.reduce((s, p) => s + p.blob.byteLength, 0));
    store.replaceLayer(spec.target ?? spec.cache, l, pages);
    entriesKept += layer.reduce((s, h) => s + h.positions.length, 0);
  }
  return { bytesSent: res.bytesSent, bytesReceived: res.bytesReceived, entriesSent, entriesKept };
}
