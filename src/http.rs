//! http: the HTTP servers — listeners on UNIX and TCP sockets, one
//! non-blocking connection dispatcher per client in the main poll loop,
//! request parsing with size limits, Basic auth, routing to XML-RPC, the
//! log-tail streams and the web interface.
//!
//! Responses copy the reference (medusa) where clients can see it: status
//! lines, `Server: Medusa/1.12`, the HTML error page, chunked `tail -f`
//! streams starting with the last 1024 bytes. A client that sends slowly or
//! stops reading only ever costs its own buffers: nothing here blocks.

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::options::{ServerConfig, ServerFamily};
use crate::rpcinterface::{self, Deferred, RpcOutcome};
use crate::slab::Slab;
use crate::supervisord::{Owner, Supervisor, Timer};
use crate::sys::Ready;
use crate::xmlrpc::{self, Fault};

/// Largest request line plus headers we accept.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest request body we accept.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// A listening or connected socket of either family.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn fd(&self) -> RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn shutdown(&self) {
        let _ = match self {
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
        };
    }
}

enum ListenSocket {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl ListenSocket {
    fn fd(&self) -> RawFd {
        match self {
            ListenSocket::Unix(l) => l.as_raw_fd(),
            ListenSocket::Tcp(l) => l.as_raw_fd(),
        }
    }

    fn accept(&self) -> io::Result<Stream> {
        match self {
            ListenSocket::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
            ListenSocket::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
        }
    }
}

struct Listener {
    socket: ListenSocket,
    key: usize,
    config: ServerConfig,
    /// The socket file to unlink at exit.
    unlink: Option<PathBuf>,
}

/// A parsed request head plus body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub uri: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the URI (before `?`).
    pub fn path(&self) -> &str {
        self.uri.split(['?', '#']).next().unwrap_or("")
    }

    /// The query string (after `?`), if any.
    pub fn query(&self) -> &str {
        self.uri
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or(""))
            .unwrap_or("")
    }

    fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.version == "HTTP/1.1" {
            !conn.contains("close")
        } else {
            conn.contains("keep-alive")
        }
    }
}

/// What went wrong with a request, as an HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpError(pub u16);

/// Parses one request from the front of `buf`. Ok(None): incomplete.
/// On success returns the request and how many bytes it used.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, HttpError> {
    let Some(head_end) = find_head_end(buf) else {
        return if buf.len() > MAX_HEAD {
            Err(HttpError(431))
        } else {
            Ok(None)
        };
    };
    let (head_len, sep_len) = head_end;
    if head_len > MAX_HEAD {
        return Err(HttpError(431));
    }
    let head = std::str::from_utf8(&buf[..head_len]).map_err(|_| HttpError(400))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or("");
    let mut parts = first.split_whitespace();
    let (Some(method), Some(uri)) = (parts.next(), parts.next()) else {
        return Err(HttpError(400));
    };
    let version = parts.next().unwrap_or("HTTP/0.9").to_string();
    if parts.next().is_some() || !version.starts_with("HTTP/") {
        return Err(HttpError(400));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // Folded header: continues the previous one.
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(HttpError(400)),
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(HttpError(400));
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && !v.eq_ignore_ascii_case("identity"))
    {
        // Chunked request bodies are not used by any Supervisor client.
        return Err(HttpError(411));
    }
    let body_len = match headers.iter().find(|(k, _)| k == "content-length") {
        Some((_, v)) => v.parse::<usize>().map_err(|_| HttpError(400))?,
        None => 0,
    };
    if body_len > MAX_BODY {
        return Err(HttpError(413));
    }
    let start = head_len + sep_len;
    if buf.len() < start + body_len {
        return Ok(None);
    }
    Ok(Some((
        Request {
            method: method.to_string(),
            uri: uri.to_string(),
            version,
            headers,
            body: buf[start..start + body_len].to_vec(),
        },
        start + body_len,
    )))
}

