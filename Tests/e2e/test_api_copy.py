"""CopyObject as AWS S3 answers it: metadata directives, copying onto itself, copy-source
conditions, encoded source keys and missing sources."""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import json
import os
import urllib.parse

import pytest

from conftest import empty_and_delete_bucket, unique_bucket_name
from helpers import error_of, headers_hook


def http_date(dt: datetime.datetime) -> str:
    return email.utils.format_datetime(dt.astimezone(datetime.timezone.utc), usegmt=True)


@pytest.fixture
def src(s3, bucket):
    body = os.urandom(10_000)
    put = s3.put_object(Bucket=bucket, Key="src", Body=body, Metadata={"origin": "source", "n": "1"},
                        CacheControl="max-age=60")
    return bucket, "src", body, put["ETag"]


def test_copy_returns_result_and_copies_bytes(s3, src):
    bucket, key, body, etag = src
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["CopyObjectResult"]["ETag"] == etag  # same bytes, single part: same MD5 ETag
    assert isinstance(out["CopyObjectResult"]["LastModified"], datetime.datetime)
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == body
    assert got["ETag"] == etag


def test_copy_default_directive_copies_user_metadata_and_ignores_new(s3, src):
    bucket, key, _, _ = src
    # Metadata given with the (default) COPY directive is ignored.
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   Metadata={"origin": "request"})
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"origin": "source", "n": "1"}
    assert head["CacheControl"] == "max-age=60"


def test_copy_default_directive_copies_content_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="typed", Body=b"{}", ContentType="application/json")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "typed"})
    assert s3.head_object(Bucket=bucket, Key="dst")["ContentType"] == "application/json"


def test_copy_replace_directive_uses_request_metadata(s3, src):
    bucket, key, body, _ = src
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", Metadata={"fresh": "yes"})
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"fresh": "yes"}
    # REPLACE replaces the system metadata too: the source's Cache-Control is gone.
    assert "CacheControl" not in head
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == body
    # The source is untouched.
    assert s3.head_object(Bucket=bucket, Key=key)["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_replace_directive_with_content_type(s3, src):
    bucket, key, _, _ = src
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", ContentType="text/csv", ContentDisposition="inline")
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["ContentType"] == "text/csv"
    assert head["ContentDisposition"] == "inline"


def test_invalid_metadata_directive_is_400(s3, src):
    bucket, key, _, _ = src
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                                          MetadataDirective="MERGE"))
    assert (err.status, err.code) == (400, "InvalidArgument")


def test_copy_onto_itself_without_change_is_400_invalid_request(s3, src):
    bucket, key, body, etag = src
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}))
    assert (err.status, err.code) == (400, "InvalidRequest")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_copy_onto_itself_with_replace_updates_metadata(s3, src):
    bucket, key, body, etag = src
    out = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                         MetadataDirective="REPLACE", Metadata={"rewritten": "1"})
    assert out["CopyObjectResult"]["ETag"] == etag
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {"rewritten": "1"}
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_copy_across_buckets(s3, src):
    bucket, key, body, _ = src
    other = unique_bucket_name()
    s3.create_bucket(Bucket=other)
    try:
        s3.copy_object(Bucket=other, Key="copied", CopySource={"Bucket": bucket, "Key": key})
        assert s3.get_object(Bucket=other, Key="copied")["Body"].read() == body
    finally:
        empty_and_delete_bucket(s3, other)


# --- copy-source conditions --------------------------------------------------------------------

def _copy_status(s3, bucket, key, **conditions) -> int:
    try:
        return s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                              **conditions)["ResponseMetadata"]["HTTPStatusCode"]
    except Exception as e:  # noqa: BLE001 - ClientError
        assert e.response["Error"]["Code"] == "PreconditionFailed", e.response["Error"]
        return e.response["ResponseMetadata"]["HTTPStatusCode"]


def test_copy_source_if_match_mismatch_is_412(s3, src):
    bucket, key, _, _ = src
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": key},
                                          CopySourceIfMatch='"%s"' % hashlib.md5(b"x").hexdigest()))
    assert (err.status, err.code) == (412, "PreconditionFailed")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="dst")).status == 404


