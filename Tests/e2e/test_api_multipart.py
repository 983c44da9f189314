"""Multipart uploads as AWS S3 answers them: create/upload/complete/abort, ListParts,
ListMultipartUploads (prefix, delimiter, pagination) and the errors (NoSuchUpload, InvalidPart,
InvalidPartOrder, EntityTooSmall). Parts but the last are 5 MiB, S3's minimum."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from helpers import error_of

MiB = 1 << 20
PART = 5 * MiB

_blocks: dict[tuple[int, int], bytes] = {}


def block(size: int, seed: int = 0) -> bytes:
    """Random bytes, made once per (size, seed)."""
    if (size, seed) not in _blocks:
        _blocks[(size, seed)] = os.urandom(size)
    return _blocks[(size, seed)]


def multipart_etag(parts: list[bytes]) -> str:
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def upload(s3, bucket, key, upload_id, number, data) -> dict:
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"]
    return {"PartNumber": number, "ETag": etag}


def complete(s3, bucket, key, upload_id, parts):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})


def new_upload(s3, bucket, key="mp", **kwargs) -> str:
    return s3.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)["UploadId"]


def test_round_trip_and_etag(s3, bucket):
    parts = [block(PART, 1), block(PART, 2), block(1024, 3)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Metadata={"kind": "multipart"},
                                    CacheControl="no-cache")
    assert up["Bucket"] == bucket and up["Key"] == "mp" and up["UploadId"]
    done = []
    for n, data in enumerate(parts, 1):
        part = upload(s3, bucket, "mp", up["UploadId"], n, data)
        assert part["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
        done.append(part)
    # Not visible before completion.
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="mp")).status == 404
    out = complete(s3, bucket, "mp", up["UploadId"], done)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["Bucket"] == bucket and out["Key"] == "mp"
    assert out["ETag"] == multipart_etag(parts)
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert head["ETag"] == multipart_etag(parts)
    assert head["ContentLength"] == sum(map(len, parts))
    assert head["Metadata"] == {"kind": "multipart"}
    assert head["CacheControl"] == "no-cache"
    body = s3.get_object(Bucket=bucket, Key="mp")["Body"].read()
    assert hashlib.md5(body).digest() == hashlib.md5(b"".join(parts)).digest()
    # The upload is gone.
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    err = error_of(lambda: s3.list_parts(Bucket=bucket, Key="mp", UploadId=up["UploadId"]))
    assert (err.status, err.code) == (404, "NoSuchUpload")


def test_content_type_from_create(s3, bucket):
    up = new_upload(s3, bucket, ContentType="video/mp4")
    complete(s3, bucket, "mp", up, [upload(s3, bucket, "mp", up, 1, b"tiny")])
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentType"] == "video/mp4"


def test_single_small_part_is_fine(s3, bucket):
    up = new_upload(s3, bucket)
    out = complete(s3, bucket, "mp", up, [upload(s3, bucket, "mp", up, 1, b"only part")])
    assert out["ETag"] == multipart_etag([b"only part"])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"only part"


def test_parts_uploaded_out_of_order(s3, bucket):
    p1, p2 = block(PART, 4), b"second and last"
    up = new_upload(s3, bucket)
    second = upload(s3, bucket, "mp", up, 2, p2)
    first = upload(s3, bucket, "mp", up, 1, p1)
    complete(s3, bucket, "mp", up, [first, second])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == p1 + p2


def test_reuploaded_part_replaces_the_old_one(s3, bucket):
    old, new, tail = block(PART, 5), block(PART, 6), b"tail"
    up = new_upload(s3, bucket)
    stale = upload(s3, bucket, "mp", up, 1, old)
    fresh = upload(s3, bucket, "mp", up, 1, new)
    last = upload(s3, bucket, "mp", up, 2, tail)
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [(1, fresh["ETag"], PART), (2, last["ETag"], 4)]
    # The replaced part's ETag no longer names a part.
    err = error_of(lambda: complete(s3, bucket, "mp", up, [stale, last]))
    assert (err.status, err.code) == (400, "InvalidPart")
    complete(s3, bucket, "mp", up, [fresh, last])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == new + tail


def test_complete_with_a_subset_of_parts(s3, bucket):
    # Part numbers need not be consecutive and unused parts are dropped.
    p1, p2, p3 = block(PART, 7), b"unused", b"third"
    up = new_upload(s3, bucket)
    a = upload(s3, bucket, "mp", up, 1, p1)
    upload(s3, bucket, "mp", up, 2, p2)
    c = upload(s3, bucket, "mp", up, 3, p3)
    out = complete(s3, bucket, "mp", up, [a, c])
    assert out["ETag"] == multipart_etag([p1, p3])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == p1 + p3


def test_complete_overwrites_existing_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="mp", Body=b"old object")
    up = new_upload(s3, bucket)
    # Still the old object while the upload is in progress.
    part = upload(s3, bucket, "mp", up, 1, b"new")
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"old object"
    complete(s3, bucket, "mp", up, [part])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"new"


# --- errors ------------------------------------------------------------------------------------

def test_invalid_part_wrong_etag(s3, bucket):
    up = new_upload(s3, bucket)
    part = upload(s3, bucket, "mp", up, 1, b"data")
    bad = {"PartNumber": 1, "ETag": '"%s"' % hashlib.md5(b"other").hexdigest()}
    err = error_of(lambda: complete(s3, bucket, "mp", up, [bad]))
    assert (err.status, err.code) == (400, "InvalidPart")
    # A part that was never uploaded.
    err = error_of(lambda: complete(s3, bucket, "mp", up, [part, {"PartNumber": 2, "ETag": part["ETag"]}]))
    assert (err.status, err.code) == (400, "InvalidPart")
    # The upload survives a failed completion.
    complete(s3, bucket, "mp", up, [part])
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"data"


def test_invalid_part_order(s3, bucket):
    up = new_upload(s3, bucket)
    a = upload(s3, bucket, "mp", up, 1, block(PART, 8))
    b = upload(s3, bucket, "mp", up, 2, b"last")
    err = error_of(lambda: complete(s3, bucket, "mp", up, [b, a]))
    assert (err.status, err.code) == (400, "InvalidPartOrder")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="mp")).status == 404


def test_entity_too_small(s3, bucket):
    up = new_upload(s3, bucket)
    parts = [upload(s3, bucket, "mp", up, 1, block(1024, 9)), upload(s3, bucket, "mp", up, 2, block(1024, 10))]
    err = error_of(lambda: complete(s3, bucket, "mp", up, parts))
    assert (err.status, err.code) == (400, "EntityTooSmall")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="mp")).status == 404


def test_part_just_under_minimum_is_too_small(s3, bucket):
    up = new_upload(s3, bucket)
    parts = [upload(s3, bucket, "mp", up, 1, block(PART - 1, 11)), upload(s3, bucket, "mp", up, 2, b"x")]
    err = error_of(lambda: complete(s3, bucket, "mp", up, parts))
    assert (err.status, err.code) == (400, "EntityTooSmall")


def test_complete_without_parts_is_400_malformed_xml(s3, bucket):
    # AWS: 400 MalformedXML ("The XML you provided was not well-formed or did not validate
    # against our published schema") when <CompleteMultipartUpload> lists no part.
    up = new_upload(s3, bucket)
    upload(s3, bucket, "mp", up, 1, b"x")
    err = error_of(lambda: complete(s3, bucket, "mp", up, []))
    assert (err.status, err.code) == (400, "MalformedXML")


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range_is_400_invalid_argument(s3, bucket, number):
    up = new_upload(s3, bucket)
    err = error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=number, Body=b"x"))
    assert (err.status, err.code) == (400, "InvalidArgument")


def test_no_such_upload(s3, bucket):
    bogus = "bm90LWFuLXVwbG9hZC1pZA"
    calls = {
        "UploadPart": lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=bogus, PartNumber=1, Body=b"x"),
        "ListParts": lambda: s3.list_parts(Bucket=bucket, Key="mp", UploadId=bogus),
        "CompleteMultipartUpload": lambda: complete(s3, bucket, "mp", bogus,
                                                    [{"PartNumber": 1, "ETag": '"%s"' % hashlib.md5(b"x").hexdigest()}]),
        "AbortMultipartUpload": lambda: s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=bogus),
    }
    wrong = {}
    for name, call in calls.items():
        err = error_of(call)
        if (err.status, err.code) != (404, "NoSuchUpload"):
            wrong[name] = (err.status, err.code)
    assert not wrong, wrong


def test_upload_id_is_bound_to_its_key(s3, bucket):
    up = new_upload(s3, bucket, key="one")
    err = error_of(lambda: s3.upload_part(Bucket=bucket, Key="other", UploadId=up, PartNumber=1, Body=b"x"))
    assert (err.status, err.code) == (404, "NoSuchUpload")


def test_abort(s3, bucket):
    up = new_upload(s3, bucket)
    upload(s3, bucket, "mp", up, 1, b"x")
    out = s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    err = error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=2, Body=b"x"))
    assert (err.status, err.code) == (404, "NoSuchUpload")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="mp")).status == 404


# --- ListParts ---------------------------------------------------------------------------------

def test_list_parts_fields_and_pagination(s3, bucket):
    up = new_upload(s3, bucket)
    datas = {n: f"part {n}".encode() * n for n in (1, 2, 3, 5)}
    etags = {n: upload(s3, bucket, "mp", up, n, d)["ETag"] for n, d in datas.items()}
    out = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)
    assert out["Bucket"] == bucket and out["Key"] == "mp" and out["UploadId"] == up
    assert out["IsTruncated"] is False
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in out["Parts"]] == \
        [(n, etags[n], len(datas[n])) for n in (1, 2, 3, 5)]
    assert all("LastModified" in p for p in out["Parts"])
    page = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True
    assert page["MaxParts"] == 2
    assert page["NextPartNumberMarker"] == 2
    rest = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3, 5]
    assert rest["IsTruncated"] is False
    pages = s3.get_paginator("list_parts").paginate(Bucket=bucket, Key="mp", UploadId=up,
                                                    PaginationConfig={"PageSize": 1})
    assert [p["PartNumber"] for page in pages for p in page["Parts"]] == [1, 2, 3, 5]


# --- ListMultipartUploads ----------------------------------------------------------------------

@pytest.fixture
def uploads(s3, bucket):
    """Five uploads: two on a/1, one each on a/2, b/1 and c. Returns [(key, upload id)]."""
    made = []
    for key in ("a/1", "a/1", "a/2", "b/1", "c"):
        made.append((key, new_upload(s3, bucket, key=key)))
    return made


def test_list_multipart_uploads_all(s3, bucket, uploads):
    out = s3.list_multipart_uploads(Bucket=bucket)
    assert out["Bucket"] == bucket
    assert out["IsTruncated"] is False
    got = [(u["Key"], u["UploadId"]) for u in out["Uploads"]]
    assert sorted(got) == sorted(uploads)
    assert [k for k, _ in got] == sorted(k for k, _ in got)  # ordered by key
    assert all("Initiated" in u for u in out["Uploads"])


def test_list_multipart_uploads_prefix_and_delimiter(s3, bucket, uploads):
    out = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert sorted(u["Key"] for u in out["Uploads"]) == ["a/1", "a/1", "a/2"]
    out = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in out.get("Uploads", [])] == ["c"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/", "b/"]
    out = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert sorted(u["Key"] for u in out["Uploads"]) == ["a/1", "a/1", "a/2"]
    assert out.get("CommonPrefixes", []) == []


def test_list_multipart_uploads_pagination(s3, bucket, uploads):
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert len(page["Uploads"]) == 2
    assert page["IsTruncated"] is True
    assert page["MaxUploads"] == 2
    assert page["NextKeyMarker"] == page["Uploads"][-1]["Key"]
    assert page["NextUploadIdMarker"] == page["Uploads"][-1]["UploadId"]
    seen = [(u["Key"], u["UploadId"]) for u in page["Uploads"]]
    while page["IsTruncated"]:
        page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, KeyMarker=page["NextKeyMarker"],
                                         UploadIdMarker=page["NextUploadIdMarker"])
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        assert len(seen) <= len(uploads), seen
    assert sorted(seen) == sorted(uploads)
    assert len(set(seen)) == len(seen)


def test_list_multipart_uploads_paginator(s3, bucket, uploads):
    pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1})
    seen = [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])]
    assert sorted(seen) == sorted(uploads) and len(seen) == len(uploads)


def test_list_multipart_uploads_key_marker_alone(s3, bucket, uploads):
    # KeyMarker without UploadIdMarker: only uploads for keys after the marker.
    out = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="a/1")
    assert [u["Key"] for u in out["Uploads"]] == ["a/2", "b/1", "c"]
    assert out["KeyMarker"] == "a/1"


# --- the AWS CLI -------------------------------------------------------------------------------

def test_cli_cp_multipart_etag_and_parts(aws, s3, bucket, tmp_path):
    # 17 MiB with the CLI's default 8 MiB chunk size: a three-part upload.
    data = block(PART, 12) + block(PART, 13) + block(7 * MiB, 14)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    up = aws("s3", "cp", src, f"s3://{bucket}/cli/big.bin")
    assert up.returncode == 0, up.stderr
    chunks = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
    head = aws("s3api", "head-object", "--bucket", bucket, "--key", "cli/big.bin", "--part-number", "3")
    assert head.returncode == 0, head.stderr
    parsed = json.loads(head.stdout)
    assert parsed["ETag"] == multipart_etag(chunks)
    assert parsed["PartsCount"] == 3
    assert parsed["ContentLength"] == len(chunks[2])


def test_cli_list_multipart_uploads_and_abort(aws, s3, bucket):
    up = new_upload(s3, bucket, key="cli/pending")
    listed = aws("s3api", "list-multipart-uploads", "--bucket", bucket, "--prefix", "cli/")
    assert listed.returncode == 0, listed.stderr
    assert [(u["Key"], u["UploadId"]) for u in json.loads(listed.stdout)["Uploads"]] == [("cli/pending", up)]
    abort = aws("s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "cli/pending", "--upload-id", up)
    assert abort.returncode == 0, abort.stderr
    gone = aws("s3api", "list-parts", "--bucket", bucket, "--key", "cli/pending", "--upload-id", up)
    assert gone.returncode != 0
    assert "NoSuchUpload" in gone.stderr, gone.stderr
