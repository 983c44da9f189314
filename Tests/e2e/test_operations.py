"""Operations: worker crashes, SIGHUP reload, SIGTERM drain, health and metrics, the admin
command line, virtual-host addressing, and two liteio instances sharing one tree."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import ssl
import subprocess
import threading
import time
import http.client
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import free_port
from own_stack import OwnStack, REPO

LITEIO = REPO / ".build" / "release" / "liteio"


@pytest.fixture(scope="module")
def ops_stack(tmp_path_factory):
    with OwnStack(tmp_path_factory.mktemp("ops"), free_port(), {"processes": 2, "workers": 4}) as stack:
        stack.client().create_bucket(Bucket="ops")
        stack.client().put_object(Bucket="ops", Key="k", Body=b"v" * 1000)
        yield stack


class Hammer:
    """GETs in a loop on a few threads, counting successes and failures."""

    def __init__(self, stack, threads=3):
        self.stack, self.ok, self.failed, self.stop = stack, 0, 0, threading.Event()
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]

    def run(self):
        client = self.stack.client()
        while not self.stop.is_set():
            try:
                client.get_object(Bucket="ops", Key="k")["Body"].read()
                self.ok += 1
            except Exception:
                self.failed += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def test_worker_crash_does_not_take_liteio_down(ops_stack):
    before = ops_stack.worker_pids()
    assert len(before) == 2
    with Hammer(ops_stack) as hammer:
        os.kill(before[0], signal.SIGKILL)
        time.sleep(1.0)
        ok_after_kill = hammer.ok
        time.sleep(0.5)
        assert hammer.ok > ok_after_kill, "requests stopped being served after a worker crash"
    after = ops_stack.worker_pids()
    assert len(after) == 2 and before[0] not in after, "the supervisor did not replace the crashed worker"
    # Only requests in flight on the killed process may fail (at most one per client thread).
    assert hammer.failed <= 3, f"{hammer.failed} failed, {hammer.ok} ok"


def test_sighup_reloads_credentials_without_dropping_requests(ops_stack):
    path = ops_stack.state / "credentials.json"
    original = path.read_text()
    users = json.loads(original)
    users["users"].append({"accessKey": "AKSECONDUSER00000001", "secretKey": "second-secret", "displayName": "second"})
    second = ops_stack.client()
    second._request_signer._credentials = Credentials("AKSECONDUSER00000001", "second-secret")
    with pytest.raises(ClientError) as unknown:
        second.list_buckets()
    assert unknown.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    try:
        with Hammer(ops_stack) as hammer:
            path.write_text(json.dumps(users))
            for _ in range(10):
                os.kill(ops_stack.supervisor_pid, signal.SIGHUP)
                time.sleep(0.1)
        assert hammer.failed == 0 and hammer.ok > 10
        assert second.list_buckets()["Buckets"] == []  # a new user, no buckets of its own
        with pytest.raises(ClientError) as denied:
            second.get_object(Bucket="ops", Key="k")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        path.write_text(original)
        os.kill(ops_stack.supervisor_pid, signal.SIGHUP)
        time.sleep(0.3)


def test_health_and_metrics(ops_stack):
    context = ssl.create_default_context(cafile=str(ops_stack.state / "certs" / "ca.pem"))
    with urllib.request.urlopen(ops_stack.endpoint + "/-/health", context=context) as r:
        assert r.status == 200 and r.read() == b"ok\n"
    ops_stack.client().head_object(Bucket="ops", Key="k")
    with urllib.request.urlopen(ops_stack.endpoint + "/-/metrics", context=context) as r:
        text = r.read().decode()
    assert 'liteio_requests_total{operation="HeadObject",status="200"}' in text
    assert "liteio_request_duration_seconds_bucket" in text and "liteio_requests_in_flight" in text
    count = lambda t: sum(int(line.rsplit(" ", 1)[1]) for line in t.splitlines()
                          if line.startswith('liteio_requests_total{operation="GetObject",status="200"}'))
    base = count(text)
    for _ in range(6):  # served by both worker processes; the counters are shared
        ops_stack.client().get_object(Bucket="ops", Key="k")["Body"].read()
    with urllib.request.urlopen(ops_stack.endpoint + "/-/metrics", context=context) as r:
        assert count(r.read().decode()) == base + 6


def test_sigterm_finishes_the_upload_in_flight(tmp_path):
    with OwnStack(tmp_path / "drain", free_port(), {"processes": 1}) as stack:
        s3 = stack.client()
        s3.create_bucket(Bucket="drain")
        result = {}

        def slow_body():
            for _ in range(20):
                time.sleep(0.1)
                yield b"x" * 65536

        def upload():
            try:
                data = b"".join(slow_body())  # boto3 needs a seekable body: build it slowly, then send
                result["put"] = s3.put_object(Bucket="drain", Key="slow", Body=data)
            except Exception as e:
                result["error"] = e

        # A raw streaming upload that is mid-body when SIGTERM arrives.
        host, port = "127.0.0.1", stack.port
        body_parts = [b"y" * 65536 for _ in range(30)]
        request = AWSRequest(method="PUT", url=f"{stack.endpoint}/drain/streamed",
                             headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                                      "Content-Length": str(65536 * 30)})
        SigV4Auth(Credentials(stack.access_key, stack.secret_key), "s3", "us-east-1").add_auth(request)
        context = ssl.create_default_context(cafile=str(stack.state / "certs" / "ca.pem"))
        connection = http.client.HTTPSConnection("localhost", port, context=context)
        connection.putrequest("PUT", "/drain/streamed", skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"localhost:{port}")
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        for part in body_parts[:10]:
            connection.send(part)
        # SIGTERM only once liteio has accepted the request: connections still in the socket's
        # backlog are left for the next instance (systemd keeps the socket), not drained.
        metrics_context = ssl.create_default_context(cafile=str(stack.state / "certs" / "ca.pem"))
        for _ in range(200):
            with urllib.request.urlopen(stack.endpoint + "/-/metrics", context=metrics_context) as r:
                if "liteio_requests_in_flight 1" in r.read().decode():
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the upload never reached liteio")
        supervisor = stack.supervisor_pid
        os.kill(supervisor, signal.SIGTERM)
        time.sleep(0.3)
        for part in body_parts[10:]:
            connection.send(part)
            time.sleep(0.02)
        response = connection.getresponse()
        assert response.status == 200, response.read()
        for _ in range(100):
            if subprocess.run(["kill", "-0", str(supervisor)], capture_output=True).returncode != 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("liteio did not exit after SIGTERM")
        stack.restart_liteio()
        assert s3.get_object(Bucket="drain", Key="streamed")["Body"].read() == b"y" * 65536 * 30


def test_admin_user_commands(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credentialsFile": str(tmp_path / "creds.json"), "dataDir": str(tmp_path / "data")}))
    run = lambda *args: subprocess.run([str(LITEIO), "--config", str(config), *args], capture_output=True, text=True)
    added = run("user", "add", "alice")
    assert added.returncode == 0, added.stderr
    fields = dict(line.split(": ", 1) for line in added.stdout.strip().splitlines())
    assert fields["displayName"] == "alice" and len(fields["secretKey"]) >= 30
    assert oct((tmp_path / "creds.json").stat().st_mode & 0o777) == "0o600"
    listed = run("user", "list")
    assert fields["accessKey"] in listed.stdout and "alice" in listed.stdout
    assert run("user", "remove", fields["accessKey"]).returncode == 0
    assert fields["accessKey"] not in run("user", "list").stdout
    assert run("user", "remove", "nobody").returncode != 0
    assert run("--help").returncode == 0 or run("help").returncode == 0
    assert run("config", "check").returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"workers": 0}))
    assert subprocess.run([str(LITEIO), "--config", str(bad), "config", "check"], capture_output=True).returncode == 1
    fsck = run("fsck")
    assert fsck.returncode == 0 and "no problems found" in fsck.stdout


def test_fsck_finds_and_repairs(tmp_path):
    data = tmp_path / "data"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"dataDir": str(data)}))
    run = lambda *args: subprocess.run([str(LITEIO), "--config", str(config), *args], capture_output=True, text=True)
    assert run("fsck").returncode == 0
    (data / "buckets" / "bkt").mkdir(parents=True)
    subprocess.run(["setfattr", "-n", "user.liteio.bucket", "-v", "v1\nx\n0\n", str(data / "buckets" / "bkt")],
                   check=True)
    (data / "buckets" / "bkt" / "no-metadata").write_bytes(b"orphan")
    (data / "buckets" / "bkt" / "empty%").mkdir()
    stale = data / "system" / "tmp" / "tmp-stale"
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    report = run("fsck")
    assert report.returncode == 1
    assert "unreadable metadata: 1" in report.stdout and "empty directories: 1" in report.stdout
    assert "stale temporary files: 1" in report.stdout
    repaired = run("fsck", "--repair")
    assert "repaired 3" in repaired.stdout, repaired.stdout
    assert run("fsck").returncode == 0
    assert list((data / "system" / "lost+found").iterdir()), "the unreadable object was moved, not deleted"


def signed_raw(stack, method, host_header, path, body=b""):
    request = AWSRequest(method=method, url=f"https://{host_header}{path}", data=body,
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(stack.access_key, stack.secret_key), "s3", "us-east-1").add_auth(request)
    context = ssl.create_default_context(cafile=str(stack.state / "certs" / "ca.pem"))
    context.check_hostname = False  # *.localhost may not resolve here: connect to 127.0.0.1, send Host
    connection = http.client.HTTPSConnection("127.0.0.1", stack.port, context=context)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host_header)
    for name, value in request.headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    return response.status, response.read()


def test_virtual_host_addressing(tmp_path):
    with OwnStack(tmp_path / "vhost", free_port(), {"baseDomain": "s3.localhost"}) as stack:
        stack.client().create_bucket(Bucket="vbucket")
        host = f"vbucket.s3.localhost:{stack.port}"
        assert signed_raw(stack, "PUT", host, "/dir/obj.txt", b"virtual")[0] == 200
        assert stack.client().get_object(Bucket="vbucket", Key="dir/obj.txt")["Body"].read() == b"virtual"
        status, body = signed_raw(stack, "GET", host, "/dir/obj.txt")
        assert (status, body) == (200, b"virtual")
        status, body = signed_raw(stack, "GET", host, "/?list-type=2")
        assert status == 200 and b"<Key>dir/obj.txt</Key>" in body
        # Path style keeps working on the plain host name.
        status, body = signed_raw(stack, "GET", f"localhost:{stack.port}", "/vbucket/dir/obj.txt")
        assert (status, body) == (200, b"virtual")


def test_two_instances_share_one_tree(tmp_path):
    """Two independent liteio instances (own processes and sockets, as on two hosts) over one data
    directory behind one nginx upstream; concurrent writers, readers, listers and deleters."""
    with OwnStack(tmp_path / "one", free_port(), {"processes": 1, "workers": 4}) as stack:
        second_config = json.loads((stack.state / "liteio.json").read_text())
        second_config["listen"] = f"unix:{stack.state}/run/second.sock"
        (stack.state / "second.json").write_text(json.dumps(second_config))
        log = open(stack.state / "logs" / "second.log", "ab")
        second = subprocess.Popen([str(LITEIO), "serve", "--config", str(stack.state / "second.json")],
                                  stdout=log, stderr=log, start_new_session=True)
        try:
            for _ in range(100):
                if (stack.state / "run" / "second.sock").exists():
                    break
                time.sleep(0.05)
            conf = (stack.state / "nginx.conf").read_text()
            conf = conf.replace(f"server unix:{stack.state}/run/liteio.sock;",
                                f"server unix:{stack.state}/run/liteio.sock;\n        server unix:{stack.state}/run/second.sock;")
            assert "second.sock" in conf
            (stack.state / "nginx.conf").write_text(conf)
            subprocess.run(["nginx", "-p", f"{stack.state}/", "-c", str(stack.state / "nginx.conf"), "-s", "reload"], check=True)
            time.sleep(0.5)

            s3 = stack.client()
            s3.create_bucket(Bucket="shared")
            keys = [f"k{i % 5}" for i in range(5)]
            errors = []
            stop = threading.Event()

            def writer(n):
                client = stack.client()
                version = 0
                while not stop.is_set():
                    version += 1
                    key = keys[(n + version) % len(keys)]
                    body = (f"{key}|{n}|{version}|".encode()).ljust(200_000, b"#")
                    try:
                        client.put_object(Bucket="shared", Key=key, Body=body)
                        if version % 7 == 0:
                            client.delete_object(Bucket="shared", Key=key)
                    except Exception as e:
                        errors.append(repr(e))

            def reader():
                client = stack.client()
                while not stop.is_set():
                    for key in keys:
                        try:
                            body = client.get_object(Bucket="shared", Key=key)["Body"].read()
                            name, _, _, rest = body.split(b"|", 3)
                            if name.decode() != key or len(body) != 200_000 or rest.strip(b"#"):
                                errors.append(f"torn read of {key}")
                        except ClientError as e:
                            if e.response["Error"]["Code"] != "NoSuchKey":
                                errors.append(repr(e))
                    try:
                        for o in client.list_objects_v2(Bucket="shared").get("Contents", []):
                            if o["Key"] not in keys:
                                errors.append(f"unexpected key {o['Key']}")
                    except Exception as e:
                        errors.append(repr(e))

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)] + \
                      [threading.Thread(target=reader) for _ in range(2)]
            for t in threads:
                t.start()
            time.sleep(6)
            stop.set()
            for t in threads:
                t.join()
            assert errors == [], errors[:5]
            # Both instances served requests.
            second_log = (stack.state / "logs" / "second.log").read_text()
            first_log = (stack.state / "logs" / "liteio.log").read_text()
            assert second_log.count('"PutObject"') > 10 and first_log.count('"PutObject"') > 10
            # Nothing lost: every key holds a whole object or was last deleted.
            for key in keys:
                try:
                    body = s3.get_object(Bucket="shared", Key=key)["Body"].read()
                    assert len(body) == 200_000 and body.split(b"|")[0].decode() == key
                except ClientError as e:
                    assert e.response["Error"]["Code"] == "NoSuchKey"
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)


def test_client_going_away_stops_the_download(ops_stack):
    """A client that disconnects mid-GET: liteio notices at its next write and stops streaming."""
    s3 = ops_stack.client()
    size = 256 << 20
    s3.put_object(Bucket="ops", Key="huge", Body=b"\0" * size)
    # (without signature_version botocore presigns with SigV2, which liteio does not speak)
    url = ops_stack.client(signature_version="s3v4").generate_presigned_url("get_object", Params={"Bucket": "ops", "Key": "huge"})
    context = ssl.create_default_context(cafile=str(ops_stack.state / "certs" / "ca.pem"))
    response = urllib.request.urlopen(url, context=context)
    assert len(response.read(1 << 20)) == 1 << 20
    response.close()  # goes away after 1 MiB of 256
    log = ops_stack.state / "logs" / "liteio.log"
    for _ in range(100):
        entries = [json.loads(line) for line in log.read_text().splitlines()
                   if '"GetObject"' in line and '"huge"' in line]
        if entries:
            break
        time.sleep(0.1)
    assert entries, "the GET was never logged"
    assert entries[-1].get("error") == "ClientGone", entries[-1]
    assert entries[-1]["bytesOut"] < size // 2, entries[-1]
