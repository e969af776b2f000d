import { describe, expect, it } from "vitest";
import { oracleKernels } from "../../wasm/oracle/index";
import { addDocumentFrequency, reweight, reweightRows } from "../../durable-objects/episodes/bucket-idf";
import { idfFromDocumentFrequency } from "../../wasm/src/text-features";
import {
  assignOnline, fitEpisodes, fitOptions, matchEpisodeIds, matchQueryEpisode, nearestCentroid, shouldRecluster, strideSample, TopN, type OnlineCentroid,
} from "../../durable-objects/episodes/episodes";
import { hashEmbedder, parseEmbeddingsResponse } from "../../durable-objects/episodes/embedder";
import { ResidentRows } from "../../wasm/src/bindings/resident-rows";
import { loadWasmModule } from "../../wasm/src/node-module";
import { wasmKernels } from "../../wasm/src/wasm-kernels";

const kernels = oracleKernels;
const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / n));
};

describe("online assignment", () => {
  it("seeds episodes until E exist, then joins the nearest and moves its centroid to the running mean", () => {
    const episodes: OnlineCentroid[] = [];
    let next = 0;
    const nextId = () => next++;
    expect(assignOnline(episodes, unit(1, 0), 2, nextId)).toMatchObject({ id: 0, seeded: true });
    expect(assignOnline(episodes, unit(0, 1), 2, nextId)).toMatchObject({ id: 1, seeded: true });
    const joined = assignOnline(episodes, unit(1, 1), 2, nextId);
    expect(joined.seeded).toBe(false);
    expect(joined.cosine).toBeCloseTo(Math.SQRT1_2, 5);
    const e = episodes.find((x) => x.id === joined.id)!;
    expect(e.size).toBe(2);
    expect(Math.hypot(...e.centroid)).toBeLessThan(1); // a raw mean of two unit vectors
  });

  it("nearestCentroid uses the k-means (Euclidean) rule, not the raw dot product", () => {
    // A long centroid has the larger dot product but is farther away.
    const far = Float32Array.from([3, 0]);
    const near = Float32Array.from([0.6, 0.6]);
    const x = unit(1, 0.8);
    expect(x[0]! * far[0]! > x[0]! * near[0]! + x[1]! * near[1]!).toBe(true);
    expect(nearestCentroid(x, [far, near]).index).toBe(1);
  });
});

