"""Continuum-style KV pinning (docs/kv-protocol.md, "Handles"): the backend
keeps a conversation's KV for a TTL and accepts the handle in place of the
bytes. Bounded by total bytes of what is held (device memory included); the
least recently used goes first. A handle that expired or was evicted is a
clear miss (409 kv_handle_miss) and the caller resends the bytes."""
import threading
import time
import uuid
from collections import OrderedDict

from .errors import ProtocolError
from .kv import nbytes


class KvHandleStore:
    def __init__(self, max_bytes: int = 256 << 20, max_ttl_s: float = 3600, now=time.time):
        self.max_bytes, self.max_ttl_s, self.now = max_bytes, max_ttl_s, now
        self.entries: OrderedDict = OrderedDict()  # handle → (model, cache, bytes, expires_at)
        self.total = 0
        self.evicted = 0
        self.lock = threading.Lock()

    def put(self, model: str, cache, ttl_s: float, handle: str | None = None) -> tuple[str, float]:
        """Store (or replace) a cache; returns its handle and expiry (seconds since the epoch)."""
        if not (ttl_s > 0) or ttl_s > self.max_ttl_s:
            raise ProtocolError("invalid_request", f"keep.ttl_s must be in (0, {self.max_ttl_s:g}]", "keep.ttl_s")
        handle = handle or f"kvh_{uuid.uuid4()}"
        size = nbytes(cache)
        with self.lock:
            self._delete(handle)
            if size > self.max_bytes:
                raise ProtocolError("payload_too_large", f"kv of {size} bytes exceeds the handle store ({self.max_bytes} bytes)", "keep")
            self._sweep()
            while self.entries and self.total + size > self.max_bytes:
                self._delete(next(iter(self.entries)))
                self.evicted += 1
            expires = self.now() + ttl_s
            self.entries[handle] = (model, cache, size, expires)
            self.total += size
        return handle, expires

    def get(self, model: str, handle: str):
        """The cache behind a handle, or kv_handle_miss. Touching renews LRU order, not the TTL."""
        with self.lock:
            e = self.entries.get(handle)
            if e is None or e[3] <= self.now():
                self._delete(handle)
                raise ProtocolError("kv_handle_miss", f'kv handle "{handle}" is unknown or expired; resend the KV bytes', "kv_handle")
            if e[0] != model:
                raise ProtocolError("invalid_request", f'kv handle "{handle}" belongs to model "{e[0]}", not "{model}"', "kv_handle")
            self.entries.move_to_end(handle)
            return e[1]

    def delete(self, handle: str) -> bool:
        with self.lock:
            return self._delete(handle)

    def stats(self) -> dict:
        with self.lock:
            self._sweep()
            return {"count": len(self.entries), "bytes": self.total, "max_bytes": self.max_bytes, "evicted": self.evicted, "max_ttl_s": self.max_ttl_s}

    def _delete(self, handle: str) -> bool:
        e = self.entries.pop(handle, None)
        if e is None:
            return False
        self.total -= e[2]
        return True

    def _sweep(self) -> None:
        now = self.now()
        for h in [h for h, e in self.entries.items() if e[3] <= now]:
            self._delete(h)
