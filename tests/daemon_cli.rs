//! The daemon as a program: command line, config errors, config search,
//! daemonizing, pidfile, signals (shutdown, reload, log reopen), a second
//! instance refused, rlimits.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run(args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    Command::new(bin("supervisord"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run supervisord")
}

#[test]
fn version_help_and_usage_errors() {
    let dir = TempDir::new("cli");
    let out = run(&["-v"], &dir.path);
    assert_eq!(stdout(&out), "4.2.5\n");
    assert_eq!(out.status.code(), Some(0));
    for flag in ["-h", "--help", "-?"] {
        let out = run(&[flag], &dir.path);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        assert!(text.starts_with("supervisord -- run a set of applications as daemons."));
        assert!(
            text.contains("-l/--logfile FILENAME -- use FILENAME as"),
            "{text}"
        );
    }
    let out = run(&["--bogus"], &dir.path);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("Error: option --bogus not recognized\nFor help, use "),
        "{err}"
    );
    assert!(err.ends_with(" -h\n"));
    let out = run(&["-c", "/nonexistent.conf"], &dir.path);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("Error: could not find config file /nonexistent.conf"));
}

/// Each bad config exits 2 with one `Error:` line naming file, section and
/// key, never a panic.
#[test]
fn bad_configs_name_file_section_and_key() {
    let dir = TempDir::new("badconf");
    let cases: &[(&str, &[&str])] = &[
        (
            "[supervisord]\n[program:x]\ncommand=cat\nstopsignal=FOO\n",
            &[
                "value 'FOO' is not a valid signal name",
                "program:x",
                "stopsignal",
            ],
        ),
        (
            "[supervisord]\n[program:x]\ncommand=cat\nstdout_logfile_maxbytes=12XB\n",
            &["program:x", "stdout_logfile_maxbytes"],
        ),
        (
            "[supervisord]\n[program:x]\nautostart=true\n",
            &["program section program:x does not specify a command"],
        ),
        (
            "[supervisord]\nloglevel=shouty\n",
            &["bad logging level name 'shouty'", "supervisord", "loglevel"],
        ),
        (
            "[supervisord]\n[program:x]\ncommand=cat\nautostart=maybe\n",
            &[
                "not a valid boolean value: 'maybe'",
                "program:x",
                "autostart",
            ],
        ),
        (
            "[supervisord]\n[program:x]\ncommand=cat\nnumprocs=2\n",
            &["%(process_num) must be present within process_name when numprocs > 1"],
        ),
        (
            "[supervisord]\n[program:x]\ncommand=cat %(nope)s\n",
            &[
                "contains names ('nope') which cannot be expanded",
                "program:x",
            ],
        ),
        (
            "[program:x]\ncommand=cat\n",
            &[".ini file does not include supervisord section"],
        ),
        ("just text\n", &["File contains no section headers."]),
        (
            "[supervisord]\n[eventlistener:l]\ncommand=cat\nevents=NOT_AN_EVENT\n",
            &["Unknown event type NOT_AN_EVENT"],
        ),
    ];
    for (i, (text, wants)) in cases.iter().enumerate() {
        let conf = dir.write(&format!("bad{i}.conf"), text);
        let out = run(&["-c", conf.to_str().unwrap()], &dir.path);
        assert_eq!(out.status.code(), Some(2), "case {i}: {}", stderr(&out));
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or("");
        assert!(first.starts_with("Error: "), "case {i}: {err}");
        for w in *wants {
            assert!(first.contains(w), "case {i}: {w:?} not in {first:?}");
        }
        if first.contains("section") && !first.contains("supervisord section") {
            assert!(
                first.contains(&format!("bad{i}.conf")),
                "case {i}: file not named: {first}"
            );
        }
        assert_eq!(
            err.lines().count(),
            2,
            "case {i}: one error line + help line: {err}"
        );
    }
}

#[test]
fn include_files_and_missing_include_warning() {
    let dir = TempDir::new("include");
    dir.write("conf.d/a.conf", "[program:a]\ncommand=cat\nstartsecs=0\n");
    dir.write("conf.d/b.conf", "[program:b]\ncommand=cat\nstartsecs=0\n");
    let text = Supervisord::config(&dir, "[include]\nfiles = conf.d/*.conf\n  nothing/*.conf\n");
    let sv = Supervisord::start_with(dir, &text, &[]);
    sv.wait_state("a", "RUNNING", 10);
    sv.wait_state("b", "RUNNING", 10);
    let log = sv.log_text();
    assert!(log.contains("Included extra file \""), "{log}");
    assert!(log.contains("WARN No file matches via include \""), "{log}");
}

