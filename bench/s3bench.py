#!/usr/bin/env python3
"""Small signing S3 client for the liteio benchmark (bench/run.sh).

Standard library only (http.client, hmac, hashlib), so it runs on any Python 3 and costs little CPU
next to the server on a 2-core machine. SigV4 (header or presigned query), UNSIGNED-PAYLOAD, path-style
addressing, keep-alive connections. Every sub-command prints one JSON object on stdout.

  s3bench.py presign    ... print presigned URLs (path+query, one a line) for wrk
  s3bench.py signreq    ... print header-signed requests (path + headers, one a line) for wrk to replay
  s3bench.py mkbucket   ... create buckets (an existing one is fine)
  s3bench.py put        ... upload objects of one size (optionally SSE-C); streamed, any size
  s3bench.py populate   ... create many empty objects in parallel (listing benchmark), time-bounded
  s3bench.py list       ... median latency of ListObjectsV2 for one prefix
  s3bench.py get        ... median latency of GET (optionally Range, SSE-C)
  s3bench.py mpu        ... multipart upload; times only CompleteMultipartUpload
  s3bench.py putload    ... concurrent streaming PUTs until a deadline (RSS phase)

Common options: --endpoint https://localhost:PORT  --ca CA.pem  --creds credentials.json
(or --access-key/--secret-key)  --region us-east-1
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import re
import ssl
import statistics
import threading
import time
import urllib.parse

# A fixed SSE-C key: the benchmark measures speed, not secrecy.
SSEC_KEY = bytes(range(32))


def ssec_headers(prefix: str = "") -> dict:
    p = f"x-amz-{prefix}server-side-encryption-customer-"
    return {
        p + "algorithm": "AES256",
        p + "key": base64.b64encode(SSEC_KEY).decode(),
        p + "key-md5": base64.b64encode(hashlib.md5(SSEC_KEY).digest()).decode(),
    }


# ----------------------------------------------------------------------------------------- SigV4

def _enc(s: str, keep_slash: bool = False) -> str:
    return urllib.parse.quote(s, safe="-_.~" + ("/" if keep_slash else ""))


class Signer:
    def __init__(self, access_key: str, secret_key: str, region: str):
        self.ak, self.sk, self.region = access_key, secret_key, region
        self._keys: dict[str, bytes] = {}

    def _key(self, date: str) -> bytes:
        k = self._keys.get(date)
        if k is None:
            k = ("AWS4" + self.sk).encode()
            for part in (date, self.region, "s3", "aws4_request"):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            self._keys[date] = k
        return k

    def _signature(self, amzdate: str, canonical: str) -> tuple[str, str]:
        date = amzdate[:8]
        scope = f"{date}/{self.region}/s3/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        return scope, hmac.new(self._key(date), sts.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _canonical_query(query: dict) -> str:
        return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted((_enc(k), v) for k, v in query.items()))

    def presign(self, method: str, host: str, path: str, expires: int = 3600, query: dict | None = None) -> str:
        """Path + query of a presigned URL. Only `host` is signed: other headers (SSE-C, Range) may be
        added by the client freely."""
        amzdate = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        q = dict(query or {})
        q.update({
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{self.ak}/{amzdate[:8]}/{self.region}/s3/aws4_request",
            "X-Amz-Date": amzdate,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        })
        epath = _enc(path, keep_slash=True)
        cq = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in q.items()))
        canonical = "\n".join([method, epath, cq, f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"])
        _, sig = self._signature(amzdate, canonical)
        return f"{epath}?{cq}&X-Amz-Signature={sig}"

    def sign(self, method: str, host: str, path: str, query: dict, headers: dict) -> dict:
        """Adds x-amz-date, x-amz-content-sha256 (UNSIGNED-PAYLOAD) and Authorization to headers."""
        amzdate = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        h = {k.lower(): str(v).strip() for k, v in headers.items()}
        h["host"] = host
        h["x-amz-date"] = amzdate
        h.setdefault("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        names = sorted(n for n in h if n == "host" or n.startswith("x-amz-") or n in ("content-md5", "content-type"))
        canonical = "\n".join([
            method, _enc(path, keep_slash=True), self._canonical_query(query),
            "".join(f"{n}:{h[n]}\n" for n in names), ";".join(names), h["x-amz-content-sha256"],
        ])
        scope, sig = self._signature(amzdate, canonical)
        h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.ak}/{scope}, "
                              f"SignedHeaders={';'.join(names)}, Signature={sig}")
        del h["host"]  # http.client sends its own Host (same value)
        return h


# ------------------------------------------------------------------------------------ connection

class Client:
    """One keep-alive connection (not thread-safe: one per thread)."""

    def __init__(self, args):
        u = urllib.parse.urlsplit(args.endpoint)
        self.https = u.scheme == "https"
        self.hostname, self.port = u.hostname, u.port or (443 if self.https else 80)
        self.host = u.netloc  # as signed: localhost:PORT
        self.ctx = None
        if self.https:
            self.ctx = ssl.create_default_context(cafile=args.ca) if args.ca else ssl._create_unverified_context()
        self.signer = make_signer(args)
        self.conn = None
        self.timeout = getattr(args, "timeout", 3600)

    def _connect(self):
        if self.https:
            self.conn = http.client.HTTPSConnection(self.hostname, self.port, context=self.ctx, timeout=self.timeout)
        else:
            self.conn = http.client.HTTPConnection(self.hostname, self.port, timeout=self.timeout)
        self.conn.connect()

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, query=None, headers=None, body=None, sign=True, raw_target=None,
                read=True):
        """Returns (status, headers, body bytes or byte count)."""
        query = query or {}
        headers = dict(headers or {})
        if sign:
            headers = self.signer.sign(method, self.host, path, query, headers)
        target = raw_target or (_enc(path, keep_slash=True) + ("?" + Signer._canonical_query(query) if query else ""))
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, target, body=body, headers=headers)
                resp = self.conn.getresponse()
                break
            except (ConnectionError, http.client.RemoteDisconnected, BrokenPipeError):
                # A kept-alive connection the server closed meanwhile: reconnect once (only safe when
                # the body can be re-sent).
                self.close()
                if attempt or not (body is None or isinstance(body, (bytes, bytearray))):
                    raise
        if read == "count":
            n = 0
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                n += len(chunk)
            data = n
        else:
            data = resp.read()
        if resp.getheader("connection", "").lower() == "close" or resp.will_close:
            self.close()
        return resp.status, resp, data


def make_signer(args) -> Signer:
    ak, sk = args.access_key, args.secret_key
    if args.creds:
        with open(args.creds) as f:
            u = json.load(f)["users"][0]
        ak, sk = u["accessKey"], u["secretKey"]
    return Signer(ak or "bench", sk or "bench", args.region)


def check(status, resp, data, what, ok=(200,)):
    if status not in ok:
        body = data[:500] if isinstance(data, (bytes, bytearray)) else data
        raise SystemExit(f"{what}: HTTP {status}: {body!r}")


class PatternBody:
    """An iterable of `size` bytes made of a repeated 1 MiB block (http.client streams it)."""

    BLOCK = (hashlib.sha256(b"liteio-bench").digest() * (1 << 15))  # 1 MiB, not all zeros

    def __init__(self, size: int, deadline: float | None = None):
        self.size, self.deadline = size, deadline

    def __iter__(self):
        left = self.size
        b = memoryview(self.BLOCK)
        while left > 0:
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise TimeoutError("deadline reached during upload")
            n = min(left, len(b))
            yield b[:n]
            left -= n


def run_threads(n, fn):
    errors = []

    def wrap(i):
        try:
            fn(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(f"{type(e).__name__}: {e}")

    ts = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


# -------------------------------------------------------------------------------------- commands

def cmd_presign(args):
    s = make_signer(args)
    host = urllib.parse.urlsplit(args.endpoint).netloc
    for key in args.keys:
        print(s.presign(args.method, host, f"/{args.bucket}/{key}", args.expires))


def cmd_signreq(args):
    """Header-signed requests for wrk to replay: `path<TAB>name: value…`, one a line. A SigV4 header
    signature with UNSIGNED-PAYLOAD stays valid for the 15-minute clock-skew window, and nothing in
    it ties it to one use, so wrk can send it over and over (like a presigned URL)."""
    s = make_signer(args)
    host = urllib.parse.urlsplit(args.endpoint).netloc
    extra = ssec_headers() if args.ssec else {}
    for key in args.keys:
        path = f"/{args.bucket}/{key}"
        h = s.sign(args.method, host, path, {}, dict(extra))
        print(_enc(path, keep_slash=True) + "".join(f"\t{k}: {v}" for k, v in sorted(h.items())))


def cmd_mkbucket(args):
    c = Client(args)
    for b in args.buckets:
        st, r, d = c.request("PUT", f"/{b}")
        if st not in (200, 409):
            check(st, r, d, f"create bucket {b}")
    print(json.dumps({"buckets": args.buckets}))


def cmd_put(args):
    keys = list(args.keys)
    hdr = ssec_headers() if args.ssec else {}
    lock = threading.Lock()
    t0 = time.monotonic()

    def work(_):
        c = Client(args)
        while True:
            with lock:
                if not keys:
                    return
                key = keys.pop()
            h = dict(hdr, **{"content-length": str(args.size)})
            body = PatternBody.BLOCK[:args.size] if args.size <= len(PatternBody.BLOCK) else PatternBody(args.size)
            st, r, d = c.request("PUT", f"/{args.bucket}/{key}", headers=h, body=body)
            check(st, r, d, f"PUT {key}")

    errors = run_threads(min(args.threads, len(keys)), work)
    if errors:
        raise SystemExit("put failed: " + "; ".join(errors[:3]))
    print(json.dumps({"objects": len(args.keys), "size": args.size, "seconds": time.monotonic() - t0}))


def _populate_worker(args, bucket, keys_iter, lock, counter, deadline, stop):
    c = Client(args)
    h = {"content-length": "0"}
    while not stop.is_set():
        with lock:
            key = next(keys_iter, None)
        if key is None:
            return
        st, r, d = c.request("PUT", f"/{bucket}/{key}", headers=h, body=b"")
        if st != 200:
            stop.set()
            raise RuntimeError(f"PUT {key}: HTTP {st} {d[:300]!r}")
        with lock:
            counter[0] += 1
        if deadline and time.monotonic() > deadline:
            stop.set()


def _populate_process(args, start, stop_at, deadline, q):
    """One process: threads over keys [start, stop_at) of a strided share."""
    keys = (args.format.format(n=n, g=n // args.per_group, i=n % args.per_group)
            for n in range(start, stop_at, args.processes))
    lock, counter, stop = threading.Lock(), [0], threading.Event()
    errors = run_threads(args.threads, lambda _: _populate_worker(args, args.bucket, keys, lock, counter, deadline, stop))
    q.put((counter[0], errors))


def cmd_populate(args):
    """PUTs args.count empty objects named by --format (fields n, g = n // per_group, i = n % per_group),
    in key order per group, with P processes x T threads; stops early at --max-seconds. Objects are
    created in whole groups: the count reached is rounded down to a whole group by the caller."""
    import multiprocessing as mp
    t0 = time.monotonic()
    deadline = t0 + args.max_seconds if args.max_seconds else 0
    q = mp.Queue()
    procs = [mp.Process(target=_populate_process, args=(args, args.first + p, args.first + args.count, deadline, q))
             for p in range(args.processes)]
    for p in procs:
        p.start()
    done, errors = 0, []
    for _ in procs:
        n, e = q.get()
        done += n
        errors += e
    for p in procs:
        p.join()
    dt = time.monotonic() - t0
    print(json.dumps({"created": done, "seconds": dt, "rate": done / dt if dt else 0, "errors": errors[:5],
                      "complete": done == args.count and not errors}))


def _median_latency(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return {"median_ms": statistics.median(ts) * 1000, "p90_ms": sorted(ts)[int(len(ts) * 0.9) - 1] * 1000,
            "min_ms": min(ts) * 1000, "reps": reps}


def cmd_list(args):
    c = Client(args)
    q = {"list-type": "2", "prefix": args.prefix, "max-keys": str(args.max_keys)}
    seen = {}

    def one():
        st, r, d = c.request("GET", f"/{args.bucket}", query=q)
        check(st, r, d, "ListObjectsV2")
        seen["keys"] = len(re.findall(rb"<Key>", d))
        seen["truncated"] = b"<IsTruncated>true</IsTruncated>" in d

    out = _median_latency(one, args.reps, args.warmup)
    out.update(seen)
    print(json.dumps(out))


def cmd_get(args):
    c = Client(args)
    h = ssec_headers() if args.ssec else {}
    if args.range:
        h["range"] = args.range
    ok = (206,) if args.range else (200,)
    seen = {}

    def one():
        st, r, n = c.request("GET", f"/{args.bucket}/{args.key}", headers=h, read="count")
        check(st, r, n, f"GET {args.key}", ok)
        seen["bytes"] = n

    out = _median_latency(one, args.reps, args.warmup)
    out.update(seen)
    if args.expect_bytes is not None and seen["bytes"] != args.expect_bytes:
        raise SystemExit(f"GET {args.key}: got {seen['bytes']} bytes, expected {args.expect_bytes}")
    print(json.dumps(out))


def cmd_mpu(args):
    c = Client(args)
    key = args.key
    st, r, d = c.request("POST", f"/{args.bucket}/{key}", query={"uploads": ""})
    check(st, r, d, "CreateMultipartUpload")
    upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", d).group(1).decode()
    part_size = args.size // args.parts
    sizes = [part_size] * (args.parts - 1) + [args.size - part_size * (args.parts - 1)]
    etags = [None] * args.parts
    todo = list(range(args.parts))
    lock = threading.Lock()
    t0 = time.monotonic()

    def work(_):
        cc = Client(args)
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop(0)
            h = {"content-length": str(sizes[i])}
            st, r, d = cc.request("PUT", f"/{args.bucket}/{key}",
                                  query={"partNumber": str(i + 1), "uploadId": upload_id},
                                  headers=h, body=PatternBody(sizes[i]))
            check(st, r, d, f"UploadPart {i + 1}")
            etags[i] = r.getheader("etag")

    errors = run_threads(args.threads, work)
    if errors:
        raise SystemExit("UploadPart failed: " + "; ".join(errors[:3]))
    upload_s = time.monotonic() - t0
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{e}</ETag></Part>" for i, e in enumerate(etags)
    ) + "</CompleteMultipartUpload>"
    body = xml.encode()
    t = time.perf_counter()
    st, r, d = c.request("POST", f"/{args.bucket}/{key}", query={"uploadId": upload_id},
                         headers={"content-length": str(len(body)), "content-type": "application/xml"}, body=body)
    complete_s = time.perf_counter() - t
    # Complete may answer 200 with an <Error> body (S3 does so after a slow assembly).
    if st != 200 or b"<Error>" in d:
        raise SystemExit(f"CompleteMultipartUpload: HTTP {st}: {d[:500]!r}")
    st, r, d = c.request("HEAD", f"/{args.bucket}/{key}")
    check(st, r, d, "HEAD after complete")
    size = int(r.getheader("content-length"))
    if size != args.size:
        raise SystemExit(f"completed object has {size} bytes, expected {args.size}")
    print(json.dumps({"complete_s": complete_s, "upload_s": upload_s, "parts": args.parts, "size": size}))


def cmd_putload(args):
    """--concurrency threads each PUT objects of --size in a loop until --seconds have passed; an upload
    still running then is cut off (connection closed)."""
    deadline = time.monotonic() + args.seconds
    hdr = ssec_headers() if args.ssec else {}
    done, cut = [0], [0]
    lock = threading.Lock()

    def work(i):
        c = Client(args)
        n = 0
        while time.monotonic() < deadline:
            h = dict(hdr, **{"content-length": str(args.size)})
            try:
                st, r, d = c.request("PUT", f"/{args.bucket}/{args.prefix}{i}-{n % 2}", headers=h,
                                     body=PatternBody(args.size, deadline))
            except TimeoutError:
                c.close()
                with lock:
                    cut[0] += 1
                return
            check(st, r, d, "PUT")
            n += 1
            with lock:
                done[0] += 1

    errors = run_threads(args.concurrency, work)
    if errors:
        raise SystemExit("putload failed: " + "; ".join(errors[:3]))
    print(json.dumps({"completed": done[0], "cut_off": cut[0]}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--ca")
    p.add_argument("--creds", help="liteio credentials.json (first user)")
    p.add_argument("--access-key")
    p.add_argument("--secret-key")
    p.add_argument("--region", default="us-east-1")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("presign")
    s.add_argument("--method", default="GET")
    s.add_argument("--expires", type=int, default=3600)
    s.add_argument("bucket")
    s.add_argument("keys", nargs="+")

    s = sub.add_parser("signreq")
    s.add_argument("--method", default="PUT")
    s.add_argument("--ssec", action="store_true")
    s.add_argument("bucket")
    s.add_argument("keys", nargs="+")

    s = sub.add_parser("mkbucket")
    s.add_argument("buckets", nargs="+")

    s = sub.add_parser("put")
    s.add_argument("--size", type=int, required=True)
    s.add_argument("--ssec", action="store_true")
    s.add_argument("--threads", type=int, default=4)
    s.add_argument("bucket")
    s.add_argument("keys", nargs="+")

    s = sub.add_parser("populate")
    s.add_argument("--format", default="g{g:05d}/k{i:05d}")
    s.add_argument("--first", type=int, default=0)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--per-group", type=int, default=1000)
    s.add_argument("--processes", type=int, default=2)
    s.add_argument("--threads", type=int, default=8)
    s.add_argument("--max-seconds", type=float, default=0)
    s.add_argument("bucket")

    s = sub.add_parser("list")
    s.add_argument("--prefix", required=True)
    s.add_argument("--max-keys", type=int, default=1000)
    s.add_argument("--reps", type=int, default=20)
    s.add_argument("--warmup", type=int, default=3)
    s.add_argument("bucket")

    s = sub.add_parser("get")
    s.add_argument("--ssec", action="store_true")
    s.add_argument("--range")
    s.add_argument("--reps", type=int, default=50)
    s.add_argument("--warmup", type=int, default=5)
    s.add_argument("--expect-bytes", type=int)
    s.add_argument("bucket")
    s.add_argument("key")

    s = sub.add_parser("mpu")
    s.add_argument("--size", type=int, required=True)
    s.add_argument("--parts", type=int, default=100)
    s.add_argument("--threads", type=int, default=4)
    s.add_argument("bucket")
    s.add_argument("key")

    s = sub.add_parser("putload")
    s.add_argument("--size", type=int, required=True)
    s.add_argument("--ssec", action="store_true")
    s.add_argument("--concurrency", type=int, default=32)
    s.add_argument("--seconds", type=float, default=10)
    s.add_argument("--prefix", default="rss-")
    s.add_argument("bucket")

    args = p.parse_args()
    {"presign": cmd_presign, "signreq": cmd_signreq, "mkbucket": cmd_mkbucket, "put": cmd_put, "populate": cmd_populate,
     "list": cmd_list, "get": cmd_get, "mpu": cmd_mpu, "putload": cmd_putload}[args.cmd](args)


if __name__ == "__main__":
    main()
