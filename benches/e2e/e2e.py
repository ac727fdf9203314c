#!/usr/bin/env python3
"""End-to-end figures of the kubedeck console (issue #18), and of its peers.

Runs the release binary in tmux (160x45) against `kubedeck sim --scenario
empty --pods N`, through a TCP proxy that counts connections, HTTP requests
and bytes, and prints what a user feels: first pod rows and all rows on
screen, RSS, idle CPU, API traffic per idle minute, filter keystroke to
frame, clear filter. It prints figures and asserts nothing about time.

Peers (`--peer kdash=PATH`, `--peer kubetui=PATH`, `--peer sofka=PATH`) are
measured the same way in the same invocation, each alone against its own
fresh simulator of the same N, after kubedeck. Each has a small adapter
(`Console` below): its command line, the keys that reach the pods of all
namespaces and open, clear and reopen its filter, and how its screen shows
the filter and the rows. What a peer cannot show is printed as n/a, with
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
import json
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

COLS, ROWS = 160, 45
CLK_TCK = os.sysconf("SC_CLK_TCK")


class CountingProxy:
    """A TCP proxy on a free loopback port; counts connections, requests
    (HTTP/1.1 request lines, the console's client speaks plain HTTP/1.1 to
    an anonymous simulator) and bytes both ways."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self.bytes_down = 0
        self.bytes_up = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return (self.connections, self.requests, self.bytes_down, self.bytes_up)

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src, dst, up):
        tail = b""
        try:
            while True:
                data = src.recv(262144)
                if not data:
                    break
                dst.sendall(data)
                with self.lock:
                    if up:
                        self.bytes_up += len(data)
                        seen = tail + data
                        self.requests += seen.count(b" HTTP/1.1\r\n")
                        tail = seen[-10:]
                    else:
                        self.bytes_down += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


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


def api_pods(url):
    """The simulator's pods, (namespace, name), through paged lists."""
    pods, cont = [], ""
    while True:
        q = f"{url}/api/v1/pods?limit=5000" + (f"&continue={cont}" if cont else "")
        with urllib.request.urlopen(q) as r:
            body = json.load(r)
        pods += [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in body["items"]]
        cont = body["metadata"].get("continue") or ""
        if not cont:
            return pods


def api_pod_count(url):
    return len(api_pods(url))


