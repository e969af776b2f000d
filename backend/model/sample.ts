// Next-token choice from logits. Temperature 0 is greedy (ties → lower id),
// so decoding is deterministic; otherwise softmax(logits / T), optionally
// nucleus-truncated (top_p), drawn from a seeded PRNG.
import { mulberry32 } from "../../protocol/mulberry32";

export interface SamplingOptions {
  temperature: number;
  topP?: number;
  seed?: number;
}

export type Sampler = (logits: Float32Array) => number;

export function makeSampler(o: SamplingOptions): Sampler {
  if (o.temperature === 0) return argmax;
  const rand = mulberry32(o.seed ?? Math.floor(Math.random() * 2 ** 32));
  const topP = o.topP ?? 1;
  return (logits) => {
    let max = -Infinity;
    for (const x of logits) max = Math.max(max, x);
    const p = Array.from(logits, (x, id) => ({ id, p: Math.exp((x - max) / o.temperature) }));
    p.sort((a, b) => b.p - a.p || a.id - b.id);
    const total = p.reduce((s, e) => s + e.p, 0);
    let keep = p.length, acc = 0;
    for (let i = 0; i < p.length; i++) {
      acc += p[i].p / total;
      if (acc >= topP) {
        keep = i + 1;
        break;
      }
    }
    const kept = p.slice(0, keep);
    let r = rand() * kept.reduce((s, e) => s + e.p, 0);
    for (const e of kept) if ((r -= e.p) <= 0) return e.id;
    return kept[kept.length - 1].id;
  };
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}
