"""Shape of a Llama-family decoder (RMSNorm, RoPE, GQA, SwiGLU), read from a
Hugging Face config.json (Llama, Qwen2, Mistral) or from an epikv model
file's __metadata__.config (backend/model/config.ts)."""
from dataclasses import dataclass, field

SUPPORTED_TYPES = ("llama", "qwen2", "mistral")


@dataclass
class ModelConfig:
    name: str
    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn_dim: int
    vocab_size: int
    rope_theta: float
    rms_eps: float
    max_positions: int
    architecture: str = "llama"
    rope_scaling: dict = field(default_factory=dict)
    tie_embeddings: bool = False
    attention_bias: bool = False
    bos_token_id: int | None = None
    eos_token_ids: list = field(default_factory=list)

    @property
    def group(self) -> int:
        return self.heads // self.kv_heads


def config_problem(c: ModelConfig) -> str | None:
    """Why a config is unusable, or None (the checks of backend/model/config.ts)."""
    for k in ("layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim", "vocab_size", "max_positions"):
        v = getattr(c, k)
        if type(v) is not int or v <= 0:
            return f"config.{k} must be a positive integer"
    if c.heads % c.kv_heads:
        return "config.heads must be a multiple of config.kv_heads"
    if c.head_dim % 2:
        return "config.head_dim must be even (RoPE rotates pairs)"
    if not (c.rope_theta > 1) or not (c.rms_eps > 0):
        return "config.rope_theta must be > 1 and config.rms_eps > 0"
    return None


def from_epikv(raw: dict) -> ModelConfig:
    """backend/model/config.ts ModelConfig (camelCase) → ModelConfig."""
    return ModelConfig(
        name=raw["name"], layers=raw["layers"], d_model=raw["dModel"], heads=raw["heads"], kv_heads=raw["kvHeads"],
        head_dim=raw["headDim"], ffn_dim=raw["ffnDim"], vocab_size=raw["vocabSize"], rope_theta=float(raw["ropeTheta"]),
        rms_eps=float(raw["rmsEps"]), max_positions=raw["maxPositions"],
    )


def from_hf(raw: dict, name: str) -> ModelConfig:
    """A Hugging Face config.json of the Llama family → ModelConfig."""
    kind = raw.get("model_type", "llama")
    if kind not in SUPPORTED_TYPES:
        raise ValueError(f'model_type "{kind}" is not supported (supported: {", ".join(SUPPORTED_TYPES)})')
    if raw.get("hidden_act", "silu") != "silu":
        raise ValueError(f'hidden_act "{raw.get("hidden_act")}" is not supported (SwiGLU needs silu)')
    heads = raw["num_attention_heads"]
    eos = raw.get("eos_token_id")
    return ModelConfig(
        name=name, layers=raw["num_hidden_layers"], d_model=raw["hidden_size"], heads=heads,
        kv_heads=raw.get("num_key_value_heads") or heads, head_dim=raw.get("head_dim") or raw["hidden_size"] // heads,
        ffn_dim=raw["intermediate_size"], vocab_size=raw["vocab_size"], rope_theta=float(raw.get("rope_theta", 10000.0)),
        rms_eps=float(raw.get("rms_norm_eps", 1e-6)), max_positions=raw.get("max_position_embeddings", 4096),
        architecture=kind, rope_scaling=raw.get("rope_scaling") or {}, tie_embeddings=bool(raw.get("tie_word_embeddings", False)),
        # Qwen2 always has q/k/v biases; Llama and Mistral say so in attention_bias.
        attention_bias=bool(raw.get("attention_bias", kind == "qwen2")),
        bos_token_id=raw.get("bos_token_id"), eos_token_ids=eos if isinstance(eos, list) else [] if eos is None else [eos],
    )

