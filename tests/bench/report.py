"""The BENCHMARKS.md table: which metric makes each row, its goal, and how
values are printed."""

import statistics

MIB = 1024 * 1024


def median(results, case, kind, metric):
    """Median over repetitions; None if any repetition lacks the value."""
    vals = [r.get(metric) for r in results.get(case, {}).get(kind, [])]
    if not vals or any(v is None for v in vals):
        return None
    return statistics.median(vals)


def all_reps(results, case, kind, metric):
    return [r.get(metric) for r in results.get(case, {}).get(kind, [])]


def t(v):
    if v is None:
        return "n/a"
    if v >= 1:
        return "%.2f s" % v
    if v >= 1e-3:
        return "%.2f ms" % (v * 1e3)
    return "%.0f µs" % (v * 1e6)


def mib(v):
    return "n/a" if v is None else "%.2f MiB" % v


def num(fmt):
    return lambda v: "n/a" if v is None else fmt % v


def size(v):
    return "n/a" if v is None else "%.0f KiB" % (v / 1024.0)


class Row:
    """One line of the table.

    py/rs: functions of the results giving the two figures; ratio: 'cost'
    (Python / ours: lower is better), 'rate' (ours / Python) or None;
    check: function (py, rs) -> bool, or None when there is no goal."""

    def __init__(self, section, label, py, rs, fmt, ratio=None, goal="", check=None):
        self.section = section
        self.label = label
        self.py = py
        self.rs = rs
        self.fmt = fmt
        self.ratio = ratio
        self.goal = goal
        self.check = check

    def cells(self, results):
        py, rs = self.py(results), self.rs(results)
        ratio = ""
        if self.ratio and py is not None and rs is not None:
            num_, den = (py, rs) if self.ratio == "cost" else (rs, py)
            ratio = "∞" if den == 0 else "%.1f×" % (num_ / den)
        met = ""
        if self.check:
            if rs is None:
                met = "n/a"
            else:
                met = "yes" if self.check(py, rs) else "**no**"
        return [self.label, self.fmt(py), self.fmt(rs), ratio, self.goal, met]


def m(case, metric):
    """Getters of (Python, ours) for a metric of a case."""
    return (
        lambda r: median(r, case, "py", metric),
        lambda r: median(r, case, "rs", metric),
    )


def ctl(daemon):
    """Getters of (Python's ctl, our ctl) against one daemon."""
    return (
        lambda r: median(r, "control", daemon, "ctl_py"),
        lambda r: median(r, "control", daemon, "ctl_rs"),
    )


def exact_cell(kind):
    def get(r):
        reps = all_reps(r, "logs", kind, "exact")
        if not reps:
            return None
        return "%d/%d" % (sum(1 for x in reps if x), len(reps))

    return get


def early_cell(kind):
    def get(r):
        reps = all_reps(r, "early", kind, "killed")
        rounds = all_reps(r, "early", kind, "rounds")
        if not reps:
            return None
        return "%d/%d" % (sum(reps), sum(rounds))

    return get


def size_of(name):
    return lambda r: r.get("size", {}).get(name)


