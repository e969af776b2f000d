"""Trains the recall model (docs/recall-model.md, "The trained model").

  /usr/bin/python3 scripts/train/train_recall.py [--minutes M] [--tiny] [--threads N] [--device cpu|cuda]

Resumes from scripts/train/checkpoints/<name>.pt when present (model, Adam
moments in bfloat16, step, curriculum stage, wall time), checkpoints every
--checkpoint-minutes, and on exit writes the exported weights
(<name>.safetensors, the layout backend/model/weights.ts loads) and the
model card's measurements (<name>.card.json). Training only: nothing at run
time or in CI runs Python.

Curriculum: stage k trains on chats of at most STAGES[k] tokens; the first
stages are dense (facts and questions, no small talk). The stage advances
when held-out accuracy at its length reaches --advance-at.
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F

from recall_data import Vocab, batch, fixed_rng
from recall_export import export_safetensors
from recall_model import RecallModel

HERE = os.path.dirname(os.path.abspath(__file__))
STAGES = [(128, True), (256, True), (256, False), (512, False), (1024, False), (2048, False)]


def config(vocab, tiny):
    if tiny:
        return dict(name="epikv-recall-tiny-trained", layers=2, dModel=32, heads=2, kvHeads=1, headDim=16, ffnDim=64, vocabSize=vocab.size, ropeTheta=10000.0, rmsEps=1e-5, maxPositions=16384)
    return dict(name="epikv-recall-trained", layers=3, dModel=128, heads=4, kvHeads=2, headDim=32, ffnDim=256, vocabSize=vocab.size, ropeTheta=10000.0, rmsEps=1e-5, maxPositions=16384)


def evaluate(model, vocab, max_tokens, dense, samples=64, seed=12345):
    """Exact-match accuracy of the answers in held-out chats (fixed seed, never trained on)."""
    rng = fixed_rng(seed + max_tokens)
    right = total = 0
    model.eval()
    with torch.no_grad():
        for _ in range(samples // 16):
            x, target = batch(vocab, rng, 16, max_tokens, dense)
            pred = model(x.to(next(model.parameters()).device)).argmax(-1).cpu()
            m = target != -100
            right += int((pred[m] == target[m]).sum())
            total += int(m.sum())
    model.train()
    return right / max(total, 1), total


def save(path, model, opt, state):
    moments = {k: {n: (t.to(torch.bfloat16) if torch.is_tensor(t) and t.dim() > 0 else t) for n, t in v.items()} for k, v in opt.state_dict()["state"].items()}
    torch.save({"model": model.state_dict(), "adam": moments, "state": state}, path + ".tmp")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--checkpoint-minutes", type=float, default=3)
    ap.add_argument("--tiny", action="store_true", help="a tiny config for an end-to-end check")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--advance-at", type=float, default=0.95)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--out", default=os.path.join(HERE, "checkpoints"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    vocab = Vocab()
    cfg = config(vocab, a.tiny)
    os.makedirs(a.out, exist_ok=True)
    ckpt = os.path.join(a.out, cfg["name"] + ".pt")
    torch.manual_seed(0)
    model = RecallModel(cfg).to(a.device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.0)
    state = {"step": 0, "stage": 0, "wall_s": 0.0, "history": [], "seed": 0}
    if os.path.exists(ckpt):
        saved = torch.load(ckpt, map_location=a.device)
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
        max_tokens, dense = STAGES[state["stage"]]
        x, target = batch(vocab, rng, a.batch, max_tokens, dense)
        x, target = x.to(a.device), target.to(a.device)
        loss = F.cross_entropy(model(x).view(-1, cfg["vocabSize"]), target.view(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["wall_s"] = wall0 + time.time() - start
        if state["step"] % a.eval_every == 0:
            acc, n = evaluate(model, vocab, max_tokens, dense)
            state["history"].append({"step": state["step"], "stage": state["stage"], "tokens": max_tokens, "dense": dense, "accuracy": acc, "answers": n, "loss": float(loss), "wall_s": round(state["wall_s"])})
            print("step %d stage %d (%d tokens%s): loss %.3f, held-out accuracy %.3f (%d answers), %.0f s" % (state["step"], state["stage"], max_tokens, ", dense" if dense else "", float(loss), acc, n, state["wall_s"]), flush=True)
            if acc >= a.advance_at and state["stage"] + 1 < len(STAGES):
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
    evals = {str(n): evaluate(model, vocab, n, False, samples=64)[0] for n in (128, 512, 1024)}
    card = {"model": cfg["name"], "config": cfg, "steps": state["step"], "stage": state["stage"], "stage_tokens": STAGES[state["stage"]][0], "wall_s": round(state["wall_s"]), "batch": a.batch, "lr": a.lr, "device": a.device, "threads": a.threads, "held_out_accuracy_by_length": evals, "history": state["history"][-20:]}
    with open(os.path.join(a.out, cfg["name"] + ".card.json"), "w") as f:
        json.dump(card, f, indent=1)
    print(json.dumps({k: card[k] for k in ("steps", "stage", "wall_s", "held_out_accuracy_by_length")}), flush=True)


if __name__ == "__main__":
    main()
