//! supervisorctl against a daemon, compared with the reference's
//! supervisorctl on the same daemon: same stdout, stderr and exit status
//! for every command (read-only ones, state-changing ones, reread/update,
//! shutdown/reload), with the reference daemon and with ours.

mod common;
mod ctl_support;

use common::Supervisord;
use ctl_support::{assert_same, ours, start_programs, theirs, Daemon, Run};

/// Commands that leave the daemon as they found it.
const READ_ONLY: &[&str] = &[
    "help",
    "help help",
    "help foo",
    "help EOF",
    "help add",
    "help avail",
    "help clear",
    "help exit",
    "help fg",
    "help maintail",
    "help open",
    "help pid",
    "help quit",
    "help reload",
    "help remove",
    "help reread",
    "help restart",
    "help shutdown",
    "help signal",
    "help start",
    "help status",
    "help stop",
    "help tail",
    "help update",
    "help version",
    "help status foo",
    "?",
    "?stop",
    "status",
    "status all",
    "status cat",
    "status grp:*",
    "status grp:",
    "status nope:*",
    "status grp:zz",
    "status foo",
    "status cat foo grp:a",
    "status sleeper",
    "status quick",
    "pid",
    "pid foo",
    "pid sleeper",
    "pid cat",
    "pid all",
    "avail",
    "avail x",
    "version",
    "version x",
    "tail grp:b",
    "tail grp:b stderr",
    "tail grp:b STDERR",
    "tail -3 grp:b",
    "tail -2 grp:b stderr",
    "tail -x grp:b",
    "tail a b c d",
    "tail grp:b foo",
    "tail",
    "tail -f",
    "tail nope",
    "tail cat",
    "tail -0 cat",
    "maintail a b",
    "maintail x",
    "maintail -x",
    "bogus",
    "!x",
    "start_x",
    "EOF",
    "quit",
    "exit",
    "start",
    "stop",
    "restart",
    "signal",
    "signal HUP",
    "clear",
    "fg",
    "fg a b",
    "fg sleeper",
    "fg nope",
    "shutdown x",
    "reload x",
    "reread x",
    "open foo://bar",
    "open nothing",
    "start nope",
    "start nope:*",
    "stop nope",
    "stop nope:*",
    "signal HUP nope",
    "signal HUP nope:*",
    "signal FOO grp:a",
    "signal HUP sleeper",
    "signal CONT sleeper quick",
    "clear nope",
    "clear nope:*",
    "start noexec",
    "stop sleeper",
    "stop quick",
    "add cat",
    "add nope",
    "remove nope",
    "remove cat",
    "update nope",
    "update nope cat",
    "reread",
    "start cat",
    "start grp:*",
    "start cat grp:a",
];

fn read_only_commands_match(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-ro");
    for line in READ_ONLY {
        let args: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
        assert_same(&sv, &args);
    }
    // The whole line in one argument is split the same way.
    assert_same(&sv, &["status cat  grp:a"]);
}

/// (command, command that restores the state for the next run). Group
/// and `all` stops finish in whatever order the processes exit, so those
/// outputs are compared line by line regardless of order.
const STATEFUL: &[(&str, &str)] = &[
    ("start sleeper", "stop sleeper"),
    ("stop cat", "start cat"),
    ("stop grp:*", "start grp:*"),
    ("stop grp:a cat", "start grp:a cat"),
    ("start sleeper grp:a", "stop sleeper"),
    ("restart cat", ""),
    ("restart grp:*", ""),
    ("restart cat sleeper", "stop sleeper"),
    ("signal CONT cat", ""),
    ("signal CONT grp:*", ""),
    ("signal CONT all", ""),
    ("signal CONT grp:a cat sleeper", ""),
    ("clear cat", ""),
    ("clear grp:a", ""),
    ("stop all", "start cat grp:*"),
    ("start all", "stop sleeper noexec"),
    ("clear all", ""),
    ("remove grp", "add grp"),
];

/// The run with its stdout lines sorted.
fn unordered(mut run: Run) -> Run {
    let mut lines: Vec<&str> = run.stdout.lines().collect();
    lines.sort_unstable();
    run.stdout = lines.join("\n");
    run
}

fn run_py(sv: &Supervisord, line: &str) {
    if !line.is_empty() {
        let args: Vec<&str> = line.split(' ').collect();
        sv.py_ctl(&args);
    }
}

fn state_changing_commands_match(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-rw");
    for (line, reset) in STATEFUL {
        let args: Vec<&str> = line.split(' ').collect();
        let want = unordered(theirs(&sv, &args));
        run_py(&sv, reset);
        let got = unordered(ours(&sv, &args));
        run_py(&sv, reset);
        assert_eq!(got, want, "supervisorctl {line} differs from the reference");
    }
    // `remove` of a stopped group, then `add` it back.
    run_py(&sv, "stop grp:*");
    let want = theirs(&sv, &["remove", "grp"]);
    run_py(&sv, "add grp");
    run_py(&sv, "stop grp:*");
    assert_eq!(ours(&sv, &["remove", "grp"]), want);
    let want = theirs(&sv, &["add", "grp"]);
    run_py(&sv, "stop grp:*");
    run_py(&sv, "remove grp");
    assert_eq!(ours(&sv, &["add", "grp"]), want);
    assert_eq!(ours(&sv, &["add", "grp"]), theirs(&sv, &["add", "grp"]));
}

fn rewrite_config(sv: &Supervisord, extra: &str) {
    let text = Supervisord::config(&sv.dir, &format!("{}{extra}", ctl_support::PROGRAMS));
    std::fs::write(&sv.conf, text).expect("write config");
}

