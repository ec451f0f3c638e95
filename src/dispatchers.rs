//! Dispatchers: what happens to the bytes on a child's pipes.
//!
//! `OutputDispatcher` (stdout/stderr): capture mode and its tokens, the log
//! file and syslog, the activity-log copy at DEBUG, PROCESS_LOG and
//! PROCESS_COMMUNICATION events. `InputDispatcher` buffers what is written to
//! a child's stdin. `ListenerProtocol` is the event-listener side of stdout
//! (READY / RESULT n / payload). Reading and writing the pipes themselves is
//! the main loop's job; these types only see the bytes, so they can be
//! tested without processes.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::datatypes::py_repr;
use crate::events::{bytes_repr, decode_or_repr, Notification};
use crate::loggers::{LogFile, LogLevel, Logger};
use crate::states::ListenerState;

/// Capture-mode tokens.
pub const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
pub const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// Which output channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// Where a dispatcher's side effects go, and who it belongs to.
pub struct Sink<'a> {
    pub logger: &'a mut Logger,
    pub notes: &'a mut Vec<Notification>,
    pub name: &'a str,
    pub group: &'a str,
    pub pid: i32,
    pub strip_ansi: bool,
}

/// Settings of one output channel's logging.
pub struct OutputSettings<'a> {
    pub logfile: Option<&'a Path>,
    pub maxbytes: u64,
    pub backups: i64,
    pub syslog: bool,
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
}

/// The reference's BoundIO: keeps at most `max` bytes, dropping from the
/// front by the size of each write that would overflow.
#[derive(Debug, Default)]
struct BoundBuffer {
    max: usize,
    buf: Vec<u8>,
}

impl BoundBuffer {
    fn write(&mut self, b: &[u8]) {
        if self.buf.len() + b.len() > self.max {
            let cut = b.len().min(self.buf.len());
            self.buf.drain(..cut);
        }
        self.buf.extend_from_slice(b);
    }
}

/// Capture-mode state of an output channel.
#[derive(Debug)]
struct Capture {
    bound: BoundBuffer,
    /// Between a BEGIN and an END token.
    active: bool,
    /// Bytes held back while looking for a token.
    pending: Vec<u8>,
}

/// Strips ANSI escapes when asked (`strip_ansi`).
fn maybe_strip(data: &[u8], strip: bool) -> std::borrow::Cow<'_, [u8]> {
    if strip {
        std::borrow::Cow::Owned(strip_escapes(data))
    } else {
        std::borrow::Cow::Borrowed(data)
    }
}

/// One output pipe of a process.
#[derive(Debug)]
pub struct OutputDispatcher {
    pub channel: Channel,
    /// The parent end of the pipe, while open.
    pub pipe: Option<File>,
    /// Poller key of `pipe`.
    pub key: usize,
    log: Option<LogFile>,
    syslog: bool,
    /// Capture mode (`*_capture_maxbytes` > 0); boxed since it is rare.
    capture: Option<Box<Capture>>,
    events_enabled: bool,
    /// A write to the log failed; logged once until writes work again.
    write_failed: bool,
    /// Set when the log file grew (for `tail -f` followers).
    pub wrote: bool,
    /// The pipe was found full and was given a larger capacity.
    pub enlarged: bool,
}

impl OutputDispatcher {
    /// Opens the channel's log file (appending) if it has one.
    pub fn new(channel: Channel, pipe: File, key: usize, s: &OutputSettings) -> io::Result<Self> {
        let log = match s.logfile {
            Some(p) => Some(LogFile::open(p, s.maxbytes, s.backups)?),
            None => None,
        };
        Ok(OutputDispatcher {
            channel,
            pipe: Some(pipe),
            key,
            log,
            syslog: s.syslog,
            capture: (s.capture_maxbytes > 0).then(|| {
                Box::new(Capture {
                    bound: BoundBuffer {
                        max: s.capture_maxbytes as usize,
                        buf: Vec::new(),
                    },
                    active: false,
                    pending: Vec::new(),
                })
            }),
            events_enabled: s.events_enabled,
            write_failed: false,
            wrote: false,
            enlarged: false,
        })
    }

