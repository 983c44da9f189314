"""First end-to-end checks: buckets, byte-exact object round trips with boto3 and the AWS CLI,
authentication failures and the basic S3 error codes, all through the real nginx in front."""

from __future__ import annotations

import hashlib
import json
import os
import xml.etree.ElementTree as ET

import pytest
import urllib3
from botocore.exceptions import ClientError

from conftest import empty_and_delete_bucket, unique_bucket_name

MiB = 1 << 20
SIZES = [0, 1, MiB, 64 * MiB]
SIZE_IDS = ["0B", "1B", "1MiB", "64MiB"]

_payload_cache: dict[int, bytes] = {}


def payload(size: int) -> bytes:
    """Random bytes (so nothing can pass by compressing or guessing), made once per size."""
    if size not in _payload_cache:
        _payload_cache[size] = os.urandom(size)
    return _payload_cache[size]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def error_of(excinfo) -> tuple[int, str]:
    """(HTTP status, S3 error code) of a botocore ClientError. botocore takes the code from the
    <Error><Code> of the XML body; without a parseable body it falls back to the status number,
    so asserting a named code also asserts that the body was S3 error XML."""
    r = excinfo.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def raw_error(response) -> str:
    """Asserts an S3 XML error body and returns its <Code>."""
    assert "xml" in response.headers.get("Content-Type", ""), response.headers
    root = ET.fromstring(response.data)
    assert root.tag == "Error", response.data
    code = root.findtext("Code")
    assert code, response.data
    return code


def http_pool(stack):
    return urllib3.PoolManager(ca_certs=stack.ca, cert_reqs="CERT_REQUIRED", retries=False)


# --- buckets -----------------------------------------------------------------------------------

def test_bucket_create_list_head_delete(s3):
    name = unique_bucket_name()
    created = s3.create_bucket(Bucket=name)
    try:
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        deleted = s3.delete_bucket(Bucket=name)
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    finally:
        empty_and_delete_bucket(s3, name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_delete_non_empty_bucket_is_409_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep-me", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(e) == (409, "BucketNotEmpty")
    # Still there, object included.
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="keep-me")["Body"].read() == b"x"


# --- objects with boto3 ------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_boto3_object_round_trip(s3, bucket, size):
    data = payload(size)
    sent = {}

    def capture(request, **_):
        for k, v in request.headers.items():
            sent[k.lower()] = v.decode() if isinstance(v, bytes) else v

    # The point of this test: current boto3 sends PutObject over HTTPS as aws-chunked with a
    # trailing checksum; the stored object must be the decoded bytes, not the framing.
    s3.meta.events.register("before-send.s3.PutObject", capture)
    try:
        put = s3.put_object(Bucket=bucket, Key="obj", Body=data)
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", capture)
    assert sent.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", sent
    assert "aws-chunked" in sent.get("content-encoding", ""), sent
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    etag = put["ETag"]
    assert etag.startswith('"') and etag.endswith('"'), etag

    head = s3.head_object(Bucket=bucket, Key="obj")
    assert head["ContentLength"] == size
    assert head["ETag"] == etag

    got = s3.get_object(Bucket=bucket, Key="obj")
    body = got["Body"].read()
    assert len(body) == size
    assert sha256(body) == sha256(data)
    assert got["ContentLength"] == size
    assert got["ETag"] == etag

    deleted = s3.delete_object(Bucket=bucket, Key="obj")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="obj")
    assert error_of(e) == (404, "NoSuchKey")


def test_overwrite_replaces_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first version, longer")
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second"


# --- objects with the AWS CLI ------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_cli_s3api_round_trip(aws, bucket, tmp_path, size):
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(payload(size))

    put = aws("s3api", "put-object", "--bucket", bucket, "--key", "cli/obj", "--body", src)
    assert put.returncode == 0, put.stderr
    etag = json.loads(put.stdout)["ETag"]

    head = aws("s3api", "head-object", "--bucket", bucket, "--key", "cli/obj")
    assert head.returncode == 0, head.stderr
    assert json.loads(head.stdout)["ContentLength"] == size
    assert json.loads(head.stdout)["ETag"] == etag

    get = aws("s3api", "get-object", "--bucket", bucket, "--key", "cli/obj", dst)
    assert get.returncode == 0, get.stderr
    assert json.loads(get.stdout)["ContentLength"] == size
    assert dst.stat().st_size == size
    assert file_sha256(dst) == file_sha256(src)

    delete = aws("s3api", "delete-object", "--bucket", bucket, "--key", "cli/obj")
    assert delete.returncode == 0, delete.stderr
    gone = aws("s3api", "head-object", "--bucket", bucket, "--key", "cli/obj")
    assert gone.returncode != 0
    assert "404" in gone.stderr or "Not Found" in gone.stderr, gone.stderr


