//! rpcinterface: the XML-RPC methods (`supervisor.*` and `system.*`) with
//! the reference's names, arguments, results and faults.
//!
//! Calls that wait (`startProcess(name, wait=True)`, the group and "all"
//! variants, `multicall` containing them) return a `Deferred`: the HTTP
//! connection keeps it and polls it from the main loop when process states
//! change, so the loop never blocks on a client.
//!
//! Deliberate difference from 4.2.5: `clearProcessLogs` also clears the
//! files of a stopped process (the reference silently does nothing).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::datatypes::py_repr;
use crate::events::Notification;
use crate::options::{self, GroupConfig, LogFile, ProcessConfig};
use crate::process::{BadCommand, ProcId};
use crate::states::{ProcessState, SupervisorState};
use crate::supervisord::Supervisor;
use crate::xmlrpc::{faults, Fault, Value};

/// The answer to a call: now, or later.
pub enum RpcOutcome {
    Done(Result<Value, Fault>),
    Deferred(Box<dyn Deferred>),
}

/// An answer that waits for process states to change.
pub trait Deferred {
    /// Some(result) once decided.
    fn poll(&mut self, sup: &mut Supervisor) -> Option<Result<Value, Fault>>;
}

type RpcResult = Result<Value, Fault>;

fn done(r: RpcResult) -> RpcOutcome {
    RpcOutcome::Done(r)
}

fn fault(code: i32, detail: impl Into<String>) -> Fault {
    Fault::new(code, detail)
}

fn st(pairs: Vec<(&str, Value)>) -> Value {
    Value::Struct(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// Python's `capped_int`: clamp to the XML-RPC int range.
fn capped(v: f64) -> Value {
    Value::Int((v as i64).clamp(i32::MIN as i64, i32::MAX as i64))
}

fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

// ------------------------------------------------------------------ args

fn arg_str(v: &Value) -> Result<String, Fault> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Base64(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        _ => Err(fault(faults::INCORRECT_PARAMETERS, "")),
    }
}

/// Python `int()` on an argument.
fn arg_int(v: &Value) -> Result<i64, Fault> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Double(d) if d.is_finite() => Ok(d.trunc() as i64),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| fault(faults::INCORRECT_PARAMETERS, "")),
        _ => Err(fault(faults::INCORRECT_PARAMETERS, "")),
    }
}

/// Python truthiness of an argument.
fn arg_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Double(d) => *d != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Struct(m) => !m.is_empty(),
        Value::Base64(b) => !b.is_empty(),
        Value::DateTime(_) => true,
        Value::Nil => false,
    }
}

/// Checks the argument count: `required` mandatory, up to `max` in total.
fn arity(params: &[Value], required: usize, max: usize) -> Result<(), Fault> {
    if params.len() < required || params.len() > max {
        Err(fault(faults::INCORRECT_PARAMETERS, ""))
    } else {
        Ok(())
    }
}

fn wait_arg(params: &[Value], i: usize) -> bool {
    params.get(i).map(arg_bool).unwrap_or(true)
}

// ------------------------------------------------------------------ table

