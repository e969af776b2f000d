// Word-level tokenizer of the recall models (docs/recall-model.md): a fixed
// vocabulary shipped beside the weights as `<model>.tokenizer.json`.
// Text is lower-cased and split into words at whitespace, with the
// punctuation marks `? . , ! : ; "` as words of their own; a word outside the
// vocabulary becomes `<|unk|>`. Decoding joins words with one space and
// attaches punctuation to the word before it, so decode(encode(t)) is t
// normalised (lower case, single spaces), and the reply a model generates
// re-tokenizes to the same ids (kv mode relies on that, docs/kv-mode.md).
import { SPECIAL_TOKENS, type SpecialToken, type Tokenizer } from "./tokenizer";

export const WORD_VOCAB_FORMAT = "epikv-word/1";
export const UNKNOWN_TOKEN = "<|unk|>";
const PUNCTUATION = "?.,!:;\"";

/** The file's shape: ids are indices into special_tokens, then words. */
export interface WordVocabulary {
  format: typeof WORD_VOCAB_FORMAT;
  special_tokens: string[];
  words: string[];
}

/** Splits text into vocabulary words (before lookup). */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const chunk of text.toLowerCase().split(/\s+/)) {
    let word = "";
    for (const ch of chunk) {
      if (PUNCTUATION.includes(ch)) {
        if (word) out.push(word);
        out.push(ch);
        word = "";
      } else word += ch;
    }
    if (word) out.push(word);
  }
  return out;
}

function isValidWord(w: unknown): w is string {
  return typeof w === "string" && w.length > 0 && w.length <= 64 && w === w.toLowerCase() && !/\s/.test(w) && (w.length === 1 || ![...w].some((c) => PUNCTUATION.includes(c))) && !w.startsWith("<|");
}

/** Checks a parsed vocabulary file; throws naming the first problem. */
export function parseWordVocabulary(raw: unknown): WordVocabulary {
  const o = raw as Partial<WordVocabulary> | null;
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new TypeError("word vocabulary: not a JSON object");
  if (o.format !== WORD_VOCAB_FORMAT) throw new TypeError(`word vocabulary: format must be "${WORD_VOCAB_FORMAT}"`);
  if (!Array.isArray(o.special_tokens) || !Array.isArray(o.words)) throw new TypeError("word vocabulary: special_tokens and words must be arrays");
  for (const t of [...SPECIAL_TOKENS, UNKNOWN_TOKEN]) if (!o.special_tokens.includes(t)) throw new TypeError(`word vocabulary: special token ${t} is missing`);
  if (o.special_tokens.some((t) => typeof t !== "string" || !/^<\|[a-z]+\|>$/.test(t))) throw new TypeError("word vocabulary: special tokens look like <|name|>");
  const bad = o.words.findIndex((w) => !isValidWord(w));
  if (bad >= 0) throw new TypeError(`word vocabulary: words[${bad}] (${JSON.stringify(o.words[bad])}) is not a lower-case word without spaces`);
  const all = [...o.special_tokens, ...o.words];
  if (new Set(all).size !== all.length) throw new TypeError("word vocabulary: duplicate entries");
  return { format: WORD_VOCAB_FORMAT, special_tokens: [...o.special_tokens], words: [...o.words] };
}

export function wordTokenizer(vocab: WordVocabulary): Tokenizer {
  const names = [...vocab.special_tokens, ...vocab.words];
  const ids = new Map(names.map((n, i) => [n, i]));
  const specials = vocab.special_tokens.length;
  const wordIds = new Map(vocab.words.map((w, i) => [w, specials + i]));
  const unk = ids.get(UNKNOWN_TOKEN)!;
  const special = (t: SpecialToken) => ids.get(t)!;
  const stopTokens = [special("<|end|>"), special("<|eos|>")];
  const piece = (id: number, first: boolean, keepSpecial: boolean): string => {
    if (id < specials) return keepSpecial ? (names[id] ?? "") : "";
    const w = names[id];
    if (w === undefined) return "";
    return first || PUNCTUATION.includes(w) ? w : ` ${w}`;
  };
  return {
    vocabSize: names.length,
    special,
    stopTokens,
    // Only words are looked up: "<|end|>" in text is an unknown word, never the special token.
    encode: (text) => splitWords(text).map((w) => wordIds.get(w) ?? unk),
    decode(list, keepSpecial = false) {
      let text = "";
      for (const id of list) text += piece(id, text === "" || (keepSpecial && id < specials) || text.endsWith("|>"), keepSpecial);
      return text;
    },
    streamDecoder() {
      let started = false;
      return {
        push(id) {
          const p = piece(id, !started, false);
          if (p) started = true;
          return p;
        },
        end: () => "",
      };
    },
    tokenPiece: (id) => {
      const text = names[id] ?? "";
      return { text, bytes: Array.from(new TextEncoder().encode(text)) };
    },
    describe: () => ({ type: "word", format: WORD_VOCAB_FORMAT, unknown_token: unk, special_tokens: Object.fromEntries(vocab.special_tokens.map((t, i) => [t, i])), words: vocab.words.length }),
  };
}