#[test]
fn config_found_in_current_directory() {
    let dir = TempDir::new("search");
    let text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\n");
    dir.write("supervisord.conf", &text);
    let child = Command::new(bin("supervisord"))
        .current_dir(&dir.path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut sv = Supervisord {
        conf: dir.join("supervisord.conf"),
        sock: dir.join("sv.sock"),
        log: dir.join("supervisord.log"),
        child: Some(child),
        dir,
    };
    sv.wait_for_socket();
    sv.wait_state("cat", "RUNNING", 10);
}

#[test]
fn daemonizes_writes_pidfile_and_shuts_down_on_term() {
    let dir = TempDir::new("daemonize");
    let text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\nstartsecs=0\n").replace(
        "nodaemon=true\n",
        &format!("nodaemon=false\ndirectory={}\n", dir.path.display()),
    );
    let conf = dir.write("supervisord.conf", &text);
    let t = Instant::now();
    let out = Command::new(bin("supervisord"))
        .arg("-c")
        .arg(&conf)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "the foreground parent exits 0");
    assert!(t.elapsed() < Duration::from_secs(5));
    let pidfile = dir.join("supervisord.pid");
    let pid: u32 = wait_for(10, "pidfile", || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    });
    let sv_guard = DaemonGuard(pid);
    assert!(pid_alive(pid));
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, dir.path, "chdir to `directory` when daemonizing");
    let sid_of = |p: u32| -> String {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap();
        stat.rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .nth(3)
            .unwrap()
            .to_string()
    };
    assert_eq!(sid_of(pid), pid.to_string(), "setsid: its own session");
    let log = dir.join("supervisord.log");
    wait_until(10, "child running", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("spawned: 'cat'")
    });
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("daemonizing the supervisord process"));
    let kids = descendants(pid);
    assert_eq!(kids.len(), 1);
    kill(pid, "TERM");
    wait_until(10, "daemon exit", || !pid_alive(pid));
    assert!(!pidfile.exists(), "pidfile removed at exit");
    assert!(!dir.join("sv.sock").exists(), "socket file removed at exit");
    assert!(kids.iter().all(|k| !pid_alive(*k)), "children stopped");
    drop(sv_guard);
}

/// Kills a daemonized supervisord left behind by a failing test.
struct DaemonGuard(u32);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if pid_alive(self.0) {
            let kids = descendants(self.0);
            kill(self.0, "KILL");
            for k in kids {
                kill(k, "KILL");
            }
        }
    }
}

#[test]
fn second_instance_refused_on_socket_and_pidfile() {
    let sv = Supervisord::start("second", "[program:cat]\ncommand=cat\n");
    let out = run(&["-c", sv.conf.to_str().unwrap()], &sv.dir.path);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("Error: Another "), "{err}");
    // Same pidfile, different socket: still refused.
    let other = sv.dir.write(
        "other.conf",
        &std::fs::read_to_string(&sv.conf)
            .unwrap()
            .replace("sv.sock", "other.sock"),
    );
    let out = run(&["-c", other.to_str().unwrap()], &sv.dir.path);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pidfile"), "{}", stderr(&out));
    assert!(!sv.dir.join("other.sock").exists());
    // The first one is unharmed.
    sv.wait_state("cat", "RUNNING", 10);
}

#[test]
fn stale_socket_is_replaced() {
    let dir = TempDir::new("stale");
    let sock = dir.join("sv.sock");
    {
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    }
    assert!(sock.exists());
    let text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\n");
    let sv = Supervisord::start_with(dir, &text, &[]);
    sv.wait_state("cat", "RUNNING", 10);
    let err = std::fs::read_to_string(sv.dir.join("stderr.txt")).unwrap();
    assert!(err.contains("Unlinking stale socket"), "{err}");
}

