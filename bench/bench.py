#!/usr/bin/env python3
"""liteio benchmark driver (run through bench/run.sh; see bench/README.md).

Starts its own stack(s) (scripts/stack.sh) on free loopback ports in a temp dir, runs every workload
next to its reference, prints one markdown table on stdout and writes it, with the run's context and
a server-health summary, to bench/results/YYYY-MM-DD-<cores>cores[-quick].md. Progress goes to stderr.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
S3BENCH = os.path.join(HERE, "s3bench.py")
ROTATE = os.path.join(HERE, "rotate.lua")
STACK = os.path.join(REPO, "scripts", "stack.sh")
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# ------------------------------------------------------------------------------------ settings

QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0", "false", "no")


def env_num(name, full, quick, conv=int):
    v = os.environ.get(name)
    return conv(v) if v not in (None, "") else (quick if QUICK else full)


def env_size(name, full, quick):
    """Sizes accept K/M/G suffixes (binary)."""
    v = os.environ.get(name)
    if v in (None, ""):
        return quick if QUICK else full
    m = re.fullmatch(r"(\d+)([KMG]?)i?B?", v.strip(), re.I)
    if not m:
        raise SystemExit(f"bad size {name}={v}")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]


DURATION = env_num("BENCH_DURATION", 8, 2, float)        # seconds per wrk measurement
WARMUP = env_num("BENCH_WARMUP", 1, 1, float)            # seconds of wrk warm-up before each
REPEAT = env_num("BENCH_REPEAT", 2, 1)                   # alternate reference/liteio this often, keep best
CONNS = env_num("BENCH_CONNECTIONS", 32, 32)
THREADS = env_num("BENCH_WRK_THREADS", min(os.cpu_count() or 2, 2), 2)
RANGE_OBJECT = env_size("BENCH_RANGE_OBJECT", 4 * GiB, 256 * MiB)
LIST_SMALL = env_num("BENCH_LIST_SMALL", 10_000, 2_000)  # objects in the small bucket
LIST_FACTOR = env_num("BENCH_LIST_FACTOR", 100, 100)     # large bucket = factor x small (target)
LIST_FILL_SECONDS = env_num("BENCH_LIST_FILL_SECONDS", 420, 16, float)  # API fill budget, both large buckets
LIST_FILL = os.environ.get("BENCH_LIST_FILL", "api")  # api | clone (see clone_fill)
MPU_SIZE = env_size("BENCH_MPU_SIZE", 1 * GiB, 64 * MiB)
MPU_PARTS = env_num("BENCH_MPU_PARTS", 100, 10)
RSS_BIG = env_size("BENCH_RSS_BIG", 1 * GiB, 256 * MiB)
RSS_SECONDS = env_num("BENCH_RSS_SECONDS", 8, 2, float)  # per phase (GET, GET SSE-C, PUT, PUT SSE-C)
LATENCY_REPS = env_num("BENCH_LATENCY_REPS", 30, 10)
MOTO = os.environ.get("BENCH_MOTO", "1") not in ("0", "no", "false")
MOTO_VENV = os.environ.get("BENCH_MOTO_VENV", os.path.join(HERE, ".venv"))
PER_GROUP = 1000  # keys listed per ListObjectsV2 call (= S3's max-keys limit)

# Plain (no SSE-C) and SSE-C request headers for wrk -H (only `host` is presigned).
sys.path.insert(0, HERE)
import s3bench  # noqa: E402

SSEC_H = s3bench.ssec_headers()


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def human_count(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def human_size(n):
    for unit, f in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= f and n % f == 0:
            return f"{n // f} {unit}"
    return f"{n} B"


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for k in ("NO_PROXY", "no_proxy"):
        env[k] = ",".join(filter(None, [env.get(k), "localhost,127.0.0.1,::1"]))
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    return env


ENV = clean_env()


def run(cmd, timeout=None, check=True, **kw):
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} {' '.join(cmd[1:3])}…: exit {p.returncode}: "
                           f"{(p.stderr or p.stdout).strip()[-800:]}")
    return p


# ------------------------------------------------------------------------------------ the stack

class Stack:
    def __init__(self, state):
        self.state = state
        self.https_port = self.http_port = None
        self.running = False

    @property
    def endpoint(self):
        return f"https://localhost:{self.https_port}"

    @property
    def http_endpoint(self):
        return f"http://localhost:{self.http_port}"

    def start(self):
        if self.https_port is None:
            self.https_port, self.http_port = free_port(), free_port()
        log(f"starting stack in {self.state} (https {self.https_port}, http {self.http_port})")
        run(["bash", STACK, "start", self.state, str(self.https_port), str(self.http_port)], timeout=120)
        self.running = True
        self._add_reference_locations()
        if not hasattr(self, "shape"):
            try:
                cfg = json.load(open(os.path.join(self.state, "liteio.json")))
            except (OSError, ValueError):
                cfg = {}
            time.sleep(0.5)  # let the supervisor start its workers
            self.shape = (f"{len(self.liteio_pids())} liteio process(es) (supervisor + workers), "
                          f"{cfg.get('workers', '?')} worker threads each (liteio.json from scripts/stack.sh)")

    def stop(self):
        if self.running:
            log("stopping stack")
            run(["bash", STACK, "stop", self.state], timeout=120, check=False)
            self.running = False

    def restart(self):
        self.stop()
        self.start()

    def _add_reference_locations(self):
        """Static files and WebDAV PUT served by the stack's own nginx (same TLS, same worker count):
        an include of bench-locations.conf in front of liteio's locations, then a reload."""
        www = os.path.join(self.state, "bench-www")
        os.makedirs(os.path.join(www, "__bench_static"), exist_ok=True)
        os.makedirs(os.path.join(www, "__bench_dav"), exist_ok=True)
        os.makedirs(os.path.join(self.state, "run", "nginx-tmp", "dav"), exist_ok=True)
        snippet = os.path.join(self.state, "bench-locations.conf")
        with open(snippet, "w") as f:
            f.write(f"""# Added by bench/bench.py: the benchmark's references, served by the same nginx.
location ^~ /__bench_static/ {{
    root {www};
}}
location ^~ /__bench_dav/ {{
    root {www};
    dav_methods PUT;
    create_full_put_path on;
    # Same file system as root, so the finished upload is renamed into place (no copy).
    client_body_temp_path {self.state}/run/nginx-tmp/dav;
}}
""")
        conf = os.path.join(self.state, "nginx.conf")
        text = open(conf).read()
        if "bench-locations.conf" not in text:
            text, n = re.subn(r"^(\s*)(include\s+\S*liteio-locations\.conf;)",
                              rf"\1include {snippet};\n\1\2", text, flags=re.M)
            if not n:
                raise RuntimeError("nginx.conf has no liteio-locations.conf include to put the references in front of")
            open(conf, "w").write(text)
        probe = os.path.join(www, "__bench_static", "probe")
        with open(probe, "w") as f:
            f.write(str(time.time()))
        run(["nginx", "-p", self.state + "/", "-c", conf, "-e", os.path.join(self.state, "logs", "nginx-error.log"),
             "-s", "reload"], timeout=30)
        want = open(probe).read()
        for _ in range(100):
            try:
                got = urllib.request.urlopen(f"{self.http_endpoint}/__bench_static/probe", timeout=2).read().decode()
                if got == want:
                    return
            except Exception:  # noqa: BLE001 - reload still in progress
                pass
            time.sleep(0.1)
        raise RuntimeError("nginx did not pick up the reference locations after reload")

    def liteio_pids(self):
        # The supervisor (`liteio serve --config X`) and its workers (`liteio --config X serve --child`).
        needle = f"--config {self.state}/liteio.json"
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "liteio" in cmd.split(" ")[0] and needle in cmd and " serve" in cmd:
                pids.append(int(d))
        return pids

    def alive(self):
        return bool(self.liteio_pids())

    def s3(self, *args, endpoint=None, timeout=3600):
        """Runs s3bench.py against this stack; returns its JSON (or the raw lines for presign)."""
        cmd = [sys.executable, S3BENCH, "--endpoint", endpoint or self.endpoint,
               "--ca", os.path.join(self.state, "certs", "ca.pem"),
               "--creds", os.path.join(self.state, "credentials.json"), *map(str, args)]
        p = run(cmd, timeout=timeout)
        if args[0] in ("presign", "signreq"):
            return [l for l in p.stdout.splitlines() if l.strip()]
        return json.loads(p.stdout.strip().splitlines()[-1])


