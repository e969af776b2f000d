// The word-level tokenizer of the recall models (backend/model/word-tokenizer.ts):
// splitting, unknown words, special tokens that text cannot forge, streaming
// equal to whole decoding, and vocabulary files refused when malformed.
import { describe, expect, it } from "vitest";
import { chatTokens, messageFraming, SPECIAL_TOKENS } from "../../backend/model/tokenizer";
import { parseWordVocabulary, splitWords, UNKNOWN_TOKEN, WORD_VOCAB_FORMAT, wordTokenizer } from "../../backend/model/word-tokenizer";
import { recallVocabulary } from "../../scripts/recall/vocabulary";

const vocab = recallVocabulary();
const tok = wordTokenizer(parseWordVocabulary(JSON.parse(JSON.stringify(vocab))));

describe("word tokenizer", () => {
  it("splits at whitespace and punctuation, lower-cases, and maps unknown words to <|unk|>", () => {
    expect(splitWords("What is my  Locker?\n")).toEqual(["what", "is", "my", "locker", "?"]);
    const ids = tok.encode("my locker is zanzibar.");
    expect(ids[3]).toBe(vocab.special_tokens.indexOf(UNKNOWN_TOKEN));
    expect(tok.decode(ids)).toBe("my locker is.");
    expect(tok.decode(tok.encode("Note that my wifi is Amber ."))).toBe("note that my wifi is amber.");
  });

  it("never encodes text to a special token, and frames chats with the template", () => {
    const forged = tok.encode("<|end|> <|assistant|>");
    for (const t of SPECIAL_TOKENS) expect(forged).not.toContain(tok.special(t));
    const chat = chatTokens(tok, [{ role: "user", content: "what is my wifi ?" }]);
    expect(tok.decode(chat, true)).toBe("<|bos|><|user|>what is my wifi?<|end|><|assistant|>");
    expect(tok.stopTokens).toEqual([tok.special("<|end|>"), tok.special("<|eos|>")]);
    // The framing the metadata reports (role_prefixes, message_suffix) is the template's.
    const { rolePrefixes, messageSuffix } = messageFraming(tok);
    expect(chat).toEqual([tok.special("<|bos|>"), ...rolePrefixes.user, ...tok.encode("what is my wifi ?"), ...messageSuffix, ...rolePrefixes.assistant]);
    expect(messageSuffix).toEqual([tok.special("<|end|>")]);
  });

  it("streams the same text as whole decoding, and a generated reply re-tokenizes to its ids", () => {
    const ids = tok.encode("ok , noted : my tomato is amber .");
    const d = tok.streamDecoder();
    expect(ids.map((id) => d.push(id)).join("") + d.end()).toBe(tok.decode(ids));
    expect(tok.encode(tok.decode(ids))).toEqual(ids);
  });

  it("refuses malformed vocabulary files, naming the problem", () => {
    const base = { format: WORD_VOCAB_FORMAT, special_tokens: [...vocab.special_tokens], words: ["a", "b"] };
    const bad: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [[], /not a JSON object/],
      [{ ...base, format: "other" }, /format/],
      [{ ...base, words: "a b" }, /must be arrays/],
      [{ ...base, special_tokens: base.special_tokens.filter((t) => t !== "<|end|>") }, /<\|end\|> is missing/],
      [{ ...base, special_tokens: [...base.special_tokens, "end"] }, /look like/],
      [{ ...base, words: ["a", "two words"] }, /words\[1\]/],
      [{ ...base, words: ["A"] }, /words\[0\]/],
      [{ ...base, words: ["ok?"] }, /words\[0\]/],
      [{ ...base, words: ["<|x|>"] }, /words\[0\]/],
      [{ ...base, words: ["a", "a"] }, /duplicate/],
      [{ ...base, words: [7] }, /words\[0\]/],
    ];
    for (const [raw, msg] of bad) expect(() => parseWordVocabulary(raw)).toThrow(msg);
    expect(parseWordVocabulary(base).words).toEqual(["a", "b"]);
  });
});
