//! The streaming commands: `tail -f` and `maintail -f` (follow a log
//! through the logtail endpoints until Ctrl-C) and `fg` (follow a
//! process's stdout and stderr while sending typed lines to its stdin).
//! One thread: a poller over the streams, standard input and a SIGINT
//! self-pipe.

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};

use super::{exit, help, py_repr, python_exception, CmdError, Controller};
use crate::http_client::{LogStream, StreamEvent};
use crate::states::ProcessState;
use crate::sys::{self, Poller, Ready};
use crate::xmlrpc::{faults, Value};

const KEY_SIGNAL: usize = 0;
const KEY_STDIN: usize = 1;
/// Streams are keyed from here on, in the order opened.
const KEY_STREAM: usize = 2;

/// Ctrl-C routed to a pipe while a stream runs; the previous action comes
/// back on drop.
struct Interrupts {
    pipe: Option<OwnedFd>,
}

impl Interrupts {
    fn catch() -> Interrupts {
        Interrupts {
            pipe: sys::install_signal_pipe(&[libc::SIGINT]).ok(),
        }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        let _ = sys::restore_interrupts();
    }
}

/// Opens a log stream, or reports why not as the reference's tail client
/// does (on stderr).
fn open_stream(ctl: &Controller, path: &str) -> Option<LogStream> {
    let o = &ctl.options;
    match LogStream::open(
        &o.serverurl,
        path,
        o.username.as_deref(),
        o.password.as_deref(),
    ) {
        Ok(s) => Some(s),
        Err(e) => {
            let (class, msg) = python_exception(&e);
            eprintln!(
                "{}{path} Cannot connect, error: <class '{class}'> ({msg})",
                o.serverurl
            );
            None
        }
    }
}

/// Copies what a stream has to stdout; false once the stream is over.
fn pump(stream: &mut LogStream) -> bool {
    match stream.read_some() {
        Ok(StreamEvent::Data(bytes)) => {
            let mut out = std::io::stdout().lock();
            let ok = out.write_all(&bytes).and_then(|_| out.flush()).is_ok();
            ok && !stream.is_done()
        }
        Ok(StreamEvent::Status(code)) => {
            eprintln!("{} Cannot read, status code {code}", stream.url);
            false
        }
        Ok(StreamEvent::End) => false,
        Err(e) => {
            let (class, msg) = python_exception(&e);
            eprintln!(
                "{} Cannot connect, error: <class '{class}'> ({msg})",
                stream.url
            );
            false
        }
    }
}

/// A poller over the SIGINT pipe and the streams.
fn poller_for(interrupts: &Interrupts, streams: &[LogStream]) -> Option<Poller> {
    let poller = Poller::new().ok()?;
    if let Some(pipe) = &interrupts.pipe {
        poller
            .register(pipe.as_raw_fd(), KEY_SIGNAL, true, false)
            .ok()?;
    }
    for (i, s) in streams.iter().enumerate() {
        poller.register(s.fd(), KEY_STREAM + i, true, false).ok()?;
    }
    Some(poller)
}

/// `tail -f` / `maintail -f`: streams `path` until Ctrl-C or the server
/// ends it.
pub(crate) fn tailf(ctl: &mut Controller, path: &str) {
    ctl.output("==> Press Ctrl-C to exit <==");
    let interrupts = Interrupts::catch();
    let Some(mut stream) = open_stream(ctl, path) else {
        return;
    };
    let Some(poller) = poller_for(&interrupts, std::slice::from_ref(&stream)) else {
        while pump(&mut stream) {}
        return;
    };
    let mut events = Vec::new();
    loop {
        events.clear();
        if poller.wait(&mut events, None).is_err() {
            return;
        }
        for ev in &events {
            if ev.key == KEY_SIGNAL {
                ctl.output("");
                return;
            }
            if !pump(&mut stream) {
                let _ = poller.deregister(stream.fd());
                return;
            }
        }
    }
}

/// The state code of a process info.
fn state_of(info: &Value) -> Option<ProcessState> {
    match info {
        Value::Struct(m) => m
            .iter()
            .find(|(k, _)| k == "state")
            .and_then(|(_, v)| match v {
                Value::Int(i) => ProcessState::from_code(*i),
                _ => None,
            }),
        _ => None,
    }
}

