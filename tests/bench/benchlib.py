"""Infrastructure of the benchmark harness: a supervisord fixture that works
for both daemons, a raw HTTP/XML-RPC client on the UNIX socket, /proc
readers, and the process sweep that guarantees nothing is left behind.

Python 3 standard library only. Everything here is measurement plumbing;
the benchmarks themselves live in cases.py.
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

KINDS = ("py", "rs")
LABEL = {"py": "Python 4.2.5", "rs": "Rust"}

# Every daemon started and not yet reaped; swept at exit.
LIVE = {}
# The pid (= session id) of every daemon ever started, for the final check.
STARTED = []
# Keep the daemons' temp dirs (BENCH_KEEP=1).
KEEP = False


class Env:
    """Where the two daemons and their clients are."""

    def __init__(self, bin_dir, venv):
        self.bin_dir = bin_dir
        self.venv = venv

    def supervisord(self, kind):
        if kind == "py":
            return [os.path.join(self.venv, "bin", "supervisord")]
        return [os.path.join(self.bin_dir, "supervisord")]

    def supervisorctl(self, kind):
        if kind == "py":
            return [os.path.join(self.venv, "bin", "supervisorctl")]
        return [os.path.join(self.bin_dir, "supervisorctl")]


# ---------------------------------------------------------------- /proc


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state)."""
    s = read("/proc/%d/stat" % pid)
    i = s.rfind(")")
    return s[i + 2:].split() if i >= 0 else []


def cpu_seconds(pid):
    """CPU time (user + system) of every thread of pid, in seconds, from
    the scheduler's nanosecond counters (the tick counters are too coarse
    for an idle daemon)."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0.0
    for tid in tids:
        s = read("/proc/%d/task/%s/schedstat" % (pid, tid)).split()
        if s:
            total += int(s[0])
    return total / 1e9


def ctx_switches(pid):
    """(voluntary, involuntary) context switches summed over threads."""
    vol = invol = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return (0, 0)
    for tid in tids:
        for line in read("/proc/%d/task/%s/status" % (pid, tid)).splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                vol += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                invol += int(line.split()[1])
    return (vol, invol)


def memory_kib(pid):
    """(RSS, PSS) in KiB from /proc/PID/smaps_rollup."""
    rss = pss = None
    for line in read("/proc/%d/smaps_rollup" % pid).splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def processes():
    """{pid: (ppid, session, state)} for every process on the machine."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        f = stat_fields(int(name))
        if len(f) > 4:
            out[int(name)] = (int(f[1]), int(f[3]), f[0])
    return out


def session_members(sid):
    """Live (non-zombie) processes of session sid. Daemons run in their own
    session; supervised children only change their process group, so this
    finds every child, grandchild and orphan of a daemon."""
    return [p for p, (_, s, st) in processes().items() if s == sid and st != "Z"]


def zombie_children(pid):
    return [p for p, (pp, _, st) in processes().items() if pp == pid and st == "Z"]


