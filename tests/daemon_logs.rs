//! Logs end to end: child output to files, redirect_stderr, AUTO logs and
//! their cleanup, rotation without losing or reordering a byte, strip_ansi,
//! syslog, the activity log's stdout mirror, its rotation and its lines.

mod common;

use common::*;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

fn read(sv: &Supervisord, method: &str, name: &str) -> String {
    match sv.call(method, vec![s(name), Value::Int(0), Value::Int(0)]) {
        Value::String(t) => t,
        other => panic!("{other:?}"),
    }
}

#[test]
fn stdout_stderr_files_and_redirect() {
    let sv = Supervisord::start(
        "chanlogs",
        "[program:both]\ncommand=sh -c 'echo out; echo err >&2; sleep 1000'\n\
         stdout_logfile={dir}/both.out\nstderr_logfile={dir}/both.err\nstartsecs=0\n\n\
         [program:merged]\ncommand=sh -c 'echo out; echo err >&2; sleep 1000'\n\
         stdout_logfile={dir}/merged.out\nredirect_stderr=true\nstartsecs=0\n\n\
         [program:quiet]\ncommand=sh -c 'echo out; sleep 1000'\nstdout_logfile=NONE\nstartsecs=0\n",
    );
    let both_out = sv.dir.join("both.out");
    wait_until(10, "both logs", || {
        std::fs::read_to_string(&both_out).unwrap_or_default() == "out\n"
            && std::fs::read_to_string(sv.dir.join("both.err")).unwrap_or_default() == "err\n"
    });
    wait_until(10, "merged log", || {
        let t = std::fs::read_to_string(sv.dir.join("merged.out")).unwrap_or_default();
        t.contains("out\n") && t.contains("err\n")
    });
    assert_eq!(sv.info("merged", "stderr_logfile"), s(""));
    assert_eq!(sv.info("quiet", "stdout_logfile"), s(""));
    let f = sv
        .rpc(
            "supervisor.readProcessStdoutLog",
            vec![s("quiet"), Value::Int(0), Value::Int(0)],
        )
        .unwrap_err();
    assert_eq!(f.code, 20, "NO_FILE: {f:?}");
    // Child output is copied to the activity log at DEBUG.
    sv.wait_log(5, "'both' stdout output:\nout\n");
}

#[test]
fn auto_logs_are_named_and_cleaned_at_start() {
    let dir = TempDir::new("autolog");
    let stale = dir.write("old-stdout---supervisor-abcd1234.log", "old");
    let stale_rotated = dir.write("old-stdout---supervisor-abcd1234.log.3", "old");
    let foreign = dir.write("keep-stdout---other-abcd1234.log", "keep");
    let text = Supervisord::config(
        &dir,
        "[program:auto]\ncommand=sh -c 'echo hi; sleep 1000'\nstartsecs=0\n",
    );
    let sv = Supervisord::start_with(dir, &text, &[]);
    assert!(
        !stale.exists() && !stale_rotated.exists(),
        "old AUTO logs removed"
    );
    assert!(foreign.exists(), "other identifiers' logs kept");
    let Value::String(path) = sv.info("auto", "stdout_logfile") else {
        panic!()
    };
    let name = std::path::Path::new(&path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("auto-stdout---supervisor-") && name.ends_with(".log"),
        "{name}"
    );
    assert!(path.starts_with(sv.dir.path.to_str().unwrap()));
    wait_until(10, "auto log written", || {
        read(&sv, "supervisor.readProcessStdoutLog", "auto") == "hi\n"
    });
}

#[test]
fn nocleanup_keeps_old_auto_logs() {
    let dir = TempDir::new("nocleanup");
    let stale = dir.write("old-stdout---supervisor-abcd1234.log", "old");
    let mut text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\n");
    text = text.replace("nodaemon=true\n", "nodaemon=true\nnocleanup=true\n");
    let _sv = Supervisord::start_with(dir, &text, &[]);
    assert!(stale.exists());
}

