"""Synthetic multi-session chats for training the recall model (docs/recall-model.md).

The same design as scripts/recall/conversation.ts: topics as sessions of
small talk, facts "my E is V" stated and later updated, questions many
sessions later. Entity -> value bindings are drawn fresh per sample, so the
only way to answer is to copy the value from the context. Questions end in
"my E is" (then <|end|> <|assistant|>), so the answer is the token after a
two-token lookup. Words come from recall-words.json (written from
scripts/recall/vocabulary.ts; a Node test keeps the two equal).
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


class Vocab:
    def __init__(self, path=os.path.join(HERE, "recall-words.json")):
        with open(path) as f:
            data = json.load(f)
        self.topics = data["topics"]
        self.values = data["values"]
        v = data["vocabulary"]
        self.names = v["special_tokens"] + v["words"]
        self.ids = {w: i for i, w in enumerate(self.names)}
        self.size = len(self.names)

    def encode(self, text):
        return [self.ids.get(w, self.ids["<|unk|>"]) for w in text.split()]

    def special(self, name):
        return self.ids[name]


def _message(vocab, role, text):
    return [vocab.special("<|%s|>" % role)] + vocab.encode(text) + [vocab.special("<|end|>")]


def sample(vocab, rng, max_tokens, dense):
    """One chat of about max_tokens tokens: (tokens, answer positions, answer ids).

    dense: many facts and questions, no small talk (the curriculum's first stages).
    """
    topics = vocab.topics
    tokens = [vocab.special("<|bos|>")]
    answers = []
    latest = {}
    n_topics = rng.randint(1, len(topics))
    order = rng.sample(range(len(topics)), n_topics)
    visit = 0

    def ask(entity):
        topic = topics[latest[entity][1]]["name"]
        tokens.extend(_message(vocab, "user", "about the %s , so my %s is" % (topic, entity)))
        tokens.append(vocab.special("<|assistant|>"))
        answers.append((len(tokens), vocab.ids[latest[entity][0]]))
        tokens.extend(vocab.encode(latest[entity][0]) + [vocab.special("<|end|>")])

    while len(tokens) < max_tokens - 24:
        t = order[visit % len(order)]
        topic = topics[t]
        visit += 1
        if not dense:
            tokens.extend(_message(vocab, "user", "let us talk about the %s today ." % topic["name"]))
        for _ in range(rng.randint(2, 5)):
            if len(tokens) >= max_tokens - 24:
                break
            roll = rng.random()
            if latest and roll < (0.45 if dense else 0.2):
                ask(rng.choice(list(latest)))
            elif dense or roll < 0.55:
                entity = rng.choice(topic["entities"])
                value = rng.choice(vocab.values)
                update = entity in latest
                latest[entity] = (value, t)
                text = ("actually , my %s is %s now ." if update else "note that my %s is %s .") % (entity, value)
                tokens.extend(_message(vocab, "user", text))
            else:
                words = topic["chatter"] + topic["entities"]
                text = "the %s was nice today , and the %s too ." % (rng.choice(words), rng.choice(words))
                tokens.extend(_message(vocab, "assistant" if rng.random() < 0.5 else "user", text))
    if latest:
        ask(rng.choice(list(latest)))
    return tokens[:max_tokens], [(p, a) for p, a in answers if p < max_tokens]


def batch(vocab, rng, size, max_tokens, dense):
    """Padded batch: tokens [B, T], answer mask and targets at the position before each answer."""
    import torch

    samples = [sample(vocab, rng, max_tokens, dense) for _ in range(size)]
    T = max(len(s[0]) for s in samples)
    pad = vocab.special("<|pad|>")
    x = torch.full((size, T), pad, dtype=torch.long)
    target = torch.full((size, T), -100, dtype=torch.long)
    for b, (tokens, answers) in enumerate(samples):
        x[b, : len(tokens)] = torch.tensor(tokens)
        for pos, ans in answers:
            target[b, pos - 1] = ans  # the logits at <|assistant|> predict the value
    return x, target


def fixed_rng(seed):
    return random.Random(seed)
