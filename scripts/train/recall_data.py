"""Synthetic multi-session chats for training the recall model (docs/recall-model.md).

The same design and message forms as scripts/recall/conversation.ts (the
bench's chats): topics as sessions of small talk, facts "my E is V" stated
("remember / note that my E is V .") and later updated ("actually , my E is
V2 now ."), the assistant's echo ("ok , noted : my E is V ."), questions
many sessions later in both forms the backend answers ("… so my E is",
"… what is my E ?"). Entity -> value bindings are drawn fresh per sample,
so the only way to answer is to copy the value from the context. Words come
from recall-words.json (written from scripts/recall/vocabulary.ts; a Node
test keeps the two equal).

Targets (the only positions with a loss) are the tokens a reader of the
chat can know: a question's answer (the entity's latest value), and a
value that repeats one already in the chat — the echo's value, and a
restatement "again , my E is V ." of the latest value. A freshly stated
value is unpredictable and never a target.
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))

QUESTION, REPEAT = 0, 1  # target kinds: a question's answer; a repeated value (echo, restatement)
ADJECTIVES = ["nice", "good", "great"]


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


def _chatter(rng, topic):
    """Small talk as scripts/recall/conversation.ts writes it (entities mentioned, no values)."""
    c = topic["chatter"] + topic["entities"]
    p = lambda: rng.choice(c)  # noqa: E731
    form = rng.randrange(4)
    if form == 0:
        return "the %s was %s today , and the %s too ." % (p(), rng.choice(ADJECTIVES), p())
    if form == 1:
        return "we will talk more about the %s and the %s ." % (p(), p())
    if form == 2:
        return "i keep the %s in mind ; the %s is %s ." % (p(), p(), rng.choice(ADJECTIVES))
    return "so , what about the %s ? tell me more on the %s ." % (p(), p())


def spec(tokens, chatter=True, updates=True, ask=0.15, echo=0.5, restate=0.0, ack=True):
    """A curriculum stage's chats: at most `tokens` tokens; small talk or not (dense);
    facts updated or stated once; per turn, the probability of a question and of a
    restatement; whether the assistant acknowledges a fact (ack) and the probability
    that the acknowledgement echoes the value."""
    return dict(tokens=tokens, chatter=chatter, updates=updates, ask=ask, echo=echo, restate=restate, ack=ack)


def sample(vocab, rng, s):
    """One chat of at most s["tokens"] tokens: (tokens, [(answer position, answer id, kind)])."""
    max_tokens = s["tokens"]
    topics = vocab.topics
    tokens = [vocab.special("<|bos|>")]
    answers = []
    latest = {}  # entity -> (value, topic index)

    def say(role, text, target=None):
        tokens.extend(_message(vocab, role, text))
        if target is not None:  # the value is the message's last word before " ."
            answers.append((len(tokens) - 3, vocab.ids[target], REPEAT))

    def ask(entity):
        value, t = latest[entity]
        if rng.random() < 0.5:
            text = "about the %s , so my %s is" % (topics[t]["name"], entity)
        else:
            text = "about the %s : what is my %s ?" % (topics[t]["name"], entity)
        tokens.extend(_message(vocab, "user", text))
        tokens.append(vocab.special("<|assistant|>"))
        answers.append((len(tokens), vocab.ids[value], QUESTION))
        tokens.extend(vocab.encode(value) + [vocab.special("<|end|>")])

    order = rng.sample(range(len(topics)), rng.randint(1, len(topics)))
    visit = 0
    finals = rng.randint(1, 3) if max_tokens >= 256 else 1  # questions that close the chat, as the bench asks after the whole history
    budget = max_tokens - 16 * finals  # a question and its answer take at most 15 tokens
    while len(tokens) < budget - 16:
        t = order[visit % len(order)]
        topic = topics[t]
        visit += 1
        if s["chatter"]:
            if len(tokens) > budget - 48:  # room for the session's opening and one more turn
                break
            say("user", "let us talk about the %s today ." % topic["name"])
            say("assistant", "sure , the %s . %s" % (topic["name"], _chatter(rng, topic)))
        for _ in range(rng.randint(3, 8)):
            if len(tokens) >= budget - 16:  # a fact and its echo take at most 16 tokens
                break
            roll = rng.random()
            fresh = [e for e in topic["entities"] if e not in latest]
            stated = [e for e in topic["entities"] if e in latest]
            can_state = bool(fresh) or (s["updates"] and stated)
            if latest and roll < s["ask"]:
                ask(rng.choice(list(latest)))
            elif latest and roll < s["ask"] + s["restate"]:
                e = rng.choice(list(latest))
                say("user", "again , my %s is %s ." % (e, latest[e][0]), target=latest[e][0])
            elif s["chatter"] and (roll < 0.6 or not can_state):
                say("assistant" if rng.random() < 0.5 else "user", _chatter(rng, topic))
            elif can_state:
                update = s["updates"] and bool(stated) and (not fresh or rng.random() < 0.3)
                entity = rng.choice(stated if update else fresh)
                value = rng.choice(vocab.values)
                while entity in latest and value == latest[entity][0]:
                    value = rng.choice(vocab.values)
                latest[entity] = (value, t)
                if update:
                    say("user", "actually , my %s is %s now ." % (entity, value))
                else:
                    say("user", "%s that my %s is %s ." % (rng.choice(["remember", "note"]), entity, value))
                if not s["ack"]:
                    pass
                elif rng.random() < s["echo"]:
                    say("assistant", "ok , noted : my %s is %s ." % (entity, value), target=value)
                else:
                    say("assistant", "ok , noted .")
            elif latest:
                ask(rng.choice(list(latest)))
            else:
                break
    for _ in range(finals):
        if latest:
            ask(rng.choice(list(latest)))
    return tokens[:max_tokens], [a for a in answers if a[0] < max_tokens]


def batch(vocab, rng, size, s):
    """Padded batch: tokens [B, T]; targets at the position before each answer (-100 elsewhere); kinds (-1 where no target)."""
    import torch

    samples = [sample(vocab, rng, s) for _ in range(size)]
    T = max(len(x[0]) for x in samples)
    pad = vocab.special("<|pad|>")
    x = torch.full((size, T), pad, dtype=torch.long)
    target = torch.full((size, T), -100, dtype=torch.long)
    kind = torch.full((size, T), -1, dtype=torch.long)
    for b, (tokens, answers) in enumerate(samples):
        x[b, : len(tokens)] = torch.tensor(tokens)
        for pos, ans, k in answers:
            target[b, pos - 1] = ans  # the logits one position earlier predict the value
            kind[b, pos - 1] = k
    return x, target, kind


def fixed_rng(seed):
    return random.Random(seed)
