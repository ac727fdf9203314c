#!/usr/bin/env python3
"""End-to-end figures of the kubedeck console (issue #18), and of its peers.

Runs the release binary in tmux (160x45) against `kubedeck sim --scenario
empty --pods N` or, with --real, against the real testbed (kube-apiserver,
etcd, controllers and kwok nodes, `testbed/real-cluster`) holding the same
synthetic Deployments, through a proxy that counts connections, HTTP
requests and bytes (in front of the testbed it terminates TLS to read
them), and prints what a user feels: first pod rows and all rows on
screen, RSS, idle CPU, API traffic per idle minute, filter keystroke to
frame, clear filter. It prints figures and asserts nothing about time.

Peers (`--peer kdash=PATH`, `--peer kubetui=PATH`, `--peer sofka=PATH`) are
measured the same way in the same invocation, after kubedeck, each alone
against its own fresh simulator of the same N (or in turn on the one
testbed). Each has a small adapter (`Console` below): its command line, the
keys that reach the pods of all namespaces and open, clear and reopen its
filter, and how its screen shows the filter and the rows. What a peer cannot show is printed as n/a, with
the reason. peers.md beside this file says how to install them.

Keystroke timing: keys go in through a tmux control-mode client, which also
reports every chunk the console writes (`%output`), so a keystroke's frame is
timed from the key to the last chunk of the burst it causes, without polling.
Chunks that draw nothing (only attributes, cursor moves or the cursor's
visibility, which ratatui writes whenever it redraws an unchanged frame, as
kdash does 4 times a second) are not counted as output. Every frame is then
read back from the screen: the filter text as the console shows it and, for
the peers, the pod rows on screen all matching it.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import select
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

COLS, ROWS = 160, 45
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CountingProxy:
    """A proxy on a free loopback port; counts connections, HTTP/1.1 request
    lines (kube-rs, which the consoles use, speaks only HTTP/1.1) and bytes
    both ways. With `tls` (a server and a client SSL context), as in front
    of the real testbed's kube-apiserver, it terminates TLS on both sides,
    so that it reads the requests and counts the bytes of HTTP, as it does
    in front of the plain-HTTP simulator; the console still makes its TLS
    handshake with a client certificate, to the proxy. It runs in a process
    of its own: in this one it would hold the interpreter's lock while it
    copies a list, late to timestamp the console's frames."""

    def __init__(self, upstream, tls=None):
        mp = multiprocessing.get_context("fork")
        # connections, requests, bytes down, bytes up
        self.counts = mp.Array("q", 4)
        ours, theirs = mp.Pipe()
        self.proc = mp.Process(target=self._serve, args=(upstream, tls, theirs), daemon=True)
        self.proc.start()
        self.port = ours.recv()

    def snapshot(self):
        with self.counts.get_lock():
            return tuple(self.counts)

    def close(self):
        self.proc.kill()
        self.proc.join()

    def _add(self, i, n):
        with self.counts.get_lock():
            self.counts[i] += n

    def _serve(self, upstream, tls, pipe):
        server_ctx, client_ctx = tls or (None, None)

        async def client(reader, writer):
            host, port = upstream
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    host, port, ssl=client_ctx, server_hostname=host if client_ctx else None)
            except (OSError, ssl.SSLError):
                writer.close()
                return
            self._add(0, 1)
            ends = (writer, up_writer)
            await asyncio.gather(pump(reader, up_writer, True, ends), pump(up_reader, writer, False, ends))

        async def pump(src, dst, up, ends):
            tail = b""
            try:
                while True:
                    data = await src.read(262144)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
                    if up:
                        seen = tail + data
                        self._add(1, seen.count(b" HTTP/1.1\r\n"))
                        tail = seen[-10:]
                    self._add(3 if up else 2, len(data))
            except (OSError, ssl.SSLError):
                pass
            for w in ends:
                w.close()

        async def main():
            server = await asyncio.start_server(client, "127.0.0.1", 0, ssl=server_ctx)
            pipe.send(server.sockets[0].getsockname()[1])
            await server.serve_forever()

        asyncio.run(main())


class Tmux:
    def __init__(self, socket_name):
        self.socket = socket_name

    def cmd(self, *args):
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"tmux {args}: {out.stderr}")
        return out.stdout

    def screen(self):
        return self.cmd("capture-pane", "-p", "-t", "t")

    def kill(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


TMUX_OCTAL = re.compile(rb"\\([0-7]{3}|\\)")
ESCAPE = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[ -/]*[0-~])")
ERASE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@JKLMPSTX]")
CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")


