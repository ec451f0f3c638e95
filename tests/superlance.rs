//! superlance (from the reference venv), unchanged, as event listeners of
//! our supervisord: crashmail mails about unexpected exits, memmon and
//! httpok restart programs through our XML-RPC. Mail goes to a fake
//! sendmail that appends each message to `<dir>/mail.txt`.

mod common;

use std::fs;
use std::net::TcpListener;

use common::{venv, wait_until, Supervisord, TempDir};

/// Starts our supervisord on `extra`, where `{sendmail}` is a fake
/// sendmail and `{venv}` the venv's path.
fn start(tag: &str, extra: &str) -> Supervisord {
    let dir = TempDir::new(tag);
    let mail = dir.join("mail.txt");
    let sendmail = dir.script(
        "sendmail.sh",
        &format!(
            "#!/bin/sh\ncat >> {0}\necho '==MAIL==' >> {0}\n",
            mail.display()
        ),
    );
    let extra = extra
        .replace("{sendmail}", &sendmail.display().to_string())
        .replace("{venv}", &venv().display().to_string());
    let text = Supervisord::config(&dir, &extra);
    Supervisord::start_with(dir, &text, &[])
}

fn mails(sup: &Supervisord) -> Vec<String> {
    let text = fs::read_to_string(sup.dir.join("mail.txt")).unwrap_or_default();
    let mut v: Vec<String> = text.split("==MAIL==\n").map(str::to_string).collect();
    v.pop();
    v
}

#[test]
fn crashmail_mails_unexpected_exits() {
    let sup = start(
        "sl-crash",
        "[program:crasher]\ncommand=sh -c 'sleep 1; exit 7'\nstartsecs=0\nautorestart=false\n\n\
         [program:fine]\ncommand=sh -c 'sleep 1; exit 0'\nstartsecs=0\nautorestart=false\n\n\
         [eventlistener:crashmail]\n\
         command={venv}/bin/crashmail -a -m root@localhost -s {sendmail}\n\
         events=PROCESS_STATE_EXITED\nstartsecs=0\n",
    );
    sup.wait_state("crasher", "EXITED", 30);
    sup.wait_state("fine", "EXITED", 30);
    wait_until(30, "a mail", || !mails(&sup).is_empty());
    // Both exits were handled (the listener is READY again) before we look.
    sup.wait_log(30, "DEBG crashmail: ACKNOWLEDGED -> READY");
    wait_until(30, "both events handled", || {
        sup.log_text()
            .matches("DEBG crashmail: event was processed")
            .count()
            == 2
    });
    let mails = mails(&sup);
    assert_eq!(mails.len(), 1, "only the unexpected exit: {mails:?}");
    let lines: Vec<&str> = mails[0].lines().collect();
    assert_eq!(lines[0], "To: root@localhost");
    assert!(
        lines[1].starts_with("Subject:  crasher crashed at "),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "");
    assert!(
        lines[3].starts_with("Process crasher in group crasher exited unexpectedly (pid ")
            && lines[3].ends_with(") from state RUNNING"),
        "{}",
        lines[3]
    );
}

#[test]
fn memmon_restarts_a_program_using_too_much_memory() {
    let sup = start(
        "sl-memmon",
        "[program:hog]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [eventlistener:memmon]\n\
         command={venv}/bin/memmon -p hog=1KB -m root@localhost -s {sendmail}\n\
         events=TICK_5\nstartsecs=0\n",
    );
    sup.wait_state("hog", "RUNNING", 30);
    let first = sup.pid_of("hog");
    wait_until(30, "memmon's mail", || !mails(&sup).is_empty());
    let mail = &mails(&sup)[0];
    // (memmon names itself after the last -p program: its own quirk.)
    assert!(
        mail.starts_with(
            "To: root@localhost\nSubject: memmon [hog]: process hog:hog restarted\n\n"
        ),
        "{mail}"
    );
    assert!(mail.contains("memmon.py restarted the process named hog:hog at "));
    sup.wait_state("hog", "RUNNING", 30);
    assert_ne!(sup.pid_of("hog"), first, "hog was restarted");
    let log = sup.log_text();
    assert!(log.contains(&format!(
        "DEBG killing hog (pid {first}) with signal SIGTERM"
    )));
}

#[test]
fn httpok_restarts_a_program_whose_url_fails() {
    // A port nobody listens on: every check fails.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let sup = start(
        "sl-httpok",
        &format!(
            "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\n\
             [eventlistener:httpok]\n\
             command={{venv}}/bin/httpok -p web -t 1 -m root@localhost -s {{sendmail}} \
             http://127.0.0.1:{port}/\n\
             events=TICK_5\nstartsecs=0\n"
        ),
    );
    sup.wait_state("web", "RUNNING", 30);
    let first = sup.pid_of("web");
    wait_until(30, "httpok's mail", || !mails(&sup).is_empty());
    let mail = &mails(&sup)[0];
    assert!(
        mail.starts_with(&format!(
            "To: root@localhost\nSubject: httpok: http://127.0.0.1:{port}/: bad status returned\n"
        )),
        "{mail}"
    );
    sup.wait_state("web", "RUNNING", 30);
    assert_ne!(sup.pid_of("web"), first, "web was restarted");
}
