//! supervisorctl's error paths compared with the reference's: servers that
//! refuse or do not exist, authentication, a daemon without the supervisor
//! RPC interface, and command-line usage errors.

mod common;
mod ctl_support;

use common::{Supervisord, TempDir};
use ctl_support::{both_with_stdin, start_text, Daemon, Run};

/// Commands that report an unreachable server, each in its own way.
const CONNECTING: &[&str] = &[
    "status",
    "status foo",
    "version",
    "pid",
    "pid all",
    "avail",
    "reread",
    "add x",
    "remove x",
    "update",
    "shutdown",
    "reload",
    "maintail",
    "maintail -f",
    "tail x",
    "tail -f x",
    "clear all",
    "start all",
    "stop x",
    "restart x",
    "signal HUP x",
    "fg x",
    "help",
    "quit",
];

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs `line` with both supervisorctls against `url` and compares.
fn compare_url(conf: &std::path::Path, url: &str, line: &str) {
    let conf = conf.to_string_lossy();
    let mut args = vec!["-c", conf.as_ref(), "-s", url];
    args.extend(line.split(' '));
    let (ours, theirs) = both_with_stdin(&args, b"");
    assert_eq!(ours, theirs, "supervisorctl -s {url} {line} differs");
}

#[test]
fn unreachable_servers_are_reported_like_the_reference() {
    let dir = TempDir::new("ctl-unreach");
    let conf = dir.write("ctl.conf", "[supervisorctl]\n");
    let port = free_port();
    let urls = [
        format!("unix://{}/missing.sock", dir.path.display()),
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("unix://{}", dir.path.display()),
    ];
    for url in &urls {
        for line in CONNECTING {
            compare_url(&conf, url, line);
        }
        compare_url(&conf, &urls[0], &format!("open {url}"));
    }
    for bad in ["http://localhost:99999", "http://localhost:x", "ftp://x"] {
        compare_url(&conf, bad, "status");
    }
}

#[test]
fn missing_socket_and_refused_connection_exit_statuses() {
    let dir = TempDir::new("ctl-codes");
    let conf = dir.write("ctl.conf", "[supervisorctl]\n");
    let ctl = |url: &str, line: &str| {
        let mut args = vec![
            "-c".to_string(),
            conf.display().to_string(),
            "-s".into(),
            url.into(),
        ];
        args.extend(line.split(' ').map(str::to_string));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        both_with_stdin(&refs, b"").0
    };
    let missing = format!("unix://{}/nope.sock", dir.path.display());
    let out = ctl(&missing, "status");
    assert_eq!(out.stdout, format!("{missing} no such file\n"));
    assert_eq!(out.code, Some(4));
    assert_eq!(ctl(&missing, "version").code, Some(7));
    let refused = format!("http://127.0.0.1:{}", free_port());
    let out = ctl(&refused, "version");
    assert_eq!(out.stdout, format!("{refused} refused connection\n"));
    assert_eq!(out.code, Some(4));
    let out = ctl(&refused, "shutdown");
    assert_eq!(
        out.stdout,
        format!("ERROR: {refused} refused connection (already shut down?)\n")
    );
    assert_eq!(out.code, Some(1));
}

/// A daemon whose UNIX server wants `user`/`123`.
fn start_with_auth(daemon: Daemon) -> Supervisord {
    let dir = TempDir::new("ctl-auth");
    let text = Supervisord::config(&dir, ctl_support::PROGRAMS).replacen(
        "/sv.sock\n",
        "/sv.sock\nusername=user\npassword=123\n",
        1,
    );
    let sv = start_text(daemon, dir, &text);
    let ok = || {
        let out = sv.ctl(&["-u", "user", "-p", "123", "status", "cat"]);
        common::stdout(&out).contains("RUNNING")
    };
    common::wait_until(20, "cat RUNNING", ok);
    sv
}

