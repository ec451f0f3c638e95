//! supervisorctl's interactive shell: commands read from a pipe (compared
//! with the reference's, whose prompts we do not print), and the line
//! editor on a pseudo-terminal driven through Python's `pty` module: the
//! prompt, editing keys, history recall with the up arrow, the history
//! file, tab completion, and leaving with quit, Ctrl-D or Ctrl-C.

mod common;
mod ctl_support;

use std::process::Command;

use ctl_support::{both_with_stdin, start_programs, Daemon, Run};

/// Runs both supervisorctls on `sv`'s config with `stdin`; the reference's
/// prompts are dropped from its output (ours prints none on a pipe).
fn piped(sv: &common::Supervisord, args: &[&str], stdin: &str) -> (Run, Run) {
    let conf = sv.conf.display().to_string();
    let mut all = vec!["-c", conf.as_str()];
    all.extend_from_slice(args);
    let (ours, mut theirs) = both_with_stdin(&all, stdin.as_bytes());
    theirs.stdout = theirs.stdout.replace("supervisor> ", "");
    (ours, theirs)
}

fn piped_shell_matches(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-pipe");
    for (args, stdin) in [
        (&[][..], "status cat\nfoo\n\nversion\n  help   help  \n"),
        (&[], ""),
        (&[], "version\nexit\nversion\n"),
        (&[], "quit"),
        (&[], "tail -2 grp:b stderr\nEOF\nversion\n"),
        (&[], "shutdown\nn\nstatus cat\n"),
        (&[], "reload\nno\n"),
        (&["-i"], "version\n"),
        (&["-i", "version"], "status\n"),
    ] {
        let (ours, theirs) = piped(&sv, args, stdin);
        assert_eq!(ours, theirs, "shell {args:?} with input {stdin:?} differs");
        assert_eq!(ours.code, Some(0));
    }
    // An action runs once even with -i; its arguments include "-i" here.
    let (ours, theirs) = piped(&sv, &["version", "-i"], "status\n");
    assert_eq!(ours, theirs);
    assert_eq!(ours.code, Some(1));
    // No prompt noise on a pipe, and the daemon was not shut down.
    let (ours, _) = piped(&sv, &[], "version\n");
    assert!(ours.stdout.ends_with("\n4.2.5\n\n"), "{:?}", ours.stdout);
    assert!(!ours.stdout.contains("supervisor>"));
    assert_eq!(sv.state("cat"), "RUNNING");
}

#[test]
fn piped_shell_matches_with_reference_daemon() {
    piped_shell_matches(Daemon::Reference);
}

#[test]
fn piped_shell_matches_with_our_daemon() {
    piped_shell_matches(Daemon::Ours);
}

/// Drives a program on a pseudo-terminal: argv[1] is a JSON list of
/// [keys, expected] steps, the rest is the command line. Each step writes
/// the keys, then waits (10s at most) for the expected text to appear after
/// what the previous step matched (a lone Ctrl-C is repeated each second
/// meanwhile, see below); `file:PATH` waits for PATH to exist. Prints the transcript (repr) and exits
/// with the program's exit status, or 99 if a step timed out.
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, time
steps = json.loads(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.environ['TERM'] = 'xterm'
    os.execv(argv[0], argv)
out = b''
mark = 0
def pump(timeout):
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        out += data
    return True
failed = None
for keys, expect in steps:
    if keys:
        os.write(fd, keys.encode())
    end = time.time() + 10
    resend = time.time() + 1
    if expect.startswith('file:'):
        # Wait for a file some program makes (then remove it).
        path = expect[5:]
        while not os.path.exists(path) and time.time() < end:
            pump(0.05)
        if not os.path.exists(path):
            failed = expect
            break
        os.unlink(path)
        continue
    expect = expect.encode()
    while out.find(expect, mark) < 0 and time.time() < end:
        if not pump(0.1):
            break
        # Python's readline loses a SIGINT that lands between its signal
        # check and its select(); a second Ctrl-C is seen (a user presses
        # it again too). Ours reads Ctrl-C as a byte and has left by then.
        if keys == '\x03' and time.time() > resend:
            resend = time.time() + 1
            try:
                os.write(fd, keys.encode())
            except OSError:
                pass
    i = out.find(expect, mark)
    if i < 0:
        failed = expect
        break
    mark = i + len(expect)
if failed is not None:
    os.kill(pid, 9)
end = time.time() + 10
while time.time() < end and pump(0.2):
    pass
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done or time.time() > end:
        break
    time.sleep(0.05)
if not done:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print(repr(out))
    print('STILL RUNNING')
    sys.exit(97)
print(repr(out))
if failed is not None:
    print('MISSING', repr(failed))
    sys.exit(99)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 98)
"#;