#[test]
fn rotation_keeps_every_byte_in_order() {
    // 200 lines of 100 bytes: 20000 bytes across 1 KiB files and backups.
    let sv = Supervisord::start(
        "rotation",
        "[program:writer]\ncommand=sh -c 'i=0; while [ $i -lt 200 ]; do printf \"%%099d\\n\" $i; i=$((i+1)); done; sleep 1000'\n\
         stdout_logfile={dir}/w.log\nstdout_logfile_maxbytes=1KB\nstdout_logfile_backups=100\nstartsecs=0\n",
    );
    let want: String = (0..200).map(|i| format!("{:099}\n", i)).collect();
    let collect = || {
        let mut all = String::new();
        for i in (1..=100).rev() {
            if let Ok(t) = std::fs::read_to_string(sv.dir.join(&format!("w.log.{i}"))) {
                all.push_str(&t);
            }
        }
        all.push_str(&std::fs::read_to_string(sv.dir.join("w.log")).unwrap_or_default());
        all
    };
    wait_until(10, "all output written", || collect().len() >= want.len());
    assert_eq!(collect(), want);
    assert!(sv.dir.join("w.log.1").exists());
    for i in 1..=100 {
        if let Ok(m) = std::fs::metadata(sv.dir.join(&format!("w.log.{i}"))) {
            assert!(m.len() >= 1024, "a rotated file holds at least maxbytes");
        }
    }
}

#[test]
fn backups_limit_and_zero_backups() {
    // Six writes of 1100 bytes, spaced so that each is its own read: the
    // reference rotates after a write that crosses maxbytes, never inside one.
    let writer = "sh -c 'i=0; while [ $i -lt 6 ]; do printf \"%%01099d\\n\" $i; sleep 0.1; i=$((i+1)); done; sleep 1000'";
    let sv = Supervisord::start(
        "backups",
        &format!(
            "[program:few]\ncommand={writer}\nstdout_logfile={{dir}}/few.log\n\
             stdout_logfile_maxbytes=1KB\nstdout_logfile_backups=2\nstartsecs=0\n\n\
             [program:none]\ncommand={writer}\nstdout_logfile={{dir}}/none.log\n\
             stdout_logfile_maxbytes=1KB\nstdout_logfile_backups=0\nstartsecs=0\n"
        ),
    );
    let last_line = format!("{:01099}\n", 5);
    wait_until(10, "last write rotated", || {
        std::fs::read_to_string(sv.dir.join("few.log.1")).unwrap_or_default() == last_line
    });
    assert_eq!(
        std::fs::read_to_string(sv.dir.join("few.log.2")).unwrap(),
        format!("{:01099}\n", 4)
    );
    assert!(!sv.dir.join("few.log.3").exists());
    assert_eq!(std::fs::read_to_string(sv.dir.join("few.log")).unwrap(), "");
    wait_until(5, "none truncated", || {
        sv.log_text().matches("'none' stdout output").count() == 6
    });
    assert!(!sv.dir.join("none.log.1").exists());
    assert_eq!(
        std::fs::read_to_string(sv.dir.join("none.log")).unwrap(),
        ""
    );
}

#[test]
fn strip_ansi_removes_escapes() {
    let dir = TempDir::new("ansi");
    let text = Supervisord::config(
        &dir,
        "[program:color]\ncommand=sh -c 'printf \"\\033[31mred\\033[0m plain\\n\"; sleep 1000'\n\
         stdout_logfile={dir}/color.log\nstartsecs=0\n",
    )
    .replace("nodaemon=true\n", "nodaemon=true\nstrip_ansi=true\n");
    let sv = Supervisord::start_with(dir, &text, &[]);
    wait_until(10, "colour stripped", || {
        std::fs::read_to_string(sv.dir.join("color.log")).unwrap_or_default() == "red plain\n"
    });
}