#[test]
fn socket_has_its_mode_from_the_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("chmod");
    let text = Supervisord::config(&dir, "")
        .replace("[unix_http_server]\n", "[unix_http_server]\nchmod=0760\n");
    let sv = Supervisord::start_with(dir, &text, &[]);
    let mode = std::fs::metadata(&sv.sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o760);
}

#[test]
fn sighup_reloads_the_config() {
    let mut sv = Supervisord::start("hup", "[program:first]\ncommand=cat\nstartsecs=0\n");
    sv.wait_state("first", "RUNNING", 10);
    let pid = sv.pid();
    let text = std::fs::read_to_string(&sv.conf)
        .unwrap()
        .replace("[program:first]", "[program:second]");
    std::fs::write(&sv.conf, text).unwrap();
    kill(pid, "HUP");
    sv.wait_log(10, "received SIGHUP indicating restart request");
    sv.wait_for_socket();
    wait_until(10, "reloaded", || {
        sv.rpc("supervisor.getProcessInfo", vec![s("second")])
            .is_ok()
    });
    sv.wait_state("second", "RUNNING", 10);
    assert!(sv
        .rpc("supervisor.getProcessInfo", vec![s("first")])
        .is_err());
    assert_eq!(sv.pid(), pid, "same process");
    assert_eq!(sv.stop_with("TERM", 20), Some(0));
}

#[test]
fn sighup_with_broken_config_keeps_running() {
    let mut sv = Supervisord::start("hupbad", "[program:cat]\ncommand=cat\nstartsecs=0\n");
    sv.wait_state("cat", "RUNNING", 10);
    let text = std::fs::read_to_string(&sv.conf).unwrap() + "\n[program:broken]\nstopsignal=NOPE\n";
    std::fs::write(&sv.conf, text).unwrap();
    kill(sv.pid(), "HUP");
    sv.wait_log(10, "could not reload the configuration");
    sv.wait_for_socket();
    sv.wait_state("cat", "RUNNING", 10);
    assert_eq!(sv.stop_with("TERM", 20), Some(0));
}

#[test]
fn shutdown_signals_exit_zero_after_stopping_children() {
    for sig in ["TERM", "INT", "QUIT"] {
        let mut sv = Supervisord::start("sigs", "[program:cat]\ncommand=cat\nstartsecs=0\n");
        sv.wait_state("cat", "RUNNING", 10);
        let child = sv.pid_of("cat");
        assert_eq!(sv.stop_with(sig, 20), Some(0));
        assert!(!pid_alive(child));
        let log = sv.log_text();
        assert!(
            log.contains(&format!("received SIG{sig} indicating exit request")),
            "{log}"
        );
        assert!(log.contains("stopped: cat (terminated by SIGTERM)"));
    }
}

#[test]
fn minfds_beyond_the_hard_limit_is_refused() {
    if supervisor::sys::getuid() == 0 {
        // Root may raise the hard limit; ask for more than the kernel allows.
        let dir = TempDir::new("minfds");
        let text = Supervisord::config(&dir, "")
            .replace("nodaemon=true\n", "nodaemon=true\nminfds=100000000\n");
        let conf = dir.write("supervisord.conf", &text);
        let out = run(&["-c", conf.to_str().unwrap()], &dir.path);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains(
                "The minimum number of file descriptors required to run this process is 100000000"
            ),
            "{err}"
        );
    }
}

#[test]
fn user_option_drops_privileges_before_opening_files() {
    if supervisor::sys::getuid() != 0 {
        return; // Only root can switch to another user.
    }
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = TempDir::new("daemonuser");
    std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\nstartsecs=0\n")
        .replace("nodaemon=true\n", "nodaemon=true\nuser=nobody\n");
    let sv = Supervisord::start_with(dir, &text, &[]);
    sv.wait_state("cat", "RUNNING", 10);
    let nobody = supervisor::sys::getpwnam("nobody").unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", sv.pid())).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid_line
            .split_whitespace()
            .skip(1)
            .all(|u| u == nobody.uid.to_string()),
        "{uid_line}"
    );
    // Files were created as that user.
    assert_eq!(std::fs::metadata(&sv.log).unwrap().uid(), nobody.uid);
    assert_eq!(std::fs::metadata(&sv.sock).unwrap().uid(), nobody.uid);
    assert!(
        sv.log_text().contains("Set uid to user 65534 succeeded"),
        "{}",
        sv.log_text()
    );
}
