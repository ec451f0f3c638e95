//! supervisorctl: the command-line client, a drop-in for the reference's.
//!
//! This file owns the controller: command dispatch (Python `cmd` module
//! rules: `?` for help, identifier characters for the command word), the
//! connectivity check (`upcheck`), exit statuses, and how unexpected errors
//! are reported (the reference's `error: <class '...'>, ...` line).
//! `commands` holds the actions, `help` their help texts, `shell` the
//! interactive loop, `lineedit` the terminal line editor, `follow` the
//! streaming commands (`tail -f`, `maintail -f`, `fg`).

mod commands;
mod follow;
mod help;
mod lineedit;
mod shell;

use std::io::Write;

use crate::http_client::{CallError, Client};
use crate::options::{ClientCommand, ClientOptions, UsageError};
use crate::xmlrpc::{faults, Value};

/// LSB init-script exit statuses the reference uses.
mod exit {
    pub const SUCCESS: i32 = 0;
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// `status`: a listed process is not running.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// `status`: a bad name, or the server could not be reached.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// Entry point of the executable; returns the exit status.
pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = argv
        .first()
        .cloned()
        .unwrap_or_else(|| "supervisorctl".into());
    match crate::options::parse_client_args(argv.get(1..).unwrap_or(&[])) {
        Err(UsageError(msg)) => {
            eprintln!("Error: {msg}");
            eprintln!("For help, use {argv0} -h");
            2
        }
        Ok(ClientCommand::Help(text)) => {
            let mut out = std::io::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            0
        }
        Ok(ClientCommand::Run(options)) => run(options),
    }
}

/// Runs the action given on the command line, or the interactive shell.
fn run(options: ClientOptions) -> i32 {
    let mut ctl = Controller::new(options);
    if !ctl.options.args.is_empty() {
        let line = ctl.options.args.join(" ");
        ctl.onecmd(&line);
        return ctl.exitstatus;
    }
    if ctl.options.interactive {
        shell::cmdloop(&mut ctl);
    }
    exit::SUCCESS
}

/// An error a command did not handle itself: reported as the reference's
/// catch-all does, and the exit status becomes 1.
#[derive(Debug)]
pub(crate) enum CmdError {
    Call(CallError),
    /// An exception the reference would raise here: (class, message).
    Py(&'static str, String),
}

impl From<CallError> for CmdError {
    fn from(e: CallError) -> CmdError {
        CmdError::Call(e)
    }
}

impl CmdError {
    /// The fault, if the server answered with one.
    fn fault(&self) -> Option<&crate::xmlrpc::Fault> {
        match self {
            CmdError::Call(CallError::Fault(f)) => Some(f),
            _ => None,
        }
    }

    fn is_unauthorized(&self) -> bool {
        matches!(self, CmdError::Call(CallError::Http { status: 401, .. }))
    }

    /// `<class 'X'>, message`, as Python prints an exception's type and value.
    fn describe(&self) -> String {
        let (class, msg) = match self {
            CmdError::Py(class, msg) => (class.to_string(), msg.clone()),
            CmdError::Call(e) => python_exception(e),
        };
        format!("<class '{class}'>, {msg}")
    }
}

/// The Python exception class and text the reference shows for `e`.
fn python_exception(e: &CallError) -> (String, String) {
    match e {
        CallError::Fault(f) => (
            "xmlrpc.client.Fault".into(),
            format!("<Fault {}: {}>", f.code, py_repr(&f.string)),
        ),
        CallError::Io(io) => match io.raw_os_error() {
            Some(n) => (
                errno_class(n).into(),
                format!("[Errno {n}] {}", strerror(n)),
            ),
            None => ("OSError".into(), io.to_string()),
        },
        CallError::Resolve(msg) => (
            "socket.gaierror".into(),
            format!("[Errno {}] {msg}", gai_code(msg)),
        ),
        CallError::Http { status, reason } => (
            "xmlrpc.client.ProtocolError".into(),
            format!("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>"),
        ),
        CallError::Disconnected => (
            "http.client.RemoteDisconnected".into(),
            "Remote end closed connection without response".into(),
        ),
        CallError::BadResponse(msg) => ("xml.parsers.expat.ExpatError".into(), msg.clone()),
        CallError::Interrupted => ("KeyboardInterrupt".into(), String::new()),
    }
}

/// The OSError subclass Python raises for `errno`.
fn errno_class(errno: i32) -> &'static str {
    match errno {
        libc::ECONNREFUSED => "ConnectionRefusedError",
        libc::ENOENT => "FileNotFoundError",
        libc::EACCES | libc::EPERM => "PermissionError",
        libc::ECONNRESET => "ConnectionResetError",
        libc::ECONNABORTED => "ConnectionAbortedError",
        libc::EPIPE | libc::ESHUTDOWN => "BrokenPipeError",
        libc::ETIMEDOUT => "TimeoutError",
        libc::ENOTDIR => "NotADirectoryError",
        libc::EINTR => "InterruptedError",
        _ => "OSError",
    }
}

