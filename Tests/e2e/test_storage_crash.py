"""Crash safety: SIGKILL worker processes at random moments during PUTs and overwrites, then
check that every key holds one whole version and that no acknowledged write was lost."""

from __future__ import annotations

import random
import threading
import time

import pytest

from conftest import free_port
from own_stack import OwnStack

KEYS = ["plain", "nested/deeper/key", "a", "a/b", "trail/", "unicode-é"]


def version_bytes(key: str, version: int) -> bytes:
    rng = random.Random(f"{key}:{version}")
    size = rng.choice([0, 1, 100, 70_000, 600_000, 2_500_000])
    header = f"{key}|{version}|".encode().ljust(64, b".")
    return (header + rng.randbytes(size))[: max(size, 64)]


def parse_version(key: str, body: bytes) -> int:
    name, version, _ = body[:64].split(b"|", 2)
    assert name.decode() == key
    return int(version)


def test_sigkill_loses_no_acknowledged_write(tmp_path):
    with OwnStack(tmp_path / "stack", free_port(), {"processes": 3, "workers": 4}) as stack:
        s3 = stack.client()
        s3.create_bucket(Bucket="crash")
        acked = {k: 0 for k in KEYS}
        attempted = {k: 0 for k in KEYS}
        stop = threading.Event()

        def writer(key):
            client = stack.client()
            version = 0
            while not stop.is_set():
                version += 1
                attempted[key] = version
                try:
                    client.put_object(Bucket="crash", Key=key, Body=version_bytes(key, version))
                    acked[key] = version
                except Exception:
                    time.sleep(0.01)  # the worker died under us: the write may or may not have landed

        threads = [threading.Thread(target=writer, args=(k,)) for k in KEYS]
        for t in threads:
            t.start()
        kills = 0
        rng = random.Random()
        try:
            while kills < 100:
                time.sleep(rng.uniform(0.02, 0.12))
                pids = stack.worker_pids()
                if not pids:
                    continue
                subprocess_kill(rng.choice(pids))
                kills += 1
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert kills == 100
        stack.wait_ready()

        total_acked = sum(acked.values())
        assert total_acked > 50, f"too few writes succeeded to prove anything: {acked}"
        for key in KEYS:
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            version = parse_version(key, body)
            assert body == version_bytes(key, version), f"{key}: torn object"
            assert acked[key] <= version <= attempted[key], f"{key}: holds v{version}, acked v{acked[key]}"
        listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="crash")["Contents"])
        assert listed == sorted(KEYS), "temporary files must never be listed"


def subprocess_kill(pid: int):
    import os
    import signal
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