/// (name, signature types, help text). Help texts are ours; the types
/// match the reference's `methodSignature`.
const METHODS: &[(&str, &[&str], &str)] = &[
    ("supervisor.addProcessGroup", &["boolean", "string"], "Update the config for a running process from config file.\n\n@param string name Name of process group to add\n@return boolean result true if successful"),
    ("supervisor.clearAllProcessLogs", &["array"], "Clear all process log files.\n\n@return array result An array of process status info structs"),
    ("supervisor.clearLog", &["boolean"], "Clear the main log.\n\n@return boolean result always returns True unless error"),
    ("supervisor.clearProcessLog", &["boolean", "string"], "Clear the stdout and stderr logs for the named process and reopen them.\n\n@param string name The name of the process (or 'group:name')\n@return boolean result Always True unless error"),
    ("supervisor.clearProcessLogs", &["boolean", "string"], "Clear the stdout and stderr logs for the named process and reopen them.\n\n@param string name The name of the process (or 'group:name')\n@return boolean result Always True unless error"),
    ("supervisor.getAPIVersion", &["string"], "Return the version of the RPC API used by supervisord.\n\n@return string version id"),
    ("supervisor.getAllConfigInfo", &["array"], "Get info about all available process configurations. Each struct represents a single process (i.e. groups get flattened).\n\n@return array result An array of process config info structs"),
    ("supervisor.getAllProcessInfo", &["array"], "Get info about all processes.\n\n@return array result An array of process status results"),
    ("supervisor.getIdentification", &["string"], "Return identifying string of supervisord.\n\n@return string identifier identifying string"),
    ("supervisor.getPID", &["int"], "Return the PID of supervisord.\n\n@return int PID"),
    ("supervisor.getProcessInfo", &["struct", "string"], "Get info about a process named name.\n\n@param string name The name of the process (or 'group:name')\n@return struct result A structure containing data about the process"),
    ("supervisor.getState", &["struct"], "Return current state of supervisord as a struct.\n\n@return struct A struct with keys int statecode, string statename"),
    ("supervisor.getSupervisorVersion", &["string"], "Return the version of the supervisor package in use by supervisord.\n\n@return string version version id"),
    ("supervisor.getVersion", &["string"], "Return the version of the RPC API used by supervisord.\n\n@return string version id"),
    ("supervisor.readLog", &["string", "int", "int"], "Read length bytes from the main log starting at offset.\n\n@param int offset offset to start reading from.\n@param int length number of bytes to read from the log.\n@return string result Bytes of log"),
    ("supervisor.readMainLog", &["string", "int", "int"], "Read length bytes from the main log starting at offset.\n\n@param int offset offset to start reading from.\n@param int length number of bytes to read from the log.\n@return string result Bytes of log"),
    ("supervisor.readProcessLog", &["string", "string", "int", "int"], "Read length bytes from name's stdout log starting at offset.\n\n@param string name the name of the process (or 'group:name')\n@param int offset offset to start reading from.\n@param int length number of bytes to read from the log.\n@return string result Bytes of log"),
    ("supervisor.readProcessStderrLog", &["string", "string", "int", "int"], "Read length bytes from name's stderr log starting at offset.\n\n@param string name the name of the process (or 'group:name')\n@param int offset offset to start reading from.\n@param int length number of bytes to read from the log.\n@return string result Bytes of log"),
    ("supervisor.readProcessStdoutLog", &["string", "string", "int", "int"], "Read length bytes from name's stdout log starting at offset.\n\n@param string name the name of the process (or 'group:name')\n@param int offset offset to start reading from.\n@param int length number of bytes to read from the log.\n@return string result Bytes of log"),
    ("supervisor.reloadConfig", &["array"], "Reload the configuration.\n\nThe result contains three arrays of process group names: those added, those whose contents changed, and those no longer in the configuration.\n\n@return array result [[added, changed, removed]]"),
    ("supervisor.removeProcessGroup", &["boolean", "string"], "Remove a stopped process from the active configuration.\n\n@param string name name of process group to remove\n@return boolean result Indicates whether the removal was successful"),
    ("supervisor.restart", &["boolean"], "Restart the supervisor process.\n\n@return boolean result always return True unless error"),
    ("supervisor.sendProcessStdin", &["boolean", "string", "string"], "Send a string of chars to the stdin of the process name.\n\n@param string name The process name to send to (or 'group:name')\n@param string chars The character data to send to the process\n@return boolean result Always return True unless error"),
    ("supervisor.sendRemoteCommEvent", &["boolean", "string", "string"], "Send an event that will be received by event listener subprocesses subscribing to the RemoteCommunicationEvent.\n\n@param string type String for the \"type\" key in the event header\n@param string data Data for the event body\n@return boolean Always return True unless error"),
    ("supervisor.shutdown", &["boolean"], "Shut down the supervisor process.\n\n@return boolean result always returns True unless error"),
    ("supervisor.signalAllProcesses", &["array", "string"], "Send a signal to all processes in the process list.\n\n@param string signal Signal to send, as name ('HUP') or number ('1')\n@return array An array of process status info structs"),
    ("supervisor.signalProcess", &["boolean", "string", "string"], "Send an arbitrary UNIX signal to the process named by name.\n\n@param string name Name of the process to signal (or 'group:name')\n@param string signal Signal to send, as name ('HUP') or number ('1')\n@return boolean"),
    ("supervisor.signalProcessGroup", &["array", "string", "string"], "Send a signal to all processes in the group named 'name'.\n\n@param string name The group name\n@param string signal Signal to send, as name ('HUP') or number ('1')\n@return array result"),
    ("supervisor.startAllProcesses", &["array", "boolean"], "Start all processes listed in the configuration file.\n\n@param boolean wait Wait for each process to be fully started\n@return array result An array of process status info structs"),
    ("supervisor.startProcess", &["boolean", "string", "boolean"], "Start a process.\n\n@param string name Process name (or 'group:name', or 'group:*')\n@param boolean wait Wait for process to be fully started\n@return boolean result Always true unless error"),
    ("supervisor.startProcessGroup", &["array", "string", "boolean"], "Start all processes in the group named 'name'.\n\n@param string name The group name\n@param boolean wait Wait for each process to be fully started\n@return array result An array of process status info structs"),
    ("supervisor.stopAllProcesses", &["array", "boolean"], "Stop all processes in the process list.\n\n@param boolean wait Wait for each process to be fully stopped\n@return array result An array of process status info structs"),
    ("supervisor.stopProcess", &["boolean", "string", "boolean"], "Stop a process named by name.\n\n@param string name The name of the process to stop (or 'group:name')\n@param boolean wait Wait for the process to be fully stopped\n@return boolean result Always return True unless error"),
    ("supervisor.stopProcessGroup", &["array", "string", "boolean"], "Stop all processes in the process group named 'name'.\n\n@param string name The group name\n@param boolean wait Wait for each process to be fully stopped\n@return array result An array of process status info structs"),
    ("supervisor.tailProcessLog", &["array", "string", "int", "int"], "Tail the stdout log: an efficient alternative to readProcessStdoutLog.\n\nRequests (length) bytes from the (name)'s log, starting at (offset). If the log is longer than (offset + length), the overflow flag is set and (offset) moves to the end of the log.\n\n@param string name the name of the process (or 'group:name')\n@param int offset offset to start reading from\n@param int length maximum number of bytes to return\n@return array result [string bytes, int offset, bool overflow]"),
    ("supervisor.tailProcessStderrLog", &["array", "string", "int", "int"], "Tail the stderr log: an efficient alternative to readProcessStderrLog.\n\nRequests (length) bytes from the (name)'s log, starting at (offset). If the log is longer than (offset + length), the overflow flag is set and (offset) moves to the end of the log.\n\n@param string name the name of the process (or 'group:name')\n@param int offset offset to start reading from\n@param int length maximum number of bytes to return\n@return array result [string bytes, int offset, bool overflow]"),
    ("supervisor.tailProcessStdoutLog", &["array", "string", "int", "int"], "Tail the stdout log: an efficient alternative to readProcessStdoutLog.\n\nRequests (length) bytes from the (name)'s log, starting at (offset). If the log is longer than (offset + length), the overflow flag is set and (offset) moves to the end of the log.\n\n@param string name the name of the process (or 'group:name')\n@param int offset offset to start reading from\n@param int length maximum number of bytes to return\n@return array result [string bytes, int offset, bool overflow]"),
    ("system.listMethods", &["array"], "Return an array listing the available method names.\n\n@return array result An array of method names available (strings)."),
    ("system.methodHelp", &["string", "string"], "Return a string showing the method's documentation.\n\n@param string name The name of the method.\n@return string result The documentation for the method name."),
    ("system.methodSignature", &["array", "string"], "Return an array describing the method signature in the form [rtype, ptype, ptype...] where rtype is the return data type of the method, and ptypes are the parameter data types that the method accepts in method argument order.\n\n@param string name The name of the method.\n@return array result The result."),
    ("system.multicall", &["array", "array"], "Process an array of calls, and return an array of results. Calls should be structs of the form {'methodName': string, 'params': array}. Each result will either be the result value, or a struct of the form {'faultCode': int, 'faultString': string}. This is useful when you need to make lots of small calls without lots of round trips.\n\n@param array calls An array of call requests\n@return array result An array of results"),
];

// ------------------------------------------------------------------ dispatch

/// Calls `method` with `params`.
pub fn call(sup: &mut Supervisor, method: &str, params: Vec<Value>) -> RpcOutcome {
    sup.core
        .logger
        .trace(&format!("XML-RPC method called: {}()", method));
    let Some((ns, name)) = method.split_once('.') else {
        return done(Err(fault(faults::UNKNOWN_METHOD, "")));
    };
    if name.starts_with('_') || name.contains('.') {
        return done(Err(fault(faults::UNKNOWN_METHOD, "")));
    }
    if ns == "system" {
        system_call(sup, name, params)
    } else if serves_namespace(sup, ns) {
        supervisor_call(sup, name, params)
    } else {
        done(Err(fault(faults::UNKNOWN_METHOD, "")))
    }
}

/// The main interface is served under the name of each `[rpcinterface:x]`
/// section (normally `supervisor`); without one, only `system.*` exists,
/// as in the reference.
fn serves_namespace(sup: &Supervisor, ns: &str) -> bool {
    sup.core.options.rpcinterfaces.iter().any(|r| r.name == ns)
}

/// The table entry of a full method name, whatever namespace serves it.
fn method_entry(
    sup: &Supervisor,
    full: &str,
) -> Option<&'static (&'static str, &'static [&'static str], &'static str)> {
    let (ns, name) = full.split_once('.')?;
    let key = if ns == "system" {
        full.to_string()
    } else if serves_namespace(sup, ns) {
        format!("supervisor.{}", name)
    } else {
        return None;
    };
    METHODS.iter().find(|(m, _, _)| *m == key)
}