def test_copy_source_conditions(s3, src):
    bucket, key, _, etag = src
    modified = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
    before = http_date(modified - datetime.timedelta(hours=1))
    after = http_date(modified + datetime.timedelta(hours=1))
    wrong = '"%s"' % hashlib.md5(b"x").hexdigest()
    cases = {
        "if-match right": ({"CopySourceIfMatch": etag}, 200),
        "if-none-match right": ({"CopySourceIfNoneMatch": etag}, 412),
        "if-none-match wrong": ({"CopySourceIfNoneMatch": wrong}, 200),
        "if-modified-since before": ({"CopySourceIfModifiedSince": before}, 200),
        "if-unmodified-since before": ({"CopySourceIfUnmodifiedSince": before}, 412),
        "if-unmodified-since after": ({"CopySourceIfUnmodifiedSince": after}, 200),
        # AWS's documented combinations:
        "if-match true + if-unmodified-since false": (
            {"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": before}, 200),
        "if-none-match false + if-modified-since true": (
            {"CopySourceIfNoneMatch": etag, "CopySourceIfModifiedSince": before}, 412),
    }
    wrong_answers = {}
    for name, (kwargs, expected) in cases.items():
        got = _copy_status(s3, bucket, key, **kwargs)
        if got != expected:
            wrong_answers[name] = f"got {got}, expected {expected}"
    assert not wrong_answers, wrong_answers


# --- source keys -------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["with space.txt", "dir/ünïcödé €.bin", "plus+and&amp=?#.txt", "percent%2Fslash"])
def test_copy_source_with_special_characters(stack, s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.copy_object(Bucket=bucket, Key="via-dict", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key="via-dict")["Body"].read() == key.encode()
    # The string form "bucket/key": botocore URL-encodes it.
    s3.copy_object(Bucket=bucket, Key="via-string", CopySource=f"{bucket}/{key}")
    assert s3.get_object(Bucket=bucket, Key="via-string")["Body"].read() == key.encode()
    # The header as another client might write it: leading slash, every reserved byte %-encoded.
    client = stack.client()
    headers_hook(client, "CopyObject",
                 {"x-amz-copy-source": "/" + bucket + "/" + urllib.parse.quote(key, safe="")})
    client.copy_object(Bucket=bucket, Key="via-header", CopySource={"Bucket": bucket, "Key": "ignored"})
    assert s3.get_object(Bucket=bucket, Key="via-header")["Body"].read() == key.encode()
    # And the destination key may be just as odd.
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key=key + ".copy")["Body"].read() == key.encode()


def test_copy_missing_source_key_is_404_no_such_key(s3, bucket):
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "absent"}))
    assert (err.status, err.code) == (404, "NoSuchKey")


def test_copy_missing_source_bucket_is_404_no_such_bucket(s3, bucket):
    err = error_of(lambda: s3.copy_object(Bucket=bucket, Key="dst",
                                          CopySource={"Bucket": "e2e-no-such-bucket-31c5d2", "Key": "k"}))
    assert (err.status, err.code) == (404, "NoSuchBucket")


def test_cli_copy_object_with_special_source_key(aws, s3, bucket):
    key = "cli dir/ünï €.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"cli copy", Metadata={"m": "1"})
    out = aws("s3api", "copy-object", "--bucket", bucket, "--key", "cli-copy", "--copy-source", f"{bucket}/{key}")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["CopyObjectResult"]["ETag"] == s3.head_object(Bucket=bucket, Key=key)["ETag"]
    got = s3.get_object(Bucket=bucket, Key="cli-copy")
    assert got["Body"].read() == b"cli copy"
    assert got["Metadata"] == {"m": "1"}
    missing = aws("s3api", "copy-object", "--bucket", bucket, "--key", "x", "--copy-source", f"{bucket}/absent")
    assert missing.returncode != 0
    assert "NoSuchKey" in missing.stderr, missing.stderr
