"""The benchmarks. Each case runs one daemon (kind 'py' or 'rs') through a
scenario and returns {metric: value} for one repetition; run.py
interleaves the kinds and takes medians.

Nothing here waits with fixed sleeps for the daemon: start-up, respawn and
exits are seen in the daemon's activity log, which the harness reads
without waking the daemon. Fixed durations (idle window, log flood, crash
loop) are the measurement windows themselves.
"""

import os
import random
import signal
import statistics
import subprocess
import sys
import time
import xmlrpc.client

import benchlib as B
import writer

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1024 * 1024


class Settings:
    """Durations and counts; BENCH_QUICK=1 shrinks them for a smoke run."""

    def __init__(self, quick):
        self.quick = quick
        self.reps = 1 if quick else 3
        self.idle_secs = 5 if quick else 30
        self.flood_secs = 2 if quick else 10
        self.crash_secs = 3 if quick else 10
        self.rpc_calls = 200 if quick else 2000
        self.ctl_runs = 3 if quick else 15
        self.kills = 3 if quick else 5
        self.exact_bytes = 3 * MIB + 12345
        self.early_rounds = 3


def pct(values, p):
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# ---------------------------------------------------------------- fleet


def fleet(env, kind, st, n):
    """Start-up, memory, (N=1000) idle cost, shutdown of N sleepers."""
    d = B.Daemon(env, kind, B.fleet(n), "fleet%d" % n)
    out = {}
    try:
        t0 = d.start()
        t1 = d.wait_running(n, timeout=120 + n * 0.2)
        out["startup"] = t1 - t0
        infos = d.infos()
        running = sum(1 for i in infos if i["statename"] == "RUNNING")
        if running != n:
            raise RuntimeError("%d of %d RUNNING after start-up" % (running, n))
        # Let the start-up's last replies and log writes settle.
        time.sleep(1)
        rss, pss = B.memory_kib(d.pid)
        out["rss"] = rss / 1024.0
        out["pss"] = pss / 1024.0
        if n >= 1000:
            c0, v0 = B.cpu_seconds(d.pid), B.ctx_switches(d.pid)
            time.sleep(st.idle_secs)
            c1, v1 = B.cpu_seconds(d.pid), B.ctx_switches(d.pid)
            out["idle_cpu_ms"] = (c1 - c0) * 1000.0
            out["idle_wakeups"] = v1[0] - v0[0]
            out["idle_secs"] = st.idle_secs
        out["shutdown"] = d.stop()
        out["outlived"] = len(d.outlived)
    finally:
        d.kill()
        d.remove()
    return out


# ---------------------------------------------------------------- control


def control(env, kind, st):
    """Respawn, stop/startAll, RPC latency, supervisorctl status; N=100."""
    n = 100
    d = B.Daemon(env, kind, B.fleet(n, autorestart="true"), "ctl")
    out = {}
    try:
        d.start()
        d.wait_running(n, timeout=120)
        out["respawn"] = respawn(d, st)
        out.update(start_stop_all(d, n))
        out.update(rpc_latency(d, st))
        for ctl in B.KINDS:
            out["ctl_" + ctl] = ctl_status(env, ctl, d, n, st)
        out["shutdown"] = d.stop()
        out["outlived"] = len(d.outlived)
    finally:
        d.kill()
        d.remove()
    return out


def respawn(d, st):
    """Median seconds from SIGKILL of p0000 to its new pid RUNNING."""
    times = []
    r = d.rpc()
    try:
        for _ in range(st.kills):
            old = r.call("supervisor.getProcessInfo", "p0000")[1]["pid"]
            w = d.watch("success: p0000 entered RUNNING state")
            # Start from a random phase of any periodic loop in the daemon.
            time.sleep(random.uniform(0.1, 1.1))
            before = w.poll()
            t0 = time.monotonic()
            os.kill(old, signal.SIGKILL)
            B.wait_until(lambda: w.poll() > before, 30, "p0000 respawn")
            times.append(time.monotonic() - t0)
            w.close()
            info = r.call("supervisor.getProcessInfo", "p0000")[1]
            if info["pid"] == old or info["statename"] != "RUNNING":
                raise RuntimeError("respawn not confirmed: %r" % info)
    finally:
        r.close()
    return statistics.median(times)


def start_stop_all(d, n):
    r = d.rpc()
    try:
        out = {}
        for verb, state in (("stop", "STOPPED"), ("start", "RUNNING")):
            t, res = r.call("supervisor.%sAllProcesses" % verb)
            ok = sum(1 for x in res if x.get("status") == 80)
            if ok != n:
                raise RuntimeError("%sAllProcesses: %d of %d succeeded: %r" % (verb, ok, n, res[:3]))
            states = {i["statename"] for i in r.call("supervisor.getAllProcessInfo")[1]}
            if states != {state}:
                raise RuntimeError("after %sAllProcesses: %r" % (verb, states))
            out[verb + "all"] = t
        return out
    finally:
        r.close()


