"""A private nginx + liteio stack for tests that kill or restart processes (never the shared one)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import time

import boto3
from botocore.config import Config

REPO = pathlib.Path(__file__).resolve().parents[2]
STACK_SH = REPO / "scripts" / "stack.sh"


class OwnStack:
    def __init__(self, state: pathlib.Path, port: int, config: dict | None = None):
        self.state = state
        self.port = port
        self.config = config or {}
        self.endpoint = f"https://localhost:{port}"

    def __enter__(self):
        subprocess.run(["bash", str(STACK_SH), "start", str(self.state), str(self.port)], check=True,
                       capture_output=True, text=True, timeout=180)
        user = json.loads((self.state / "credentials.json").read_text())["users"][0]
        self.access_key, self.secret_key = user["accessKey"], user["secretKey"]
        if self.config:
            try:
                path = self.state / "liteio.json"
                merged = {**json.loads(path.read_text()), **self.config}
                path.write_text(json.dumps(merged))
                self.restart_liteio()
            except BaseException:
                self.__exit__(None, None, None)  # never leave a stack running behind a failed start
                raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["bash", str(STACK_SH), "stop", str(self.state)], capture_output=True, timeout=120)

    @property
    def supervisor_pid(self) -> int:
        return int((self.state / "run" / "liteio.pid").read_text().strip())

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.supervisor_pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def restart_liteio(self):
        """Stops liteio (SIGTERM) and starts it again with the current liteio.json, as stack.sh does."""
        pid = self.supervisor_pid
        subprocess.run(["kill", "-TERM", str(pid)])
        for _ in range(300):
            if subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0:
                break
            time.sleep(0.05)
        binary = REPO / ".build" / "release" / "liteio"
        log = open(self.state / "logs" / "liteio.log", "ab")
        proc = subprocess.Popen([str(binary), "serve", "--config", str(self.state / "liteio.json")],
                                stdout=log, stderr=log, start_new_session=True)
        (self.state / "run" / "liteio.pid").write_text(f"{proc.pid}\n")
        self.wait_ready()

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                self.client().list_buckets()
                return
            except Exception:
                time.sleep(0.1)
        raise AssertionError("stack did not become ready")

    def client(self, **config):
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            verify=str(self.state / "certs" / "ca.pem"),
            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, **config))
