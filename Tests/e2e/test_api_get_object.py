"""GetObject / HeadObject as AWS S3 answers them: ranges, part numbers, response-* overrides,
conditional requests with AWS's precedence rules, and the standard response headers."""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import os

import pytest

from helpers import error_of

MiB = 1 << 20
BODY = bytes(range(100))  # 100 bytes, each its own offset


@pytest.fixture
def obj(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="obj", Body=BODY)
    return bucket, "obj", put["ETag"]


def http_date(dt: datetime.datetime) -> str:
    return email.utils.format_datetime(dt.astimezone(datetime.timezone.utc), usegmt=True)


# --- standard headers --------------------------------------------------------------------------

def test_standard_headers(s3, obj):
    bucket, key, etag = obj
    for response in (s3.get_object(Bucket=bucket, Key=key), s3.head_object(Bucket=bucket, Key=key)):
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert response["ETag"] == etag == '"%s"' % hashlib.md5(BODY).hexdigest()
        assert response["ContentLength"] == 100
        assert response["AcceptRanges"] == "bytes"
        assert isinstance(response["LastModified"], datetime.datetime)
        # RFC 7231 IMF-fixdate, e.g. "Tue, 02 Jan 2024 03:04:05 GMT"
        assert email.utils.parsedate_to_datetime(headers["last-modified"]) == response["LastModified"]
        assert headers["last-modified"].endswith(" GMT")
        assert "x-amz-request-id" in headers
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - response["LastModified"]).total_seconds()) < 120


def test_missing_key_is_404(s3, bucket):
    err = error_of(lambda: s3.get_object(Bucket=bucket, Key="absent"))
    assert (err.status, err.code) == (404, "NoSuchKey")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="absent")).status == 404


def test_missing_bucket_is_404(s3):
    err = error_of(lambda: s3.get_object(Bucket="e2e-no-such-bucket-4a8c1d", Key="k"))
    assert (err.status, err.code) == (404, "NoSuchBucket")


# --- ranges ------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-9", 0, 9), ("bytes=-5", 95, 99), ("bytes=5-", 5, 99), ("bytes=99-99", 99, 99),
    ("bytes=90-1000", 90, 99),  # end beyond the object: clamped
    ("bytes=-500", 0, 99),  # suffix longer than the object: the whole object
    ("bytes=0-", 0, 99),
])
def test_range(s3, obj, spec, first, last):
    bucket, key, etag = obj
    got = s3.get_object(Bucket=bucket, Key=key, Range=spec)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {first}-{last}/100"
    assert got["ContentLength"] == last - first + 1
    assert got["ETag"] == etag
    assert got["Body"].read() == BODY[first:last + 1]


def test_head_with_range_is_206(s3, obj):
    bucket, key, _ = obj
    head = s3.head_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentRange"] == "bytes 10-19/100"
    assert head["ContentLength"] == 10


@pytest.mark.parametrize("spec", ["bytes=100-", "bytes=100-200", "bytes=1000-1001"])
def test_unsatisfiable_range_is_416_invalid_range(s3, obj, spec):
    bucket, key, _ = obj
    err = error_of(lambda: s3.get_object(Bucket=bucket, Key=key, Range=spec))
    assert (err.status, err.code) == (416, "InvalidRange")


# --- part numbers ------------------------------------------------------------------------------

@pytest.fixture
def multipart_obj(s3, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    done = []
    for n, data in enumerate(parts, 1):
        etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=data)["ETag"]
        done.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": done})
    return bucket, "mp", parts


def test_get_and_head_part_number(s3, multipart_obj):
    bucket, key, parts = multipart_obj
    total = sum(map(len, parts))
    got = s3.get_object(Bucket=bucket, Key=key, PartNumber=1)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["PartsCount"] == 2
    assert got["ContentLength"] == 5 * MiB
    assert got["ContentRange"] == f"bytes 0-{5 * MiB - 1}/{total}"
    assert got["Body"].read() == parts[0]
    head = s3.head_object(Bucket=bucket, Key=key, PartNumber=2)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["PartsCount"] == 2
    assert head["ContentLength"] == 1000
    assert head["ContentRange"] == f"bytes {5 * MiB}-{total - 1}/{total}"
    # Without PartNumber: the whole object; HeadObject does not report PartsCount then.
    whole = s3.head_object(Bucket=bucket, Key=key)
    assert whole["ContentLength"] == total
    assert whole["ETag"].endswith('-2"')


def test_part_number_beyond_parts_count_is_416(s3, multipart_obj):
    bucket, key, _ = multipart_obj
    err = error_of(lambda: s3.get_object(Bucket=bucket, Key=key, PartNumber=3))
    assert (err.status, err.code) == (416, "InvalidPartNumber")


# --- response-* overrides ----------------------------------------------------------------------

