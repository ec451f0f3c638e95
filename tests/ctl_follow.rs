//! supervisorctl's streaming commands, ours and the reference's side by
//! side: `tail -f` (both channels, new output as it arrives, Ctrl-C, an
//! unknown name, authentication), `maintail -f`, and `fg` (typed lines go
//! to the process, its output comes back, end of input or Ctrl-C leaves).

mod common;
mod ctl_support;

use common::{s, Supervisord, TempDir};
use ctl_support::{start_programs, start_text, Daemon, Live};

const HEADER: &str = "==> Press Ctrl-C to exit <==\n";

/// Both supervisorctls: false is ours, true the reference's.
const BOTH: [bool; 2] = [false, true];

fn send_stdin(sv: &Supervisord, name: &str, text: &str) {
    sv.call("supervisor.sendProcessStdin", vec![s(name), s(text)]);
}

fn tail_f_streams_until_ctrl_c(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-tailf");
    for reference in BOTH {
        for (channel, line) in [("stdout", "out\n"), ("stderr", "err\n")] {
            let live = Live::spawn(reference, &sv.conf, &["tail", "-f", "grp:b", channel]);
            live.wait_stdout(line);
            live.interrupt();
            let (code, out, err) = live.finish();
            assert_eq!(code, Some(0), "reference={reference}");
            assert_eq!(out, format!("{HEADER}{line}\n"), "reference={reference}");
            assert_eq!(err, "", "reference={reference}");
        }
        // New output arrives while following.
        let live = Live::spawn(reference, &sv.conf, &["tail", "-f", "cat"]);
        live.wait_stdout(HEADER);
        let marker = format!("live line {reference}\n");
        send_stdin(&sv, "cat", &marker);
        live.wait_stdout(&marker);
        live.interrupt();
        let (code, out, _) = live.finish();
        assert_eq!(code, Some(0));
        assert!(out.ends_with(&format!("{marker}\n")), "{out:?}");
    }
}

#[test]
fn tail_f_streams_until_ctrl_c_with_reference_daemon() {
    tail_f_streams_until_ctrl_c(Daemon::Reference);
}

#[test]
fn tail_f_streams_until_ctrl_c_with_our_daemon() {
    tail_f_streams_until_ctrl_c(Daemon::Ours);
}

fn tail_f_of_an_unknown_name_ends_at_once(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-tailf-404");
    for reference in BOTH {
        let live = Live::spawn(reference, &sv.conf, &["tail", "-f", "nope"]);
        let (code, out, err) = live.finish();
        assert_eq!(code, Some(0));
        assert_eq!(out, HEADER);
        assert_eq!(
            err,
            format!(
                "unix://{}/logtail/nope/stdout Cannot read, status code 404\n",
                sv.sock.display()
            )
        );
    }
}

#[test]
fn tail_f_of_an_unknown_name_ends_at_once_with_reference_daemon() {
    tail_f_of_an_unknown_name_ends_at_once(Daemon::Reference);
}

#[test]
fn tail_f_of_an_unknown_name_ends_at_once_with_our_daemon() {
    tail_f_of_an_unknown_name_ends_at_once(Daemon::Ours);
}

fn maintail_f_follows_the_main_log(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-maintailf");
    for reference in BOTH {
        let live = Live::spawn(reference, &sv.conf, &["maintail", "-f"]);
        live.wait_stdout("INFO");
        sv.call("supervisor.startProcess", vec![s("sleeper")]);
        live.wait_stdout("spawned: 'sleeper'");
        sv.call("supervisor.stopProcess", vec![s("sleeper")]);
        live.interrupt();
        let (code, out, err) = live.finish();
        assert_eq!(code, Some(0));
        assert!(out.starts_with(HEADER), "{out:?}");
        assert!(out.ends_with("\n\n"), "{out:?}");
        assert_eq!(err, "");
    }
}

#[test]
fn maintail_f_follows_the_main_log_with_reference_daemon() {
    maintail_f_follows_the_main_log(Daemon::Reference);
}

#[test]
fn maintail_f_follows_the_main_log_with_our_daemon() {
    maintail_f_follows_the_main_log(Daemon::Ours);
}

fn tail_f_sends_credentials(daemon: Daemon) {
    let dir = TempDir::new("ctl-tailf-auth");
    let text = Supervisord::config(&dir, ctl_support::PROGRAMS).replacen(
        "/sv.sock\n",
        "/sv.sock\nusername=user\npassword=123\n",
        1,
    );
    let sv = start_text(daemon, dir, &text);
    common::wait_until(20, "b running", || {
        let out = sv.ctl(&["-u", "user", "-p", "123", "tail", "grp:b"]);
        common::stdout(&out) == "out\n\n"
    });
    for reference in BOTH {
        let args = ["-u", "user", "-p", "123", "tail", "-f", "grp:b"];
        let live = Live::spawn(reference, &sv.conf, &args);
        live.wait_stdout("out\n");
        live.interrupt();
        let (code, out, _) = live.finish();
        assert_eq!(code, Some(0));
        assert_eq!(out, format!("{HEADER}out\n\n"));
    }
}