/// Every method name served, sorted.
fn method_names(sup: &Supervisor) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (m, _, _) in METHODS {
        match m.strip_prefix("supervisor.") {
            Some(base) => {
                for r in &sup.core.options.rpcinterfaces {
                    names.push(format!("{}.{}", r.name, base));
                }
            }
            None => names.push(m.to_string()),
        }
    }
    names.sort();
    names
}

fn system_call(sup: &mut Supervisor, name: &str, params: Vec<Value>) -> RpcOutcome {
    match name {
        "listMethods" => done(
            arity(&params, 0, 0)
                .map(|_| Value::Array(method_names(sup).into_iter().map(Value::String).collect())),
        ),
        "methodHelp" => done((|| {
            arity(&params, 1, 1)?;
            let n = arg_str(&params[0])?;
            method_entry(sup, &n)
                .map(|(_, _, h)| s(*h))
                .ok_or_else(|| fault(faults::SIGNATURE_UNSUPPORTED, ""))
        })()),
        "methodSignature" => done((|| {
            arity(&params, 1, 1)?;
            let n = arg_str(&params[0])?;
            method_entry(sup, &n)
                .map(|(_, sig, _)| Value::Array(sig.iter().map(|t| s(*t)).collect()))
                .ok_or_else(|| fault(faults::SIGNATURE_UNSUPPORTED, ""))
        })()),
        "multicall" => {
            if let Err(f) = arity(&params, 1, 1) {
                return done(Err(f));
            }
            let Value::Array(calls) = params.into_iter().next().unwrap_or(Value::Nil) else {
                return done(Err(fault(faults::INCORRECT_PARAMETERS, "")));
            };
            let mut m = Multicall {
                remaining: calls.into(),
                current: None,
                results: Vec::new(),
            };
            match m.poll(sup) {
                Some(r) => done(r),
                None => RpcOutcome::Deferred(Box::new(m)),
            }
        }
        _ => done(Err(fault(faults::UNKNOWN_METHOD, ""))),
    }
}

/// `_update`: every supervisor.* call but sendRemoteCommEvent fails while
/// shutting down or restarting.
fn check_state(sup: &Supervisor) -> Result<(), Fault> {
    if sup.core.mood < SupervisorState::Running {
        Err(fault(faults::SHUTDOWN_STATE, ""))
    } else {
        Ok(())
    }
}

fn supervisor_call(sup: &mut Supervisor, name: &str, p: Vec<Value>) -> RpcOutcome {
    if name != "sendRemoteCommEvent"
        && METHODS
            .iter()
            .any(|(m, _, _)| m.strip_prefix("supervisor.") == Some(name))
    {
        if let Err(f) = check_state(sup) {
            return done(Err(f));
        }
    }
    let r: RpcResult = match name {
        "getAPIVersion" | "getVersion" => arity(&p, 0, 0).map(|_| s(crate::API_VERSION)),
        "getSupervisorVersion" => arity(&p, 0, 0).map(|_| s(crate::VERSION)),
        "getIdentification" => arity(&p, 0, 0).map(|_| s(sup.core.options.identifier.clone())),
        "getState" => arity(&p, 0, 0).map(|_| {
            st(vec![
                ("statecode", Value::Int(sup.core.mood.code() as i64)),
                ("statename", s(sup.core.mood.name())),
            ])
        }),
        "getPID" => arity(&p, 0, 0).map(|_| Value::Int(crate::sys::getpid() as i64)),
        "readLog" | "readMainLog" => read_main_log(sup, &p),
        "clearLog" => clear_log(sup, &p),
        "shutdown" => arity(&p, 0, 0).map(|_| {
            sup.core.mood = SupervisorState::Shutdown;
            Value::Bool(true)
        }),
        "restart" => arity(&p, 0, 0).map(|_| {
            sup.core.mood = SupervisorState::Restarting;
            Value::Bool(true)
        }),
        "reloadConfig" => reload_config(sup, &p),
        "addProcessGroup" => add_process_group(sup, &p),
        "removeProcessGroup" => remove_process_group(sup, &p),
        "startProcess" => {
            return match arity(&p, 1, 2).and_then(|_| arg_str(&p[0])) {
                Ok(n) => process_or_group(sup, &n, Op::Start(wait_arg(&p, 1))),
                Err(f) => done(Err(f)),
            }
        }
        "startProcessGroup" => {
            return match arity(&p, 1, 2).and_then(|_| arg_str(&p[0])) {
                Ok(n) => group_op(sup, &n, Op::Start(wait_arg(&p, 1))),
                Err(f) => done(Err(f)),
            }
        }
        "startAllProcesses" => {
            return match arity(&p, 0, 1) {
                Ok(()) => {
                    let targets = all_in_priority_order(sup);
                    all_func(sup, targets, Op::Start(wait_arg(&p, 0)))
                }
                Err(f) => done(Err(f)),
            }
        }
        "stopProcess" => {
            return match arity(&p, 1, 2).and_then(|_| arg_str(&p[0])) {
                Ok(n) => process_or_group(sup, &n, Op::Stop(wait_arg(&p, 1))),
                Err(f) => done(Err(f)),
            }
        }
        "stopProcessGroup" => {
            return match arity(&p, 1, 2).and_then(|_| arg_str(&p[0])) {
                Ok(n) => group_op(sup, &n, Op::Stop(wait_arg(&p, 1))),
                Err(f) => done(Err(f)),
            }
        }
        "stopAllProcesses" => {
            return match arity(&p, 0, 1) {
                Ok(()) => {
                    let targets = all_in_priority_order(sup);
                    all_func(sup, targets, Op::Stop(wait_arg(&p, 0)))
                }
                Err(f) => done(Err(f)),
            }
        }
        "signalProcess" => {
            return match arity(&p, 2, 2).and_then(|_| arg_str(&p[0])) {
                Ok(n) => process_or_group(sup, &n, Op::Signal(p[1].clone())),
                Err(f) => done(Err(f)),
            }
        }
        "signalProcessGroup" => {
            return match arity(&p, 2, 2).and_then(|_| arg_str(&p[0])) {
                Ok(n) => group_op(sup, &n, Op::Signal(p[1].clone())),
                Err(f) => done(Err(f)),
            }
        }
        "signalAllProcesses" => {
            return match arity(&p, 1, 1) {
                Ok(()) => {
                    let targets = all_in_priority_order(sup);
                    all_func(sup, targets, Op::Signal(p[0].clone()))
                }
                Err(f) => done(Err(f)),
            }
        }
        "getProcessInfo" => (|| {
            arity(&p, 1, 1)?;
            let n = arg_str(&p[0])?;
            match lookup(sup, &n)? {
                (_, Some(id)) => Ok(process_info(sup, id)),
                (_, None) => Err(fault(faults::BAD_NAME, n)),
            }
        })(),
        "getAllProcessInfo" => arity(&p, 0, 0).map(|_| {
            Value::Array(
                sup.all_process_ids()
                    .into_iter()
                    .map(|id| process_info(sup, id))
                    .collect(),
            )
        }),
        "getAllConfigInfo" => arity(&p, 0, 0).map(|_| all_config_info(sup)),
        "readProcessStdoutLog" | "readProcessLog" => read_process_log(sup, &p, false),
        "readProcessStderrLog" => read_process_log(sup, &p, true),
        "tailProcessStdoutLog" | "tailProcessLog" => tail_process_log(sup, &p, false),
        "tailProcessStderrLog" => tail_process_log(sup, &p, true),
        "clearProcessLogs" | "clearProcessLog" => (|| {
            arity(&p, 1, 1)?;
            let n = arg_str(&p[0])?;
            clear_process_logs(sup, &n).map(|_| Value::Bool(true))
        })(),
        "clearAllProcessLogs" => arity(&p, 0, 0).map(|_| clear_all_process_logs(sup)),
        "sendProcessStdin" => send_stdin(sup, &p),
        "sendRemoteCommEvent" => (|| {
            arity(&p, 2, 2)?;
            let typ = arg_str(&p[0])?;
            let data = arg_str(&p[1])?;
            sup.core.notify(Notification::remote_comm(&typ, &data));
            Ok(Value::Bool(true))
        })(),
        _ => Err(fault(faults::UNKNOWN_METHOD, "")),
    };
    done(r)
}