/// Position of the blank line ending the head: (head length, separator length).
fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let limit = buf.len().min(MAX_HEAD + 4);
    for i in 0..limit {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some((i, 2));
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some((i, 3));
            }
        }
    }
    None
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A complete response.
pub struct Response {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(code: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            code,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// Medusa's HTML error page.
    pub fn error(code: u16) -> Response {
        let body = format!(
            "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {}.\r\n</body>\r\n",
            code,
            reason(code)
        );
        Response {
            code,
            headers: vec![
                ("Content-Length".into(), body.len().to_string()),
                ("Content-Type".into(), "text/html".into()),
            ],
            body: body.into_bytes(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Response {
        self.headers.push((k.into(), v.into()));
        self
    }

    fn encode(&self, version: &str, close: bool) -> Vec<u8> {
        let mut out = format!(
            "{} {} {}\r\nServer: Medusa/1.12\r\nDate: {}\r\n",
            if version == "HTTP/1.0" {
                "HTTP/1.0"
            } else {
                "HTTP/1.1"
            },
            self.code,
            reason(self.code),
            http_date(now_secs())
        );
        let has_len = self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        for (k, v) in &self.headers {
            out.push_str(&format!("{}: {}\r\n", k, v));
        }
        if !has_len {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if close && version == "HTTP/1.1" {
            out.push_str("Connection: close\r\n");
        }
        if !close && version == "HTTP/1.0" {
            out.push_str("Connection: Keep-Alive\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// A `tail -f` stream of a file.
struct Tail {
    /// None: the activity log (its path may change on reload).
    path: PathBuf,
    offset: u64,
    ino: u64,
    chunked: bool,
}

/// Turns a deferred result into the HTTP response of a web action.
pub type WebFinish = Box<dyn FnOnce(&mut Supervisor, Result<xmlrpc::Value, Fault>) -> Response>;

/// What a web page handler answers: a page now, or a page once a deferred
/// action (start/stop/restart with wait) is done.
pub enum WebOutcome {
    Done(Response),
    Deferred(Box<dyn Deferred>, WebFinish),
}

enum ConnState {
    /// Reading and answering requests.
    Idle,
    /// Waiting for a deferred answer (XML-RPC, or a web action when
    /// `web` is set).
    Waiting {
        deferred: Box<dyn Deferred>,
        web: Option<WebFinish>,
        version: String,
        close: bool,
    },
    /// Streaming a log until the client goes away.
    Tailing(Tail),
}

struct Conn {
    stream: Stream,
    key: usize,
    /// Index of the listener it came from (for auth).
    server: usize,
    inbuf: Vec<u8>,
    out: VecDeque<u8>,
    state: ConnState,
    /// Close once `out` is written.
    closing: bool,
    /// Current poller interest.
    want_write: bool,
}

enum Entry {
    Listener(Listener),
    Conn(Box<Conn>),
    /// Taken out while being worked on.
    Busy,
}

/// All HTTP listeners and connections.
#[derive(Default)]
pub struct HttpServer {
    entries: Slab<Entry>,
    /// Some log file grew: tail streams re-check.
    pub logs_dirty: bool,
    /// Accepting paused after EMFILE; resumed when a connection closes.
    paused: bool,
    /// A timer is armed for deferred answers.
    timer_armed: bool,
    /// That timer fired.
    woken: bool,
}

impl HttpServer {
    fn listeners(&self) -> impl Iterator<Item = (usize, &Listener)> {
        self.entries.iter().filter_map(|(i, e)| match e {
            Entry::Listener(l) => Some((i, l)),
            _ => None,
        })
    }

    /// Number of open client connections.
    pub fn connections(&self) -> usize {
        self.entries
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Listener(_)))
            .count()
    }
}

// ------------------------------------------------------------- listeners

/// Opens every configured server; an error message suits `usage`.
pub fn open_servers(sup: &mut Supervisor) -> Result<(), String> {
    let configs = sup.core.options.servers.clone();
    for config in configs {
        let (socket, unlink) = match &config.family {
            ServerFamily::Inet { host, port } => (ListenSocket::Tcp(bind_inet(host, *port)?), None),
            ServerFamily::Unix { file, chmod, chown } => {
                let l = bind_unix(file, *chmod, *chown)?;
                (ListenSocket::Unix(l), Some(file.clone()))
            }
        };
        let fd = socket.fd();
        crate::sys::set_nonblocking(fd, true).map_err(|e| e.to_string())?;
        let i = sup.http.entries.insert(Entry::Busy);
        let key = sup
            .core
            .register(fd, Owner::Http(i), true, false)
            .map_err(|e| format!("Cannot open an HTTP server: {}", e))?;
        for rpc in &sup.core.options.rpcinterfaces {
            sup.core.logger.info(&format!(
                "RPC interface {} initialized",
                crate::datatypes::py_repr(&rpc.name)
            ));
        }
        if config.username.is_none() {
            sup.core.logger.critical(&format!(
                "Server {} running without any HTTP authentication checking",
                crate::datatypes::py_repr(&config.section)
            ));
        }
        if let Some(e) = sup.http.entries.get_mut(i) {
            *e = Entry::Listener(Listener {
                socket,
                key,
                config,
                unlink,
            });
        }
    }
    Ok(())
}

const IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.";

fn socket_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EADDRINUSE) => IN_USE.to_string(),
        Some(n) => match crate::sys::errno_name(n) {
            Some(name) => format!(
                "Cannot open an HTTP server: socket.error reported errno.{} ({})",
                name, n
            ),
            None => format!("Cannot open an HTTP server: socket.error reported {}", n),
        },
        None => format!("Cannot open an HTTP server: {}", e),
    }
}

fn bind_inet(host: &str, port: u16) -> Result<TcpListener, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() || host == "*" {
        "0.0.0.0"
    } else {
        host
    };
    let l = TcpListener::bind((host, port)).map_err(|e| socket_error(&e))?;
    let _ = crate::sys::listen(l.as_raw_fd(), 1024);
    Ok(l)
}

/// Binds a UNIX socket with its final permissions before any client can
/// connect: bind a private temporary name, chmod/chown it, then hard-link
/// it into place (as the reference does). A stale socket is removed; a live
/// one means another daemon runs and is an error.
fn bind_unix(file: &Path, mode: u32, owner: Option<(u32, u32)>) -> Result<UnixListener, String> {
    let tmp = PathBuf::from(format!("{}.{}", file.display(), crate::sys::getpid()));
    let _ = std::fs::remove_file(&tmp);
    let l = UnixListener::bind(&tmp).map_err(|e| socket_error(&e))?;
    let cleanup = |msg: String| {
        let _ = std::fs::remove_file(&tmp);
        msg
    };
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
        .map_err(|e| cleanup(socket_error(&e)))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&tmp, Some(uid), Some(gid))
            .map_err(|e| cleanup(format!("Cannot change ownership of socket file: {}", e)))?;
    }
    let _ = crate::sys::listen(l.as_raw_fd(), 1024);
    for _ in 0..2 {
        match std::fs::hard_link(&tmp, file) {
            Ok(()) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(l);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if UnixStream::connect(file).is_ok() {
                    return Err(cleanup(IN_USE.to_string()));
                }
                eprintln!("Unlinking stale socket {}", file.display());
                let _ = std::fs::remove_file(file);
            }
            Err(e) => return Err(cleanup(socket_error(&e))),
        }
    }
    Err(cleanup(IN_USE.to_string()))
}