def start_sim(binary, pods, workdir):
    kubeconfig = os.path.join(workdir, "sim.kubeconfig")
    proc = subprocess.Popen(
        [binary, "sim", "--scenario", "empty", "--pods", str(pods), "--kubeconfig-out", kubeconfig],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in proc.stdout:
        m = re.search(r"serving the Kubernetes API on (http://[\d.:]+)", line)
        if m:
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, m.group(1)
    raise RuntimeError("the simulator did not start")


def wait_sim_settled(sim_pid, url, want, timeout=600, quiet_within=180):
    """Until the simulator holds at least `want` pods and the count holds;
    then until it has finished starting them, for at most `quiet_within`
    seconds: its kubelet works for a while after the count is reached
    (about 40 s of a core at 10,000 pods; at 50,000 pods much longer), and
    a console timed then shares the machine with that start-up. The pod
    count, and the share of a core the simulator was still using when the
    wait ended (0 when it went quiet)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        n = api_pod_count(url)
        if n >= want and n == last:
            break
        last = n
        time.sleep(1)
    else:
        raise RuntimeError(f"the simulator has {last} pods, wanted {want}")
    give_up = time.monotonic() + quiet_within
    while True:
        c0 = cpu_seconds(sim_pid)
        time.sleep(2)
        busy = (cpu_seconds(sim_pid) - c0) / 2
        if busy < 0.05:
            return n, 0.0
        if time.monotonic() > give_up:
            return n, busy


def write_kubeconfig(path, server):
    with open(path, "w") as f:
        f.write(
            "apiVersion: v1\nkind: Config\ncurrent-context: bench\n"
            f"clusters:\n- name: bench\n  cluster:\n    server: {server}\n"
            "contexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n"
            "users:\n- name: bench\n  user: {}\n"
        )


POD_ROW = re.compile(r"load-\d{3} +\S+-\w{5}\b")
TITLE = re.compile(r"Pods\(all\)\[(\d+)\]([^\n]*)")
# A synthetic pod's name (`catalog-02-67f75fd7bb-26n4v`), in any console.
POD_NAME = re.compile(r"\b[a-z]+-\d{2}-[0-9a-f]{6,10}-[0-9a-z]{5}\b")


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


def run_one(c, sim_binary, pods, idle, settle, keys_text, rounds, key_timeout, wrap=""):
    work = tempfile.mkdtemp(prefix="kubedeck-e2e-")
    tmux = Tmux(f"kubedeck-e2e-{os.getpid()}-{pods}-{c.name}")
    sim = None
    try:
        sim, url = start_sim(sim_binary, pods, work)
        n, sim_busy = wait_sim_settled(sim.pid, url, pods)
        names = api_pods(url)
        host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
        proxy = CountingProxy((host, int(port)))
        kubeconfig = os.path.join(work, "bench.kubeconfig")
        write_kubeconfig(kubeconfig, f"http://127.0.0.1:{proxy.port}")
        home = os.path.join(work, "home")
        os.makedirs(home)
        script = (
            f"HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data "
            f"{c.env(kubeconfig)}exec {wrap} {c.command(kubeconfig)}"
        )
        row = {"console": c.name, "version": c.version(), "pods": n, "load_start": loadavg(),
               "sim_busy": sim_busy}
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

        c0, p0 = cpu_seconds(pid), proxy.snapshot()
        i0 = time.monotonic()
        # RSS swings with the metrics lists (every 15 s), so one reading
        # depends on its moment: the window's readings, once a second.
        rss = []
        while time.monotonic() - i0 < idle:
            rss.append(proc_status(pid)["VmRSS"])
            time.sleep(min(1.0, max(0.0, idle - (time.monotonic() - i0))))
        c1, p1 = cpu_seconds(pid), proxy.snapshot()
        rss.sort()
        row["idle_rss_min"], row["idle_rss_median"], row["idle_rss_max"] = (
            rss[0], statistics.median(rss), rss[-1])
        window = time.monotonic() - i0
        per_min = 60.0 / window
        row["idle_window_s"] = window
        row["idle_cpu_pct"] = 100.0 * (c1 - c0) / window
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
        if sim:
            sim.terminate()
            try:
                sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.kill()
        shutil.rmtree(work, ignore_errors=True)


def p50_p95(xs):
    return f"p50 {statistics.median(xs):.1f} ms, p95 {pct(xs, 95):.1f} ms"


def report(row, c):
    peer = c.name != "kubedeck"
    print(f"\n== {row['pods']} pods" + (f": {row['version'] or c.name}" if peer else "") + " ==")
    print(f"  load average (1/5/15 min): start {row['load_start']}, settled {row['load_settled']}, "
          f"idle {row['load_idle']}, end {row['load_end']}")
    if row["sim_busy"]:
        print(f"  the simulator was still starting its pods ({100 * row['sim_busy']:.0f} % of a core) "
              "when the console started")
    print(f"  first frame          {row['first_frame_s']:.2f} s")
    print(f"  first pod rows       {row['first_rows_s']:.2f} s")
    if c.all_rows_na is None:
        print(f"  all rows counted     {row['all_rows_s']:.2f} s")
    else:
        print(f"  all rows counted     n/a: {c.all_rows_na}")
    print(f"  VmRSS / VmHWM        {row['VmRSS']:.0f} / {row['VmHWM']:.0f} MiB")
    print(f"  VmRSS while idle     min {row['idle_rss_min']:.0f}, median {row['idle_rss_median']:.0f}, "
          f"max {row['idle_rss_max']:.0f} MiB")
    print(f"  idle CPU             {row['idle_cpu_pct']:.2f} % over {row['idle_window_s']:.0f} s")
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
        rows = []
        for c in consoles:
            try:
                row = run_one(c, binary, n, a.idle, a.settle, a.filter, a.rounds, a.key_timeout, a.wrap)
            except RuntimeError as e:
                if c is consoles[0]:
                    raise
                print(f"\n== {n} pods: {c.name} ==\n  n/a: the run failed: {e}")
                row = None
            rows.append(row)
            if row is None:
                continue
            report(row, c)
            if a.json:
                print(json.dumps(row))
        compare(rows)


if __name__ == "__main__":
    main()
