"""Writes a trained model as the safetensors file the reference backend loads
(backend/model/weights.ts: F32 tensors in weightLayout order, the ModelConfig
as __metadata__.config), plus a `check` entry: tokens and the PyTorch
forward's last-row logits, which test/node/recall-trained.test.ts compares
with the TypeScript forward pass of the same file.
"""
import json
import struct

import torch

from recall_data import fixed_rng, sample, spec


def export_safetensors(model, cfg, path, vocab, state):
    model.eval()
    tokens, _ = sample(vocab, fixed_rng(99), spec(96))
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.tensor([tokens], device=device))[0, -1].tolist()
    header, blobs, offset = {}, [], 0
    for name, t in model.named_for_export():
        data = t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {
        "config": json.dumps(cfg),
        "format": "pt",
        "generator": json.dumps({"script": "scripts/train/train_recall.py", "steps": state["step"], "stage": state["stage"]}),
        "check": json.dumps({"tokens": tokens, "logits": logits}),
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