/// Flushes what can be flushed quickly, closes every connection and
/// listener, and unlinks the socket files.
pub fn close_servers(sup: &mut Supervisor) {
    let ids: Vec<usize> = sup.http.entries.iter().map(|(i, _)| i).collect();
    for i in ids {
        match sup.http.entries.remove(i) {
            Some(Entry::Listener(l)) => {
                sup.core.deregister(l.key, l.socket.fd());
                if let Some(p) = l.unlink {
                    let _ = std::fs::remove_file(p);
                }
            }
            Some(Entry::Conn(mut c)) => {
                // Best effort: answers like `shutdown`'s are usually small.
                let _ = crate::sys::set_nonblocking(c.stream.fd(), false);
                let (a, b) = c.out.as_slices();
                let mut data = a.to_vec();
                data.extend_from_slice(b);
                if let Stream::Unix(s) = &c.stream {
                    let _ = s.set_write_timeout(Some(Duration::from_millis(500)));
                }
                if let Stream::Tcp(s) = &c.stream {
                    let _ = s.set_write_timeout(Some(Duration::from_millis(500)));
                }
                let _ = write_all(&mut c.stream, &data);
                sup.core.deregister(c.key, c.stream.fd());
            }
            _ => {}
        }
    }
}

fn write_all(s: &mut Stream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = s.write(data)?;
        if n == 0 {
            break;
        }
        data = &data[n..];
    }
    Ok(())
}