// ------------------------------------------------------------------ names

/// `_getGroupAndProcess`: (group index, process) — None for `group:*`.
fn lookup(sup: &Supervisor, name: &str) -> Result<(usize, Option<ProcId>), Fault> {
    let (gname, pname) = options::split_namespec(name);
    let Some(gi) = sup.groups.iter().position(|g| g.name == gname) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    let Some(pname) = pname else {
        return Ok((gi, None));
    };
    sup.groups[gi]
        .procs
        .iter()
        .copied()
        .find(|id| sup.procs.get(*id).is_some_and(|p| p.config.name == pname))
        .map(|id| (gi, Some(id)))
        .ok_or_else(|| fault(faults::BAD_NAME, name))
}

fn namespec(sup: &Supervisor, id: ProcId) -> String {
    sup.procs
        .get(id)
        .map(|p| options::make_namespec(&p.group, &p.config.name))
        .unwrap_or_default()
}

/// Processes of a group in ascending priority (stable).
fn group_in_priority_order(sup: &Supervisor, gi: usize) -> Vec<ProcId> {
    let mut ids = sup.groups[gi].procs.clone();
    ids.sort_by_key(|id| sup.procs.get(*id).map(|p| p.config.priority).unwrap_or(0));
    ids
}

/// `_getAllProcesses()`: groups by (priority, name), processes by priority.
fn all_in_priority_order(sup: &Supervisor) -> Vec<ProcId> {
    let mut out = Vec::new();
    for name in sup.sorted_group_names() {
        if let Some(gi) = sup.groups.iter().position(|g| g.name == name) {
            out.extend(group_in_priority_order(sup, gi));
        }
    }
    out
}

// ------------------------------------------------------------------ info

/// Python `str(timedelta)` for whole seconds: `H:MM:SS`, `1 day, H:MM:SS`.
pub fn format_uptime(secs: i64) -> String {
    let secs = secs.max(0);
    let days = secs / 86400;
    let rem = secs % 86400;
    let hms = format!("{}:{:02}:{:02}", rem / 3600, (rem % 3600) / 60, rem % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {}", hms),
        d => format!("{} days, {}", d, hms),
    }
}

/// `%b %d %I:%M %p` in local time (e.g. `Nov 22 02:04 AM`).
pub fn format_stop_time(epoch: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let tm = crate::sys::localtime(epoch);
    let h12 = match tm.hour % 12 {
        0 => 12,
        h => h,
    };
    format!(
        "{} {:02} {:02}:{:02} {}",
        MONTHS[(tm.month.clamp(1, 12) - 1) as usize],
        tm.day,
        h12,
        tm.minute,
        if tm.hour < 12 { "AM" } else { "PM" }
    )
}

/// The `description` of a process as the reference computes it.
pub fn description(
    state: ProcessState,
    pid: i32,
    start: i64,
    stop: i64,
    now: i64,
    spawnerr: &str,
    name: &str,
) -> String {
    match state {
        ProcessState::Running => format!("pid {}, uptime {}", pid, format_uptime(now - start)),
        ProcessState::Fatal | ProcessState::Backoff => {
            if spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", name)
            } else {
                spawnerr.to_string()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if start != 0 {
                format_stop_time(stop)
            } else {
                "Not started".to_string()
            }
        }
        _ => String::new(),
    }
}

pub fn process_info(sup: &Supervisor, id: ProcId) -> Value {
    let Some(p) = sup.procs.get(id) else {
        return Value::Nil;
    };
    let now = now_epoch();
    let start = p.laststart as i64;
    let stop = p.laststop as i64;
    let spawnerr = p.spawnerr.clone().unwrap_or_default();
    let out = path_text(&p.stdout_logfile);
    let err = path_text(&p.stderr_logfile);
    let desc = description(
        p.state,
        p.pid,
        start,
        stop,
        now as i64,
        &spawnerr,
        &p.config.name,
    );
    st(vec![
        ("name", s(p.config.name.clone())),
        ("group", s(p.group.clone())),
        ("start", capped(p.laststart)),
        ("stop", capped(p.laststop)),
        ("now", capped(now)),
        ("state", Value::Int(p.state.code() as i64)),
        ("statename", s(p.state.name())),
        ("spawnerr", s(spawnerr)),
        ("exitstatus", Value::Int(p.exitstatus.unwrap_or(0) as i64)),
        ("logfile", s(out.clone())),
        ("stdout_logfile", s(out)),
        ("stderr_logfile", s(err)),
        ("pid", Value::Int(p.pid as i64)),
        ("description", s(desc)),
    ])
}

