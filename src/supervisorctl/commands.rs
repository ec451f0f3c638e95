//! The supervisorctl actions: arguments, the XML-RPC calls they make, the
//! lines they print and the exit statuses they set, as the reference's
//! default controller plugin does.

use super::{exit, follow, help, make_namespec, py_int, py_repr, py_str, split_namespec};
use super::{CmdError, Controller};
use crate::http_client::CallError;
use crate::states::ProcessState;
use crate::xmlrpc::{faults, Value};

/// Every command word the controller knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Add,
    Avail,
    Clear,
    Eof,
    Exit,
    Fg,
    Help,
    Maintail,
    Open,
    Pid,
    Quit,
    Reload,
    Remove,
    Reread,
    Restart,
    Shutdown,
    Signal,
    Start,
    Status,
    Stop,
    Tail,
    Update,
    Version,
}

/// The actions, sorted (what `help` lists and tab completes; `EOF` and
/// `help` itself are not listed).
pub(crate) const ACTIONS: [&str; 22] = [
    "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload", "remove",
    "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail", "update",
    "version", "help",
];

/// The command a word names (case-sensitive, as in the reference).
pub(crate) fn lookup(word: String) -> Option<Command> {
    use Command::*;
    Some(match word.as_str() {
        "add" => Add,
        "avail" => Avail,
        "clear" => Clear,
        "EOF" => Eof,
        "exit" => Exit,
        "fg" => Fg,
        "help" => Help,
        "maintail" => Maintail,
        "open" => Open,
        "pid" => Pid,
        "quit" => Quit,
        "reload" => Reload,
        "remove" => Remove,
        "reread" => Reread,
        "restart" => Restart,
        "shutdown" => Shutdown,
        "signal" => Signal,
        "start" => Start,
        "status" => Status,
        "stop" => Stop,
        "tail" => Tail,
        "update" => Update,
        "version" => Version,
        _ => return None,
    })
}

/// Runs `command`; true when the shell should stop.
pub(crate) fn run(ctl: &mut Controller, command: Command, arg: &str) -> Result<bool, CmdError> {
    use Command::*;
    match command {
        Eof | Exit | Quit => {
            ctl.output("");
            return Ok(true);
        }
        Help => help::do_help(ctl, arg),
        Add => do_add(ctl, arg)?,
        Avail => do_avail(ctl, arg)?,
        Clear => do_clear(ctl, arg)?,
        Fg => follow::do_fg(ctl, arg)?,
        Maintail => do_maintail(ctl, arg)?,
        Open => do_open(ctl, arg)?,
        Pid => do_pid(ctl, arg)?,
        Reload => do_reload(ctl, arg)?,
        Remove => do_remove(ctl, arg)?,
        Reread => do_reread(ctl, arg)?,
        Restart => do_restart(ctl, arg)?,
        Shutdown => do_shutdown(ctl, arg)?,
        Signal => do_signal(ctl, arg)?,
        Start => do_start(ctl, arg)?,
        Status => do_status(ctl, arg)?,
        Stop => do_stop(ctl, arg)?,
        Tail => do_tail(ctl, arg)?,
        Update => do_update(ctl, arg)?,
        Version => do_version(ctl, arg)?,
    }
    Ok(false)
}

// ------------------------------------------------------------ value access

/// `info[key]`, or the KeyError the reference would raise.
fn field<'a>(info: &'a Value, key: &str) -> Result<&'a Value, CmdError> {
    if let Value::Struct(members) = info {
        if let Some((_, v)) = members.iter().find(|(k, _)| k == key) {
            return Ok(v);
        }
    }
    Err(CmdError::Py("KeyError", py_repr(key)))
}

fn text(info: &Value, key: &str) -> Result<String, CmdError> {
    field(info, key).map(py_str)
}

fn int(info: &Value, key: &str) -> Result<i64, CmdError> {
    match field(info, key)? {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        other => Err(CmdError::Py(
            "TypeError",
            format!("expected an int for {key}, got {}", py_str(other)),
        )),
    }
}