def rpc_latency(d, st):
    out = {}
    r = d.rpc()
    try:
        for method in ("getState", "getAllProcessInfo"):
            req = B.Rpc.request("supervisor." + method)
            for _ in range(20):
                r.roundtrip(req)
            times = [r.roundtrip(req)[0] for _ in range(st.rpc_calls)]
            out[method + "_med"] = statistics.median(times)
            out[method + "_p99"] = pct(times, 99)
    finally:
        r.close()
    return out


def ctl_status(env, ctl, d, n, st):
    """Median wall time of `supervisorctl status`, or None if that ctl
    cannot produce a correct status listing yet."""
    cmd = env.supervisorctl(ctl) + ["-c", d.conf, "status"]
    times = []
    for _ in range(st.ctl_runs):
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
        t = time.monotonic() - t0
        lines = [l for l in p.stdout.decode("utf-8", "replace").splitlines() if "RUNNING" in l]
        if p.returncode != 0 or len(lines) != n:
            return None
        times.append(t)
    return statistics.median(times)


# ---------------------------------------------------------------- logs


def logs(env, kind, st):
    """Flood throughput and CPU per MiB for 8 KiB and 128 KiB writes;
    byte-exact content across rotations."""
    py = sys.executable
    w = os.path.join(HERE, "writer.py")
    progs = {}
    for block in (8192, 131072):
        name = "flood%dk" % (block // 1024)
        progs[name] = {
            "command": "%s %s flood %d %g %%(here)s/%s.result %%(here)s/%s.go"
            % (py, w, block, st.flood_secs, name, name),
            "startsecs": "0",
            "autorestart": "false",
            "stdout_logfile": "%(here)s/" + name + ".log",
            "stdout_logfile_maxbytes": "50MB",
            "stdout_logfile_backups": "2",
            "stderr_logfile": "NONE",
        }
    progs["exact"] = {
        "command": "%s %s exact %d" % (py, w, st.exact_bytes),
        "startsecs": "0",
        "autostart": "false",
        "autorestart": "false",
        "stdout_logfile": "%(here)s/exact.log",
        "stdout_logfile_maxbytes": "256KB",
        "stdout_logfile_backups": "100",
        "stderr_logfile": "NONE",
    }
    d = B.Daemon(env, kind, progs, "logs")
    out = {}
    try:
        d.start()
        d.wait_running(2, timeout=60)
        for block in (8192, 131072):
            tag = "%dk" % (block // 1024)
            mb, cpu, wcpu = flood(d, "flood" + tag, st.flood_secs)
            out["flood_mbs_" + tag] = mb
            out["flood_cpu_" + tag] = cpu
            out["flood_writer_" + tag] = wcpu
        out["exact"] = exact(d, st.exact_bytes)
        d.stop()
        out["outlived"] = len(d.outlived)
    finally:
        d.kill()
        d.remove()
    return out


def flood(d, name, secs):
    """(MiB/s, daemon CPU ms per MiB, writer CPU %) of one flood run."""
    result = os.path.join(d.dir, name + ".result")
    c0 = B.cpu_seconds(d.pid)
    open(os.path.join(d.dir, name + ".go"), "w").close()
    B.wait_until(lambda: os.path.exists(result), 30 + 3 * secs, name + " result")
    c1 = B.cpu_seconds(d.pid)
    with open(result) as f:
        total, secs, wcpu = f.read().split()
    mib = int(total) / MIB
    return mib / float(secs), (c1 - c0) * 1000.0 / mib, float(wcpu) / float(secs) * 100


def exact(d, size):
    """True if the exact program's log files, oldest backup first, hold
    exactly pattern(size), with at least one rotation."""
    w = d.watch("exited: exact")
    r = d.rpc()
    try:
        r.call("supervisor.startProcess", "exact")
    finally:
        r.close()
    B.wait_until(lambda: w.poll() > 0, 120, "exact to exit")
    w.close()
    base = os.path.join(d.dir, "exact.log")

    def files():
        backups = sorted(
            (int(f.rsplit(".", 1)[1]), f)
            for f in os.listdir(d.dir)
            if f.startswith("exact.log.") and f.rsplit(".", 1)[1].isdigit()
        )
        return [os.path.join(d.dir, f) for _, f in reversed(backups)] + [base]

    def landed():
        return sum(os.path.getsize(f) for f in files() if os.path.exists(f)) >= size

    # The exit may be handled before the last bytes are read from the pipe.
    try:
        B.wait_until(landed, 10, "exact log bytes")
    except TimeoutError:
        pass
    fs = files()
    data = b"".join(open(f, "rb").read() for f in fs if os.path.exists(f))
    return data == writer.pattern(size) and len(fs) > 1


# ---------------------------------------------------------------- crash


def crash(env, kind, st):
    """A program exiting at once, restarted forever."""
    progs = {"crash": {"command": "/bin/true", "startsecs": "0", "autorestart": "true"}}
    d = B.Daemon(env, kind, progs, "crash")
    out = {}
    try:
        d.start()
        d.wait_running(1, timeout=60)
        time.sleep(0.5)
        w = d.watch("spawned: 'crash'")
        w.poll()
        n0 = w.count
        c0 = B.cpu_seconds(d.pid)
        t0 = time.monotonic()
        prev = set()
        persistent = 0
        max_z = 0
        fds = []
        while time.monotonic() - t0 < st.crash_secs:
            z = set(B.zombie_children(d.pid))
            persistent += len(z & prev)
            max_z = max(max_z, len(z))
            prev = z
            fds.append(B.fd_count(d.pid) or 0)
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
        c1 = B.cpu_seconds(d.pid)
        w.poll()
        out["restarts"] = (w.count - n0) / elapsed
        out["cpu_pct"] = (c1 - c0) / elapsed * 100.0
        out["zombies"] = persistent
        out["zombies_max"] = max_z
        # A sample can fall while one child's pipes are open: compare the
        # highest count of the first and last thirds of the window.
        third = max(1, len(fds) // 3)
        out["fd_growth"] = max(fds[-third:]) - max(fds[:third])
        w.close()
        d.stop()
        out["outlived"] = len(d.outlived)
    finally:
        d.kill()
        d.remove()
    return out


# ---------------------------------------------------------------- early stop


def early_stop(env, kind, st):
    """startsecs=0 start and stop in one multicall: does the stop signal
    reach the program, or is it SIGKILLed after stopwaitsecs?"""
    progs = {
        "trap": {
            "command": "/bin/sh -c 'trap \"exit 0\" TERM; while :; do sleep 0.05; done'",
            "startsecs": "0",
            "autostart": "false",
            "stopwaitsecs": "2",
        }
    }
    d = B.Daemon(env, kind, progs, "early")
    out = {}
    try:
        d.start()
        d.wait_socket()
        calls = [
            {"methodName": "supervisor.startProcess", "params": ["trap", False]},
            {"methodName": "supervisor.stopProcess", "params": ["trap"]},
        ]
        req = B.Rpc.request("system.multicall", calls)
        times = []
        for _ in range(st.early_rounds):
            r = d.rpc()
            try:
                t, body = r.roundtrip(req)
                result = xmlrpc.client.loads(body)[0][0]
                if result != [True, True]:
                    raise RuntimeError("multicall returned %r" % (result,))
                times.append(t)
            finally:
                r.close()
        d.stop()
        text = B.read(d.log)
        out["killed"] = text.count("stopped: trap (terminated by SIGKILL)")
        out["rounds"] = st.early_rounds
        out["stop_time"] = statistics.median(times)
        out["outlived"] = len(d.outlived)
    finally:
        d.kill()
        d.remove()
    return out


# ---------------------------------------------------------------- size


def sizes(env):
    """{binary: stripped bytes} for ours; bytes of the reference package."""
    out = {}
    strip = B.shutil.which("strip")
    for name in ("supervisord", "supervisorctl", "echo_supervisord_conf", "pidproxy"):
        path = os.path.join(env.bin_dir, name)
        if not os.path.exists(path):
            continue
        size = os.path.getsize(path)
        if strip:
            tmp = os.path.join("/tmp", "svb-strip-%d-%s" % (os.getpid(), name))
            try:
                subprocess.run([strip, "-o", tmp, path], check=True, capture_output=True)
                size = os.path.getsize(tmp)
            except (OSError, subprocess.CalledProcessError):
                pass
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        out[name] = size
    pkg = None
    for root, dirs, files in os.walk(os.path.join(env.venv, "lib")):
        if os.path.basename(root) == "supervisor" and "supervisord.py" in files:
            pkg = root
            break
    if pkg:
        total = 0
        for root, dirs, files in os.walk(pkg):
            dirs[:] = [x for x in dirs if x != "tests"]
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
        out["python_package"] = total
    return out


# ---------------------------------------------------------------- machine


def machine():
    """What this machine charges for processes, with no supervisor at all:
    seconds to posix_spawn N /bin/sleep from a bare loop (each call returns
    once its exec succeeded), and the CPU one /bin/true costs from spawn to
    exit. Start-up goals cannot beat these figures."""
    import resource

    out = {}
    for n in (100, 1000):
        pids = []
        t0 = time.monotonic()
        try:
            for _ in range(n):
                pids.append(os.posix_spawn("/bin/sleep", ["/bin/sleep", "1000000"], os.environ))
            out["spawn%d" % n] = time.monotonic() - t0
        finally:
            for p in pids:
                os.kill(p, signal.SIGKILL)
            for p in pids:
                os.waitpid(p, 0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    runs = 200
    for _ in range(runs):
        os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], os.environ), 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out["exec_cpu"] = cpu / runs
    return out