    /// Handles bytes read from the pipe (never empty: EOF is handled by the
    /// caller closing the pipe).
    pub fn feed(&mut self, data: &[u8], sink: &mut Sink) {
        let Some(cap) = self.capture.as_mut() else {
            self.log(data, sink);
            return;
        };
        cap.pending.extend_from_slice(data);
        self.record_output(sink);
    }

    /// The reference's `record_output` with its quirk: while capture is
    /// enabled, a buffer no longer than the token waits for more data.
    fn record_output(&mut self, sink: &mut Sink) {
        loop {
            let Some(cap) = self.capture.as_mut() else {
                return;
            };
            let token = if cap.active { END_TOKEN } else { BEGIN_TOKEN };
            if cap.pending.len() <= token.len() {
                return;
            }
            let data = std::mem::take(&mut cap.pending);
            let (logged, rest, toggle) = match find(&data, token) {
                Some(i) => (&data[..i], &data[i + token.len()..], true),
                None => {
                    let cut = data.len() - prefix_at_end(&data, token);
                    (&data[..cut], &data[cut..], false)
                }
            };
            self.log(logged, sink);
            if toggle {
                self.toggle_capturemode(sink);
            }
            if let Some(cap) = self.capture.as_mut() {
                cap.pending = rest.to_vec();
            }
            if !toggle || rest.is_empty() {
                return;
            }
        }
    }

    fn toggle_capturemode(&mut self, sink: &mut Sink) {
        let Some(cap) = self.capture.as_mut() else {
            return;
        };
        cap.active = !cap.active;
        if cap.active {
            return;
        }
        let data = std::mem::take(&mut cap.bound.buf);
        sink.notes.push(Notification::process_comm(
            self.channel == Channel::Stderr,
            sink.name,
            sink.group,
            sink.pid,
            &data,
        ));
        sink.logger.debug(&format!(
            "{} {} emitted a comm event",
            py_repr(sink.name),
            self.channel.name()
        ));
    }

    fn log(&mut self, data: &[u8], sink: &mut Sink) {
        if data.is_empty() {
            return;
        }
        let data = &*maybe_strip(data, sink.strip_ansi);
        match self.capture.as_mut() {
            Some(cap) if cap.active => cap.bound.write(data),
            _ => self.write_log(data, sink),
        }
        if sink.logger.enabled(LogLevel::Debug) {
            sink.logger.debug(&format!(
                "{} {} output:\n{}",
                py_repr(sink.name),
                self.channel.name(),
                decode_or_repr(data)
            ));
        }
        if self.events_enabled {
            sink.notes.push(Notification::process_log(
                self.channel == Channel::Stderr,
                sink.name,
                sink.group,
                sink.pid,
                data,
            ));
        }
    }

    fn write_log(&mut self, data: &[u8], sink: &mut Sink) {
        if let Some(log) = self.log.as_mut() {
            match log.write(data) {
                Ok(()) => {
                    self.write_failed = false;
                    self.wrote = true;
                }
                Err(e) if !self.write_failed => {
                    self.write_failed = true;
                    let path = log.path().display().to_string();
                    sink.logger.error(&format!(
                        "could not write {} output of {} to {}: {}",
                        self.channel.name(),
                        sink.name,
                        path,
                        e
                    ));
                }
                Err(_) => {}
            }
        }
        if self.syslog {
            let text = String::from_utf8_lossy(data);
            for line in text.trim_end_matches('\n').split('\n') {
                crate::loggers::syslog(
                    crate::loggers::LOG_INFO,
                    &format!("{} {}", sink.name, line),
                );
            }
        }
    }

    /// Logs bytes as they are, to the log file only: a listener's stdout
    /// (the protocol channel), whose activity-log copy is made by the caller.
    pub fn write_raw(&mut self, data: &[u8], sink: &mut Sink) {
        let data = &*maybe_strip(data, sink.strip_ansi);
        let syslog = std::mem::replace(&mut self.syslog, false);
        self.write_log(data, sink);
        self.syslog = syslog;
    }

    /// Reopens the log file (USR2).
    pub fn reopen(&mut self) {
        if let Some(l) = self.log.as_mut() {
            let _ = l.reopen();
        }
    }

