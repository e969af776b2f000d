// The conversations `npm run eval:context` runs on, and which half of them is
// for choosing parameters ("tune") and which for the published numbers
// ("report"), so a method tuned on the suite is reported on conversations it
// was not tuned on.
//
// Both styles (plain: generate-conversations.ts; dialogue:
// generate-dialogues.ts) in both placements (incidental, topical) at four
// sizes, three replicates each (replicate r of a cell has its replicate-0
// seed + 1000·r): 48 conversations. The split rule is fixed and does not
// look at any result: with the sizes numbered 0–3 in ascending order,
// placement incidental = 0 / topical = 1, style plain = 0 / dialogue = 1 and
// the replicate 0–2, a conversation is for tuning when size + placement +
// style + replicate is even. So each half holds 24 conversations, every
// size and placement of both styles. docs/evaluation.md states the rule.
import type { ConversationStyle, EvalConversation, Split } from "./conversation";
import { generateConversation, type Placement } from "./generate-conversations";
import { generateDialogue } from "./generate-dialogues";

const SIZES = [2_000, 4_000, 7_000, 10_000] as const;
const PLACEMENTS = ["incidental", "topical"] as const;
const STYLES = ["plain", "dialogue"] as const;

/**
 * Seeds of replicate 0: the plain style keeps the seeds it was published
 * with; the dialogue style has its own. Replicates 1 and 2 (added to narrow
 * the margins' intervals) follow by a rule, not by choice.
 */
const REPLICATES = 3;
const REPLICATE_SEED_STEP = 1000;
const SEEDS: Record<ConversationStyle, Record<Placement, readonly number[]>> = {
  plain: { incidental: [11, 23, 37, 41], topical: [12, 24, 38, 42] },
  dialogue: { incidental: [53, 61, 71, 83], topical: [54, 62, 72, 84] },
};

export interface SuiteEntry {
  id: string;
  style: ConversationStyle;
  placement: Placement;
  messages: number;
  seed: number;
  replicate: number;
  split: Split;
}

/** The split of a conversation by the rule above (indices into the size, placement and style lists, and its replicate). */
export function splitOf(sizeIndex: number, placementIndex: number, styleIndex: number, replicate: number): Split {
  return (sizeIndex + placementIndex + styleIndex + replicate) % 2 === 0 ? "tune" : "report";
}

/** What the suite holds, without generating it: `full` all sizes and replicates, `quick` replicate 0's 2,000-message conversations only. */
export function suiteEntries(preset: "full" | "quick"): SuiteEntry[] {
  const sizes = preset === "quick" ? SIZES.slice(0, 1) : SIZES;
  const replicates = Array.from({ length: preset === "quick" ? 1 : REPLICATES }, (_, r) => r);
  return replicates.flatMap((replicate) => STYLES.flatMap((style, styleIndex) => PLACEMENTS.flatMap((placement, placementIndex) => sizes.map((messages, sizeIndex) => {
    const seed = SEEDS[style][placement][sizeIndex]! + REPLICATE_SEED_STEP * replicate;
    const id = `${style === "plain" ? "" : "dialogue-"}${placement}-${messages}-s${seed}`;
    return { id, style, placement, messages, seed, replicate, split: splitOf(sizeIndex, placementIndex, styleIndex, replicate) };
  }))));
}

/**
 * The evaluation's conversations: `full` is the documented run, `quick` a
 * smoke run; `split` keeps one half ("all", the default, keeps both).
 */
export function evaluationSuite(preset: "full" | "quick", split: Split | "all" = "all"): EvalConversation[] {
  return suiteEntries(preset)
    .filter((entry) => split === "all" || entry.split === split)
    .map(({ id, style, placement, messages, seed, split: half }) => style === "plain"
      ? generateConversation({ id, seed, messages, placement, split: half })
      : generateDialogue({ id, seed, messages, placement, split: half }));
}