def draws(line):
    """Whether a control-mode `%output %PANE DATA` line changes the screen:
    a visible character or an erase, not only attributes, cursor moves or
    the cursor's visibility."""
    data = line.rstrip(b"\n").split(b" ", 2)[2:]
    data = TMUX_OCTAL.sub(
        lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1), 8)]), data[0] if data else b"")
    if ERASE.search(data):
        return True
    return CONTROL_BYTES.sub(b"", ESCAPE.sub(b"", data)) != b""


class Control:
    """A tmux control-mode client: sends keys, timestamps the pane's output."""

    def __init__(self, tmux):
        self.proc = subprocess.Popen(
            ["tmux", "-L", tmux.socket, "-C", "attach", "-t", "t"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self.outputs = []  # monotonic times of %output lines
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith(b"%output") and draws(line):
                t = time.monotonic()
                with self.cv:
                    self.outputs.append(t)
                    self.cv.notify_all()

    def send(self, command):
        self.proc.stdin.write(command.encode() + b"\n")

    def frame_after(self, command, ok=None, screen=None, quiet=0.03, timeout=5.0):
        """Sends `command`; the time from it to the last output of the burst
        it caused (the burst ends after `quiet` seconds without output).
        With `ok`, until the burst after which `ok(screen())` holds: a
        console may show a key's effect a frame or more after the key's
        own (kubetui filters on its next list of the pods)."""
        with self.cv:
            start_index = len(self.outputs)
        t0 = time.monotonic()
        self.send(command)
        deadline = t0 + timeout
        while True:
            with self.cv:
                while len(self.outputs) == start_index:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self.cv.wait(left)
                while True:
                    last = self.outputs[-1]
                    left = last + quiet - time.monotonic()
                    if left <= 0:
                        break
                    self.cv.wait(left)
                start_index = len(self.outputs)
            if ok is None or ok(screen()):
                return last - t0

    def close(self):
        try:
            self.send("detach-client")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait(timeout=5)


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024.0
    return out


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# A list's continue token, which the servers write ahead of the items.
CONTINUE = re.compile(rb'"continue":"([^"]+)"')


class Api:
    """The bench's own reads of the cluster's API: its URL and, for the real
    testbed, a TLS context holding the admin's client certificate."""

    def __init__(self, url, ctx=None):
        self.url = url
        self.ctx = ctx

    def get(self, path):
        with urllib.request.urlopen(self.url + path, context=self.ctx) as r:
            return json.load(r)

    def list_floor(self, limit=500):
        """Seconds to read every pod in pages of `limit`, one after the
        other, without decoding them (what the server and the path to it
        take before any console's own work), and how many pages."""
        t0, cont, pages = time.monotonic(), "", 0
        while True:
            with urllib.request.urlopen(f"{self.url}/api/v1/pods?limit={limit}"
                                        + (f"&continue={cont}" if cont else ""), context=self.ctx) as r:
                body = r.read()
            pages += 1
            m = CONTINUE.search(body, 0, 4096)
            cont = urllib.parse.quote(m.group(1).decode()) if m else ""
            if not cont:
                return time.monotonic() - t0, pages

    def pod_items(self):
        """Every pod, through paged lists."""
        items, cont = [], ""
        while True:
            body = self.get("/api/v1/pods?limit=5000" + (f"&continue={cont}" if cont else ""))
            items += body["items"]
            cont = body["metadata"].get("continue") or ""
            if not cont:
                return items


class Sim:
    """`kubedeck sim --scenario empty --pods N`, fresh for each console. Its
    kubelet works for a while after the pods exist (about 40 s of a core at
    10,000 pods; at 50,000 pods much longer)."""

    what = "the simulator"
    tls = None
    quiet_window = 2  # s
    quiet = 0.05  # of a core
    wait_running = False

    def __init__(self, binary, pods):
        self.work = tempfile.mkdtemp(prefix="kubedeck-e2e-sim-")
        self.proc = subprocess.Popen(
            [binary, "sim", "--scenario", "empty", "--pods", str(pods),
             "--kubeconfig-out", os.path.join(self.work, "sim.kubeconfig")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for line in self.proc.stdout:
            m = re.search(r"serving the Kubernetes API on (http://([\d.]+):(\d+))", line)
            if m:
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                self.api = Api(m.group(1))
                self.upstream = (m.group(2), int(m.group(3)))
                return
        self.stop()
        raise RuntimeError("the simulator did not start")

    def pids(self):
        return [self.proc.pid]

    def console_kubeconfig(self, path, port):
        with open(path, "w") as f:
            f.write(
                "apiVersion: v1\nkind: Config\ncurrent-context: bench\n"
                f"clusters:\n- name: bench\n  cluster:\n    server: http://127.0.0.1:{port}\n"
                "contexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n"
                "users:\n- name: bench\n  user: {}\n"
            )

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.work, ignore_errors=True)


# The simulator's synthetic load (crates/kubedeck-sim/src/scale.rs), made
# the same way on the real testbed: namespaces load-000, ... of ten
# Deployments of ten replicas, so the same rows and filter apply.
REPLICAS, DEPLOYMENTS_PER_NAMESPACE, PODS_PER_NODE = 10, 10, 100
WORKLOADS = ["api", "worker", "frontend", "gateway", "indexer", "billing", "search", "mailer",
             "reports", "ledger", "scheduler", "notifier", "catalog", "checkout", "sessions", "thumbnails"]
IMAGES = ["nginx:1.27.2-alpine", "httpd:2.4.62-alpine", "traefik/whoami:v1.10.3", "caddy:2.8.4-alpine"]


def synthetic_load(pods, seed=7):
    rng = random.Random(seed)
    items = []
    for d in range(-(-pods // REPLICAS)):
        ns = f"load-{d // DEPLOYMENTS_PER_NAMESPACE:03}"
        if d % DEPLOYMENTS_PER_NAMESPACE == 0:
            items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        workload = rng.choice(WORKLOADS)
        name = f"{workload}-{d % DEPLOYMENTS_PER_NAMESPACE:02}"
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "synthetic-load"}
        cpu, mem = 5 * rng.randint(1, 6), 16 * rng.randint(1, 4)
        items.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {
                "replicas": min(REPLICAS, pods - d * REPLICAS),
                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                    "name": workload, "image": rng.choice(IMAGES),
                    "resources": {"requests": {"cpu": f"{cpu}m", "memory": f"{mem}Mi"},
                                  "limits": {"cpu": f"{4 * cpu}m", "memory": f"{2 * mem}Mi"}},
                }]}},
            },
        })
    return {"apiVersion": "v1", "kind": "List", "items": items}


