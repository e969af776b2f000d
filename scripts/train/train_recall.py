"""Trains the recall model (docs/recall-model.md, "The trained model").

  /usr/bin/python3 scripts/train/train_recall.py [--minutes M] [--tiny] [--threads N] [--device cpu|cuda]

Resumes from scripts/train/checkpoints/<name>.pt when present (model, Adam
moments in bfloat16, step, curriculum stage, wall time), checkpoints every
--checkpoint-minutes, and on exit writes the exported weights
(<name>.safetensors, the layout backend/model/weights.ts loads) and the
model card's measurements (<name>.card.json). Training only: nothing at run
time or in CI runs Python.

Curriculum (STAGES): stage k trains on chats drawn by STAGES[k]; the first
stages are short and dense (facts and questions, no small talk), the first
of all without updates, so the lookup is found before "the latest
statement wins" and before length. The stage advances when held-out
accuracy (questions only) at its chats reaches --advance-at.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

from recall_data import QUESTION, Vocab, batch, fixed_rng, spec
from recall_export import export_safetensors
from recall_model import RecallModel

HERE = os.path.dirname(os.path.abspath(__file__))
STAGES = [
    spec(96, chatter=False, updates=False, ask=0.35, restate=0.25, ack=False),
    spec(128, chatter=False, ask=0.3, restate=0.2),
    spec(256),
    spec(512),
    spec(1024),
    spec(2048),
]
CARD_LENGTHS = (128, 512, 1024, 2048)


def config(vocab, tiny):
    if tiny:
        return dict(name="epikv-recall-tiny-trained", layers=2, dModel=32, heads=2, kvHeads=1, headDim=16, ffnDim=64, vocabSize=vocab.size, ropeTheta=10000.0, rmsEps=1e-5, maxPositions=16384)
    # ropeTheta 1e8: with head dim 16, pairs 4-7 turn by < 0.2 rad over 2,048 tokens (content lookup at any
    # distance) and pairs 0-2 resolve offsets 1-3 (docs/recall-model.md, "RoPE as a design tool")
    return dict(name="epikv-recall-trained", layers=2, dModel=64, heads=4, kvHeads=2, headDim=16, ffnDim=128, vocabSize=vocab.size, ropeTheta=1e8, rmsEps=1e-5, maxPositions=16384)


def evaluate(model, vocab, s, samples=64, seed=12345):
    """Exact-match accuracy of the questions' answers in held-out chats (fixed seed, never trained on)."""
    rng = fixed_rng(seed + s["tokens"])
    right = total = 0
    per = 16 if s["tokens"] <= 512 else 4
    model.eval()
    with torch.no_grad():
        for _ in range(samples // per):
            x, target, kind = batch(vocab, rng, per, s)
            pred = model(x.to(next(model.parameters()).device)).argmax(-1).cpu()
            m = kind == QUESTION
            right += int((pred[m] == target[m]).sum())
            total += int(m.sum())
    model.train()
    return right / max(total, 1), total


def offset_init(model, cfg, shared, offsets, gain=0.8, pairs=8):
    """Initialisation, before any training: every token's embedding gets a shared component
    (scale `shared`, in units of the embedding's own RMS), so that attention by relative
    position alone is reachable (RMSNorm and the projections have no bias); and with
    `offsets`, layer 0's KV group g starts as a head attending `offsets[g]` tokens back,
    by the RoPE phase construction of docs/recall-model.md ("Layer 0: previous-token
    heads"): q = g(cos a theta_i, -sin a theta_i), k = (g, 0) on pairs i < `pairs`, read
    from the shared component, so the score is proportional to sum_i cos(theta_i (delta - a)).
    The rest of every matrix keeps PyTorch's initialisation; all of it is trained."""
    D, H, Hk, hd = cfg["dModel"], cfg["heads"], cfg["kvHeads"], cfg["headDim"]
    gen = torch.Generator().manual_seed(1)
    u = torch.randn(D, generator=gen)
    u = u / u.norm()
    with torch.no_grad():
        model.embed_tokens.weight.add_(max(shared, 1.0 if offsets else 0.0) * D ** 0.5 * u)
        if not offsets:
            return
        L = model.layers[0]
        theta = cfg["ropeTheta"] ** (-2.0 * torch.arange(hd // 2, dtype=torch.float64) / hd)
        for g, a in enumerate(offsets[:Hk]):
            for i in range(pairs):
                L.k_proj.weight[g * hd + i] = gain * u
                L.k_proj.weight[g * hd + i + hd // 2] = 0.0
            for h in range(g * (H // Hk), (g + 1) * (H // Hk)):
                for i in range(pairs):
                    L.q_proj.weight[h * hd + i] = gain * float(torch.cos(a * theta[i])) * u
                    L.q_proj.weight[h * hd + i + hd // 2] = -gain * float(torch.sin(a * theta[i])) * u


def card_evals(model, vocab):
    """Held-out accuracy on chats with small talk (the bench's kind) of each card length: >= 300 questions each."""
    evals = {}
    for n in CARD_LENGTHS:
        acc, answers = evaluate(model, vocab, spec(n), samples={128: 256, 512: 128}.get(n, 64))
        evals[str(n)] = {"accuracy": acc, "answers": answers}
    return evals


def save(path, model, opt, state):
    moments = {k: {n: (t.to(torch.bfloat16) if torch.is_tensor(t) and t.dim() > 0 else t) for n, t in v.items()} for k, v in opt.state_dict()["state"].items()}
    torch.save({"model": model.state_dict(), "adam": moments, "state": state}, path + ".tmp")
    os.replace(path + ".tmp", path)


def lr_at(a, step):
    """Linear warm-up over --warmup steps, then constant."""
    return a.lr * min(1.0, (step + 1) / max(a.warmup, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--checkpoint-minutes", type=float, default=3)
    ap.add_argument("--tiny", action="store_true", help="a tiny config for an end-to-end check")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=16, help="chats per step at 128 tokens; other stages keep the tokens per step (at least 2 chats)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--beta2", type=float, default=0.98)
    ap.add_argument("--repeat-weight", type=float, default=1.0, help="loss weight of repeated values (echoes, restatements) relative to questions' answers")
    ap.add_argument("--lm-weight", type=float, default=0.0, help="weight of the next-token loss on every token (0: answers and repeated values only)")
    ap.add_argument("--shared-embedding", type=float, default=0.0, help="scale of a random vector added to every token's initial embedding")
    ap.add_argument("--init-offsets", default="", help="layer 0's KV groups start as heads attending this many tokens back, e.g. 2,3 (offset_init)")
    ap.add_argument("--advance-at", type=float, default=0.95)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--max-stage", type=int, default=len(STAGES) - 1)
    ap.add_argument("--stage", type=int, default=0, help="the first stage of a fresh run (experiments)")
    ap.add_argument("--arch", default="", help="config overrides for experiments, e.g. layers=2,dModel=64,headDim=16")
    ap.add_argument("--replace-other-config", action="store_true", help="start afresh when the checkpoint holds another configuration (default: refuse)")
    ap.add_argument("--out", default=os.path.join(HERE, "checkpoints"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    vocab = Vocab()
    cfg = config(vocab, a.tiny)
    for kv in filter(None, a.arch.split(",")):
        k, v = kv.split("=")
        cfg[k] = type(cfg[k])(v)
    os.makedirs(a.out, exist_ok=True)
    ckpt = os.path.join(a.out, cfg["name"] + ".pt")
    torch.manual_seed(0)
    model = RecallModel(cfg).to(a.device)
    if a.shared_embedding > 0 or a.init_offsets:
        offset_init(model, cfg, a.shared_embedding, [int(o) for o in filter(None, a.init_offsets.split(","))])
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, a.beta2), weight_decay=0.0)
    state = {"step": 0, "stage": a.stage, "wall_s": 0.0, "history": [], "seed": 0, "config": cfg}
    saved = torch.load(ckpt, map_location=a.device) if os.path.exists(ckpt) else None
    if saved is not None and (saved["state"].get("config", cfg) != cfg or any(k not in saved["model"] or saved["model"][k].shape != t.shape for k, t in model.state_dict().items())):
        if not a.replace_other_config:
            raise SystemExit("%s holds another configuration than config(); pass --replace-other-config to start afresh over it, or --out DIR" % ckpt)
        print("%s holds another configuration: starting afresh (it is overwritten at the first checkpoint)" % ckpt, flush=True)
        saved = None
    if saved is not None:
        model.load_state_dict(saved["model"])
        opt_state = opt.state_dict()
        opt_state["state"] = {int(k): {n: (t.float() if torch.is_tensor(t) and t.dim() > 0 else t) for n, t in v.items()} for k, v in saved["adam"].items()}
        opt.load_state_dict(opt_state)
        state = saved["state"]
        print("resumed at step %d, stage %d, %.0f s trained" % (state["step"], state["stage"], state["wall_s"]), flush=True)
    rng = fixed_rng(1000 + state["step"])  # fresh chats after a resume, never the held-out seeds
    start = time.time()
    last_ckpt = start
    wall0 = state["wall_s"]
    while time.time() - start < a.minutes * 60:
        s = STAGES[state["stage"]]
        size = max(2, a.batch * 128 // s["tokens"])
        x, target, kind = batch(vocab, rng, size, s)
        x, target, kind = x.to(a.device), target.to(a.device), kind.to(a.device)
        for g in opt.param_groups:
            g["lr"] = lr_at(a, state["step"])
        logits = model(x)
        per = F.cross_entropy(logits.view(-1, cfg["vocabSize"]), target.view(-1), ignore_index=-100, reduction="none")
        w = torch.where(kind.view(-1) == QUESTION, 1.0, a.repeat_weight) * (target.view(-1) != -100)
        loss = (per * w).sum() / w.sum().clamp(min=1e-9)
        if a.lm_weight > 0:  # next-token loss on every token of the chat
            loss = loss + a.lm_weight * F.cross_entropy(logits[:, :-1].reshape(-1, cfg["vocabSize"]), x[:, 1:].reshape(-1), ignore_index=vocab.special("<|pad|>"))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["wall_s"] = wall0 + time.time() - start
        if not math.isfinite(float(loss)):
            raise SystemExit("loss is not finite at step %d" % state["step"])
        if state["step"] % a.eval_every == 0:
            acc, n = evaluate(model, vocab, s, samples=128)
            state["history"].append({"step": state["step"], "stage": state["stage"], "tokens": s["tokens"], "dense": not s["chatter"], "accuracy": acc, "answers": n, "loss": float(loss), "wall_s": round(state["wall_s"])})
            print("step %d stage %d (%d tokens%s): loss %.3f, held-out accuracy %.3f (%d answers), %.0f s" % (state["step"], state["stage"], s["tokens"], ", dense" if not s["chatter"] else "", float(loss), acc, n, state["wall_s"]), flush=True)
            if acc >= a.advance_at and state["stage"] < min(a.max_stage, len(STAGES) - 1):
                state["stage"] += 1
        if time.time() - last_ckpt > a.checkpoint_minutes * 60:
            checkpoint(a, cfg, ckpt, model, opt, state, vocab, final=False)
            last_ckpt = time.time()
    checkpoint(a, cfg, ckpt, model, opt, state, vocab, final=True)


def checkpoint(a, cfg, ckpt, model, opt, state, vocab, final):
    """Saves the resumable checkpoint and exports the weights; the final one also measures the card's accuracies."""
    save(ckpt, model, opt, state)
    export_safetensors(model, cfg, os.path.join(a.out, cfg["name"] + ".safetensors"), vocab, state)
    model.train()
    if not final:
        return
    evals = card_evals(model, vocab)
    card = {"model": cfg["name"], "config": cfg, "steps": state["step"], "stage": state["stage"], "stage_tokens": STAGES[state["stage"]]["tokens"], "wall_s": round(state["wall_s"]), "batch": a.batch, "lr": a.lr, "warmup": a.warmup, "beta2": a.beta2, "repeat_weight": a.repeat_weight, "lm_weight": a.lm_weight, "device": a.device, "threads": a.threads, "held_out_accuracy_by_length": evals, "history": state["history"][-20:]}
    with open(os.path.join(a.out, cfg["name"] + ".card.json"), "w") as f:
        json.dump(card, f, indent=1)
    print(json.dumps({k: card[k] for k in ("steps", "stage", "wall_s", "held_out_accuracy_by_length")}), flush=True)


if __name__ == "__main__":
    main()