#[test]
fn tail_f_sends_credentials_with_reference_daemon() {
    tail_f_sends_credentials(Daemon::Reference);
}

#[test]
fn tail_f_sends_credentials_with_our_daemon() {
    tail_f_sends_credentials(Daemon::Ours);
}

fn fg_forwards_input_until_end_of_input(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-fg");
    for reference in BOTH {
        let mut live = Live::spawn(reference, &sv.conf, &["fg", "cat"]);
        live.wait_stdout(HEADER);
        let line = format!("typed {reference}");
        live.send(&format!("{line}\n"));
        live.wait_stdout(&format!("{line}\n"));
        // A last line without a newline still goes through.
        live.send("last words");
        live.close_stdin();
        live.wait_stdout("Exiting foreground\n");
        // The reference's output thread may outlive this until its stream
        // moves again (it is killed on drop); ours exits.
        if !reference {
            let (code, out, err) = live.finish();
            assert_eq!(code, Some(0), "{out:?} {err:?}");
            assert!(out.ends_with("Exiting foreground\n"), "{out:?}");
        }
        // The last line reached the process (cat echoes it to its log).
        let want = format!("{line}\nlast words\n");
        common::wait_until(20, "last words in the log", || {
            let tail = sv.call(
                "supervisor.readProcessStdoutLog",
                vec![s("cat"), common::Value::Int(-100), common::Value::Int(0)],
            );
            matches!(tail, common::Value::String(t) if t.ends_with(&want))
        });
    }
}

#[test]
fn fg_forwards_input_until_end_of_input_with_reference_daemon() {
    fg_forwards_input_until_end_of_input(Daemon::Reference);
}

#[test]
fn fg_forwards_input_until_end_of_input_with_our_daemon() {
    fg_forwards_input_until_end_of_input(Daemon::Ours);
}

fn fg_notices_a_dead_process(daemon: Daemon) {
    let sv = start_programs(daemon, "ctl-fg-dead");
    for reference in BOTH {
        let mut live = Live::spawn(reference, &sv.conf, &["fg", "cat"]);
        live.wait_stdout(HEADER);
        sv.call("supervisor.stopProcess", vec![s("cat")]);
        live.send("anyone there?\n");
        live.wait_stdout("Process got killed\nExiting foreground\n");
        if reference {
            // The reference's output thread outlives this until the
            // stream moves again; it is killed on drop.
            assert_eq!(
                live.stdout(),
                format!("{HEADER}Process got killed\nExiting foreground\n")
            );
        } else {
            let (code, out, _) = live.finish();
            assert_eq!(code, Some(0));
            assert_eq!(
                out,
                format!("{HEADER}Process got killed\nExiting foreground\n")
            );
        }
        sv.call("supervisor.startProcess", vec![s("cat")]);
    }
}

#[test]
fn fg_notices_a_dead_process_with_reference_daemon() {
    fg_notices_a_dead_process(Daemon::Reference);
}

#[test]
fn fg_notices_a_dead_process_with_our_daemon() {
    fg_notices_a_dead_process(Daemon::Ours);
}

/// Ctrl-C leaves `fg` (the reference hangs here: its output thread keeps
/// the interpreter alive, so only ours is checked).
#[test]
fn fg_leaves_on_ctrl_c() {
    let sv = start_programs(Daemon::Reference, "ctl-fg-int");
    let mut live = Live::spawn(false, &sv.conf, &["fg", "cat"]);
    live.wait_stdout(HEADER);
    live.send("ping\n");
    live.wait_stdout("ping\n");
    live.interrupt();
    let (code, out, err) = live.finish();
    assert_eq!(code, Some(0));
    assert!(out.ends_with("ping\nExiting foreground\n"), "{out:?}");
    assert_eq!(err, "");
}

/// A stream ends by itself when the daemon goes away.
#[test]
fn tail_f_ends_when_the_daemon_exits() {
    let mut sv = start_programs(Daemon::Reference, "ctl-tailf-end");
    let live = Live::spawn(false, &sv.conf, &["tail", "-f", "grp:b"]);
    live.wait_stdout("out\n");
    sv.stop_with("TERM", 20);
    let (code, out, _) = live.finish();
    assert_eq!(code, Some(0));
    assert_eq!(out, format!("{HEADER}out\n"));
}