fn list(v: Value) -> Result<Vec<Value>, CmdError> {
    match v {
        Value::Array(items) => Ok(items),
        other => Err(CmdError::Py(
            "TypeError",
            format!("expected a list, got {}", py_str(&other)),
        )),
    }
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

/// The fault code of a call error, if it is a fault.
fn fault_code(e: &CmdError) -> Option<i32> {
    e.fault().map(|f| f.code)
}

/// A per-process result built from a fault, as the reference builds one.
fn fault_result(e: &CmdError, group: &str, name: Option<&str>) -> Value {
    let (code, string) = e
        .fault()
        .map(|f| (f.code, f.string.clone()))
        .unwrap_or_default();
    Value::Struct(vec![
        ("status".into(), Value::Int(i64::from(code))),
        ("name".into(), name.map(s).unwrap_or(Value::Nil)),
        ("group".into(), s(group)),
        ("description".into(), s(&string)),
    ])
}

/// Splits the argument words.
fn words(arg: &str) -> Vec<String> {
    arg.split_whitespace().map(str::to_string).collect()
}

/// `Error: <cmd> accepts no arguments` plus its help; true if rejected.
fn reject_args(ctl: &mut Controller, arg: &str, cmd: &str) -> bool {
    if arg.is_empty() {
        return false;
    }
    ctl.output(&format!("Error: {cmd} accepts no arguments"));
    ctl.exitstatus = exit::GENERIC;
    help::print_help(ctl, cmd);
    true
}

/// Prints an error line with its usage and sets the exit status.
fn usage_error(ctl: &mut Controller, msg: &str, cmd: &str, status: i32) {
    ctl.output(msg);
    ctl.exitstatus = status;
    help::print_help(ctl, cmd);
}

// ------------------------------------------------------------------- tails

/// The byte count of a `-N` modifier, as Python's int() reads it.
fn byte_count(ctl: &mut Controller, modifier: &str) -> Option<i64> {
    let n = py_int(&modifier[1..]);
    if n.is_none() {
        ctl.output(&format!("Error: bad argument {modifier}"));
        ctl.exitstatus = exit::GENERIC;
    }
    n
}

/// `-bytes` as an XML-RPC int, or the OverflowError Python raises.
fn negated_offset(bytes: i64) -> Result<Value, CmdError> {
    bytes
        .checked_neg()
        .filter(|n| i32::try_from(*n).is_ok())
        .map(Value::Int)
        .ok_or_else(|| CmdError::Py("OverflowError", "int exceeds XML-RPC limits".into()))
}

/// Prints a log read, or the reference's message for its fault.
fn print_log_read(
    ctl: &mut Controller,
    who: &str,
    result: Result<Value, CmdError>,
    bad_name: bool,
) -> Result<(), CmdError> {
    match result {
        Ok(v) => ctl.output(&py_str(&v)),
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            let why = match fault_code(&e) {
                Some(faults::NO_FILE) => "no log file",
                Some(faults::FAILED) => "unknown error reading log",
                Some(faults::BAD_NAME) if bad_name => "no such process name",
                _ => return Err(e),
            };
            ctl.output(&format!("{who}: ERROR ({why})"));
        }
    }
    Ok(())
}

