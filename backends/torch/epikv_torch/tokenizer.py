"""Tokenizers behind one interface, chosen by what a model ships:

- "byte": epikv's byte-level vocabulary (backend/model/tokenizer.ts): ids
  0–255 are UTF-8 bytes, then special and role tokens; text never encodes
  to a special token.
- "hf": a Hugging Face tokenizer.json through the `tokenizers` package, when
  that package is importable.

A model directory may ship `epikv-tokenizer.json` ({"type": ..., ...}); its
type picks a kind from TOKENIZER_KINDS, so a new vocabulary kind plugs in by
registering a loader there.

Every tokenizer frames a chat message as role prefix + content + message
suffix (`role_prefixes`, `message_suffix` in the model metadata,
docs/kv-protocol.md "Message framing"), and its chat template is built from
those very arrays (frame_chat), so the token stream the edge builds from the
metadata is the one this backend tokenizes.
"""
import codecs
import json
import os

ROLES = ("system", "user", "assistant", "tool")
SPECIAL_TOKENS = ("<|bos|>", "<|eos|>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|end|>", "<|pad|>")
BYTE_CHAT_TEMPLATE = "<|bos|>{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
EPIKV_TOKENIZER_FILE = "epikv-tokenizer.json"

# Chat formats of tokenizer.json checkpoints, as text: role → what opens a
# message of that role, and what closes every message. ChatML (Qwen2) and
# Llama 3 headers; the role name is written as given, as their templates do.
CHAT_FORMATS = {
    "chatml": (lambda role: f"<|im_start|>{role}\n", "<|im_end|>\n"),
    "llama3": (lambda role: f"<|start_header_id|>{role}<|end_header_id|>\n\n", "<|eot_id|>"),
}


def chat_framing(chat_format: str, encode, roles=ROLES):
    """(role_prefixes, message_suffix) of a chat format, by encoding its template pieces.

    `encode` must turn the pieces' special-token text into those tokens (as
    `tokenizers` does for added tokens even without add_special_tokens).
    """
    opens, close = CHAT_FORMATS[chat_format]
    return {r: list(encode(opens(r))) for r in roles}, list(encode(close))


def frame_chat(messages: list, role_prefixes: dict, message_suffix: list, encode, add_generation_prompt: bool, bos=None) -> list:
    """A chat in the template: [bos], then prefix + content + suffix per message, then the assistant prefix.

    Content is encoded on its own, never merged with the template text
    around it, so every message is exactly prefix + content + suffix.
    """
    out = [] if bos is None else [bos]
    for m in messages:
        out += [*role_prefixes[m["role"]], *encode(m["content"]), *message_suffix]
    if add_generation_prompt:
        out += role_prefixes["assistant"]
    return out


class ByteTokenizer:
    kind = "byte"

    def __init__(self, byte_tokens: int = 256, special_tokens=SPECIAL_TOKENS):
        self.byte_tokens = byte_tokens
        self.specials = list(special_tokens)
        self.special_ids = {t: byte_tokens + i for i, t in enumerate(self.specials)}
        self.vocab_size = byte_tokens + len(self.specials)
        self.bos = self.special_ids["<|bos|>"]
        self.chat_bos = self.bos  # the token a chat opens with (the metadata's bos_token)
        self.end = self.special_ids["<|end|>"]
        self.stop_tokens = [self.end, self.special_ids["<|eos|>"]]
        self.role_tokens = {r: self.special_ids[f"<|{r}|>"] for r in ROLES}
        self.role_prefixes = {r: [t] for r, t in self.role_tokens.items()}
        self.message_suffix = [self.end]
        self.chat_template = BYTE_CHAT_TEMPLATE

    def metadata(self) -> dict:
        return {"type": "byte", "byte_tokens": self.byte_tokens, "special_tokens": dict(self.special_ids)}

    def encode(self, text: str) -> list:
        return list(text.encode("utf-8", errors="surrogatepass"))

    def apply_chat(self, messages: list, add_generation_prompt: bool = True) -> list:
        return frame_chat(messages, self.role_prefixes, self.message_suffix, self.encode, add_generation_prompt, self.bos)

    def decode(self, ids, keep_special: bool = False) -> str:
        text, pending = [], bytearray()
        for i in ids:
            if i < self.byte_tokens:
                pending.append(i)
                continue
            text.append(pending.decode("utf-8", errors="replace"))
            pending.clear()
            if keep_special:
                text.append(self.specials[i - self.byte_tokens] if i - self.byte_tokens < len(self.specials) else "")
        text.append(pending.decode("utf-8", errors="replace"))
        return "".join(text)

    def stream_decoder(self):
        return _ByteStream(self.byte_tokens)


