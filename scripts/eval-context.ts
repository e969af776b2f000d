// Context-selection evaluation (issue 3): evidence recall of the context
// epikv selects, beside recency-only and per-message BM25 baselines, on long
// generated multi-session conversations of two styles (scripts/eval/suite.ts),
// at budgets of 1/4, 1/8 and 1/16 of each conversation's tokens.
//
//   npm run eval:context                 # full run on the report half, markdown tables on stdout
//   npm run eval:context -- --split tune # the half for choosing parameters (all: both halves)
//   npm run eval:context -- --quick      # the 2k-message conversations only
//   npm run eval:context -- --json       # one JSON object
//   npm run eval:context -- --kernels oracle   # plain-TS kernels instead of WASM
//
// Evidence recall of a question = the fraction of its evidence messages that
// are in the selected context; reported as the mean over questions. Every
// policy spends the same budget through durable-objects/selection/select-context.ts
// (scripts/eval/policy.ts), and every selection is checked against its budget.
import type { EvalConversation, QuestionKind, Split } from "./eval/conversation";
import { checkAgainstDurableObject, type DurableObjectCheck } from "./eval/durable-object-check";
import { evaluationSuite } from "./eval/suite";
import { evidenceRecall, lexicalOverlap, mean } from "./eval/metrics";
import { margins, markdownReport, perConversation, round, summarise, type ConversationSummary, type Outcome } from "./eval/report";
import { ablationPolicies, contextPolicies } from "./eval/policies";
import { storeConversation, type ContextPolicy, type PolicyRuntime } from "./eval/policy";
import { arrayRowStore } from "../durable-objects/selection/segment-index";
import { ResidentColumns } from "../wasm/src/bindings/retrieval";
import { ResidentBm25 } from "../wasm/src/bindings/resident-bm25";
import { copyingBm25Scorer } from "../wasm/src/bm25-scorer";
import { DEFAULT_SETTINGS } from "../durable-objects/conversation/settings";
import { loadWasmModule } from "../wasm/src/node-module";
import { wasmKernels } from "../wasm/src/wasm-kernels";
import { oracleKernels } from "../wasm/oracle/index";

/** Budgets as fractions of the conversation's tokens (1/f). */
const FRACTIONS = [4, 8, 16] as const;

interface Args {
  quick: boolean;
  json: boolean;
  kernels: "wasm" | "oracle";
  ablations: boolean;
  checkDo: boolean;
  split: Split | "all";
}

