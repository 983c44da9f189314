"""End-to-end fixtures: the real nginx + liteio, started by scripts/stack.sh on free loopback ports,
spoken to over HTTPS by real clients (boto3, the AWS CLI) exactly as a user would.

Environment knobs:
  LITEIO_BIN            liteio binary (default .build/release/liteio), passed on to stack.sh
  LITEIO_E2E_ENDPOINT   test an already running stack instead of starting one (Docker); then also
                        LITEIO_E2E_CA, LITEIO_E2E_CREDENTIALS (credentials.json), and optionally
                        LITEIO_E2E_HTTP_ENDPOINT
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = pathlib.Path(__file__).resolve().parents[2]
STACK_SH = REPO / "scripts" / "stack.sh"
REGION = "us-east-1"

# The developer's own AWS settings must not leak into the tests (a default profile, an endpoint
# override, checksum settings, credentials in the environment...). The stack fixture points
# AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the generated files.
for _k in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_k]
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # no 1 s IMDS probe per client
_no_proxy = "localhost,127.0.0.1,::1"
for _k in ("NO_PROXY", "no_proxy"):
    os.environ[_k] = ",".join(filter(None, [os.environ.get(_k), _no_proxy]))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Stack:
    endpoint: str  # https://localhost:PORT
    http_endpoint: str | None  # http://localhost:PORT (plain HTTP), None if not served
    ca: str  # CA bundle that verifies the endpoint's certificate
    access_key: str
    secret_key: str
    state_dir: pathlib.Path | None  # None when testing an external stack
    data_dir: pathlib.Path | None
    aws_env: dict  # environment for the AWS CLI (profile `liteio`)
    region: str = REGION

    def client(self, access_key=None, secret_key=None, endpoint=None, **config_kwargs):
        """A boto3 S3 client for this stack; override keys to test authentication failures."""
        config = Config(
            s3={"addressing_style": "path"},
            # One attempt: a retry would hide a flaky server.
            retries={"total_max_attempts": 1},
            **config_kwargs,
        )
        return boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            region_name=self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            verify=self.ca,
            config=config,
        )


def write_aws_files(directory: pathlib.Path, endpoint, ca, access_key, secret_key):
    """AWS CLI profile `liteio`, same shape as scripts/stack.sh writes (for external stacks)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config").write_text(
        "[profile liteio]\n"
        f"region = {REGION}\n"
        f"endpoint_url = {endpoint}\n"
        f"ca_bundle = {ca}\n"
        "s3 =\n    addressing_style = path\n"
    )
    (directory / "credentials").write_text(
        f"[liteio]\naws_access_key_id = {access_key}\naws_secret_access_key = {secret_key}\n"
    )
    return directory / "config", directory / "credentials"


def read_credentials(path) -> tuple[str, str]:
    user = json.loads(pathlib.Path(path).read_text())["users"][0]
    return user["accessKey"], user["secretKey"]


def aws_env(config_file, credentials_file) -> dict:
    env = dict(os.environ)
    env.update(
        AWS_CONFIG_FILE=str(config_file),
        AWS_SHARED_CREDENTIALS_FILE=str(credentials_file),
        # Surface every server error instead of retrying it away.
        AWS_RETRY_MODE="standard",
        AWS_MAX_ATTEMPTS="1",
    )
    return env


