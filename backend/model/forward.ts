// The reference model's forward pass: a Llama-architecture decoder (RMSNorm,
// RoPE, grouped-query attention, SwiGLU) run over new tokens at explicit
// absolute positions against a supplied KV cache. One algorithm, two kernel
// sets (ops.ts): WASM SIMD or plain TS.
//
// Attention of new token t covers every supplied entry of its KV head (all
// positions precede the new tokens, checked) plus new tokens 0..t. Supplying
// a subset of positions is exactly attention masked to that subset, which is
// what makes an evicted cache meaningful (docs/architecture.md, EpiCache steps 4–5).
import type { ModelConfig } from "./config";
import { checkKv, checkPositions, KvError, lastPosition, type KvCache } from "./kv";
import { upload, type ModelOps } from "./ops";
import { byteTokenizer, type Tokenizer } from "./tokenizer";
import type { ModelWeights } from "./weights";

export interface ForwardInput {
  tokens: ArrayLike<number>;
  positions: ArrayLike<number>;
  past?: KvCache;
  /** Which rows of logits to compute; default "last". */
  logits?: "last" | "all" | "none";
  /** Also return each layer's post-RoPE queries, [heads, tokens, headDim]. */
  captureQueries?: boolean;
  /**
   * Block-restricted mask for layer profiling (docs/architecture.md, EpiCache step 6):
   * new token t attends only to new tokens of its own block of this many
   * tokens (indices ⌊t/B⌋·B..t). Not combinable with `past`.
   */
  blockSize?: number;
}

export interface ForwardOutput {
  /** KV of the new tokens (every head holds all of them). */
  kv: KvCache;
  /** rows × vocab. */
  logits: Float32Array;
  queries?: Float32Array[];
}

interface LayerOffsets {
  attnNorm: number; wq: number; wk: number; wv: number; wo: number; mlpNorm: number; wGate: number; wUp: number; wDown: number;
}

export class Model {
  readonly config: ModelConfig;
  private readonly embed: number;
  private readonly layers: LayerOffsets[];
  private readonly finalNorm: number;
  private readonly lmHead: number;

  constructor(weights: ModelWeights, readonly ops: ModelOps, readonly tokenizer: Tokenizer = byteTokenizer) {
    this.config = weights.config;
    if (tokenizer.vocabSize !== weights.config.vocabSize) throw new Error(`model ${weights.config.name}: tokenizer has ${tokenizer.vocabSize} tokens, the weights ${weights.config.vocabSize}`);
    this.embed = upload(ops, weights.embed);
    this.layers = weights.layers.map((L) => ({
      attnNorm: upload(ops, L.attnNorm), wq: upload(ops, L.wq), wk: upload(ops, L.wk), wv: upload(ops, L.wv), wo: upload(ops, L.wo),
      mlpNorm: upload(ops, L.mlpNorm), wGate: upload(ops, L.wGate), wUp: upload(ops, L.wUp), wDown: upload(ops, L.wDown),
    }));
    this.finalNorm = upload(ops, weights.finalNorm);
    this.lmHead = upload(ops, weights.lmHead);
  }

