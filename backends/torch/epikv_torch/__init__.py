"""epikv's PyTorch backend: epikv-kv/1 (docs/kv-protocol.md) over Llama-family models (docs/torch-backend.md)."""
