// The kv policy benchmark on a recall model (`npm run bench:kv -- --model
// epikv-recall`, docs/kv-mode.md "Answer accuracy on the recall model"):
// a synthetic multi-session chat (scripts/recall/conversation.ts) is folded
// into each policy's cache BEFORE any question is known (EpiCache's
// setting), then every stated entity is asked about ("what is my E ?",
// questions from every episode, the oldest included), decoding against the
// matched episode's cache + the uncompressed tail + the question.
//
// Per policy, compression ratio and prefill mode: exact-match accuracy of
// the greedy answer, the answer's NLL, the attention-output error against
// the full cache (kv-metrics.ts) and bytes stored. Two prefill modes, same
// policies and budgets: block-wise (B tokens at a time, evicting after
// each block, bounded memory: what kv mode runs) and one-shot (the whole
// history prefilled as one block, then evicted once), so the cost of
// block-wise greediness is visible.
import { performance } from "node:perf_hooks";
import { startBackend } from "../../backend/server";
import { readF32, requireTensor, type SafetensorsFile } from "../../protocol/safetensors";
import { KvBackendClient } from "../../durable-objects/kv/backend-client";
import { prefillBlock, type KvEngine } from "../../durable-objects/kv/block-prefill";
import { episodeKv, rolePrefix } from "../../durable-objects/kv/conversation-kv";
import { DEFAULT_ALPHA, layerBudgets } from "../../durable-objects/kv/budgets";
import { MemoryPageStore } from "../../durable-objects/kv/page-store";
import type { PageEncoding } from "../../durable-objects/kv/pages";
import { POLICIES, policyByName, type PolicyName } from "../../durable-objects/kv/policies/index";
import { clipPrompt, representativeSegments, representativeText } from "../../durable-objects/kv/representative-prompt";
import { fitEpisodes, matchQueryEpisode } from "../../durable-objects/episodes/episodes";
import { segmentText } from "../../durable-objects/episodes/segmentation";
import { loadWasmModule } from "../../wasm/src/node-module";
import { wasmKernels } from "../../wasm/src/wasm-kernels";
import { completionQuestion, recallChat, type RecallQuestion } from "../recall/conversation";
import { TOPICS } from "../recall/vocabulary";
import { epicacheVariant, parseEpicacheVariant, type EpicacheVariant } from "./epicache-variant";
import { argmax, attentionError, softmax } from "./kv-metrics";

export interface RecallBenchOptions {
  model: string;
  backend?: string;
  /** Words of conversation (≈ tokens). */
  words: number;
  topics: number;
  block: number;
  ratios: number[];
  policies: PolicyName[];
  modes: ("blockwise" | "oneshot")[];
  promptTokens: number;
  seed: number;
  alpha: number;
  /** Episodes from k-means over segment embeddings (what kv mode does), or the chat's known topics with questions routed to their topic (separates clustering from cache selection). */
  episodes: "cluster" | "topics";
  /** Facts referred to again before the question (echoes, mentions in small talk), or stated once (scripts/recall/conversation.ts). */
  mentions: boolean;
  /** Question form: "what is my E ?" or the completion form ending in "my E is" (what the trained model learns). */
  form: "what" | "is";
  /** EpiCache's selection, reduction and protection (ablations; default: as published). */
  epicache: EpicacheVariant;
}

export interface RecallRow {
  policy: PolicyName;
  mode: "blockwise" | "oneshot" | "—";
  ratio: number;
  budget: number;
  accuracy: number;
  answerNll: number;
  attnRelErr: number;
  bytesStored: number;
  buildSeconds: number;
}

export interface RecallBenchResult {
  config: Record<string, unknown>;
  rows: RecallRow[];
}

const ENCODING: PageEncoding = { dtype: "int8", groupSize: 64 };
const SEGMENT_MESSAGES = 4;
const DIM = 384;

