"""Authentication end to end, as AWS S3 does it: SigV4 with a signed payload, x-amz-content-sha256
mismatches, STREAMING-AWS4-HMAC-SHA256-PAYLOAD signed chunks (built by hand, per AWS's "Signature
Calculations for the Authorization Header: Transferring Payload in Multiple Chunks"), presigned URLs,
clock skew, a second user and anonymous requests.

boto3 cannot send most of these (it always signs what it sends, and over HTTPS it never signs the
body), so a small raw SigV4 client built on urllib3 lives here."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import signal
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import urllib3
from botocore import UNSIGNED

from conftest import empty_and_delete_bucket, unique_bucket_name
from helpers import error_of

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def uri_encode(s: str, safe: str = "") -> str:
    # SigV4 URI encoding: RFC 3986 unreserved characters stay, everything else is %XX (upper case).
    return urllib.parse.quote(s, safe="-_.~" + safe)


class RawS3:
    """A minimal SigV4 client: signs exactly what it is told to, sends it with urllib3."""

    def __init__(self, stack, access_key=None, secret_key=None, endpoint=None):
        self.endpoint = endpoint or stack.endpoint
        self.host = urllib.parse.urlsplit(self.endpoint).netloc
        self.region = stack.region
        self.access_key = access_key or stack.access_key
        self.secret_key = secret_key or stack.secret_key
        self.http = urllib3.PoolManager(ca_certs=stack.ca, cert_reqs="CERT_REQUIRED", retries=False)

    def signing_key(self, day: str) -> bytes:
        k = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        return k

    @staticmethod
    def amz_date(when: datetime.datetime | None) -> str:
        when = when or datetime.datetime.now(datetime.timezone.utc)
        return when.strftime("%Y%m%dT%H%M%SZ")

    def scope(self, amzdate: str) -> str:
        return f"{amzdate[:8]}/{self.region}/s3/aws4_request"

    @staticmethod
    def canonical_query(query) -> str:
        return "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in sorted(query))

    def signature(self, method, path, query, headers: dict, payload_hash, amzdate) -> tuple[str, str]:
        names = sorted(headers, key=str.lower)
        canonical_headers = "".join(f"{n.lower()}:{' '.join(str(headers[n]).split())}\n" for n in names)
        signed = ";".join(n.lower() for n in names)
        canonical = "\n".join([method, uri_encode(path, "/"), self.canonical_query(query),
                               canonical_headers, signed, payload_hash])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amzdate, self.scope(amzdate), sha256_hex(canonical.encode())])
        sig = hmac.new(self.signing_key(amzdate[:8]), to_sign.encode(), hashlib.sha256).hexdigest()
        return sig, signed

    def request(self, method, path, query=(), headers=None, body=b"", payload_hash=None, when=None,
                sign=True):
        """PATH is the decoded path (/bucket/key); QUERY a list of (name, value)."""
        query = list(query)
        headers = dict(headers or {})
        headers["host"] = self.host
        if sign:
            amzdate = self.amz_date(when)
            payload_hash = payload_hash or sha256_hex(body)
            headers.setdefault("x-amz-content-sha256", payload_hash)
            headers["x-amz-date"] = amzdate
            sig, signed = self.signature(method, path, query, headers, headers["x-amz-content-sha256"], amzdate)
            headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{self.scope(amzdate)}, "
                                        f"SignedHeaders={signed}, Signature={sig}")
        url = self.endpoint + uri_encode(path, "/")
        if query:
            url += "?" + self.canonical_query(query)
        return self.http.request(method, url, body=body, headers=headers, redirect=False,
                                 preload_content=True)

    def presign(self, method, path, expires: int, when=None) -> str:
        amzdate = self.amz_date(when)
        query = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                 ("X-Amz-Credential", f"{self.access_key}/{self.scope(amzdate)}"),
                 ("X-Amz-Date", amzdate), ("X-Amz-Expires", str(expires)), ("X-Amz-SignedHeaders", "host")]
        sig, _ = self.signature(method, path, query, {"host": self.host}, "UNSIGNED-PAYLOAD", amzdate)
        query.append(("X-Amz-Signature", sig))
        return self.endpoint + uri_encode(path, "/") + "?" + self.canonical_query(query)

    def put_streaming(self, path, data: bytes, chunk_size=8192, corrupt=None, when=None,
                      sign_content_length=False):
        """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD. CORRUPT(chunks) may edit the list of
        [header_line, data] pairs after signing (to send what was not signed). AWS's worked example
        also signs content-length; that is optional and tested on its own."""
        amzdate = self.amz_date(when)
        pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
        framing = sum(len(f"{len(p):x};chunk-signature=".encode()) + 64 + 4 + len(p) for p in pieces)
        headers = {
            "host": self.host,
            "content-encoding": "aws-chunked",
            "content-length": str(framing),
            "x-amz-content-sha256": STREAMING,
            "x-amz-date": amzdate,
            "x-amz-decoded-content-length": str(len(data)),
        }
        to_sign = headers if sign_content_length else {k: v for k, v in headers.items() if k != "content-length"}
        seed, signed = self.signature("PUT", path, [], to_sign, STREAMING, amzdate)
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{self.scope(amzdate)}, "
                                    f"SignedHeaders={signed}, Signature={seed}")
        key = self.signing_key(amzdate[:8])
        prev, chunks = seed, []
        for p in pieces:
            to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amzdate, self.scope(amzdate), prev,
                                 EMPTY_SHA256, sha256_hex(p)])
            prev = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
            chunks.append([f"{len(p):x};chunk-signature={prev}\r\n".encode(), p])
        if corrupt:
            corrupt(chunks)
        body = b"".join(h + p + b"\r\n" for h, p in chunks)
        assert len(body) == framing
        return self.http.request("PUT", self.endpoint + uri_encode(path, "/"), body=body, headers=headers,
                                 redirect=False)


def xml_error(response) -> str:
    """The <Code> of an S3 XML error body (asserting it is one)."""
    root = ET.fromstring(response.data)
    assert root.tag == "Error", response.data
    return root.findtext("Code")


def exists(s3, bucket, key) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except Exception as e:  # noqa: BLE001 - ClientError 404 expected
        status = getattr(e, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        assert status == 404, e
        return False


@pytest.fixture(scope="module")
def raw(stack):
    return RawS3(stack)


# --- signed payload ----------------------------------------------------------------------------

def test_boto3_over_plain_http_signs_the_payload(stack, bucket):
    if not stack.http_endpoint:
        pytest.skip("stack has no plain-HTTP endpoint")
    client = stack.client(endpoint=stack.http_endpoint)
    sent = {}
    client.meta.events.register("before-send.s3.PutObject",
                                lambda request, **_: sent.update({k.lower(): v for k, v in request.headers.items()}))
    body = os.urandom(3000)
    client.put_object(Bucket=bucket, Key="signed", Body=body)
    value = sent["x-amz-content-sha256"]
    value = value.decode() if isinstance(value, bytes) else value
    assert value == sha256_hex(body)  # really the signed-payload path
    got = client.get_object(Bucket=bucket, Key="signed")
    assert got["Body"].read() == body


def test_raw_signed_payload_put_and_get(raw, s3, bucket):
    body = b"signed payload " * 100
    r = raw.request("PUT", f"/{bucket}/raw", body=body)
    assert r.status == 200, r.data
    assert r.headers["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    r = raw.request("GET", f"/{bucket}/raw")
    assert r.status == 200 and r.data == body


@pytest.mark.parametrize("header,value", [("content-length", "5"), ("content-type", "text/plain"),
                                          ("content-md5", "XUFAKrxLKna5cZ2REBfFkg==")])
def test_signed_standard_headers_are_accepted(raw, s3, bucket, header, value):
    # Any request header may be signed; content-type and content-md5 are signed by boto3 itself,
    # content-length by other SDKs (and AWS's chunked-upload example).
    r = raw.request("PUT", f"/{bucket}/h", body=b"hello", headers={header: value})
    assert r.status == 200, r.data
    assert s3.get_object(Bucket=bucket, Key="h")["Body"].read() == b"hello"


def test_content_sha256_mismatch_is_400_and_nothing_stored(raw, s3, bucket):
    # The header is signed correctly but is the hash of other bytes than the body.
    r = raw.request("PUT", f"/{bucket}/bad", body=b"the real body",
                    headers={"x-amz-content-sha256": sha256_hex(b"something else")})
    assert r.status == 400, r.data
    assert xml_error(r) == "XAmzContentSHA256Mismatch"
    assert not exists(s3, bucket, "bad")


def test_boto3_content_sha256_mismatch_over_http(stack, s3, bucket):
    """Same through boto3: botocore recomputes x-amz-content-sha256 while signing (a before-sign
    header edit is overwritten), so the body is swapped after signing instead; same length."""
    if not stack.http_endpoint:
        pytest.skip("stack has no plain-HTTP endpoint")
    client = stack.client(endpoint=stack.http_endpoint, request_checksum_calculation="when_required")

    def swap(request, **_):
        request.body = b"Y" * 64

    client.meta.events.register("before-send.s3.PutObject", swap)
    err = error_of(lambda: client.put_object(Bucket=bucket, Key="swapped", Body=b"X" * 64))
    assert (err.status, err.code) == (400, "XAmzContentSHA256Mismatch")
    assert not exists(s3, bucket, "swapped")


def test_content_sha256_that_is_not_a_hash_is_400(raw, s3, bucket):
    # AWS: 400 InvalidArgument "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-..., or a
    # valid sha256 value." (code from memory of AWS responses; the status is certain).
    r = raw.request("PUT", f"/{bucket}/k", body=b"abc", headers={"x-amz-content-sha256": "not-a-hash"})
    assert r.status == 400, r.data
    assert xml_error(r) == "InvalidArgument"
    assert not exists(s3, bucket, "k")


def test_unsigned_payload_header_is_accepted(raw, s3, bucket):
    r = raw.request("PUT", f"/{bucket}/u", body=b"unsigned", headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert r.status == 200, r.data
    assert s3.get_object(Bucket=bucket, Key="u")["Body"].read() == b"unsigned"


def test_wrong_secret_and_unknown_access_key(stack, bucket):
    err = error_of(lambda: stack.client(secret_key="x" * 40).list_objects_v2(Bucket=bucket))
    assert (err.status, err.code) == (403, "SignatureDoesNotMatch")
    err = error_of(lambda: stack.client(access_key="AKIANOSUCHUSER000000").list_objects_v2(Bucket=bucket))
    assert (err.status, err.code) == (403, "InvalidAccessKeyId")


# --- STREAMING-AWS4-HMAC-SHA256-PAYLOAD --------------------------------------------------------

@pytest.mark.parametrize("size,chunk", [(0, 8192), (1, 8192), (8192, 8192), (20_000, 8192), (70_000, 65536)])
def test_streaming_signed_chunks_store_decoded_bytes(raw, s3, bucket, size, chunk):
    data = os.urandom(size)
    r = raw.put_streaming(f"/{bucket}/chunked", data, chunk_size=chunk)
    assert r.status == 200, r.data
    assert r.headers["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["ContentLength"] == size
    assert got["Body"].read() == data
    # The aws-chunked coding is transport only: it must not be stored as the object's encoding.
    assert "aws-chunked" not in (got.get("ContentEncoding") or "")


def test_streaming_with_signed_content_length_as_in_aws_example(raw, s3, bucket):
    # AWS's worked example (66,560 bytes of 'a' in 64 KiB chunks) signs content-encoding,
    # content-length, host, x-amz-content-sha256, x-amz-date and x-amz-decoded-content-length.
    data = b"a" * 66560
    r = raw.put_streaming(f"/{bucket}/example", data, chunk_size=65536, sign_content_length=True)
    assert r.status == 200, r.data
    assert s3.get_object(Bucket=bucket, Key="example")["Body"].read() == data


def _flip_data(index, offset=0):
    def corrupt(chunks):
        data = bytearray(chunks[index][1])
        data[offset] ^= 0x01
        chunks[index][1] = bytes(data)
    return corrupt


def _bad_final_signature(chunks):
    header = chunks[-1][0]
    chunks[-1][0] = header[:-3] + (b"0" if header[-3:-2] != b"0" else b"1") + b"\r\n"


@pytest.mark.parametrize("corrupt", [_flip_data(0), _flip_data(1, 100), _flip_data(2, 3),
                                     _bad_final_signature],
                         ids=["first-chunk", "middle-chunk", "last-data-chunk", "final-chunk-signature"])
def test_streaming_corrupted_chunk_is_403_and_key_absent(raw, s3, bucket, corrupt):
    data = os.urandom(20_000)  # chunks of 8192, 8192, 3616 and the final 0
    r = raw.put_streaming(f"/{bucket}/corrupt", data, chunk_size=8192, corrupt=corrupt)
    assert r.status == 403, r.data
    assert xml_error(r) == "SignatureDoesNotMatch"
    assert not exists(s3, bucket, "corrupt")


def test_streaming_corrupt_chunk_does_not_replace_existing_object(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"original")
    r = raw.put_streaming(f"/{bucket}/keep", os.urandom(20_000), corrupt=_flip_data(1, 5))
    assert r.status == 403, r.data
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"original"


# --- presigned URLs ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def http(stack):
    return urllib3.PoolManager(ca_certs=stack.ca, cert_reqs="CERT_REQUIRED", retries=False)


@pytest.fixture(scope="module")
def presigner(stack):
    # Without signature_version botocore presigns S3 URLs with SigV2 (AWSAccessKeyId/Signature/Expires).
    return stack.client(signature_version="s3v4")


def test_presigned_get_and_put(presigner, s3, http, bucket):
    key = "dir/with space/ünïcode €.bin"
    body = os.urandom(5000)
    put_url = presigner.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    r = http.request("PUT", put_url, body=body)
    assert r.status == 200, r.data
    assert r.headers["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    get_url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    r = http.request("GET", get_url)
    assert r.status == 200
    assert r.data == body


def test_presigned_delete(presigner, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="doomed", Body=b"x")
    url = presigner.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "doomed"}, ExpiresIn=300)
    r = http.request("DELETE", url)
    assert r.status == 204, r.data
    assert not exists(s3, bucket, "doomed")


def test_presigned_get_with_response_overrides(presigner, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="doc", Body=b"hello")
    url = presigner.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "doc", "ResponseContentType": "application/x-test",
        "ResponseContentDisposition": 'attachment; filename="x.txt"'})
    r = http.request("GET", url)
    assert r.status == 200 and r.data == b"hello"
    assert r.headers["Content-Type"] == "application/x-test"
    assert r.headers["Content-Disposition"] == 'attachment; filename="x.txt"'


def test_presigned_url_with_tampered_signature_is_403(presigner, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    sig = url.rsplit("X-Amz-Signature=", 1)[1][:64]
    bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    r = http.request("GET", bad)
    assert r.status == 403
    assert xml_error(r) == "SignatureDoesNotMatch"


def test_presigned_url_for_other_key_is_403(presigner, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"}, ExpiresIn=300)
    r = http.request("GET", url.replace(f"/{bucket}/a?", f"/{bucket}/b?"))
    assert r.status == 403
    assert xml_error(r) == "SignatureDoesNotMatch"


def test_expired_presigned_url_is_403_access_denied(raw, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="old", Body=b"x")
    # Signed two hours ago, valid for one hour.
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    r = http.request("GET", raw.presign("GET", f"/{bucket}/old", 3600, when=when))
    assert r.status == 403
    assert xml_error(r) == "AccessDenied"  # AWS: "Request has expired"


def test_boto3_presigned_url_expires(presigner, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="soon", Body=b"x")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "soon"}, ExpiresIn=1)
    time.sleep(2.1)
    r = http.request("GET", url)
    assert r.status == 403
    assert xml_error(r) == "AccessDenied"


def test_presigned_expires_over_a_week_is_400(presigner, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    ok = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604800)
    assert http.request("GET", ok).status == 200
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    r = http.request("GET", url)
    assert r.status == 400, r.data
    # AWS: AuthorizationQueryParametersError "X-Amz-Expires must be less than a week (in seconds)
    # that is; 604800".
    assert xml_error(r) == "AuthorizationQueryParametersError"


def test_presigned_url_signed_20_minutes_ago_within_validity(raw, s3, http, bucket):
    # Presigned URLs are checked against X-Amz-Date + X-Amz-Expires, not the 15-minute skew window:
    # one signed 20 minutes ago, valid for an hour, works.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    r = http.request("GET", raw.presign("GET", f"/{bucket}/k", 3600, when=when))
    assert r.status == 200 and r.data == b"x"


# --- clock skew --------------------------------------------------------------------------------

@pytest.mark.parametrize("minutes", [-20, 20])
def test_request_time_too_skewed(raw, bucket, minutes):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    r = raw.request("GET", f"/{bucket}", when=when)
    assert r.status == 403, r.data
    assert xml_error(r) == "RequestTimeTooSkewed"


def test_request_time_within_skew_window_is_accepted(raw, bucket):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    r = raw.request("GET", f"/{bucket}", when=when)
    assert r.status == 200, r.data


# --- a second user -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def other_keys(stack):
    """Adds a second user to credentials.json and makes liteio reload it (SIGHUP)."""
    if stack.state_dir is None:
        pytest.skip("needs the locally started stack (credentials.json and the liteio pid)")
    creds = stack.state_dir / "credentials.json"
    pid = int((stack.state_dir / "run" / "liteio.pid").read_text().strip())
    ak, sk = "AKE2EOTHER" + os.urandom(5).hex().upper(), os.urandom(20).hex()

    def write(users):
        tmp = creds.with_suffix(".tmp")
        tmp.write_text(json.dumps({"users": users}, indent=2))
        os.chmod(tmp, 0o600)
        os.replace(tmp, creds)
        os.kill(pid, signal.SIGHUP)

    original = json.loads(creds.read_text())["users"]
    write(original + [{"accessKey": ak, "secretKey": sk, "displayName": "other"}])
    client = stack.client(access_key=ak, secret_key=sk)
    for _ in range(50):
        try:
            client.list_buckets()
            break
        except Exception:  # noqa: BLE001 - not reloaded yet
            time.sleep(0.1)
    else:
        pytest.fail("liteio did not pick up the second user after SIGHUP")
    yield ak, sk
    current = json.loads(creds.read_text())["users"]
    write([u for u in current if u["accessKey"] != ak])
    time.sleep(0.3)


@pytest.fixture(scope="module")
def other_user(stack, other_keys):
    """boto3 client of the second user."""
    return stack.client(access_key=other_keys[0], secret_key=other_keys[1])


def test_second_user_cannot_touch_first_users_bucket(s3, other_user, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"mine")
    assert bucket not in [b["Name"] for b in other_user.list_buckets()["Buckets"]]
    calls = {
        "ListObjectsV2": lambda: other_user.list_objects_v2(Bucket=bucket),
        "ListObjects": lambda: other_user.list_objects(Bucket=bucket),
        "GetObject": lambda: other_user.get_object(Bucket=bucket, Key="private"),
        "PutObject": lambda: other_user.put_object(Bucket=bucket, Key="intruder", Body=b"x"),
        "DeleteObject": lambda: other_user.delete_object(Bucket=bucket, Key="private"),
        "DeleteObjects": lambda: other_user.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "private"}]}),
        "DeleteBucket": lambda: other_user.delete_bucket(Bucket=bucket),
        "GetObjectTagging": lambda: other_user.get_object_tagging(Bucket=bucket, Key="private"),
        "CreateMultipartUpload": lambda: other_user.create_multipart_upload(Bucket=bucket, Key="mp"),
        "ListMultipartUploads": lambda: other_user.list_multipart_uploads(Bucket=bucket),
        "GetBucketLocation": lambda: other_user.get_bucket_location(Bucket=bucket),
    }
    wrong = {}
    for name, call in calls.items():
        err = error_of(call)
        if (err.status, err.code) != (403, "AccessDenied"):
            wrong[name] = (err.status, err.code)
    assert not wrong, wrong
    for call in (lambda: other_user.head_object(Bucket=bucket, Key="private"),
                 lambda: other_user.head_bucket(Bucket=bucket)):
        assert error_of(call).status == 403  # HEAD: no body, status only
    # Nothing changed.
    assert s3.get_object(Bucket=bucket, Key="private")["Body"].read() == b"mine"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["private"]


def test_second_user_cannot_copy_from_or_into_first_users_bucket(s3, other_user, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"secret")
    theirs = unique_bucket_name("e2e-other")
    other_user.create_bucket(Bucket=theirs)
    try:
        other_user.put_object(Bucket=theirs, Key="src", Body=b"theirs")
        err = error_of(lambda: other_user.copy_object(Bucket=theirs, Key="stolen",
                                                      CopySource={"Bucket": bucket, "Key": "src"}))
        assert (err.status, err.code) == (403, "AccessDenied")
        err = error_of(lambda: other_user.copy_object(Bucket=bucket, Key="planted",
                                                      CopySource={"Bucket": theirs, "Key": "src"}))
        assert (err.status, err.code) == (403, "AccessDenied")
        assert not exists(s3, bucket, "planted")
        # And the first user cannot read the second user's bucket either.
        err = error_of(lambda: s3.get_object(Bucket=theirs, Key="src"))
        assert (err.status, err.code) == (403, "AccessDenied")
    finally:
        empty_and_delete_bucket(other_user, theirs)


def test_second_user_cannot_create_existing_bucket_name(other_user, bucket):
    err = error_of(lambda: other_user.create_bucket(Bucket=bucket))
    assert (err.status, err.code) == (409, "BucketAlreadyExists")


def test_second_user_presigned_url_for_first_users_object_is_403(stack, s3, other_keys, http, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    theirs = stack.client(access_key=other_keys[0], secret_key=other_keys[1], signature_version="s3v4")
    url = theirs.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    r = http.request("GET", url)
    assert r.status == 403
    assert xml_error(r) == "AccessDenied"


# --- anonymous ---------------------------------------------------------------------------------

def test_anonymous_requests_are_403_access_denied(stack, s3, http, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for method, path in [("GET", "/"), ("GET", f"/{bucket}"), ("GET", f"/{bucket}/k"), ("PUT", f"/{bucket}/anon"),
                         ("DELETE", f"/{bucket}/k"), ("PUT", "/e2e-anonymous-bucket")]:
        r = http.request(method, stack.endpoint + path, body=b"x" if method == "PUT" else None)
        assert r.status == 403, (method, path, r.status, r.data)
        assert xml_error(r) == "AccessDenied", (method, path)
    assert not exists(s3, bucket, "anon")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    anon = stack.client(signature_version=UNSIGNED)
    err = error_of(lambda: anon.get_object(Bucket=bucket, Key="k"))
    assert (err.status, err.code) == (403, "AccessDenied")
