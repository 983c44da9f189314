"""Traversal: crafted keys and bucket names over real HTTP through nginx cannot touch anything
outside the bucket's directory, nor the store's own files."""

from __future__ import annotations

import hashlib
import os
import pathlib
import ssl
import http.client
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CRAFTED_KEYS = ["../escape", "../../escape", "a/../../../escape", "..", ".", "./x", "a/./b", "a//b", "/abs",
                "//double", "%2e%2e/x", "%2e%2e%2fescape", "..%2fescape", "a\\..\\b", "x\x00y", "trail/", "a",
                "a/b", "system/tmp/x", "../system/tmp/x", "../../system/tmp/x", "...", "a/.../b", "é/../é"]


def tree_digest(root: pathlib.Path, skip: pathlib.Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if pathlib.Path(dirpath).is_relative_to(skip):
            continue
        for name in filenames:
            path = pathlib.Path(dirpath) / name
            if path.is_relative_to(skip) or path.suffix == ".log" or "nginx-tmp" in str(path):
                continue
            try:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                pass
    return out


def raw_request(stack, method, raw_path, body=b""):
    """Signs and sends RAW_PATH exactly as given (no client-side normalisation)."""
    url = stack.endpoint + raw_path
    request = AWSRequest(method=method, url=url, data=body, headers={"x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
    SigV4Auth(Credentials(stack.access_key, stack.secret_key), "s3", "us-east-1").add_auth(request)
    host = urllib.parse.urlsplit(stack.endpoint)
    connection = http.client.HTTPSConnection(host.hostname, host.port, context=ssl.create_default_context(cafile=stack.ca))
    connection.putrequest(method, raw_path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host.netloc)
    for name, value in request.headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def refused_by_nginx(path: str) -> bool:
    """nginx refuses (400) a request path whose dot segments climb above "/", or that holds an
    encoded NUL, before liteio sees it."""
    if "%00" in path:
        return True
    depth = 0
    for segment in path.split("/")[1:]:
        if segment == "..":
            depth -= 1
            if depth < 0:
                return True
        elif segment not in (".", ""):
            depth += 1
    return False


def test_crafted_keys_stay_inside_the_bucket(stack, s3, bucket):
    if stack.data_dir is None:
        pytest.skip("needs the stack's data directory")
    bucket_dir = stack.data_dir / "buckets" / bucket
    before = tree_digest(stack.state_dir, bucket_dir)
    stored = []
    for key in CRAFTED_KEYS:
        wire_path = f"/{bucket}/" + urllib.parse.quote(key, safe="/~")
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
            stored.append(key)
        except Exception as e:
            assert refused_by_nginx(wire_path), f"{key!r} refused: {e}"
    assert len(stored) >= len(CRAFTED_KEYS) - 4
    for key in stored:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode(), key
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed, key=lambda k: k.encode()) == sorted(stored, key=lambda k: k.encode())
    after = tree_digest(stack.state_dir, bucket_dir)
    assert before == after, "something outside the bucket directory changed"
    for key in stored:
        s3.delete_object(Bucket=bucket, Key=key)
    assert list(bucket_dir.iterdir()) == []


@pytest.mark.parametrize("raw_path", [
    "/{b}/..%2F..%2Fescape", "/{b}/%2e%2e/%2e%2e/escape", "/{b}/a/%2E%2E/%2E%2E/%2E%2E/escape",
    "/{b}/%00", "/{b}//..//..//escape", "/..%2F{b}/x", "/{b}%2F..%2Fother/x",
])
def test_raw_encoded_paths_stay_inside(stack, bucket, raw_path):
    if stack.data_dir is None:
        pytest.skip("needs the stack's data directory")
    before = tree_digest(stack.state_dir, stack.data_dir / "buckets" / bucket)
    status, body = raw_request(stack, "PUT", raw_path.format(b=bucket), b"payload")
    # Either stored inside the bucket under the literal key, or refused with an S3 error; never outside.
    assert status in (200, 400, 403, 404), (status, body)
    if status != 200:
        assert b"<Error>" in body or status == 400, body
    assert tree_digest(stack.state_dir, stack.data_dir / "buckets" / bucket) == before
    assert not (stack.state_dir / "escape").exists() and not (stack.data_dir / "escape").exists()


@pytest.mark.parametrize("name", ["..", "system", "buckets", "a..b", "UPPER", "x", "-bad", "bad-", "has_underscore"])
def test_crafted_bucket_names_are_refused(stack, s3, name):
    status, body = raw_request(stack, "PUT", "/" + urllib.parse.quote(name, safe=""))
    if name in ("system", "buckets"):
        # Valid S3 names: they become ordinary buckets, never the store's own folders.
        assert status == 200, body
        assert (stack.data_dir / "buckets" / name).is_dir() if stack.data_dir else True
        s3.delete_bucket(Bucket=name)
        return
    assert status == 400, body
    if not refused_by_nginx("/" + name):
        assert b"<Code>InvalidBucketName</Code>" in body