export async function runRecallBench(o: RecallBenchOptions, log: (s: string) => void): Promise<RecallBenchResult> {
  const backend = o.backend ? null : await startBackend(0, { models: [o.model] });
  try {
    const client = new KvBackendClient(o.backend ?? backend!.url);
    const model = await client.model(o.model);
    const kernels = wasmKernels(loadWasmModule());
    const engineWith = (store: MemoryPageStore): KvEngine => ({ client, store, model, kernels, encoding: ENCODING });

    const chat = recallChat({ seed: o.seed, words: o.words, topics: o.topics, mentions: o.mentions });
    const stream = await client.tokenizeMessages(model.id, chat.messages);
    const folded = Math.floor(stream.length / o.block) * o.block;
    // Segments, episodes and representative prompts as the Durable Object builds them (docs/architecture.md, "EpiCache, step by step", steps 1–3).
    const segments: string[] = [];
    for (let i = 0; i + SEGMENT_MESSAGES <= chat.messages.length; i += SEGMENT_MESSAGES) {
      segments.push(segmentText(chat.messages.slice(i, i + SEGMENT_MESSAGES).map((m, j) => ({ seq: i + j, role: m.role, content: m.content }))));
    }
    const embeddings = segments.map((s) => kernels.embedText(s, { dim: DIM }));
    const rows = new Float32Array(embeddings.length * DIM);
    embeddings.forEach((e, i) => rows.set(e, i * DIM));
    const segmentTopic = segments.map((_, i) => chat.messages[i * SEGMENT_MESSAGES].topic);
    const centroidsFlat = o.episodes === "cluster" ? fitEpisodes(kernels, rows, DIM, o.topics) : topicCentroids(embeddings, segmentTopic, o.topics);
    const centroids = Array.from({ length: centroidsFlat.length / DIM }, (_, i) => centroidsFlat.subarray(i * DIM, (i + 1) * DIM));
    const prompts: number[][] = [];
    for (const ids of representativeSegments(embeddings, centroids)) prompts.push(clipPrompt(await client.tokenize(model.id, representativeText(segments, ids)), Math.min(o.promptTokens, model.maxPromptTokens)));
    const sensitivity = await client.profile(model.id, [stream.slice(0, Math.min(stream.length, model.maxProfileTokens))], o.block);
    log(`bench:kv (recall) — ${model.id}, ${stream.length} tokens (${folded / o.block} blocks of ${o.block}), ${centroids.length} episodes, ${chat.questions.length} questions; layer sensitivity ${sensitivity.map((x) => x.toFixed(3)).join(", ")}`);

    const questions: (RecallQuestion & { answerId: number; episode: number; request: { model: string; tokens: number[]; start_position: number } })[] = [];
    for (const q of chat.questions) {
      const text = o.form === "is" ? completionQuestion(TOPICS[q.topic].name, q.entity) : q.text;
      const query = [...(await client.tokenizeMessages(model.id, [{ role: "user", content: text }])).slice(1), ...rolePrefix(model, "assistant")];
      const [answer] = await client.tokenize(model.id, q.answer);
      const episode = o.episodes === "topics" ? q.topic : Math.max(0, matchQueryEpisode(kernels, kernels.embedText(text, { dim: DIM }), centroidsFlat, DIM).index);
      questions.push({ ...q, answerId: answer, episode, request: { model: model.id, tokens: [...stream.slice(folded), ...query], start_position: folded } });
    }

    async function build(policy: PolicyName, m: number, block: number): Promise<{ store: MemoryPageStore; caches: string[]; seconds: number }> {
      const store = new MemoryPageStore();
      const caches = policy === "epicache" ? prompts.map((_, e) => `e${e}`) : ["all"];
      const budgets = policy === "epicache" ? layerBudgets(kernels, model.layers, m, sensitivity, o.alpha) : Array.from({ length: model.layers }, () => m);
      const t0 = performance.now();
      for (let at = 0; at < folded; at += block) {
        for (const [e, cache] of caches.entries()) await prefillBlock(engineWith(store), { cache, policy: policy === "epicache" ? epicacheVariant(o.epicache) : POLICIES[policy], budgets, promptTokens: prompts[e] }, stream.slice(at, Math.min(folded, at + block)), at);
      }
      return { store, caches, seconds: (performance.now() - t0) / 1000 };
    }

    async function ask(store: MemoryPageStore, cache: string, request: Record<string, unknown>, extra: Record<string, unknown>): Promise<{ file: SafetensorsFile; p: Float64Array }> {
      const r = await client.frameCall("/kv/v1/prefill", { ...request, return_logits: "last", ...extra }, episodeKv(engineWith(store), cache));
      return { file: r.file, p: softmax(readF32(requireTensor(r.file, "logits", "F32"))) };
    }

    const score = (runs: { p: Float64Array }[]) => ({
      accuracy: runs.filter((r, i) => argmax(r.p) === questions[i].answerId).length / runs.length,
      answerNll: runs.reduce((s, r, i) => s - Math.log(Math.max(r.p[questions[i].answerId], 1e-30)), 0) / runs.length,
    });

    log("full cache…");
    const full = await build("full", 1 << 30, o.block);
    const fullRuns = [];
    for (const q of questions) fullRuns.push(await ask(full.store, "all", q.request, { return_kv: true, return_block_queries: true }));
    const out: RecallRow[] = [{ policy: "full", mode: "—", ratio: 1, budget: folded, ...score(fullRuns), attnRelErr: 0, bytesStored: full.store.bytes(), buildSeconds: full.seconds }];

    for (const mode of o.modes) {
      for (const ratio of o.ratios) {
        const budget = Math.max(1, Math.floor(folded / ratio));
        for (const policy of o.policies) {
          const built = await build(policy, budget, mode === "blockwise" ? o.block : folded);
          const runs: { p: Float64Array }[] = [];
          let err = 0;
          for (const [i, q] of questions.entries()) {
            const cache = built.caches.length > 1 ? built.caches[q.episode] : built.caches[0];
            runs.push(await ask(built.store, cache, q.request, { return_kv: false }));
            err += attentionError({ model, encoding: ENCODING, kernels }, { store: full.store, cache: "all" }, { store: built.store, cache }, fullRuns[i].file, q.request.tokens.length);
          }
          const row: RecallRow = { policy, mode, ratio, budget, ...score(runs), attnRelErr: err / questions.length, bytesStored: built.store.bytes(), buildSeconds: built.seconds };
          log(`${mode} ${policy} ${ratio}×: accuracy ${(100 * row.accuracy).toFixed(1)}%, NLL ${row.answerNll.toFixed(3)} (${row.buildSeconds.toFixed(1)} s)`);
          out.push(row);
        }
      }
    }
    const topicOf = (e: number) => {
      const counts = new Map<number, number>();
      for (const q of questions) if (q.episode === e) counts.set(q.topic, (counts.get(q.topic) ?? 0) + 1);
      return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    };
    const matched = questions.filter((q) => topicOf(q.episode) === q.topic).length / questions.length;
    return {
      config: { model: model.id, tokens: stream.length, block: o.block, folded, tail: stream.length - folded, episodes: centroids.length, topics: o.topics, questions: questions.length, updatedFacts: chat.questions.filter((q) => q.statements > 1).length, questionsMatchedToTheirTopicsEpisode: matched, promptTokens: o.promptTokens, alpha: o.alpha, episodeSource: o.episodes, questionForm: o.form, factsMentioned: o.mentions, epicache: o.epicache, seed: o.seed, encoding: ENCODING, sensitivity },
      rows: out,
    };
  } finally {
    await backend?.close();
  }
}

