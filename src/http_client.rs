//! http_client: the small blocking HTTP/1.1 client supervisorctl talks to
//! supervisord with.
//!
//! Two uses: XML-RPC calls (`POST /RPC2` on a kept-alive connection, Basic
//! auth when both username and password are set, as the reference's
//! transport does) and the log-tail streams (`GET /logtail/...` and
//! `/mainlogtail`, body delivered as it arrives, Basic auth whenever a
//! password is set, as the reference's tail client does). Servers are
//! `unix:///path` or `http://host[:port]` (IPv4, IPv6 in brackets, names).
//! Response bodies may be sized by Content-Length, chunked, or run until
//! the server closes.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use crate::xmlrpc::{self, Fault, Value};

/// The largest response head or XML-RPC body we accept.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 512 * 1024 * 1024;

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///path`: everything after `unix://` is the socket path.
    Unix(PathBuf),
    /// `http://host[:port]` (port 80 when absent).
    Tcp { host: String, port: u16 },
}

impl Endpoint {
    /// Parses a `serverurl`. Any path after the authority is ignored, as
    /// the reference does.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(format!("Unknown protocol for serverurl {url}"));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or("");
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("Invalid IPv6 URL {url}"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        // Python's urlparse messages, which supervisorctl shows.
        let port = match port {
            None | Some("") => 80,
            Some(p) => match p.parse::<u64>() {
                Ok(n) => u16::try_from(n).map_err(|_| "Port out of range 0-65535".to_string())?,
                Err(_) => return Err(format!("Port could not be cast to integer value as '{p}'")),
            },
        };
        Ok(Endpoint::Tcp {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The `Host` header value (Python's http.client conventions).
    fn host_header(&self) -> String {
        match self {
            Endpoint::Unix(_) => "localhost".to_string(),
            Endpoint::Tcp { host, port } => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                if *port == 80 {
                    host
                } else {
                    format!("{host}:{port}")
                }
            }
        }
    }

    fn connect(&self) -> Result<Stream, CallError> {
        match self {
            Endpoint::Unix(path) => UnixStream::connect(path)
                .map(Stream::Unix)
                .map_err(CallError::Io),
            Endpoint::Tcp { host, port } => {
                let addrs = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| CallError::Resolve(resolve_message(&e)))?;
                let mut last = None;
                for addr in addrs {
                    match TcpStream::connect(addr) {
                        Ok(s) => return Ok(Stream::Tcp(s)),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last
                    .map(CallError::Io)
                    .unwrap_or_else(|| CallError::Resolve("Name or service not known".to_string())))
            }
        }
    }
}

/// The resolver's own message, without std's prefix.
fn resolve_message(e: &io::Error) -> String {
    let text = e.to_string();
    text.strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text)
        .to_string()
}

/// A connected socket.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }
}

/// Why a call or a stream failed.
#[derive(Debug)]
pub enum CallError {
    /// The server answered with an XML-RPC fault.
    Fault(Fault),
    /// A socket error while connecting, sending or receiving.
    Io(io::Error),
    /// The host name did not resolve (the resolver's message).
    Resolve(String),
    /// The server answered with an HTTP status other than 200.
    Http { status: u16, reason: String },
    /// The server closed the connection before sending a response.
    Disconnected,
    /// The response was not valid HTTP or XML-RPC.
    BadResponse(String),
    /// SIGINT arrived while waiting (see `sys::catch_interrupts`).
    Interrupted,
}

impl CallError {
    /// The errno of a socket error, if that is what this is.
    pub fn errno(&self) -> Option<i32> {
        match self {
            CallError::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Fault(fault) => write!(f, "{}: {}", fault.code, fault.string),
            CallError::Io(e) => write!(f, "{e}"),
            CallError::Resolve(msg) => write!(f, "cannot resolve host: {msg}"),
            CallError::Http { status, reason } => write!(f, "HTTP {status} {reason}"),
            CallError::Disconnected => {
                write!(f, "Remote end closed connection without response")
            }
            CallError::BadResponse(msg) => write!(f, "bad response: {msg}"),
            CallError::Interrupted => write!(f, "interrupted"),
        }
    }
}

impl std::error::Error for CallError {}

/// Standard base64 of `user:password` for a Basic `Authorization` header.
fn basic_auth(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        xmlrpc::base64_encode(format!("{username}:{password}").as_bytes())
    )
}

