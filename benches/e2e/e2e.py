#!/usr/bin/env python3
"""End-to-end figures of the kubedeck console (issue #18).

Runs the release binary in tmux (160x45) against `kubedeck sim --scenario
empty --pods N`, through a TCP proxy that counts connections, HTTP requests
and bytes, and prints what a user feels: first pod rows and all rows on
screen, RSS, idle CPU, API traffic per idle minute, filter keystroke to
frame, clear filter. It prints figures and asserts nothing about time.

Keystroke timing: keys go in through a tmux control-mode client, which also
reports every chunk the console writes (`%output`), so a keystroke's frame is
timed from the key to the last chunk of the burst it causes, without polling.
Every frame is then read back from the screen (the title's `</filter>`).
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
            if line.startswith(b"%output"):
                t = time.monotonic()
                with self.cv:
                    self.outputs.append(t)
                    self.cv.notify_all()

    def send(self, command):
        self.proc.stdin.write(command.encode() + b"\n")

    def frame_after(self, command, quiet=0.03, timeout=5.0):
        """Sends `command`; the time from it to the last output of the burst
        it caused (the burst ends after `quiet` seconds without output)."""
        with self.cv:
            start_index = len(self.outputs)
        t0 = time.monotonic()
        self.send(command)
        deadline = t0 + timeout
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
                    return last - t0
                self.cv.wait(left)

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


def api_pod_count(url):
    """Pods in the simulator, counted through paged lists."""
    n, cont = 0, ""
    while True:
        q = f"{url}/api/v1/pods?limit=5000" + (f"&continue={cont}" if cont else "")
        with urllib.request.urlopen(q) as r:
            body = json.load(r)
        n += len(body["items"])
        cont = body["metadata"].get("continue") or ""
        if not cont:
            return n


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


def wait_sim_settled(sim_pid, url, want, timeout=600):
    """Until the simulator holds at least `want` pods, the count holds, and
    it has finished starting them: its kubelet works for a while after the
    count is reached (about 40 s of a core at 10,000 pods), and a console
    timed then would share the machine with that start-up."""
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
    while time.monotonic() < deadline:
        c0 = cpu_seconds(sim_pid)
        time.sleep(2)
        if cpu_seconds(sim_pid) - c0 < 0.1:
            return n
    raise RuntimeError("the simulator did not settle")


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


def pods_title(screen):
    m = TITLE.search(screen)
    return (int(m.group(1)), m.group(2)) if m else (None, None)


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


def run_one(binary, pods, idle, settle, keys_text, rounds, wrap=""):
    work = tempfile.mkdtemp(prefix="kubedeck-e2e-")
    tmux = Tmux(f"kubedeck-e2e-{os.getpid()}-{pods}")
    sim = None
    try:
        sim, url = start_sim(binary, pods, work)
        n = wait_sim_settled(sim.pid, url, pods)
        host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
        proxy = CountingProxy((host, int(port)))
        kubeconfig = os.path.join(work, "bench.kubeconfig")
        write_kubeconfig(kubeconfig, f"http://127.0.0.1:{proxy.port}")
        home = os.path.join(work, "home")
        os.makedirs(home)
        script = (
            f"HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data "
            f"exec {wrap} {binary} --kubeconfig {kubeconfig}"
        )
        row = {"pods": n, "load_start": loadavg()}
        t0 = time.monotonic()
        tmux.cmd("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(COLS), "-y", str(ROWS), script)
        tmux.cmd("set-option", "-g", "window-size", "manual")
        pid = int(tmux.cmd("display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        t_frame, _ = poll(tmux, lambda s: "Overview(" in s, 30)
        row["first_frame_s"] = t_frame - t0
        tmux.cmd("send-keys", "-t", "t", "-l", ":pods")
        tmux.cmd("send-keys", "-t", "t", "Enter")
        t_first, _ = poll(tmux, lambda s: "Pods(all)" in s and POD_ROW.search(s) is not None, 120)
        row["first_rows_s"] = t_first - t0
        t_all, _ = poll(tmux, lambda s: pods_title(s)[0] == n and "loading" not in s, 300, 0.01)
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

        ctl = Control(tmux)
        try:
            ctl.frame_after("send-keys -t t /")
            typed, deleted, clears = [], [], []
            for _ in range(rounds):
                text = ""
                for ch in keys_text:
                    text += ch
                    dt = ctl.frame_after(f"send-keys -t t -l {ch}")
                    _, tail = pods_title(tmux.screen())
                    if dt is None or f"</{text}>" not in (tail or ""):
                        raise RuntimeError(f"no frame for filter {text!r}:\n{tmux.screen()}")
                    typed.append(dt * 1000)
                while text:
                    text = text[:-1]
                    dt = ctl.frame_after("send-keys -t t BSpace")
                    _, tail = pods_title(tmux.screen())
                    want = f"</{text}>" if text else None
                    if dt is None or (want and want not in tail) or (not want and "</" in tail):
                        raise RuntimeError(f"no frame for filter {text!r}:\n{tmux.screen()}")
                    deleted.append(dt * 1000)
                # Clear a narrow filter with Esc: every row comes back.
                for ch in keys_text:
                    ctl.frame_after(f"send-keys -t t -l {ch}")
                dt = ctl.frame_after("send-keys -t t Escape")
                count, tail = pods_title(tmux.screen())
                if dt is None or count != n or "</" in tail:
                    raise RuntimeError(f"Esc did not clear the filter:\n{tmux.screen()}")
                clears.append(dt * 1000)
                ctl.frame_after("send-keys -t t /")
            row["keys_typed"] = typed
            row["keys_deleted"] = deleted
            row["clears"] = clears
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


def report(row):
    allk = row["keys_typed"] + row["keys_deleted"]
    print(f"\n== {row['pods']} pods ==")
    print(f"  load average (1/5/15 min): start {row['load_start']}, settled {row['load_settled']}, "
          f"idle {row['load_idle']}, end {row['load_end']}")
    print(f"  first frame          {row['first_frame_s']:.2f} s")
    print(f"  first pod rows       {row['first_rows_s']:.2f} s")
    print(f"  all rows counted     {row['all_rows_s']:.2f} s")
    print(f"  VmRSS / VmHWM        {row['VmRSS']:.0f} / {row['VmHWM']:.0f} MiB")
    print(f"  VmRSS while idle     min {row['idle_rss_min']:.0f}, median {row['idle_rss_median']:.0f}, "
          f"max {row['idle_rss_max']:.0f} MiB")
    print(f"  idle CPU             {row['idle_cpu_pct']:.2f} % over {row['idle_window_s']:.0f} s")
    print(f"  API per idle minute  {row['requests_per_min']:.1f} requests, "
          f"{row['connections_per_min']:.1f} connections, {row['mb_per_min']:.2f} MB")
    print(f"  filter keystroke     p50 {statistics.median(allk):.1f} ms, p95 {pct(allk, 95):.1f} ms "
          f"({len(allk)} keys; typing p50 {statistics.median(row['keys_typed']):.1f} / "
          f"p95 {pct(row['keys_typed'], 95):.1f}, backspace p50 "
          f"{statistics.median(row['keys_deleted']):.1f} / p95 {pct(row['keys_deleted'], 95):.1f})")
    print(f"  clear filter (Esc)   median {statistics.median(row['clears']):.1f} ms "
          f"over {len(row['clears'])}: {', '.join(f'{c:.1f}' for c in row['clears'])}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the kubedeck release binary")
    ap.add_argument("--pods", type=int, action="append", help="N (repeatable; default 1000 and 10000)")
    ap.add_argument("--idle", type=float, default=60, help="idle CPU and traffic window, s (default 60)")
    ap.add_argument("--settle", type=float, default=30, help="wait before reading RSS, s (default 30)")
    ap.add_argument("--filter", default="load-00", help="the text typed into / (default load-00)")
    ap.add_argument("--rounds", type=int, default=2, help="type-and-delete rounds (default 2)")
    ap.add_argument("--wrap", default="", help="run the console under this (a profiler), "
                    "kill it once settled, print no figures")
    ap.add_argument("--json", action="store_true", help="also print each result as JSON")
    a = ap.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("this benchmark needs tmux (apt-get install tmux)")
    for n in a.pods or [1000, 10000]:
        row = run_one(os.path.abspath(a.bin), n, a.idle, a.settle, a.filter, a.rounds, a.wrap)
        if row is None:
            continue
        report(row)
        if a.json:
            print(json.dumps(row))


if __name__ == "__main__":
    main()