  forward(input: ForwardInput): ForwardOutput {
    const c = this.config, ops = this.ops;
    const T = input.tokens.length;
    const { dModel: D, heads: H, kvHeads: Hkv, headDim: hd, ffnDim: F, vocabSize: V } = c;
    const g = H / Hkv;
    if (input.positions.length !== T) throw new KvError(`${T} tokens but ${input.positions.length} positions`);
    for (let t = 0; t < T; t++) {
      const id = input.tokens[t];
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new KvError(`token ${id} at index ${t} is outside the vocabulary [0, ${V})`);
    }
    checkPositions(c, input.positions, "tokens");
    if (input.past) {
      checkKv(c, input.past);
      const last = lastPosition(input.past);
      if (T > 0 && last >= input.positions[0]) throw new KvError(`supplied kv reaches position ${last}, not before the first new position ${input.positions[0]}`);
    }
    const B = input.blockSize;
    if (B !== undefined && (!Number.isInteger(B) || B < 1 || (input.past && lastPosition(input.past) >= 0))) {
      throw new KvError("blockSize must be a positive integer and cannot be combined with supplied kv");
    }
    const mode = input.logits ?? "last";
    const rows = mode === "all" ? T : mode === "last" && T > 0 ? 1 : 0;

    const base = ops.mark();
    try {
      let nPastMax = 0;
      for (const layer of input.past ?? []) for (const h of layer) nPastMax = Math.max(nPastMax, h.positions.length);
      const x = ops.alloc(T * D), pos = ops.alloc(T), h = ops.alloc(T * D);
      const q = ops.alloc(T * H * hd), k = ops.alloc(T * Hkv * hd), v = ops.alloc(T * Hkv * hd), att = ops.alloc(T * H * hd);
      const o = ops.alloc(T * D), gate = ops.alloc(T * F), up = ops.alloc(T * F);
      const kbuf = ops.alloc((nPastMax + T) * hd), vbuf = ops.alloc((nPastMax + T) * hd);
      const logits = ops.alloc(rows * V);
      // Every allocation of this call is done: views taken from here on stay valid
      // (the WASM attention kernel's scratch may still grow memory, so re-take after it).
      let f = ops.f32();
      for (let t = 0; t < T; t++) f.copyWithin(x + t * D, this.embed + input.tokens[t] * D, this.embed + (input.tokens[t] + 1) * D);
      ops.i32().set(Array.from(input.positions), pos);

      const kv: KvCache = [];
      const queries: Float32Array[] = [];
      this.layers.forEach((L, l) => {
        ops.rmsnorm(h, x, L.attnNorm, T, D, c.rmsEps);
        ops.matmul(q, h, L.wq, T, D, H * hd);
        ops.matmul(k, h, L.wk, T, D, Hkv * hd);
        ops.matmul(v, h, L.wv, T, D, Hkv * hd);
        ops.rope(q, pos, T, H, hd, c.ropeTheta);
        ops.rope(k, pos, T, Hkv, hd, c.ropeTheta);
        const layerKv = [];
        for (let kh = 0; kh < Hkv; kh++) {
          const past = input.past?.[l][kh];
          const n = past?.positions.length ?? 0;
          f = ops.f32();
          if (past) {
            f.set(past.keys, kbuf);
            f.set(past.values, vbuf);
          }
          for (let t = 0; t < T; t++) {
            f.copyWithin(kbuf + (n + t) * hd, k + (t * Hkv + kh) * hd, k + (t * Hkv + kh + 1) * hd);
            f.copyWithin(vbuf + (n + t) * hd, v + (t * Hkv + kh) * hd, v + (t * Hkv + kh + 1) * hd);
          }
          layerKv.push({
            positions: Int32Array.from(input.positions),
            keys: f.slice(kbuf + n * hd, kbuf + (n + T) * hd),
            values: f.slice(vbuf + n * hd, vbuf + (n + T) * hd),
          });
          for (let t = 0; t < T; t++) {
            const start = B ? Math.floor(t / B) * B : 0;
            const rowsAt = (t * H + kh * g) * hd;
            ops.attend(att + rowsAt, q + rowsAt, kbuf + start * hd, vbuf + start * hd, g, n + t + 1 - start, hd);
          }
        }
        kv.push(layerKv);
        if (input.captureQueries) {
          f = ops.f32();
          const out = new Float32Array(H * T * hd);
          for (let t = 0; t < T; t++) for (let qh = 0; qh < H; qh++) out.set(f.subarray(q + (t * H + qh) * hd, q + (t * H + qh + 1) * hd), (qh * T + t) * hd);
          queries.push(out);
        }
        ops.matmul(o, att, L.wo, T, H * hd, D);
        ops.add(x, o, T * D);
        ops.rmsnorm(h, x, L.mlpNorm, T, D, c.rmsEps);
        ops.matmul(gate, h, L.wGate, T, D, F);
        ops.matmul(up, h, L.wUp, T, D, F);
        ops.swiglu(gate, gate, up, T * F);
        ops.matmul(o, gate, L.wDown, T, F, D);
        ops.add(x, o, T * D);
      });
      const first = T - rows;
      ops.rmsnorm(h, x + first * D, this.finalNorm, rows, D, c.rmsEps);
      ops.matmul(logits, h, this.lmHead, rows, D, V);
      const out: ForwardOutput = { kv, logits: ops.f32().slice(logits, logits + rows * V) };
      if (input.captureQueries) out.queries = queries;
      return out;
    } finally {
      ops.reset(base);
    }
  }
}