// ------------------------------------------------------------- response parsing

/// The status line and the headers that matter to us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    /// The server keeps the connection open after this response.
    pub keep_alive: bool,
    framing: Framing,
}

/// How the body's end is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Parses a complete response head (up to, excluding, the blank line).
fn parse_head(text: &str) -> Result<ResponseHead, String> {
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/") {
        return Err(format!("bad status line {status_line:?}"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let reason = parts.next().unwrap_or("").trim().to_string();
    let mut keep_alive = version == "HTTP/1.1";
    let mut framing = Framing::UntilClose;
    let mut chunked = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                let n = value
                    .parse()
                    .map_err(|_| format!("bad Content-Length {value:?}"))?;
                framing = Framing::Length(n);
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => match value.to_ascii_lowercase().as_str() {
                "close" => keep_alive = false,
                "keep-alive" => keep_alive = true,
                _ => {}
            },
            _ => {}
        }
    }
    if chunked {
        framing = Framing::Chunked;
    }
    if framing == Framing::UntilClose {
        keep_alive = false;
    }
    Ok(ResponseHead {
        status,
        reason,
        keep_alive,
        framing,
    })
}

/// Where a chunked body decoder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    /// Reading the hex size line.
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(usize),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines after the last chunk, until a blank one.
    Trailer,
}

/// An incremental HTTP response parser: feed it bytes as they arrive, it
/// hands out body bytes as soon as they are decoded.
#[derive(Debug)]
pub struct ResponseParser {
    /// Bytes not yet consumed (head, or a partial chunk-size line).
    pending: Vec<u8>,
    head: Option<ResponseHead>,
    /// Body bytes still expected (Length framing).
    remaining: usize,
    chunk: ChunkState,
    done: bool,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseParser {
    pub fn new() -> ResponseParser {
        ResponseParser {
            pending: Vec::new(),
            head: None,
            remaining: 0,
            chunk: ChunkState::Size,
            done: false,
        }
    }

    /// The head, once it has been received.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.head.as_ref()
    }

