//! Shared helpers for integration tests: temp dirs, the binaries, a
//! supervisord fixture that cleans up after itself (no process left
//! behind), deadline polling, and the reference venv for interop tests.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use supervisor::xmlrpc::{Fault, Value};

/// Path of one of our binaries (built by cargo for integration tests).
pub fn bin(name: &str) -> PathBuf {
    let p = match name {
        "supervisord" => env!("CARGO_BIN_EXE_supervisord"),
        "supervisorctl" => env!("CARGO_BIN_EXE_supervisorctl"),
        "pidproxy" => env!("CARGO_BIN_EXE_pidproxy"),
        "echo_supervisord_conf" => env!("CARGO_BIN_EXE_echo_supervisord_conf"),
        other => panic!("unknown binary {other}"),
    };
    PathBuf::from(p)
}

/// The venv holding the reference `supervisor==4.2.5` (made by `make test`).
/// Interop tests never skip: a missing venv is a failure.
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("SUPERVISOR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv"));
    let py = dir.join("bin/python");
    assert!(
        py.exists(),
        "the reference venv is missing at {}: run `make test` (or `make venv`)",
        dir.display()
    );
    dir
}

/// The venv's python interpreter.
pub fn python() -> PathBuf {
    venv().join("bin/python")
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temporary directory removed on drop. Kept short (UNIX socket paths are
/// limited to 108 bytes).
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("sv-{}-{}-{}", tag, std::process::id(), n));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.path.join(p)
    }

    /// Writes `text` to `name` inside the dir, returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, text).expect("write file");
        p
    }

    /// Writes an executable script.
    pub fn script(&self, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.write(name, text);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Polls `f` until it returns Some or `secs` pass; panics with `what` then.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {secs}s waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Like `wait_for` with a boolean condition.
pub fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    wait_for(secs, what, || if f() { Some(()) } else { None })
}

/// All descendants of `pid` (children, grandchildren...), read from /proc.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) {
                // pid (comm) state ppid ...; comm may contain spaces/parens.
                if let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) {
                    let mut it = rest.split_whitespace();
                    it.next();
                    if let Some(ppid) = it.next().and_then(|s| s.parse().ok()) {
                        parents.push((p, ppid));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for (c, pp) in &parents {
            if *pp == p && !out.contains(c) {
                out.push(*c);
                frontier.push(*c);
            }
        }
    }
    out
}

pub fn pid_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; treat it as dead for liveness, but
    // it means nobody reaped it.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

