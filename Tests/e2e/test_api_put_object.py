"""PutObject as AWS S3 answers it: Content-MD5, x-amz-checksum-* (header and trailer), system and
user metadata, conditional writes."""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import zlib

import pytest

from helpers import error_of, headers_hook


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64md5(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


def _reflected_table(poly: int) -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _reflected_table(0x82F63B78)
_CRC64NVME = _reflected_table(0x9A6C9329AC4BC9B5)


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc64nvme(data: bytes) -> int:
    c = 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = _CRC64NVME[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


# Published check values ("123456789"): CRC-32C 0xE3069283, CRC-64/NVME 0xAE8B14860A799888.
assert crc32c(b"123456789") == 0xE3069283
assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def checksum(algorithm: str, data: bytes) -> str:
    """The base64 value S3 uses in x-amz-checksum-ALGORITHM."""
    if algorithm == "CRC32":
        return b64(zlib.crc32(data).to_bytes(4, "big"))
    if algorithm == "CRC32C":
        return b64(crc32c(data).to_bytes(4, "big"))
    if algorithm == "CRC64NVME":
        return b64(crc64nvme(data).to_bytes(8, "big"))
    if algorithm == "SHA1":
        return b64(hashlib.sha1(data).digest())
    if algorithm == "SHA256":
        return b64(hashlib.sha256(data).digest())
    raise ValueError(algorithm)


ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
FIELD = {a: "Checksum" + a for a in ALGORITHMS}  # boto3 parameter / response field


def missing(s3, bucket, key) -> bool:
    return error_of(lambda: s3.head_object(Bucket=bucket, Key=key)).status == 404


# --- Content-MD5 -------------------------------------------------------------------------------

def test_content_md5_match_is_accepted(s3, bucket):
    body = os.urandom(1000)
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ContentMD5=b64md5(body))
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()


def test_content_md5_mismatch_is_400_bad_digest_and_nothing_stored(s3, bucket):
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"actual", ContentMD5=b64md5(b"other")))
    assert (err.status, err.code) == (400, "BadDigest")
    assert missing(s3, bucket, "k")


def test_content_md5_mismatch_keeps_previous_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v1")
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"v2", ContentMD5=b64md5(b"nope")))
    assert (err.status, err.code) == (400, "BadDigest")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"


def test_malformed_content_md5_is_400_invalid_digest(s3, bucket):
    # Not the base64 of 16 bytes: AWS answers 400 InvalidDigest.
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentMD5="not-an-md5"))
    assert (err.status, err.code) == (400, "InvalidDigest")
    assert missing(s3, bucket, "k")


# --- x-amz-checksum-* --------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_explicit_checksum_header_is_verified_and_returned(stack, s3, bucket, algorithm):
    body = os.urandom(70_000)
    value = checksum(algorithm, body)
    sent = {}
    client = stack.client()
    client.meta.events.register("before-send.s3.PutObject",
                                lambda request, **_: sent.update({k.lower(): v for k, v in request.headers.items()}))
    put = client.put_object(Bucket=bucket, Key="c", Body=body, **{FIELD[algorithm]: value})
    # An explicit value goes as a header, not as an aws-chunked trailer.
    assert f"x-amz-checksum-{algorithm.lower()}" in sent
    assert put[FIELD[algorithm]] == value
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[FIELD[algorithm]] == value
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got[FIELD[algorithm]] == value
    assert got["Body"].read() == body  # botocore also validates the returned checksum here


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_checksum_algorithm_computed_by_sdk(s3, bucket, algorithm):
    # botocore computes these itself (CRC32C / CRC64NVME would need awscrt); over HTTPS it sends
    # them as an aws-chunked trailer.
    body = os.urandom(50_000)
    put = s3.put_object(Bucket=bucket, Key="c", Body=body, ChecksumAlgorithm=algorithm)
    assert put[FIELD[algorithm]] == checksum(algorithm, body)
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[FIELD[algorithm]] == checksum(algorithm, body)


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_checksum_algorithm_over_plain_http_goes_as_header(stack, s3, bucket, algorithm):
    if not stack.http_endpoint:
        pytest.skip("stack has no plain-HTTP endpoint")
    client = stack.client(endpoint=stack.http_endpoint)
    body = os.urandom(10_000)
    put = client.put_object(Bucket=bucket, Key="c", Body=body, ChecksumAlgorithm=algorithm)
    assert put[FIELD[algorithm]] == checksum(algorithm, body)
    assert s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")[FIELD[algorithm]] == checksum(algorithm, body)


def test_default_crc32_is_returned_with_checksum_mode(s3, bucket):
    # boto3 >= 1.36 adds a CRC32 to every upload by default (when_supported).
    body = b"default checksum"
    s3.put_object(Bucket=bucket, Key="c", Body=body)
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == checksum("CRC32", body)


def test_checksum_not_returned_without_checksum_mode(s3, bucket):
    body = b"abc"
    s3.put_object(Bucket=bucket, Key="c", Body=body, ChecksumSHA256=checksum("SHA256", body))
    head = s3.head_object(Bucket=bucket, Key="c")
    assert "ChecksumSHA256" not in head


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_checksum_is_400_bad_digest_and_nothing_stored(s3, bucket, algorithm):
    body = os.urandom(5000)
    wrong = checksum(algorithm, body + b"!")
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="c", Body=body, **{FIELD[algorithm]: wrong}))
    assert (err.status, err.code) == (400, "BadDigest")
    assert missing(s3, bucket, "c")


