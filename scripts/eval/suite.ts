// The conversations `npm run eval:context` runs on, and which half of them is
// for tuning and which for reporting.
import type { ConversationStyle, EvalConversation, Split } from "./conversation";
import { generateConversation, type Placement } from "./generate-conversations";

export function evaluationSuite(preset: "full" | "quick", split: Split | "all" = "all"): EvalConversation[] {
  const sizes = preset === "quick"
    ? [{ messages: 2_000, seed: 11, placement: "incidental" as const }, { messages: 2_000, seed: 12, placement: "topical" as const }]
    : ([["incidental", 0], ["topical", 1]] as const).flatMap(([placement, offset]) => [
      { messages: 2_000, seed: 11 + offset, placement },
      { messages: 4_000, seed: 23 + offset, placement },
      { messages: 7_000, seed: 37 + offset, placement },
      { messages: 10_000, seed: 41 + offset, placement },
    ]);
  return sizes.map(({ messages, seed, placement }) =>
    generateConversation({ id: `${placement}-${messages}-s${seed}`, seed, messages, placement }));
}
