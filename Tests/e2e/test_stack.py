"""scripts/stack.sh itself: a restart keeps data and keys, SIGTERM stops liteio gracefully, and a
second start on a running state dir is refused. Uses its own stack (not the session one)."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import STACK_SH, Stack, aws_env, free_port, read_credentials

pytestmark = pytest.mark.skipif(bool(os.environ.get("LITEIO_E2E_ENDPOINT")),
                                reason="tests the local scripts/stack.sh, not an external stack")


def stack_sh(*args, timeout=180):
    return subprocess.run(["bash", str(STACK_SH), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_restart_keeps_data_and_keys_and_stops_gracefully(tmp_path):
    state = tmp_path / "state"
    port = free_port()
    first = stack_sh("start", state, port)
    assert first.returncode == 0, first.stderr
    try:
        keys = read_credentials(state / "credentials.json")
        ca_before = (state / "certs" / "ca.pem").read_bytes()
        s = Stack(f"https://localhost:{port}", None, str(state / "certs" / "ca.pem"), *keys,
                  state, state / "data", aws_env(state / "aws" / "config", state / "aws" / "credentials"))
        s3 = s.client()
        s3.create_bucket(Bucket="survivor")
        s3.put_object(Bucket="survivor", Key="k", Body=b"still here")

        again = stack_sh("start", state, port)
        assert again.returncode != 0, "a second start on a running state dir must be refused"
        assert "already running" in again.stderr
    finally:
        stopped = stack_sh("stop", state)
    assert stopped.returncode == 0, stopped.stderr
    # stack.sh warns when a process needed SIGKILL: liteio must exit on SIGTERM by itself.
    assert "WARNING" not in stopped.stderr, stopped.stderr
    assert not (state / "run" / "liteio.pid").exists()
    assert not (state / "run" / "nginx.pid").exists()

    second = stack_sh("start", state, port)
    assert second.returncode == 0, second.stderr
    try:
        assert read_credentials(state / "credentials.json") == keys
        assert (state / "certs" / "ca.pem").read_bytes() == ca_before
        body = s.client().get_object(Bucket="survivor", Key="k")["Body"].read()
        assert body == b"still here"
    finally:
        stopped = stack_sh("stop", state)
    assert stopped.returncode == 0 and "WARNING" not in stopped.stderr, stopped.stderr


def test_start_fails_cleanly_without_binary(tmp_path):
    env = dict(os.environ, LITEIO_BIN=str(tmp_path / "no-such-liteio"))
    r = subprocess.run(["bash", str(STACK_SH), "start", str(tmp_path / "state"), str(free_port())],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode != 0
    assert "not found" in r.stderr