/// Runs the driver on `ctl` with `steps`; returns (exit status, transcript).
fn drive(ctl: &std::path::Path, args: &[&str], steps: &[(&str, &str)]) -> (Option<i32>, String) {
    let json = format!(
        "[{}]",
        steps
            .iter()
            .map(|(k, e)| format!("[{}, {}]", common::json_literal(k), common::json_literal(e)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let out = Command::new(common::python())
        .arg("-c")
        .arg(PTY_DRIVER)
        .arg(json)
        .arg(ctl)
        .args(args)
        .output()
        .expect("run the pty driver");
    (out.status.code(), common::stdout(&out))
}

fn ctl_exe(reference: bool) -> std::path::PathBuf {
    if reference {
        common::venv().join("bin/supervisorctl")
    } else {
        common::bin("supervisorctl")
    }
}

const PROMPT: &str = "supervisor> ";

/// Completion, editing keys, history recall and the history file behave
/// the same in our shell and in the reference's (readline) shell.
#[test]
fn terminal_shell_edits_completes_and_keeps_history() {
    let sv = start_programs(Daemon::Reference, "ctl-pty");
    let steps: &[(&str, &str)] = &[
        ("", PROMPT),
        ("vers\t", "version"),
        ("\r", "4.2.5"),
        ("", PROMPT),
        ("\x1b[A", "version"),
        ("\r", "4.2.5"),
        ("", PROMPT),
        ("sion\x01ver\r", "4.2.5"),
        ("", PROMPT),
        ("foo\x15version bar\x17\x08\r", "4.2.5"),
        ("", PROMPT),
        ("xversion\x1b[D\x1b[C\x01\x1b[3~\x05\r", "4.2.5"),
        ("", PROMPT),
        ("status g\t", "rp:"),
        ("\t\t", "grp:b"),
        ("a\t\r", "RUNNING"),
        ("", PROMPT),
        ("\x15quit\r", "\n"),
    ];
    let mut histories = Vec::new();
    for reference in [false, true] {
        // history_file in the config: the reference ignores `-r`.
        let hist = sv.dir.join(&format!("history-{reference}"));
        let conf = sv.dir.write(
            &format!("ctl-{reference}.conf"),
            &format!(
                "[supervisorctl]\nserverurl=unix://{}\nhistory_file={}\n",
                sv.sock.display(),
                hist.display()
            ),
        );
        let conf = conf.display().to_string();
        let (code, transcript) = drive(&ctl_exe(reference), &["-c", &conf], steps);
        assert_eq!(code, Some(0), "reference={reference}: {transcript}");
        assert_eq!(transcript.matches("4.2.5").count(), 5, "{transcript}");
        assert!(
            transcript.contains("grp:a                            RUNNING"),
            "{transcript}"
        );
        assert!(!transcript.contains("Unknown syntax"), "{transcript}");
        let saved = std::fs::read_to_string(&hist);
        histories.push(saved.unwrap_or_else(|e| panic!("reference={reference}: no history: {e}")));
    }
    assert_eq!(histories[0], histories[1]);
    // Consecutive duplicates are kept once, as readline does.
    assert_eq!(histories[0], "version \nversion\nstatus grp:a \nquit\n");
}

/// A saved history is recalled in the next session.
#[test]
fn terminal_shell_recalls_the_history_file() {
    let sv = start_programs(Daemon::Reference, "ctl-pty-hist");
    let hist = sv.dir.write("history", "status cat\nversion\n");
    let conf = sv.conf.display().to_string();
    let hist_arg = hist.display().to_string();
    let steps: &[(&str, &str)] = &[
        ("", PROMPT),
        ("\x1b[A\x1b[A\r", "cat                              RUNNING"),
        ("", PROMPT),
        ("\x04", "\n"),
    ];
    let (code, transcript) = drive(&ctl_exe(false), &["-c", &conf, "-r", &hist_arg], steps);
    assert_eq!(code, Some(0), "{transcript}");
    let saved = std::fs::read_to_string(&hist).expect("history");
    assert_eq!(saved, "status cat\nversion\nstatus cat\n");
}

/// Ctrl-C while a command waits (here for a start that would take 30 s)
/// leaves the shell at once with status 0, as the reference does; the
/// history is still saved.
#[test]
fn terminal_shell_leaves_on_ctrl_c_during_a_command() {
    let extra = format!(
        "{}\n[program:slow]\ncommand=sh -c 'touch {{dir}}/slow.started; exec sleep 1000'\n\
         autostart=false\nstartsecs=30\n",
        ctl_support::PROGRAMS
    );
    let sv = ctl_support::start(Daemon::Reference, "ctl-pty-int", &extra);
    ctl_support::wait_settled(&sv);
    for reference in [false, true] {
        let hist = sv.dir.join(&format!("history-int-{reference}"));
        let conf = sv.dir.write(
            &format!("ctl-int-{reference}.conf"),
            &format!(
                "[supervisorctl]\nserverurl=unix://{}\nhistory_file={}\n",
                sv.sock.display(),
                hist.display()
            ),
        );
        let conf = conf.display().to_string();
        // The terminal echoes ^C: the command was running in cooked mode.
        let marker = format!("file:{}", sv.dir.join("slow.started").display());
        let steps: &[(&str, &str)] = &[("", PROMPT), ("start slow\r", &marker), ("\x03", "^C")];
        let started = std::time::Instant::now();
        let (code, transcript) = drive(&ctl_exe(reference), &["-c", &conf], steps);
        assert_eq!(code, Some(0), "reference={reference}: {transcript}");
        assert!(!transcript.contains("slow: started"), "{transcript}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(25),
            "reference={reference}: waited for the start"
        );
        let saved = std::fs::read_to_string(&hist).unwrap_or_default();
        assert_eq!(saved, "start slow\n", "reference={reference}");
        // Stop the start for the next round.
        sv.call("supervisor.stopProcess", vec![common::s("slow")]);
    }
}

/// Ctrl-D and Ctrl-C at the prompt leave the shell with status 0.
#[test]
fn terminal_shell_leaves_on_ctrl_d_and_ctrl_c() {
    let sv = start_programs(Daemon::Reference, "ctl-pty-exit");
    let conf = sv.conf.display().to_string();
    for key in ["\x04", "\x03"] {
        for reference in [false, true] {
            let steps: &[(&str, &str)] = &[("", PROMPT), (key, "\n")];
            let (code, transcript) = drive(&ctl_exe(reference), &["-c", &conf], steps);
            assert_eq!(
                code,
                Some(0),
                "key {key:?} reference={reference}: {transcript}"
            );
        }
    }
}