def _log_tail(path: pathlib.Path, lines=40) -> str:
    try:
        return "".join(path.read_text(errors="replace").splitlines(True)[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="session")
def stack(tmp_path_factory, request):
    external = os.environ.get("LITEIO_E2E_ENDPOINT")
    if external:
        ca = os.environ["LITEIO_E2E_CA"]
        ak, sk = read_credentials(os.environ["LITEIO_E2E_CREDENTIALS"])
        cfg, creds = write_aws_files(tmp_path_factory.mktemp("aws"), external, ca, ak, sk)
        os.environ["AWS_CONFIG_FILE"], os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(cfg), str(creds)
        yield Stack(external, os.environ.get("LITEIO_E2E_HTTP_ENDPOINT"), ca, ak, sk, None, None,
                    aws_env(cfg, creds))
        return

    state = tmp_path_factory.mktemp("stack")
    https_port, http_port = free_port(), free_port()
    while http_port == https_port:
        http_port = free_port()
    started = subprocess.run(
        ["bash", str(STACK_SH), "start", str(state), str(https_port), str(http_port)],
        capture_output=True, text=True, timeout=180,
    )
    if started.returncode != 0:
        pytest.fail(
            f"scripts/stack.sh start failed ({started.returncode}):\n{started.stdout}\n{started.stderr}",
            pytrace=False,
        )
    ak, sk = read_credentials(state / "credentials.json")
    cfg, creds = state / "aws" / "config", state / "aws" / "credentials"
    assert f"export AWS_CONFIG_FILE={cfg}" in started.stdout
    os.environ["AWS_CONFIG_FILE"], os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(cfg), str(creds)
    try:
        yield Stack(
            endpoint=f"https://localhost:{https_port}",
            http_endpoint=f"http://localhost:{http_port}",
            ca=str(state / "certs" / "ca.pem"),
            access_key=ak,
            secret_key=sk,
            state_dir=state,
            data_dir=state / "data",
            aws_env=aws_env(cfg, creds),
        )
    finally:
        stopped = subprocess.run(["bash", str(STACK_SH), "stop", str(state)],
                                 capture_output=True, text=True, timeout=120)
        if request.session.testsfailed or stopped.returncode != 0 or "WARNING" in stopped.stderr:
            # The server side of a failure is usually in liteio's log.
            sys.stderr.write(
                f"\n--- scripts/stack.sh stop:\n{stopped.stderr}"
                f"--- last lines of {state}/logs/liteio.log:\n{_log_tail(state / 'logs' / 'liteio.log')}"
                f"--- last lines of {state}/logs/nginx-error.log:\n"
                f"{_log_tail(state / 'logs' / 'nginx-error.log')}\n"
            )


@pytest.fixture(scope="session")
def s3(stack):
    """boto3 S3 client with the stack's credentials, path-style, verifying TLS with the dev CA."""
    return stack.client()


def empty_and_delete_bucket(s3, name):
    """Deletes every object (and unfinished multipart upload) in NAME, then NAME itself."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=obj["Key"])
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchBucket":
            return  # the test deleted it itself
        raise
    try:
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
    except ClientError:
        pass  # multipart listing is not what this fixture tests
    try:
        s3.delete_bucket(Bucket=name)
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchBucket":
            raise


def unique_bucket_name(prefix="e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


@pytest.fixture
def bucket(s3):
    """A fresh, empty bucket for one test; removed with its contents afterwards."""
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete_bucket(s3, name)


def _aws_executable() -> str:
    # The venv running pytest first, then the project venv, then PATH.
    candidates = [pathlib.Path(sys.executable).parent / "aws",
                  pathlib.Path(os.environ.get("LITEIO_VENV", REPO / ".liteio" / "venv")) / "bin" / "aws"]
    for c in candidates:
        if c.exists():
            return str(c)
    found = shutil.which("aws")
    if not found:
        pytest.fail("AWS CLI not found: run scripts/venv.sh", pytrace=False)
    return found


@pytest.fixture(scope="session")
def aws(stack):
    """aws(*args, timeout=600, input=None) runs `aws --profile liteio ARGS...` against the stack and
    returns the CompletedProcess (text mode; stdout is JSON for s3api commands)."""
    exe = _aws_executable()

    def run(*args, timeout=600, input=None):
        return subprocess.run(
            [exe, "--profile", "liteio", *map(str, args)],
            env=stack.aws_env, capture_output=True, text=True, timeout=timeout, input=input,
        )

    run.executable = exe
    return run
