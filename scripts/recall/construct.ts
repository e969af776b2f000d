// The constructed recall model (docs/recall-model.md has the derivation):
// a 2-layer Llama-architecture decoder whose weights are set, not trained,
// so that after a conversation containing "… E is V …" the chat question
// "what is my E ?" (or one ending in "E is") predicts V.
//
// - Layer 0: two previous-token heads (offsets 2 and 3) that attend by RoPE
//   position alone and copy the entity identity of the token 2 (resp. 3)
//   back into residual slots P2 (resp. P3).
// - Layer 1: an induction/lookup head per half of the entities: the query
//   (P3: the entity 3 back) matches keys of value words whose P2 holds the
//   same entity; a recency term (one RoPE pair, for such queries and value
//   keys only) prefers the latest statement; <|bos|> is a sink that wins when nothing matches; the value
//   copies the value word into slot A. A weak topic term (far below the
//   sink) ranks a topic's values above the others for queries at that
//   topic's words: that is what an episode's representative prompt sees.
// - LM head: reads A (the copied value), and predicts <|end|> after a value.
// MLPs are present and zero. Every number here is derived in the doc.
import { SPECIAL_TOKENS } from "../../backend/model/tokenizer";
import type { ModelConfig } from "../../backend/model/config";
import type { LayerWeights, ModelWeights } from "../../backend/model/weights";
import { ENTITIES, TOPICS, VALUES, recallVocabulary } from "./vocabulary";

export const RECALL_MODEL = "epikv-recall";
/** Bumped whenever the construction changes, so `npm run build` rewrites the file. */
export const RECALL_CONSTRUCTION_VERSION = 3;

const HEAD_DIM = 64;
const HALF = HEAD_DIM / 2;
const MAX_POSITIONS = 16384;
/** RoPE θ with θ_8 = 1/MAX_POSITIONS: pair i turns by position·θ^(−i/32) = position·16384^(−i/8). */
const ROPE_THETA = MAX_POSITIONS ** 4;
const POSITION_PAIRS = 8; // pairs 0..7: previous-token heads
const RECENCY_PAIR = 8;
const CONTENT_PAIRS = [13, 30]; // pairs 13..30 (both coordinates): entity matching, rotation ≤ 2.4e-3 rad
const FLAG_PAIR = 31; // x: value flag, y: <|bos|> sink; rotation ≤ 1e-12 rad
const C0 = 1; // the constant residual coordinate

/** Score scales (nats): the margins are derived in docs/recall-model.md. */
export const RECALL_SCALES = {
  /** Layer-0 positional peak per pair; worst neighbour margin 0.508·G. */
  positional: 50,
  /** Recency amplitude r: score −r·sin(θ_8·Δ), for queries with an entity 3 back and value keys only. */
  recency: 7500,
  /** Entity match s and value flag f: s = f = r·sin(1) + 2·margin (margin 200). */
  match: 7500 * Math.sin(1) + 400,
  flag: 7500 * Math.sin(1) + 400,
  /** Topic term τ (below the sink's 200-nat margin, so the answer never changes; it ranks eviction scores). */
  topic: 150,
  /** Sink B = f + margin. */
  sink: 7500 * Math.sin(1) + 600,
  /** LM head: the copied value's logit, <|end|>'s base logit and its boost after a value word, other words' logit. */
  copy: 16,
  endBase: 4,
  endAfterValue: 20,
  otherWords: -10,
};

/** Residual layout: one coordinate each, then one slot per entity/value. */
function layout(nE: number, nV: number, nT: number) {
  let at = 0;
  const take = (n: number) => ((at += n), at - n);
  const l = { constant: take(1), kindEntity: take(1), kindValue: take(1), kindOther: take(1), kindTopic: take(1), bos: take(1), topic: take(nT), tokenEntity: take(nE), tokenValue: take(nV), p2: take(nE + 1), p3: take(nE + 1), answer: take(nV), dModel: 0 };
  l.dModel = at;
  return l;
}

export function recallConfig(): ModelConfig {
  const vocab = recallVocabulary();
  return {
    name: RECALL_MODEL, layers: 2, dModel: layout(ENTITIES.length, VALUES.length, TOPICS.length).dModel, heads: 4, kvHeads: 2, headDim: HEAD_DIM, ffnDim: 4,
    vocabSize: vocab.special_tokens.length + vocab.words.length, ropeTheta: ROPE_THETA, rmsEps: 1e-6, maxPositions: MAX_POSITIONS,
  };
}

/** RoPE angle per position of pair i (backend/model/ops: θ^(−2i/headDim)). */
export function pairFrequency(i: number): number {
  return Math.pow(ROPE_THETA, (-2 * i) / HEAD_DIM);
}

