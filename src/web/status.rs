//! web::status: the status page (`/`, `/index.html`) — one row per
//! process with its state, description, log link and action buttons, the
//! page-wide buttons, the message of the last action and auto-refresh.

use super::html::{escape, page, quote, Form};
use super::{actions, csrf_token, html_response, token_ok};
use crate::http::WebOutcome;
use crate::options::make_namespec;
use crate::rpcinterface::description;
use crate::states::ProcessState;
use crate::supervisord::Supervisor;

/// Longest auto-refresh period accepted (seconds).
const MAX_REFRESH: u32 = 3600;

/// The period offered by the auto-refresh link (seconds).
const DEFAULT_REFRESH: u32 = 5;

/// Shows the page, or performs the requested action.
pub fn handle(sup: &mut Supervisor, post: bool, form: &Form) -> WebOutcome {
    let refresh = form
        .get("refresh")
        .and_then(|r| r.parse::<u32>().ok())
        .filter(|r| (1..=MAX_REFRESH).contains(r));
    let message = match form.get("action") {
        None => form.get("message").map(str::to_string),
        // Refreshing changes nothing, so it needs no token.
        Some("refresh") => return actions::perform(sup, "refresh", None, refresh),
        Some(action) if !post => Some(format!(
            "Action {} ignored: use the buttons of this page",
            action
        )),
        Some(action) => {
            if !token_ok(form.get("csrf")) {
                let text = "ERROR: the form is outdated or forged (bad token); nothing was done. \
                            Please try again.";
                return WebOutcome::Done(render_page(sup, 403, Some(text), refresh));
            }
            return actions::perform(sup, action, form.get("processname"), refresh);
        }
    };
    WebOutcome::Done(render_page(sup, 200, message.as_deref(), refresh))
}

/// What a row shows of one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub group: String,
    pub name: String,
    pub state: ProcessState,
    pub description: String,
}

/// Every process, sorted by group then name (as the reference does).
fn rows(sup: &Supervisor) -> Vec<Row> {
    let now = super::html::now_secs();
    sup.all_process_ids()
        .into_iter()
        .filter_map(|id| sup.procs.get(id))
        .map(|p| Row {
            group: p.group.clone(),
            name: p.config.name.clone(),
            state: p.state,
            description: description(
                p.state,
                p.pid,
                p.laststart as i64,
                p.laststop as i64,
                now,
                p.spawnerr.as_deref().unwrap_or(""),
                &p.config.name,
            ),
        })
        .collect()
}

fn render_page(
    sup: &Supervisor,
    code: u16,
    message: Option<&str>,
    refresh: Option<u32>,
) -> crate::http::Response {
    html_response(code, render(&rows(sup), message, csrf_token(), refresh))
}

/// The whole page.
pub fn render(rows: &[Row], message: Option<&str>, token: &str, refresh: Option<u32>) -> String {
    let hidden = hidden_fields(token, refresh);
    let mut content = String::new();
    if let Some(m) = message {
        content.push_str(&format!(
            "<div class=\"status_msg\" role=\"status\">{}</div>\n",
            escape(m)
        ));
    }
    content.push_str(&format!(
        "<form id=\"buttons\" action=\"index.html\" method=\"post\">{hidden}\
         <button name=\"action\" value=\"refresh\">Refresh</button> \
         <button name=\"action\" value=\"restartall\">Restart All</button> \
         <button name=\"action\" value=\"stopall\">Stop All</button> {}</form>\n",
        refresh_link(refresh)
    ));
    if rows.is_empty() {
        content.push_str("<p id=\"noprograms\">No programs to manage</p>\n");
    } else {
        content.push_str(
            "<div class=\"tablewrap\">\n<table id=\"statustable\">\n<thead><tr>\
             <th class=\"state\">State</th><th class=\"desc\">Description</th>\
             <th class=\"name\">Name</th><th class=\"action\">Action</th></tr></thead>\n<tbody>\n",
        );
        for (i, row) in rows.iter().enumerate() {
            content.push_str(&render_row(row, i % 2 == 1, &hidden));
        }
        content.push_str("</tbody>\n</table>\n</div>\n");
    }
    let head = match refresh {
        Some(n) => {
            format!("<meta http-equiv=\"refresh\" content=\"{n}; url=index.html?refresh={n}\">\n")
        }
        None => String::new(),
    };
    page("Supervisor Status", &head, &content)
}

/// The hidden inputs every action form carries.
fn hidden_fields(token: &str, refresh: Option<u32>) -> String {
    let mut s = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(token)
    );
    if let Some(n) = refresh {
        s.push_str(&format!(
            "<input type=\"hidden\" name=\"refresh\" value=\"{n}\">"
        ));
    }
    s
}

fn refresh_link(refresh: Option<u32>) -> String {
    match refresh {
        Some(n) => {
            format!("<a class=\"toggle\" href=\"index.html\">Stop auto-refresh (every {n} s)</a>")
        }
        None => format!(
            "<a class=\"toggle\" href=\"index.html?refresh={DEFAULT_REFRESH}\">Auto-refresh</a>"
        ),
    }
}