def become_subreaper():
    """Orphans of a dying daemon are reparented to us, so we can reap them
    and nothing lingers as a zombie of init."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def reap_orphans():
    """Reaps zombies reparented to us that no Popen owns."""
    mine = os.getpid()
    owned = {d.proc.pid for d in LIVE.values()}
    for p, (pp, _, st) in processes().items():
        if pp == mine and st == "Z" and p not in owned:
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass


def sweep():
    """Kills every daemon still running and everything in its session."""
    for d in list(LIVE.values()):
        d.kill()
    reap_orphans()


# ---------------------------------------------------------------- waiting


def wait_until(cond, timeout, what):
    """Polls cond() until true: every 0.2 ms for the first 50 ms (the fast
    daemon's timings), then every 1 ms, then every 5 ms. Raises on timeout."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        v = cond()
        if v:
            return v
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError("timed out after %gs waiting for %s" % (timeout, what))
        waited = now - start
        time.sleep(0.0002 if waited < 0.05 else 0.001 if waited < 2 else 0.005)


class LogWatch:
    """Counts occurrences of a needle in a growing file without rereading
    it; reading the file never wakes the daemon (an RPC would)."""

    def __init__(self, path, needle):
        self.path = path
        self.needle = needle.encode()
        self.offset = 0
        self.count = 0
        self.tail = b""
        self.fd = None

    def poll(self):
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                return self.count
        while True:
            chunk = os.pread(self.fd, 1 << 20, self.offset)
            if not chunk:
                return self.count
            self.offset += len(chunk)
            data = self.tail + chunk
            self.count += data.count(self.needle)
            # Keep a tail shorter than the needle so a match split across
            # reads is counted once.
            keep = len(self.needle) - 1
            self.tail = data[-keep:] if keep else b""
            if self.needle in self.tail:
                self.tail = b""

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# ---------------------------------------------------------------- RPC


class Rpc:
    """One keep-alive HTTP/1.1 connection on a daemon's UNIX socket."""

    def __init__(self, sock_path, timeout=120):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(sock_path)
        self.buf = b""

    def close(self):
        self.sock.close()

    @staticmethod
    def request(method, *params):
        body = xmlrpc.client.dumps(params, methodname=method).encode()
        head = (
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
            "Content-Length: %d\r\n\r\n" % len(body)
        ).encode()
        return head + body

    def roundtrip(self, req):
        """Sends a prepared request; returns (seconds, body bytes). The time
        covers the raw HTTP exchange only: nothing is parsed as XML."""
        t0 = time.perf_counter()
        self.sock.sendall(req)
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            self._recv()
        head = self.buf[:i].decode("latin-1")
        m = re.search(r"(?im)^content-length:\s*(\d+)", head)
        if not m:
            raise RuntimeError("response without Content-Length: %r" % head)
        end = i + 4 + int(m.group(1))
        while len(self.buf) < end:
            self._recv()
        elapsed = time.perf_counter() - t0
        body = self.buf[i + 4:end]
        self.buf = self.buf[end:]
        if not head.startswith("HTTP/1.1 200") and not head.startswith("HTTP/1.0 200"):
            raise RuntimeError("HTTP error: %r" % head)
        return elapsed, body

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("daemon closed the connection")
        self.buf += chunk

    def call(self, method, *params):
        """Calls a method; returns (seconds, decoded result)."""
        elapsed, body = self.roundtrip(self.request(method, *params))
        result, _ = xmlrpc.client.loads(body)
        return elapsed, result[0]


# ---------------------------------------------------------------- daemons


def config_text(d, programs, minfds=1024, minprocs=200):
    """A config for daemon dir d with the given program sections
    ({name: {key: value}})."""
    lines = [
        "[unix_http_server]",
        "file=%s/s.sock" % d,
        "",
        "[supervisord]",
        "logfile=%s/supervisord.log" % d,
        "pidfile=%s/supervisord.pid" % d,
        "childlogdir=%s/logs" % d,
        "loglevel=info",
        "nodaemon=true",
        "minfds=%d" % minfds,
        "minprocs=%d" % minprocs,
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        "serverurl=unix://%s/s.sock" % d,
        "",
    ]
    for name, keys in programs.items():
        lines.append("[program:%s]" % name)
        lines.extend("%s=%s" % kv for kv in keys.items())
        lines.append("")
    return "\n".join(lines)


def fleet(n, **keys):
    """n sleeping programs p0000.. with the given extra keys."""
    base = {"command": "/bin/sleep 1000000", "startsecs": "0"}
    base.update(keys)
    return {"p%04d" % i: dict(base) for i in range(n)}


def fd_limit_for(n):
    """minfds for n children: 3 pipes and 2 log files each, plus slack,
    within the hard limit."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = 8 * n + 256
    return want if hard == resource.RLIM_INFINITY else min(want, hard)


class Daemon:
    """One supervisord (kind 'py' or 'rs') in its own temp dir and session."""

    def __init__(self, env, kind, programs, tag, minfds=None, minprocs=None):
        self.env = env
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="svb-%s-%s-" % (kind, tag), dir="/tmp")
        os.mkdir(os.path.join(self.dir, "logs"))
        n = len(programs)
        self.conf = os.path.join(self.dir, "supervisord.conf")
        with open(self.conf, "w") as f:
            f.write(
                config_text(
                    self.dir,
                    programs,
                    minfds=minfds or max(1024, fd_limit_for(n)),
                    minprocs=minprocs or max(200, 2 * n + 100),
                )
            )
        self.sock = os.path.join(self.dir, "s.sock")
        self.log = os.path.join(self.dir, "supervisord.log")
        self.proc = None
        self.started_at = None
        self.outlived = []

    def start(self):
        """Execs the daemon; returns the monotonic time just before exec."""
        err = open(os.path.join(self.dir, "stderr.txt"), "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            self.env.supervisord(self.kind) + ["-c", self.conf],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,
        )
        err.close()
        LIVE[id(self)] = self
        STARTED.append(self.proc.pid)
        return self.started_at

    @property
    def pid(self):
        return self.proc.pid

    def watch(self, needle):
        return LogWatch(self.log, needle)

    def wait_socket(self, timeout=60):
        def ok():
            self.check_alive()
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                s.close()
                return True
            except OSError:
                return False

        wait_until(ok, timeout, "%s socket" % self.kind)

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(
                "%s supervisord exited (%s): %s"
                % (self.kind, self.proc.returncode, read(os.path.join(self.dir, "stderr.txt"))[-2000:])
            )

    def wait_running(self, n, timeout):
        """Waits until the log reports n programs RUNNING; returns the
        monotonic time it was seen."""
        w = self.watch("entered RUNNING state")

        def done():
            if w.poll() >= n:
                return time.monotonic()
            self.check_alive()
            return None

        try:
            return wait_until(done, timeout, "%d RUNNING (%s)" % (n, self.kind))
        finally:
            w.close()

    def rpc(self):
        return Rpc(self.sock)

    def infos(self):
        r = self.rpc()
        try:
            return r.call("supervisor.getAllProcessInfo")[1]
        finally:
            r.close()

    def children(self):
        return [p for p in session_members(self.pid) if p != self.pid]

    def stop(self, timeout=120):
        """SIGTERM; waits for exit; returns the seconds it took. Records any
        child that outlived the daemon (then kills it)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("%s supervisord did not exit within %ss of SIGTERM" % (self.kind, timeout))
        finally:
            elapsed = time.monotonic() - t0
            self._finish()
        return elapsed

    def _finish(self):
        left = self.children()
        if left:
            self.outlived.extend(left)
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        LIVE.pop(id(self), None)
        reap_orphans()

    def kill(self):
        """Last-resort cleanup: SIGKILL the daemon and its session."""
        if self.proc is None:
            return
        for p in session_members(self.pid):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        LIVE.pop(id(self), None)

    def remove(self):
        if KEEP:
            sys.stderr.write("    kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