fn path_text(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn config_info(
    g: &GroupConfig,
    pc: &ProcessConfig,
    inuse: bool,
    resolved: Option<(&Option<std::path::PathBuf>, &Option<std::path::PathBuf>)>,
) -> Value {
    let none = || s("none");
    let opt = |v: &Option<String>| v.clone().map(Value::String).unwrap_or_else(none);
    let logfile = |lf: &LogFile, resolved: Option<&Option<std::path::PathBuf>>| match (lf, resolved)
    {
        (_, Some(Some(p))) => s(p.to_string_lossy()),
        (_, Some(None)) => none(),
        (LogFile::Auto, None) => s("auto"),
        (LogFile::None, None) => none(),
        (LogFile::Path(p), None) => s(p.to_string_lossy()),
    };
    let (out_res, err_res) = match resolved {
        Some((o, e)) => (Some(o), Some(e)),
        None => (None, None),
    };
    let stderr_lf = if pc.redirect_stderr {
        &LogFile::None
    } else {
        &pc.stderr.logfile
    };
    st(vec![
        ("autostart", Value::Bool(pc.autostart)),
        ("directory", opt(&pc.directory)),
        (
            "uid",
            pc.uid.map(|u| Value::Int(u as i64)).unwrap_or_else(none),
        ),
        ("command", s(pc.command.clone())),
        (
            "exitcodes",
            Value::Array(pc.exitcodes.iter().map(|c| Value::Int(*c as i64)).collect()),
        ),
        ("group", s(g.name.clone())),
        ("group_prio", Value::Int(g.priority)),
        ("inuse", Value::Bool(inuse)),
        ("killasgroup", Value::Bool(pc.killasgroup)),
        ("name", s(pc.name.clone())),
        ("process_prio", Value::Int(pc.priority)),
        ("redirect_stderr", Value::Bool(pc.redirect_stderr)),
        ("startretries", Value::Int(pc.startretries)),
        ("startsecs", Value::Int(pc.startsecs)),
        (
            "stdout_capture_maxbytes",
            Value::Int(pc.stdout.capture_maxbytes as i64),
        ),
        (
            "stdout_events_enabled",
            Value::Bool(pc.stdout.events_enabled),
        ),
        ("stdout_logfile", logfile(&pc.stdout.logfile, out_res)),
        ("stdout_logfile_backups", Value::Int(pc.stdout.backups)),
        (
            "stdout_logfile_maxbytes",
            Value::Int(pc.stdout.maxbytes as i64),
        ),
        ("stdout_syslog", Value::Bool(pc.stdout.syslog)),
        ("stopsignal", Value::Int(pc.stopsignal as i64)),
        ("stopwaitsecs", Value::Int(pc.stopwaitsecs)),
        (
            "stderr_capture_maxbytes",
            Value::Int(pc.stderr.capture_maxbytes as i64),
        ),
        (
            "stderr_events_enabled",
            Value::Bool(pc.stderr.events_enabled),
        ),
        ("stderr_logfile", logfile(stderr_lf, err_res)),
        ("stderr_logfile_backups", Value::Int(pc.stderr.backups)),
        (
            "stderr_logfile_maxbytes",
            Value::Int(pc.stderr.maxbytes as i64),
        ),
        ("stderr_syslog", Value::Bool(pc.stderr.syslog)),
        ("serverurl", opt(&pc.serverurl)),
    ])
}

fn all_config_info(sup: &Supervisor) -> Value {
    let mut rows: Vec<(String, Value)> = Vec::new();
    match &sup.pending_configs {
        Some(configs) => {
            for g in configs {
                let inuse = sup.group(&g.name).is_some();
                for pc in &g.processes {
                    rows.push((pc.name.clone(), config_info(g, pc, inuse, None)));
                }
            }
        }
        None => {
            for name in sup.sorted_group_names() {
                let Some(grp) = sup.group(&name) else {
                    continue;
                };
                let gc = GroupConfig {
                    name: grp.name.clone(),
                    priority: grp.priority,
                    kind: grp.kind.clone(),
                    processes: Vec::new(),
                };
                for id in &grp.procs {
                    if let Some(p) = sup.procs.get(*id) {
                        let resolved = Some((&p.stdout_logfile, &p.stderr_logfile));
                        rows.push((
                            p.config.name.clone(),
                            config_info(&gc, &p.config, true, resolved),
                        ));
                    }
                }
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Array(rows.into_iter().map(|(_, v)| v).collect())
}

// ------------------------------------------------------------------ config

fn reload_config(sup: &mut Supervisor, p: &[Value]) -> RpcResult {
    arity(p, 0, 0)?;
    let new = match options::load_server_options(&sup.core.args) {
        Ok(o) => o.groups,
        Err(e) => return Err(fault(faults::CANT_REREAD, e.0)),
    };
    let cur: Vec<GroupConfig> = sup.groups.iter().map(|g| sup.group_config(g)).collect();
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for g in &new {
        match cur.iter().find(|c| c.name == g.name) {
            None => added.push(s(g.name.clone())),
            Some(c) if !c.same_as(g) => changed.push(s(g.name.clone())),
            _ => {}
        }
    }
    let removed: Vec<Value> = cur
        .iter()
        .filter(|c| !new.iter().any(|g| g.name == c.name))
        .map(|c| s(c.name.clone()))
        .collect();
    sup.pending_configs = Some(new);
    Ok(Value::Array(vec![Value::Array(vec![
        Value::Array(added),
        Value::Array(changed),
        Value::Array(removed),
    ])]))
}

fn add_process_group(sup: &mut Supervisor, p: &[Value]) -> RpcResult {
    arity(p, 1, 1)?;
    let name = arg_str(&p[0])?;
    let config = sup
        .pending_configs
        .as_ref()
        .and_then(|cs| cs.iter().find(|c| c.name == name).cloned())
        .or_else(|| sup.removed_configs.iter().find(|c| c.name == name).cloned());
    let Some(config) = config else {
        return Err(fault(faults::BAD_NAME, name));
    };
    match sup.add_process_group(config) {
        Ok(true) => {
            sup.removed_configs.retain(|c| c.name != name);
            Ok(Value::Bool(true))
        }
        Ok(false) => Err(fault(faults::ALREADY_ADDED, name)),
        Err(e) => Err(fault(faults::FAILED, e)),
    }
}

fn remove_process_group(sup: &mut Supervisor, p: &[Value]) -> RpcResult {
    arity(p, 1, 1)?;
    let name = arg_str(&p[0])?;
    let Some(g) = sup.group(&name) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    let config = sup.group_config(g);
    if sup.remove_process_group(&name) {
        sup.removed_configs.retain(|c| c.name != name);
        sup.removed_configs.push(config);
        Ok(Value::Bool(true))
    } else {
        Err(fault(faults::STILL_RUNNING, name))
    }
}

// ------------------------------------------------------------------ start/stop

/// startProcess / stopProcess / signalProcess: one process, or its whole
/// group for `group:*` (the group variants' results).
fn process_or_group(sup: &mut Supervisor, name: &str, op: Op) -> RpcOutcome {
    let (gi, id) = match lookup(sup, name) {
        Ok(v) => v,
        Err(f) => return done(Err(f)),
    };
    let Some(id) = id else {
        let gname = sup.groups[gi].name.clone();
        return group_op(sup, &gname, op);
    };
    match act_one(sup, id, name, &op) {
        Ok(None) => done(Ok(Value::Bool(true))),
        Ok(Some(d)) => RpcOutcome::Deferred(d),
        Err(f) => done(Err(f)),
    }
}

/// start/stop/signalProcessGroup.
fn group_op(sup: &mut Supervisor, name: &str, op: Op) -> RpcOutcome {
    let signal = matches!(op, Op::Signal(_));
    // The reference checks the shutdown state first, except for signals.
    if !signal {
        if let Err(f) = check_state(sup) {
            return done(Err(f));
        }
    }
    let Some(gi) = sup.groups.iter().position(|g| g.name == name) else {
        return done(Err(fault(faults::BAD_NAME, name)));
    };
    if signal {
        if let Err(f) = check_state(sup) {
            return done(Err(f));
        }
    }
    let targets = group_in_priority_order(sup, gi);
    all_func(sup, targets, op)
}

/// Acts on one process; Ok(Some) when the caller must wait.
fn act_one(
    sup: &mut Supervisor,
    id: ProcId,
    name: &str,
    op: &Op,
) -> Result<Option<Box<dyn Deferred>>, Fault> {
    match op {
        Op::Start(wait) => start_one(sup, id, name, *wait),
        Op::Stop(wait) => stop_one(sup, id, name, *wait),
        Op::Signal(sig) => signal_one(sup, id, name, sig).map(|_| None),
    }
}

/// Starts one process; Ok(Some) when the caller must wait.
fn start_one(
    sup: &mut Supervisor,
    id: ProcId,
    name: &str,
    wait: bool,
) -> Result<Option<Box<dyn Deferred>>, Fault> {
    check_state(sup)?;
    let Some(p) = sup.procs.get(id) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    if let Err(e) = p.execv_args() {
        return Err(match e {
            BadCommand::NotFound(m) => fault(faults::NO_FILE, m),
            other => fault(faults::NOT_EXECUTABLE, other.message()),
        });
    }
    if p.state.is_running() {
        return Err(fault(faults::ALREADY_STARTED, name));
    }
    if p.state == ProcessState::Unknown {
        return Err(fault(
            faults::FAILED,
            format!("{} is in an unknown process state", name),
        ));
    }
    let runs = p.runs;
    sup.spawn_now(id);
    let Some(p) = sup.procs.get(id) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    if p.spawnerr.is_some() {
        return Err(fault(faults::SPAWN_ERROR, name));
    }
    if wait && p.state != ProcessState::Running {
        return Ok(Some(Box::new(StartWait {
            id,
            name: name.to_string(),
            runs,
        })));
    }
    Ok(None)
}

struct StartWait {
    id: ProcId,
    name: String,
    /// `Process::runs` when the start was requested.
    runs: u64,
}

impl Deferred for StartWait {
    fn poll(&mut self, sup: &mut Supervisor) -> Option<RpcResult> {
        let Some(p) = sup.procs.get(self.id) else {
            return Some(Err(fault(faults::ABNORMAL_TERMINATION, self.name.clone())));
        };
        if p.runs > self.runs {
            return Some(Ok(Value::Bool(true)));
        }
        if p.spawnerr.is_some() {
            return Some(Err(fault(faults::SPAWN_ERROR, self.name.clone())));
        }
        match p.state {
            ProcessState::Running => Some(Ok(Value::Bool(true))),
            ProcessState::Starting => None,
            _ => Some(Err(fault(faults::ABNORMAL_TERMINATION, self.name.clone()))),
        }
    }
}

fn stop_one(
    sup: &mut Supervisor,
    id: ProcId,
    name: &str,
    wait: bool,
) -> Result<Option<Box<dyn Deferred>>, Fault> {
    check_state(sup)?;
    let Some(p) = sup.procs.get_mut(id) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    if !p.state.is_running() {
        return Err(fault(faults::NOT_RUNNING, name));
    }
    if let Some(msg) = p.stop(&mut sup.core) {
        return Err(fault(faults::FAILED, msg));
    }
    let stopped = sup.procs.get(id).is_none_or(|p| p.state.is_stopped());
    if wait && !stopped {
        return Ok(Some(Box::new(StopWait { id })));
    }
    Ok(None)
}

struct StopWait {
    id: ProcId,
}

impl Deferred for StopWait {
    fn poll(&mut self, sup: &mut Supervisor) -> Option<RpcResult> {
        let Some(p) = sup.procs.get_mut(self.id) else {
            return Some(Ok(Value::Bool(true)));
        };
        p.stop_report(&mut sup.core);
        if p.state.is_stopped() {
            Some(Ok(Value::Bool(true)))
        } else {
            None
        }
    }
}

fn parse_signal(v: &Value) -> Result<i32, Fault> {
    let text = match v {
        Value::Int(i) => i.to_string(),
        Value::String(s) => s.clone(),
        other => format!("{:?}", other),
    };
    crate::datatypes::signal_number(&text).map_err(|_| fault(faults::BAD_SIGNAL, text))
}

fn signal_one(sup: &mut Supervisor, id: ProcId, name: &str, sig: &Value) -> Result<(), Fault> {
    check_state(sup)?;
    let signum = parse_signal(sig)?;
    let Some(p) = sup.procs.get_mut(id) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    if !p.state.is_signallable() {
        return Err(fault(faults::NOT_RUNNING, name));
    }
    match p.signal(signum, &mut sup.core) {
        Some(msg) => Err(fault(faults::FAILED, msg)),
        None => Ok(()),
    }
}

// ------------------------------------------------------------------ all-funcs

#[derive(Clone)]
enum Op {
    Start(bool),
    Stop(bool),
    Signal(Value),
}

fn result_struct(sup: &Supervisor, id: ProcId, code: i32, desc: &str) -> Value {
    let (name, group) = sup
        .procs
        .get(id)
        .map(|p| (p.config.name.clone(), p.group.clone()))
        .unwrap_or_default();
    st(vec![
        ("name", s(name)),
        ("group", s(group)),
        ("status", Value::Int(code as i64)),
        ("description", s(desc)),
    ])
}

/// The reference's `make_allfunc`: act on every target that qualifies,
/// collect a result struct per process, wait for the deferred ones.
fn all_func(sup: &mut Supervisor, targets: Vec<ProcId>, op: Op) -> RpcOutcome {
    let mut all = AllFunc {
        waiting: Vec::new(),
        results: Vec::new(),
    };
    for id in targets {
        let Some(p) = sup.procs.get(id) else {
            continue;
        };
        let qualifies = match op {
            Op::Start(_) => !p.state.is_running(),
            Op::Stop(_) => p.state.is_running(),
            Op::Signal(_) => p.state.is_signallable(),
        };
        if !qualifies {
            continue;
        }
        let name = namespec(sup, id);
        let r = act_one(sup, id, &name, &op);
        match r {
            Ok(Some(d)) => all.waiting.push((id, d)),
            Ok(None) => all
                .results
                .push(result_struct(sup, id, faults::SUCCESS, "OK")),
            Err(f) => all.results.push(result_struct(sup, id, f.code, &f.string)),
        }
    }
    match all.poll(sup) {
        Some(r) => done(r),
        None => RpcOutcome::Deferred(Box::new(all)),
    }
}

struct AllFunc {
    waiting: Vec<(ProcId, Box<dyn Deferred>)>,
    results: Vec<Value>,
}

impl Deferred for AllFunc {
    fn poll(&mut self, sup: &mut Supervisor) -> Option<RpcResult> {
        let mut still = Vec::new();
        for (id, mut d) in std::mem::take(&mut self.waiting) {
            match d.poll(sup) {
                None => still.push((id, d)),
                Some(Ok(_)) => self
                    .results
                    .push(result_struct(sup, id, faults::SUCCESS, "OK")),
                Some(Err(f)) => self.results.push(result_struct(sup, id, f.code, &f.string)),
            }
        }
        self.waiting = still;
        if self.waiting.is_empty() {
            Some(Ok(Value::Array(std::mem::take(&mut self.results))))
        } else {
            None
        }
    }
}

// ------------------------------------------------------------------ multicall

struct Multicall {
    remaining: std::collections::VecDeque<Value>,
    current: Option<Box<dyn Deferred>>,
    results: Vec<Value>,
}

fn fault_struct(f: Fault) -> Value {
    st(vec![
        ("faultCode", Value::Int(f.code as i64)),
        ("faultString", s(f.string)),
    ])
}

impl Deferred for Multicall {
    fn poll(&mut self, sup: &mut Supervisor) -> Option<RpcResult> {
        if let Some(d) = self.current.as_mut() {
            match d.poll(sup) {
                None => return None,
                Some(r) => {
                    self.current = None;
                    // Results are appended raw, not wrapped in a 1-element
                    // array: the reference's (documented) quirk.
                    self.results.push(r.unwrap_or_else(fault_struct));
                }
            }
        }
        while self.current.is_none() {
            let Some(callv) = self.remaining.pop_front() else {
                return Some(Ok(Value::Array(std::mem::take(&mut self.results))));
            };
            let (name, params) = match &callv {
                Value::Struct(m) => (
                    m.iter()
                        .find(|(k, _)| k == "methodName")
                        .map(|(_, v)| v.clone()),
                    m.iter()
                        .find(|(k, _)| k == "params")
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Array(Vec::new())),
                ),
                _ => (None, Value::Array(Vec::new())),
            };
            let outcome = match name {
                None => done(Err(fault(faults::INCORRECT_PARAMETERS, "No methodName"))),
                Some(Value::String(n)) if n == "system.multicall" => done(Err(fault(
                    faults::INCORRECT_PARAMETERS,
                    "Recursive system.multicall forbidden",
                ))),
                Some(Value::String(n)) => match params {
                    Value::Array(a) => call(sup, &n, a),
                    _ => done(Err(fault(faults::INCORRECT_PARAMETERS, ""))),
                },
                Some(_) => done(Err(fault(faults::INCORRECT_PARAMETERS, ""))),
            };
            match outcome {
                RpcOutcome::Done(r) => self.results.push(r.unwrap_or_else(fault_struct)),
                RpcOutcome::Deferred(d) => self.current = Some(d),
            }
        }
        None
    }
}

// ------------------------------------------------------------------ logs

/// The reference's `readFile` rules.
pub fn read_file(path: &std::path::Path, offset: i64, length: i64) -> Result<Vec<u8>, i32> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|_| faults::FAILED)?;
    let mut data = Vec::new();
    if offset < 0 {
        if length != 0 {
            return Err(faults::BAD_ARGUMENTS);
        }
        let size = f.seek(SeekFrom::End(0)).map_err(|_| faults::FAILED)?;
        let pos = size.saturating_sub(offset.unsigned_abs());
        f.seek(SeekFrom::Start(pos)).map_err(|_| faults::FAILED)?;
        f.take(offset.unsigned_abs())
            .read_to_end(&mut data)
            .map_err(|_| faults::FAILED)?;
    } else {
        if length < 0 {
            return Err(faults::BAD_ARGUMENTS);
        }
        f.seek(SeekFrom::Start(offset as u64))
            .map_err(|_| faults::FAILED)?;
        if length == 0 {
            f.read_to_end(&mut data).map_err(|_| faults::FAILED)?;
        } else {
            f.take(length as u64)
                .read_to_end(&mut data)
                .map_err(|_| faults::FAILED)?;
        }
    }
    Ok(data)
}

/// The reference's `tailFile`: (data, new offset, overflow).
pub fn tail_file(path: &std::path::Path, offset: i64, length: i64) -> (Vec<u8>, i64, bool) {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return (Vec::new(), offset, false);
    };
    let Ok(size) = f.seek(SeekFrom::End(0)) else {
        return (Vec::new(), offset, false);
    };
    let sz = size as i64;
    let (mut offset, mut length) = (offset, length);
    let mut overflow = false;
    if sz > offset.saturating_add(length) {
        overflow = true;
        offset = sz - 1;
    }
    if offset.saturating_add(length) > sz {
        if offset > sz - 1 {
            length = 0;
        }
        offset = sz - length;
    }
    offset = offset.max(0);
    length = length.max(0);
    let mut data = Vec::new();
    if length > 0 && f.seek(SeekFrom::Start(offset as u64)).is_ok() {
        let _ = f.take(length as u64).read_to_end(&mut data);
    }
    (data, sz, overflow)
}

