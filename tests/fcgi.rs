//! `[fcgi-program:x]`: the group's listening socket (TCP and UNIX), created
//! before the first child, shared as fd 0 by every child, kept while any
//! child lives and closed with the last one, with the reference's log lines
//! and socket file mode/owner. Children are tests/fixtures/accept_pid.py,
//! which answers each connection with its pid.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use common::{s, venv, wait_until, Supervisord, TempDir, Value};

fn accept_pid() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/accept_pid.py")
}

/// A TCP port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Connects and reads the pid the child that accepted answers with.
fn ask(connect: &dyn Fn() -> std::io::Result<Box<dyn Read>>) -> Option<u32> {
    let mut conn = connect().ok()?;
    let mut text = String::new();
    conn.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn tcp(port: u16) -> impl Fn() -> std::io::Result<Box<dyn Read>> {
    move || Ok(Box::new(TcpStream::connect(("127.0.0.1", port))?) as Box<dyn Read>)
}

fn unix(path: PathBuf) -> impl Fn() -> std::io::Result<Box<dyn Read>> {
    move || Ok(Box::new(UnixStream::connect(&path)?) as Box<dyn Read>)
}

/// The inode of a socket fd (`socket:[N]`), from /proc.
fn socket_inode(pid: u32, fd: u32) -> Option<String> {
    let link = fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    let link = link.to_string_lossy();
    link.strip_prefix("socket:[")
        .and_then(|r| r.strip_suffix(']'))
        .map(str::to_string)
}

/// Socket inodes among the daemon's open fds.
fn daemon_sockets(pid: u32) -> BTreeSet<String> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .filter_map(|fd| socket_inode(pid, fd))
                .collect()
        })
        .unwrap_or_default()
}

/// The `Creating socket` / `Closing socket` lines of the log, in order.
fn socket_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.get(24..))
        .filter(|l| l.starts_with("INFO Creating socket") || l.starts_with("INFO Closing socket"))
        .map(str::to_string)
        .collect()
}

fn call(sup: &Supervisord, method: &str, name: &str) -> Value {
    sup.call(&format!("supervisor.{method}"), vec![s(name)])
}

#[test]
fn tcp_socket_is_shared_by_every_child_and_lives_as_long_as_they_do() {
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let sup = Supervisord::start(
        "fcgi-tcp",
        &format!(
            "[fcgi-program:f]\ncommand={}\nsocket={url}\nnumprocs=3\n\
             process_name=%(program_name)s_%(process_num)s\nstartsecs=0\n",
            accept_pid().display()
        ),
    );
    let names = ["f:f_0", "f:f_1", "f:f_2"];
    for n in names {
        sup.wait_state(n, "RUNNING", 30);
    }
    let lines: Vec<String> = sup
        .log_text()
        .lines()
        .filter_map(|l| l.get(24..))
        .map(str::to_string)
        .collect();
    let creating = format!("INFO Creating socket {url}");
    let closing = format!("INFO Closing socket {url}");
    // Made once to fail early, closed, then made again for the children,
    // before the first of them starts.
    let first = lines.iter().position(|l| *l == creating).unwrap();
    assert_eq!(lines[first + 1], closing);
    let second = first
        + 2
        + lines[first + 2..]
            .iter()
            .position(|l| *l == creating)
            .unwrap();
    let spawned = lines
        .iter()
        .position(|l| l.starts_with("INFO spawned: 'f_0'"))
        .unwrap();
    assert!(second < spawned, "{lines:#?}");

    // fd 0 of every child is the daemon's listening socket.
    let pids: Vec<u32> = names.iter().map(|n| sup.pid_of(n)).collect();
    let inodes: BTreeSet<String> = pids
        .iter()
        .map(|p| socket_inode(*p, 0).expect("fd 0 is a socket"))
        .collect();
    assert_eq!(inodes.len(), 1);
    assert!(daemon_sockets(sup.pid()).is_superset(&inodes));
    // ...and each of them accepts on it.
    let mut answered = BTreeSet::new();
    wait_until(30, "every child to answer", || {
        answered.extend(ask(&tcp(port)));
        answered.len() == 3
    });
    assert_eq!(answered, pids.iter().copied().collect());

    // A child restarting does not close the socket.
    call(&sup, "stopProcess", "f:f_0");
    assert!(ask(&tcp(port)).is_some());
    call(&sup, "startProcess", "f:f_0");
    assert_eq!(
        socket_lines(&sup.log_text()),
        [creating.as_str(), &closing, &creating]
    );
    // The last one stopping closes it; the next start makes it again.
    sup.call("supervisor.stopAllProcesses", vec![Value::Bool(true)]);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert_eq!(
        socket_lines(&sup.log_text()),
        [creating.as_str(), &closing, &creating, &closing]
    );
    call(&sup, "startProcess", "f:f_1");
    assert_eq!(ask(&tcp(port)), Some(sup.pid_of("f:f_1")));
}

/// What the UNIX socket scenario shows (numprocs=2, stop all, start one).
#[derive(Debug, PartialEq)]
struct UnixRun {
    /// Socket log lines, the path replaced by `PATH`.
    lines: Vec<String>,
    /// Mode of the socket file while open.
    mode: u32,
    /// Whether the file is still there once the socket is closed.
    kept: bool,
}

