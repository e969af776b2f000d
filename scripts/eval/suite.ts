// The conversations `npm run eval:context` runs on, and which half of them is
// for choosing parameters ("tune") and which for the published numbers
// ("report"), so a method tuned on the suite is reported on conversations it
// was not tuned on.
//
// Both styles (plain: generate-conversations.ts; dialogue:
// generate-dialogues.ts) in both placements (incidental, topical) at four
// sizes: 16 conversations. The split rule is fixed and does not look at any
// result: with the sizes numbered 0–3 in ascending order, placement
// incidental = 0 / topical = 1 and style plain = 0 / dialogue = 1, a
// conversation is for tuning when size + placement + style is even. So each
// half holds every size once per style, both placements and both styles,
// 8 conversations. docs/evaluation.md states the rule.
import type { ConversationStyle, EvalConversation, Split } from "./conversation";
import { generateConversation, type Placement } from "./generate-conversations";
import { generateDialogue } from "./generate-dialogues";

const SIZES = [2_000, 4_000, 7_000, 10_000] as const;
const PLACEMENTS = ["incidental", "topical"] as const;
const STYLES = ["plain", "dialogue"] as const;

/** Seeds: the plain style keeps the seeds it was published with; the dialogue style has its own. */
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
  split: Split;
}

/** The split of a conversation by the rule above (indices into the size, placement and style lists). */
export function splitOf(sizeIndex: number, placementIndex: number, styleIndex: number): Split {
  return (sizeIndex + placementIndex + styleIndex) % 2 === 0 ? "tune" : "report";
}

/** What the suite holds, without generating it: `full` all sizes, `quick` the 2,000-message conversations only. */
export function suiteEntries(preset: "full" | "quick"): SuiteEntry[] {
  const sizes = preset === "quick" ? SIZES.slice(0, 1) : SIZES;
  return STYLES.flatMap((style, styleIndex) => PLACEMENTS.flatMap((placement, placementIndex) => sizes.map((messages, sizeIndex) => {
    const seed = SEEDS[style][placement][sizeIndex]!;
    const id = `${style === "plain" ? "" : "dialogue-"}${placement}-${messages}-s${seed}`;
    return { id, style, placement, messages, seed, split: splitOf(sizeIndex, placementIndex, styleIndex) };
  })));
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
