"""Run: python3 -m epikv_torch [--model PATH_OR_NAME ...] [--port 8789] [--device auto|cpu|cuda] [--dtype auto|float32|bfloat16|float16]
(from backends/torch/, or with it on PYTHONPATH; docs/torch-backend.md). Prints one line naming the URL once it listens."""
import argparse
import os
import signal
import sys

import torch

from .calls import PROTOCOL, Limits, State
from .handles import KvHandleStore
from .server import App, make_server
from .weights import load_model

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(prog="epikv_torch", description="epikv-kv/1 backend on PyTorch")
    p.add_argument("--model", action="append", help="epikv model name (backend/weights/), model file, or HF checkpoint directory; repeatable, the first is the default")
    p.add_argument("--host", default=env("EPIKV_TORCH_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(env("EPIKV_TORCH_PORT", "8789")), help="0 picks a free port")
    p.add_argument("--device", default=env("EPIKV_TORCH_DEVICE", "auto"), choices=["auto", "cpu", "cuda"])
    p.add_argument("--dtype", default=env("EPIKV_TORCH_DTYPE", "auto"), choices=["auto", *DTYPES], help="auto: bfloat16 on CUDA, float32 on CPU")
    p.add_argument("--handle-bytes", type=int, default=int(env("EPIKV_TORCH_HANDLE_BYTES", str(256 << 20))), help="cap on pinned KV bytes (LRU beyond it)")
    p.add_argument("--max-ttl-s", type=float, default=3600)
    p.add_argument("--max-body-bytes", type=int, default=int(env("EPIKV_TORCH_MAX_BODY_BYTES", str(64 << 20))))
    p.add_argument("--max-json-bytes", type=int, default=4 << 20)
    p.add_argument("--max-input-tokens", type=int, default=8192)
    p.add_argument("--log", action="store_true", default=env("EPIKV_TORCH_LOG") == "1", help="one line per request on stderr: method, path, milliseconds")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = p.parse_args(argv)
    args.model = args.model or [m.strip() for m in env("EPIKV_TORCH_MODELS", "epikv-tiny").split(",") if m.strip()]
    return args


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else "cpu" if args.device == "auto" else args.device)
    dtype = DTYPES[args.dtype] if args.dtype != "auto" else torch.bfloat16 if device.type == "cuda" else torch.float32
    models = {}
    for spec in args.model:
        m = load_model(spec, device, dtype)
        models[m.config.name] = m
    state = State(models, KvHandleStore(args.handle_bytes, args.max_ttl_s), Limits(max_input_tokens=args.max_input_tokens))
    httpd = make_server(App(state, args.max_body_bytes, args.max_json_bytes, args.log, args.threads), args.host, args.port)
    host, port = httpd.server_address[:2]
    print(f"epikv torch backend on http://{host}:{port} ({PROTOCOL}; models: {', '.join(models)}; device {device}, {str(dtype).replace('torch.', '')})", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        httpd.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
