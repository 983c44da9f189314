"""ListObjects (v1) and ListObjectsV2 as AWS S3 answers them: prefix, delimiter, max-keys,
pagination, StartAfter/Marker, EncodingType=url and owner info."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from helpers import error_of

KEYS = ["a.txt", "dir/one", "dir/sub/three", "dir/two", "dir2/x", "z"]
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture
def filled(s3, bucket):
    for k in KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def raw_bodies(client, operation):
    """Collects the raw XML bodies of OPERATION's responses (before botocore parses/decodes them)."""
    bodies = []
    client.meta.events.register(f"before-parse.s3.{operation}",
                                lambda response_dict, **_: bodies.append(response_dict["body"]))
    return bodies


# --- v2 ----------------------------------------------------------------------------------------

def test_v2_lists_everything_sorted_with_fields(s3, filled):
    out = s3.list_objects_v2(Bucket=filled)
    assert [o["Key"] for o in out["Contents"]] == KEYS
    assert out["KeyCount"] == len(KEYS)
    assert out["IsTruncated"] is False
    assert out["MaxKeys"] == 1000
    assert out["Name"] == filled
    assert "NextContinuationToken" not in out
    first = out["Contents"][0]
    assert first["Size"] == len("a.txt")
    assert first["ETag"] == '"%s"' % hashlib.md5(b"a.txt").hexdigest()
    assert first["StorageClass"] == "STANDARD"
    assert "LastModified" in first
    assert "Owner" not in first  # v2 reports owners only with FetchOwner=true


def test_v2_prefix(s3, filled):
    out = s3.list_objects_v2(Bucket=filled, Prefix="dir/")
    assert [o["Key"] for o in out["Contents"]] == ["dir/one", "dir/sub/three", "dir/two"]
    assert out["Prefix"] == "dir/"
    assert "Contents" not in s3.list_objects_v2(Bucket=filled, Prefix="nothing-here")