fn text(data: Vec<u8>) -> Value {
    Value::String(String::from_utf8_lossy(&data).into_owned())
}

fn read_main_log(sup: &mut Supervisor, p: &[Value]) -> RpcResult {
    arity(p, 2, 2)?;
    let offset = arg_int(&p[0])?;
    let length = arg_int(&p[1])?;
    let path = sup.core.logger.file_path().map(|p| p.to_path_buf());
    match path {
        Some(path) if path.exists() => read_file(&path, offset, length)
            .map(text)
            .map_err(|code| fault(code, "")),
        Some(path) => Err(fault(faults::NO_FILE, path.to_string_lossy())),
        None => Err(fault(faults::NO_FILE, "None")),
    }
}

fn clear_log(sup: &mut Supervisor, p: &[Value]) -> RpcResult {
    arity(p, 0, 0)?;
    match sup.core.logger.file_path() {
        Some(path) if path.exists() => {}
        _ => return Err(fault(faults::NO_FILE, "")),
    }
    sup.core
        .logger
        .clear()
        .map_err(|_| fault(faults::FAILED, ""))?;
    sup.core.logger.info("reopening log file");
    Ok(Value::Bool(true))
}

fn process_logfile(
    sup: &Supervisor,
    name: &str,
    stderr: bool,
) -> Result<Option<std::path::PathBuf>, Fault> {
    match lookup(sup, name)? {
        (_, Some(id)) => {
            let p = sup
                .procs
                .get(id)
                .ok_or_else(|| fault(faults::BAD_NAME, name))?;
            Ok(if stderr {
                p.stderr_logfile.clone()
            } else {
                p.stdout_logfile.clone()
            })
        }
        (_, None) => Err(fault(faults::BAD_NAME, name)),
    }
}

