"""Bucket-level calls as AWS S3 answers them: CreateBucket errors, GetBucketLocation, ListBuckets
owner info; and what liteio does not implement (501 NotImplemented with an S3 XML error)."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError

from conftest import empty_and_delete_bucket, unique_bucket_name
from helpers import error_of


def test_create_bucket_twice_is_409_bucket_already_owned_by_you(s3, bucket):
    # Every AWS region answers 409 BucketAlreadyOwnedByYou here except us-east-1, where AWS keeps a
    # legacy 200 OK (documented under CreateBucket). liteio follows the general rule.
    err = error_of(lambda: s3.create_bucket(Bucket=bucket))
    assert (err.status, err.code) == (409, "BucketAlreadyOwnedByYou")
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_create_bucket_keeps_existing_contents(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    error_of(lambda: s3.create_bucket(Bucket=bucket))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


@pytest.mark.parametrize("name", [
    "ab",  # shorter than 3
    "a" * 64,  # longer than 63
    "UpperCase-e2e",
    "under_score-e2e",
    "-starts-with-dash",
    "ends-with-dash-",
    "double..dots-e2e",
    "192.168.5.4",  # IP address form
    "xn--prefixed-e2e",  # reserved prefix
    "suffixed-e2e-s3alias",  # reserved suffix
])
def test_invalid_bucket_name_is_400(s3, name):
    # Names botocore accepts client-side ([a-zA-Z0-9.\-_]{1,255}) but S3's naming rules do not.
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as e:
        status, code = e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    else:
        empty_and_delete_bucket(s3, name)
        raise AssertionError(f"bucket {name!r} was created")
    assert (status, code) == (400, "InvalidBucketName")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_valid_edge_bucket_names(s3):
    for name in ("abc", "a" * 63, "with.dots.e2e-" + unique_bucket_name()[4:20], "0digits-first-e2e"):
        s3.create_bucket(Bucket=name)
        try:
            assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        finally:
            empty_and_delete_bucket(s3, name)


def test_get_bucket_location_us_east_1_is_empty(s3, bucket):
    out = s3.get_bucket_location(Bucket=bucket)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    # us-east-1 is reported as an empty LocationConstraint, which boto3 turns into None.
    assert out.get("LocationConstraint") is None


def test_get_bucket_location_missing_bucket_is_404(s3):
    err = error_of(lambda: s3.get_bucket_location(Bucket="e2e-no-such-bucket-0b7e2f"))
    assert (err.status, err.code) == (404, "NoSuchBucket")


def test_list_buckets_owner_and_creation_date(s3, bucket):
    out = s3.list_buckets()
    owner = out["Owner"]
    assert owner.get("ID"), owner
    mine = [b for b in out["Buckets"] if b["Name"] == bucket]
    assert len(mine) == 1
    created = mine[0]["CreationDate"]
    assert isinstance(created, datetime.datetime)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()) < 300
    # The same canonical owner id is what object listings report.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    listed = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert listed["Owner"]["ID"] == owner["ID"]


def test_list_buckets_sorted_by_name(s3):
    names = [unique_bucket_name("e2e-z"), unique_bucket_name("e2e-a")]
    for n in names:
        s3.create_bucket(Bucket=n)
    try:
        listed = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert listed == sorted(listed)
        assert set(names) <= set(listed)
    finally:
        for n in names:
            empty_and_delete_bucket(s3, n)


def test_head_and_delete_missing_bucket(s3):
    assert error_of(lambda: s3.head_bucket(Bucket="e2e-no-such-bucket-5e1a90")).status == 404
    err = error_of(lambda: s3.delete_bucket(Bucket="e2e-no-such-bucket-5e1a90"))
    assert (err.status, err.code) == (404, "NoSuchBucket")


# --- not implemented ---------------------------------------------------------------------------

UNIMPLEMENTED = {
    "GetBucketPolicy": lambda s3, b: s3.get_bucket_policy(Bucket=b),
    "PutBucketVersioning": lambda s3, b: s3.put_bucket_versioning(
        Bucket=b, VersioningConfiguration={"Status": "Enabled"}),
    "GetBucketCors": lambda s3, b: s3.get_bucket_cors(Bucket=b),
    "PutBucketLifecycleConfiguration": lambda s3, b: s3.put_bucket_lifecycle_configuration(
        Bucket=b, LifecycleConfiguration={"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
                                                     "Expiration": {"Days": 1}}]}),
    "GetObjectRetention": lambda s3, b: s3.get_object_retention(Bucket=b, Key="k"),
}


@pytest.mark.parametrize("operation", list(UNIMPLEMENTED))
def test_unimplemented_operation_is_501_with_xml_error(s3, bucket, operation):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    try:
        UNIMPLEMENTED[operation](s3, bucket)
    except Exception as e:  # noqa: BLE001 - ClientError
        response = e.response
    else:
        raise AssertionError(f"{operation} succeeded")
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 501
    # botocore takes the code from the XML body; without one it would be "501".
    assert response["Error"]["Code"] == "NotImplemented"
    assert "xml" in meta["HTTPHeaders"].get("content-type", "")
    # Nothing about the bucket changed.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
