"""Multipart at its limits, on a private stack whose minimum part size is 1 byte: 10,000 parts,
out-of-order and replaced parts, and SIGKILL in the middle of CompleteMultipartUpload."""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import random
import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import free_port
from own_stack import OwnStack


@pytest.fixture(scope="module")
def small_parts_stack(tmp_path_factory):
    with OwnStack(tmp_path_factory.mktemp("mp"), free_port(), {"minPartSize": 1, "processes": 2, "workers": 8}) as stack:
        stack.client().create_bucket(Bucket="mpb")
        yield stack


def part_body(number: int) -> bytes:
    return f"part-{number:05d};".encode() * (1 + number % 3)


def test_ten_thousand_parts(small_parts_stack):
    stack = small_parts_stack
    s3 = stack.client(max_pool_connections=16)
    uid = s3.create_multipart_upload(Bucket="mpb", Key="tenk")["UploadId"]
    numbers = list(range(1, 10_001))
    random.shuffle(numbers)  # out of order on purpose

    def upload(number):
        return number, s3.upload_part(Bucket="mpb", Key="tenk", UploadId=uid, PartNumber=number, Body=part_body(number))["ETag"]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        etags = dict(pool.map(upload, numbers))
    listed = s3.list_parts(Bucket="mpb", Key="tenk", UploadId=uid, MaxParts=1000)
    assert listed["IsTruncated"] and len(listed["Parts"]) == 1000 and listed["Parts"][0]["PartNumber"] == 1
    late = s3.list_parts(Bucket="mpb", Key="tenk", UploadId=uid, PartNumberMarker=5000, MaxParts=3)
    assert [p["PartNumber"] for p in late["Parts"]] == [5001, 5002, 5003]
    s3.complete_multipart_upload(Bucket="mpb", Key="tenk", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in range(1, 10_001)]})
    expected = b"".join(part_body(n) for n in range(1, 10_001))
    got = s3.get_object(Bucket="mpb", Key="tenk")
    assert got["ContentLength"] == len(expected)
    assert got["Body"].read() == expected
    digest = hashlib.md5(b"".join(bytes.fromhex(etags[n].strip('"')) for n in range(1, 10_001))).hexdigest()
    assert got["ETag"].strip('"') == f"{digest}-10000"
    last = s3.get_object(Bucket="mpb", Key="tenk", PartNumber=10_000)
    assert last["Body"].read() == part_body(10_000) and last["PartsCount"] == 10_000
    assert s3.head_object(Bucket="mpb", Key="tenk", PartNumber=5000)["ContentLength"] == len(part_body(5000))


def test_replaced_part_wins(small_parts_stack):
    s3 = small_parts_stack.client()
    uid = s3.create_multipart_upload(Bucket="mpb", Key="replace")["UploadId"]
    s3.upload_part(Bucket="mpb", Key="replace", UploadId=uid, PartNumber=2, Body=b"second")
    first_old = s3.upload_part(Bucket="mpb", Key="replace", UploadId=uid, PartNumber=1, Body=b"old")["ETag"]
    first_new = s3.upload_part(Bucket="mpb", Key="replace", UploadId=uid, PartNumber=1, Body=b"new!")["ETag"]
    second = s3.list_parts(Bucket="mpb", Key="replace", UploadId=uid)["Parts"][1]["ETag"]
    with pytest.raises(ClientError) as stale:
        s3.complete_multipart_upload(Bucket="mpb", Key="replace", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first_old}, {"PartNumber": 2, "ETag": second}]})
    assert stale.value.response["Error"]["Code"] == "InvalidPart"
    s3.complete_multipart_upload(Bucket="mpb", Key="replace", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first_new}, {"PartNumber": 2, "ETag": second}]})
    assert s3.get_object(Bucket="mpb", Key="replace")["Body"].read() == b"new!second"