fn reread_and_update_match(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-upd");
    assert_same(&sv, &["reread"]);
    assert_same(&sv, &["update"]);
    // A new program: reread shows it; update adds it.
    rewrite_config(&sv, "\n[program:extra]\ncommand=sleep 1000\nstartsecs=0\n");
    assert_same(&sv, &["reread"]);
    assert_same(&sv, &["avail"]);
    for args in [
        &["update"][..],
        &["update", "extra"],
        &["update", "all"],
        &["add", "extra"],
    ] {
        let want = theirs(&sv, args);
        run_py(&sv, "stop extra");
        run_py(&sv, "remove extra");
        let got = ours(&sv, args);
        run_py(&sv, "stop extra");
        run_py(&sv, "remove extra");
        assert_eq!(
            got, want,
            "supervisorctl {args:?} differs from the reference"
        );
    }
    assert_same(&sv, &["update", "cat", "nope"]);
    // A changed group and a removed program.
    let changed = "\n[program:extra]\ncommand=sleep 1000\nstartsecs=0\n";
    // Every `command=sleep 1000` program of PROGRAMS changed to sleep 999.
    let write_changed = || {
        let text = ctl_support::PROGRAMS.replace(
            "command=sleep 1000\nstartsecs=0",
            "command=sleep 999\nstartsecs=0",
        );
        std::fs::write(&sv.conf, Supervisord::config(&sv.dir, &text)).expect("write config");
    };
    run_py(&sv, "update");
    write_changed();
    assert_same(&sv, &["reread"]);
    let want = theirs(&sv, &["update"]);
    rewrite_config(&sv, changed);
    run_py(&sv, "update");
    write_changed();
    assert_eq!(ours(&sv, &["update"]), want);
}

/// Waits until a reloading daemon answers again with its programs up.
fn wait_restarted(sv: &Supervisord) {
    for name in ["cat", "grp:a", "grp:b"] {
        common::wait_until(30, &format!("{name} RUNNING after reload"), || {
            let info = sv.rpc("supervisor.getProcessInfo", vec![common::s(name)]);
            matches!(info, Ok(v) if common::field_of(&v, "statename") == common::s("RUNNING"))
        });
    }
}

fn shutdown_and_reload_match(daemon: Daemon) {
    for cmd in ["reload", "shutdown"] {
        let py = start_programs(daemon, "ctl-sd-py");
        let us = start_programs(daemon, "ctl-sd-us");
        let want = theirs(&py, &[cmd]);
        let got = ours(&us, &[cmd]);
        assert_eq!(got, want, "supervisorctl {cmd} differs from the reference");
        if cmd == "reload" {
            // Let both finish restarting their programs, so that none is
            // spawned after the fixture has collected what to clean up.
            wait_restarted(&py);
            wait_restarted(&us);
        }
    }
    // After a shutdown, the socket is gone.
    let mut us = start_programs(daemon, "ctl-sd-after");
    assert_eq!(ours(&us, &["shutdown"]).stdout, "Shut down\n");
    let pid = us.pid();
    common::wait_until(20, "daemon exit", || !common::pid_alive(pid));
    us.stop_with("TERM", 1);
    let want = theirs(&us, &["status"]);
    assert_eq!(ours(&us, &["status"]), want);
    assert_eq!(want.code, Some(4));
    assert_eq!(ours(&us, &["shutdown"]), theirs(&us, &["shutdown"]));
}

#[test]
fn read_only_commands_match_with_reference_daemon() {
    read_only_commands_match(Daemon::Reference);
}

#[test]
fn read_only_commands_match_with_our_daemon() {
    read_only_commands_match(Daemon::Ours);
}

#[test]
fn state_changing_commands_match_with_reference_daemon() {
    state_changing_commands_match(Daemon::Reference);
}

#[test]
fn state_changing_commands_match_with_our_daemon() {
    state_changing_commands_match(Daemon::Ours);
}

#[test]
fn reread_and_update_match_with_reference_daemon() {
    reread_and_update_match(Daemon::Reference);
}

#[test]
fn reread_and_update_match_with_our_daemon() {
    reread_and_update_match(Daemon::Ours);
}

#[test]
fn shutdown_and_reload_match_with_reference_daemon() {
    shutdown_and_reload_match(Daemon::Reference);
}

#[test]
fn shutdown_and_reload_match_with_our_daemon() {
    shutdown_and_reload_match(Daemon::Ours);
}

/// Log text with ANSI colours: the reference daemon sends the escape
/// character raw, which the reference's supervisorctl cannot parse
/// (reference bug #85); ours shows the text. Our daemon replaces it.
#[test]
fn coloured_log_output_is_shown() {
    let colour = "[program:colour]\ncommand=printf '\\033[31mred\\033[0m\\n'\nautorestart=false\nstartsecs=0\n";
    for daemon in [Daemon::Reference, Daemon::Ours] {
        let sv = ctl_support::start(daemon, "ctl-ansi", colour);
        common::wait_until(20, "colour exited", || sv.state("colour") == "EXITED");
        let got = ours(&sv, &["tail", "colour"]);
        assert_eq!(got.code, Some(0), "{daemon:?}: {got:?}");
        let esc = if daemon == Daemon::Reference {
            "\x1b"
        } else {
            "\u{fffd}"
        };
        assert_eq!(
            got.stdout,
            format!("{esc}[31mred{esc}[0m\n\n"),
            "{daemon:?}"
        );
        if daemon == Daemon::Reference {
            let theirs = theirs(&sv, &["tail", "colour"]);
            assert!(theirs
                .stdout
                .starts_with("error: <class 'xml.parsers.expat.ExpatError'>"));
        }
    }
}