describe("full clustering (EpiCache step 3) and query matching (step 7)", () => {
  it("separates topical segments embedded by the hashing embedder, and a query finds its topic", async () => {
    const embed = hashEmbedder(kernels);
    const topics = [
      ["dog", "puppy", "leash", "bark", "walk"],
      ["tax", "invoice", "refund", "audit", "receipt"],
      ["guitar", "chord", "melody", "song", "tune"],
    ];
    const texts: string[] = [];
    const truth: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = i % 3;
      const words = topics[t]!;
      texts.push(`user said, "${words[i % 5]} ${words[(i + 1) % 5]} ${words[(i + 2) % 5]}"\n`);
      truth.push(t);
    }
    const vecs = await embed.embed(texts);
    const df = new Float64Array(384);
    for (const v of vecs) addDocumentFrequency(df, v);
    const idf = idfFromDocumentFrequency(df, vecs.length);
    const rows = new Float32Array(vecs.length * 384);
    vecs.forEach((v, i) => rows.set(v, i * 384));
    reweightRows(rows, 384, idf);
    const centroids = fitEpisodes(kernels, rows, 384, 3);
    expect(centroids.length).toBe(3 * 384);
    const list = [0, 1, 2].map((j) => centroids.slice(j * 384, (j + 1) * 384));
    const labels = vecs.map((v) => nearestCentroid(reweight(v, idf), list).index);
    // Same topic ⇔ same cluster.
    for (let i = 0; i < labels.length; i++) for (let j = 0; j < labels.length; j++) expect(labels[i] === labels[j]).toBe(truth[i] === truth[j]);
    const [q] = await embed.embed(["how much is my refund after the audit?"]);
    const { index } = matchQueryEpisode(kernels, reweight(q!, idf), centroids, 384);
    expect(index).toBe(labels[1]); // segment 1 is a tax segment
  });

  it("reweightRows re-weights in place exactly as reweight does row by row", () => {
    const dim = 8;
    const idf = Float32Array.from({ length: dim }, (_, b) => 0.5 + b / 3);
    const rows = Float32Array.from({ length: 3 * dim }, (_, i) => (i % 5 === 0 ? 0 : Math.sin(i + 1)));
    rows.fill(0, dim, 2 * dim); // an all-zero row stays zero
    const expected = [0, 1, 2].map((r) => Array.from(reweight(rows.slice(r * dim, (r + 1) * dim), idf)));
    reweightRows(rows, dim, idf);
    expect([0, 1, 2].map((r) => Array.from(rows.subarray(r * dim, (r + 1) * dim)))).toEqual(expected);
    expect(Array.from(rows.subarray(dim, 2 * dim))).toEqual(new Array(dim).fill(0));
  });

  it("the re-clustering's fit in its own instance (ResidentRows, episode-refit.ts) equals fitEpisodes bit for bit, and both match the oracle's clustering", () => {
    const module = loadWasmModule();
    const embed = hashEmbedder(wasmKernels(module));
    const texts = Array.from({ length: 300 }, (_, i) => `${["apples pears plums", "engines torque gears", "rivers lakes rain"][i % 3]} note ${i} ${i % 7}`);
    return embed.embed(texts).then((vecs) => {
      const dim = vecs[0]!.length;
      const rows = new Float32Array(vecs.length * dim);
      vecs.forEach((v, i) => rows.set(v, i * dim));
      const viaKernels = fitEpisodes(wasmKernels(module), rows, dim, 3);
      const fit = ResidentRows.create(module, vecs.length, dim);
      fit.rows().set(rows);
      const resident = fit.kmeans(fitOptions(3, vecs.length)).centroids;
      expect(Array.from(resident)).toEqual(Array.from(viaKernels));
      const viaOracle = fitEpisodes(kernels, rows, dim, 3);
      const label = (c: Float32Array) => vecs.map((v) => nearestCentroid(v, Array.from({ length: 3 }, (_, j) => c.subarray(j * dim, (j + 1) * dim))).index);
      const a = label(resident), b = label(viaOracle);
      // Same partition (cluster order may differ): points share a cluster in one iff they do in the other.
      for (let i = 0; i < vecs.length; i++) expect(a[i] === a[0]).toBe(b[i] === b[0]);
    });
  });

  it("clips k to the number of rows and returns nothing for no rows", () => {
    expect(fitEpisodes(kernels, unit(1, 0), 2, 4).length).toBe(2);
    expect(fitEpisodes(kernels, new Float32Array(0), 2, 4).length).toBe(0);
    expect(matchQueryEpisode(kernels, unit(1, 0), new Float32Array(0), 2).index).toBe(-1);
  });
});

describe("stable episode ids", () => {
  it("keeps ids when re-clustering finds the same clusters in another order, and mints new ones otherwise", () => {
    const previous: OnlineCentroid[] = [
      { id: 7, centroid: unit(1, 0, 0), size: 5 },
      { id: 9, centroid: unit(0, 1, 0), size: 5 },
    ];
    const { ids, nextFreeId } = matchEpisodeIds(previous, [unit(0.1, 1, 0), unit(0, 0, 1), unit(1, 0.1, 0)], 10);
    expect(ids).toEqual([9, 10, 7]);
    expect(nextFreeId).toBe(11);
  });

  it("gives one old id to at most one new cluster (the most similar)", () => {
    const previous: OnlineCentroid[] = [{ id: 3, centroid: unit(1, 0), size: 1 }];
    const { ids } = matchEpisodeIds(previous, [unit(1, 0.5), unit(1, 0.05)], 4);
    expect(ids).toEqual([4, 3]);
  });
});

describe("representatives, sampling, re-cluster trigger", () => {
  it("TopN keeps the n best, returned in conversation order", () => {
    const top = new TopN(3);
    [[5, 0.1], [2, 0.9], [8, 0.5], [1, 0.7], [9, 0.5]].forEach(([id, s]) => top.offer(id!, s!));
    expect(top.idsInOrder()).toEqual([1, 2, 8]);
  });

  it("strideSample is even, deterministic and complete when small", () => {
    expect(strideSample(5, 10)).toEqual([0, 1, 2, 3, 4]);
    const s = strideSample(100_000, 8);
    expect(s).toEqual([0, 12500, 25000, 37500, 50000, 62500, 75000, 87500]);
  });

  it("re-clusters on first data, on growth and on drift only", () => {
    const base = { segments: 100, sinceFit: 0, atFit: 100, fitMeanCosine: 0.6, onlineCosineSum: 0, episodesWanted: 4 };
    expect(shouldRecluster({ ...base, atFit: 0, segments: 3, sinceFit: 3 })).toBe(false);
    expect(shouldRecluster({ ...base, atFit: 0, segments: 4, sinceFit: 4 })).toBe(true);
    expect(shouldRecluster({ ...base, sinceFit: 24, segments: 124, onlineCosineSum: 24 * 0.6 })).toBe(false);
    expect(shouldRecluster({ ...base, sinceFit: 25, segments: 125, onlineCosineSum: 25 * 0.6 })).toBe(true);
    expect(shouldRecluster({ ...base, sinceFit: 8, segments: 108, onlineCosineSum: 8 * 0.45 })).toBe(true);
    expect(shouldRecluster({ ...base, sinceFit: 8, segments: 108, onlineCosineSum: 8 * 0.55 })).toBe(false);
  });
});

