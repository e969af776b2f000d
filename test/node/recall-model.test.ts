// The constructed recall model (scripts/recall/construct.ts,
// docs/recall-model.md): with the full KV it answers every question about a
// 4k-token multi-session chat, in both question forms, preferring the latest
// of updated facts; it answers nothing (<|end|>) about an entity never
// stated; served over HTTP it replies with the value and stops.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModel, loadTokenizer, loadWeights } from "../../backend/model/load";
import { chatTokens } from "../../backend/model/tokenizer";
import { startBackend, type RunningBackend } from "../../backend/server";
import { completionQuestion, recallChat } from "../../scripts/recall/conversation";
import { positionalMargin, RECALL_MODEL } from "../../scripts/recall/construct";
import { TOPICS, VALUES } from "../../scripts/recall/vocabulary";
import { parseSafetensors, readF32, requireTensor } from "../../protocol/safetensors";
import { argmax } from "../../scripts/bench/kv-metrics";

const tok = loadTokenizer(RECALL_MODEL);
const model = createModel(loadWeights(RECALL_MODEL), "wasm", tok);
const user = tok.special("<|user|>"), end = tok.special("<|end|>"), assistant = tok.special("<|assistant|>");

/** The greedy next token after `history` + a user question, at their absolute positions. */
function answerAfter(past: ReturnType<typeof model.forward>["kv"], at: number, question: string): number {
  const q = [user, ...tok.encode(question), end, assistant];
  return argmax(model.forward({ tokens: q, positions: q.map((_, i) => at + i), past, logits: "last" }).logits);
}

describe("constructed recall model, full KV", () => {
  it("answers every question about a 4k-token chat (both forms), the latest value of updated facts", () => {
    const chat = recallChat({ seed: 11, words: 4000 });
    const history = chatTokens(tok, chat.messages, false);
    expect(history.length).toBeGreaterThanOrEqual(4096);
    expect(history).not.toContain(tok.encode("unknownword")[0]); // every word of the chat is in the vocabulary
    const { kv } = model.forward({ tokens: history, positions: history.map((_, i) => i), logits: "none" });
    const updated = chat.questions.filter((q) => q.statements > 1);
    expect(updated.length).toBeGreaterThanOrEqual(5);
    expect(chat.questions.length).toBeGreaterThanOrEqual(40);
    // Questions from every topic, the oldest included.
    expect(new Set(chat.questions.map((q) => q.topic)).size).toBe(TOPICS.length);
    let right = 0, total = 0;
    for (const q of chat.questions) {
      for (const text of [q.text, completionQuestion(TOPICS[q.topic].name, q.entity)]) {
        total++;
        if (tok.decode([answerAfter(kv, history.length, text)]) === q.answer) right++;
      }
    }
    expect(right / total).toBe(1);
  });

  it("answers nothing (<|end|>) about an entity never stated, and a later statement wins", () => {
    const messages = [
      { role: "user" as const, content: "remember that my wifi is amber ." },
      { role: "user" as const, content: "the garden was nice today , and the soil too ." },
      { role: "user" as const, content: "actually , my wifi is falcon now ." },
    ];
    const history = chatTokens(tok, messages, false);
    const { kv } = model.forward({ tokens: history, positions: history.map((_, i) => i), logits: "none" });
    expect(tok.decode([answerAfter(kv, history.length, "what is my wifi ?")])).toBe("falcon");
    expect(answerAfter(kv, history.length, "what is my locker ?")).toBe(end);
  });

  it("its previous-token heads have a positional margin (docs/recall-model.md)", () => {
    // Σ_i (1 − cos θ_i m) over the 8 positional RoPE pairs, worst case m = ±1: 0.508, so G = 50 gives 25 nats.
    expect(positionalMargin()).toBeGreaterThan(0.5);
  });
});

describe("the reference backend serves the recall model", () => {
  let backend: RunningBackend;
  beforeAll(async () => {
    backend = await startBackend(0, { models: ["epikv-tiny", RECALL_MODEL] });
  });
  afterAll(() => backend.close());

  it("attention from a topic word ranks that topic's values above every other key, near and far (what EpiCache's prompt sees)", async () => {
    const chat = recallChat({ seed: 5, words: 1200, topics: 4 });
    const tokens = chatTokens(tok, chat.messages, false);
    const prompt = tok.encode("the garden and the soil");
    const res = await fetch(`${backend.url}/kv/v1/prefill`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: RECALL_MODEL, tokens, prompts: [{ tokens: prompt }], return_scores: true, return_queries: false, return_kv: false }) });
    const file = parseSafetensors(new Uint8Array(await res.arrayBuffer()));
    const garden = new Set(TOPICS[0].entities.map((e) => tok.encode(e)[0]));
    const isValue = new Set(VALUES.map((v) => tok.encode(v)[0]));
    const mine: number[] = [], others: number[] = [];
    for (let h = 0; h < 2; h++) {
      const scores = readF32(requireTensor(file, `prompt.0.scores.1.${h}`, "F32"));
      tokens.forEach((t, p) => {
        if (!isValue.has(t) || p < 2) return;
        (garden.has(tokens[p - 2]) ? mine : others).push(scores[p]);
      });
    }
    expect(mine.length).toBeGreaterThan(10);
    expect(Math.min(...mine)).toBeGreaterThan(0);
    expect(Math.max(...others)).toBe(0);
  });

  it("by the request's model field: a word tokenizer in the metadata, the value as the reply, then stop", async () => {
    const meta = (await (await fetch(`${backend.url}/kv/v1/models/${RECALL_MODEL}`)).json()) as { tokenizer: { type: string }; bos_token: number; vocab_size: number };
    expect(meta.tokenizer.type).toBe("word");
    expect(meta.bos_token).toBe(tok.special("<|bos|>"));
    expect(meta.vocab_size).toBe(tok.vocabSize);
    const client = new OpenAI({ baseURL: `${backend.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: RECALL_MODEL,
      messages: [
        { role: "user", content: "Note that my locker is Cobalt." },
        { role: "assistant", content: "ok , noted ." },
        { role: "user", content: "What is my locker?" },
      ],
      max_tokens: 8,
    });
    expect(r.choices[0].message.content).toBe("cobalt");
    expect(r.choices[0].finish_reason).toBe("stop");
    const detok = (await (await fetch(`${backend.url}/kv/v1/detokenize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: RECALL_MODEL, tokens: tok.encode("what is my locker ?") }) })).json()) as { text: string };
    expect(detok.text).toBe("what is my locker?");
  });
});