    /// Empties the log file (clearProcessLogs).
    pub fn clear(&mut self) -> io::Result<()> {
        if let Some(l) = self.log.as_mut() {
            l.clear()?;
            self.wrote = true;
        }
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Length of the longest proper prefix of `token` that `data` ends with.
fn prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    let mut l = token.len() - 1;
    while l > 0 && !data.ends_with(&token[..l]) {
        l -= 1;
    }
    l
}

/// Removes ANSI escape sequences: from `ESC[` up to the first byte of
/// `HfABCDRsuJKhlpm`, as the reference's `stripEscapes` does.
pub fn strip_escapes(s: &[u8]) -> Vec<u8> {
    const TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match find(&s[i..], b"\x1b[") {
            None => {
                out.extend_from_slice(&s[i..]);
                break;
            }
            Some(n) => {
                out.extend_from_slice(&s[i..i + n]);
                i += n + 1;
                while i < s.len() && !TERMINATORS.contains(&s[i]) {
                    i += 1;
                }
                i += 1;
            }
        }
    }
    out
}

/// A child's stdin pipe and what waits to be written to it.
#[derive(Debug)]
pub struct InputDispatcher {
    pub pipe: Option<File>,
    pub key: usize,
    pub buffer: Vec<u8>,
}

impl InputDispatcher {
    pub fn new(pipe: File, key: usize) -> InputDispatcher {
        InputDispatcher {
            pipe: Some(pipe),
            key,
            buffer: Vec::new(),
        }
    }

