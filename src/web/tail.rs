//! web::tail: `tail.html?processname=X[&limit=N][&channel=stderr]`, the
//! last max(1024, N) bytes of a process's stdout (or stderr) log.

use super::html::{escape, escape_log, page, quote, Form};
use super::html_response;
use crate::http::Response;
use crate::rpcinterface::{self, RpcOutcome};
use crate::supervisord::Supervisor;
use crate::xmlrpc::{faults, Value};

/// The reference's minimum (and default) amount shown.
const MIN_LIMIT: u64 = 1024;
/// Most we read into one page, so a huge `limit` can't eat memory.
const MAX_LIMIT: u64 = 4 * 1024 * 1024;

pub fn handle(sup: &mut Supervisor, form: &Form) -> Response {
    let stderr = form.get("channel") == Some("stderr");
    // Like the reference: anything but digits means the default.
    let limit = form
        .get("limit")
        .filter(|l| l.bytes().all(|b| b.is_ascii_digit()))
        .map(|l| l.parse::<u64>().unwrap_or(MAX_LIMIT))
        .unwrap_or(MIN_LIMIT)
        .clamp(MIN_LIMIT, MAX_LIMIT);
    let name = form.get("processname");
    let text = match name {
        None => "No process name found".to_string(),
        Some(name) => read_tail(sup, name, stderr, limit),
    };
    html_response(200, render(name, stderr, limit, &text))
}

fn read_tail(sup: &mut Supervisor, name: &str, stderr: bool, limit: u64) -> String {
    let method = if stderr {
        "supervisor.readProcessStderrLog"
    } else {
        "supervisor.readProcessStdoutLog"
    };
    let params = vec![
        Value::String(name.to_string()),
        Value::Int(-(limit as i64)),
        Value::Int(0),
    ];
    match rpcinterface::call(sup, method, params) {
        RpcOutcome::Done(Ok(Value::String(s))) => s,
        RpcOutcome::Done(Err(f)) if f.code == faults::NO_FILE => format!("No file for {}", name),
        RpcOutcome::Done(Err(f)) => {
            format!("ERROR: unexpected rpc fault [{}] {}", f.code, f.string)
        }
        // Reading a log never waits and always answers a string.
        RpcOutcome::Done(Ok(_)) | RpcOutcome::Deferred(_) => String::new(),
    }
}

/// The page; `name` None when no process was named.
pub fn render(name: Option<&str>, stderr: bool, limit: u64, text: &str) -> String {
    let channel = if stderr { " (stderr)" } else { "" };
    let title = format!(
        "Supervisor tail of process {}{}",
        escape(name.unwrap_or("None")),
        channel
    );
    let mut content = String::new();
    if let Some(name) = name {
        content.push_str(&format!(
            "<h1 id=\"tailtitle\">{} <span>{}</span></h1>\n",
            escape(name),
            if stderr { "stderr" } else { "stdout" }
        ));
    }
    content.push_str(&format!(
        "<pre id=\"tailbody\">{}</pre>\n",
        escape_log(text)
    ));
    if let Some(name) = name {
        let q = quote(name);
        let link = |stderr: bool| {
            format!(
                "tail.html?processname={q}&amp;limit={limit}{}",
                if stderr { "&amp;channel=stderr" } else { "" }
            )
        };
        let follow = if stderr {
            format!("logtail/{q}/stderr")
        } else {
            format!("logtail/{q}")
        };
        content.push_str(&format!(
            "<nav id=\"tailnav\"><a class=\"button\" id=\"refresh_anchor\" href=\"{}\">Refresh</a> \
             <a href=\"{}\">Stdout</a> <a href=\"{}\">Stderr</a> \
             <a href=\"{follow}\">Tail -f</a> <a href=\"index.html\">Status page</a></nav>\n",
            link(stderr),
            link(false),
            link(true),
        ));
    }
    page(&title, "", &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_page_escapes_and_links() {
        let html = render(Some("g:<a>"), false, 2048, "out <b>\u{1b}[1m\n");
        assert!(html.contains("<title>Supervisor tail of process g:&lt;a&gt;</title>"));
        assert!(html.contains("<h1 id=\"tailtitle\">g:&lt;a&gt; <span>stdout</span></h1>"));
        assert!(html.contains("<pre id=\"tailbody\">out &lt;b&gt;\u{fffd}[1m\n</pre>"));
        assert!(html.contains("href=\"tail.html?processname=g%3A%3Ca%3E&amp;limit=2048\">Refresh"));
        assert!(html.contains(
            "href=\"tail.html?processname=g%3A%3Ca%3E&amp;limit=2048&amp;channel=stderr\">Stderr"
        ));
        assert!(html.contains("href=\"logtail/g%3A%3Ca%3E\">Tail -f"));
    }

    #[test]
    fn stderr_variant_and_missing_name() {
        let html = render(Some("x"), true, 1024, "");
        assert!(html.contains("<title>Supervisor tail of process x (stderr)</title>"));
        assert!(html.contains("id=\"refresh_anchor\" href=\"tail.html?processname=x&amp;limit=1024&amp;channel=stderr\""));
        assert!(html.contains("href=\"logtail/x/stderr\">Tail -f"));
        let none = render(None, false, 1024, "No process name found");
        assert!(none.contains("<pre id=\"tailbody\">No process name found</pre>"));
        assert!(!none.contains("refresh_anchor"));
        assert!(!none.contains("tailtitle"));
    }
}