/** Content coordinates of a layer-1 head: both coordinates of pairs 13..30. */
function contentDims(): number[] {
  const out: number[] = [];
  for (let p = CONTENT_PAIRS[0]; p <= CONTENT_PAIRS[1]; p++) out.push(p, p + HALF);
  return out;
}

export function constructRecallWeights(): ModelWeights {
  const config = recallConfig();
  const vocab = recallVocabulary();
  const names = [...vocab.special_tokens, ...vocab.words];
  const id = (w: string) => names.indexOf(w);
  const nE = ENTITIES.length, nV = VALUES.length, D = config.dModel, H = config.heads, hd = HEAD_DIM, V = config.vocabSize;
  const nT = TOPICS.length;
  const L = layout(nE, nV, nT);
  const S = RECALL_SCALES;
  // RMSNorm maps x to x·√D/‖x‖ (norm weights 1); the residual norms are fixed by construction.
  const nu0 = Math.sqrt(D / (C0 * C0 + 2)); // embeddings: constant + two unit coordinates
  const nu1 = Math.sqrt(D / (C0 * C0 + 4)); // + P2 and P3, one unit slot each
  const nuF = Math.sqrt(D / (C0 * C0 + 5)); // + the copied value in A
  const sqrtHd = Math.sqrt(hd);

  const embed = new Float32Array(V * D);
  const entityOf = new Map(ENTITIES.map((e, i) => [id(e), i]));
  const valueOf = new Map(VALUES.map((v, i) => [id(v), i]));
  // A topic word (the topic's name or small talk) carries its (first) topic; an entity's topic is read from its slot.
  const topicOf = new Map<number, number>();
  TOPICS.forEach((t, k) => [t.name, ...t.chatter].forEach((w) => topicOf.has(id(w)) || topicOf.set(id(w), k)));
  const entityTopic = ENTITIES.map((e) => TOPICS.findIndex((t) => t.entities.includes(e)));
  const bos = id("<|bos|>");
  for (let t = 0; t < V; t++) {
    const row = t * D;
    embed[row + L.constant] = C0;
    if (entityOf.has(t)) {
      embed[row + L.kindEntity] = 1;
      embed[row + L.tokenEntity + entityOf.get(t)!] = 1;
    } else if (valueOf.has(t)) {
      embed[row + L.kindValue] = 1;
      embed[row + L.tokenValue + valueOf.get(t)!] = 1;
    } else if (t === bos) embed[row + L.bos] = Math.SQRT2;
    else if (topicOf.has(t)) {
      embed[row + L.kindTopic] = 1;
      embed[row + L.topic + topicOf.get(t)!] = 1;
    }
    else embed[row + L.kindOther] = Math.SQRT2;
  }

  const layer = (): LayerWeights => ({
    attnNorm: new Float32Array(D).fill(1), wq: new Float32Array(H * hd * D), wk: new Float32Array(config.kvHeads * hd * D), wv: new Float32Array(config.kvHeads * hd * D),
    wo: new Float32Array(D * H * hd), mlpNorm: new Float32Array(D).fill(1), wGate: new Float32Array(config.ffnDim * D), wUp: new Float32Array(config.ffnDim * D), wDown: new Float32Array(D * config.ffnDim),
  });
  // Projections are stored [out, in]: row = output coordinate of a head, column = residual coordinate.
  const set = (w: Float32Array, head: number, dim: number, col: number, value: number) => (w[(head * hd + dim) * D + col] = value);
  const setO = (w: Float32Array, row: number, head: number, dim: number, value: number) => (w[row * H * hd + head * hd + dim] = value);

  // Layer 0: kv head 0 ↔ query heads 0, 1 (offset 2 → P2); kv head 1 ↔ query heads 2, 3 (offset 3 → P3).
  const l0 = layer();
  const offsets = [2, 2, 3, 3];
  for (let qh = 0; qh < H; qh++) {
    for (let i = 0; i < POSITION_PAIRS; i++) {
      const a = offsets[qh] * pairFrequency(i);
      // ⟨R(tθ)q, R(jθ)k⟩ = G·cos(θ(t − j − offset)) with k = (1, 0), q = G√hd·(cos aθ, −sin aθ).
      set(l0.wq, qh, i, L.constant, (S.positional * sqrtHd * Math.cos(a)) / (nu0 * C0));
      set(l0.wq, qh, i + HALF, L.constant, (-S.positional * sqrtHd * Math.sin(a)) / (nu0 * C0));
    }
  }
  for (let kh = 0; kh < 2; kh++) {
    for (let i = 0; i < POSITION_PAIRS; i++) set(l0.wk, kh, i, L.constant, 1 / (nu0 * C0));
    for (let e = 0; e < nE; e++) set(l0.wv, kh, e, L.tokenEntity + e, 1 / nu0);
    // Every non-entity token carries a unit "none" so P2 and P3 always hold one unit slot.
    set(l0.wv, kh, nE, L.kindValue, 1 / nu0);
    set(l0.wv, kh, nE, L.kindOther, 1 / (Math.SQRT2 * nu0));
    set(l0.wv, kh, nE, L.kindTopic, 1 / nu0);
    set(l0.wv, kh, nE, L.bos, 1 / (Math.SQRT2 * nu0));
  }
  for (let qh = 0; qh < H; qh++) for (let e = 0; e <= nE; e++) setO(l0.wo, (qh < 2 ? L.p2 : L.p3) + e, qh, e, 0.5);

  // Layer 1: kv head h looks up entities h·28 … h·28+27 (query heads 2h, 2h+1, identical);
  // the last nT content coordinates of every head hold the topic term.
  const l1 = layer();
  const content = contentDims();
  const perHead = Math.ceil(nE / 2);
  if (perHead + nT > content.length) throw new Error(`${perHead} entities and ${nT} topics per head exceed ${content.length} content coordinates`);
  for (let kh = 0; kh < 2; kh++) {
    for (let k = 0; k < nT; k++) {
      const dim = content[content.length - nT + k];
      for (let e = 0; e < nE; e++) if (entityTopic[e] === k) set(l1.wk, kh, dim, L.p2 + e, 1 / nu1);
      for (const qh of [2 * kh, 2 * kh + 1]) {
        set(l1.wq, qh, dim, L.topic + k, (S.topic * sqrtHd) / nu1);
        for (let e = 0; e < nE; e++) if (entityTopic[e] === k) set(l1.wq, qh, dim, L.tokenEntity + e, (S.topic * sqrtHd) / nu1);
      }
    }
    for (let e = kh * perHead; e < Math.min(nE, (kh + 1) * perHead); e++) {
      const dim = content[e - kh * perHead];
      set(l1.wk, kh, dim, L.p2 + e, 1 / nu1);
      for (const qh of [2 * kh, 2 * kh + 1]) set(l1.wq, qh, dim, L.p3 + e, (S.match * sqrtHd) / nu1);
    }
    set(l1.wk, kh, FLAG_PAIR, L.kindValue, 1 / nu1);
    set(l1.wk, kh, FLAG_PAIR + HALF, L.bos, 1 / (Math.SQRT2 * nu1));
    set(l1.wk, kh, RECENCY_PAIR, L.kindValue, 1 / nu1);
    for (const qh of [2 * kh, 2 * kh + 1]) {
      set(l1.wq, qh, FLAG_PAIR, L.constant, (S.flag * sqrtHd) / (nu1 * C0));
      set(l1.wq, qh, FLAG_PAIR + HALF, L.constant, (S.sink * sqrtHd) / (nu1 * C0));
      // q = (0, r√hd) on the recency pair when P3 holds an entity, k = (1, 0) for a value: ⟨R(Δθ)(0, 1), (1, 0)⟩ = −sin(Δθ).
      for (let e = 0; e < nE; e++) set(l1.wq, qh, RECENCY_PAIR + HALF, L.p3 + e, (S.recency * sqrtHd) / nu1);
    }
    for (let v = 0; v < nV; v++) set(l1.wv, kh, v, L.tokenValue + v, 1 / nu1);
  }
  for (let qh = 0; qh < H; qh++) for (let v = 0; v < nV; v++) setO(l1.wo, L.answer + v, qh, v, 0.5);

  const lmHead = new Float32Array(V * D);
  const end = id("<|end|>");
  for (let t = 0; t < V; t++) {
    if (valueOf.has(t)) lmHead[t * D + L.answer + valueOf.get(t)!] = S.copy / nuF;
    else if (t === end) {
      lmHead[t * D + L.constant] = S.endBase / (nuF * C0);
      lmHead[t * D + L.kindValue] = S.endAfterValue / nuF;
    } else lmHead[t * D + L.constant] = S.otherWords / (nuF * C0);
  }
  if (!SPECIAL_TOKENS.every((s) => id(s) >= 0)) throw new Error("vocabulary lacks a special token");
  return { config, embed, layers: [l0, l1], finalNorm: new Float32Array(D).fill(1), lmHead };
}

/** min over Δ ≠ offset in [0, maxPositions) of Σ_i (1 − cos θ_i(Δ − offset)): the positional heads' margin per unit G. */
export function positionalMargin(): number {
  let min = Infinity;
  for (let m = -3; m <= MAX_POSITIONS; m++) {
    if (m === 0) continue;
    let s = 0;
    for (let i = 0; i < POSITION_PAIRS; i++) s += 1 - Math.cos(m * pairFrequency(i));
    min = Math.min(min, s);
  }
  return min;
}
