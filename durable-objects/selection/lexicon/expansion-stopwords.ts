// Words never expanded and never added by query expansion
// (durable-objects/selection/related-terms.ts): function words, question
// words and auxiliaries. Several are also WordNet nouns by accident ("can",
// "will", "may", "who" as an acronym), which would expand into noise.
export const EXPANSION_STOPWORDS: ReadonlySet<string> = new Set(
  (
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