fn authentication_matches(daemon: Daemon) {
    let sv = start_with_auth(daemon);
    let conf = sv.conf.display().to_string();
    for creds in [
        &["-u", "user", "-p", "123"][..],
        &["-u", "user", "-p", "bad"],
        &[],
        &["-p", "123"],
    ] {
        for line in [
            "status cat",
            "version",
            "avail",
            "shutdown x",
            "help stop",
            "tail -f nope",
        ] {
            let mut args = vec!["-c", conf.as_str()];
            args.extend_from_slice(creds);
            args.extend(line.split(' '));
            let (ours, theirs) = both_with_stdin(&args, b"");
            assert_eq!(ours, theirs, "supervisorctl {args:?} differs");
        }
    }
    let out = sv.ctl(&["-u", "user", "-p", "bad", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).starts_with("Server requires authentication\nerror: "));

    // The shell asks for credentials and retries.
    let (ours, theirs) = both_with_stdin(&["-c", &conf], b"user\n123\nversion\n");
    assert_eq!(ours.stdout, theirs.stdout.replace("supervisor> ", ""));
    assert_eq!(ours.code, Some(0));
    assert!(ours
        .stdout
        .starts_with("Server requires authentication\nUsername:\ncat "));
    assert!(ours.stdout.ends_with("\n4.2.5\n\n"));
    assert!(ours.stderr.contains("Password:"));
    // Input ending at either prompt.
    for input in [&b"user\n"[..], b""] {
        let (ours, theirs) = both_with_stdin(&["-c", &conf], input);
        assert_eq!(ours.stdout, theirs.stdout.replace("supervisor> ", ""));
        assert!(ours.stdout.contains("error: <class 'EOFError'>"));
    }
}

#[test]
fn authentication_matches_with_reference_daemon() {
    authentication_matches(Daemon::Reference);
}

#[test]
fn authentication_matches_with_our_daemon() {
    authentication_matches(Daemon::Ours);
}

fn missing_rpc_interface_matches(daemon: Daemon) {
    let dir = TempDir::new("ctl-norpc");
    let text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\n").replace(
        "[rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        "",
    );
    let sv = start_text(daemon, dir, &text);
    for line in [
        "status",
        "version",
        "pid",
        "avail",
        "tail cat",
        "maintail",
        "start all",
        "reload x",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let (ours, theirs) = (Run::of(&sv.ctl(&args)), Run::of(&sv.py_ctl(&args)));
        assert_eq!(ours, theirs, "supervisorctl {line} differs");
    }
    let out = sv.ctl(&["status"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(common::stdout(&out).starts_with("Sorry, supervisord responded but did not recognize"));
    assert_eq!(sv.ctl(&["version"]).status.code(), Some(3));
}

#[test]
fn missing_rpc_interface_matches_with_reference_daemon() {
    missing_rpc_interface_matches(Daemon::Reference);
}

#[test]
fn missing_rpc_interface_matches_with_our_daemon() {
    missing_rpc_interface_matches(Daemon::Ours);
}

#[test]
fn usage_errors_match() {
    let dir = TempDir::new("ctl-usage");
    let conf = dir
        .write("ctl.conf", "[supervisorctl]\n")
        .display()
        .to_string();
    for args in [
        &["--bogus"][..],
        &["-c", "/nonexistent/ctl.conf", "status"],
        &["-h"],
        &["-c", &conf, "-s"],
    ] {
        let (ours, theirs) = both_with_stdin(args, b"");
        assert_eq!(ours, theirs, "supervisorctl {args:?} differs");
    }
    let (ours, _) = both_with_stdin(&["--bogus"], b"");
    assert_eq!(ours.code, Some(2));
    assert!(ours
        .stderr
        .starts_with("Error: option --bogus not recognized\nFor help, use "));
}

#[test]
fn a_server_speaking_another_api_is_refused() {
    // A daemon reporting another API version: a tiny HTTP server of our own.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        for _ in 0..2 {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = supervisor::xmlrpc::encode_response(&common::s("2.0"));
            let _ = write!(
                conn,
                "HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = TempDir::new("ctl-api");
    let conf = dir
        .write("ctl.conf", "[supervisorctl]\n")
        .display()
        .to_string();
    let url = format!("http://127.0.0.1:{port}");
    let (ours, theirs) = both_with_stdin(&["-c", &conf, "-s", &url, "version"], b"");
    assert_eq!(ours, theirs);
    assert_eq!(ours.code, Some(5));
    assert_eq!(
        ours.stdout,
        "Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, \
         but the remote version is 2.0.\n"
    );
    server.join().expect("server thread");
}
