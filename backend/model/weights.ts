// A model's weights: named tensors in the Hugging Face Llama layout, stored
// as one safetensors file whose __metadata__.config is the ModelConfig JSON.
import { parseSafetensors, readF32, requireTensor, writeSafetensors, type TensorInput } from "../../protocol/safetensors";
import { configProblem, type ModelConfig } from "./config";
import { mulberry32 } from "../../protocol/mulberry32";

export interface LayerWeights {
  attnNorm: Float32Array; // [D]
  wq: Float32Array; // [H·hd, D]
  wk: Float32Array; // [Hkv·hd, D]
  wv: Float32Array; // [Hkv·hd, D]
  wo: Float32Array; // [D, H·hd]
  mlpNorm: Float32Array; // [D]
  wGate: Float32Array; // [F, D]
  wUp: Float32Array; // [F, D]
  wDown: Float32Array; // [D, F]
}

export interface ModelWeights {
  config: ModelConfig;
  embed: Float32Array; // [V, D]
  layers: LayerWeights[];
  finalNorm: Float32Array; // [D]
  lmHead: Float32Array; // [V, D]
}

/** Tensor names and shapes, in file order. */
export function weightLayout(c: ModelConfig): [string, number[]][] {
  const D = c.dModel, q = c.heads * c.headDim, kv = c.kvHeads * c.headDim, F = c.ffnDim;
  const out: [string, number[]][] = [["model.embed_tokens.weight", [c.vocabSize, D]]];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}.`;
    out.push(
      [p + "input_layernorm.weight", [D]],
      [p + "self_attn.q_proj.weight", [q, D]],
      [p + "self_attn.k_proj.weight", [kv, D]],
      [p + "self_attn.v_proj.weight", [kv, D]],
      [p + "self_attn.o_proj.weight", [D, q]],
      [p + "post_attention_layernorm.weight", [D]],
      [p + "mlp.gate_proj.weight", [F, D]],
      [p + "mlp.up_proj.weight", [F, D]],
      [p + "mlp.down_proj.weight", [D, F]],
    );
  }
  out.push(["model.norm.weight", [D]], ["lm_head.weight", [c.vocabSize, D]]);
  return out;
}

function fromNamed(config: ModelConfig, get: (name: string) => Float32Array): ModelWeights {
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.layers; l++) {
    const p = `model.layers.${l}.`;
    layers.push({
      attnNorm: get(p + "input_layernorm.weight"),
      wq: get(p + "self_attn.q_proj.weight"),
      wk: get(p + "self_attn.k_proj.weight"),
      wv: get(p + "self_attn.v_proj.weight"),
      wo: get(p + "self_attn.o_proj.weight"),
      mlpNorm: get(p + "post_attention_layernorm.weight"),
      wGate: get(p + "mlp.gate_proj.weight"),
      wUp: get(p + "mlp.up_proj.weight"),
      wDown: get(p + "mlp.down_proj.weight"),
    });
  }
  return { config, embed: get("model.embed_tokens.weight"), layers, finalNorm: get("model.norm.weight"), lmHead: get("lm_head.weight") };
}

export function parseModelWeights(bytes: Uint8Array): ModelWeights {
  const file = parseSafetensors(bytes, { maxHeaderBytes: 1 << 20 });
  const raw = file.metadata.config;
  if (!raw) throw new Error("model file has no __metadata__.config");
  const config = JSON.parse(raw) as ModelConfig;
  const problem = configProblem(config);
  if (problem) throw new Error(`model file: ${problem}`);
  const shapes = new Map(weightLayout(config));
  return fromNamed(config, (name) => readF32(requireTensor(file, name, "F32", shapes.get(name))));
}

export function serializeModelWeights(w: ModelWeights, extraMetadata: Record<string, string> = {}): Uint8Array {
  const named = new Map<string, Float32Array>();
  named.set("model.embed_tokens.weight", w.embed);
  w.layers.forEach((L, l) => {
    const p = `model.layers.${l}.`;
    named.set(p + "input_layernorm.weight", L.attnNorm).set(p + "self_attn.q_proj.weight", L.wq).set(p + "self_attn.k_proj.weight", L.wk);
    named.set(p + "self_attn.v_proj.weight", L.wv).set(p + "self_attn.o_proj.weight", L.wo).set(p + "post_attention_layernorm.weight", L.mlpNorm);
    named.set(p + "mlp.gate_proj.weight", L.wGate).set(p + "mlp.up_proj.weight", L.wUp).set(p + "mlp.down_proj.weight", L.wDown);
  });
  named.set("model.norm.weight", w.finalNorm).set("lm_head.weight", w.lmHead);
  const tensors: [string, TensorInput][] = weightLayout(w.config).map(([name, shape]) => [name, { dtype: "F32", shape, data: named.get(name)! }]);
  return writeSafetensors(tensors, { ...extraMetadata, config: JSON.stringify(w.config), format: "pt" });
}


/** Bumped whenever randomModelWeights changes, so `npm run build` regenerates the files. */
export const RANDOM_WEIGHTS_VERSION = 4;

/** Rough English letter frequencies (per mille) that bias the seeded models towards readable text. */
const TEXT_BIAS = " 180e102t75a65o62i57n57s53h50r48d35l33c23u23m20w19f18g16y16p15b12v8k6,5.5";

/**
 * Seeded random weights: Gaussian (Box–Muller) with std 1/√fan_in, norms at 1.
 * Embeddings have std 1 so the residual stream starts at unit scale.
 * Residual dimension 0 carries a constant (+4 in every embedding) that the
 * LM head reads as a per-token bias: 0.6 · log letter frequency for common
 * characters, −4 for everything else. The model stays random, but its
 * greedy output is lowercase gibberish rather than control bytes, which
 * makes demos and streamed text readable. It changes no property the tests
 * rely on.
 */
export function randomModelWeights(config: ModelConfig, seed: number): ModelWeights {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const bias = new Float32Array(config.vocabSize).fill(-4);
  for (const [, ch, perMille] of TEXT_BIAS.matchAll(/(.)(\d+)/g)) bias[ch.charCodeAt(0)] = 0.6 * Math.log(Number(perMille) / 10);
  const D = config.dModel;
  return fromNamed(config, (name) => {
    const shape = new Map(weightLayout(config)).get(name)!;
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 1) return out.fill(1);
    // The LM head is wider so context, not the bias, picks among readable characters.
    const std = name.includes("embed") ? 1 : (name === "lm_head.weight" ? 2 : 1) / Math.sqrt(shape[1]);
    for (let i = 0; i < out.length; i++) out[i] = gauss() * std;
    if (name.includes("embed")) for (let v = 0; v < config.vocabSize; v++) out[v * D] = 4;
    if (name === "lm_head.weight") for (let v = 0; v < config.vocabSize; v++) out[v * D] = bias[v];
    return out;
  });
}
