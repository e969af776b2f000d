// Top terms of each episode, for display (GET …/episodes).
//
// Terms come from each episode's representative segments: lower-cased words
// of 3+ letters, minus stop words and the "{speaker} said" framing of
// segment text. A term scores tf · ln(1 + E / episodes containing it), so
// words every episode uses sink and distinctive ones rise. Ties sort
// alphabetically, so the result is deterministic.

const STOP_WORDS = new Set(
  ("the and for are but not you your with this that have from they their them was were will would could should " +
    "what when where which who whom why how all any can had has her his its our out one two about into over than then " +
    "there these those also just more most some such very said user assistant tool system been being does did doing " +
    "here only own same too yes okay sure like get got let well really much many make made know think").split(" "),
);

export function termsOf(text: string): string[] {
  return (text.toLowerCase().match(/\p{L}[\p{L}\p{N}'_-]{2,}/gu) ?? []).filter((t) => !STOP_WORDS.has(t));
}

/** `texts[e]` are episode e's texts; returns up to `count` terms per episode. */
export function topTerms(texts: readonly (readonly string[])[], count = 8): string[][] {
  const counts = texts.map((list) => {
    const tf = new Map<string, number>();
    for (const text of list) for (const t of termsOf(text)) tf.set(t, (tf.get(t) ?? 0) + 1);
    return tf;
  });
  const episodesWith = new Map<string, number>();
  for (const tf of counts) for (const t of tf.keys()) episodesWith.set(t, (episodesWith.get(t) ?? 0) + 1);
  const E = texts.length;
  return counts.map((tf) =>
    [...tf.entries()]
      .map(([term, n]) => ({ term, score: n * Math.log(1 + E / episodesWith.get(term)!) }))
      .sort((a, b) => b.score - a.score || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0))
      .slice(0, count)
      .map((x) => x.term),
  );
}