def test_v2_delimiter(s3, filled):
    out = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["a.txt", "z"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["dir/", "dir2/"]
    assert out["KeyCount"] == 4  # keys and common prefixes both count
    assert out["Delimiter"] == "/"


def test_v2_prefix_and_delimiter(s3, filled):
    out = s3.list_objects_v2(Bucket=filled, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["dir/one", "dir/two"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["dir/sub/"]


def test_v2_non_slash_delimiter(s3, filled):
    out = s3.list_objects_v2(Bucket=filled, Delimiter="r")
    # "dir/..." and "dir2/x" roll up into "dir"; "a.txt" and "z" have no "r".
    assert [o["Key"] for o in out["Contents"]] == ["a.txt", "z"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["dir"]


def test_v2_max_keys_and_continuation(s3, filled):
    first = s3.list_objects_v2(Bucket=filled, MaxKeys=2)
    assert [o["Key"] for o in first["Contents"]] == KEYS[:2]
    assert first["IsTruncated"] is True
    assert first["KeyCount"] == 2 and first["MaxKeys"] == 2
    token = first["NextContinuationToken"]
    second = s3.list_objects_v2(Bucket=filled, MaxKeys=2, ContinuationToken=token)
    assert second["ContinuationToken"] == token
    assert [o["Key"] for o in second["Contents"]] == KEYS[2:4]
    third = s3.list_objects_v2(Bucket=filled, MaxKeys=2, ContinuationToken=second["NextContinuationToken"])
    assert [o["Key"] for o in third["Contents"]] == KEYS[4:]
    assert third["IsTruncated"] is False
    assert "NextContinuationToken" not in third


@pytest.mark.parametrize("page_size", [1, 2, 5])
def test_v2_paginator(s3, filled, page_size):
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=filled, PaginationConfig={"PageSize": page_size}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == KEYS
    assert len(pages) == -(-len(KEYS) // page_size)


def test_v2_paginator_with_delimiter_counts_prefixes(s3, filled):
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=filled, Delimiter="/",
                                                              PaginationConfig={"PageSize": 1}))
    entries = []
    for p in pages:
        page_entries = [o["Key"] for o in p.get("Contents", [])] + [c["Prefix"] for c in p.get("CommonPrefixes", [])]
        assert len(page_entries) <= 1, page_entries
        entries += page_entries
    assert entries == ["a.txt", "dir/", "dir2/", "z"]  # each prefix once, in order


def test_v2_start_after(s3, filled):
    out = s3.list_objects_v2(Bucket=filled, StartAfter="dir/sub")
    assert [o["Key"] for o in out["Contents"]] == ["dir/sub/three", "dir/two", "dir2/x", "z"]
    assert out["StartAfter"] == "dir/sub"
    out = s3.list_objects_v2(Bucket=filled, StartAfter="zzz")
    assert "Contents" not in out and out["KeyCount"] == 0


def test_v2_fetch_owner(s3, filled):
    out = s3.list_objects_v2(Bucket=filled, FetchOwner=True)
    assert all(o["Owner"].get("ID") for o in out["Contents"])


def test_v2_invalid_continuation_token_is_400(s3, filled):
    err = error_of(lambda: s3.list_objects_v2(Bucket=filled, ContinuationToken="definitely-not-a-token"))
    assert (err.status, err.code) == (400, "InvalidArgument")


def test_list_missing_bucket_is_404(s3):
    err = error_of(lambda: s3.list_objects_v2(Bucket="e2e-no-such-bucket-a4f019"))
    assert (err.status, err.code) == (404, "NoSuchBucket")


# --- v1 ----------------------------------------------------------------------------------------

def test_v1_lists_with_owner(s3, filled):
    out = s3.list_objects(Bucket=filled)
    assert [o["Key"] for o in out["Contents"]] == KEYS
    assert out["IsTruncated"] is False
    assert out["MaxKeys"] == 1000
    assert all(o["Owner"].get("ID") for o in out["Contents"])  # v1 always reports owners


def test_v1_marker_and_truncation_without_delimiter(s3, filled):
    first = s3.list_objects(Bucket=filled, MaxKeys=3)
    assert [o["Key"] for o in first["Contents"]] == KEYS[:3]
    assert first["IsTruncated"] is True
    # NextMarker is returned only when a delimiter was given; clients use the last key.
    assert "NextMarker" not in first
    second = s3.list_objects(Bucket=filled, MaxKeys=3, Marker=first["Contents"][-1]["Key"])
    assert second["Marker"] == "dir/sub/three"
    assert [o["Key"] for o in second["Contents"]] == KEYS[3:]
    assert second["IsTruncated"] is False


def test_v1_next_marker_with_delimiter(s3, filled):
    first = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert [o["Key"] for o in first.get("Contents", [])] == ["a.txt"]
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["dir/"]
    assert first["IsTruncated"] is True
    assert first["NextMarker"] == "dir/"
    second = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2, Marker=first["NextMarker"])
    assert [o["Key"] for o in second.get("Contents", [])] == ["z"]
    assert [p["Prefix"] for p in second["CommonPrefixes"]] == ["dir2/"]
    assert second["IsTruncated"] is False


@pytest.mark.parametrize("delimiter", [None, "/"])
def test_v1_paginator(s3, filled, delimiter):
    kwargs = {"Delimiter": delimiter} if delimiter else {}
    pages = list(s3.get_paginator("list_objects").paginate(Bucket=filled, PaginationConfig={"PageSize": 2}, **kwargs))
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    if delimiter:
        assert (keys, prefixes) == (["a.txt", "z"], ["dir/", "dir2/"])
    else:
        assert keys == KEYS and prefixes == []


# --- EncodingType=url --------------------------------------------------------------------------

ODD_KEYS = ["plain", "with space/inner key", "ünïcödé/€uro", "plus+sign", "amp&lt<gt>", "percent%41"]


@pytest.mark.parametrize("operation", ["list_objects", "list_objects_v2"])
def test_sdk_auto_url_encoding_round_trips_odd_keys(stack, s3, bucket, operation):
    # Without EncodingType botocore itself asks for encoding-type=url and decodes the answer
    # (unquote_plus): the exact keys must come back.
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    client = stack.client()
    model_name = {"list_objects": "ListObjects", "list_objects_v2": "ListObjectsV2"}[operation]
    bodies = raw_bodies(client, model_name)
    out = getattr(client, operation)(Bucket=bucket)
    assert sorted(o["Key"] for o in out["Contents"]) == sorted(ODD_KEYS)
    assert ET.fromstring(bodies[-1]).findtext(f"{NS}EncodingType") == "url"


@pytest.mark.parametrize("operation", ["list_objects", "list_objects_v2"])
def test_explicit_encoding_type_url_returns_encoded_keys(s3, bucket, operation):
    # With an explicit EncodingType botocore hands the encoded values through untouched.
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    out = getattr(s3, operation)(Bucket=bucket, EncodingType="url")
    assert out["EncodingType"] == "url"
    raw_keys = [o["Key"] for o in out["Contents"]]
    for raw in raw_keys:
        # Encoded on the wire: nothing outside ASCII, no literal space, and a literal "+" or "%"
        # in a key must itself be encoded (else decoding would change the key).
        assert raw.isascii() and " " not in raw, raw
    assert sorted(urllib.parse.unquote_plus(r) for r in raw_keys) == sorted(ODD_KEYS)
    assert "plain" in raw_keys


def test_explicit_encoding_type_url_encodes_prefixes(s3, bucket):
    for k in ("sp ace/a", "sp ace/b", "ü/c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    out = s3.list_objects_v2(Bucket=bucket, Delimiter="/", EncodingType="url")
    prefixes = [p["Prefix"] for p in out["CommonPrefixes"]]
    assert all(p.isascii() and " " not in p for p in prefixes), prefixes
    assert sorted(urllib.parse.unquote_plus(p) for p in prefixes) == ["sp ace/", "ü/"]
    out = s3.list_objects_v2(Bucket=bucket, Prefix="sp ace/", EncodingType="url")
    assert urllib.parse.unquote_plus(out["Prefix"]) == "sp ace/" and " " not in out["Prefix"]
    assert [urllib.parse.unquote_plus(o["Key"]) for o in out["Contents"]] == ["sp ace/a", "sp ace/b"]


def test_unicode_keys_without_encoding_type(stack, s3, bucket):
    # botocore asks for EncodingType=url on its own unless told otherwise; strip it to see the
    # plain XML form (UTF-8 keys, XML-escaped).
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    client = stack.client()

    def drop_encoding(params, **_):
        params.pop("EncodingType", None)

    client.meta.events.register("before-parameter-build.s3.ListObjectsV2", drop_encoding)
    bodies = raw_bodies(client, "ListObjectsV2")
    client.list_objects_v2(Bucket=bucket)
    root = ET.fromstring(bodies[-1])
    assert root.find(f"{NS}EncodingType") is None
    assert sorted(c.findtext(f"{NS}Key") for c in root.iter(f"{NS}Contents")) == sorted(ODD_KEYS)


def test_cli_list_objects_v2_prefix_delimiter(aws, filled):
    out = aws("s3api", "list-objects-v2", "--bucket", filled, "--prefix", "dir/", "--delimiter", "/")
    assert out.returncode == 0, out.stderr
    parsed = json.loads(out.stdout)
    assert [o["Key"] for o in parsed["Contents"]] == ["dir/one", "dir/two"]
    assert [p["Prefix"] for p in parsed["CommonPrefixes"]] == ["dir/sub/"]


def test_cli_s3_ls_odd_keys(aws, s3, bucket):
    # `aws s3 ls` lists with EncodingType=url and decodes, like boto3.
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    out = aws("s3", "ls", "--recursive", f"s3://{bucket}/")
    assert out.returncode == 0, out.stderr
    listed = sorted(line.split(None, 3)[3] for line in out.stdout.splitlines() if line.strip())
    assert listed == sorted(ODD_KEYS)