/** Per topic, the normalised mean of its segments' embeddings. */
function topicCentroids(embeddings: readonly Float32Array[], topicOf: readonly number[], topics: number): Float32Array {
  const out = new Float32Array(topics * DIM);
  embeddings.forEach((e, i) => e.forEach((x, j) => (out[topicOf[i] * DIM + j] += x)));
  for (let k = 0; k < topics; k++) {
    const row = out.subarray(k * DIM, (k + 1) * DIM);
    const norm = Math.hypot(...row) || 1;
    row.forEach((x, j) => (row[j] = x / norm));
  }
  return out;
}

export function recallTable(r: RecallBenchResult): string {
  const c = r.config as Record<string, number | string>;
  const lines = [
    `${c.model}: ${c.tokens} tokens, B = ${c.block}, ${c.episodes} episodes (${c.episodeSource === "topics" ? "the chat's topics, questions routed to theirs" : `k-means; ${(100 * Number(c.questionsMatchedToTheirTopicsEpisode)).toFixed(0)}% of questions matched to their topic's episode`}), int8 pages, ${c.questions} questions (${c.updatedFacts} about updated facts), facts ${c.factsMentioned ? "echoed and mentioned again" : "stated once"}, compression before the question is known`,
    "",
    "| policy | prefill | compression | budget/head/layer | accuracy | answer NLL | attn-output rel. err | stored KiB |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const x of r.rows) lines.push(`| ${x.policy} | ${x.mode} | ${x.ratio}× | ${x.budget} | ${(100 * x.accuracy).toFixed(1)}% | ${x.answerNll.toFixed(3)} | ${x.attnRelErr.toFixed(4)} | ${(x.bytesStored / 1024).toFixed(1)} |`);
  return lines.join("\n");
}

export function parseRecallArgs(argv: readonly string[], flag: (name: string) => string | undefined): RecallBenchOptions {
  const full = argv.includes("--full");
  const num = (name: string, d: number) => {
    const v = Number(flag(name) ?? d);
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
    return v;
  };
  const policies = (flag("--policies") ?? "recent,h2o,snapkv,epicache").split(",").filter((n): n is PolicyName => policyByName(n).name !== "full");
  const modes = (flag("--modes") ?? "blockwise,oneshot").split(",");
  if (modes.some((m) => m !== "blockwise" && m !== "oneshot")) throw new RangeError("--modes takes blockwise,oneshot");
  const ratios = (flag("--ratios") ?? "2,4,6,8").split(",").map(Number);
  if (ratios.some((r) => !(r > 1))) throw new RangeError("--ratios must be numbers > 1");
  return {
    model: flag("--model")!,
    backend: flag("--backend"),
    words: num("--tokens", full ? 4000 : 1200),
    topics: num("--topics", full ? 8 : 4),
    block: num("--block", 256),
    ratios,
    policies,
    modes: modes as RecallBenchOptions["modes"],
    promptTokens: num("--prompt-tokens", 256),
    seed: num("--seed", 7),
    alpha: Number(flag("--alpha") ?? DEFAULT_ALPHA),
    episodes: flag("--episodes") === "topics" ? "topics" : "cluster",
    epicache: parseEpicacheVariant(flag),
    mentions: flag("--facts") !== "once",
    form: (flag("--form") ?? (/trained/.test(flag("--model") ?? "") ? "is" : "what")) === "is" ? "is" : "what",
  };
}
