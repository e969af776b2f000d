// bench:kernels cases for the lexical index's BM25 kernel: one turn's
// scoring at 100k messages (10k with --quick) of a generated conversation
// (scripts/eval), for a direct question: "wasm" is the kernel the Durable
// Object calls (copying the postings in and the scores out included), "js"
// the best plain-JS loop (scripts/bench/js/bm25.ts), "gather" the index
// assembling the query's postings, which both need and which is not timed
// in the other two.
import type { BenchCase, BenchOptions } from "../bench-case";
import { jsBm25Scores } from "../js/bm25";
import { generateConversation } from "../../eval/generate-conversations";
import { LexicalIndex, lexicalTerms, messageTerms } from "../../../durable-objects/selection/lexical-index";
import { loadWasmModule } from "../../../wasm/src/node-module";
import { wasmKernels } from "../../../wasm/src/wasm-kernels";
import { copyingBm25Scorer } from "../../../wasm/src/bm25-scorer";

export function cases({ quick }: BenchOptions): BenchCase[] {
  const kernels = wasmKernels(loadWasmModule());
  const messages = quick ? 10_000 : 100_000;
  const conversation = generateConversation({ id: "bench", seed: 5, messages });
  const index = new LexicalIndex(0, copyingBm25Scorer(kernels));
  conversation.messages.forEach((m, seq) => index.add(seq, m.role, messageTerms(m)));
  const questions = conversation.questions.map((q) => lexicalTerms(q.query));
  // query() hands out a view of a buffer the next query reuses: keep copies.
  const queries = questions.flatMap((terms) => { const q = index.query(terms); return q ? [{ ...q, posts: q.posts.slice() }] : []; });
  let next = 0;
  const query = () => queries[next++ % queries.length]!;
  const out = new Float32Array(index.size);
  const postingBytes = queries.reduce((s, q) => s + q.posts.length, 0) / queries.length; // compressed: 1–2 bytes a posting
  return [{
    kernel: "bm25Scores",
    shape: `${index.size} messages, ${queries.length} questions, ${Math.round(postingBytes / 1024)} KiB of postings/question`,
    bytes: Math.round(postingBytes),
    impls: {
      wasm: () => kernels.bm25Scores(query()),
      js: () => jsBm25Scores(query(), out),
      gather: () => index.query(questions[next++ % questions.length]!),
    },
  }];
}