#[test]
fn syslog_for_children_and_activity_log() {
    let dir = TempDir::new("syslog");
    let sock_path = dir.join("syslog.sock");
    let receiver = UnixDatagram::bind(&sock_path).expect("bind syslog socket");
    receiver
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let text = Supervisord::config(
        &dir,
        "[program:talk]\ncommand=sh -c 'echo line one; echo line two; sleep 1000'\nstdout_syslog=true\nstartsecs=0\n",
    )
    .replace(&format!("logfile={}/supervisord.log", dir.path.display()), "logfile=syslog");
    let sock = sock_path.to_str().unwrap().to_string();
    let _sv = Supervisord::start_env(
        &bin("supervisord"),
        dir,
        &text,
        &[],
        &[("SUPERVISOR_SYSLOG_SOCKET", sock.as_str())],
    );
    let mut got = Vec::new();
    wait_until(10, "syslog messages", || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = receiver.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got.iter().any(|m| m.ends_with("talk line two"))
            && got.iter().any(|m| m.contains("spawned: 'talk'"))
    });
    let one = got.iter().find(|m| m.ends_with("talk line one")).unwrap();
    assert!(
        one.starts_with("<14>"),
        "facility user, priority info: {one}"
    );
    assert!(one.contains(" supervisord["), "{one}");
    // The activity log goes to syslog with its usual line format.
    assert!(got
        .iter()
        .any(|m| m.contains(" INFO spawned: 'talk' with pid ")));
}

#[test]
fn foreground_mirrors_activity_log_to_stdout_unless_silent() {
    for silent in [false, true] {
        let dir = TempDir::new("mirror");
        let mut text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\nstartsecs=0\n");
        if silent {
            text = text.replace("nodaemon=true\n", "nodaemon=true\nsilent=true\n");
        }
        let conf = dir.write("supervisord.conf", &text);
        let child = std::process::Command::new(bin("supervisord"))
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let log = dir.join("supervisord.log");
        wait_until(10, "started", || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("success: cat")
        });
        kill(child.id(), "TERM");
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if silent {
            assert!(text.is_empty(), "{text}");
        } else {
            assert!(text.contains("INFO spawned: 'cat' with pid "), "{text}");
            assert!(text.contains("WARN received SIGTERM indicating exit request"));
        }
    }
}

#[test]
fn activity_log_rotates() {
    let dir = TempDir::new("mainrot");
    let text = Supervisord::config(
        &dir,
        "[program:chatty]\ncommand=sh -c 'i=0; while [ $i -lt 150 ]; do echo line $i; sleep 0.01; i=$((i+1)); done; sleep 1000'\nstartsecs=0\n",
    )
    .replace("nodaemon=true\n", "nodaemon=true\nlogfile_maxbytes=2KB\nlogfile_backups=2\n");
    let sv = Supervisord::start_with(dir, &text, &[]);
    wait_until(10, "main log rotated", || {
        sv.dir.join("supervisord.log.2").exists()
    });
    assert!(!sv.dir.join("supervisord.log.3").exists());
}

#[test]
fn undecodable_output_in_activity_log() {
    let sv = Supervisord::start(
        "undecodable",
        "[program:bin]\ncommand=sh -c 'printf \"\\210\\n\"; sleep 1000'\nstartsecs=0\n",
    );
    sv.wait_log(10, "'bin' stdout output:\nUndecodable: b'\\x88\\n'");
}

#[test]
fn reopen_and_clear_logs() {
    let sv = Supervisord::start(
        "clearlogs",
        "[program:echoer]\ncommand=cat\nstdout_logfile={dir}/echoer.log\nstartsecs=0\n",
    );
    sv.wait_state("echoer", "RUNNING", 10);
    sv.call(
        "supervisor.sendProcessStdin",
        vec![s("echoer"), s("first\n")],
    );
    let logf = sv.dir.join("echoer.log");
    wait_until(5, "first", || {
        std::fs::read_to_string(&logf).unwrap_or_default() == "first\n"
    });
    // Moved away, then USR2: new output goes to a new file.
    std::fs::rename(&logf, sv.dir.join("echoer.log.moved")).unwrap();
    kill(sv.pid(), "USR2");
    sv.wait_log(5, "received SIGUSR2 indicating log reopen request");
    sv.call(
        "supervisor.sendProcessStdin",
        vec![s("echoer"), s("second\n")],
    );
    wait_until(5, "second", || {
        std::fs::read_to_string(&logf).unwrap_or_default() == "second\n"
    });
    assert_eq!(
        sv.call("supervisor.clearProcessLogs", vec![s("echoer")]),
        Value::Bool(true)
    );
    assert_eq!(std::fs::read_to_string(&logf).unwrap(), "");
    sv.call(
        "supervisor.sendProcessStdin",
        vec![s("echoer"), s("third\n")],
    );
    wait_until(5, "third", || {
        std::fs::read_to_string(&logf).unwrap_or_default() == "third\n"
    });
}