/// The reference's state classes: running, error, or nominal.
fn state_class(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Running => "statusrunning",
        ProcessState::Fatal | ProcessState::Backoff => "statuserror",
        _ => "statusnominal",
    }
}

/// The action buttons a state allows, as (action, label).
fn actions_for(state: ProcessState) -> &'static [(&'static str, &'static str)] {
    const CLEAR: (&str, &str) = ("clearlog", "Clear Log");
    match state {
        ProcessState::Running => &[("restart", "Restart"), ("stop", "Stop"), CLEAR],
        ProcessState::Stopped | ProcessState::Exited | ProcessState::Fatal => {
            &[("start", "Start"), CLEAR]
        }
        _ => &[CLEAR],
    }
}

fn render_row(row: &Row, shade: bool, hidden: &str) -> String {
    let namespec = make_namespec(&row.group, &row.name);
    let (name_html, name_url) = (escape(&namespec), quote(&namespec));
    let buttons: String = actions_for(row.state)
        .iter()
        .map(|(action, label)| {
            format!("<button name=\"action\" value=\"{action}\">{label}</button> ")
        })
        .collect();
    format!(
        "<tr{shade}>\n<td class=\"status\"><span class=\"{class}\">{state}</span></td>\n\
         <td class=\"desc\">{desc}</td>\n\
         <td class=\"name\"><a href=\"tail.html?processname={name_url}\" target=\"_blank\" \
         rel=\"noopener\">{name_html}</a></td>\n\
         <td class=\"action\"><form action=\"index.html\" method=\"post\">{hidden}\
         <input type=\"hidden\" name=\"processname\" value=\"{name_html}\">{buttons}\
         <a href=\"logtail/{name_url}\" target=\"_blank\" rel=\"noopener\">Tail -f Stdout</a> \
         <a href=\"logtail/{name_url}/stderr\" target=\"_blank\" rel=\"noopener\">Tail -f Stderr</a>\
         </form></td>\n</tr>\n",
        shade = if shade { " class=\"shade\"" } else { "" },
        class = state_class(row.state),
        state = row.state.name().to_ascii_lowercase(),
        desc = escape(&row.description),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: &str, name: &str, state: ProcessState, desc: &str) -> Row {
        Row {
            group: group.into(),
            name: name.into(),
            state,
            description: desc.into(),
        }
    }

    #[test]
    fn rows_show_state_class_actions_and_links() {
        let rows = [
            row("foo", "foo", ProcessState::Running, "pid 7, uptime 0:00:01"),
            row("g", "a b", ProcessState::Fatal, "Exited too quickly"),
            row("g", "c", ProcessState::Starting, ""),
        ];
        let html = render(&rows, None, "TOKEN", None);
        assert!(html.contains("<span class=\"statusrunning\">running</span>"));
        assert!(html.contains("<span class=\"statuserror\">fatal</span>"));
        assert!(html.contains("<span class=\"statusnominal\">starting</span>"));
        assert!(html.contains("<td class=\"desc\">pid 7, uptime 0:00:01</td>"));
        assert!(html.contains("href=\"tail.html?processname=g%3Aa%20b\""));
        assert!(html.contains("href=\"logtail/g%3Aa%20b/stderr\""));
        assert!(html.contains("name=\"processname\" value=\"g:a b\""));
        assert_eq!(html.matches("name=\"csrf\" value=\"TOKEN\"").count(), 4);
        assert_eq!(html.matches("<tr class=\"shade\">").count(), 1);
        // Running: Restart, Stop, Clear Log; Fatal: Start, Clear Log;
        // Starting: Clear Log only.
        for (action, n) in [("restart", 1), ("stop", 1), ("start", 1), ("clearlog", 3)] {
            let b = format!("<button name=\"action\" value=\"{action}\">");
            assert_eq!(html.matches(&b).count(), n, "{action}");
        }
        assert!(!html.contains("http-equiv"));
        assert!(!html.contains("status_msg"));
    }

    #[test]
    fn everything_from_outside_is_escaped() {
        let rows = [row(
            "<g>",
            "<script>&\"'",
            ProcessState::Backoff,
            "can't parse <x> & \"y\"",
        )];
        let html = render(&rows, Some("Process <b>&'\" started"), "T", None);
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<g>"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("&lt;g&gt;:&lt;script&gt;&amp;&quot;&#39;</a>"));
        assert!(html.contains("can&#39;t parse &lt;x&gt; &amp; &quot;y&quot;"));
        assert!(html.contains("Process &lt;b&gt;&amp;&#39;&quot; started"));
        assert!(html.contains("processname=%3Cg%3E%3A%3Cscript%3E%26%22%27\""));
    }

    #[test]
    fn empty_page_and_auto_refresh() {
        let html = render(&[], Some("hi"), "T", Some(7));
        assert!(html.contains("No programs to manage"));
        assert!(!html.contains("<table"));
        assert!(html.contains("<div class=\"status_msg\" role=\"status\">hi</div>"));
        assert!(
            html.contains("<meta http-equiv=\"refresh\" content=\"7; url=index.html?refresh=7\">")
        );
        assert!(html.contains("<input type=\"hidden\" name=\"refresh\" value=\"7\">"));
        assert!(html.contains("Stop auto-refresh"));
    }
}