fn unix_scenario(exe: &Path, tag: &str) -> UnixRun {
    let dir = TempDir::new(tag);
    let path = dir.join("f.sock");
    let text = Supervisord::config(
        &dir,
        &format!(
            "[fcgi-program:f]\ncommand={}\nsocket=unix://{{dir}}/f.sock\nsocket_mode=0620\n\
             socket_backlog=5\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)s\n\
             startsecs=0\n",
            accept_pid().display()
        ),
    );
    let sup = Supervisord::start_binary(exe, dir, &text, &[]);
    sup.wait_state("f:f_0", "RUNNING", 30);
    sup.wait_state("f:f_1", "RUNNING", 30);
    let mode = fs::metadata(&path)
        .expect("socket file")
        .permissions()
        .mode()
        & 0o7777;
    let pids: BTreeSet<u32> = ["f:f_0", "f:f_1"].iter().map(|n| sup.pid_of(n)).collect();
    let mut answered = BTreeSet::new();
    wait_until(30, "both children to answer", || {
        answered.extend(ask(&unix(path.clone())));
        answered.len() == 2
    });
    assert_eq!(answered, pids);
    sup.call("supervisor.stopAllProcesses", vec![Value::Bool(true)]);
    assert!(UnixStream::connect(&path).is_err(), "closed");
    let kept = path.exists();
    call(&sup, "startProcess", "f:f_1");
    assert_eq!(ask(&unix(path.clone())), Some(sup.pid_of("f:f_1")));
    let path = path.display().to_string();
    UnixRun {
        lines: socket_lines(&sup.log_text())
            .iter()
            .map(|l| l.replace(&path, "PATH"))
            .collect(),
        mode,
        kept,
    }
}

#[test]
fn unix_socket_has_the_configured_mode() {
    let run = unix_scenario(&common::bin("supervisord"), "fcgi-unix");
    let (creating, closing) = (
        "INFO Creating socket unix://PATH",
        "INFO Closing socket unix://PATH",
    );
    assert_eq!(run.lines, [creating, closing, creating, closing, creating]);
    assert_eq!(run.mode, 0o620);
    assert!(run.kept, "the socket file stays after the socket is closed");
}

#[test]
fn unix_socket_matches_reference() {
    assert_eq!(
        unix_scenario(&common::bin("supervisord"), "fcgi-ours"),
        unix_scenario(&venv().join("bin/supervisord"), "fcgi-ref")
    );
}

#[test]
fn unix_socket_owner() {
    let dir = TempDir::new("fcgi-owner");
    let meta = fs::metadata(&dir.path).expect("temp dir");
    // As root the socket can be given away; otherwise to ourselves only.
    let (uid, gid) = if meta.uid() == 0 {
        (65534, 65534)
    } else {
        (meta.uid(), meta.gid())
    };
    let text = Supervisord::config(
        &dir,
        &format!(
            "[fcgi-program:f]\ncommand={}\nsocket=unix://{{dir}}/f.sock\n\
             socket_owner={uid}:{gid}\nstartsecs=0\n",
            accept_pid().display()
        ),
    );
    let sup = Supervisord::start_with(dir, &text, &[]);
    sup.wait_state("f", "RUNNING", 30);
    let meta = fs::metadata(sup.dir.join("f.sock")).expect("socket file");
    assert_eq!((meta.uid(), meta.gid()), (uid, gid));
    assert_eq!(meta.permissions().mode() & 0o777, 0o700, "default mode");
}

#[test]
fn unusable_address_is_a_startup_error() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = TempDir::new("fcgi-taken");
    let conf = dir.write(
        "supervisord.conf",
        &Supervisord::config(
            &dir,
            &format!("[fcgi-program:f]\ncommand=cat\nsocket=tcp://127.0.0.1:{port}\n"),
        ),
    );
    let out = std::process::Command::new(common::bin("supervisord"))
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("run supervisord");
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(
        err.starts_with(&format!(
            "Error: Could not create FastCGI socket tcp://127.0.0.1:{port}: \
             [Errno 98] Address already in use\n"
        )),
        "{err}"
    );
}

#[test]
fn address_taken_before_a_later_spawn_is_a_spawn_error() {
    let port = free_port();
    let sup = Supervisord::start(
        "fcgi-later",
        &format!(
            "[fcgi-program:t]\ncommand={}\nsocket=tcp://127.0.0.1:{port}\nautostart=false\n\
             startsecs=0\n",
            accept_pid().display()
        ),
    );
    // The socket was made and closed at start-up; now someone else has it.
    let _taken = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let err = sup
        .rpc("supervisor.startProcess", vec![s("t")])
        .expect_err("the spawn fails");
    assert_eq!(err.string, "SPAWN_ERROR: t");
    let spawnerr = common::field_of(
        &sup.call("supervisor.getProcessInfo", vec![s("t")]),
        "spawnerr",
    );
    assert_eq!(
        spawnerr,
        s(&format!(
            "Could not create FastCGI socket tcp://127.0.0.1:{port}: [Errno 98] Address already in use"
        ))
    );
}