/** Bad command-line input: reported as one line, without a stack. */
class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, json: false, kernels: "wasm", ablations: false, checkDo: false, split: "report" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") args.quick = true;
    else if (a === "--json") args.json = true;
    else if (a === "--ablations") args.ablations = true;
    else if (a === "--check-do") args.checkDo = true;
    else if (a === "--kernels") {
      const v = argv[++i];
      if (v !== "wasm" && v !== "oracle") throw new UsageError(`--kernels must be wasm or oracle, got ${v}`);
      args.kernels = v;
    } else if (a === "--split") {
      const v = argv[++i];
      if (v !== "tune" && v !== "report" && v !== "all") throw new UsageError(`--split must be tune, report or all, got ${v}`);
      args.split = v;
    } else throw new UsageError(`unknown argument ${a} (use --quick, --json, --ablations, --check-do, --kernels wasm|oracle, --split tune|report|all)`);
  }
  return args;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function evaluate(conv: EvalConversation, policies: readonly ContextPolicy[], runtime: PolicyRuntime, outcomes: Outcome[]): Promise<{ tokens: number; timings: Record<string, { prepare_ms: number; select_ms: number }> }> {
  const stored = storeConversation(conv.messages);
  const timings: Record<string, { prepare_ms: number; select_ms: number }> = {};
  log(`${conv.id}: ${conv.messages.length} messages, ${conv.sessions.length} sessions, ${conv.questions.length} questions, ${stored.totalTokens} tokens`);
  for (const policy of policies) {
    const t0 = performance.now();
    const prepared = await policy.prepare(stored, runtime);
    const t1 = performance.now();
    for (const fraction of FRACTIONS) {
      const budget = Math.floor(stored.totalTokens / fraction);
      for (const question of conv.questions) {
        const selection = await prepared.select(question.query, budget);
        const recall = evidenceRecall(question.evidence, new Set(selection.seqs));
        const matched = selection.matchedEpisode;
        const inMatched = prepared.episodeOf && matched !== undefined
          ? mean(question.evidence.map((seq) => (prepared.episodeOf!(seq) === matched ? 1 : 0)))
          : null;
        outcomes.push({ conversation: conv.id, policy: policy.name, fraction, question, recall, budget, used: selection.usedTokens, inMatched });
      }
    }
    const t2 = performance.now();
    timings[policy.name] = { prepare_ms: round(t1 - t0, 1), select_ms: round(t2 - t1, 1) };
    log(`  ${policy.name.padEnd(8)} prepared in ${(t1 - t0).toFixed(0)} ms, ${FRACTIONS.length * conv.questions.length} selections in ${(t2 - t1).toFixed(0)} ms`);
  }
  return { tokens: stored.totalTokens, timings };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  // WASM: the kernels, the segment index's rows (column-major ResidentColumns) and the BM25 scores in WASM memory, as in workerd; oracle: plain TypeScript for all.
  const module = args.kernels === "wasm" ? loadWasmModule() : null;
  const runtime: PolicyRuntime = module
    ? { kernels: wasmKernels(module), rowStore: (capacity, dim) => ResidentColumns.create(module, capacity, dim), bm25Scorer: () => ResidentBm25.create(module) }
    : { kernels: oracleKernels, rowStore: arrayRowStore, bm25Scorer: () => copyingBm25Scorer(oracleKernels) };
  const conversations = evaluationSuite(args.quick ? "quick" : "full", args.split);
  const policies = args.ablations ? [...contextPolicies, ...ablationPolicies] : contextPolicies;
  log(`generated ${conversations.length} conversation(s) in ${(performance.now() - started).toFixed(0)} ms; kernels: ${args.kernels}`);
  const outcomes: Outcome[] = [];
  const described: ConversationSummary[] = [];
  for (const conv of conversations) {
    const { tokens, timings } = await evaluate(conv, policies, runtime, outcomes);
    const overlap = (kind: QuestionKind): number => round(mean(conv.questions.filter((q) => q.kind === kind)
      .map((q) => lexicalOverlap(q.query, q.evidence.map((s) => conv.messages[s]!.content)))), 3);
    described.push({
      id: conv.id, seed: conv.seed, style: conv.style, split: conv.split, placement: conv.placement, messages: conv.messages.length,
      sessions: conv.sessions.length, questions: conv.questions.length, tokens,
      lexical_overlap: { direct: overlap("direct"), paraphrased: overlap("paraphrased") }, timings,
    });
  }
  const policyNames = policies.map((p) => p.name);
  const rows = summarise(outcomes, policyNames, FRACTIONS, conversations);
  const margin = margins(outcomes, "epikv", "bm25", FRACTIONS);
  let doCheck: DurableObjectCheck[] | null = null;
  if (args.checkDo) {
    log("cross-checking the epikv policy against the ConversationDO in workerd (wrangler dev server)");
    doCheck = await checkAgainstDurableObject(conversations, FRACTIONS, runtime, log);
  }
  const doMismatches = doCheck ? doCheck.reduce((n, c) => n + c.selections - c.identical, 0) : 0;
  const perConv = perConversation(outcomes, policyNames, FRACTIONS, conversations);
  const overBudget = outcomes.filter((o) => o.used > o.budget);
  const elapsed = (performance.now() - started) / 1000;
  const flags = [args.quick && "--quick", args.split !== "report" && `--split ${args.split}`, args.ablations && "--ablations", args.checkDo && "--check-do", args.kernels !== "wasm" && `--kernels ${args.kernels}`].filter(Boolean);
  const command = `npm run eval:context${flags.length ? ` -- ${flags.join(" ")}` : ""}`;

  if (args.json) {
    process.stdout.write(JSON.stringify({
      command, split: args.split, kernels: args.kernels, fractions: FRACTIONS.map((f) => `1/${f}`), settings: DEFAULT_SETTINGS,
      policies: policies.map((p) => ({ name: p.name, summary: p.summary })),
      conversations: described, rows, margins: margin, per_conversation: perConv, over_budget: overBudget.length,
      durable_object_check: doCheck, elapsed_s: round(elapsed, 1),
    }) + "\n");
  } else {
    const out: string[] = [];
    const splitLine = args.split === "all"
      ? "split: all (both the tune and the report half)"
      : `split: ${args.split} (the ${args.split === "report" ? "half for reporting; parameters are chosen on --split tune" : "half for choosing parameters; report numbers with --split report"}, scripts/eval/suite.ts)`;
    out.push(`Evidence recall (mean over ${conversations.reduce((s, c) => s + c.questions.length, 0)} questions in ${conversations.length} conversation(s)); ${command}, kernels ${args.kernels}`);
    out.push(splitLine, "");
    out.push(...markdownReport(rows, perConv, described, FRACTIONS, margin));
    out.push(`policies: ${policies.map((p) => `${p.name} = ${p.summary}`).join("; ")}`);
    if (doCheck) {
      const total = doCheck.reduce((n, c) => n + c.selections, 0);
      out.push(`durable object cross-check: ${total - doMismatches} of ${total} epikv selections identical to POST /v1/conversations/{id}/context in workerd`);
      for (const c of doCheck) {
        if (c.conversationTokens.eval !== c.conversationTokens.durableObject) out.push(`  ${c.conversation}: conversation_tokens ${c.conversationTokens.eval} here, ${c.conversationTokens.durableObject} in the DO`);
        for (const e of c.examples) out.push(`  ${c.conversation} ${e.question} @${e.budget}: only here ${JSON.stringify(e.onlyEval)}, only in the DO ${JSON.stringify(e.onlyDurableObject)}, used ${e.usedEval} vs ${e.usedDurableObject}`);
      }
    }
    out.push(`over budget: ${overBudget.length} of ${outcomes.length} selections; ${elapsed.toFixed(1)} s`);
    process.stdout.write(out.join("\n") + "\n");
  }
  if (doMismatches) {
    log(`ERROR: ${doMismatches} epikv selections differ from the Durable Object's`);
    process.exitCode = 1;
  }
  if (overBudget.length) {
    log(`ERROR: ${overBudget.length} selections over budget, e.g. ${JSON.stringify({ ...overBudget[0], question: overBudget[0]!.question.id })}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof UsageError ? `eval:context: ${err.message}` : err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
