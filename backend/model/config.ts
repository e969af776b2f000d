// Shape of a Llama-architecture decoder (RMSNorm, RoPE, grouped-query
// attention, SwiGLU) and the sizes scripts/make-model.ts generates.

export interface ModelConfig {
  /** Model id served by the backend (e.g. "epikv-tiny"). */
  name: string;
  layers: number;
  dModel: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads; heads must be a multiple (GQA group = heads / kvHeads). */
  kvHeads: number;
  headDim: number;
  /** SwiGLU hidden width. */
  ffnDim: number;
  vocabSize: number;
  ropeTheta: number;
  rmsEps: number;
  /** Largest absolute position accepted (exclusive). */
  maxPositions: number;
}

export interface ModelSize extends Omit<ModelConfig, "name" | "vocabSize"> {
  /** Seed of the deterministic weight generator. */
  seed: number;
}

/**
 * Sizes of the seeded random models. "tiny" is what tests and `npm start`
 * use (≈0.2 M parameters); "small" (≈3.6 M) exists for the benchmark.
 */
export const MODEL_SIZES: Readonly<Record<string, ModelSize>> = {
  tiny: { layers: 4, dModel: 64, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128, ropeTheta: 10000, rmsEps: 1e-5, maxPositions: 1 << 20, seed: 1 },
  small: { layers: 6, dModel: 256, heads: 8, kvHeads: 2, headDim: 32, ffnDim: 640, ropeTheta: 500000, rmsEps: 1e-5, maxPositions: 1 << 20, seed: 2 },
};

export const DEFAULT_MODEL = "epikv-tiny";

/** Why a config is unusable, or null. */
export function configProblem(c: ModelConfig): string | null {
  const ints: (keyof ModelConfig)[] = ["layers", "dModel", "heads", "kvHeads", "headDim", "ffnDim", "vocabSize", "maxPositions"];
  for (const k of ints) if (!Number.isSafeInteger(c[k]) || (c[k] as number) <= 0) return `config.${k} must be a positive integer`;
  if (c.heads % c.kvHeads !== 0) return "config.heads must be a multiple of config.kvHeads";
  if (c.headDim % 2 !== 0) return "config.headDim must be even (RoPE rotates pairs)";
  if (!(c.ropeTheta > 1) || !(c.rmsEps > 0)) return "config.ropeTheta must be > 1 and config.rmsEps > 0";
  return null;
}