// ------------------------------------------------------------- the loop

/// An HTTP fd is ready.
pub fn ready(sup: &mut Supervisor, i: usize, r: Ready) {
    let Some(entry) = sup.http.entries.get_mut(i) else {
        return;
    };
    match std::mem::replace(entry, Entry::Busy) {
        Entry::Listener(l) => {
            accept_all(sup, i, &l);
            if let Some(e) = sup.http.entries.get_mut(i) {
                *e = Entry::Listener(l);
            }
        }
        Entry::Conn(mut c) => {
            let alive = conn_ready(sup, &mut c, r);
            finish_conn(sup, i, c, alive);
        }
        Entry::Busy => {}
    }
}

/// Called once per loop iteration: deferred answers and tail streams.
pub fn service(sup: &mut Supervisor) {
    let state_changed = std::mem::take(&mut sup.core.state_changed);
    let logs_dirty =
        std::mem::take(&mut sup.http.logs_dirty) || std::mem::take(&mut sup.core.logger.dirty);
    let timer_due = std::mem::take(&mut sup.http.woken);
    if !(state_changed || logs_dirty || timer_due) {
        return;
    }
    let ids: Vec<usize> = sup
        .http
        .entries
        .iter()
        .filter(|(_, e)| match e {
            Entry::Conn(c) => match c.state {
                ConnState::Waiting { .. } => true,
                ConnState::Tailing(_) => logs_dirty,
                ConnState::Idle => false,
            },
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let mut waiting = false;
    for i in ids {
        let Some(entry) = sup.http.entries.get_mut(i) else {
            continue;
        };
        let Entry::Conn(mut c) = std::mem::replace(entry, Entry::Busy) else {
            continue;
        };
        let alive = match c.state {
            ConnState::Waiting { .. } => {
                let alive = poll_deferred(sup, &mut c);
                waiting |= matches!(c.state, ConnState::Waiting { .. });
                alive
            }
            ConnState::Tailing(_) => pump_tail(&mut c) && flush(&mut c).is_ok(),
            ConnState::Idle => true,
        };
        finish_conn(sup, i, c, alive);
    }
    // Deferred answers also re-check once a second (stop reports, time).
    if waiting && !sup.http.timer_armed {
        sup.http.timer_armed = true;
        sup.core
            .timers
            .push(Instant::now() + Duration::from_secs(1), Timer::Http);
    }
    if !waiting {
        sup.http.timer_armed = false;
    }
}

impl HttpServer {
    /// The once-a-second wake-up for waiting answers fired.
    pub fn wake(&mut self) {
        self.timer_armed = false;
        self.woken = true;
    }
}

fn accept_all(sup: &mut Supervisor, li: usize, l: &Listener) {
    loop {
        match l.socket.accept() {
            Ok(stream) => {
                if crate::sys::set_nonblocking(stream.fd(), true).is_err() {
                    continue;
                }
                let i = sup.http.entries.insert(Entry::Busy);
                match sup.core.register(stream.fd(), Owner::Http(i), true, false) {
                    Ok(key) => {
                        if let Some(e) = sup.http.entries.get_mut(i) {
                            *e = Entry::Conn(Box::new(Conn {
                                stream,
                                key,
                                server: li,
                                inbuf: Vec::new(),
                                out: VecDeque::new(),
                                state: ConnState::Idle,
                                closing: false,
                                want_write: false,
                            }));
                        }
                    }
                    Err(_) => {
                        sup.http.entries.remove(i);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE)) {
                    // Stop accepting until a connection closes; otherwise a
                    // level-triggered listener would spin.
                    sup.core.logger.error(&format!(
                        "cannot accept a connection: {} (too many open files); pausing",
                        e
                    ));
                    let _ = sup.core.poller.modify(l.socket.fd(), l.key, false, false);
                    sup.http.paused = true;
                }
                return;
            }
        }
    }
}

/// Puts a connection back, or closes it.
fn finish_conn(sup: &mut Supervisor, i: usize, mut c: Box<Conn>, alive: bool) {
    if alive && !(c.closing && c.out.is_empty()) {
        let want_write = !c.out.is_empty();
        let want_read = !c.closing;
        if want_write != c.want_write || c.closing {
            let _ = sup
                .core
                .poller
                .modify(c.stream.fd(), c.key, want_read, want_write);
            c.want_write = want_write;
        }
        if let Some(e) = sup.http.entries.get_mut(i) {
            *e = Entry::Conn(c);
        }
        return;
    }
    sup.core.deregister(c.key, c.stream.fd());
    c.stream.shutdown();
    sup.http.entries.remove(i);
    if sup.http.paused {
        sup.http.paused = false;
        let ls: Vec<(RawFd, usize)> = sup
            .http
            .listeners()
            .map(|(_, l)| (l.socket.fd(), l.key))
            .collect();
        for (fd, key) in ls {
            let _ = sup.core.poller.modify(fd, key, true, false);
        }
    }
}

/// Handles readiness of a connection; false when it should be closed.
fn conn_ready(sup: &mut Supervisor, c: &mut Conn, r: Ready) -> bool {
    if r.writable && flush(c).is_err() {
        return false;
    }
    if r.readable {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match c.stream.read(&mut buf) {
                Ok(0) => {
                    // Client closed: finish writing what we owe, then close.
                    c.closing = true;
                    if matches!(c.state, ConnState::Waiting { .. } | ConnState::Tailing(_)) {
                        return false;
                    }
                    break;
                }
                Ok(n) => {
                    if c.closing || matches!(c.state, ConnState::Tailing(_)) {
                        continue;
                    }
                    c.inbuf.extend_from_slice(&buf[..n]);
                    if c.inbuf.len() > MAX_HEAD + MAX_BODY {
                        queue_response(c, &Response::error(413), "HTTP/1.1", true);
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }
    process_requests(sup, c);
    flush(c).is_ok()
}

/// Answers every complete request in the input buffer, in order, stopping
/// at a deferred answer or a stream.
fn process_requests(sup: &mut Supervisor, c: &mut Conn) {
    while matches!(c.state, ConnState::Idle) && !c.closing {
        match parse_request(&c.inbuf) {
            Ok(None) => return,
            Ok(Some((req, used))) => {
                c.inbuf.drain(..used);
                handle_request(sup, c, req);
            }
            Err(HttpError(code)) => {
                c.inbuf.clear();
                queue_response(c, &Response::error(code), "HTTP/1.1", true);
                return;
            }
        }
    }
}

fn queue_response(c: &mut Conn, resp: &Response, version: &str, close: bool) {
    c.out.extend(resp.encode(version, close));
    if close {
        c.closing = true;
    }
}

/// Writes as much buffered output as the socket takes.
fn flush(c: &mut Conn) -> io::Result<()> {
    while !c.out.is_empty() {
        let (a, _) = c.out.as_slices();
        match c.stream.write(a) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => {
                c.out.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    // After a large answer (getAllProcessInfo of a big fleet is megabytes),
    // give the memory back instead of keeping the peak for good.
    if c.out.capacity() > LARGE_RESPONSE {
        c.out = VecDeque::new();
        crate::sys::release_free_memory();
    }
    Ok(())
}

/// Responses above this size release their buffers once sent.
const LARGE_RESPONSE: usize = 256 * 1024;

// ------------------------------------------------------------- routing

fn handle_request(sup: &mut Supervisor, c: &mut Conn, req: Request) {
    let close = !req.keep_alive();
    let version = req.version.clone();
    let config = match sup.http.entries.get(c.server) {
        Some(Entry::Listener(l)) => l.config.clone(),
        _ => {
            queue_response(c, &Response::error(500), &version, true);
            return;
        }
    };
    if config.username.is_some() {
        match check_auth(&config, &req) {
            Auth::Ok => {}
            Auth::Malformed => {
                queue_response(c, &Response::error(400), &version, true);
                return;
            }
            Auth::Denied => {
                let resp =
                    Response::error(401).header("WWW-Authenticate", "Basic realm=\"default\"");
                queue_response(c, &resp, &version, true);
                return;
            }
        }
    }
    sup.core
        .logger
        .trace(&format!("{} {} {}", req.method, req.uri, req.version));
    let path = req.path().to_string();
    if path.starts_with("/RPC2") {
        handle_rpc(sup, c, req, &version, close);
    } else if path.starts_with("/logtail") {
        if req.method != "GET" {
            queue_response(c, &Response::error(400), &version, close);
        } else {
            start_logtail(sup, c, &req, &version, close);
        }
    } else if path.starts_with("/mainlogtail") {
        if req.method != "GET" {
            queue_response(c, &Response::error(400), &version, close);
        } else {
            start_mainlogtail(sup, c, &version, close);
        }
    } else {
        match crate::web::handle(sup, &req) {
            None => queue_response(c, &Response::error(404), &version, close),
            Some(WebOutcome::Done(resp)) => queue_response(c, &resp, &version, close),
            Some(WebOutcome::Deferred(deferred, finish)) => {
                c.state = ConnState::Waiting {
                    deferred,
                    web: Some(finish),
                    version,
                    close,
                };
                poll_deferred(sup, c);
            }
        }
    }
}

enum Auth {
    Ok,
    Denied,
    Malformed,
}

fn check_auth(config: &ServerConfig, req: &Request) -> Auth {
    let Some(value) = req.header("authorization") else {
        return Auth::Denied;
    };
    let mut parts = value.splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    if !scheme.eq_ignore_ascii_case("basic") {
        return Auth::Denied;
    }
    let cookie = parts.next().unwrap_or("").trim();
    let Ok(decoded) = xmlrpc::base64_decode(cookie) else {
        return Auth::Malformed;
    };
    let decoded = String::from_utf8_lossy(&decoded);
    let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
    let (Some(want_user), Some(want_pass)) = (&config.username, &config.password) else {
        return Auth::Denied;
    };
    let user_ok = constant_time_eq(user.as_bytes(), want_user.as_bytes());
    let pass_ok = match want_pass.strip_prefix("{SHA}") {
        Some(hex) => {
            use sha1::{Digest, Sha1};
            let digest = Sha1::digest(pass.as_bytes());
            let mine: String = digest.iter().map(|b| format!("{:02x}", b)).collect();
            constant_time_eq(mine.as_bytes(), hex.to_ascii_lowercase().as_bytes())
        }
        None => constant_time_eq(pass.as_bytes(), want_pass.as_bytes()),
    };
    if user_ok & pass_ok {
        Auth::Ok
    } else {
        Auth::Denied
    }
}

/// Compares without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | ((a.len() ^ b.len()) >> 8) as u8;
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff);
    }
    diff == 0 && a.len() == b.len()
}

// ------------------------------------------------------------- XML-RPC

fn handle_rpc(sup: &mut Supervisor, c: &mut Conn, req: Request, version: &str, close: bool) {
    if req.method != "POST" {
        queue_response(c, &Response::error(400), version, close);
        return;
    }
    if req.header("content-length").is_none() {
        queue_response(c, &Response::error(411), version, close);
        return;
    }
    let (method, params) = match xmlrpc::parse_call(&req.body) {
        Ok(v) => v,
        Err(e) => {
            sup.core
                .logger
                .warn(&format!("XML-RPC request could not be parsed: {}", e));
            queue_response(c, &Response::error(400), version, close);
            return;
        }
    };
    match rpcinterface::call(sup, &method, params) {
        RpcOutcome::Done(result) => queue_rpc_result(c, result, version, close),
        RpcOutcome::Deferred(d) => {
            c.state = ConnState::Waiting {
                deferred: d,
                web: None,
                version: version.to_string(),
                close,
            };
            // Answer at once if it is already decided.
            poll_deferred(sup, c);
        }
    }
}

fn queue_rpc_result(
    c: &mut Conn,
    result: Result<xmlrpc::Value, Fault>,
    version: &str,
    close: bool,
) {
    let body = match &result {
        Ok(v) => xmlrpc::encode_response(v),
        Err(f) => xmlrpc::encode_fault(f),
    };
    let resp = Response::new(200, "text/xml", body.into_bytes());
    queue_response(c, &resp, version, close);
}

/// Re-checks a waiting answer; false if the connection died meanwhile.
fn poll_deferred(sup: &mut Supervisor, c: &mut Conn) -> bool {
    let ConnState::Waiting { deferred, .. } = &mut c.state else {
        return true;
    };
    let Some(result) = deferred.poll(sup) else {
        return true;
    };
    let ConnState::Waiting {
        version,
        close,
        web,
        ..
    } = std::mem::replace(&mut c.state, ConnState::Idle)
    else {
        return true;
    };
    match web {
        Some(finish) => {
            let resp = finish(sup, result);
            queue_response(c, &resp, &version, close);
        }
        None => queue_rpc_result(c, result, &version, close),
    }
    process_requests(sup, c);
    flush(c).is_ok()
}

// ------------------------------------------------------------- log tails

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as is.
/// Works on bytes: a `%` before a multi-byte character must not panic.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |k: usize| b.get(k).and_then(|c| (*c as char).to_digit(16));
        if let (b'%', Some(hi), Some(lo)) = (b[i], hex(i + 1), hex(i + 2)) {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn start_logtail(sup: &mut Supervisor, c: &mut Conn, req: &Request, version: &str, close: bool) {
    let path = percent_decode(req.path());
    let rest = path.trim_start_matches('/');
    let rest = rest.split_once('/').map(|(_, r)| r).unwrap_or("");
    let (spec, channel) = match rest.split_once('/') {
        Some((s, ch)) => (s.to_string(), ch.to_string()),
        None => (rest.to_string(), "stdout".to_string()),
    };
    let (group, name) = crate::options::split_namespec(&spec);
    let logfile = sup
        .group(&group)
        .and_then(|g| {
            g.procs.iter().find_map(|id| {
                sup.procs
                    .get(*id)
                    .filter(|p| Some(p.config.name.as_str()) == name.as_deref())
            })
        })
        .and_then(|p| match channel.as_str() {
            "stdout" => p.stdout_logfile.clone(),
            "stderr" => p.stderr_logfile.clone(),
            _ => None,
        });
    match logfile {
        Some(p) if p.exists() => start_tail(c, p, version, true),
        _ => queue_response(c, &Response::error(404), version, close),
    }
}

fn start_mainlogtail(sup: &mut Supervisor, c: &mut Conn, version: &str, close: bool) {
    match sup.core.logger.file_path().map(Path::to_path_buf) {
        Some(p) if p.exists() => start_tail(c, p, version, false),
        _ => queue_response(c, &Response::error(404), version, close),
    }
}

/// Sends the stream head and the last 1024 bytes, then follows the file.
fn start_tail(c: &mut Conn, path: PathBuf, version: &str, accel: bool) {
    let meta = std::fs::metadata(&path).ok();
    let mtime = meta.as_ref().map(|m| m.mtime()).unwrap_or(0);
    let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
    let chunked = version == "HTTP/1.1";
    let mut head = format!(
        "{} 200 OK\r\nServer: Medusa/1.12\r\nDate: {}\r\nLast-Modified: {}\r\nContent-Type: text/plain;charset=utf-8\r\n",
        if chunked { "HTTP/1.1" } else { "HTTP/1.0" },
        http_date(now_secs()),
        http_date(mtime)
    );
    if accel {
        head.push_str("X-Accel-Buffering: no\r\n");
    }
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    }
    head.push_str("\r\n");
    c.out.extend(head.into_bytes());
    let mut tail = Tail {
        path,
        offset: size.saturating_sub(1024),
        ino: meta.map(|m| m.ino()).unwrap_or(0),
        chunked,
    };
    // Anything still queued on this connection is dropped: a stream never ends.
    c.inbuf.clear();
    send_new_data(c, &mut tail);
    c.state = ConnState::Tailing(tail);
}

/// Follows the file of a tailing connection; false if the client is gone.
fn pump_tail(c: &mut Conn) -> bool {
    let ConnState::Tailing(mut tail) = std::mem::replace(&mut c.state, ConnState::Idle) else {
        return true;
    };
    send_new_data(c, &mut tail);
    c.state = ConnState::Tailing(tail);
    // Don't buffer without bound for a client that stopped reading.
    c.out.len() < 4 * 1024 * 1024
}

fn send_new_data(c: &mut Conn, tail: &mut Tail) {
    let Ok(meta) = std::fs::metadata(&tail.path) else {
        return;
    };
    let mut data = Vec::new();
    if meta.ino() != tail.ino {
        // Rotated or recreated: follow the new file from its start.
        tail.ino = meta.ino();
        tail.offset = 0;
    } else if meta.len() < tail.offset {
        data.extend_from_slice(b"==> File truncated <==\n");
        tail.offset = 0;
    }
    if meta.len() > tail.offset {
        if let Ok(mut f) = std::fs::File::open(&tail.path) {
            if f.seek(SeekFrom::Start(tail.offset)).is_ok() {
                let want = (meta.len() - tail.offset).min(1024 * 1024) as usize;
                let mut buf = vec![0; want];
                if let Ok(n) = read_up_to(&mut f, &mut buf) {
                    data.extend_from_slice(&buf[..n]);
                    tail.offset += n as u64;
                }
            }
        }
    }
    if data.is_empty() {
        return;
    }
    if tail.chunked {
        c.out.extend(format!("{:x}\r\n", data.len()).into_bytes());
        c.out.extend(data);
        c.out.extend(b"\r\n".iter().copied());
    } else {
        c.out.extend(data);
    }
}

fn read_up_to(f: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_and_pipelines() {
        let raw =
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n";
        let (r, used) = parse_request(raw).unwrap().unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.body, b"abc");
        assert_eq!(r.header("host"), Some("x"));
        assert!(r.keep_alive());
        let (r2, used2) = parse_request(&raw[used..]).unwrap().unwrap();
        assert_eq!(r2.uri, "/");
        assert!(!r2.keep_alive());
        assert_eq!(used + used2, raw.len());
    }

    #[test]
    fn incomplete_and_bad_requests() {
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n"), Ok(None));
        assert_eq!(
            parse_request(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"),
            Ok(None)
        );
        assert_eq!(parse_request(b"GARBAGE\r\n\r\n"), Err(HttpError(400)));
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Err(HttpError(400))
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n"),
            Err(HttpError(400))
        );
        let big = vec![b'a'; MAX_HEAD + 10];
        assert_eq!(parse_request(&big), Err(HttpError(431)));
        let huge = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(parse_request(huge.as_bytes()), Err(HttpError(413)));
    }

    #[test]
    fn dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1795319277), "Sun, 22 Nov 2026 03:47:57 GMT");
    }

    #[test]
    fn error_page_matches_medusa() {
        let r = Response::error(404).encode("HTTP/1.1", false);
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\nServer: Medusa/1.12\r\nDate: "));
        assert!(text.contains("Content-Length: 134\r\nContent-Type: text/html\r\n\r\n<head>\r\n"));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("/logtail/a%3Ab/stderr"),
            "/logtail/a:b/stderr"
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%a\u{e9}%2"), "%a\u{e9}%2");
        assert_eq!(percent_decode("%+1%e2%82%ac"), "%+1\u{20ac}");
    }
}
