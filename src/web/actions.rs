//! web::actions: what the status page's buttons do. Each action goes
//! through the XML-RPC methods (so it waits, logs and faults exactly like
//! them) and ends with a redirect to the page showing the reference's
//! message for it.

use super::html::{ctime, escape, now_secs, quote};
use super::{no_cache_headers, WebOutcome};
use crate::http::Response;
use crate::rpcinterface::{self, RpcOutcome};
use crate::supervisord::Supervisor;
use crate::xmlrpc::{faults, Fault, Value};

/// Longest process name quoted back in "No such process" messages.
const MAX_ECHOED_NAME: usize = 200;

/// Turns the result of the RPC call(s) into the message to show.
type Describe = Box<dyn FnOnce(Result<Value, Fault>) -> String>;

/// Performs `action` (on process `name` where it needs one).
pub fn perform(
    sup: &mut Supervisor,
    action: &str,
    name: Option<&str>,
    refresh: Option<u32>,
) -> WebOutcome {
    let (outcome, describe): (RpcOutcome, Describe) = match (action, name) {
        ("refresh", _) => (
            RpcOutcome::Done(Ok(Value::Nil)),
            Box::new(|_| format!("Page refreshed at {}", ctime(now_secs()))),
        ),
        ("stopall", _) => (
            rpcinterface::call(sup, "supervisor.stopAllProcesses", Vec::new()),
            Box::new(|_| format!("All stopped at {}", ctime(now_secs()))),
        ),
        ("restartall", _) => (
            multicall(
                sup,
                &[
                    ("supervisor.stopAllProcesses", None),
                    ("supervisor.startAllProcesses", None),
                ],
            ),
            Box::new(|_| format!("All restarted at {}", ctime(now_secs()))),
        ),
        ("start" | "stop" | "restart" | "clearlog", Some(name)) if !exists(sup, name) => {
            let shown: String = name.chars().take(MAX_ECHOED_NAME).collect();
            let message = format!("No such process named {}", shown);
            return WebOutcome::Done(redirect(&message, refresh));
        }
        ("start", Some(name)) => (
            rpc_on(sup, "supervisor.startProcess", name),
            started(name.to_string()),
        ),
        ("stop", Some(name)) => (rpc_on(sup, "supervisor.stopProcess", name), {
            let name = name.to_string();
            Box::new(move |r| match r {
                Ok(_) => format!("Process {} stopped", name),
                Err(f) => unexpected(&f),
            })
        }),
        ("restart", Some(name)) => (
            multicall(
                sup,
                &[
                    ("supervisor.stopProcess", Some(name)),
                    ("supervisor.startProcess", Some(name)),
                ],
            ),
            restarted(name.to_string()),
        ),
        ("clearlog", Some(name)) => (rpc_on(sup, "supervisor.clearProcessLogs", name), {
            let name = name.to_string();
            Box::new(move |r| match r {
                Ok(_) => format!("Log for {} cleared", name),
                Err(f) => unexpected(&f),
            })
        }),
        ("start" | "stop" | "restart" | "clearlog", None) => {
            return WebOutcome::Done(bad_request("ERROR: no process name given"))
        }
        (other, _) => {
            let shown: String = other.chars().take(MAX_ECHOED_NAME).collect();
            return WebOutcome::Done(bad_request(&format!("ERROR: unknown action {}", shown)));
        }
    };
    match outcome {
        RpcOutcome::Done(result) => WebOutcome::Done(redirect(&describe(result), refresh)),
        RpcOutcome::Deferred(deferred) => WebOutcome::Deferred(
            deferred,
            Box::new(move |_sup: &mut Supervisor, result| redirect(&describe(result), refresh)),
        ),
    }
}

/// Whether `namespec` names one process (not `group:*`), like the
/// reference's check before any per-process action.
fn exists(sup: &Supervisor, namespec: &str) -> bool {
    let (group, name) = crate::options::split_namespec(namespec);
    let Some(name) = name else {
        return false;
    };
    sup.group(&group).is_some_and(|g| {
        g.procs
            .iter()
            .any(|id| sup.procs.get(*id).is_some_and(|p| p.config.name == name))
    })
}

fn rpc_on(sup: &mut Supervisor, method: &str, name: &str) -> RpcOutcome {
    rpcinterface::call(sup, method, vec![Value::String(name.to_string())])
}

/// `system.multicall` of parameterless or one-name calls.
fn multicall(sup: &mut Supervisor, calls: &[(&str, Option<&str>)]) -> RpcOutcome {
    let calls = calls
        .iter()
        .map(|(method, name)| {
            let params = name.map(|n| Value::String(n.to_string())).into_iter();
            Value::Struct(vec![
                ("methodName".into(), Value::String(method.to_string())),
                ("params".into(), Value::Array(params.collect())),
            ])
        })
        .collect();
    rpcinterface::call(sup, "system.multicall", vec![Value::Array(calls)])
}

fn started(name: String) -> Describe {
    Box::new(move |r| match r {
        Ok(_) => format!("Process {} started", name),
        Err(f) => start_error(&name, &f),
    })
}

