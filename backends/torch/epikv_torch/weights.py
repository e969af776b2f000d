"""Loading a model: an epikv model file (backend/weights/<name>.safetensors,
config in __metadata__.config) or a Hugging Face checkpoint directory
(config.json + *.safetensors) of the Llama family. Tensor names are the HF
Llama layout, which Qwen2 and Mistral share (Qwen2 adds q/k/v biases).
Files are memory-mapped and read with this package's own parser."""
import glob
import json
import mmap
import os

import torch

from .config import ModelConfig, config_problem, from_epikv, from_hf
from .model import Model
from .safetensors import SafetensorsError, parse_safetensors
from .tokenizer import load_tokenizer

TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}
# backend/weights/, where `npm run build` writes epikv's models.
EPIKV_WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "backend", "weights")


def weight_shapes(c: ModelConfig) -> dict:
    D, q, kv, F = c.d_model, c.heads * c.head_dim, c.kv_heads * c.head_dim, c.ffn_dim
    out = {"model.embed_tokens.weight": [c.vocab_size, D], "model.norm.weight": [D]}
    if not c.tie_embeddings:
        out["lm_head.weight"] = [c.vocab_size, D]
    for l in range(c.layers):
        p = f"model.layers.{l}."
        out.update({
            p + "input_layernorm.weight": [D], p + "post_attention_layernorm.weight": [D],
            p + "self_attn.q_proj.weight": [q, D], p + "self_attn.k_proj.weight": [kv, D],
            p + "self_attn.v_proj.weight": [kv, D], p + "self_attn.o_proj.weight": [D, q],
            p + "mlp.gate_proj.weight": [F, D], p + "mlp.up_proj.weight": [F, D], p + "mlp.down_proj.weight": [D, F],
        })
        if c.attention_bias:
            out.update({p + "self_attn.q_proj.bias": [q], p + "self_attn.k_proj.bias": [kv], p + "self_attn.v_proj.bias": [kv]})
    return out


def _open(path: str):
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return parse_safetensors(mapped, max_header=100 << 20, allow_non_finite=True)
    except SafetensorsError as e:
        raise ValueError(f"{path}: {e}") from None


def _to_torch(t, device, dtype) -> torch.Tensor:
    if t.dtype not in TORCH_DTYPES:
        raise ValueError(f"weight of dtype {t.dtype} is not supported (float tensors only)")
    raw = torch.frombuffer(bytearray(t.data), dtype=TORCH_DTYPES[t.dtype]).reshape(t.shape)
    return raw.to(device=device, dtype=dtype)


def resolve(spec: str) -> str:
    """A model path, or the name of one of epikv's models under backend/weights/."""
    if os.path.exists(spec):
        return spec
    named = os.path.join(EPIKV_WEIGHTS_DIR, spec + ".safetensors")
    if os.path.exists(named):
        return named
    raise ValueError(f'model "{spec}" is neither a path nor a model under backend/weights/ (run `npm run build`)')


def load_model(spec: str, device: torch.device, dtype: torch.dtype, name: str | None = None) -> Model:
    path = os.path.abspath(resolve(spec))
    if os.path.isdir(path):
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = from_hf(json.load(f), name or os.path.basename(path.rstrip("/")))
        files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
        if not files:
            raise ValueError(f"{path} holds no *.safetensors files")
        parsed = [_open(p) for p in files]
        tokenizer = load_tokenizer(path, None, config.bos_token_id, config.eos_token_ids)
    else:
        parsed = [_open(path)]
        meta = parsed[0].metadata
        if "config" not in meta:
            raise ValueError(f"{path} has no __metadata__.config (not an epikv model file; give a checkpoint directory)")
        config = from_epikv(json.loads(meta["config"]))
        config.name = name or config.name
        spec_json = meta.get("tokenizer")
        tokenizer = load_tokenizer(None, json.loads(spec_json) if spec_json else None)
    problem = config_problem(config)
    if problem:
        raise ValueError(f"{path}: {problem}")
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f"{path}: the tokenizer has {tokenizer.vocab_size} tokens, the model only {config.vocab_size}")
    shapes = weight_shapes(config)
    weights = {}
    for f in parsed:
        for n, t in f.tensors.items():
            if n in shapes:
                if t.shape != shapes[n]:
                    raise ValueError(f'{path}: tensor "{n}" has shape {t.shape}, expected {shapes[n]}')
                # Norm weights stay float32: RMSNorm runs in float32 whatever the model dtype.
                weights[n] = _to_torch(t, device, torch.float32 if n.endswith("norm.weight") else dtype)
    missing = [n for n in shapes if n not in weights]
    if missing:
        raise ValueError(f'{path}: missing tensor "{missing[0]}" ({len(missing)} missing)')
    return Model(config, weights, tokenizer, device, dtype)