fn do_tail(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let mut args = words(arg);
    if args.is_empty() {
        usage_error(ctl, "Error: too few arguments", "tail", exit::GENERIC);
        return Ok(());
    }
    if args.len() > 3 {
        usage_error(ctl, "Error: too many arguments", "tail", exit::GENERIC);
        return Ok(());
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = match args.as_slice() {
        [name] => (name.clone(), "stdout".to_string()),
        [name, .., last] => {
            let channel = last.to_lowercase();
            if channel != "stdout" && channel != "stderr" {
                ctl.output(&format!("Error: bad channel {}", py_repr(&channel)));
                ctl.exitstatus = exit::GENERIC;
                return Ok(());
            }
            (name.clone(), channel)
        }
        [] => {
            ctl.output("Error: tail requires process name");
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
    };
    let bytes = match modifier.as_deref() {
        None => 1600,
        Some("-f") => {
            follow::tailf(ctl, &format!("/logtail/{name}/{channel}"));
            return Ok(());
        }
        Some(m) => match byte_count(ctl, m) {
            Some(n) => n,
            None => return Ok(()),
        },
    };
    let method = if channel == "stdout" {
        "supervisor.readProcessStdoutLog"
    } else {
        "supervisor.readProcessStderrLog"
    };
    let result = ctl.call(method, &[s(&name), negated_offset(bytes)?, Value::Int(0)]);
    print_log_read(ctl, &name, result, true)
}

fn do_maintail(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(arg);
    let bytes = match args.as_slice() {
        [] => 1600,
        [one] if one == "-f" => {
            follow::tailf(ctl, "/mainlogtail");
            return Ok(());
        }
        [one] if one.starts_with('-') => match byte_count(ctl, one) {
            Some(n) => n,
            None => return Ok(()),
        },
        [one] => {
            ctl.output(&format!("Error: bad argument {one}"));
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
        _ => {
            usage_error(ctl, "Error: too many arguments", "maintail", exit::GENERIC);
            return Ok(());
        }
    };
    let result = ctl.call(
        "supervisor.readLog",
        &[negated_offset(bytes)?, Value::Int(0)],
    );
    print_log_read(ctl, "supervisord", result, false)
}

// ------------------------------------------------------------------ status

/// The status table: names padded to the longest (at least 30) plus 3,
/// state padded to 10, then the description.
pub(crate) fn status_lines(infos: &[(String, String, String)]) -> Vec<String> {
    let width = infos
        .iter()
        .map(|(n, _, _)| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    infos
        .iter()
        .map(|(name, state, desc)| format!("{}{}{desc}", pad(name, width), pad(state, 10)))
        .collect()
}

/// Python's `'%-Ns' % text`: left-justified in N characters.
fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

fn show_statuses(ctl: &mut Controller, infos: &[Value]) -> Result<(), CmdError> {
    let rows = infos
        .iter()
        .map(|info| {
            Ok((
                make_namespec(&text(info, "group")?, &text(info, "name")?),
                text(info, "statename")?,
                text(info, "description")?,
            ))
        })
        .collect::<Result<Vec<_>, CmdError>>()?;
    // One write for the whole table, not one per process.
    let lines = status_lines(&rows);
    if !lines.is_empty() {
        ctl.output(&lines.join("\n"));
    }
    Ok(())
}

pub(crate) fn do_status(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        ctl.exitstatus = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let all = list(ctl.call("supervisor.getAllProcessInfo", &[])?)?;
    let names = words(arg);
    let matching = if names.is_empty() || names.iter().any(|n| n == "all") {
        all
    } else {
        let mut matching = Vec::new();
        for name in &names {
            let (group, process) = split_namespec(name);
            let mut found = false;
            for info in &all {
                let matched = text(info, "group")? == group
                    && match &process {
                        Some(p) => &text(info, "name")? == p,
                        None => true,
                    };
                if matched {
                    found = true;
                    matching.push(info.clone());
                }
            }
            if !found {
                match process {
                    None => ctl.output(&format!("{group}: ERROR (no such group)")),
                    Some(_) => ctl.output(&format!("{name}: ERROR (no such process)")),
                }
                ctl.exitstatus = exit::STATUS_UNKNOWN;
            }
        }
        matching
    };
    show_statuses(ctl, &matching)?;
    for info in &matching {
        if ProcessState::from_code(int(info, "state")?).is_some_and(ProcessState::is_stopped) {
            ctl.exitstatus = exit::STATUS_NOT_RUNNING;
        }
    }
    Ok(())
}

fn do_pid(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        let pid = ctl.call("supervisor.getPID", &[])?;
        ctl.output(&py_str(&pid));
    } else if names.iter().any(|n| n == "all") {
        for info in list(ctl.call("supervisor.getAllProcessInfo", &[])?)? {
            ctl.output(&text(&info, "pid")?);
        }
    } else {
        for name in &names {
            match ctl.call("supervisor.getProcessInfo", &[s(name)]) {
                Ok(info) => {
                    let pid = int(&info, "pid")?;
                    ctl.output(&pid.to_string());
                    if pid == 0 {
                        ctl.exitstatus = exit::NOT_RUNNING;
                    }
                }
                Err(e) => {
                    ctl.exitstatus = exit::GENERIC;
                    if fault_code(&e) != Some(faults::BAD_NAME) {
                        return Err(e);
                    }
                    ctl.output(&format!("No such process {name}"));
                }
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------- start/stop/signal

/// How one per-process result is printed.
#[derive(Clone, Copy)]
enum Verb {
    Start,
    Stop,
    Signal,
    Clear,
}

/// The line for one per-process result (`name: started`, `name: ERROR
/// (...)`); an unknown code is the ValueError the reference raises.
fn result_line(verb: Verb, result: &Value) -> Result<String, CmdError> {
    let name = make_namespec(&text(result, "group")?, &text(result, "name")?);
    let code = int(result, "status")?;
    let code32 = i32::try_from(code).unwrap_or(-1);
    let error = |why: &str| Ok(format!("{name}: ERROR ({why})"));
    match (verb, code32) {
        (_, faults::BAD_NAME) => error("no such process"),
        (Verb::Start, faults::NO_FILE) => error("no such file"),
        (Verb::Start, faults::NOT_EXECUTABLE) => error("file is not executable"),
        (Verb::Start, faults::ALREADY_STARTED) => error("already started"),
        (Verb::Start, faults::SPAWN_ERROR) => error("spawn error"),
        (Verb::Start, faults::ABNORMAL_TERMINATION) => error("abnormal termination"),
        (Verb::Start, faults::SUCCESS) => Ok(format!("{name}: started")),
        (Verb::Stop | Verb::Signal, faults::BAD_SIGNAL) => error("bad signal name"),
        (Verb::Stop | Verb::Signal, faults::NOT_RUNNING) => error("not running"),
        (Verb::Stop, faults::SUCCESS) => Ok(format!("{name}: stopped")),
        (Verb::Signal, faults::SUCCESS) => Ok(format!("{name}: signalled")),
        (Verb::Stop | Verb::Signal, faults::FAILED) => text(result, "description"),
        (Verb::Clear, faults::FAILED) => error("failed"),
        (Verb::Clear, faults::SUCCESS) => Ok(format!("{name}: cleared")),
        _ => Err(CmdError::Py(
            "ValueError",
            format!("Unknown result code {code} for {name}"),
        )),
    }
}

/// Prints a list of per-process results and folds their codes into the
/// exit status.
fn print_results(
    ctl: &mut Controller,
    verb: Verb,
    results: Value,
    ignored: Option<i32>,
) -> Result<(), CmdError> {
    for result in list(results)? {
        ctl.output(&result_line(verb, &result)?);
        ctl.set_exitstatus_from_fault(int(&result, "status")?, ignored);
    }
    Ok(())
}

/// What `start`, `stop`, `signal` and `clear` call for each kind of name.
struct Multi {
    verb: Verb,
    all: &'static str,
    group: Option<&'static str>,
    one: &'static str,
    /// Leading parameters (the signal name).
    extra: Vec<Value>,
    /// The result code that leaves the exit status alone.
    ignored: Option<i32>,
    /// Exit status for an unknown group.
    bad_group_status: i32,
}

fn run_multi(ctl: &mut Controller, m: &Multi, names: &[String]) -> Result<(), CmdError> {
    if names.iter().any(|n| n == "all") {
        let results = ctl.call(m.all, &m.extra)?;
        return print_results(ctl, m.verb, results, m.ignored);
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match (&process, m.group) {
            (None, Some(method)) => {
                let mut params = vec![s(&group)];
                params.extend(m.extra.iter().cloned());
                match ctl.call(method, &params) {
                    Ok(results) => print_results(ctl, m.verb, results, m.ignored)?,
                    Err(e) if fault_code(&e) == Some(faults::BAD_NAME) => {
                        ctl.output(&format!("{group}: ERROR (no such group)"));
                        ctl.exitstatus = m.bad_group_status;
                    }
                    Err(e) => return Err(e),
                }
            }
            _ => {
                let mut params = vec![s(name)];
                params.extend(m.extra.iter().cloned());
                match ctl.call(m.one, &params) {
                    Ok(_) => {
                        let result = Value::Struct(vec![
                            ("status".into(), Value::Int(i64::from(faults::SUCCESS))),
                            (
                                "name".into(),
                                process.as_deref().map(s).unwrap_or(Value::Nil),
                            ),
                            ("group".into(), s(&group)),
                            ("description".into(), s("")),
                        ]);
                        ctl.output(&result_line(m.verb, &result)?);
                    }
                    Err(e) if e.fault().is_some() => {
                        let result = fault_result(&e, &group, process.as_deref());
                        ctl.output(&result_line(m.verb, &result)?);
                        ctl.set_exitstatus_from_fault(int(&result, "status")?, m.ignored);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

fn do_start(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        let msg = "Error: start requires a process name";
        usage_error(ctl, msg, "start", exit::INVALID_ARGS);
        return Ok(());
    }
    let m = Multi {
        verb: Verb::Start,
        all: "supervisor.startAllProcesses",
        group: Some("supervisor.startProcessGroup"),
        one: "supervisor.startProcess",
        extra: vec![],
        ignored: Some(faults::ALREADY_STARTED),
        bad_group_status: exit::INVALID_ARGS,
    };
    run_multi(ctl, &m, &names)
}

fn do_stop(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        let msg = "Error: stop requires a process name";
        usage_error(ctl, msg, "stop", exit::GENERIC);
        return Ok(());
    }
    let m = Multi {
        verb: Verb::Stop,
        all: "supervisor.stopAllProcesses",
        group: Some("supervisor.stopProcessGroup"),
        one: "supervisor.stopProcess",
        extra: vec![],
        ignored: Some(faults::NOT_RUNNING),
        bad_group_status: exit::GENERIC,
    };
    run_multi(ctl, &m, &names)
}

fn do_signal(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args = words(arg);
    let [sig, names @ ..] = args.as_slice() else {
        signal_usage(ctl);
        return Ok(());
    };
    if names.is_empty() {
        signal_usage(ctl);
        return Ok(());
    }
    let m = Multi {
        verb: Verb::Signal,
        all: "supervisor.signalAllProcesses",
        group: Some("supervisor.signalProcessGroup"),
        one: "supervisor.signalProcess",
        extra: vec![s(sig)],
        ignored: None,
        bad_group_status: exit::GENERIC,
    };
    run_multi(ctl, &m, names)
}

fn signal_usage(ctl: &mut Controller) {
    let msg = "Error: signal requires a signal name and a process name";
    usage_error(ctl, msg, "signal", exit::GENERIC);
}

fn do_clear(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = words(arg);
    if names.is_empty() {
        let msg = "Error: clear requires a process name";
        usage_error(ctl, msg, "clear", exit::GENERIC);
        return Ok(());
    }
    // clear has no group form: `g:*` goes to clearProcessLogs as is.
    let m = Multi {
        verb: Verb::Clear,
        all: "supervisor.clearAllProcessLogs",
        group: None,
        one: "supervisor.clearProcessLogs",
        extra: vec![],
        ignored: None,
        bad_group_status: exit::GENERIC,
    };
    run_multi(ctl, &m, &names)
}

fn do_restart(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if !ctl.upcheck()? {
        return Ok(());
    }
    if words(arg).is_empty() {
        let msg = "Error: restart requires a process name";
        usage_error(ctl, msg, "restart", exit::GENERIC);
        return Ok(());
    }
    do_stop(ctl, arg)?;
    do_start(ctl, arg)
}

// ------------------------------------------------------ daemon-wide actions

/// Asks a yes/no question in the shell; outside it the answer is yes.
fn confirm(ctl: &mut Controller, question: &str) -> Result<bool, CmdError> {
    if !ctl.options.interactive {
        return Ok(true);
    }
    match ctl.input.prompt_line(question) {
        Some(answer) => Ok(answer.to_lowercase().starts_with('y')),
        None => Err(super::end_of_input()),
    }
}

fn do_shutdown(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if reject_args(ctl, arg, "shutdown") {
        return Ok(());
    }
    if !confirm(ctl, "Really shut the remote supervisord process down y/N? ")? {
        return Ok(());
    }
    match ctl.call("supervisor.shutdown", &[]) {
        Ok(_) => ctl.output("Shut down"),
        Err(e) if fault_code(&e) == Some(faults::SHUTDOWN_STATE) => {
            ctl.output("ERROR: already shutting down")
        }
        Err(e) => {
            let url = ctl.options.serverurl.clone();
            let why = match e {
                CmdError::Call(CallError::Io(ref io)) => match io.raw_os_error() {
                    Some(libc::ECONNREFUSED) => "refused connection",
                    Some(libc::ENOENT) => "no such file",
                    _ => return Err(e),
                },
                _ => return Err(e),
            };
            ctl.exitstatus = exit::GENERIC;
            ctl.output(&format!("ERROR: {url} {why} (already shut down?)"));
        }
    }
    Ok(())
}

fn do_reload(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if reject_args(ctl, arg, "reload") {
        return Ok(());
    }
    if !confirm(ctl, "Really restart the remote supervisord process y/N? ")? {
        return Ok(());
    }
    match ctl.call("supervisor.restart", &[]) {
        Ok(_) => ctl.output("Restarted supervisord"),
        Err(e) if fault_code(&e) == Some(faults::SHUTDOWN_STATE) => {
            ctl.exitstatus = exit::GENERIC;
            ctl.output("ERROR: already shutting down");
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// One `avail` line.
fn config_line(info: &Value) -> Result<String, CmdError> {
    let name = make_namespec(&text(info, "group")?, &text(info, "name")?);
    let inuse = if truthy(field(info, "inuse")?) {
        "in use"
    } else {
        "avail"
    };
    let auto = if truthy(field(info, "autostart")?) {
        "auto"
    } else {
        "manual"
    };
    let prio = format!(
        "{}:{}",
        text(info, "group_prio")?,
        text(info, "process_prio")?
    );
    Ok(format!(
        "{} {} {} {prio}",
        pad(&name, 32),
        pad(inuse, 9),
        pad(auto, 9)
    ))
}

/// Python truthiness of a value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::String(s) | Value::DateTime(s) => !s.is_empty(),
        Value::Double(d) => *d != 0.0,
        Value::Array(a) => !a.is_empty(),
        Value::Struct(m) => !m.is_empty(),
        Value::Base64(b) => !b.is_empty(),
        Value::Nil => false,
    }
}

fn do_avail(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if reject_args(ctl, arg, "avail") {
        return Ok(());
    }
    match ctl.call("supervisor.getAllConfigInfo", &[]) {
        Ok(infos) => {
            for info in list(infos)? {
                ctl.output(&config_line(&info)?);
            }
        }
        Err(e) if fault_code(&e) == Some(faults::SHUTDOWN_STATE) => {
            ctl.exitstatus = exit::GENERIC;
            ctl.output("ERROR: supervisor shutting down");
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// reloadConfig's `[[added, changed, removed]]` as three name lists.
fn changes(result: Value) -> Result<[Vec<String>; 3], CmdError> {
    let outer = list(result)?;
    let inner = list(
        outer
            .into_iter()
            .next()
            .ok_or_else(|| CmdError::Py("IndexError", "list index out of range".into()))?,
    )?;
    let mut lists = inner
        .into_iter()
        .map(|l| list(l).map(|names| names.iter().map(py_str).collect::<Vec<_>>()));
    let mut next = || {
        lists.next().unwrap_or_else(|| {
            Err(CmdError::Py(
                "ValueError",
                "not enough values to unpack".into(),
            ))
        })
    };
    Ok([next()?, next()?, next()?])
}

/// The `reread` report: every changed name with what happened to it,
/// sorted by name.
pub(crate) fn format_changes(
    added: &[String],
    changed: &[String],
    dropped: &[String],
) -> Vec<String> {
    let mut all: Vec<(String, &str)> = Vec::new();
    for (names, what) in [
        (added, "available"),
        (changed, "changed"),
        (dropped, "disappeared"),
    ] {
        for n in names {
            // A later category wins for a name listed twice, as a dict update does.
            all.retain(|(m, _)| m != n);
            all.push((n.clone(), what));
        }
    }
    if all.is_empty() {
        return vec!["No config updates to processes".to_string()];
    }
    all.sort();
    all.into_iter().map(|(n, w)| format!("{n}: {w}")).collect()
}

fn do_reread(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if reject_args(ctl, arg, "reread") {
        return Ok(());
    }
    match ctl.call("supervisor.reloadConfig", &[]) {
        Ok(result) => {
            let [added, changed, dropped] = changes(result)?;
            for line in format_changes(&added, &changed, &dropped) {
                ctl.output(&line);
            }
        }
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            match e.fault() {
                Some(f) if f.code == faults::SHUTDOWN_STATE => {
                    ctl.output("ERROR: supervisor shutting down")
                }
                Some(f) if f.code == faults::CANT_REREAD => {
                    let msg = format!("ERROR: {}", f.string);
                    ctl.output(&msg);
                }
                _ => return Err(e),
            }
        }
    }
    Ok(())
}

fn do_add(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    for name in words(arg) {
        match ctl.call("supervisor.addProcessGroup", &[s(&name)]) {
            Ok(_) => ctl.output(&format!("{name}: added process group")),
            Err(e) => match fault_code(&e) {
                Some(faults::SHUTDOWN_STATE) => {
                    ctl.output("ERROR: shutting down");
                    ctl.exitstatus = exit::GENERIC;
                }
                Some(faults::ALREADY_ADDED) => ctl.output("ERROR: process group already active"),
                Some(faults::BAD_NAME) => {
                    ctl.output(&format!("ERROR: no such process/group: {name}"));
                    ctl.exitstatus = exit::GENERIC;
                }
                _ => return Err(e),
            },
        }
    }
    Ok(())
}

fn do_remove(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    for name in words(arg) {
        match ctl.call("supervisor.removeProcessGroup", &[s(&name)]) {
            Ok(_) => ctl.output(&format!("{name}: removed process group")),
            Err(e) => {
                ctl.exitstatus = exit::GENERIC;
                match fault_code(&e) {
                    Some(faults::STILL_RUNNING) => {
                        ctl.output(&format!("ERROR: process/group still running: {name}"))
                    }
                    Some(faults::BAD_NAME) => {
                        ctl.output(&format!("ERROR: no such process/group: {name}"))
                    }
                    _ => return Err(e),
                }
            }
        }
    }
    Ok(())
}

fn do_update(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    let result = match ctl.call("supervisor.reloadConfig", &[]) {
        Ok(r) => r,
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            if fault_code(&e) == Some(faults::SHUTDOWN_STATE) {
                ctl.output("ERROR: already shutting down");
                return Ok(());
            }
            return Err(e);
        }
    };
    let [added, changed, removed] = changes(result)?;
    let mut wanted = words(arg);
    wanted.sort();
    wanted.dedup();
    if wanted.iter().any(|g| g == "all") {
        wanted.clear();
    }
    if !wanted.is_empty() {
        let mut groups: Vec<String> = added.clone();
        for info in list(ctl.call("supervisor.getAllProcessInfo", &[])?)? {
            groups.push(text(&info, "group")?);
        }
        for g in &wanted {
            if !groups.contains(g) {
                ctl.output(&format!("ERROR: no such group: {g}"));
                ctl.exitstatus = exit::GENERIC;
            }
        }
    }
    let selected = |g: &String| wanted.is_empty() || wanted.contains(g);
    for g in removed.iter().filter(|g| selected(g)) {
        let results = list(ctl.call("supervisor.stopProcessGroup", &[s(g)])?)?;
        ctl.output(&format!("{g}: stopped"));
        let failed = results
            .iter()
            .any(|r| int(r, "status").ok() == Some(i64::from(faults::FAILED)));
        if failed {
            ctl.output(&format!("{g}: has problems; not removing"));
            ctl.exitstatus = exit::GENERIC;
            continue;
        }
        ctl.call("supervisor.removeProcessGroup", &[s(g)])?;
        ctl.output(&format!("{g}: removed process group"));
    }
    for g in changed.iter().filter(|g| selected(g)) {
        ctl.call("supervisor.stopProcessGroup", &[s(g)])?;
        ctl.output(&format!("{g}: stopped"));
        ctl.call("supervisor.removeProcessGroup", &[s(g)])?;
        ctl.call("supervisor.addProcessGroup", &[s(g)])?;
        ctl.output(&format!("{g}: updated process group"));
    }
    for g in added.iter().filter(|g| selected(g)) {
        ctl.call("supervisor.addProcessGroup", &[s(g)])?;
        ctl.output(&format!("{g}: added process group"));
    }
    Ok(())
}

/// The scheme of a URL as Python's urlparse finds it (lowercased; empty
/// when there is none).
fn url_scheme(url: &str) -> String {
    match url.split_once(':') {
        Some((scheme, _))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            scheme.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

fn do_open(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    let url = arg.trim();
    let scheme = url_scheme(url);
    if scheme != "unix" && scheme != "http" {
        ctl.output("ERROR: url must be http:// or unix://");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    ctl.set_serverurl(url);
    let saved = ctl.exitstatus;
    do_status(ctl, "")?;
    ctl.exitstatus = saved;
    Ok(())
}

fn do_version(ctl: &mut Controller, arg: &str) -> Result<(), CmdError> {
    if reject_args(ctl, arg, "version") {
        return Ok(());
    }
    if !ctl.upcheck()? {
        return Ok(());
    }
    let v = ctl.call("supervisor.getSupervisorVersion", &[])?;
    ctl.output(&py_str(&v));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: &str, st: &str, d: &str) -> (String, String, String) {
        (n.into(), st.into(), d.into())
    }

    #[test]
    fn status_columns_match_the_reference() {
        let lines = status_lines(&[
            row("cat", "RUNNING", "pid 8152, uptime 0:00:01"),
            row("grp:b", "STARTING", ""),
        ]);
        assert_eq!(
            lines,
            vec![
                "cat                              RUNNING   pid 8152, uptime 0:00:01",
                "grp:b                            STARTING  ",
            ]
        );
        let long = "g:a-very-long-process-name-indeed-0001";
        let lines = status_lines(&[row(long, "STOPPED", "Not started"), row("x", "FATAL", "")]);
        assert_eq!(lines[0], format!("{long}   STOPPED   Not started"));
        assert_eq!(
            lines[1],
            format!("x{}FATAL     ", " ".repeat(long.len() + 2))
        );
    }

    #[test]
    fn avail_line_layout() {
        let info = Value::Struct(vec![
            ("group".into(), s("grp")),
            ("name".into(), s("a")),
            ("inuse".into(), Value::Bool(true)),
            ("autostart".into(), Value::Bool(false)),
            ("group_prio".into(), Value::Int(999)),
            ("process_prio".into(), Value::Int(5)),
        ]);
        assert_eq!(
            config_line(&info).expect("line"),
            "grp:a                            in use    manual    999:5"
        );
    }

    #[test]
    fn reread_report() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            format_changes(&[], &[], &[]),
            vec!["No config updates to processes"]
        );
        assert_eq!(
            format_changes(&v(&["new"]), &v(&["b"]), &v(&["a"])),
            vec!["a: disappeared", "b: changed", "new: available"]
        );
    }

    #[test]
    fn result_lines() {
        let r = |code: i32, desc: &str| {
            Value::Struct(vec![
                ("group".into(), s("g")),
                ("name".into(), s("p")),
                ("status".into(), Value::Int(i64::from(code))),
                ("description".into(), s(desc)),
            ])
        };
        let line = |v: Verb, code: i32| result_line(v, &r(code, "boom")).expect("line");
        assert_eq!(line(Verb::Start, faults::SUCCESS), "g:p: started");
        assert_eq!(
            line(Verb::Start, faults::SPAWN_ERROR),
            "g:p: ERROR (spawn error)"
        );
        assert_eq!(
            line(Verb::Stop, faults::NOT_RUNNING),
            "g:p: ERROR (not running)"
        );
        assert_eq!(line(Verb::Stop, faults::FAILED), "boom");
        assert_eq!(
            line(Verb::Signal, faults::BAD_SIGNAL),
            "g:p: ERROR (bad signal name)"
        );
        assert_eq!(line(Verb::Clear, faults::FAILED), "g:p: ERROR (failed)");
        assert!(result_line(Verb::Start, &r(faults::FAILED, "")).is_err());
    }

    #[test]
    fn url_schemes() {
        assert_eq!(url_scheme("unix:///x"), "unix");
        assert_eq!(url_scheme("HTTP://x"), "http");
        assert_eq!(url_scheme("foo"), "");
        assert_eq!(url_scheme("/a:b"), "");
    }
}