def _cli_cp_round_trip(aws, bucket, tmp_path, size):
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(payload(size))
    up = aws("s3", "cp", src, f"s3://{bucket}/cp/obj.bin")
    assert up.returncode == 0, up.stderr
    down = aws("s3", "cp", f"s3://{bucket}/cp/obj.bin", dst)
    assert down.returncode == 0, down.stderr
    assert dst.stat().st_size == size
    assert file_sha256(dst) == file_sha256(src)


@pytest.mark.parametrize("size", SIZES[:3], ids=SIZE_IDS[:3])
def test_cli_s3_cp_round_trip(aws, bucket, tmp_path, size):
    _cli_cp_round_trip(aws, bucket, tmp_path, size)


def test_cli_s3_cp_round_trip_64mib_multipart(aws, bucket, tmp_path):
    # Over the CLI's 8 MiB threshold: the upload is a multipart upload (8 MiB parts) and the
    # download is parallel ranged GETs.
    _cli_cp_round_trip(aws, bucket, tmp_path, 64 * MiB)


# --- authentication ----------------------------------------------------------------------------

def test_anonymous_request_is_403_access_denied(stack, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    http = http_pool(stack)
    for url in (f"{stack.endpoint}/", f"{stack.endpoint}/{bucket}",
                f"{stack.endpoint}/{bucket}/private"):
        r = http.request("GET", url)
        assert r.status == 403, (url, r.status, r.data)
        assert raw_error(r) == "AccessDenied", (url, r.data)
        assert b"secret" not in r.data
    put = http.request("PUT", f"{stack.endpoint}/{bucket}/anon", body=b"x")
    assert put.status == 403 and raw_error(put) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="anon")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_wrong_secret_is_403_signature_does_not_match(stack, s3, bucket):
    bad = stack.client(secret_key="x" * 40)
    with pytest.raises(ClientError) as e:
        bad.list_objects_v2(Bucket=bucket)
    assert error_of(e) == (403, "SignatureDoesNotMatch")
    # An upload with a bad signature must be refused and store nothing.
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket=bucket, Key="forged", Body=b"forged body")
    assert error_of(e) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="forged")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_unknown_access_key_is_403_invalid_access_key_id(stack, bucket):
    stranger = stack.client(access_key="AKNOSUCHKEY000000000", secret_key="y" * 40)
    with pytest.raises(ClientError) as e:
        stranger.list_objects_v2(Bucket=bucket)
    assert error_of(e) == (403, "InvalidAccessKeyId")


def test_tampered_signature_is_403_signature_does_not_match(stack, s3, bucket):
    s3.put_object(Bucket=bucket, Key="obj", Body=b"payload")
    client = stack.client()

    def tamper(request, **_):
        auth = request.headers["Authorization"]
        if isinstance(auth, bytes):
            auth = auth.decode()
        head, sig = auth.rsplit("Signature=", 1)
        flipped = ("0" if sig[-1] != "0" else "1")
        request.headers["Authorization"] = f"{head}Signature={sig[:-1]}{flipped}"

    client.meta.events.register("before-send.s3.GetObject", tamper)
    with pytest.raises(ClientError) as e:
        client.get_object(Bucket=bucket, Key="obj")
    assert error_of(e) == (403, "SignatureDoesNotMatch")
    # The same request untampered works, so it was the signature that was refused.
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"payload"


# --- error codes -------------------------------------------------------------------------------

def test_missing_key_is_404_no_such_key(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="does/not/exist")
    assert error_of(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="does/not/exist")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_missing_bucket_is_404_no_such_bucket(s3):
    name = unique_bucket_name("missing")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="k")
    assert error_of(e) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=name)
    assert error_of(e) == (404, "NoSuchBucket")
    # A PUT into a missing bucket must not create it.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert error_of(e) == (404, "NoSuchBucket")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


# --- what the nginx front must pass through unchanged ------------------------------------------

@pytest.mark.parametrize("key", [
    "with space",
    "double//slash",          # merge_slashes off; a different key from "double/slash"
    "percent%2Fnot-a-slash",  # must stay literal: REQUEST_URI is raw, never decoded by nginx
    "ünïcödé/ключ/键",
    "plus+equals=amp&semi;",
    "tilde~star*paren(1)",
])
def test_key_names_survive_the_proxy(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(key.encode())


def test_metadata_with_underscore_survives_the_proxy(s3, bucket):
    # nginx drops header names with `_` unless underscores_in_headers is on.
    meta = {"my_key": "under", "plain": "dash"}
    s3.put_object(Bucket=bucket, Key="m", Body=b"m", Metadata=meta)
    assert s3.head_object(Bucket=bucket, Key="m")["Metadata"] == meta


def test_plain_http_endpoint_serves_s3_errors(stack):
    assert stack.http_endpoint, "stack has no plain-HTTP endpoint"
    r = urllib3.PoolManager(retries=False).request("GET", f"{stack.http_endpoint}/")
    assert r.status == 403
    assert raw_error(r) == "AccessDenied"