def status_kib(pid, field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the summed VmRSS of the stack's liteio processes every 50 ms."""

    def __init__(self, stack):
        self.stack, self.peak_kib, self._stop = stack, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            total = sum(status_kib(p, "VmRSS") for p in self.stack.liteio_pids())
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


# ------------------------------------------------------------------------------------ wrk

class WrkResult:
    def __init__(self, d, body_bytes, resp_bytes):
        self.requests = d["requests"]
        self.seconds = d["duration_us"] / 1e6
        self.rps = self.requests / self.seconds if self.seconds else 0
        self.errors = d["err_connect"] + d["err_read"] + d["err_write"] + d["err_timeout"]
        self.non2xx = d["err_status"]
        # Payload throughput in MB/s (10^6 bytes): the object bytes moved, headers not counted.
        self.mbps = self.rps * max(body_bytes, resp_bytes) / 1e6
        # Raw bytes read per second (responses incl. headers; counts unfinished big responses too).
        self.read_mbps = d["bytes_read"] / self.seconds / 1e6 if self.seconds else 0
        self.p50_ms = d["lat_p50_us"] / 1000


def wrk(base_url, targets, workdir, method="GET", body_bytes=0, resp_bytes=0, headers=None,
        duration=None, conns=None, warmup=True, allow_none=False):
    duration = duration or DURATION
    conns = conns or CONNS
    tf = tempfile.NamedTemporaryFile("w", dir=workdir, suffix=".targets", delete=False)
    tf.write("\n".join(targets) + "\n")
    tf.close()
    hargs = []
    for k, v in (headers or {}).items():
        hargs += ["-H", f"{k}: {v}"]

    def once(seconds):
        cmd = ["wrk", f"-t{THREADS}", f"-c{conns}", f"-d{seconds}s", "--timeout", "60s", *hargs,
               "-s", ROTATE, base_url, "--", tf.name, method, str(body_bytes), str(THREADS)]
        p = run(cmd, timeout=seconds + 120)
        m = re.search(r"^WRKJSON (\{.*\})$", p.stdout, re.M)
        if not m:
            raise RuntimeError(f"wrk printed no result: {p.stdout[-500:]} {p.stderr[-500:]}")
        return WrkResult(json.loads(m.group(1)), body_bytes, resp_bytes)

    if warmup and WARMUP > 0:
        once(max(1, int(WARMUP)))
    r = once(max(1, int(round(duration))))
    os.unlink(tf.name)
    if r.requests == 0 and not allow_none:
        raise RuntimeError("no request completed")
    return r


def best(results, key):
    """Best of repeated runs (runs alternate with their reference: best-of damps a noisy neighbour)."""
    return max(results, key=key)


def flag(r):
    bad = []
    if r.non2xx:
        bad.append(f"{r.non2xx} non-2xx")
    if r.errors:
        bad.append(f"{r.errors} socket errors")
    return f" ⚠ {', '.join(bad)}" if bad else ""


# ------------------------------------------------------------------------------------ table

class Table:
    def __init__(self):
        self.rows = []  # (workload, liteio, reference, ratio)
        self.notes = []

    def add(self, workload, liteio, reference, ratio):
        self.rows.append((workload, liteio, reference, ratio))
        log(f"ROW | {workload} | {liteio} | {reference} | {ratio}")

    def not_measured(self, workload, reason):
        reason = " ".join(str(reason).split())[:300]
        self.add(workload, f"not measured: {reason}", "", "")

    def markdown(self):
        out = ["| workload | liteio | reference | ratio |", "|---|---|---|---|"]
        for r in self.rows:
            out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
        return "\n".join(out)


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


# ------------------------------------------------------------------------------------ workloads

class Bench:
    def __init__(self, tmp):
        self.tmp = tmp
        self.stack = Stack(os.path.join(tmp, "stack"))
        self.table = Table()
        self.moto_proc = None
        self.moto_port = None
        self.put_style = None  # "presign" or "signreq": how wrk's PUTs are authenticated
        self.generators = {}

    # -- helpers

    def static_file(self, name, size):
        path = os.path.join(self.stack.state, "bench-www", "__bench_static", name)
        with open(path, "wb") as f:
            f.write((s3bench.PatternBody.BLOCK * (size // MiB + 1))[:size])
        return f"/__bench_static/{name}"

    def section(self, label, fn):
        """Runs one workload group; a failure becomes a `not measured` row, never a made-up number."""
        t0 = time.monotonic()
        rows_before = len(self.table.rows)
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            what = f"{type(e).__name__}: {e}"
            if len(self.table.rows) == rows_before:
                self.table.not_measured(label, what)
            else:
                self.table.notes.append(f"{label}: failed after its first row(s): {what}")
        if not self.stack.alive():
            log("liteio is not running any more: restarting the stack for the next workload")
            self.table.notes.append(f"liteio process gone after workload group '{label}' (crash?): restarted")
            self.stack.restart()
        log(f"{label}: {time.monotonic() - t0:.0f} s")

    # -- 1: small GETs

    def get_4k(self):
        name = f"GET 4 KiB object, SigV4 presigned, {CONNS} connections (req/s)"
        st = self.stack
        st.s3("mkbucket", "bench")
        keys = [f"o4k-{i}" for i in range(8)]
        st.s3("put", "--size", 4 * KiB, "bench", *keys)
        urls = st.s3("presign", "bench", *keys)
        static = [self.static_file(f"f4k-{i}", 4 * KiB) for i in range(8)]
        lit, ref = [], []
        for _ in range(REPEAT):
            ref.append(wrk(st.endpoint, static, self.tmp, resp_bytes=4 * KiB))
            lit.append(wrk(st.endpoint, urls, self.tmp, resp_bytes=4 * KiB))
        L, R = best(lit, lambda r: r.rps), best(ref, lambda r: r.rps)
        self.table.add(name, f"{L.rps:,.0f} req/s{flag(L)}", f"{R.rps:,.0f} req/s (nginx static 4 KiB file){flag(R)}",
                       ratio(L.rps, R.rps))

    # -- 2: 1 MiB GETs

    def get_1m(self):
        names = [f"GET 1 MiB object, plain, {CONNS} connections (MB/s)",
                 f"GET 1 MiB object, SSE-C, {CONNS} connections (MB/s)"]
        st = self.stack
        st.s3("mkbucket", "bench")
        plain = [f"o1m-{i}" for i in range(8)]
        ssec = [f"s1m-{i}" for i in range(8)]
        st.s3("put", "--size", MiB, "bench", *plain)
        st.s3("put", "--size", MiB, "--ssec", "bench", *ssec)
        purls, surls = st.s3("presign", "bench", *plain), st.s3("presign", "bench", *ssec)
        static = [self.static_file(f"f1m-{i}", MiB) for i in range(8)]
        lp, ls, ref = [], [], []
        for _ in range(REPEAT):
            ref.append(wrk(st.endpoint, static, self.tmp, resp_bytes=MiB))
            lp.append(wrk(st.endpoint, purls, self.tmp, resp_bytes=MiB))
            ls.append(wrk(st.endpoint, surls, self.tmp, resp_bytes=MiB, headers=SSEC_H))
        R = best(ref, lambda r: r.mbps)
        for n, res in zip(names, (lp, ls)):
            L = best(res, lambda r: r.mbps)
            self.table.add(n, f"{L.mbps:,.0f} MB/s{flag(L)}", f"{R.mbps:,.0f} MB/s (nginx static 1 MiB file){flag(R)}",
                           ratio(L.mbps, R.mbps))

    # -- 3: 1 MiB PUTs

    def put_1m(self):
        names = [f"PUT 1 MiB object, plain, {CONNS} connections (MB/s)",
                 f"PUT 1 MiB object, SSE-C, {CONNS} connections (MB/s)"]
        st = self.stack
        st.s3("mkbucket", "bench")
        n = max(4 * CONNS, 64)  # distinct keys: no two connections overwrite one key at once
        if self.put_style is None:
            self.put_style = "presign" if self.probe_presigned_put() else "signreq"
        if self.put_style == "presign":
            purls = st.s3("presign", "--method", "PUT", "bench", *[f"p1m-{i}" for i in range(n)])
            surls = st.s3("presign", "--method", "PUT", "bench", *[f"ps1m-{i}" for i in range(n)])
            sh = SSEC_H
        else:
            purls = st.s3("signreq", "bench", *[f"p1m-{i}" for i in range(n)])
            surls = st.s3("signreq", "--ssec", "bench", *[f"ps1m-{i}" for i in range(n)])
            sh = None
        dav = [f"/__bench_dav/d1m-{i}" for i in range(n)]
        lp, ls, ref = [], [], []
        for _ in range(REPEAT):
            ref.append(wrk(st.endpoint, dav, self.tmp, method="PUT", body_bytes=MiB))
            lp.append(wrk(st.endpoint, purls, self.tmp, method="PUT", body_bytes=MiB))
            ls.append(wrk(st.endpoint, surls, self.tmp, method="PUT", body_bytes=MiB, headers=sh))
        R = best(ref, lambda r: r.mbps)
        for name, res in zip(names, (lp, ls)):
            L = best(res, lambda r: r.mbps)
            self.table.add(name, f"{L.mbps:,.0f} MB/s{flag(L)}",
                           f"{R.mbps:,.0f} MB/s (nginx WebDAV PUT, no fsync){flag(R)}", ratio(L.mbps, R.mbps))
        # Spot check: the SSE-C objects written by wrk really are SSE-C and complete.
        r = st.s3("get", "--ssec", "--reps", 1, "--warmup", 0, "--expect-bytes", MiB, "bench", "ps1m-0")
        assert r["bytes"] == MiB

    def probe_presigned_put(self):
        """True if liteio accepts a presigned PUT URL (it answered 501 NotImplemented while this
        benchmark was written). If not, the PUT rows replay header-signed requests instead, and a
        note says why."""
        import ssl
        st = self.stack
        url = st.endpoint + st.s3("presign", "--method", "PUT", "bench", "presigned-put-probe")[0]
        ctx = ssl.create_default_context(cafile=os.path.join(st.state, "certs", "ca.pem"))
        req = urllib.request.Request(url, data=b"x" * 1024, method="PUT")
        try:
            code = urllib.request.urlopen(req, context=ctx, timeout=30).status
            body = ""
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read().decode(errors="replace")
        if code != 200:
            m = re.search(r"<Code>(.*?)</Code>.*?<Message>(.*?)</Message>", body, re.S)
            self.table.notes.append(
                f"liteio answered a presigned PutObject URL with HTTP {code}"
                + (f" {m.group(1)} ({m.group(2)})" if m else "")
                + ": the PUT rows therefore replay header-signed requests (`s3bench.py signreq`).")
            return False
        return True

    # -- 4: moto

    def start_moto(self):
        exe = os.path.join(MOTO_VENV, "bin", "moto_server")
        if not os.access(exe, os.X_OK):
            raise RuntimeError(f"{exe} missing (bench/run.sh installs moto[server] into {MOTO_VENV})")
        self.moto_port = free_port()
        logf = open(os.path.join(self.tmp, "moto.log"), "w")
        self.moto_proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.moto_port)], env=ENV,
                                          stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.moto_port}/", timeout=1)
                return
            except urllib.error.HTTPError:
                return
            except Exception:  # noqa: BLE001 - not up yet
                if self.moto_proc.poll() is not None:
                    raise RuntimeError("moto_server exited at start-up")
                time.sleep(0.2)
        raise RuntimeError("moto_server did not answer within 30 s")

    def stop_moto(self):
        if self.moto_proc and self.moto_proc.poll() is None:
            self.moto_proc.terminate()
            try:
                self.moto_proc.wait(10)
            except subprocess.TimeoutExpired:
                self.moto_proc.kill()
                self.moto_proc.wait()
        self.moto_proc = None

    def moto(self):
        names = [f"GET 4 KiB vs moto, plain HTTP, {CONNS} connections (ops/s)",
                 f"GET 1 MiB vs moto, plain HTTP, {CONNS} connections (ops/s)",
                 f"PUT 4 KiB vs moto, plain HTTP, {CONNS} connections (ops/s)",
                 f"PUT 1 MiB vs moto, plain HTTP, {CONNS} connections (ops/s)"]
        if not MOTO:
            for n in names:
                self.table.not_measured(n, "BENCH_MOTO=0")
            return
        try:
            self.start_moto()
        except Exception as e:  # noqa: BLE001
            for n in names:
                self.table.not_measured(n, e)
            return
        try:
            st = self.stack
            moto_ep = f"http://localhost:{self.moto_port}"
            # Same client (wrk + rotate.lua, presigned URLs; moto does not check signatures), both
            # over plain HTTP: moto_server has no TLS, so liteio is reached on the stack's HTTP port.
            moto = lambda *a: json.loads(run([sys.executable, S3BENCH, "--endpoint", moto_ep, *map(str, a)],
                                             timeout=600).stdout.strip().splitlines()[-1])
            moto_targets = lambda cmd, *a: [
                l for l in run([sys.executable, S3BENCH, "--endpoint", moto_ep, cmd, *map(str, a)],
                               timeout=60).stdout.splitlines() if l.strip()]
            moto("mkbucket", "bench")
            st.s3("mkbucket", "bench")
            for size, tag in ((4 * KiB, "4k"), (MiB, "1m")):
                keys = [f"m{tag}-{i}" for i in range(8)]
                moto("put", "--size", size, "bench", *keys)
                st.s3("put", "--size", size, "bench", *keys, endpoint=st.http_endpoint)
            nput = max(4 * CONNS, 64)
            plans = [  # name, method, size, keys
                (names[0], "GET", 4 * KiB, [f"m4k-{i}" for i in range(8)]),
                (names[1], "GET", MiB, [f"m1m-{i}" for i in range(8)]),
                (names[2], "PUT", 4 * KiB, [f"mp4k-{i}" for i in range(nput)]),
                (names[3], "PUT", MiB, [f"mp1m-{i}" for i in range(nput)]),
            ]
            for name, method, size, keys in plans:
                try:
                    # Presigned URLs, unless liteio refuses presigned PUTs (see probe_presigned_put).
                    if method == "PUT" and self.put_style is None:
                        self.put_style = "presign" if self.probe_presigned_put() else "signreq"
                    cmd = "presign" if method == "GET" or self.put_style == "presign" else "signreq"
                    lurls = st.s3(cmd, "--method", method, "bench", *keys, endpoint=st.http_endpoint)
                    murls = moto_targets(cmd, "--method", method, "bench", *keys)
                    kw = dict(method=method, body_bytes=size if method == "PUT" else 0,
                              resp_bytes=size if method == "GET" else 0)
                    lit, ref = [], []
                    for _ in range(REPEAT):
                        ref.append(wrk(moto_ep, murls, self.tmp, **kw))
                        lit.append(wrk(st.http_endpoint, lurls, self.tmp, **kw))
                    L, R = best(lit, lambda r: r.rps), best(ref, lambda r: r.rps)
                    self.table.add(name, f"{L.rps:,.0f} ops/s{flag(L)}", f"{R.rps:,.1f} ops/s (moto server){flag(R)}",
                                   ratio(L.rps, R.rps))
                except Exception as e:  # noqa: BLE001
                    traceback.print_exc(file=sys.stderr)
                    self.table.not_measured(name, f"{type(e).__name__}: {e}")
        finally:
            self.stop_moto()

    # -- 5: range GET at the end of a big SSE-C object

    def range_get(self):
        name = (f"Range GET of the last 1 MiB of a {human_size(RANGE_OBJECT)} SSE-C object, 1 connection "
                f"(median ms of {LATENCY_REPS})")
        st = self.stack
        st.s3("mkbucket", "bench")
        if not os.path.exists(os.path.join(st.state, "data", "buckets", "bench", "s1m-0")):
            st.s3("put", "--size", MiB, "--ssec", "bench", "s1m-0")
        log(f"uploading a {human_size(RANGE_OBJECT)} SSE-C object")
        up = st.s3("put", "--size", RANGE_OBJECT, "--ssec", "--threads", 1, "bench", "big-ssec")
        log(f"  {RANGE_OBJECT / up['seconds'] / 1e6:.0f} MB/s single PUT")
        rng = f"bytes={RANGE_OBJECT - MiB}-{RANGE_OBJECT - 1}"
        lit, ref = [], []
        for _ in range(REPEAT):
            ref.append(st.s3("get", "--ssec", "--reps", LATENCY_REPS, "--expect-bytes", MiB, "bench", "s1m-0"))
            lit.append(st.s3("get", "--ssec", "--range", rng, "--reps", LATENCY_REPS, "--expect-bytes", MiB,
                             "bench", "big-ssec"))
        L, R = min(r["median_ms"] for r in lit), min(r["median_ms"] for r in ref)
        self.table.add(name, f"{L:.1f} ms", f"{R:.1f} ms (GET of a whole 1 MiB SSE-C object)", ratio(R, L))

    # -- 6: listing

    def fill(self, bucket, fmt, first, count, seconds):
        st = self.stack
        args = ["populate", "--format", fmt, "--first", first, "--count", count, "--per-group", PER_GROUP,
                "--processes", 2, "--threads", 16]
        if seconds:
            args += ["--max-seconds", seconds]
        r = st.s3(*args, bucket, timeout=(seconds or 3600) + 600)
        if r["errors"]:
            raise RuntimeError(f"populate {bucket}: {r['errors'][0]}")
        log(f"  {bucket}: {r['created']:,} objects in {r['seconds']:.0f} s ({r['rate']:.0f}/s)")
        return r

    def clone_fill(self, bucket, tag, have, target):
        """BENCH_LIST_FILL=clone: grows `bucket` from `have` API-created objects to `target` by copying
        their files (with their xattrs: liteio's metadata) on disk under new names. Relies on liteio's
        storage layout (one file per object, `%`-suffixed folders, metadata in xattrs), which is what
        the API would have produced; only the setup is faster. Returns the number of objects."""
        root = os.path.join(self.stack.state, "data", "buckets", bucket)
        t0 = time.monotonic()
        if tag == "nested":
            src = os.path.join(root, "g00000%")
            for g in range(have // PER_GROUP, target // PER_GROUP):
                run(["cp", "-a", src, os.path.join(root, f"g{g:05d}%")])
        else:
            tmpl = os.path.join(root, "f0000000")
            if os.path.getsize(tmpl) != 0:
                raise RuntimeError("clone fill expects empty objects")
            attrs = {a: os.getxattr(tmpl, a) for a in os.listxattr(tmpl)}
            dfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for n in range(have, target):
                    fd = os.open(f"f{n:07d}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640, dir_fd=dfd)
                    for a, v in attrs.items():
                        os.setxattr(fd, a, v)
                    os.close(fd)
            finally:
                os.close(dfd)
        log(f"  {bucket}: cloned on disk up to {target:,} objects in {time.monotonic() - t0:.0f} s")
        return target

    def listing(self):
        layouts = [
            ("nested", "g{g:05d}/k{i:03d}", "g00001/",
             f"ListObjectsV2, {PER_GROUP:,} keys under prefix `g00001/`; nested keys `gNNNNN/kNNN`, "
             f"{PER_GROUP:,} per folder (median ms)"),
            ("flat", "f{n:07d}", "f0001",
             f"ListObjectsV2, {PER_GROUP:,} keys under prefix `f0001`; flat keys `fNNNNNNN`, all in one "
             f"folder (median ms)"),
        ]
        st = self.stack
        small_n = max(2 * PER_GROUP, LIST_SMALL // PER_GROUP * PER_GROUP)
        big_target = small_n * LIST_FACTOR
        budget_each = LIST_FILL_SECONDS / len(layouts)
        for tag, fmt, prefix, name in layouts:
            try:
                small, big = f"list-{tag}-small", f"list-{tag}-big"
                st.s3("mkbucket", small, big)
                log(f"filling {small} ({small_n:,}) and {big} (up to {big_target:,}, "
                    f"{'clone' if LIST_FILL == 'clone' else f'{budget_each:.0f} s budget'})")
                self.fill(small, fmt, 0, small_n, 0)
                # The large bucket holds the small one's keys and more after them.
                if LIST_FILL == "clone":
                    r = self.fill(big, fmt, 0, small_n, 0)
                    big_n = self.clone_fill(big, tag, small_n, big_target)
                    how = (f"{big_n - small_n:,} of them cloned on disk from {small_n:,} created through the API "
                           f"(BENCH_LIST_FILL=clone)")
                else:
                    r = self.fill(big, fmt, 0, big_target, budget_each)
                    big_n = r["created"]
                    how = "all created through the API" + ("" if big_n >= big_target else (
                        f"; {big_target / small_n:.0f}× ({human_count(big_target)}) did not fit in the "
                        f"{budget_each:.0f} s fill budget at {r['rate']:.0f} objects/s"))
                lit, ref = [], []
                for _ in range(REPEAT):
                    ref.append(st.s3("list", "--prefix", prefix, "--reps", LATENCY_REPS, small))
                    lit.append(st.s3("list", "--prefix", prefix, "--reps", LATENCY_REPS, big))
                for x in lit + ref:
                    if x["keys"] != PER_GROUP:
                        raise RuntimeError(f"listing returned {x['keys']} keys, expected {PER_GROUP}")
                L, R = min(x["median_ms"] for x in lit), min(x["median_ms"] for x in ref)
                self.table.add(
                    name, f"{L:.1f} ms in a bucket of {big_n:,} objects ({big_n / small_n:.0f}× larger; {how})",
                    f"{R:.1f} ms, same listing in a bucket of {small_n:,} objects", ratio(R, L))
            except Exception as e:  # noqa: BLE001
                traceback.print_exc(file=sys.stderr)
                self.table.not_measured(name, f"{type(e).__name__}: {e}")

    # -- 7: multipart complete

    def multipart(self):
        name = f"CompleteMultipartUpload of {human_size(MPU_SIZE)} in {MPU_PARTS} parts (s)"
        st = self.stack
        st.s3("mkbucket", "mpu")
        r = st.s3("mpu", "--size", MPU_SIZE, "--parts", MPU_PARTS, "mpu", "big")
        src = os.path.join(self.tmp, "cp-src")
        dst = os.path.join(self.tmp, "cp-dst")
        with open(src, "wb") as f:
            block = s3bench.PatternBody.BLOCK
            left = MPU_SIZE
            while left:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n
            f.flush()
            os.fsync(f.fileno())
        t = time.perf_counter()
        run(["cp", src, dst])
        cp_s = time.perf_counter() - t
        run(["sync", dst])  # coreutils sync FILE: fsync of that file
        cp_sync_s = time.perf_counter() - t
        os.unlink(src)
        os.unlink(dst)
        self.table.add(name, f"{r['complete_s']:.2f} s",
                       f"{cp_s:.2f} s (`cp` of a {human_size(MPU_SIZE)} file, same disk; {cp_sync_s:.2f} s with "
                       f"fsync of the copy)", ratio(cp_s, r["complete_s"]))

    # -- 8: peak RSS

    def rss_phase(self, size):
        """Fresh liteio (VmHWM starts at zero), then 32 concurrent GET, GET SSE-C, PUT, PUT SSE-C of
        objects of `size`, RSS_SECONDS each. Returns (sum of VmHWM, peak of sampled summed VmRSS) in KiB."""
        st = self.stack
        st.s3("mkbucket", "rss")
        tag = human_size(size).replace(" ", "")
        n_obj = 4 if size <= 64 * MiB else 1
        plain = [f"get-{tag}-{i}" for i in range(n_obj)]
        ssec = [f"gets-{tag}-{i}" for i in range(n_obj)]
        existing = os.path.exists(os.path.join(st.state, "data", "buckets", "rss", plain[0]))
        if not existing:
            log(f"uploading RSS objects of {human_size(size)}")
            st.s3("put", "--size", size, "--threads", 2, "rss", *plain)
            st.s3("put", "--size", size, "--ssec", "--threads", 2, "rss", *ssec)
        st.restart()  # VmHWM counts from process start
        purls, surls = st.s3("presign", "rss", *plain), st.s3("presign", "rss", *ssec)
        with RssSampler(st) as sampler:
            # With big objects few GETs finish within the phase: that's fine, the transfers were under way.
            gp = wrk(st.endpoint, purls, self.tmp, resp_bytes=size, duration=RSS_SECONDS, warmup=False,
                     allow_none=True)
            gs = wrk(st.endpoint, surls, self.tmp, resp_bytes=size, headers=SSEC_H, duration=RSS_SECONDS,
                     warmup=False, allow_none=True)
            pp = st.s3("putload", "--size", size, "--concurrency", CONNS, "--seconds", RSS_SECONDS,
                       "--prefix", f"put-{tag}-", "rss")
            ps = st.s3("putload", "--size", size, "--ssec", "--concurrency", CONNS, "--seconds", RSS_SECONDS,
                       "--prefix", f"puts-{tag}-", "rss")
        hwm = sum(status_kib(p, "VmHWM") for p in st.liteio_pids())
        pids = st.liteio_pids()
        detail = (f"GET {gp.read_mbps:.0f} MB/s, GET SSE-C {gs.read_mbps:.0f} MB/s, PUT {pp['completed']} done/"
                  f"{pp['cut_off']} cut, PUT SSE-C {ps['completed']} done/{ps['cut_off']} cut")
        log(f"  RSS {human_size(size)}: VmHWM {hwm / 1024:.0f} MiB over {len(pids)} process(es), sampled peak "
            f"{sampler.peak_kib / 1024:.0f} MiB; {detail}{flag(gp)}{flag(gs)}")
        return hwm, sampler.peak_kib, len(pids), flag(gp) + flag(gs)

    def rss(self):
        name = (f"Peak RSS of all liteio processes, {CONNS} concurrent GET / GET SSE-C / PUT / PUT SSE-C of "
                f"{human_size(RSS_BIG)} objects (MiB)")
        small = self.rss_phase(MiB)
        big = self.rss_phase(RSS_BIG)
        self.table.add(name, f"{big[0] / 1024:.0f} MiB (VmHWM; sampled VmRSS peak {big[1] / 1024:.0f}){big[3]}",
                       f"{small[0] / 1024:.0f} MiB (same with 1 MiB objects; sampled {small[1] / 1024:.0f}){small[3]}",
                       ratio(small[0], big[0]))

    # -- run

    def run(self):
        self.stack.start()
        groups = [
            (f"GET 4 KiB object, SigV4, {CONNS} connections", self.get_4k),
            (f"GET 1 MiB object, plain and SSE-C, {CONNS} connections", self.get_1m),
            (f"PUT 1 MiB object, plain and SSE-C, {CONNS} connections", self.put_1m),
            ("GET/PUT 4 KiB and 1 MiB vs moto", self.moto),
            (f"Range GET of the last 1 MiB of a {human_size(RANGE_OBJECT)} SSE-C object", self.range_get),
            ("ListObjectsV2, 1,000 keys under a prefix", self.listing),
            (f"CompleteMultipartUpload of {human_size(MPU_SIZE)} in {MPU_PARTS} parts", self.multipart),
            ("Peak RSS of all liteio processes", self.rss),
        ]
        only = os.environ.get("BENCH_ONLY")  # comma-separated words: run only the groups whose label has one
        for label, fn in groups:
            if only and not any(w.strip().lower() in label.lower() for w in only.split(",") if w.strip()):
                continue
            self.section(label, fn)


# ------------------------------------------------------------------------------------ report

def health(state):
    """Summary of the server logs of this run: liteio status codes, non-JSON liteio lines, nginx errors."""
    out = []
    lpath = os.path.join(state, "logs", "liteio.log")
    statuses, odd = {}, []
    try:
        with open(lpath, errors="replace") as f:
            for line in f:
                s = line.strip()
                if not s:
                    continue
                try:
                    d = json.loads(s)
                except ValueError:
                    odd.append(s)
                    continue
                if not isinstance(d, dict):
                    odd.append(s)
                    continue
                st = d.get("status")
                if st is None:
                    if d.get("level") not in ("info", "debug"):
                        odd.append(s)
                    continue
                label = f"{st} {d['error']}" if d.get("error") else str(st)
                statuses[label] = statuses.get(label, 0) + 1
                if isinstance(st, int) and st >= 500:
                    odd.append(s)
    except OSError as e:
        out.append(f"- liteio log unreadable: {e}")
    out.append("- liteio request log, by status and error code: " +
               ", ".join(f"{k}: {v:,}" for k, v in sorted(statuses.items())) +
               " (400 IncompleteBody = an upload cut off by the client: wrk ending a timed PUT run, or the "
               "RSS phase's deadline; 409 = the benchmark re-creating its buckets)")
    if odd:
        uniq = {}
        for s in odd:
            key = re.sub(r"[0-9a-f]{32}|\d+(\.\d+)?", "#", s)[:200]
            uniq.setdefault(key, [s, 0])[1] += 1
        out.append(f"- liteio log lines that are 5xx records or warnings/errors ({len(odd):,}; distinct shapes "
                   f"{len(uniq)}, first of each, max 15):")
        out.append("```")
        for s, n in list(uniq.values())[:15]:
            out.append(f"[{n}×] {s[:600]}")
        out.append("```")
    npath = os.path.join(state, "logs", "nginx-access.log")
    nst = {}
    try:
        with open(npath, errors="replace") as f:
            for line in f:
                m = re.search(r'" (\d{3}) \d+ rt=', line)
                if m:
                    nst[m.group(1)] = nst.get(m.group(1), 0) + 1
    except OSError:
        pass
    if any(k.startswith("403") for k in statuses):
        out.append("- (403s: the benchmark probes its reference locations right after `nginx -s reload`; "
                   "until the new nginx workers take over, those probes reach liteio, which refuses them)")
    out.append("- nginx access log, responses by status: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(nst.items()))
               + " (499 = the client closed the connection: wrk stopping at the end of a timed run, or the RSS "
                 "phase cutting off unfinished uploads)")
    epath = os.path.join(state, "logs", "nginx-error.log")
    try:
        lines = [l.rstrip() for l in open(epath, errors="replace")
                 if re.search(r"\[(error|crit|alert|emerg)\]", l)]
    except OSError:
        lines = []
    if lines:
        uniq = {}
        for l in lines:
            key = re.sub(r"^\S+ \S+ |\d+", "#", l)[:160]
            uniq.setdefault(key, [l, 0])[1] += 1
        out.append(f"- nginx error log, [error] or worse: {len(lines):,} lines; first of each kind (max 10):")
        out.append("```")
        for l, n in list(uniq.values())[:10]:
            out.append(f"[{n}×] {l[:400]}")
        out.append("```")
    else:
        out.append("- nginx error log: no [error] or worse")
    return "\n".join(out)


def git_commit():
    """The repo's HEAD (the binary is normally built from it), flagged when Sources/nginx/scripts differ."""
    try:
        commit = run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).stdout.strip()
        dirty = run(["git", "-C", REPO, "status", "--porcelain", "--", "Sources", "nginx", "scripts"]).stdout.strip()
        return commit + (" (+ uncommitted changes in Sources/nginx/scripts)" if dirty else "")
    except Exception:  # noqa: BLE001
        return "unknown"


def file_hash(path):
    import hashlib
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def main():
    t_start = time.monotonic()
    started = datetime.datetime.now()
    nproc = run(["nproc"]).stdout.strip()
    load0 = open("/proc/loadavg").read().split()[:3]
    base = os.environ.get("BENCH_TMPDIR") or None
    tmp = tempfile.mkdtemp(prefix="liteio-bench.", dir=base)
    os.chmod(tmp, 0o755)
    log(f"{'QUICK' if QUICK else 'full'} run in {tmp}")
    binary = os.environ.get("LITEIO_BIN", os.path.join(REPO, ".build", "release", "liteio"))
    bin_hash0 = file_hash(binary)
    commit = git_commit()
    b = Bench(tmp)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    aborted = None
    try:
        b.run()
    except KeyboardInterrupt as e:
        aborted = f"interrupted ({e})"
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        aborted = f"{type(e).__name__}: {e}"
    finally:
        b.stop_moto()
        b.stack.stop()
    if not os.environ.get("BENCH_KEEP_TMP"):
        # The objects (hundreds of thousands of files) go now, so the total time includes their removal;
        # the logs stay for the health summary below.
        t0 = time.monotonic()
        subprocess.run(["rm", "-rf", "--one-file-system", os.path.join(b.stack.state, "data")], check=False)
        log(f"removed the test data in {time.monotonic() - t0:.0f} s")
    elapsed = time.monotonic() - t_start
    load1 = open("/proc/loadavg").read().split()[:3]

    t = b.table
    foreign = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "liteio serve" in cmd and tmp not in cmd:
                foreign.append(d)
    commit_end = git_commit()
    if commit_end != commit:
        commit += f" at the start, {commit_end} at the end"
    if file_hash(binary) != bin_hash0:
        t.notes.append("**The liteio binary was rebuilt during this run** (someone ran `swift build`): stack "
                       "restarts after that (RSS phases, crash recovery) ran the new binary.")
    try:
        bin_time = datetime.datetime.fromtimestamp(os.stat(binary).st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        bin_time = "?"
    cpu = "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except Exception:  # noqa: BLE001
        pass

    footer = [
        "Ratio: liteio ÷ reference for throughput rows (req/s, MB/s, ops/s); reference ÷ liteio for time and "
        "memory rows (ms, s, MiB). Either way, above 1 means liteio did better than its reference.",
        "MB/s = 10^6 bytes of object payload per second (headers not counted).",
        "Load generators: **wrk** (`bench/rotate.lua`) measured every req/s, MB/s and ops/s row and the GET "
        "half of the RSS row, rotating over presigned SigV4 URLs (SSE-C key headers sent with -H, not signed"
        + ("" if b.put_style != "signreq" else
           "; PUTs replay header-signed SigV4 requests instead, see below") +
        "); each wrk thread PUTs to its own keys; "
        f"{THREADS} wrk threads, {CONNS} connections, best of {REPEAT} run(s) of {DURATION:g} s after a "
        f"{WARMUP:g} s warm-up, liteio and its reference alternating. "
        "**bench/s3bench.py** (Python, stdlib, header-signed SigV4, keep-alive, one connection) measured the ms "
        f"rows (median of {LATENCY_REPS} sequential requests, best median of {REPEAT}), the multipart row and "
        "the PUT half of the RSS row (threads streaming PUTs; uploads still running at the end of the phase "
        "are cut off), and created all objects.",
        "GET/PUT rows 1–5 go over TLS to the stack's nginx; the static-file and WebDAV references are served "
        "by that same nginx process and TLS listener. The moto rows go over plain HTTP to both servers "
        "(moto_server has no TLS): liteio through the stack's plain-HTTP nginx listener, moto_server directly.",
        "liteio fsyncs every object it acknowledges; nginx WebDAV and `cp` do not (the multipart row also "
        "gives cp + fsync).",
        "Peak RSS: the sum over liteio processes of VmHWM from /proc/PID/status, read after the phase; liteio "
        "is restarted before each phase so VmHWM starts fresh. The sampled figure is the highest sum of VmRSS "
        "seen at 50 ms intervals.",
    ]
    if QUICK:
        footer.insert(0, "**QUICK smoke run (BENCH_QUICK=1): short runs and small sizes; not for comparison.**")
    if os.environ.get("BENCH_ONLY"):
        footer.insert(0, f"**Partial run: BENCH_ONLY={os.environ['BENCH_ONLY']}.**")
    changed = {k: v for k, v in os.environ.items() if k.startswith("BENCH_") and k not in ("BENCH_MOTO_VENV",)}
    if changed:
        footer.append("Settings from the environment: " + ", ".join(f"{k}={v}" for k, v in sorted(changed.items())))
    footer += t.notes
    if aborted:
        footer.append(f"Run aborted early: {aborted}")

    header = [
        f"# liteio benchmark — {started:%Y-%m-%d}, {nproc} cores{' (quick)' if QUICK else ''}",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} (local), total time {elapsed / 60:.1f} min",
        f"- machine: `nproc` = {nproc}, {cpu}, {os.uname().release}",
        f"- liteio: commit {commit}, binary built {bin_time}; "
        f"{getattr(b.stack, 'shape', '?')}; nginx `worker_processes auto`",
        f"- load average at start {' '.join(load0)}, at end {' '.join(load1)}"
        + (f"; {len(foreign)} other liteio process(es) from other stacks were running on this machine meanwhile"
           if foreign else ""),
        "",
    ]
    table = t.markdown()
    notes = "\n".join(f"- {n}" for n in footer)
    report = "\n".join(header) + "\n" + table + "\n\n" + notes + "\n\n## Server health during the run\n\n" + \
        health(b.stack.state) + "\n"

    results = os.path.join(HERE, "results")
    os.makedirs(results, exist_ok=True)
    partial = "-partial" if os.environ.get("BENCH_ONLY") else ""
    out = os.path.join(results, f"{started:%Y-%m-%d}-{nproc}cores{'-quick' if QUICK else ''}{partial}.md")
    with open(out, "w") as f:
        f.write(report)
    print(table)
    print()
    print(notes)
    log(f"wrote {out} ({elapsed / 60:.1f} min)")
    if os.environ.get("BENCH_KEEP_TMP"):
        log(f"kept {tmp}")
    else:
        subprocess.run(["rm", "-rf", "--one-file-system", tmp], check=False)
    return 1 if aborted else 0


if __name__ == "__main__":
    sys.exit(main())
