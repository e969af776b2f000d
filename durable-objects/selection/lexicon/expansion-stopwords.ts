// Words never expanded and never added by query expansion
// (durable-objects/selection/related-terms.ts): function words, question
// words and auxiliaries. Several are also WordNet nouns by accident ("can",
// "will", "may", "who" as an acronym), which would expand into noise. The
// short ones matter as stems: Porter reduces "offing" to "of", "inning" to
// "in", "ore" to "or" and "ate" to "at", so without them every "of" in a
// question looked for "future" and every "at" for "eat".
import { porterStem } from "../porter-stemmer";

export const EXPANSION_STOPWORDS: ReadonlySet<string> = new Set(
  (
    "a am an as at be by do he i if in is it me my no of on or so to up us we " +
    "about above across after again against all almost along also although always among and another any anybody anyone anything " +
    "are around because been before being below beside besides between both but can cannot could did does doing done down during each " +
    "either else enough even ever every everybody everyone everything few for from had has have having her here hers herself him himself " +
    "his how however into its itself just least less like many may maybe might mine more most much must myself near neither never next " +
    "nobody none nor not nothing now off often once one only onto other others ought our ours ourselves out over own per perhaps please " +
    "quite rather really same several shall she should since some somebody someone something sometimes still such than that the their " +
    "theirs them themselves then there these they thing things this those though through thus till too toward towards under unless " +
    "until upon very was were what whatever when whenever where wherever whether which while who whoever whom whose why will with " +
    "within without would yes yet you your yours yourself yourselves"
  ).split(" "),
);

let stopStems: ReadonlySet<string> | null = null;

/** The list as Porter stems, what index terms are compared with ("wills" is no more a key than "will"). */
export function expansionStopStems(): ReadonlySet<string> {
  return (stopStems ??= new Set([...EXPANSION_STOPWORDS].map(porterStem)));
}
