// An episode's representative prompt (docs/architecture.md, EpiCache step 3): its top-n
// segments by cosine to the centroid, in conversation order, joined. The
// Durable Object already keeps the representative segment ids per episode
// (context mode); kv mode turns them into prompt tokens, cut to what the
// backend accepts per prompt.
import { nearestCentroid, REPRESENTATIVES_PER_EPISODE, TopN } from "../episodes/episodes";

/** Ids (conversation order) of each centroid's top-n member segments by cosine. */
export function representativeSegments(embeddings: readonly Float32Array[], centroids: readonly Float32Array[], n = REPRESENTATIVES_PER_EPISODE): number[][] {
  const tops = centroids.map(() => new TopN(n));
  embeddings.forEach((v, id) => {
    const a = nearestCentroid(v, centroids);
    if (a.index >= 0) tops[a.index].offer(id, a.cosine);
  });
  return tops.map((t) => t.idsInOrder());
}

/** The prompt text: the segments' texts in the given (conversation) order. */
export function representativeText(segmentTexts: readonly string[], ids: readonly number[]): string {
  return ids.map((id) => segmentTexts[id] ?? "").join("");
}

/** Tokens of the prompt, keeping its end when it is over `maxTokens` (the most recent representatives). */
export function clipPrompt(tokens: readonly number[], maxTokens: number): number[] {
  return tokens.length <= maxTokens ? [...tokens] : tokens.slice(tokens.length - maxTokens);
}