def test_malformed_checksum_value_is_400_invalid_request(s3, bucket):
    # AWS: 400 InvalidRequest "Value for x-amz-checksum-crc32 header is invalid." (code as
    # remembered from AWS responses; the 400 is certain).
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="c", Body=b"x", ChecksumCRC32="AAAA"))
    assert (err.status, err.code) == (400, "InvalidRequest")
    assert missing(s3, bucket, "c")


# --- system metadata ---------------------------------------------------------------------------

def test_system_metadata_round_trip(s3, bucket):
    expires = datetime.datetime(2037, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    fields = dict(ContentType="text/x-liteio; charset=utf-8", ContentEncoding="gzip",
                  ContentDisposition='attachment; filename="report.txt"', ContentLanguage="de-CH",
                  CacheControl="max-age=3600, must-revalidate")
    s3.put_object(Bucket=bucket, Key="m", Body=b"payload", Expires=expires, **fields)
    for response in (s3.head_object(Bucket=bucket, Key="m"), s3.get_object(Bucket=bucket, Key="m")):
        for name, value in fields.items():
            # ContentEncoding: botocore sends "gzip,aws-chunked" over HTTPS; aws-chunked is
            # transport framing and must not be stored.
            assert response.get(name) == value, (name, response.get(name))
        assert response["ExpiresString"] == "Fri, 02 Jan 2037 03:04:05 GMT"


def test_default_content_type(s3, bucket):
    # No Content-Type: boto3 sends none for bytes bodies; AWS stores binary/octet-stream.
    s3.put_object(Bucket=bucket, Key="m", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="m")["ContentType"] == "binary/octet-stream"


def test_put_replaces_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="m", Body=b"1", ContentType="text/plain", Metadata={"a": "1"})
    s3.put_object(Bucket=bucket, Key="m", Body=b"2")
    head = s3.head_object(Bucket=bucket, Key="m")
    assert head["Metadata"] == {}
    assert head["ContentType"] == "binary/octet-stream"


# --- user metadata -----------------------------------------------------------------------------

def test_user_metadata_round_trip(s3, bucket):
    meta = {"color": "blue", "Mixed-Case": "Value With Spaces", "empty": "", "n": "42"}
    s3.put_object(Bucket=bucket, Key="u", Body=b"x", Metadata=meta)
    expected = {k.lower(): v for k, v in meta.items()}  # S3 lower-cases metadata names
    assert s3.head_object(Bucket=bucket, Key="u")["Metadata"] == expected
    assert s3.get_object(Bucket=bucket, Key="u")["Metadata"] == expected


def test_user_metadata_near_limit_is_accepted(s3, bucket):
    # The 2 KB limit counts the UTF-8 bytes of names (without x-amz-meta-) and values.
    s3.put_object(Bucket=bucket, Key="u", Body=b"x", Metadata={"k": "v" * 1900})
    assert s3.head_object(Bucket=bucket, Key="u")["Metadata"] == {"k": "v" * 1900}


@pytest.mark.parametrize("meta", [{"big": "v" * 2100},
                                  {f"key{i}": "v" * 100 for i in range(25)}],
                         ids=["one-value", "many-values"])
def test_user_metadata_over_2kb_is_400_metadata_too_large(s3, bucket, meta):
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="u", Body=b"x", Metadata=meta))
    assert (err.status, err.code) == (400, "MetadataTooLarge")
    assert missing(s3, bucket, "u")


# --- conditional writes ------------------------------------------------------------------------

def test_if_none_match_star_on_new_key_succeeds(s3, bucket):
    s3.put_object(Bucket=bucket, Key="n", Body=b"first", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="n")["Body"].read() == b"first"


def test_if_none_match_star_on_existing_key_is_412(s3, bucket):
    s3.put_object(Bucket=bucket, Key="n", Body=b"first")
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="n", Body=b"second", IfNoneMatch="*"))
    assert (err.status, err.code) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="n")["Body"].read() == b"first"


def test_if_none_match_star_via_raw_header(stack, s3, bucket):
    # Same, with the header set by hand (what older SDKs would need). A fresh client: the hook
    # must not stay on the shared one.
    s3.put_object(Bucket=bucket, Key="n", Body=b"first")
    fresh = stack.client()
    headers_hook(fresh, "PutObject", {"If-None-Match": "*"})
    err = error_of(lambda: fresh.put_object(Bucket=bucket, Key="n", Body=b"second"))
    assert (err.status, err.code) == (412, "PreconditionFailed")


def test_if_match_right_etag_overwrites(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="m", Body=b"v1")["ETag"]
    s3.put_object(Bucket=bucket, Key="m", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == b"v2"


def test_if_match_wrong_etag_is_412(s3, bucket):
    s3.put_object(Bucket=bucket, Key="m", Body=b"v1")
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="m", Body=b"v2",
                                         IfMatch='"%s"' % hashlib.md5(b"other").hexdigest()))
    assert (err.status, err.code) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == b"v1"


def test_if_match_on_missing_key_is_404(s3, bucket):
    # AWS: "If there's no object with that key name, Amazon S3 returns 404 NoSuchKey."
    err = error_of(lambda: s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch='"abc"'))
    assert (err.status, err.code) == (404, "NoSuchKey")
    assert missing(s3, bucket, "absent")