def test_response_header_overrides(s3, obj):
    bucket, key, _ = obj
    got = s3.get_object(
        Bucket=bucket, Key=key,
        ResponseContentType="application/x-override",
        ResponseContentDisposition='attachment; filename="o.bin"',
        ResponseContentLanguage="fr",
        ResponseContentEncoding="identity",
        ResponseCacheControl="no-store",
        ResponseExpires=datetime.datetime(2036, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
    )
    assert got["ContentType"] == "application/x-override"
    assert got["ContentDisposition"] == 'attachment; filename="o.bin"'
    assert got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "identity"
    assert got["CacheControl"] == "no-store"
    assert got["ExpiresString"] == "Tue, 06 May 2036 07:08:09 GMT"
    assert got["Body"].read() == BODY
    # Overrides apply to that response only.
    assert s3.head_object(Bucket=bucket, Key=key)["ContentType"] == "binary/octet-stream"


# --- conditional requests ----------------------------------------------------------------------

def _dates(s3, bucket, key):
    modified = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
    return (http_date(modified - datetime.timedelta(hours=1)),  # before
            http_date(modified),  # exactly
            http_date(modified + datetime.timedelta(hours=1)))  # after


def _status(call) -> int:
    try:
        return call()["ResponseMetadata"]["HTTPStatusCode"]
    except Exception as e:  # noqa: BLE001 - botocore raises ClientError for 304 and 412
        return e.response["ResponseMetadata"]["HTTPStatusCode"]


WRONG = '"%s"' % hashlib.md5(b"not it").hexdigest()


@pytest.mark.parametrize("method", ["get_object", "head_object"])
def test_conditionals_single(s3, obj, method):
    bucket, key, etag = obj
    before, exactly, after = _dates(s3, bucket, key)
    call = getattr(s3, method)
    cases = {
        "If-Match right": ({"IfMatch": etag}, 200),
        "If-Match wrong": ({"IfMatch": WRONG}, 412),
        "If-None-Match right": ({"IfNoneMatch": etag}, 304),
        "If-None-Match wrong": ({"IfNoneMatch": WRONG}, 200),
        "If-Modified-Since before": ({"IfModifiedSince": before}, 200),
        "If-Modified-Since exactly": ({"IfModifiedSince": exactly}, 304),
        # (If-Modified-Since in the future is left out: RFC 7232 says to ignore such a date; what
        # S3 does with it is not documented.)
        "If-Unmodified-Since before": ({"IfUnmodifiedSince": before}, 412),
        "If-Unmodified-Since exactly": ({"IfUnmodifiedSince": exactly}, 200),
        "If-Unmodified-Since after": ({"IfUnmodifiedSince": after}, 200),
    }
    wrong = {}
    for name, (kwargs, expected) in cases.items():
        got = _status(lambda: call(Bucket=bucket, Key=key, **kwargs))
        if got != expected:
            wrong[name] = f"got {got}, expected {expected}"
    assert not wrong, wrong


def test_conditionals_aws_precedence(s3, obj):
    """AWS documents two combinations explicitly (GetObject/HeadObject):
    If-Match true + If-Unmodified-Since false -> 200; If-None-Match false + If-Modified-Since true -> 304."""
    bucket, key, etag = obj
    before, _, after = _dates(s3, bucket, key)
    for call in (s3.get_object, s3.head_object):
        assert _status(lambda: call(Bucket=bucket, Key=key, IfMatch=etag, IfUnmodifiedSince=before)) == 200
        assert _status(lambda: call(Bucket=bucket, Key=key, IfNoneMatch=etag, IfModifiedSince=before)) == 304
        # And the failing If-Match wins over a passing If-Unmodified-Since.
        assert _status(lambda: call(Bucket=bucket, Key=key, IfMatch=WRONG, IfUnmodifiedSince=after)) == 412
        # 412 beats 304: If-Match wrong and If-None-Match matching.
        assert _status(lambda: call(Bucket=bucket, Key=key, IfMatch=WRONG, IfNoneMatch=etag)) == 412


def test_not_modified_response_carries_etag(s3, obj):
    bucket, key, etag = obj
    try:
        s3.get_object(Bucket=bucket, Key=key, IfNoneMatch=etag)
    except Exception as e:  # noqa: BLE001 - botocore raises ClientError for 304
        meta = e.response["ResponseMetadata"]
    else:
        raise AssertionError("expected 304")
    assert meta["HTTPStatusCode"] == 304
    assert meta["HTTPHeaders"].get("etag") == etag  # RFC 7232: a 304 repeats the ETag


def test_precondition_failed_error_code(s3, obj):
    bucket, key, _ = obj
    err = error_of(lambda: s3.get_object(Bucket=bucket, Key=key, IfMatch=WRONG))
    assert (err.status, err.code) == (412, "PreconditionFailed")


def test_conditionals_with_range(s3, obj):
    bucket, key, etag = obj
    got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-3", IfMatch=etag)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == BODY[:4]
    err = error_of(lambda: s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-3", IfMatch=WRONG))
    assert (err.status, err.code) == (412, "PreconditionFailed")