def test_concurrent_complete_and_abort_have_one_outcome(small_parts_stack):
    s3 = small_parts_stack.client()
    for round_ in range(5):
        key = f"race-{round_}"
        uid = s3.create_multipart_upload(Bucket="mpb", Key=key)["UploadId"]
        etag = s3.upload_part(Bucket="mpb", Key=key, UploadId=uid, PartNumber=1, Body=os.urandom(4 << 20))["ETag"]
        results = {}

        def complete():
            try:
                s3.complete_multipart_upload(Bucket="mpb", Key=key, UploadId=uid,
                                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
                results["complete"] = "ok"
            except ClientError as e:
                results["complete"] = e.response["Error"]["Code"]

        def abort():
            try:
                s3.abort_multipart_upload(Bucket="mpb", Key=key, UploadId=uid)
                results["abort"] = "ok"
            except ClientError as e:
                results["abort"] = e.response["Error"]["Code"]

        threads = [threading.Thread(target=complete), threading.Thread(target=abort)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        exists = "Contents" in s3.list_objects_v2(Bucket="mpb", Prefix=key)
        if results["complete"] == "ok":
            assert exists and results["abort"] == "NoSuchUpload", results
        else:
            assert results == {"complete": "NoSuchUpload", "abort": "ok"} and not exists, results
        assert not any(u["UploadId"] == uid for u in s3.list_multipart_uploads(Bucket="mpb").get("Uploads", []))


def test_sigkill_during_complete_leaves_complete_or_completable(small_parts_stack):
    stack = small_parts_stack
    s3 = stack.client()
    part = os.urandom(8 << 20)
    outcomes = set()
    for round_ in range(6):
        key = f"killed-{round_}"
        uid = s3.create_multipart_upload(Bucket="mpb", Key=key)["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="mpb", Key=key, UploadId=uid, PartNumber=n, Body=part)["ETag"]}
                 for n in range(1, 13)]  # 96 MiB

        def complete():
            try:
                stack.client().complete_multipart_upload(Bucket="mpb", Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
            except Exception:
                pass

        t = threading.Thread(target=complete)
        t.start()
        time.sleep(0.02 + round_ * 0.03)
        for pid in stack.worker_pids():
            os.kill(pid, signal.SIGKILL)
        t.join(timeout=60)
        stack.wait_ready()
        try:
            head = s3.head_object(Bucket="mpb", Key=key)
            assert head["ContentLength"] == 12 * len(part), "a partial object became visible"
            outcomes.add("completed")
        except ClientError as e:
            assert e.response["Error"]["Code"] in ("404", "NoSuchKey")
            # Still completable: the parts are all there and Complete now succeeds.
            assert len(s3.list_parts(Bucket="mpb", Key=key, UploadId=uid)["Parts"]) == 12
            s3.complete_multipart_upload(Bucket="mpb", Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
            outcomes.add("completable")
        body = s3.get_object(Bucket="mpb", Key=key)["Body"].read()
        assert body == part * 12
        s3.delete_object(Bucket="mpb", Key=key)
    assert outcomes, "no round ran"


def test_abandoned_uploads_are_aborted_by_age(tmp_path):
    # 0.0005 h = 1.8 s: the sweep runs when liteio starts (and hourly after).
    with OwnStack(tmp_path / "sweep", free_port(), {"abandonedUploadHours": 0.0005}) as stack:
        s3 = stack.client()
        s3.create_bucket(Bucket="sweep")
        old = s3.create_multipart_upload(Bucket="sweep", Key="old")["UploadId"]
        s3.upload_part(Bucket="sweep", Key="old", UploadId=old, PartNumber=1, Body=b"x")
        time.sleep(2.5)
        fresh = s3.create_multipart_upload(Bucket="sweep", Key="fresh")["UploadId"]
        stack.restart_liteio()
        for _ in range(50):  # the sweep runs on its own thread right after start
            remaining = [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="sweep").get("Uploads", [])]
            if remaining == [fresh]:
                break
            time.sleep(0.1)
        assert remaining == [fresh]
        with pytest.raises(ClientError) as gone:
            s3.list_parts(Bucket="sweep", Key="old", UploadId=old)
        assert gone.value.response["Error"]["Code"] == "NoSuchUpload"