/// Restart = stop then start; a stop that finds the process already
/// stopped is fine, a failed start is reported.
fn restarted(name: String) -> Describe {
    Box::new(move |r| {
        let start_fault = match &r {
            Ok(Value::Array(results)) => results.get(1).and_then(fault_of),
            Ok(_) => None,
            Err(f) => Some(f.clone()),
        };
        match start_fault {
            None => format!("Process {} restarted", name),
            Some(f) => start_error(&name, &f),
        }
    })
}

/// The fault a multicall result holds, if it is one.
fn fault_of(v: &Value) -> Option<Fault> {
    let Value::Struct(members) = v else {
        return None;
    };
    let get = |k: &str| members.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    match (get("faultCode"), get("faultString")) {
        (Some(Value::Int(code)), Some(Value::String(s))) => Some(Fault {
            code: *code as i32,
            string: s.clone(),
        }),
        _ => None,
    }
}

/// The reference's texts for a failed start.
fn start_error(name: &str, f: &Fault) -> String {
    let reason = match f.code {
        faults::NO_FILE => "no such file".to_string(),
        faults::NOT_EXECUTABLE => "file not executable".to_string(),
        faults::ALREADY_STARTED => "already started".to_string(),
        faults::SPAWN_ERROR => "spawn error".to_string(),
        faults::ABNORMAL_TERMINATION => "abnormal termination".to_string(),
        _ => unexpected(f),
    };
    format!("ERROR: Process {}: {}", name, reason)
}

fn unexpected(f: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", f.code, f.string)
}

/// The reference's answer once an action is done: 301 to the page with
/// the message (medusa's error body, no-cache headers).
fn redirect(message: &str, refresh: Option<u32>) -> Response {
    let mut location = format!("index.html?message={}", quote(message));
    if let Some(n) = refresh {
        location.push_str(&format!("&refresh={}", n));
    }
    let mut resp = Response::error(301);
    resp.headers = vec![
        ("Location".into(), location),
        ("Content-Type".into(), "text/html".into()),
    ];
    for (k, v) in no_cache_headers() {
        resp = resp.header(k, v);
    }
    resp
}

/// A request the page can't act on (the reference answers 500).
fn bad_request(message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bad request</title></head>\
         <body><p>{}</p><p><a href=\"index.html\">Back to the status page</a></p></body></html>\n",
        escape(message)
    );
    super::html_response(400, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(code: i32, detail: &str) -> Fault {
        Fault::new(code, detail)
    }

    #[test]
    fn start_errors_use_the_reference_texts() {
        let cases = [
            (faults::NO_FILE, "no such file"),
            (faults::NOT_EXECUTABLE, "file not executable"),
            (faults::ALREADY_STARTED, "already started"),
            (faults::SPAWN_ERROR, "spawn error"),
            (faults::ABNORMAL_TERMINATION, "abnormal termination"),
        ];
        for (code, text) in cases {
            assert_eq!(
                start_error("foo", &fault(code, "foo")),
                format!("ERROR: Process foo: {text}")
            );
        }
        assert_eq!(
            start_error("foo", &fault(faults::SHUTDOWN_STATE, "")),
            "ERROR: Process foo: unexpected rpc fault [6] SHUTDOWN_STATE"
        );
        assert_eq!(
            unexpected(&fault(faults::NOT_RUNNING, "foo")),
            "unexpected rpc fault [70] NOT_RUNNING: foo"
        );
    }

    #[test]
    fn restart_reports_a_failed_start_only() {
        let fault_struct = |code: i64, s: &str| {
            Value::Struct(vec![
                ("faultCode".into(), Value::Int(code)),
                ("faultString".into(), Value::String(s.into())),
            ])
        };
        let ok = Value::Array(vec![Value::Bool(true), Value::Bool(true)]);
        assert_eq!(restarted("x".into())(Ok(ok)), "Process x restarted");
        let stop_failed = Value::Array(vec![fault_struct(70, "NOT_RUNNING: x"), Value::Bool(true)]);
        assert_eq!(
            restarted("x".into())(Ok(stop_failed)),
            "Process x restarted"
        );
        let start_failed = Value::Array(vec![
            Value::Bool(true),
            fault_struct(40, "ABNORMAL_TERMINATION: x"),
        ]);
        assert_eq!(
            restarted("x".into())(Ok(start_failed)),
            "ERROR: Process x: abnormal termination"
        );
    }

    #[test]
    fn redirect_is_the_reference_301() {
        let r = redirect("Process foo started", Some(5));
        assert_eq!(r.code, 301);
        assert_eq!(
            r.headers[0],
            (
                "Location".to_string(),
                "index.html?message=Process%20foo%20started&refresh=5".to_string()
            )
        );
        assert_eq!(r.headers[1].1, "text/html");
        assert!(r
            .headers
            .iter()
            .any(|(k, v)| k == "Pragma" && v == "no-cache"));
        assert!(String::from_utf8_lossy(&r.body).contains("Error code 301."));
    }
}