fn read_process_log(sup: &mut Supervisor, p: &[Value], stderr: bool) -> RpcResult {
    arity(p, 3, 3)?;
    let name = arg_str(&p[0])?;
    let offset = arg_int(&p[1])?;
    let length = arg_int(&p[2])?;
    match process_logfile(sup, &name, stderr)? {
        Some(path) if path.exists() => read_file(&path, offset, length)
            .map(text)
            .map_err(|code| fault(code, "")),
        Some(path) => Err(fault(faults::NO_FILE, path.to_string_lossy())),
        None => Err(fault(faults::NO_FILE, "None")),
    }
}

fn tail_process_log(sup: &mut Supervisor, p: &[Value], stderr: bool) -> RpcResult {
    arity(p, 3, 3)?;
    let name = arg_str(&p[0])?;
    let offset = arg_int(&p[1])?;
    let length = arg_int(&p[2])?;
    let (data, off, overflow) = match process_logfile(sup, &name, stderr)? {
        Some(path) if path.exists() => tail_file(&path, offset, length),
        _ => (Vec::new(), 0, false),
    };
    Ok(Value::Array(vec![
        text(data),
        Value::Int(off),
        Value::Bool(overflow),
    ]))
}

fn clear_process_logs(sup: &mut Supervisor, name: &str) -> Result<(), Fault> {
    check_state(sup)?;
    let id = match lookup(sup, name)? {
        (_, Some(id)) => id,
        (_, None) => return Err(fault(faults::BAD_NAME, name)),
    };
    let Some(p) = sup.procs.get_mut(id) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    let mut ok = true;
    let mut cleared = [false, false];
    for (i, d) in [p.stdout.as_mut(), p.stderr.as_mut()]
        .into_iter()
        .enumerate()
    {
        if let Some(d) = d {
            ok &= d.clear().is_ok();
            cleared[i] = true;
        }
    }
    // Not running: empty the files themselves.
    for (i, path) in [&p.stdout_logfile, &p.stderr_logfile]
        .into_iter()
        .enumerate()
    {
        if let (false, Some(path)) = (cleared[i], path) {
            match std::fs::remove_file(path) {
                Ok(()) => ok &= std::fs::File::create(path).is_ok(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => ok = false,
            }
        }
    }
    sup.http.logs_dirty = true;
    if ok {
        Ok(())
    } else {
        Err(fault(faults::FAILED, name))
    }
}

fn clear_all_process_logs(sup: &mut Supervisor) -> Value {
    let mut results = Vec::new();
    for id in all_in_priority_order(sup) {
        let name = namespec(sup, id);
        let r = clear_process_logs(sup, &name);
        results.push(match r {
            Ok(()) => result_struct(sup, id, faults::SUCCESS, "OK"),
            Err(f) => result_struct(sup, id, f.code, &f.string),
        });
    }
    Value::Array(results)
}

fn send_stdin(sup: &mut Supervisor, p: &[Value]) -> RpcResult {
    arity(p, 2, 2)?;
    let name = arg_str(&p[0])?;
    let chars = match &p[1] {
        Value::String(s) => s.clone().into_bytes(),
        Value::Base64(b) => b.clone(),
        other => {
            return Err(fault(
                faults::INCORRECT_PARAMETERS,
                py_repr(&format!("{:?}", other)),
            ))
        }
    };
    let id = match lookup(sup, &name)? {
        (_, Some(id)) => id,
        (_, None) => return Err(fault(faults::BAD_NAME, name)),
    };
    let Some(proc_) = sup.procs.get_mut(id) else {
        return Err(fault(faults::BAD_NAME, name));
    };
    if proc_.pid == 0 || proc_.killing {
        return Err(fault(faults::NOT_RUNNING, name));
    }
    match proc_.write_stdin(&chars, &mut sup.core) {
        Ok(()) => Ok(Value::Bool(true)),
        Err(e) if e.raw_os_error() == Some(libc::EPIPE) => Err(fault(faults::NO_FILE, name)),
        Err(e) => Err(fault(faults::FAILED, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_like_python_timedelta() {
        assert_eq!(format_uptime(13), "0:00:13");
        assert_eq!(format_uptime(3600 + 62), "1:01:02");
        assert_eq!(format_uptime(86400 + 5), "1 day, 0:00:05");
        assert_eq!(format_uptime(3 * 86400 + 7384), "3 days, 2:03:04");
        assert_eq!(format_uptime(-5), "0:00:00");
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            description(ProcessState::Running, 7, 100, 0, 113, "", "x"),
            "pid 7, uptime 0:00:13"
        );
        assert_eq!(
            description(ProcessState::Fatal, 0, 1, 2, 3, "", "x"),
            "unknown error (try \"tail x\")"
        );
        assert_eq!(
            description(
                ProcessState::Backoff,
                0,
                1,
                2,
                3,
                "Exited too quickly (process log may have details)",
                "x"
            ),
            "Exited too quickly (process log may have details)"
        );
        assert_eq!(
            description(ProcessState::Stopped, 0, 0, 0, 3, "", "x"),
            "Not started"
        );
        assert_eq!(description(ProcessState::Starting, 0, 1, 0, 3, "", "x"), "");
        let d = description(ProcessState::Exited, 0, 1, 1795319296, 3, "", "x");
        assert_eq!(d.len(), "Nov 22 02:04 AM".len(), "{d}");
    }

    fn tmp(name: &str, content: &[u8]) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sv-rpc-{}-{}", std::process::id(), name));
        std::fs::write(&d, content).unwrap();
        d
    }

    #[test]
    fn read_file_rules() {
        let p = tmp("read", b"0123456789");
        assert_eq!(read_file(&p, 0, 0).unwrap(), b"0123456789");
        assert_eq!(read_file(&p, 2, 3).unwrap(), b"234");
        assert_eq!(read_file(&p, -4, 0).unwrap(), b"6789");
        assert_eq!(read_file(&p, -40, 0).unwrap(), b"0123456789");
        assert_eq!(read_file(&p, -4, 2), Err(faults::BAD_ARGUMENTS));
        assert_eq!(read_file(&p, 0, -2), Err(faults::BAD_ARGUMENTS));
        assert_eq!(
            read_file(&p.with_extension("none"), 0, 0),
            Err(faults::FAILED)
        );
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn tail_file_rules() {
        let p = tmp("tail", b"0123456789");
        assert_eq!(tail_file(&p, 0, 3), (b"789".to_vec(), 10, true));
        assert_eq!(tail_file(&p, 0, 100), (b"0123456789".to_vec(), 10, false));
        assert_eq!(tail_file(&p, 10, 5), (Vec::new(), 10, false));
        assert_eq!(tail_file(&p, 8, 5), (b"56789".to_vec(), 10, false));
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn every_method_has_a_signature() {
        let names: Vec<&str> = METHODS.iter().map(|(n, _, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "listMethods is sorted");
        assert_eq!(names.len(), 41);
    }
}