class Testbed:
    """The real testbed (`testbed/real-cluster`): etcd, kube-apiserver,
    kube-controller-manager, kube-scheduler, metrics-server and kwok nodes,
    one cluster for every console at this N. The pods are the simulator's
    synthetic load, made by the real Deployment, ReplicaSet and scheduler
    controllers; kwok runs them. The bench reads the API with the admin's
    certificate; the consoles reach it through the counting proxy, which
    terminates TLS with the apiserver's own serving certificate."""

    what = "the testbed"
    quiet_window = 15  # s: one metrics-server scrape
    # Idle at 10,000 pods it still uses about 20 % of a core: kwok's node
    # leases and status, metrics-server's scrapes of kwok.
    quiet = 0.3
    wait_running = True

    SCRIPT = os.path.join(ROOT, "testbed", "real-cluster")

    def __init__(self, pods, work):
        self.dir = os.path.join(work, "tb")
        nodes = max(1, -(-pods // PODS_PER_NODE))
        print(f"  starting the real testbed with {nodes} kwok nodes ...", file=sys.stderr)
        subprocess.run([self.SCRIPT, "up", "--dir", self.dir, "--kubeconfig-out",
                        os.path.join(work, "admin.kubeconfig"), "--nodes", str(nodes), "--disable-qps-limits"],
                       check=True)
        env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                env[k] = v
        self.env = env
        pki = os.path.join(self.dir, "pki")
        client = ssl.create_default_context(cafile=env["CA_CERT"])
        client.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(os.path.join(pki, "apiserver.crt"), os.path.join(pki, "apiserver.key"))
        # Ask for the client's certificate, as kube-apiserver does.
        server.verify_mode = ssl.CERT_OPTIONAL
        server.load_verify_locations(env["CA_CERT"])
        server.set_alpn_protocols(["http/1.1"])
        self.tls = (server, client)
        self.api = Api(env["APISERVER_URL"], client)
        host, port = env["APISERVER_URL"].rsplit("//", 1)[1].rsplit(":", 1)
        self.upstream = (host, int(port))
        print(f"  creating the Deployments of {pods} pods ...", file=sys.stderr)
        subprocess.run([env["KUBECTL"], "--kubeconfig", env["KUBECONFIG"], "create", "-f", "-", "-o", "name"],
                       input=json.dumps(synthetic_load(pods)), text=True, check=True,
                       stdout=subprocess.DEVNULL)

    def pids(self):
        d = os.path.join(self.dir, "pids")
        out = []
        for f in os.listdir(d):
            if f.endswith(".pid"):
                with open(os.path.join(d, f)) as fh:
                    out.append(int(fh.read().strip()))
        return out

    def console_kubeconfig(self, path, port):
        with open(self.env["KUBECONFIG"]) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(re.sub(r"(?m)^(\s*server: ).*$", rf"\g<1>https://127.0.0.1:{port}", text))
        os.chmod(path, 0o600)

    @classmethod
    def down(cls, work):
        subprocess.run([cls.SCRIPT, "down", "--dir", os.path.join(work, "tb")], check=False)
        shutil.rmtree(work, ignore_errors=True)


def cluster_cpu_seconds(cluster):
    return sum(cpu_seconds(p) for p in cluster.pids())


def wait_settled(cluster, want, timeout=1200, quiet_within=180):
    """Until the cluster holds at least `want` pods and the count holds (on
    the testbed, until they all run too); then until it is quiet (under
    its `quiet` share of a core over its `quiet_window`), for at most
    `quiet_within` seconds: a console timed while the pods still start
    shares the machine with that work. The pods, (namespace, name), and
    the share of a core the cluster was using when the wait ended."""
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        items = cluster.api.pod_items()
        running = sum(p.get("status", {}).get("phase") == "Running" for p in items)
        if len(items) >= want and len(items) == last and (running == len(items) or not cluster.wait_running):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{cluster.what} has {len(items)} pods, {running} running; wanted {want}")
        last = len(items)
        time.sleep(1)
    pods = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in items]
    give_up = time.monotonic() + quiet_within
    while True:
        c0 = cluster_cpu_seconds(cluster)
        time.sleep(cluster.quiet_window)
        busy = (cluster_cpu_seconds(cluster) - c0) / cluster.quiet_window
        if busy < cluster.quiet or time.monotonic() > give_up:
            return pods, busy


POD_ROW = re.compile(r"load-\d{3} +\S+-\w{5}\b")
TITLE = re.compile(r"Pods\(all\)\[(\d+)\]([^\n]*)")
# A synthetic pod's name (`catalog-02-67f75fd7bb-26n4v`; a real ReplicaSet's
# hash is of other letters), in any console.
POD_NAME = re.compile(r"\b[a-z]+-\d{2}-[0-9a-z]{6,10}-[0-9a-z]{5}\b")


def pods_title(screen):
    m = TITLE.search(screen)
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def pod_lines(screen):
    return [line.lower() for line in screen.splitlines() if POD_NAME.search(line)]


def rows_all_match(screen, text):
    lines = pod_lines(screen)
    return bool(lines) and all(text.lower() in line for line in lines)


class Console:
    """How the benchmark drives one console; the defaults are kubedeck's.
    `:pods` shows the pods of all namespaces; `/` opens the filter, which
    the title shows as `</text>`; Esc clears and closes it."""

    name = "kubedeck"
    filter_text = None  # None: --filter; else the console's own, for filter_why
    filter_why = ""
    # tmux send-keys arguments
    open_keys = "/"
    clear_keys, clear_label = "Escape", "Esc"
    reopen_keys = "/"  # after clearing, None if the filter stays open
    apply_keys = None  # a filter that applies only on this key, not as typed
    all_rows_na = None  # why all rows cannot be read off the screen
    opened = None  # how the screen shows the filter open (None: any frame)

    def __init__(self, binary):
        self.binary = binary

    def version(self):
        return ""

    def env(self, kubeconfig):
        """Environment assignments for the console's shell command line."""
        return ""

    def command(self, kubeconfig):
        return f"{self.binary} --kubeconfig {kubeconfig}"

    def first_frame(self, s):
        return "Overview(" in s

    def open_pods(self, tmux):
        tmux.cmd("send-keys", "-t", "t", "-l", ":pods")
        tmux.cmd("send-keys", "-t", "t", "Enter")

    def first_rows(self, s):
        return "Pods(all)" in s and POD_ROW.search(s) is not None

    def all_rows(self, s, n):
        return pods_title(s)[0] == n and "loading" not in s

    def shows(self, s, text, full, pods):
        """The frame after a filter key: `text` is the filter now (maybe
        empty), `full` the whole filter text typed, `pods` the simulator's
        (namespace, name) pairs."""
        count, tail = pods_title(s)
        if count is None:
            return False
        return f"</{text}>" in tail if text else "</" not in tail

    def cleared(self, s, full, pods):
        count, tail = pods_title(s)
        return count == len(pods) and "</" not in tail


class Peer(Console):
    """A peer: its screen read through `filter_shown` and `visible` (the
    rows it counts as shown, None where it shows no such count); a frame
    after a filter key must show the filter and only rows that match it."""

    first_marker = ""

    def version(self):
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return (out.stdout.strip().splitlines() or [""])[0]

    def first_frame(self, s):
        return self.first_marker in s

    def open_pods(self, tmux):
        pass

    def first_rows(self, s):
        return bool(pod_lines(s))

    def all_rows(self, s, n):
        return self.visible(s) == n and bool(pod_lines(s))

    def visible(self, s):
        return None

    def filter_shown(self, s, text):
        raise NotImplementedError

    def echoes(self, s, text):
        return self.filter_shown(s, text)

    def opened(self, s):
        return self.filter_shown(s, "")

    def matching(self, pods, text):
        """How many pods filter `text` keeps."""
        return sum(text in name for _, name in pods)

    def rows_are(self, s, text, full, pods):
        """The rows on screen are those of filter `text`: as many as match
        it (where the peer counts them), each matching it; or, unfiltered,
        a row that does not match the whole text."""
        v = self.visible(s)
        if v is not None and v != self.matching(pods, text):
            return False
        if text:
            return rows_all_match(s, text)
        return v is not None or any(full.lower() not in line for line in pod_lines(s))

    def shows(self, s, text, full, pods):
        return self.filter_shown(s, text) and self.rows_are(s, text, full, pods)

    def cleared(self, s, full, pods):
        return self.shows(s, "", full, pods)


class Kdash(Peer):
    """kdash starts on its overview with the Pods tab of all namespaces.
    `/` opens the filter, shown in the table's title as `[text]` (empty:
    `[type to filter]`); it matches the pod's name only. The first Esc
    clears the text and leaves the filter open. The title's count is of
    all rows, filtered or not."""

    name = "kdash"
    filter_text = "gateway"
    filter_why = "kdash filters pods by name only"
    reopen_keys = None
    first_marker = "KDash v"
    TITLE = re.compile(r"Pods \(ns: all\) \[(\d+)\] (?:\[([^\]]*)\] · Esc:clear)?")

    def env(self, kubeconfig):
        return f"KUBECONFIG={kubeconfig} "

    def command(self, kubeconfig):
        return self.binary

    def first_rows(self, s):
        return self.TITLE.search(s) is not None and bool(pod_lines(s))

    def all_rows(self, s, n):
        m = self.TITLE.search(s)
        return m is not None and int(m.group(1)) == n

    def filter_shown(self, s, text):
        m = self.TITLE.search(s)
        return m is not None and m.group(2) == (text or "type to filter")


class Kubetui(Peer):
    """kubetui -A starts on its Pod tab of all namespaces. `/` opens a
    `FILTER:` form above the table; its text (a regular expression on the
    pod's name) applies on Enter, and the rows change on the next list of
    the pods that follows. `/` reopens the form with the text kept; Esc
    clears it and closes the form. The title counts `[selected/visible]`,
    `[selected/visible (all)]` while a filter applies."""

    name = "kubetui"
    filter_text = "gateway"
    filter_why = "kubetui filters pods by name only"
    apply_keys = "Enter"
    first_marker = "1: Pod"
    TITLE = re.compile(r"Pod \[\d+/(\d+)(?: \((\d+)\))?\]")
    FORM = re.compile(r"│FILTER: (.*?) *│")

    def command(self, kubeconfig):
        return f"{self.binary} -A --kubeconfig {kubeconfig}"

    def visible(self, s):
        m = self.TITLE.search(s)
        return int(m.group(1)) if m else None

    def filter_shown(self, s, text):
        m = self.FORM.search(s)
        return m is not None and m.group(1) == text

    def cleared(self, s, full, pods):
        m = self.TITLE.search(s)
        return (self.FORM.search(s) is None and m is not None and m.group(2) is None
                and self.rows_are(s, "", full, pods))


class Sofka(Peer):
    """`sofka pods -A` starts on the pods of all namespaces. `/` opens the
    filter, shown on the bottom line as `/text█`; it matches namespace and
    name (or a cell) and applies as typed; the title counts the rows
    shown, `pods [N] /text ·local`. Esc clears the filter and closes it."""

    name = "sofka"
    first_marker = "sofka v"
    TITLE = re.compile(r"╭ pods \[(\d+)\]")
    LINE = re.compile(r"^/(.*?)█", re.M)

    def command(self, kubeconfig):
        return f"{self.binary} pods -A --kubeconfig {kubeconfig}"

    def matching(self, pods, text):
        return sum(text in f"{ns} {name}" for ns, name in pods)

    def visible(self, s):
        m = self.TITLE.search(s)
        return int(m.group(1)) if m else None

    def filter_shown(self, s, text):
        m = self.LINE.search(s)
        return m is not None and m.group(1) == text

    def cleared(self, s, full, pods):
        return self.LINE.search(s) is None and self.rows_are(s, "", full, pods)


PEERS = {"kdash": Kdash, "kubetui": Kubetui, "sofka": Sofka}


def poll(tmux, ok, timeout, every=0.005):
    deadline = time.monotonic() + timeout
    while True:
        s = tmux.screen()
        if ok(s):
            return time.monotonic(), s
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out; the screen was:\n{s}")
        time.sleep(every)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class NoFrame(RuntimeError):
    pass


def filter_keys(ctl, tmux, c, text, pods, rounds, timeout):
    """Types `text` into the console's filter a key at a time, deletes it
    again, then types it once more and clears it, `rounds` times. Each key
    is timed to its frame (ms), and the frame is checked on screen. Where
    the filter applies only on a key (`apply_keys`), each key's echo is
    timed, then the apply, if it changes the row set."""
    out = {"keys_typed": [], "keys_deleted": [], "clears": [], "keys_applied": []}

    def key(keys, ok=None, what="", into=None):
        dt = ctl.frame_after(f"send-keys -t t {keys}", ok, tmux.screen, timeout=timeout)
        if dt is None:
            done = out["keys_typed"] + out["keys_deleted"] + out["keys_applied"]
            before = f"; {len(done)} keys before it took {p50_p95(done)}" if done else ""
            raise NoFrame(f"no frame within {timeout:g} s of the key {keys.split()[-1]!r}"
                          + (f" ({what})" if what else "") + before, tmux.screen())
        if into is not None:
            out[into].append(dt * 1000)

    def edit(keys, before, now, into):
        shows = lambda s: c.shows(s, now, text, pods)
        if c.apply_keys is None:
            key(keys, shows, f"filter {now!r}", into)
            return
        key(keys, lambda s: c.echoes(s, now), f"filter {now!r} typed", into)
        changed = c.matching(pods, now) != c.matching(pods, before)
        key(c.apply_keys, shows, f"filter {now!r} applied", "keys_applied" if changed else None)
        # Reopening the form shows what is already on screen: no frame to
        # wait for. The next key's frame is checked for its text all the same.
        ctl.send(f"send-keys -t t {c.open_keys}")

    key(c.open_keys, c.opened, "filter opened")
    for _ in range(rounds):
        for i in range(1, len(text) + 1):
            edit(f"-l {text[i - 1]}", text[:i - 1], text[:i], "keys_typed")
        for i in range(len(text) - 1, -1, -1):
            edit("BSpace", text[:i + 1], text[:i], "keys_deleted")
        # Clear a narrow filter: every row comes back.
        for ch in text:
            key(f"-l {ch}")
        if c.apply_keys:
            key(c.apply_keys, lambda s: c.shows(s, text, text, pods), f"filter {text!r} applied")
        key(c.clear_keys, lambda s: c.cleared(s, text, pods), "clear", "clears")
        if c.reopen_keys:
            key(c.reopen_keys, c.opened, "filter reopened")
    return out


def run_one(c, cluster, pods, idle, settle, keys_text, rounds, key_timeout, wrap=""):
    """One console's run against `cluster` (started, maybe shared)."""
    work = tempfile.mkdtemp(prefix="kubedeck-e2e-")
    tmux = Tmux(f"kubedeck-e2e-{os.getpid()}-{pods}-{c.name}")
    proxy = None
    try:
        names, busy = wait_settled(cluster, pods)
        n = len(names)
        proxy = CountingProxy(cluster.upstream, cluster.tls)
        scheme = "https" if cluster.tls else "http"
        floor, floor_pages = Api(f"{scheme}://127.0.0.1:{proxy.port}", cluster.api.ctx).list_floor()
        kubeconfig = os.path.join(work, "bench.kubeconfig")
        cluster.console_kubeconfig(kubeconfig, proxy.port)
        home = os.path.join(work, "home")
        os.makedirs(home)
        script = (
            f"HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data "
            f"{c.env(kubeconfig)}exec {wrap} {c.command(kubeconfig)}"
        )
        row = {"console": c.name, "version": c.version(), "pods": n, "cluster": cluster.what,
               "load_start": loadavg(), "cluster_busy": busy,
               "cluster_quiet": cluster.quiet, "cluster_quiet_window": cluster.quiet_window,
               "list_floor_s": floor, "list_floor_pages": floor_pages}
        t0 = time.monotonic()
        tmux.cmd("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(COLS), "-y", str(ROWS), script)
        tmux.cmd("set-option", "-g", "window-size", "manual")
        pid = int(tmux.cmd("display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        t_frame, _ = poll(tmux, c.first_frame, 30)
        row["first_frame_s"] = t_frame - t0
        c.open_pods(tmux)
        t_first, _ = poll(tmux, c.first_rows, 120)
        row["first_rows_s"] = t_first - t0
        if c.all_rows_na is None:
            t_all, _ = poll(tmux, lambda s: c.all_rows(s, n), 300, 0.01)
            row["all_rows_s"] = t_all - t0

        time.sleep(settle)
        if wrap:
            # A profiler's run: the heap as it stands settled is what is
            # still allocated when the process is killed here.
            for child in open(f"/proc/{pid}/task/{pid}/children").read().split():
                if open(f"/proc/{child}/comm").read().strip() == "kubedeck":
                    os.kill(int(child), 9)
            time.sleep(5)
            return None
        row.update(proc_status(pid))
        row["load_settled"] = loadavg()

        c0, p0, s0 = cpu_seconds(pid), proxy.snapshot(), cluster_cpu_seconds(cluster)
        i0 = time.monotonic()
        # RSS swings with the metrics lists (every 15 s), so one reading
        # depends on its moment: the window's readings, once a second.
        rss = []
        while time.monotonic() - i0 < idle:
            rss.append(proc_status(pid)["VmRSS"])
            time.sleep(min(1.0, max(0.0, idle - (time.monotonic() - i0))))
        c1, p1, s1 = cpu_seconds(pid), proxy.snapshot(), cluster_cpu_seconds(cluster)
        rss.sort()
        row["idle_rss_min"], row["idle_rss_median"], row["idle_rss_max"] = (
            rss[0], statistics.median(rss), rss[-1])
        window = time.monotonic() - i0
        per_min = 60.0 / window
        row["idle_window_s"] = window
        row["idle_cpu_pct"] = 100.0 * (c1 - c0) / window
        row["cluster_idle_cpu_pct"] = 100.0 * (s1 - s0) / window
        row["connections_per_min"] = (p1[0] - p0[0]) * per_min
        row["requests_per_min"] = (p1[1] - p0[1]) * per_min
        row["mb_per_min"] = (p1[2] - p0[2]) * per_min / 1e6
        row["load_idle"] = loadavg()

        row["filter"] = c.filter_text or keys_text
        ctl = Control(tmux)
        try:
            row.update(filter_keys(ctl, tmux, c, row["filter"], names, rounds, key_timeout))
        except NoFrame as e:
            if not isinstance(c, Peer):
                raise
            # A peer too slow to answer a key: its other figures still count.
            print(f"{c.name}: {e.args[0]}; the screen was:\n{e.args[1]}", file=sys.stderr)
            row["filter_na"] = e.args[0]
        finally:
            ctl.close()
        row["load_end"] = loadavg()
        return row
    finally:
        tmux.kill()
        if proxy is not None:
            proxy.close()
        shutil.rmtree(work, ignore_errors=True)


def p50_p95(xs):
    return f"p50 {statistics.median(xs):.1f} ms, p95 {pct(xs, 95):.1f} ms"


def report(row, c):
    peer = c.name != "kubedeck"
    print(f"\n== {row['pods']} pods" + (f": {row['version'] or c.name}" if peer else "") + " ==")
    print(f"  load average (1/5/15 min): start {row['load_start']}, settled {row['load_settled']}, "
          f"idle {row['load_idle']}, end {row['load_end']}")
    busy = 100 * row["cluster_busy"]
    print(f"  {row['cluster']} used {busy:.0f} % of a core over the {row['cluster_quiet_window']:g} s "
          "before the console started" + (f" (not yet under {100 * row['cluster_quiet']:g} % after the "
                                          "bench's 180 s wait: still starting its pods)"
                                          if row["cluster_busy"] >= row["cluster_quiet"] else ""))
    print(f"  first frame          {row['first_frame_s']:.2f} s")
    print(f"  first pod rows       {row['first_rows_s']:.2f} s")
    if c.all_rows_na is None:
        print(f"  all rows counted     {row['all_rows_s']:.2f} s (the bench read the same "
              f"{row['list_floor_pages']} pages of 500 through the proxy, undecoded, in "
              f"{row['list_floor_s']:.2f} s)")
    else:
        print(f"  all rows counted     n/a: {c.all_rows_na}")
    print(f"  VmRSS / VmHWM        {row['VmRSS']:.0f} / {row['VmHWM']:.0f} MiB")
    print(f"  VmRSS while idle     min {row['idle_rss_min']:.0f}, median {row['idle_rss_median']:.0f}, "
          f"max {row['idle_rss_max']:.0f} MiB")
    print(f"  idle CPU             {row['idle_cpu_pct']:.2f} % over {row['idle_window_s']:.0f} s "
          f"({row['cluster']} meanwhile: {row['cluster_idle_cpu_pct']:.1f} %)")
    print(f"  API per idle minute  {row['requests_per_min']:.1f} requests, "
          f"{row['connections_per_min']:.1f} connections, {row['mb_per_min']:.2f} MB")
    if peer:
        why = f", {c.filter_why}" if c.filter_text else ""
        print(f"  filter text          {row['filter']!r} ({len(row['filter'])} keys{why})")
    if "filter_na" in row:
        print(f"  filter keystroke     n/a: {row['filter_na']}")
        print(f"  clear filter ({c.clear_label})   n/a: as above")
        sys.stdout.flush()
        return
    typed, deleted = row["keys_typed"], row["keys_deleted"]
    allk = typed + deleted
    echo = " (the text's echo only: the rows change on apply)" if c.apply_keys else ""
    print(f"  filter keystroke     p50 {statistics.median(allk):.1f} ms, p95 {pct(allk, 95):.1f} ms "
          f"({len(allk)} keys; typing p50 {statistics.median(typed):.1f} / "
          f"p95 {pct(typed, 95):.1f}, backspace p50 "
          f"{statistics.median(deleted):.1f} / p95 {pct(deleted, 95):.1f}){echo}")
    if c.apply_keys:
        applied = row["keys_applied"]
        print(f"  filter apply ({c.apply_keys}) {p50_p95(applied)} (the {len(applied)} of the applies after "
              "each key above that change the rows)")
    print(f"  clear filter ({c.clear_label})   median {statistics.median(row['clears']):.1f} ms "
          f"over {len(row['clears'])}: {', '.join(f'{x:.1f}' for x in row['clears'])}")
    sys.stdout.flush()


def filter_frames(row):
    """The times from a filter key to the frame whose rows it filtered."""
    return row["keys_applied"] or row["keys_typed"] + row["keys_deleted"]


def compare(rows):
    """kubedeck's keystroke p95 against the fastest peer's of this run."""
    ours, peers = rows[0], rows[1:]
    if ours is None or not peers:
        return
    p95 = pct(filter_frames(ours), 95)
    done = [(pct(filter_frames(r), 95), r["console"]) for r in peers
            if r is not None and "filter_na" not in r]
    if not done:
        print("\n  vs peers             n/a: no peer's filter keystroke was measured")
        return
    best, name = min(done)
    verdict = "faster than" if p95 < best else "as fast as" if p95 == best else "slower than"
    print(f"\n  vs peers             kubedeck's filter keystroke p95 {p95:.1f} ms is {verdict} "
          f"the fastest peer's, {name} {best:.1f} ms (of {', '.join(f'{r} {v:.1f}' for v, r in done)})")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the kubedeck release binary")
    ap.add_argument("--pods", type=int, action="append", help="N (repeatable; default 1000 and 10000)")
    ap.add_argument("--idle", type=float, default=60, help="idle CPU and traffic window, s (default 60)")
    ap.add_argument("--settle", type=float, default=30, help="wait before reading RSS, s (default 30)")
    ap.add_argument("--filter", default="load-00", help="the text typed into / (default load-00)")
    ap.add_argument("--rounds", type=int, default=2, help="type-and-delete rounds (default 2)")
    ap.add_argument("--key-timeout", type=float, default=10,
                    help="a filter key without its frame this long (s) ends a peer's filter figures "
                    "as n/a (default 10)")
    ap.add_argument("--peer", action="append", default=[], metavar="NAME=PATH",
                    help=f"also measure a peer after kubedeck (repeatable; NAME: {', '.join(PEERS)})")
    ap.add_argument("--wrap", default="", help="run the console under this (a profiler), "
                    "kill it once settled, print no figures")
    ap.add_argument("--real", action="store_true",
                    help="against the real testbed (testbed/real-cluster, built on first use) instead of "
                    "the simulator: one cluster for each N, shared by the consoles in turn")
    ap.add_argument("--json", action="store_true", help="also print each result as JSON")
    a = ap.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("this benchmark needs tmux (apt-get install tmux)")
    binary = os.path.abspath(a.bin)
    consoles = [Console(binary)]
    for spec in a.peer:
        name, _, path = spec.partition("=")
        if name not in PEERS or not path:
            sys.exit(f"--peer {spec}: want NAME=PATH, NAME one of {', '.join(PEERS)}")
        consoles.append(PEERS[name](os.path.abspath(path)))
    if a.wrap and len(consoles) > 1:
        sys.exit("--wrap profiles kubedeck alone; leave out --peer")
    for n in a.pods or [1000, 10000]:
        testbed = None
        if a.real:
            testbed_work = tempfile.mkdtemp(prefix="kubedeck-e2e-tb-")
            try:
                testbed = Testbed(n, testbed_work)
            except BaseException as e:
                Testbed.down(testbed_work)
                if isinstance(e, subprocess.CalledProcessError):
                    sys.exit(f"the real testbed did not start at {n} pods: {e}")
                raise
        rows = []
        try:
            for c in consoles:
                cluster = testbed or Sim(binary, n)
                try:
                    row = run_one(c, cluster, n, a.idle, a.settle, a.filter, a.rounds, a.key_timeout, a.wrap)
                except RuntimeError as e:
                    if c is consoles[0]:
                        raise
                    print(f"\n== {n} pods: {c.name} ==\n  n/a: the run failed: {e}")
                    row = None
                finally:
                    if testbed is None:
                        cluster.stop()
                rows.append(row)
                if row is None:
                    continue
                report(row, c)
                if a.json:
                    print(json.dumps(row))
        finally:
            if testbed is not None:
                Testbed.down(testbed_work)
        compare(rows)

if __name__ == "__main__":
    main()