    /// Whether the whole response has been received.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Consumes `data`, appending decoded body bytes to `body`.
    pub fn feed(&mut self, data: &[u8], body: &mut Vec<u8>) -> Result<(), String> {
        let mut data = data;
        let owned;
        if self.head.is_none() {
            self.pending.extend_from_slice(data);
            let Some(end) = find_head_end(&self.pending) else {
                if self.pending.len() > MAX_HEAD {
                    return Err("response head too long".to_string());
                }
                return Ok(());
            };
            let head = parse_head(&String::from_utf8_lossy(&self.pending[..end.0]))?;
            if let Framing::Length(n) = head.framing {
                self.remaining = n;
                self.done = n == 0;
            }
            self.head = Some(head);
            owned = self.pending.split_off(end.1);
            self.pending.clear();
            data = &owned;
        }
        match self.head.as_ref().map(|h| h.framing) {
            Some(Framing::Length(_)) => {
                let take = data.len().min(self.remaining);
                body.extend_from_slice(&data[..take]);
                self.remaining -= take;
                self.done = self.remaining == 0;
                Ok(())
            }
            Some(Framing::Chunked) => self.feed_chunked(data, body),
            _ => {
                body.extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// The connection closed; Ok if the response is complete (or runs
    /// until close), an error if it was cut short.
    pub fn finish(&mut self) -> Result<(), String> {
        match self.head.as_ref().map(|h| h.framing) {
            None => Err("connection closed in the response head".to_string()),
            Some(Framing::UntilClose) => {
                self.done = true;
                Ok(())
            }
            Some(_) if self.done => Ok(()),
            Some(_) => Err("connection closed in the middle of the body".to_string()),
        }
    }

    fn feed_chunked(&mut self, mut data: &[u8], body: &mut Vec<u8>) -> Result<(), String> {
        while !data.is_empty() && !self.done {
            match self.chunk {
                ChunkState::Data(left) => {
                    let take = data.len().min(left);
                    body.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    self.chunk = if take == left {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - take)
                    };
                }
                _ => {
                    let Some(nl) = data.iter().position(|&b| b == b'\n') else {
                        self.pending.extend_from_slice(data);
                        if self.pending.len() > MAX_HEAD {
                            return Err("chunk line too long".to_string());
                        }
                        return Ok(());
                    };
                    self.pending.extend_from_slice(&data[..nl]);
                    data = &data[nl + 1..];
                    let line = std::mem::take(&mut self.pending);
                    self.chunk_line(String::from_utf8_lossy(&line).trim())?;
                }
            }
        }
        Ok(())
    }

    /// Handles one complete line of chunked framing.
    fn chunk_line(&mut self, line: &str) -> Result<(), String> {
        match self.chunk {
            ChunkState::Size => {
                let hex = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(hex, 16)
                    .map_err(|_| format!("bad chunk size {line:?}"))?;
                self.chunk = if size == 0 {
                    ChunkState::Trailer
                } else {
                    ChunkState::Data(size)
                };
            }
            ChunkState::DataEnd => {
                if !line.is_empty() {
                    return Err("missing CRLF after chunk data".to_string());
                }
                self.chunk = ChunkState::Size;
            }
            ChunkState::Trailer => self.done = line.is_empty(),
            ChunkState::Data(_) => {}
        }
        Ok(())
    }
}

/// (end of the head text, start of the body) in `buf`, if the blank line
/// ending the head has arrived.
fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = buf.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(c), Some(l)) if l < c => Some((l, l + 2)),
        (Some(c), _) => Some((c, c + 4)),
        (None, Some(l)) => Some((l, l + 2)),
        (None, None) => None,
    }
}

// ------------------------------------------------------------------ XML-RPC

/// An XML-RPC client on one server, reusing its connection between calls.
pub struct Client {
    endpoint: Endpoint,
    username: Option<String>,
    password: Option<String>,
    conn: Option<Stream>,
}

impl Client {
    /// A client for `serverurl` (`unix:///path` or `http://host:port`).
    pub fn new(
        serverurl: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<Client, String> {
        Ok(Client {
            endpoint: Endpoint::parse(serverurl)?,
            username: username.map(str::to_string),
            password: password.map(str::to_string),
            conn: None,
        })
    }

    /// Calls `method`: its value, or why not.
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        let body = xmlrpc::encode_call(method, params);
        let (head, data) = self.post("/RPC2", body.as_bytes())?;
        if head.status != 200 {
            return Err(CallError::Http {
                status: head.status,
                reason: head.reason,
            });
        }
        match xmlrpc::parse_response(&data) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(fault)) => Err(CallError::Fault(fault)),
            Err(e) => Err(CallError::BadResponse(e)),
        }
    }

    /// Sends one POST, retrying once on a fresh connection when a kept-alive
    /// one turns out to have been closed by the server.
    fn post(&mut self, path: &str, body: &[u8]) -> Result<(ResponseHead, Vec<u8>), CallError> {
        let request = self.request_bytes(path, body);
        let reused = self.conn.is_some();
        match self.exchange(&request) {
            Err(CallError::Disconnected) if reused => self.exchange(&request),
            Err(CallError::Io(e)) if reused && is_stale(&e) => self.exchange(&request),
            other => other,
        }
    }

    fn request_bytes(&self, path: &str, body: &[u8]) -> Vec<u8> {
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: identity\r\n\
             User-Agent: supervisorctl/{}\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n",
            self.endpoint.host_header(),
            crate::VERSION
        );
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            head.push_str(&format!("Authorization: {}\r\n", basic_auth(u, p)));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn exchange(&mut self, request: &[u8]) -> Result<(ResponseHead, Vec<u8>), CallError> {
        let result = self.exchange_once(request);
        if result.is_err() && crate::sys::interrupted() {
            self.conn = None;
            return Err(CallError::Interrupted);
        }
        result
    }

    fn exchange_once(&mut self, request: &[u8]) -> Result<(ResponseHead, Vec<u8>), CallError> {
        let mut stream = match self.conn.take() {
            Some(s) => s,
            None => self.endpoint.connect()?,
        };
        stream.write_all(request).map_err(CallError::Io)?;
        let mut parser = ResponseParser::new();
        let mut body = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let mut received = false;
        while !parser.is_done() {
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted && !crate::sys::interrupted() => {
                    continue
                }
                Err(e) => return Err(CallError::Io(e)),
            };
            if n == 0 {
                if !received {
                    return Err(CallError::Disconnected);
                }
                parser.finish().map_err(CallError::BadResponse)?;
                break;
            }
            received = true;
            parser
                .feed(&buf[..n], &mut body)
                .map_err(CallError::BadResponse)?;
            if body.len() > MAX_BODY {
                return Err(CallError::BadResponse(
                    "response body too large".to_string(),
                ));
            }
        }
        let head = parser
            .head()
            .cloned()
            .ok_or_else(|| CallError::BadResponse("no response head".to_string()))?;
        if head.keep_alive && head.status == 200 {
            self.conn = Some(stream);
        }
        Ok((head, body))
    }
}