    /// Writes as much of the buffer as the pipe takes. EPIPE and other
    /// errors are returned (the caller closes the pipe).
    pub fn flush(&mut self) -> io::Result<()> {
        let Some(pipe) = self.pipe.as_mut() else {
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        };
        while !self.buffer.is_empty() {
            match pipe.write(&self.buffer) {
                Ok(0) => break,
                Ok(n) => {
                    self.buffer.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// What the listener protocol concluded from some stdout bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerOutcome {
    /// ACKNOWLEDGED → READY.
    Ready,
    /// `RESULT` with `OK`: the event was processed.
    Processed,
    /// Any other result: the event goes back to the pool.
    Rejected,
    /// Protocol violation; `reject_event` when an event was in flight.
    Unknown { reject_event: bool },
}

/// The event-listener protocol on a listener's stdout.
#[derive(Debug, Default)]
pub struct ListenerProtocol {
    state_buffer: Vec<u8>,
    result: Vec<u8>,
    resultlen: Option<usize>,
}

const READY_TOKEN: &[u8] = b"READY\n";
const RESULT_PREFIX_LEN: usize = b"RESULT ".len();

impl ListenerProtocol {
    /// Adds bytes read from the listener's stdout.
    pub fn push(&mut self, data: &[u8]) {
        self.state_buffer.extend_from_slice(data);
    }

    /// Works through the buffered bytes up to the next outcome, updating
    /// `state` with the reference's log lines; None when more data is
    /// needed. The caller acts on each outcome (rebuffering a rejected
    /// event) before asking for the next, so the log reads as the
    /// reference's, where the rejection is handled before the `READY`
    /// that follows it is parsed.
    pub fn next_outcome(
        &mut self,
        state: &mut ListenerState,
        name: &str,
        logger: &mut Logger,
    ) -> Option<ListenerOutcome> {
        while !self.state_buffer.is_empty() {
            match *state {
                ListenerState::Unknown => self.state_buffer.clear(),
                ListenerState::Acknowledged => {
                    if self.state_buffer.len() < READY_TOKEN.len() {
                        return None;
                    }
                    if self.state_buffer.starts_with(READY_TOKEN) {
                        change(state, ListenerState::Ready, name, logger);
                        self.state_buffer.drain(..READY_TOKEN.len());
                        return Some(ListenerOutcome::Ready);
                    }
                    return Some(self.violation(state, false, name, logger));
                }
                ListenerState::Ready => return Some(self.violation(state, false, name, logger)),
                ListenerState::Busy => match self.busy_step(state, name, logger) {
                    BusyStep::NeedMore => return None,
                    BusyStep::Continue => {}
                    BusyStep::Done(o) => return Some(o),
                },
            }
        }
        None
    }

    /// The listener broke the protocol: UNKNOWN, the rest of its output
    /// ignored.
    fn violation(
        &mut self,
        state: &mut ListenerState,
        reject_event: bool,
        name: &str,
        logger: &mut Logger,
    ) -> ListenerOutcome {
        change(state, ListenerState::Unknown, name, logger);
        self.state_buffer.clear();
        ListenerOutcome::Unknown { reject_event }
    }

    /// One step in BUSY: the result line, then the result itself.
    fn busy_step(
        &mut self,
        state: &mut ListenerState,
        name: &str,
        logger: &mut Logger,
    ) -> BusyStep {
        let Some(n) = self.resultlen else {
            let Some(pos) = self.state_buffer.iter().position(|b| *b == b'\n') else {
                return BusyStep::NeedMore;
            };
            let line: Vec<u8> = self.state_buffer.drain(..=pos).collect();
            let line = &line[..line.len() - 1];
            // The `RESULT ` prefix itself is not checked, as in the reference.
            let len_text = line.get(RESULT_PREFIX_LEN..).unwrap_or(b"");
            return match parse_python_int(len_text) {
                // Even `RESULT 0` completes only when more data comes, as in
                // the reference (its loop needs a non-empty buffer).
                Some(n) => {
                    self.resultlen = Some(n);
                    BusyStep::Continue
                }
                None => {
                    logger.warn(&format!(
                        "{}: bad result line: '{}'",
                        name,
                        decode_or_repr(line)
                    ));
                    BusyStep::Done(self.violation(state, true, name, logger))
                }
            };
        };
        let take = (n - self.result.len()).min(self.state_buffer.len());
        self.result.extend(self.state_buffer.drain(..take));
        if self.result.len() < n {
            return BusyStep::NeedMore;
        }
        let ok = self.result == b"OK";
        self.result.clear();
        self.resultlen = None;
        let outcome = if ok {
            logger.debug(&format!("{}: event was processed", name));
            ListenerOutcome::Processed
        } else {
            logger.warn(&format!("{}: event was rejected", name));
            ListenerOutcome::Rejected
        };
        change(state, ListenerState::Acknowledged, name, logger);
        BusyStep::Done(outcome)
    }
}

enum BusyStep {
    NeedMore,
    Continue,
    Done(ListenerOutcome),
}

/// Python `int()` on bytes: optional surrounding whitespace and sign.
fn parse_python_int(b: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(b).ok()?.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let s: String = s.chars().filter(|c| *c != '_').collect();
    s.parse().ok()
}

fn change(state: &mut ListenerState, new: ListenerState, name: &str, logger: &mut Logger) {
    logger.debug(&format!("{}: {} -> {}", name, state.name(), new.name()));
    *state = new;
    if new == ListenerState::Unknown {
        logger.warn(&format!(
            "{}: has entered the UNKNOWN state and will no longer receive events, \
             this usually indicates the process violated the eventlistener protocol",
            name
        ));
    }
}

/// The activity-log line for a listener's stdout (bytes repr, as the
/// reference logs it).
pub fn listener_output_line(name: &str, data: &[u8]) -> String {
    format!("{} stdout output:\n{}", py_repr(name), bytes_repr(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;

    fn sink<'a>(logger: &'a mut Logger, notes: &'a mut Vec<Notification>) -> Sink<'a> {
        Sink {
            logger,
            notes,
            name: "p",
            group: "g",
            pid: 9,
            strip_ansi: false,
        }
    }

    fn tmpfile(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sv-disp-{}-{}", std::process::id(), name));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d.join("out.log")
    }

    fn dispatcher(path: &Path, capture: u64, events: bool) -> OutputDispatcher {
        let (r, _w) = sys::pipe().unwrap();
        OutputDispatcher::new(
            Channel::Stdout,
            File::from(r),
            0,
            &OutputSettings {
                logfile: Some(path),
                maxbytes: 0,
                backups: 0,
                syslog: false,
                capture_maxbytes: capture,
                events_enabled: events,
            },
        )
        .unwrap()
    }

    #[test]
    fn plain_output_goes_to_log_and_events() {
        let p = tmpfile("plain");
        let mut d = dispatcher(&p, 0, true);
        let mut log = Logger::new(LogLevel::Info);
        let mut notes = Vec::new();
        d.feed(b"hello\n", &mut sink(&mut log, &mut notes));
        d.feed(b"world", &mut sink(&mut log, &mut notes));
        assert_eq!(std::fs::read(&p).unwrap(), b"hello\nworld");
        assert_eq!(notes.len(), 2);
        assert!(notes[0].payload.ends_with("channel:stdout\nhello\n"));
    }

    #[test]
    fn capture_mode_with_split_tokens() {
        let p = tmpfile("capture");
        let mut d = dispatcher(&p, 100, false);
        let mut log = Logger::new(LogLevel::Info);
        let mut notes = Vec::new();
        let stream = b"before<!--XSUPERVISOR:BEGIN-->captured data<!--XSUPERVISOR:END-->after and more text than a token";
        for chunk in stream.chunks(5) {
            d.feed(chunk, &mut sink(&mut log, &mut notes));
        }
        assert_eq!(notes.len(), 1);
        assert_eq!(
            notes[0].payload,
            "processname:p groupname:g pid:9\ncaptured data"
        );
        let logged = std::fs::read_to_string(&p).unwrap();
        assert!(logged.starts_with("beforeafter and more"), "{logged}");
        assert!(!logged.contains("captured"));
    }

    #[test]
    fn ansi_is_stripped() {
        assert_eq!(strip_escapes(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_escapes(b"no escapes"), b"no escapes");
    }

    #[test]
    fn bound_buffer_drops_from_front() {
        let mut b = BoundBuffer {
            max: 5,
            buf: Vec::new(),
        };
        b.write(b"abc");
        b.write(b"def");
        assert_eq!(b.buf, b"def");
        b.write(b"g");
        assert_eq!(b.buf, b"defg");
    }

    /// Feeds `data` and collects every outcome.
    fn run(
        p: &mut ListenerProtocol,
        data: &[u8],
        st: &mut ListenerState,
        log: &mut Logger,
    ) -> Vec<ListenerOutcome> {
        p.push(data);
        std::iter::from_fn(|| p.next_outcome(st, "l", log)).collect()
    }

    #[test]
    fn listener_protocol() {
        let mut log = Logger::new(LogLevel::Critical);
        let mut st = ListenerState::Acknowledged;
        let mut p = ListenerProtocol::default();
        assert_eq!(run(&mut p, b"REA", &mut st, &mut log), vec![]);
        assert_eq!(
            run(&mut p, b"DY\n", &mut st, &mut log),
            vec![ListenerOutcome::Ready]
        );
        st = ListenerState::Busy;
        assert_eq!(run(&mut p, b"RESULT 2\nO", &mut st, &mut log), vec![]);
        assert_eq!(
            run(&mut p, b"KREADY\n", &mut st, &mut log),
            vec![ListenerOutcome::Processed, ListenerOutcome::Ready]
        );
        assert_eq!(st, ListenerState::Ready);
        st = ListenerState::Busy;
        assert_eq!(
            run(&mut p, b"RESULT 4\nFAIL", &mut st, &mut log),
            vec![ListenerOutcome::Rejected]
        );
        assert_eq!(st, ListenerState::Acknowledged);
        st = ListenerState::Busy;
        assert_eq!(
            run(&mut p, b"RESULT x\n", &mut st, &mut log),
            vec![ListenerOutcome::Unknown { reject_event: true }]
        );
        assert_eq!(st, ListenerState::Unknown);
        assert_eq!(run(&mut p, b"READY\n", &mut st, &mut log), vec![]);
        assert_eq!(st, ListenerState::Unknown, "UNKNOWN is final");
        let mut p = ListenerProtocol::default();
        st = ListenerState::Busy;
        assert_eq!(run(&mut p, b"RESULT 0\n", &mut st, &mut log), vec![]);
        assert_eq!(
            st,
            ListenerState::Busy,
            "an empty result waits for more data"
        );
        assert_eq!(
            run(&mut p, b"READY\n", &mut st, &mut log),
            vec![ListenerOutcome::Rejected, ListenerOutcome::Ready]
        );
        let mut st = ListenerState::Ready;
        assert_eq!(
            run(&mut p, b"junk", &mut st, &mut log),
            vec![ListenerOutcome::Unknown {
                reject_event: false
            }]
        );
        let mut p = ListenerProtocol::default();
        let mut st = ListenerState::Acknowledged;
        assert_eq!(
            run(&mut p, b"garbage\n", &mut st, &mut log),
            vec![ListenerOutcome::Unknown {
                reject_event: false
            }]
        );
    }
}
