"""SSE-C end to end: every rule of ../shared/docs/sse-c.md and AWS's SSE-C errors, over real
nginx + TLS with boto3."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from helpers import error_of, headers_hook


def new_key() -> bytes:
    return os.urandom(32)


def sse(key: bytes) -> dict:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def copy_source_sse(key: bytes) -> dict:
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1024 * 1024 + 1, 64 * 1024 * 1024])
def test_round_trip_sizes(s3, bucket, size):
    key = new_key()
    body = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key="obj", Body=body, **sse(key))
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == b64md5(key)
    got = s3.get_object(Bucket=bucket, Key="obj", **sse(key))
    assert got["ContentLength"] == size
    assert got["SSECustomerKeyMD5"] == b64md5(key)
    assert got["Body"].read() == body
    head = s3.head_object(Bucket=bucket, Key="obj", **sse(key))
    assert head["ContentLength"] == size
    # The ETag must not reveal the plaintext's MD5.
    assert put["ETag"].strip('"') != hashlib.md5(body).hexdigest()


@pytest.mark.parametrize("first,last", [(0, 0), (15, 15), (16, 16), (17, 17), (0, 15), (15, 16), (16, 31),
                                        (17, 4096), (100_000, 199_999), (299_999, 299_999)])
def test_ranges_at_block_boundaries(s3, bucket, first, last):
    key = new_key()
    body = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="r", Body=body, **sse(key))
    got = s3.get_object(Bucket=bucket, Key="r", Range=f"bytes={first}-{last}", **sse(key))
    assert got["ContentRange"] == f"bytes {first}-{last}/300000"
    assert got["Body"].read() == body[first:last + 1]


def test_suffix_range(s3, bucket):
    key = new_key()
    body = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="r", Body=body, **sse(key))
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-17", **sse(key))["Body"].read() == body[-17:]


def test_wrong_key_is_403_access_denied(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **sse(new_key()))
    for call in (s3.get_object, s3.head_object):
        err = error_of(lambda: call(Bucket=bucket, Key="k", **sse(new_key())))
        assert err.status == 403
        if call is s3.get_object:
            assert err.code == "AccessDenied"


def test_missing_key_on_encrypted_object_is_400_invalid_request(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret", **sse(new_key()))
    err = error_of(lambda: s3.get_object(Bucket=bucket, Key="k"))
    assert (err.status, err.code) == (400, "InvalidRequest")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="k")).status == 400


def test_key_on_plain_object_is_400_invalid_request(s3, bucket):
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    err = error_of(lambda: s3.get_object(Bucket=bucket, Key="plain", **sse(new_key())))
    assert (err.status, err.code) == (400, "InvalidRequest")


@pytest.mark.parametrize("change", [
    {"x-amz-server-side-encryption-customer-algorithm": "AES128"},
    {"x-amz-server-side-encryption-customer-algorithm": None},
    {"x-amz-server-side-encryption-customer-key": None},
    {"x-amz-server-side-encryption-customer-key-MD5": None},
    {"x-amz-server-side-encryption-customer-key-MD5": b64md5(b"other")},
    {"x-amz-server-side-encryption-customer-key": base64.b64encode(b"k" * 31).decode(),
     "x-amz-server-side-encryption-customer-key-MD5": b64md5(b"k" * 31)},
    {"x-amz-server-side-encryption-customer-key": base64.b64encode(b"k" * 33).decode(),
     "x-amz-server-side-encryption-customer-key-MD5": b64md5(b"k" * 33)},
    {"x-amz-server-side-encryption-customer-key": "%%not-base64%%"},
])
def test_bad_headers_are_400_invalid_argument_and_store_nothing(stack, bucket, change):
    client = stack.client()
    headers_hook(client, "PutObject", change)
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="bad", Body=b"data", **sse(new_key())))
    assert (err.status, err.code) == (400, "InvalidArgument")
    assert "key" not in err.message.lower() or "secret key" in err.message.lower() or "md5" in err.message.lower() \
        or "algorithm" in err.message.lower()
    assert error_of(lambda: stack.client().head_object(Bucket=bucket, Key="bad")).status == 404


def test_sse_c_over_plain_http_is_refused(stack, bucket):
    client = stack.client(endpoint=stack.http_endpoint)
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="k", Body=b"data", **sse(new_key())))
    assert (err.status, err.code) == (400, "InvalidRequest")
    assert "secure connection" in err.message
    # Plain requests over the same plain-HTTP server still work: the refusal is about SSE-C.
    client.put_object(Bucket=bucket, Key="plain", Body=b"data")


def test_content_md5_is_verified_on_sse_c_upload(stack, bucket):
    client = stack.client()
    headers_hook(client, "PutObject", {"Content-MD5": b64md5(b"something else")})
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="k", Body=b"data", **sse(new_key())))
    assert (err.status, err.code) == (400, "BadDigest")
    good = stack.client()
    good.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=b64md5(b"data"), **sse(new_key()))


def test_copy_needs_both_keys_and_rotates(s3, bucket):
    old, new = new_key(), new_key()
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", **sse(old))
    src = {"Bucket": bucket, "Key": "src"}
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, **sse(new)))
    assert (err.status, err.code) == (400, "InvalidRequest")
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, **copy_source_sse(new_key()), **sse(new)))
    assert (err.status, err.code) == (403, "AccessDenied")
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, **copy_source_sse(old)))
    assert (err.status, err.code) == (400, "InvalidRequest")
    assert "destination key" in err.message

    s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, **copy_source_sse(old), **sse(new))
    assert s3.get_object(Bucket=bucket, Key="dst", **sse(new))["Body"].read() == b"payload"

    # Key rotation in place, without a metadata directive.
    s3.copy_object(Bucket=bucket, Key="src", CopySource=src, **copy_source_sse(old), **sse(new))
    assert s3.get_object(Bucket=bucket, Key="src", **sse(new))["Body"].read() == b"payload"
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="src", **sse(old))).status == 403


def test_copy_of_plain_object_into_sse_c(s3, bucket):
    key = new_key()
    s3.put_object(Bucket=bucket, Key="plain", Body=b"clear")
    s3.copy_object(Bucket=bucket, Key="enc", CopySource={"Bucket": bucket, "Key": "plain"}, **sse(key))
    assert s3.get_object(Bucket=bucket, Key="enc", **sse(key))["Body"].read() == b"clear"
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="enc")).status == 400


def test_multipart_sse_c(s3, bucket):
    key = new_key()
    part_size = 5 * 1024 * 1024
    parts_data = [os.urandom(part_size), os.urandom(part_size), os.urandom(12345)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **sse(key))
    assert up["SSECustomerKeyMD5"] == b64md5(key)
    uid = up["UploadId"]
    err = error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x", **sse(new_key())))
    assert err.status == 400
    err = error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x"))
    assert err.status == 400
    etags = []
    for number, data in enumerate(parts_data, start=1):
        etags.append(s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=number, Body=data, **sse(key))["ETag"])
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]})
    whole = b"".join(parts_data)
    assert s3.get_object(Bucket=bucket, Key="mp", **sse(key))["Body"].read() == whole
    for first, last in [(part_size - 1, part_size), (part_size - 17, part_size + 17), (2 * part_size - 1, 2 * part_size + 100),
                        (0, len(whole) - 1), (len(whole) - 1, len(whole) - 1)]:
        got = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={first}-{last}", **sse(key))["Body"].read()
        assert got == whole[first:last + 1], (first, last)
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2, **sse(key))["Body"].read() == parts_data[1]
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="mp", **sse(new_key()))).status == 403


def test_upload_part_copy_with_copy_source_keys(s3, bucket):
    src_key, dst_key = new_key(), new_key()
    data = os.urandom(6 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="src", Body=data, **sse(src_key))
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst", **sse(dst_key))["UploadId"]
    err = error_of(lambda: s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                                                CopySource={"Bucket": bucket, "Key": "src"}, **sse(dst_key)))
    assert err.status == 400
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange="bytes=0-5242879", **copy_source_sse(src_key), **sse(dst_key))
    r2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2, CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange=f"bytes=5242880-{len(data) - 1}", **copy_source_sse(src_key), **sse(dst_key))
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst", **sse(dst_key))["Body"].read() == data


def read_xattrs(path) -> dict:
    out = subprocess.run(["getfattr", "-d", "-m", "-", "-e", "hex", "--absolute-names", str(path)],
                         capture_output=True, text=True)
    values = {}
    for line in out.stdout.splitlines():
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = bytes.fromhex(value[2:]) if value.startswith("0x") else value.encode()
    return values


def stored_file(stack, bucket, key):
    return stack.data_dir / "buckets" / bucket / key


def test_no_key_or_plaintext_on_disk_or_in_logs(stack, s3, bucket):
    if stack.data_dir is None:
        pytest.skip("needs the stack's data directory")
    key = new_key()
    marker = b"PLAINTEXT-MARKER-" + os.urandom(8).hex().encode()
    body = marker * 1000
    s3.put_object(Bucket=bucket, Key="leak", Body=body, **sse(key))
    s3.copy_object(Bucket=bucket, Key="leak2", CopySource={"Bucket": bucket, "Key": "leak"}, **copy_source_sse(key), **sse(key))
    uid = s3.create_multipart_upload(Bucket=bucket, Key="leak3", **sse(key))["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="leak3", UploadId=uid, PartNumber=1, Body=body, **sse(key))["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="leak3", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    s3.get_object(Bucket=bucket, Key="leak", **sse(key))["Body"].read()
    error_of(lambda: s3.get_object(Bucket=bucket, Key="leak", **sse(new_key())))

    needles = [key, base64.b64encode(key), key.hex().encode(), key.hex().upper().encode(), marker]
    scanned = 0
    for root in (stack.data_dir, stack.state_dir / "logs"):
        for dirpath, dirnames, filenames in os.walk(root):
            for name in filenames + dirnames:
                path = os.path.join(dirpath, name)
                blobs = list(read_xattrs(path).values())
                if os.path.isfile(path):
                    with open(path, "rb") as f:
                        blobs.append(f.read())
                for blob in blobs:
                    scanned += 1
                    for needle in needles:
                        assert needle not in blob, f"{needle[:20]!r} found in {path}"
    assert scanned > 3


def test_stored_ciphertext_decrypts_with_openssl(stack, s3, bucket):
    if stack.data_dir is None:
        pytest.skip("needs the stack's data directory")
    import json
    key = new_key()
    body = os.urandom(100_003)
    s3.put_object(Bucket=bucket, Key="x", Body=body, **sse(key))
    path = stored_file(stack, bucket, "x")
    meta = json.loads(read_xattrs(path)["user.liteio.meta"])
    iv = base64.b64decode(meta["sse"]["iv"])
    assert meta["sse"]["keyMD5"] == b64md5(key)
    ciphertext = path.read_bytes()[:meta["size"]]
    assert ciphertext != body
    plain = subprocess.run(["openssl", "enc", "-d", "-aes-256-ctr", "-K", key.hex(), "-iv", iv.hex(), "-nopad"],
                           input=ciphertext, capture_output=True, check=True).stdout
    assert plain == body
