// Oracle for the hashing embedder (wasm/assembly/embed.ts), built on the
// TS feature list (wasm/src/text-features.ts): bucket sums in f64 over the
// distinct features in first-occurrence order, idf, then L2 normalisation.
import type { Kernels } from "../src/kernels";
import { resolveEmbedDim } from "../src/retrieval-checks";
import { textFeatures } from "../src/text-features";

export const embedText: Kernels["embedText"] = (text, options = {}) => {
  const dim = resolveEmbedDim(options.dim, options.idf);
  const acc = new Float64Array(dim);
  for (const f of textFeatures(text, dim)) acc[f.bucket] += f.sign * f.weight;
  if (options.idf) for (let b = 0; b < dim; b++) acc[b] *= options.idf[b]!;
  let norm2 = 0;
  for (let b = 0; b < dim; b++) norm2 += acc[b]! * acc[b]!;
  const inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
  return Float32Array.from(acc, (v) => v * inv);
};