class _ByteStream:
    """Incremental detokenizer: holds back the bytes of an incomplete UTF-8 sequence."""

    def __init__(self, byte_tokens: int):
        self.byte_tokens = byte_tokens
        self.dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, i: int) -> str:
        return self.dec.decode(bytes([i])) if i < self.byte_tokens else ""

    def end(self) -> str:
        return self.dec.decode(b"", final=True)


class HfTokenizer:
    """tokenizer.json via the `tokenizers` package. Chat formats: ChatML (Qwen2) and Llama 3 headers."""

    kind = "hf"

    def __init__(self, path: str, bos: int | None, eos: list):
        from tokenizers import Tokenizer  # optional dependency; the caller checked it imports

        self.tok = Tokenizer.from_file(path)
        self.vocab_size = self.tok.get_vocab_size(with_added_tokens=True)
        ids = lambda t: self.tok.token_to_id(t)
        self.chatml = ids("<|im_start|>") is not None
        self.llama3 = ids("<|start_header_id|>") is not None
        end = ids("<|im_end|>") if self.chatml else ids("<|eot_id|>") if self.llama3 else None
        self.end = end if end is not None else (eos[0] if eos else 0)
        self.bos = bos if bos is not None else self.end
        self.stop_tokens = list(dict.fromkeys([self.end, *eos]))
        # These formats open a role with several tokens, so there are no single role tokens
        # (role_tokens is for edges that predate role_prefixes); a checkpoint without a known
        # format has no framing, and kv mode refuses its turns.
        self.role_tokens = {}
        self.chat_template = "chatml" if self.chatml else "llama3" if self.llama3 else "none"
        # Llama 3 opens a chat with <|begin_of_text|> (bos); ChatML opens with nothing (bos_token null).
        self.chat_bos = self.bos if self.chat_template == "llama3" else None
        # `tokenizers` matches added tokens in any text, so encoding the template pieces gives their special tokens
        # (and content that spells one gets it too, as the whole-string template always did).
        self.role_prefixes, self.message_suffix = chat_framing(self.chat_template, self.encode) if self.chat_template in CHAT_FORMATS else ({}, [])

    def metadata(self) -> dict:
        return {"type": "hf", "chat_format": self.chat_template}

    def encode(self, text: str) -> list:
        return self.tok.encode(text, add_special_tokens=False).ids

    def apply_chat(self, messages: list, add_generation_prompt: bool = True) -> list:
        if not self.role_prefixes:
            raise ValueError("this tokenizer has no known chat format (ChatML or Llama 3)")
        return frame_chat(messages, self.role_prefixes, self.message_suffix, self.encode, add_generation_prompt, self.chat_bos)

    def decode(self, ids, keep_special: bool = False) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=not keep_special)

    def stream_decoder(self):
        return _HfStream(self)


class _HfStream:
    """Decodes the growing sequence and emits what became final (no trailing U+FFFD)."""

    def __init__(self, t: HfTokenizer):
        self.t, self.ids, self.sent = t, [], 0

    def push(self, i: int) -> str:
        self.ids.append(i)
        text = self.t.decode(self.ids)
        if text.endswith("\ufffd"):
            return ""
        out, self.sent = text[self.sent :], len(text)
        return out

    def end(self) -> str:
        text = self.t.decode(self.ids)
        out, self.sent = text[self.sent :], len(text)
        return out


def _byte_from_spec(spec: dict, _dir: str) -> ByteTokenizer:
    return ByteTokenizer(spec.get("byte_tokens", 256), spec.get("special_tokens", SPECIAL_TOKENS))


# Vocabulary kinds a model's epikv-tokenizer.json may name: type → loader(spec, model_dir).
TOKENIZER_KINDS = {"byte": _byte_from_spec}


def tokenizers_available() -> bool:
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return True


def load_tokenizer(model_dir: str | None, spec: dict | None, bos: int | None = None, eos=()):
    """The tokenizer for a model: its epikv spec (file metadata or epikv-tokenizer.json), else tokenizer.json."""
    if spec is None and model_dir and os.path.exists(os.path.join(model_dir, EPIKV_TOKENIZER_FILE)):
        with open(os.path.join(model_dir, EPIKV_TOKENIZER_FILE), encoding="utf-8") as f:
            spec = json.load(f)
    if spec is not None:
        loader = TOKENIZER_KINDS.get(spec.get("type"))
        if loader is None:
            raise ValueError(f'unknown tokenizer type "{spec.get("type")}" (known: {", ".join(TOKENIZER_KINDS)})')
        return loader(spec, model_dir)
    hf = os.path.join(model_dir or "", "tokenizer.json")
    if model_dir and os.path.exists(hf):
        if not tokenizers_available():
            raise ValueError(f"{hf} needs the `tokenizers` package, which is not importable; install it or ship {EPIKV_TOKENIZER_FILE}")
        return HfTokenizer(hf, bos, list(eos))
    return ByteTokenizer()