pub fn kill(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// A supervisord running in the foreground (`-n`) on a config written into
/// its own temp dir. On drop: SIGTERM, wait, then SIGKILL anything left,
/// children included.
pub struct Supervisord {
    pub dir: TempDir,
    pub conf: PathBuf,
    pub sock: PathBuf,
    pub child: Option<Child>,
    pub log: PathBuf,
}

impl Supervisord {
    /// A config with `[unix_http_server]` on `<dir>/sv.sock`, `[supervisord]`
    /// logging to `<dir>/supervisord.log` (loglevel debug), the stock
    /// `[rpcinterface:supervisor]`, a `[supervisorctl]` section, then
    /// `extra`. `{dir}` in `extra` is replaced by the temp dir.
    pub fn config(dir: &TempDir, extra: &str) -> String {
        let d = dir.path.display().to_string();
        format!(
            "[unix_http_server]\nfile={d}/sv.sock\n\n\
             [supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
             childlogdir={d}\nloglevel=debug\nnodaemon=true\n\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
             [supervisorctl]\nserverurl=unix://{d}/sv.sock\n\n{}\n",
            extra.replace("{dir}", &d)
        )
    }

    /// Starts our supervisord with `Self::config(extra)`, waits for its socket.
    pub fn start(tag: &str, extra: &str) -> Supervisord {
        let dir = TempDir::new(tag);
        let text = Self::config(&dir, extra);
        Self::start_with(dir, &text, &[])
    }

    /// Starts our supervisord on the full config `text` (written to
    /// `<dir>/supervisord.conf`) with extra command-line `args`; waits for
    /// `<dir>/sv.sock` if the config mentions it.
    pub fn start_with(dir: TempDir, text: &str, args: &[&str]) -> Supervisord {
        Self::start_binary(&bin("supervisord"), dir, text, args)
    }

    /// Same with any supervisord binary (ours or the reference's).
    pub fn start_binary(exe: &Path, dir: TempDir, text: &str, args: &[&str]) -> Supervisord {
        Self::start_env(exe, dir, text, args, &[])
    }

    /// Same with extra environment variables for the daemon.
    pub fn start_env(
        exe: &Path,
        dir: TempDir,
        text: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Supervisord {
        let conf = dir.write("supervisord.conf", text);
        let sock = dir.join("sv.sock");
        let log = dir.join("supervisord.log");
        let stderr_file = fs::File::create(dir.join("stderr.txt")).expect("stderr file");
        let child = Command::new(exe)
            .arg("-c")
            .arg(&conf)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&dir.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr_file)
            .spawn()
            .expect("spawn supervisord");
        let mut s = Supervisord {
            dir,
            conf,
            sock,
            child: Some(child),
            log,
        };
        if text.contains("sv.sock") {
            s.wait_for_socket();
        }
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn wait_for_socket(&mut self) {
        let sock = self.sock.clone();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if UnixStream::connect(&sock).is_ok() {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    panic!(
                        "supervisord exited ({st}) before its socket appeared; stderr:\n{}\nlog:\n{}",
                        fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default(),
                        self.log_text()
                    );
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "supervisord socket never appeared; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The activity log so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the activity log contains `needle`.
    pub fn wait_log(&self, secs: u64, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.log_text().contains(needle) {
            if Instant::now() > deadline {
                panic!("log never contained {needle:?}; log:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs our supervisorctl against this daemon's config.
    pub fn ctl(&self, args: &[&str]) -> Output {
        Command::new(bin("supervisorctl"))
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .output()
            .expect("run supervisorctl")
    }

    /// Runs the reference (Python) supervisorctl against this daemon.
    pub fn py_ctl(&self, args: &[&str]) -> Output {
        Command::new(venv().join("bin/supervisorctl"))
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .output()
            .expect("run python supervisorctl")
    }

    /// Runs Python code with `server` bound to an `xmlrpc.client.ServerProxy`
    /// on this daemon's UNIX socket (the reference's own transport), and
    /// returns its stdout. Panics if Python fails.
    pub fn py(&self, code: &str) -> String {
        let out = self.py_output(code);
        assert!(
            out.status.success(),
            "python failed: {}\nstdout: {}\nlog:\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
            self.log_text()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Like `py`, returning the whole output.
    pub fn py_output(&self, code: &str) -> Output {
        let prelude = format!(
            "import sys, xmlrpc.client\n\
             from supervisor.xmlrpc import SupervisorTransport\n\
             server = xmlrpc.client.ServerProxy('http://127.0.0.1', \
             transport=SupervisorTransport(None, None, 'unix://{}'))\n",
            self.sock.display()
        );
        Command::new(python())
            .arg("-c")
            .arg(format!("{prelude}{code}"))
            .output()
            .expect("run python")
    }

    /// Sends a raw HTTP request on the UNIX socket and returns the raw
    /// response (read until the server closes or `secs` pass).
    pub fn raw_http(&self, request: &[u8], secs: u64) -> Vec<u8> {
        let mut s = UnixStream::connect(&self.sock).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(secs))).ok();
        s.write_all(request).expect("write request");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    }

    /// Calls an XML-RPC method over the UNIX socket with our own codec
    /// (quick; interop tests use Python's client through `py`).
    pub fn rpc(&self, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
        let body = supervisor::xmlrpc::encode_call(method, &params);
        let req = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            body.len(),
            body
        );
        let no_answer = || Fault {
            code: -1,
            string: "no answer (daemon not listening)".into(),
        };
        let Ok(mut sock) = UnixStream::connect(&self.sock) else {
            return Err(no_answer());
        };
        sock.set_read_timeout(Some(Duration::from_secs(60))).ok();
        if sock.write_all(req.as_bytes()).is_err() {
            return Err(no_answer());
        }
        let mut raw = Vec::new();
        let _ = sock.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        let Some(i) = text.find("\r\n\r\n") else {
            return Err(no_answer());
        };
        assert!(
            text.starts_with("HTTP/1.1 200"),
            "HTTP error for {method}: {text}"
        );
        supervisor::xmlrpc::parse_response(&raw[i + 4..]).expect("parse XML-RPC response")
    }

    /// `rpc` that must succeed.
    pub fn call(&self, method: &str, params: Vec<Value>) -> Value {
        match self.rpc(method, params) {
            Ok(v) => v,
            Err(f) => panic!("{method} failed: {f:?}\nlog:\n{}", self.log_text()),
        }
    }

    /// A field of `getProcessInfo(name)`.
    pub fn info(&self, name: &str, field: &str) -> Value {
        let v = self.call("supervisor.getProcessInfo", vec![s(name)]);
        field_of(&v, field)
    }

    /// The state name of a process.
    pub fn state(&self, name: &str) -> String {
        match self.info(name, "statename") {
            Value::String(s) => s,
            other => panic!("statename is {other:?}"),
        }
    }

    /// Waits until `name` is in `state`.
    pub fn wait_state(&self, name: &str, state: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let now = self.state(name);
            if now == state {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{name} is {now}, never became {state}; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pid of a running process.
    pub fn pid_of(&self, name: &str) -> u32 {
        match self.info(name, "pid") {
            Value::Int(p) => p as u32,
            other => panic!("pid is {other:?}"),
        }
    }

    /// Stops the daemon with `sig` and waits for it; returns its exit status
    /// code (None if killed by a signal).
    pub fn stop_with(&mut self, sig: &str, secs: u64) -> Option<i32> {
        let mut child = self.child.take()?;
        kill(child.id(), sig);
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return st.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "supervisord did not exit after SIG{sig}; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id();
        let kids = descendants(pid);
        kill(pid, "TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        for k in kids {
            kill(k, "KILL");
        }
    }
}

/// An XML-RPC string.
pub fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// A member of an XML-RPC struct (panics if absent).
pub fn field_of(v: &Value, field: &str) -> Value {
    match v {
        Value::Struct(m) => m
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {field} in {v:?}")),
        other => panic!("not a struct: {other:?}"),
    }
}

/// A JSON string literal (for drivers written in Python or speaking JSON).
pub fn json_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Output as text (stdout).
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Output as text (stderr).
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
