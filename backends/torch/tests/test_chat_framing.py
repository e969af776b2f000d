"""Message framing of the torch backend's tokenizers (epikv_torch/tokenizer.py).

The `tokenizers` package is not installed where these run, so a fake one
stands in: it matches added tokens anywhere in the text (as `tokenizers`
does) and splits the rest into runs of newlines and runs of other
characters, one token per run, which is how ChatML's and Llama 3's
pre-tokenizers cut the template text around ordinary content. Checked: the
role prefixes and message suffix computed from the template pieces, that
apply_chat is prefix + content + suffix for every message, and that for
ordinary content it equals encoding the whole template string (the chat
format as its model was trained on).

Run: cd backends/torch && /usr/bin/python3 -m unittest discover -s tests
(test/node/torch-chat-framing.test.ts runs it under `npm test`).
"""
import re
import sys
import types
import unittest

from epikv_torch.tokenizer import ROLES, ByteTokenizer, HfTokenizer, chat_framing, frame_chat

CHATML_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


class FakeTokenizer:
    """Added tokens first (ids 0…), then one id per distinct run of text, assigned as first seen."""

    def __init__(self, specials):
        self.vocab = {t: i for i, t in enumerate(specials)}
        self.specials = re.compile("|".join(re.escape(t) for t in specials))

    def _id(self, piece):
        return self.vocab.setdefault(piece, len(self.vocab))

    def encode(self, text, add_special_tokens=True):
        ids, at = [], 0
        for m in [*self.specials.finditer(text), None]:
            plain = text[at : m.start() if m else len(text)]
            ids += [self._id(run) for run in re.findall(r"\n+|[^\n]+", plain)]
            if m:
                ids.append(self.vocab[m.group()])
                at = m.end()
        return types.SimpleNamespace(ids=ids)

    def token_to_id(self, t):
        return self.vocab.get(t) if self.specials.fullmatch(t) else None

    def get_vocab_size(self, with_added_tokens=True):
        return len(self.vocab)

    def decode(self, ids, skip_special_tokens=True):
        names = {i: t for t, i in self.vocab.items()}
        return "".join(names[i] for i in ids)


def hf_tokenizer(specials, bos=None, eos=()):
    """An HfTokenizer over FakeTokenizer, through a stand-in `tokenizers` module."""
    fake = FakeTokenizer(specials)
    module = types.ModuleType("tokenizers")
    module.Tokenizer = types.SimpleNamespace(from_file=lambda _path: fake)
    saved = sys.modules.get("tokenizers")
    sys.modules["tokenizers"] = module
    try:
        return HfTokenizer("unused/tokenizer.json", bos, list(eos)), fake
    finally:
        if saved is None:
            del sys.modules["tokenizers"]
        else:
            sys.modules["tokenizers"] = saved


MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "When do I water the tomatoes?"},
    {"role": "assistant", "content": "Every morning."},
    {"role": "user", "content": "And the basil?"},
]
# Content that touches the template's whitespace: encoded on its own it still frames exactly.
EDGY = [{"role": "user", "content": "\nstarts with a newline\n"}, {"role": "assistant", "content": ""}]