/// Errors that mean a kept-alive connection had been closed by the server.
fn is_stale(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

// ------------------------------------------------------------------ streams

/// A streaming `GET` (log tails): connect with [`LogStream::open`], poll
/// its fd, call [`LogStream::read_some`] when readable.
pub struct LogStream {
    stream: Stream,
    parser: ResponseParser,
    /// The full URL (`serverurl` + path), as the reference names it in
    /// its error messages.
    pub url: String,
}

/// What one read of a [`LogStream`] produced.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// Body bytes (possibly none, e.g. only head bytes arrived).
    Data(Vec<u8>),
    /// The server answered with this non-200 status; the stream is over.
    Status(u16),
    /// The response or the connection ended.
    End,
}

impl LogStream {
    /// Connects to `serverurl` and sends `GET path`. Basic auth is sent
    /// whenever a password is set, as the reference's tail client does.
    pub fn open(
        serverurl: &str,
        path: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<LogStream, CallError> {
        let endpoint = Endpoint::parse(serverurl).map_err(CallError::BadResponse)?;
        let mut stream = endpoint.connect()?;
        let mut req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\n\
             User-agent: Supervisor HTTP Client\r\n",
            endpoint.host_header()
        );
        if let Some(p) = password.filter(|p| !p.is_empty()) {
            let auth = basic_auth(username.unwrap_or(""), p);
            req.push_str(&format!("Authorization: {auth}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).map_err(CallError::Io)?;
        Ok(LogStream {
            stream,
            parser: ResponseParser::new(),
            url: format!("{serverurl}{path}"),
        })
    }

    /// The socket, for polling.
    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// One read (blocks if nothing is ready).
    pub fn read_some(&mut self) -> Result<StreamEvent, CallError> {
        let mut buf = [0u8; 16 * 1024];
        let n = loop {
            match self.stream.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CallError::Io(e)),
            }
        };
        if n == 0 {
            return Ok(StreamEvent::End);
        }
        let mut body = Vec::new();
        self.parser
            .feed(&buf[..n], &mut body)
            .map_err(CallError::BadResponse)?;
        match self.parser.head() {
            Some(h) if h.status != 200 => Ok(StreamEvent::Status(h.status)),
            _ if self.parser.is_done() && body.is_empty() => Ok(StreamEvent::End),
            _ => Ok(StreamEvent::Data(body)),
        }
    }

    /// Whether the response has been fully received.
    pub fn is_done(&self) -> bool {
        self.parser.is_done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(parts: &[&[u8]]) -> (ResponseParser, Vec<u8>) {
        let mut p = ResponseParser::new();
        let mut body = Vec::new();
        for part in parts {
            p.feed(part, &mut body).expect("valid response");
        }
        (p, body)
    }

    #[test]
    fn content_length_response_in_one_piece() {
        let (p, body) =
            feed_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello"]);
        assert!(p.is_done());
        assert_eq!(body, b"hello");
        let head = p.head().expect("head");
        assert_eq!(
            (head.status, head.reason.as_str(), head.keep_alive),
            (200, "OK", true)
        );
    }

    #[test]
    fn split_reads_byte_by_byte() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n";
        let parts: Vec<&[u8]> = raw.chunks(1).collect();
        let (p, body) = feed_all(&parts);
        assert!(p.is_done());
        assert_eq!(body, b"abc0123456789abcdef");
    }

    #[test]
    fn chunked_in_uneven_pieces_delivers_data_early() {
        let mut p = ResponseParser::new();
        let mut body = Vec::new();
        p.feed(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            &mut body,
        )
        .expect("ok");
        assert_eq!(body, b"hel");
        assert!(!p.is_done());
        p.feed(b"lo\r\n0\r\n\r\n", &mut body).expect("ok");
        assert_eq!(body, b"hello");
        assert!(p.is_done());
    }

    #[test]
    fn until_close_and_connection_close() {
        let (mut p, body) = feed_all(&[b"HTTP/1.0 200 OK\r\n\r\nsome", b" data"]);
        assert!(!p.is_done());
        assert_eq!(p.finish(), Ok(()));
        assert_eq!(body, b"some data");
        assert!(!p.head().expect("head").keep_alive);
        let (p, _) =
            feed_all(&[b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"]);
        assert!(p.is_done());
        assert!(!p.head().expect("head").keep_alive);
    }

    #[test]
    fn truncated_and_malformed_responses_are_errors() {
        let (mut p, _) = feed_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
        assert!(p.finish().is_err());
        let mut p = ResponseParser::new();
        assert!(p.finish().is_err());
        let mut body = Vec::new();
        assert!(ResponseParser::new()
            .feed(b"garbage\r\n\r\n", &mut body)
            .is_err());
        assert!(ResponseParser::new()
            .feed(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                &mut body
            )
            .is_err());
        assert!(ResponseParser::new()
            .feed(b"HTTP/1.1 abc OK\r\n\r\n", &mut body)
            .is_err());
    }

    #[test]
    fn error_status_head() {
        let (p, _) = feed_all(&[b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nno!"]);
        let head = p.head().expect("head");
        assert_eq!((head.status, head.reason.as_str()), (401, "Unauthorized"));
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::parse("unix:///tmp/x.sock"),
            Ok(Endpoint::Unix(PathBuf::from("/tmp/x.sock")))
        );
        assert_eq!(
            Endpoint::parse("http://LocalHost:9001/RPC2"),
            Ok(Endpoint::Tcp {
                host: "localhost".into(),
                port: 9001
            })
        );
        assert_eq!(
            Endpoint::parse("http://[::1]:9001"),
            Ok(Endpoint::Tcp {
                host: "::1".into(),
                port: 9001
            })
        );
        assert_eq!(
            Endpoint::parse("http://host"),
            Ok(Endpoint::Tcp {
                host: "host".into(),
                port: 80
            })
        );
        assert!(Endpoint::parse("ftp://x").is_err());
        assert_eq!(
            Endpoint::parse("http://x:notaport"),
            Err("Port could not be cast to integer value as 'notaport'".to_string())
        );
        assert_eq!(
            Endpoint::parse("http://x:65536"),
            Err("Port out of range 0-65535".to_string())
        );
        assert_eq!(
            Endpoint::parse("http://[::1]:9001").map(|e| e.host_header()),
            Ok("[::1]:9001".to_string())
        );
        assert_eq!(
            Endpoint::parse("unix:///x").map(|e| e.host_header()),
            Ok("localhost".to_string())
        );
    }

    #[test]
    fn basic_auth_header() {
        assert_eq!(basic_auth("user", "123"), "Basic dXNlcjoxMjM=");
    }
}
