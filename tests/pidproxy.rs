//! pidproxy end to end: usage errors, signal relay through the pidfile,
//! exit when the child exits, the unreadable-pidfile message, and the
//! reference's own end-to-end case.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{bin, kill, pid_alive, wait_for, wait_until, TempDir};

/// A child that writes its pid to `$1`, logs every trapped signal to `$2`,
/// and runs until killed (or until `$3` exists, when given).
const CHILD: &str = r#"#!/bin/sh
for s in HUP INT QUIT USR1 USR2 TERM; do trap "echo $s >> '$2'" $s; done
echo $$ > "$1"
echo ready >> "$2"
while [ -z "$3" ] || [ ! -e "$3" ]; do sleep 0.05; done
echo done >> "$2"
"#;

/// A running pidproxy over `CHILD`, its stdout going to a file (the child
/// inherits it, so a pipe would only close when the child exits).
struct Proxy {
    dir: TempDir,
    proc: Option<Child>,
    pidfile: PathBuf,
    events: PathBuf,
    out: PathBuf,
}

impl Proxy {
    /// Starts the proxy; `pidfile` is where the proxy reads the pid (the
    /// child always writes `child.pid`), `stop` an optional stop-file name.
    fn start(tag: &str, pidfile: &str, stop: Option<&str>) -> Proxy {
        let dir = TempDir::new(tag);
        let script = dir.script("child.sh", CHILD);
        let events = dir.join("events");
        let out = dir.join("out");
        let stdout = fs::File::create(&out).expect("create out");
        let mut cmd = Command::new(bin("pidproxy"));
        cmd.arg(dir.join(pidfile))
            .arg(&script)
            .arg(dir.join("child.pid"))
            .arg(&events);
        if let Some(stop) = stop {
            cmd.arg(dir.join(stop));
        }
        let proc = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .spawn()
            .expect("spawn pidproxy");
        let p = Proxy {
            pidfile: dir.join(pidfile),
            dir,
            proc: Some(proc),
            events,
            out,
        };
        p.wait_event("ready");
        p
    }

    fn pid(&self) -> u32 {
        self.proc.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    fn child_pid(&self) -> u32 {
        wait_for(10, "child pidfile", || {
            fs::read_to_string(self.dir.join("child.pid"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
        })
    }

    fn events(&self) -> String {
        fs::read_to_string(&self.events).unwrap_or_default()
    }

    fn wait_event(&self, what: &str) {
        wait_until(10, &format!("child event {what}"), || {
            self.events().lines().any(|l| l == what)
        });
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits for the proxy to exit; its exit code.
    fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        let mut child = self.proc.take().expect("proxy already reaped");
        let st = wait_for(secs, "pidproxy to exit", || child.try_wait().ok().flatten());
        st.code()
    }

    fn running(&mut self) -> bool {
        matches!(self.proc.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(text) = fs::read_to_string(self.dir.join("child.pid")) {
            if let Ok(pid) = text.trim().parse::<u32>() {
                kill(pid, "KILL");
            }
        }
        if let Some(mut c) = self.proc.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn no_arguments_prints_usage_and_exits_1() {
    for args in [&[][..], &["only-a-pidfile"][..]] {
        let out = Command::new(bin("pidproxy"))
            .args(args)
            .output()
            .expect("run pidproxy");
        let text = common::stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text.starts_with("pidproxy -- run command and proxy signals to it via its pidfile.\n"),
            "{text}"
        );
        let usage = format!(
            "Usage: {} <pidfile name> <command> [<cmdarg1> ...]\n\n",
            bin("pidproxy").display()
        );
        assert!(text.ends_with(&usage), "{text}");
    }
}

#[test]
fn runs_the_command_and_exits_at_eof() {
    // The reference's end-to-end case.
    let dir = TempDir::new("ppecho");
    let out = Command::new(bin("pidproxy"))
        .args(["nonexistent-pidfile", "/bin/echo", "1", "2"])
        .current_dir(&dir.path)
        .output()
        .expect("run pidproxy");
    assert_eq!(common::stdout(&out), "1 2\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn command_is_resolved_against_the_cwd_not_path() {
    let dir = TempDir::new("ppcwd");
    dir.script("echo", "#!/bin/sh\necho \"local $*\"\n");
    let out = Command::new(bin("pidproxy"))
        .args(["pf", "echo", "a"])
        .current_dir(&dir.path)
        .output()
        .expect("run pidproxy");
    assert_eq!(common::stdout(&out), "local a\n");
    assert_eq!(out.status.code(), Some(0));

    let out = Command::new(bin("pidproxy"))
        .args(["pf", "missing-command"])
        .current_dir(&dir.path)
        .output()
        .expect("run pidproxy");
    assert_eq!(out.status.code(), Some(127));
    let err = common::stderr(&out);
    assert!(
        err.contains(&format!("{}/missing-command", dir.path.display())),
        "{err}"
    );
}

#[test]
fn relays_hup_usr1_usr2_then_exits_after_term() {
    let mut p = Proxy::start("pprelay", "child.pid", None);
    for (sig, name) in [("HUP", "HUP"), ("USR1", "USR1"), ("USR2", "USR2")] {
        kill(p.pid(), sig);
        p.wait_event(name);
        assert!(p.running(), "pidproxy exited after SIG{sig}");
    }
    kill(p.pid(), "TERM");
    p.wait_event("TERM");
    assert_eq!(p.wait_exit(10), Some(0));
    // The child trapped TERM and is still there: the proxy does not wait.
    assert!(pid_alive(p.child_pid()));
}

#[test]
fn exits_after_relaying_int_or_quit() {
    for sig in ["INT", "QUIT"] {
        let mut p = Proxy::start("ppexit", "child.pid", None);
        kill(p.pid(), sig);
        p.wait_event(sig);
        assert_eq!(p.wait_exit(10), Some(0), "after SIG{sig}");
    }
}

#[test]
fn exits_when_the_child_exits() {
    let mut p = Proxy::start("ppchild", "child.pid", Some("stop"));
    assert!(p.running());
    fs::write(p.dir.join("stop"), "").expect("write stop file");
    p.wait_event("done");
    // Well under the reference's 5-second polling period.
    assert_eq!(p.wait_exit(4), Some(0));
}

#[test]
fn unreadable_pidfile_is_reported_and_the_proxy_keeps_running() {
    let mut p = Proxy::start("ppmissing", "no-such.pid", Some("stop"));
    let msg = format!("Can't read child pidfile {}!\n", p.pidfile.display());
    kill(p.pid(), "HUP");
    wait_until(10, "first message", || p.output() == msg);
    // Even TERM does not end the proxy when it could not be relayed.
    kill(p.pid(), "TERM");
    wait_until(10, "second message", || p.output() == msg.repeat(2));
    assert!(p.running());
    assert!(!p.events().contains("HUP") && !p.events().contains("TERM"));
    fs::write(p.dir.join("stop"), "").expect("write stop file");
    assert_eq!(p.wait_exit(10), Some(0));
}