/// Python's `str()` of a fault.
fn fault_text(e: &CmdError) -> String {
    match e.fault() {
        Some(f) => format!("<Fault {}: {}>", f.code, py_repr(&f.string)),
        None => e.describe(),
    }
}

/// `fg <process>`.
pub(crate) fn do_fg(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    let name = match names.as_slice() {
        [] => {
            ctl.output("ERROR: no process name supplied");
            ctl.exitstatus = exit::GENERIC;
            help::print_help(ctl, "fg");
            return Ok(());
        }
        [one] => one.to_string(),
        _ => {
            ctl.output("ERROR: too many process names supplied");
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
    };
    let params = [Value::String(name.clone())];
    let info = match ctl.call("supervisor.getProcessInfo", &params) {
        Ok(info) => info,
        Err(e) if e.fault().map(|f| f.code) == Some(faults::BAD_NAME) => {
            ctl.output("ERROR: bad process name supplied");
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
        Err(e) if e.fault().is_some() => {
            ctl.output(&format!("ERROR: {}", fault_text(&e)));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if state_of(&info) != Some(ProcessState::Running) {
        ctl.output("ERROR: process not running");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    ctl.output("==> Press Ctrl-C to exit <==");
    let interrupts = Interrupts::catch();
    let mut streams: Vec<LogStream> = ["stdout", "stderr"]
        .iter()
        .filter_map(|ch| open_stream(ctl, &format!("/logtail/{name}/{ch}")))
        .collect();
    let result = foreground(ctl, &name, &interrupts, &mut streams);
    if let Ok(Some(last)) = &result {
        ctl.output(last);
    }
    if result.is_ok() {
        ctl.output("Exiting foreground");
    }
    result.map(|_| ())
}

/// The `fg` loop. Ends with Ok(Some(line)) when the process is gone (the
/// line says why), Ok(None) on Ctrl-C or end of input.
fn foreground(
    ctl: &mut Controller,
    name: &str,
    interrupts: &Interrupts,
    streams: &mut [LogStream],
) -> Result<Option<String>, CmdError> {
    let Some(poller) = poller_for(interrupts, streams) else {
        return Ok(None);
    };
    // A file or /dev/null on stdin cannot be polled; reading it never blocks.
    let stdin_polled = ctl
        .input
        .fd()
        .is_some_and(|fd| poller.register(fd, KEY_STDIN, true, false).is_ok());
    let mut events: Vec<Ready> = Vec::new();
    let mut ended = false;
    loop {
        while let Some(line) = ctl.input.take_line() {
            if let Some(why) = send_line(ctl, name, line)? {
                return Ok(Some(why));
            }
        }
        if ended {
            // Like Python's input(), a last line without newline still counts.
            return match ctl.input.take_rest() {
                Some(rest) => send_line(ctl, name, rest),
                None => Ok(None),
            };
        }
        events.clear();
        let timeout = (!stdin_polled).then_some(std::time::Duration::ZERO);
        if poller.wait(&mut events, timeout).is_err() {
            return Ok(None);
        }
        if !stdin_polled {
            ended = !ctl.input.fill();
        }
        for ev in &events {
            match ev.key {
                KEY_SIGNAL => return Ok(None),
                KEY_STDIN => ended = !ctl.input.fill(),
                key => {
                    if let Some(stream) = streams.get_mut(key - KEY_STREAM) {
                        if !pump(stream) {
                            let _ = poller.deregister(stream.fd());
                        }
                    }
                }
            }
        }
    }
}

/// Sends one typed line to the process; Some(why) when it is gone.
fn send_line(ctl: &mut Controller, name: &str, line: String) -> Result<Option<String>, CmdError> {
    let params = [Value::String(name.to_string()), Value::String(line + "\n")];
    match ctl.call("supervisor.sendProcessStdin", &params) {
        Ok(_) => {}
        Err(e) if e.fault().map(|f| f.code) == Some(faults::NOT_RUNNING) => {
            return Ok(Some("Process got killed".into()))
        }
        Err(e) if e.fault().is_some() => return Ok(Some(format!("ERROR: {}", fault_text(&e)))),
        Err(e) => return Err(e),
    }
    let info = ctl.call(
        "supervisor.getProcessInfo",
        &[Value::String(name.to_string())],
    )?;
    if state_of(&info) != Some(ProcessState::Running) {
        return Ok(Some("Process got killed".into()));
    }
    Ok(None)
}