/// The C library's text for `errno`.
fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// getaddrinfo's error number for its message (glibc values).
fn gai_code(msg: &str) -> i32 {
    match msg {
        "Temporary failure in name resolution" => -3,
        "Non-recoverable failure in name resolution" => -4,
        "No address associated with hostname" => -5,
        "Servname not supported for ai_socktype" => -8,
        _ => -2,
    }
}

pub(crate) use crate::datatypes::py_repr;

/// Python's `str()` of a decoded XML-RPC value, as `'%s' % value` shows it.
pub(crate) fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) | Value::DateTime(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Double(d) => crate::xmlrpc::python_float_repr(*d),
        Value::Nil => "None".to_string(),
        Value::Base64(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_elem_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Struct(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_elem_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// How Python shows a value inside a list or dict.
fn py_elem_repr(v: &Value) -> String {
    match v {
        Value::String(s) => py_repr(s),
        other => py_str(other),
    }
}

/// Python's `int()` on a command-line word: optional sign, digits, single
/// underscores between digits, surrounding whitespace.
pub(crate) fn py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// The controller: options, the server connection, the exit status.
pub(crate) struct Controller {
    options: ClientOptions,
    client: Option<Client>,
    exitstatus: i32,
    /// getAllProcessInfo, cached for tab completion until the next command.
    complete_info: Option<Vec<Value>>,
    input: shell::Input,
}

impl Controller {
    fn new(options: ClientOptions) -> Controller {
        Controller {
            options,
            client: None,
            exitstatus: exit::SUCCESS,
            complete_info: None,
            input: shell::Input::stdin(),
        }
    }

    /// Writes one line of output.
    pub(crate) fn output(&self, message: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(message.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    /// Calls a `supervisor.*` method.
    fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CmdError> {
        let client = match self.client.take() {
            Some(client) => client,
            None => Client::new(
                &self.options.serverurl,
                self.options.username.as_deref(),
                self.options.password.as_deref(),
            )
            .map_err(|msg| CmdError::Py("ValueError", msg))?,
        };
        let client = self.client.insert(client);
        client.call(method, params).map_err(CmdError::from)
    }

    /// Points the controller at another server (`open`).
    fn set_serverurl(&mut self, url: &str) {
        self.options.serverurl = url.to_string();
        self.client = None;
    }

    /// Sets the exit status from a per-process result code, as the
    /// reference does: success and `ignored` leave it alone.
    fn set_exitstatus_from_fault(&mut self, code: i64, ignored: Option<i32>) {
        let code = i32::try_from(code).unwrap_or(-1);
        if Some(code) == ignored || code == faults::SUCCESS {
            return;
        }
        self.exitstatus = match code {
            faults::SPAWN_ERROR | faults::ABNORMAL_TERMINATION | faults::NOT_RUNNING => {
                exit::NOT_RUNNING
            }
            _ => exit::GENERIC,
        };
    }

    /// Checks that the server is reachable and speaks our API; prints why
    /// not and sets the exit status when it is not.
    fn upcheck(&mut self) -> Result<bool, CmdError> {
        match self.call("supervisor.getVersion", &[]) {
            Ok(api) => {
                let api = py_str(&api);
                if api != crate::API_VERSION {
                    self.output(&format!(
                        "Sorry, this version of supervisorctl expects to talk to a server with \
                         API version {}, but the remote version is {api}.",
                        crate::API_VERSION
                    ));
                    self.exitstatus = exit::NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(e) => {
                if e.fault().map(|f| f.code) == Some(faults::UNKNOWN_METHOD) {
                    self.output(
                        "Sorry, supervisord responded but did not recognize the supervisor \
                         namespace commands that supervisorctl uses to control it.  Please \
                         check that the [rpcinterface:supervisor] section is enabled in the \
                         configuration file (see sample.conf).",
                    );
                    self.exitstatus = exit::UNIMPLEMENTED_FEATURE;
                    return Ok(false);
                }
                let url = self.options.serverurl.clone();
                match socket_errno(&e) {
                    Some(libc::ECONNREFUSED) => {
                        self.output(&format!("{url} refused connection"));
                        self.exitstatus = exit::INSUFFICIENT_PRIVILEGES;
                        Ok(false)
                    }
                    Some(libc::ENOENT) => {
                        self.output(&format!("{url} no such file"));
                        self.exitstatus = exit::NOT_RUNNING;
                        Ok(false)
                    }
                    // The caller reports it and sets the exit status.
                    _ => Err(e),
                }
            }
        }
    }

    /// Runs one command line; true when the shell should stop.
    pub(crate) fn onecmd(&mut self, line: &str) -> bool {
        let (cmd, arg, line) = parseline(line);
        if line.is_empty() {
            return false;
        }
        self.complete_info = None;
        let Some(command) = cmd.and_then(commands::lookup) else {
            self.default(&line);
            return false;
        };
        match commands::run(self, command, &arg) {
            Ok(stop) => stop,
            // Ctrl-C (the wait or the prompt it broke is no error to
            // report): the shell leaves, cmdloop checks the flag.
            Err(_) if crate::sys::interrupted() => true,
            Err(e) if e.is_unauthorized() => self.unauthorized(command, &arg, &line),
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }

    /// A 401: log in and retry in the shell; otherwise say so, then retry
    /// once anyway, as the reference does.
    fn unauthorized(&mut self, command: commands::Command, arg: &str, line: &str) -> bool {
        self.output("Server requires authentication");
        if self.options.interactive {
            let Some(username) = self.input.prompt_line("Username:") else {
                self.report(&end_of_input());
                return false;
            };
            let Some(password) = self.input.prompt_password("Password:") else {
                // getpass raises a bare EOFError.
                self.report(&CmdError::Py("EOFError", String::new()));
                return false;
            };
            self.output("");
            self.options.username = Some(username);
            self.options.password = Some(password);
            self.client = None;
            return self.onecmd(line);
        }
        self.exitstatus = exit::GENERIC;
        match commands::run(self, command, arg) {
            Ok(_) => false,
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }

    /// The reference's catch-all report of an unexpected error. Its
    /// `file:`/`line:` part names a Python source line; we have none.
    fn report(&mut self, e: &CmdError) {
        self.output(&format!(
            "error: {}: file: supervisorctl line: 0",
            e.describe()
        ));
        self.exitstatus = exit::GENERIC;
    }

    fn default(&mut self, line: &str) {
        self.output(&format!("*** Unknown syntax: {line}"));
        self.exitstatus = exit::GENERIC;
    }

    /// Process infos for completion, fetched once per command.
    fn complete_info(&mut self) -> Vec<Value> {
        if self.complete_info.is_none() {
            let infos = match self.call("supervisor.getAllProcessInfo", &[]) {
                Ok(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            self.complete_info = Some(infos);
        }
        self.complete_info.clone().unwrap_or_default()
    }
}

/// What Python's `input()` raises at end of input.
pub(crate) fn end_of_input() -> CmdError {
    CmdError::Py("EOFError", "EOF when reading a line".into())
}

/// The errno of a socket error (Python's `socket.error` args[0]).
fn socket_errno(e: &CmdError) -> Option<i32> {
    match e {
        CmdError::Call(c) => c.errno(),
        CmdError::Py(..) => None,
    }
}

/// Python `cmd.Cmd.parseline`: (command word, argument, stripped line).
/// `?x` means `help x`; a line starting with `!` has no command.
fn parseline(line: &str) -> (Option<String>, String, String) {
    let mut line = line.trim().to_string();
    if line.is_empty() {
        return (None, String::new(), line);
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {rest}");
    } else if line.starts_with('!') {
        return (None, String::new(), line);
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let cmd = line[..end].to_string();
    let arg = line[end..].trim().to_string();
    (Some(cmd).filter(|c| !c.is_empty()), arg, line)
}

/// `group:name`, or just `name` when both are the same.
pub(crate) fn make_namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// Splits `group:name`: (group, Some(name)); `group:` and `group:*` give
/// (group, None); a bare `name` is (name, Some(name)).
pub(crate) fn split_namespec(spec: &str) -> (String, Option<String>) {
    match spec.split_once(':') {
        Some((group, name)) if name.is_empty() || name == "*" => (group.to_string(), None),
        Some((group, name)) => (group.to_string(), Some(name.to_string())),
        None => (spec.to_string(), Some(spec.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parseline_follows_python_cmd() {
        let p = |l: &str| parseline(l);
        assert_eq!(
            p("  status  foo bar "),
            (
                Some("status".into()),
                "foo bar".into(),
                "status  foo bar".into()
            )
        );
        assert_eq!(
            p("?status"),
            (Some("help".into()), "status".into(), "help status".into())
        );
        assert_eq!(p("!ls"), (None, String::new(), "!ls".into()));
        assert_eq!(p(":x"), (None, ":x".into(), ":x".into()));
        assert_eq!(
            p("status:foo"),
            (Some("status".into()), ":foo".into(), "status:foo".into())
        );
        assert_eq!(p(""), (None, String::new(), String::new()));
    }

    #[test]
    fn namespecs() {
        assert_eq!(make_namespec("a", "a"), "a");
        assert_eq!(make_namespec("g", "a"), "g:a");
        assert_eq!(split_namespec("g:*"), ("g".into(), None));
        assert_eq!(split_namespec("g:"), ("g".into(), None));
        assert_eq!(split_namespec("g:a:b"), ("g".into(), Some("a:b".into())));
        assert_eq!(split_namespec("a"), ("a".into(), Some("a".into())));
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_repr("foo"), "'foo'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\"b\n"), "'a\\'\"b\\n'");
        assert_eq!(py_str(&Value::Bool(true)), "True");
        assert_eq!(
            py_str(&Value::Array(vec![
                Value::String("a".into()),
                Value::Int(1)
            ])),
            "['a', 1]"
        );
    }

    #[test]
    fn python_int_parsing() {
        assert_eq!(py_int("100"), Some(100));
        assert_eq!(py_int(" -5 "), Some(-5));
        assert_eq!(py_int("+1_000"), Some(1000));
        assert_eq!(py_int("1__0"), None);
        assert_eq!(py_int("f"), None);
        assert_eq!(py_int(""), None);
        assert_eq!(py_int("-"), None);
    }

    #[test]
    fn exception_descriptions() {
        let e = CmdError::Call(CallError::Io(std::io::Error::from_raw_os_error(
            libc::ECONNREFUSED,
        )));
        assert_eq!(
            e.describe(),
            "<class 'ConnectionRefusedError'>, [Errno 111] Connection refused"
        );
        let e = CmdError::Call(CallError::Fault(crate::xmlrpc::Fault::new(1, "")));
        assert_eq!(
            e.describe(),
            "<class 'xmlrpc.client.Fault'>, <Fault 1: 'UNKNOWN_METHOD'>"
        );
        let e = CmdError::Call(CallError::Http {
            status: 401,
            reason: "Unauthorized".into(),
        });
        assert_eq!(
            e.describe(),
            "<class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
        );
    }
}
