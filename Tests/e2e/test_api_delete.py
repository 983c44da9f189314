"""DeleteObject and DeleteObjects as AWS S3 answers them."""

from __future__ import annotations

from helpers import error_of


def keys(s3, bucket) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_delete_object_is_204(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="k")).status == 404


def test_delete_missing_key_is_204(s3, bucket):
    assert s3.delete_object(Bucket=bucket, Key="never-existed")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_in_missing_bucket_is_404(s3):
    err = error_of(lambda: s3.delete_object(Bucket="e2e-no-such-bucket-77d1e0", Key="k"))
    assert (err.status, err.code) == (404, "NoSuchBucket")


def test_delete_does_not_touch_keys_sharing_the_prefix(s3, bucket):
    for k in ("dir/", "dir/child", "dir", "dir2"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    s3.delete_object(Bucket=bucket, Key="dir/")
    s3.delete_object(Bucket=bucket, Key="di")  # not a key: nothing happens
    assert keys(s3, bucket) == ["dir", "dir/child", "dir2"]


def test_delete_objects_verbose_reports_every_key(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "missing"}]})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    # A key that does not exist is reported as deleted, like DeleteObject's 204.
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "b", "missing"]
    assert "Errors" not in out or out["Errors"] == []
    assert keys(s3, bucket) == ["c"]


def test_delete_objects_quiet_reports_nothing_on_success(s3, bucket):
    for k in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}], "Quiet": True})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out.get("Deleted", []) == []
    assert out.get("Errors", []) == []
    assert keys(s3, bucket) == []


def test_delete_objects_special_characters(s3, bucket):
    names = ["a&b", "<tag>", "quote\"'", "space key", "ünïcödé/€", "percent%20", "plus+sign"]
    for k in names:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.put_object(Bucket=bucket, Key="survivor", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in names]})
    assert sorted(d["Key"] for d in out["Deleted"]) == sorted(names)
    assert keys(s3, bucket) == ["survivor"]


def test_delete_objects_1000_keys_is_the_limit(s3, bucket):
    for k in ("k0000", "k0999"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i:04d}"} for i in range(1000)],
                                                   "Quiet": True})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out.get("Errors", []) == []
    assert keys(s3, bucket) == []


def test_delete_objects_1001_keys_is_400_malformed_xml(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k0000", Body=b"x")
    err = error_of(lambda: s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": f"k{i:04d}"} for i in range(1001)]}))
    assert (err.status, err.code) == (400, "MalformedXML")
    assert keys(s3, bucket) == ["k0000"]  # all or nothing: the request was rejected as a whole


def test_delete_objects_empty_list_is_400_malformed_xml(s3, bucket):
    err = error_of(lambda: s3.delete_objects(Bucket=bucket, Delete={"Objects": []}))
    assert (err.status, err.code) == (400, "MalformedXML")


def test_delete_objects_missing_bucket_is_404(s3):
    err = error_of(lambda: s3.delete_objects(Bucket="e2e-no-such-bucket-9f0c2a", Delete={"Objects": [{"Key": "k"}]}))
    assert (err.status, err.code) == (404, "NoSuchBucket")