def rows(idle_secs):
    out = []
    for n, goal in ((1, 1.0), (100, 1.2), (1000, 3.0)):
        case = "fleet%d" % n
        out.append(Row("1. Memory", "PSS idle, N=%d" % n, *m(case, "pss"), mib, "cost",
                       "≤ %g MiB" % goal, lambda py, rs, g=goal: rs <= g))
        out.append(Row("1. Memory", "RSS idle, N=%d" % n, *m(case, "rss"), mib, "cost"))
    out.append(Row("2. Idle", "CPU over %d idle s, N=1000" % idle_secs, *m("fleet1000", "idle_cpu_ms"),
                   num("%.1f ms"), "cost"))
    out.append(Row("2. Idle", "wake-ups (voluntary ctx switches) over %d idle s, N=1000" % idle_secs,
                   *m("fleet1000", "idle_wakeups"), num("%.0f"), "cost", "0", lambda py, rs: rs == 0))
    for n in (1, 100, 1000):
        goal, check = ("≤ 1 s", lambda py, rs: rs <= 1.0) if n == 1000 else ("", None)
        out.append(Row("3. Start-up", "exec to all RUNNING, N=%d" % n, *m("fleet%d" % n, "startup"), t,
                       "cost", goal, check))
    out.append(Row("3. Start-up", "shutdown (SIGTERM to exit), N=1000", *m("fleet1000", "shutdown"), t,
                   "cost", "≤ 0.5 s", lambda py, rs: rs <= 0.5))
    out.append(Row("4. Respawn", "SIGKILL to new pid RUNNING (autorestart)", *m("control", "respawn"), t,
                   "cost", "≤ 5 ms", lambda py, rs: rs <= 0.005))
    out.append(Row("4. Respawn", "stopAllProcesses, N=100", *m("control", "stopall"), t, "cost",
                   "≤ 50 ms", lambda py, rs: rs <= 0.05))
    out.append(Row("4. Respawn", "startAllProcesses, N=100 (startsecs=0)", *m("control", "startall"), t,
                   "cost", "≤ 50 ms", lambda py, rs: rs <= 0.05))
    out.append(Row("5. RPC", "getState, median", *m("control", "getState_med"), t, "cost"))
    out.append(Row("5. RPC", "getState, p99", *m("control", "getState_p99"), t, "cost"))
    out.append(Row("5. RPC", "getAllProcessInfo N=100, median", *m("control", "getAllProcessInfo_med"), t,
                   "cost", "≥ 20× faster", lambda py, rs: py is not None and py / rs >= 20))
    out.append(Row("5. RPC", "getAllProcessInfo N=100, p99", *m("control", "getAllProcessInfo_p99"), t,
                   "cost"))
    out.append(Row("5. RPC", "`supervisorctl status` N=100 against Python's daemon (Python's ctl, ours)",
                   *ctl("py"), t, "cost"))
    out.append(Row("5. RPC", "`supervisorctl status` N=100 against our daemon (Python's ctl, ours)",
                   *ctl("rs"), t, "cost", "ours ≤ 5 ms", lambda py, rs: rs <= 0.005))
    for tag, label in (("8k", "8 KiB"), ("128k", "128 KiB")):
        out.append(Row("6. Logs", "flood throughput, %s writes" % label, *m("logs", "flood_mbs_" + tag),
                       num("%.0f MiB/s"), "rate", "≥ 2× Python",
                       lambda py, rs: py is not None and rs >= 2 * py))
        out.append(Row("6. Logs", "daemon CPU per MiB, %s writes" % label, *m("logs", "flood_cpu_" + tag),
                       num("%.2f ms"), "cost", "≤ ¼ of Python",
                       lambda py, rs: py is not None and rs <= py / 4))
    out.append(Row("6. Logs", "exact bytes in order across rotations (runs)", exact_cell("py"),
                   exact_cell("rs"), lambda v: "n/a" if v is None else v, None, "always",
                   lambda py, rs: rs.split("/")[0] == rs.split("/")[1]))
    out.append(Row("7. Crash loop", "restarts per second", *m("crash", "restarts"), num("%.0f")))
    out.append(Row("7. Crash loop", "daemon CPU (% of one core)", *m("crash", "cpu_pct"), num("%.0f %%")))
    out.append(Row("7. Crash loop", "zombies seen in 2 samples 100 ms apart", *m("crash", "zombies"),
                   num("%.0f"), None, "0", lambda py, rs: rs == 0))
    out.append(Row("7. Crash loop", "fd count growth (max of last third − first third)", *m("crash", "fd_growth"),
                   num("%+.0f"), None, "0 (flat)", lambda py, rs: rs <= 0))
    out.append(Row("8. Size", "supervisord stripped (Python: the supervisor package, no tests)",
                   size_of("python_package"), size_of("supervisord"), size, None, "≤ 1024 KiB",
                   lambda py, rs: rs <= MIB))
    for b in ("supervisorctl", "echo_supervisord_conf", "pidproxy"):
        out.append(Row("8. Size", "%s stripped" % b, lambda r: None, size_of(b), size))
    out.append(Row("Behaviour", "start+stop in one multicall, startsecs=0: rounds ending in SIGKILL",
                   early_cell("py"), early_cell("rs"), lambda v: "n/a" if v is None else v, None,
                   "none", lambda py, rs: rs.startswith("0/")))
    out.append(Row("Behaviour", "… its stop time (stopwaitsecs=2), median", *m("early", "stop_time"), t,
                   "cost"))
    return out


def table(results, idle_secs):
    head = ["Benchmark", "Python 4.2.5", "Rust", "ratio", "goal", "met?"]
    lines = []
    section = None
    for row in rows(idle_secs):
        if row.section != section:
            section = row.section
            lines.append("| **%s** | | | | | |" % section)
        lines.append("| " + " | ".join(row.cells(results)) + " |")
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + lines)


def machine_table(results):
    """The machine's own cost of starting processes (no supervisor)."""
    get = lambda metric: median(results, "machine", "-", metric)
    if get("exec_cpu") is None:
        return []
    return [
        "Machine reference (no supervisor; start-up and respawn goals cannot beat it):",
        "",
        "| Measure | Value |",
        "|---|---|",
        "| posix_spawn 100 `/bin/sleep` from a bare loop (each returns after its exec) | %s |"
        % t(get("spawn100")),
        "| posix_spawn 1000 `/bin/sleep` from a bare loop | %s |" % t(get("spawn1000")),
        "| CPU of one `/bin/true`, spawn to exit | %s |" % t(get("exec_cpu")),
        "",
    ]