class ChatFramingTest(unittest.TestCase):
    def test_chatml_prefixes_and_suffix_from_the_template_pieces(self):
        fake = FakeTokenizer(CHATML_SPECIALS)
        enc = lambda s: fake.encode(s, add_special_tokens=False).ids
        prefixes, suffix = chat_framing("chatml", enc)
        start, end, nl = fake.vocab["<|im_start|>"], fake.vocab["<|im_end|>"], fake.vocab["\n"]
        self.assertEqual(set(prefixes), set(ROLES))
        self.assertEqual(prefixes["user"], [start, fake.vocab["user"], nl])
        self.assertEqual(prefixes["assistant"], [start, fake.vocab["assistant"], nl])
        self.assertEqual(suffix, [end, nl])

    def test_llama3_prefixes_and_suffix_from_the_template_pieces(self):
        fake = FakeTokenizer(LLAMA3_SPECIALS)
        enc = lambda s: fake.encode(s, add_special_tokens=False).ids
        prefixes, suffix = chat_framing("llama3", enc)
        v = fake.vocab
        self.assertEqual(prefixes["user"], [v["<|start_header_id|>"], v["user"], v["<|end_header_id|>"], v["\n\n"]])
        self.assertEqual(suffix, [v["<|eot_id|>"]])

    def test_chatml_checkpoint_frames_every_message_and_matches_the_whole_template(self):
        t, fake = hf_tokenizer(CHATML_SPECIALS, bos=0, eos=[0])
        end = fake.vocab["<|im_end|>"]
        self.assertEqual(t.chat_template, "chatml")
        self.assertEqual(t.role_tokens, {})
        self.assertEqual(t.message_suffix, [end, fake.vocab["\n"]])
        self.assertEqual(t.stop_tokens[0], t.message_suffix[0], "a reply's stop token is where the suffix starts")
        self.assertEqual(len(t.role_prefixes["user"]), 3)
        whole = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in MESSAGES) + "<|im_start|>assistant\n"
        self.assertEqual(t.apply_chat(MESSAGES, True), fake.encode(whole, add_special_tokens=False).ids)
        self.assert_framed(t, MESSAGES + EDGY, bos=None)
        self.assertIsNone(t.chat_bos, "ChatML opens with no bos: the metadata's bos_token is null")

    def test_llama3_checkpoint_frames_every_message_after_bos_and_matches_the_whole_template(self):
        t, fake = hf_tokenizer(LLAMA3_SPECIALS, bos=0, eos=[1, 4])
        v = fake.vocab
        self.assertEqual(t.chat_template, "llama3")
        self.assertEqual(t.message_suffix, [v["<|eot_id|>"]])
        self.assertEqual(t.stop_tokens[:2], [v["<|eot_id|>"], v["<|end_of_text|>"]])
        whole = "".join(f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content']}<|eot_id|>" for m in MESSAGES)
        whole += "<|start_header_id|>assistant<|end_header_id|>\n\n"
        self.assertEqual(t.apply_chat(MESSAGES, True), [0] + fake.encode(whole, add_special_tokens=False).ids)
        self.assert_framed(t, MESSAGES + EDGY, bos=0)
        self.assertEqual(t.chat_bos, 0)

    def test_a_vocabulary_without_a_chat_format_has_no_framing(self):
        t, _ = hf_tokenizer(["<s>", "</s>"], bos=0, eos=[1])
        self.assertEqual((t.chat_template, t.role_prefixes, t.message_suffix), ("none", {}, []))
        with self.assertRaises(ValueError):
            t.apply_chat(MESSAGES)

    def test_byte_vocabulary_frames_with_its_single_role_tokens(self):
        t = ByteTokenizer()
        self.assertEqual(t.role_prefixes, {r: [t.role_tokens[r]] for r in ROLES})
        self.assertEqual(t.message_suffix, [t.end])
        self.assertEqual(t.apply_chat([{"role": "user", "content": "hi"}]), [t.bos, t.role_tokens["user"], 104, 105, t.end, t.role_tokens["assistant"]])
        self.assert_framed(t, MESSAGES + EDGY, bos=t.bos)

    def assert_framed(self, t, messages, bos):
        """apply_chat is [bos] + (prefix + content + suffix) per message [+ assistant prefix], with or without the prompt."""
        body = [x for m in messages for x in (*t.role_prefixes[m["role"]], *t.encode(m["content"]), *t.message_suffix)]
        head = [] if bos is None else [bos]
        self.assertEqual(t.apply_chat(messages, False), head + body)
        self.assertEqual(t.apply_chat(messages, True), head + body + t.role_prefixes["assistant"])
        self.assertEqual(frame_chat(messages, t.role_prefixes, t.message_suffix, t.encode, True, bos), t.apply_chat(messages, True))


if __name__ == "__main__":
    unittest.main()
