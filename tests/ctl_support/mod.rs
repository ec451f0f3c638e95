//! Shared helpers for the supervisorctl integration tests (`tests/ctl_*.rs`):
//! which daemon to drive (the reference's or ours), a standard set of
//! programs, running our supervisorctl and the reference's on the same
//! daemon, and masking what legitimately differs between two runs.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, Supervisord, TempDir};

/// The daemon a test drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Daemon {
    /// The reference supervisord from the venv.
    Reference,
    /// Our supervisord.
    Ours,
}

impl Daemon {
    pub fn exe(self) -> PathBuf {
        match self {
            Daemon::Reference => common::venv().join("bin/supervisord"),
            Daemon::Ours => common::bin("supervisord"),
        }
    }
}

/// Programs most tests use: running ones (`cat`, `grp:a`, `grp:b` which
/// logs to both channels), a stopped one, an exited one, a broken one.
pub const PROGRAMS: &str = "\
[program:cat]
command=cat
startsecs=0

[program:sleeper]
command=sleep 1000
autostart=false

[program:quick]
command=sleep 0.1
autorestart=false
startsecs=0

[program:noexec]
command={dir}/nonexistent
autostart=false
startretries=0

[group:grp]
programs=a,b

[program:a]
command=sleep 1000
startsecs=0

[program:b]
command=sh -c 'echo out; echo err >&2; exec sleep 1000'
startsecs=0
";

/// Starts `daemon` on the standard config plus `extra`.
pub fn start(daemon: Daemon, tag: &str, extra: &str) -> Supervisord {
    let dir = TempDir::new(tag);
    let text = Supervisord::config(&dir, extra);
    start_text(daemon, dir, &text)
}

/// Starts `daemon` on the full config `text`.
pub fn start_text(daemon: Daemon, dir: TempDir, text: &str) -> Supervisord {
    Supervisord::start_binary(&daemon.exe(), dir, text, &[])
}

/// Starts `daemon` with `PROGRAMS` and waits until they have settled.
pub fn start_programs(daemon: Daemon, tag: &str) -> Supervisord {
    let sv = start(daemon, tag, PROGRAMS);
    wait_settled(&sv);
    sv
}

/// Waits until the autostarted programs of `PROGRAMS` are RUNNING (or
/// EXITED for `quick`) and `b` has written its lines.
pub fn wait_settled(sv: &Supervisord) {
    for name in ["cat", "grp:a", "grp:b"] {
        common::wait_until(20, &format!("{name} RUNNING"), || {
            sv.state(name) == "RUNNING"
        });
    }
    common::wait_until(20, "quick EXITED", || sv.state("quick") == "EXITED");
    let log = |ch: &str| {
        let method = format!("supervisor.readProcess{ch}Log");
        sv.call(
            &method,
            vec![
                common::s("grp:b"),
                common::Value::Int(0),
                common::Value::Int(0),
            ],
        )
    };
    common::wait_until(20, "b's output", || {
        log("Stdout") == common::s("out\n") && log("Stderr") == common::s("err\n")
    });
}

/// What one supervisorctl run gave, masked.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Run {
    pub fn of(out: &Output) -> Run {
        Run {
            stdout: mask(&common::stdout(out)),
            stderr: mask(&common::stderr(out)),
            code: out.status.code(),
        }
    }
}

/// Masks what differs between two otherwise identical runs: process
/// uptimes (time passes), the location part of the reference's catch-all
/// error line (a Python source line), and the program path in usage
/// messages.
pub fn mask(text: &str) -> String {
    text.lines().map(mask_line).collect::<Vec<_>>().join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

fn mask_line(line: &str) -> String {
    let mut line = line.to_string();
    // The uptime ends the description ("uptime 0:00:01", "uptime 1 day, ...").
    if let Some(i) = line.find(", uptime ") {
        line.truncate(i + ", uptime ".len());
        line.push('X');
    }
    if line.contains("error: <class ") {
        if let Some(i) = line.rfind(": file: ") {
            line.truncate(i);
            line.push_str(": file: X");
        }
    }
    for prefix in ["For help, use ", "Usage: "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            let tail = rest.split_once(' ').map_or("", |(_, t)| t);
            line = format!("{prefix}PROG {tail}");
        }
    }
    line
}

/// Our supervisorctl with `args` (after `-c <conf>`).
pub fn ours(sv: &Supervisord, args: &[&str]) -> Run {
    Run::of(&sv.ctl(args))
}

/// The reference's supervisorctl with `args` (after `-c <conf>`).
pub fn theirs(sv: &Supervisord, args: &[&str]) -> Run {
    Run::of(&sv.py_ctl(args))
}

/// Asserts both supervisorctls print the same and exit the same.
pub fn assert_same(sv: &Supervisord, args: &[&str]) {
    let want = theirs(sv, args);
    let got = ours(sv, args);
    assert_eq!(
        got, want,
        "supervisorctl {args:?} differs from the reference"
    );
}

/// A supervisorctl command line (no daemon needed): ours or the reference's.
pub fn ctl_cmd(reference: bool) -> Command {
    if reference {
        Command::new(common::venv().join("bin/supervisorctl"))
    } else {
        Command::new(common::bin("supervisorctl"))
    }
}

/// Runs both supervisorctls with `args` and `stdin`, returns (ours, theirs).
pub fn both_with_stdin(args: &[&str], stdin: &[u8]) -> (Run, Run) {
    let run = |reference: bool| {
        let mut child = ctl_cmd(reference)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn supervisorctl");
        if let Some(mut input) = child.stdin.take() {
            use std::io::Write;
            // The command may not read its input at all (an action).
            let _ = input.write_all(stdin);
        }
        Run::of(&child.wait_with_output().expect("wait supervisorctl"))
    };
    (run(false), run(true))
}

/// A running supervisorctl whose output is collected as it arrives.
pub struct Live {
    pub child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

fn collect(mut r: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let b = Arc::clone(&buf);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            b.lock().expect("lock").extend_from_slice(&chunk[..n]);
        }
    });
    buf
}

impl Live {
    /// Starts a supervisorctl (`reference` picks which) on `conf` with `args`.
    pub fn spawn(reference: bool, conf: &Path, args: &[&str]) -> Live {
        let mut child = ctl_cmd(reference)
            .arg("-c")
            .arg(conf)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn supervisorctl");
        let out = collect(child.stdout.take().expect("stdout"));
        let err = collect(child.stderr.take().expect("stderr"));
        Live { child, out, err }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().expect("lock")).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().expect("lock")).into_owned()
    }

    /// Waits until stdout contains `needle`.
    pub fn wait_stdout(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.stdout().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; stdout: {:?} stderr: {:?}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Writes to its stdin.
    pub fn send(&mut self, text: &str) {
        use std::io::Write;
        let input = self.child.stdin.as_mut().expect("stdin open");
        input.write_all(text.as_bytes()).expect("write stdin");
        input.flush().expect("flush stdin");
    }

    /// Closes its stdin (end of input).
    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        common::kill(self.child.id(), "INT");
    }

    /// Waits for it to exit (killing it after 20s): (exit code, stdout, stderr).
    pub fn finish(mut self) -> (Option<i32>, String, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                break st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "supervisorctl did not exit; stdout: {:?} stderr: {:?}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader threads drain the pipes.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&self.out) > 1 || Arc::strong_count(&self.err) > 1 {
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (status.code(), self.stdout(), self.stderr())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