describe("bucket IDF", () => {
  it("re-weighting a stored unit embedding equals embedding with the IDF (the kernel contract)", () => {
    const text = 'user said, "the quick brown fox jumps over the lazy dog"\n';
    const idf = Float32Array.from({ length: 384 }, (_, i) => 1 + ((i * 37) % 11) / 3);
    const direct = kernels.embedText(text, { idf });
    const viaStored = reweight(kernels.embedText(text), idf);
    for (let i = 0; i < 384; i++) expect(viaStored[i]).toBeCloseTo(direct[i]!, 5);
  });

  it("counts buckets, weights rare ones higher, keeps zero vectors zero", () => {
    const df = new Float64Array(4);
    addDocumentFrequency(df, Float32Array.from([1, 0, 0.5, 0]));
    addDocumentFrequency(df, Float32Array.from([1, 0, 0, 0]));
    expect(Array.from(df)).toEqual([2, 0, 1, 0]);
    const idf = idfFromDocumentFrequency(df, 2);
    expect(idf[0]).toBeLessThan(idf[2]!);
    expect(idf[2]).toBeLessThan(idf[1]!);
    expect(Array.from(reweight(new Float32Array(4), idf))).toEqual([0, 0, 0, 0]);
    expect(() => addDocumentFrequency(df, new Float32Array(3))).toThrow(RangeError);
  });
});

describe("OpenAI embeddings response parsing", () => {
  it("orders by index and normalises", () => {
    const out = parseEmbeddingsResponse({ data: [{ index: 1, embedding: [0, 2] }, { index: 0, embedding: [3, 4] }] }, 2);
    expect(Array.from(out[0]!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(out[1]!)).toEqual([0, 1]);
  });
  it("rejects malformed bodies with a clear error", () => {
    expect(() => parseEmbeddingsResponse({}, 1)).toThrow(/data\[1\]/);
    expect(() => parseEmbeddingsResponse({ data: [{ embedding: ["x"] }] }, 1)).toThrow(/numeric/);
    expect(() => parseEmbeddingsResponse({ data: [{ embedding: [1] }, { embedding: [1, 2] }] }, 2)).toThrow(/dimensions/);
    expect(() => parseEmbeddingsResponse({ data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [1] }] }, 2)).toThrow(/index/);
  });
});

describe("OpenAI-compatible embedder", () => {
  it("posts batches to /embeddings with the key and returns unit vectors in order", async () => {
    // Test double for a remote /v1/embeddings server (no network here): records requests, answers deterministically.
    const calls: { url: string; auth: string | null; input: string[]; model: string }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as { input: string[]; model: string };
      calls.push({ url, auth: new Headers(init.headers).get("authorization"), input: body.input, model: body.model });
      return new Response(JSON.stringify({ data: body.input.map((t, index) => ({ index, embedding: [t.length, 1] })) }));
    }) as unknown as typeof fetch;
    const { openAiEmbedder, EMBEDDINGS_BATCH } = await import("../../durable-objects/episodes/embedder");
    const embedder = openAiEmbedder("http://127.0.0.1:8810/v1/", "emb-model", "sk-test", fakeFetch);
    expect(embedder.usesIdf).toBe(false);
    const texts = Array.from({ length: EMBEDDINGS_BATCH + 3 }, (_, i) => "x".repeat(i));
    const vecs = await embedder.embed(texts);
    expect(calls.map((c) => c.input.length)).toEqual([EMBEDDINGS_BATCH, 3]);
    expect(calls[0]).toMatchObject({ url: "http://127.0.0.1:8810/v1/embeddings", auth: "Bearer sk-test", model: "emb-model" });
    expect(vecs[3]![0]).toBeCloseTo(3 / Math.hypot(3, 1), 6);
    const failing = openAiEmbedder("http://127.0.0.1:8810/v1", "m", undefined, (async () => new Response("nope", { status: 503 })) as unknown as typeof fetch);
    await expect(failing.embed(["a"])).rejects.toThrow(/503/);
  });
});
