//! The web interface over real HTTP: the status page, every action with its
//! redirect and message, the CSRF guard, escaping, the tail page, the
//! health check, the stylesheet, 404s and Basic auth.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::{wait_until, Supervisord, TempDir, Value};
use supervisor::xmlrpc;

/// A parsed HTTP response.
struct Resp {
    code: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded `message` of a redirect to the status page.
    fn message(&self) -> String {
        assert_eq!(self.code, 301, "not a redirect: {}", self.body);
        let loc = self.header("location").expect("Location header");
        let q = loc
            .strip_prefix("index.html?message=")
            .unwrap_or_else(|| panic!("unexpected Location {loc}"));
        percent_decode(q.split('&').next().unwrap_or(""))
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn parse(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let code = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Resp {
        code,
        headers,
        body: body.to_string(),
    }
}

/// A raw HTTP/1.0 request (the server closes after answering).
fn raw_request(method: &str, uri: &str, body: &str, extra: &str) -> String {
    format!(
        "{method} {uri} HTTP/1.0\r\nHost: localhost\r\n{extra}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One request on the daemon's UNIX socket.
fn request(sv: &Supervisord, method: &str, uri: &str, body: &str, extra: &str) -> Resp {
    parse(&sv.raw_http(raw_request(method, uri, body, extra).as_bytes(), 30))
}

/// One request on a TCP port of localhost.
fn request_tcp(port: u16, method: &str, uri: &str, body: &str, extra: &str) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    s.write_all(raw_request(method, uri, body, extra).as_bytes())
        .expect("write request");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse(&out)
}

/// The form token in a status page.
fn token_in(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("token in page") + 19;
    page[start..start + 64].to_string()
}

fn get(sv: &Supervisord, uri: &str) -> Resp {
    request(sv, "GET", uri, "", "")
}

/// Form-encodes like a browser does.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() || b"-._*".contains(&b) => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The form token the status page hands out.
fn token(sv: &Supervisord) -> String {
    token_in(&get(sv, "/").body)
}

/// Presses a button of the status page.
fn press(sv: &Supervisord, action: &str, name: Option<&str>) -> Resp {
    let mut body = format!("csrf={}&action={}", token(sv), action);
    if let Some(n) = name {
        body.push_str(&format!("&processname={}", form_encode(n)));
    }
    request(sv, "POST", "/index.html", &body, "")
}

/// The HTML of the table row of `namespec` (found by its hidden input).
fn row<'a>(page: &'a str, namespec_html: &str) -> &'a str {
    let marker = format!("name=\"processname\" value=\"{namespec_html}\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no row {namespec_html}:\n{page}"));
    let start = page[..at].rfind("<tr").expect("row start");
    let end = at + page[at..].find("</tr>").expect("row end");
    &page[start..end]
}

/// `Www Mmm dd hh:mm:ss yyyy`.
fn looks_like_ctime(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24 && b[3] == b' ' && b[7] == b' ' && b[13] == b':' && b[16] == b':' && b[19] == b' '
}

const SLEEPER: &str = "/bin/sh -c \"exec sleep 1000\"";

#[test]
fn status_page_lists_every_process_sorted_with_state_and_actions() {
    let sv = Supervisord::start(
        "web-list",
        &format!(
            "[program:zeta]\ncommand={SLEEPER}\nstartsecs=0\n\n\
             [program:alpha]\ncommand={SLEEPER}\nautostart=false\n\n\
             [program:bad]\ncommand=/bin/false\nstartsecs=1\nstartretries=0\nautorestart=false\n"
        ),
    );
    sv.wait_state("zeta", "RUNNING", 20);
    sv.wait_state("bad", "FATAL", 20);
    for path in ["/", "/index.html", "//index.html"] {
        let r = get(&sv, path);
        assert_eq!(r.code, 200, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html;charset=utf-8"));
        assert_eq!(r.header("pragma"), Some("no-cache"));
        assert_eq!(r.header("cache-control"), Some("no-cache"));
        assert_eq!(r.header("expires"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));
        assert!(r.header("content-security-policy").is_some());
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        let page = &r.body;
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<meta name=\"viewport\""));
        // Sorted by group then name.
        let (a, b, z) = (
            page.find("value=\"alpha\"").unwrap(),
            page.find("value=\"bad\"").unwrap(),
            page.find("value=\"zeta\"").unwrap(),
        );
        assert!(a < b && b < z, "order");
        let alpha = row(page, "alpha");
        assert!(alpha.contains("<span class=\"statusnominal\">stopped</span>"));
        assert!(alpha.contains("Not started"));
        assert!(alpha.contains("value=\"start\">Start</button>"));
        assert!(!alpha.contains("value=\"stop\""));
        assert!(alpha.contains("href=\"tail.html?processname=alpha\""));
        assert!(alpha.contains("href=\"logtail/alpha\""));
        assert!(alpha.contains("href=\"logtail/alpha/stderr\""));
        let bad = row(page, "bad");
        assert!(bad.contains("<span class=\"statuserror\">fatal</span>"));
        assert!(bad.contains("Exited too quickly"));
        assert!(bad.contains("value=\"start\">Start</button>"));
        let zeta = row(page, "zeta");
        assert!(zeta.contains("<span class=\"statusrunning\">running</span>"));
        assert!(zeta.contains(&format!("pid {}, uptime ", sv.pid_of("zeta"))));
        for b in ["restart\">Restart", "stop\">Stop", "clearlog\">Clear Log"] {
            assert!(zeta.contains(b), "{b}");
        }
        assert!(!zeta.contains("value=\"start\""));
        for b in [
            "refresh\">Refresh",
            "restartall\">Restart All",
            "stopall\">Stop All",
        ] {
            assert!(page.contains(b), "{b}");
        }
        assert!(page.contains(">4.2.5</span>"));
        assert!(!page.contains("status_msg"));
    }
    // The message of the last action, escaped.
    let r = get(&sv, "/?message=Process%20%3Cfoo%3E%20started");
    assert!(r
        .body
        .contains("<div class=\"status_msg\" role=\"status\">Process &lt;foo&gt; started</div>"));
}

#[test]
fn empty_config_says_so() {
    let sv = Supervisord::start("web-empty", "");
    let r = get(&sv, "/");
    assert_eq!(r.code, 200);
    assert!(r.body.contains("No programs to manage"));
    assert!(!r.body.contains("<table"));
}

#[test]
fn every_action_acts_and_redirects_with_its_message() {
    let sv = Supervisord::start(
        "web-act",
        &format!(
            "[program:foo]\ncommand={SLEEPER}\nautostart=false\nstartsecs=1\n\n\
             [program:bar]\ncommand=/bin/sh -c \"echo hello-from-bar; exec sleep 1000\"\nstartsecs=0\n\n\
             [program:missing]\ncommand=/nonexistent/prog\nautostart=false\n\n\
             [program:quick]\ncommand=/bin/false\nautostart=false\nstartsecs=1\nstartretries=0\n"
        ),
    );
    sv.wait_state("bar", "RUNNING", 20);

    // Start waits until RUNNING (startsecs=1) before answering.
    let r = press(&sv, "start", Some("foo"));
    assert_eq!(r.message(), "Process foo started");
    assert_eq!(sv.state("foo"), "RUNNING");
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(
        press(&sv, "start", Some("foo")).message(),
        "ERROR: Process foo: already started"
    );

    let r = press(&sv, "stop", Some("foo"));
    assert_eq!(r.message(), "Process foo stopped");
    assert_eq!(sv.state("foo"), "STOPPED");
    assert_eq!(
        press(&sv, "stop", Some("foo")).message(),
        "unexpected rpc fault [70] NOT_RUNNING: foo"
    );

    let before = sv.pid_of("bar");
    assert_eq!(
        press(&sv, "restart", Some("bar")).message(),
        "Process bar restarted"
    );
    assert_eq!(sv.state("bar"), "RUNNING");
    assert_ne!(sv.pid_of("bar"), before);

    // Clear Log empties the process's log.
    let read = |sv: &Supervisord| {
        sv.rpc(
            "supervisor.readProcessStdoutLog",
            vec![Value::String("bar".into()), Value::Int(0), Value::Int(0)],
        )
    };
    wait_until(
        10,
        "bar's output",
        || matches!(read(&sv), Ok(Value::String(s)) if s.contains("hello-from-bar")),
    );
    assert_eq!(
        press(&sv, "clearlog", Some("bar")).message(),
        "Log for bar cleared"
    );
    assert_eq!(read(&sv), Ok(Value::String(String::new())));

    assert_eq!(
        press(&sv, "start", Some("missing")).message(),
        "ERROR: Process missing: no such file"
    );
    assert_eq!(
        press(&sv, "start", Some("quick")).message(),
        "ERROR: Process quick: spawn error"
    );
    for action in ["start", "stop", "restart", "clearlog"] {
        assert_eq!(
            press(&sv, action, Some("nope")).message(),
            "No such process named nope"
        );
    }
    assert_eq!(
        press(&sv, "start", Some("bar:*")).message(),
        "No such process named bar:*"
    );

    let m = press(&sv, "stopall", None).message();
    assert!(
        m.starts_with("All stopped at ") && looks_like_ctime(&m[15..]),
        "{m}"
    );
    for name in ["foo", "bar"] {
        assert_eq!(sv.state(name), "STOPPED");
    }

    let m = press(&sv, "restartall", None).message();
    assert!(
        m.starts_with("All restarted at ") && looks_like_ctime(&m[17..]),
        "{m}"
    );
    for name in ["foo", "bar"] {
        assert_eq!(sv.state(name), "RUNNING");
    }

    let m = press(&sv, "refresh", None).message();
    assert!(
        m.starts_with("Page refreshed at ") && looks_like_ctime(&m[18..]),
        "{m}"
    );
    // Refreshing changes nothing, so a plain link may ask for it.
    let m = get(&sv, "/index.html?action=refresh").message();
    assert!(m.starts_with("Page refreshed at "), "{m}");

    // Following the redirect shows the message.
    let r = press(&sv, "stop", Some("foo"));
    let page = get(&sv, &format!("/{}", r.header("location").unwrap())).body;
    assert!(page.contains("role=\"status\">Process foo stopped</div>"));

    // Auto-refresh is kept across an action.
    let body = format!("csrf={}&action=refresh&refresh=9", token(&sv));
    let r = request(&sv, "POST", "/", &body, "");
    assert!(r.header("location").unwrap().ends_with("&refresh=9"));

    // Requests the page can't act on.
    let body = format!("csrf={}&action=explode&processname=foo", token(&sv));
    assert_eq!(request(&sv, "POST", "/", &body, "").code, 400);
    let body = format!("csrf={}&action=start", token(&sv));
    assert_eq!(request(&sv, "POST", "/", &body, "").code, 400);
}

#[test]
fn actions_need_a_post_with_the_page_token() {
    let sv = Supervisord::start(
        "web-csrf",
        &format!("[program:foo]\ncommand={SLEEPER}\nstartsecs=0\n"),
    );
    sv.wait_state("foo", "RUNNING", 20);
    let tok = token(&sv);
    assert_eq!(tok, token(&sv), "one token per daemon");

    // No token, a wrong one, a truncated one: refused, nothing done.
    let wrong = format!(
        "{}{}",
        &tok[..63],
        if tok.ends_with('0') { '1' } else { '0' }
    );
    for body in [
        "action=stop&processname=foo".to_string(),
        "csrf=&action=stop&processname=foo".to_string(),
        format!("csrf={wrong}&action=stop&processname=foo"),
        format!("csrf={}&action=stop&processname=foo", &tok[..32]),
        format!("csrf={tok}x&action=stop&processname=foo"),
    ] {
        let r = request(&sv, "POST", "/index.html", &body, "");
        assert_eq!(r.code, 403, "{body}");
        assert!(r.body.contains("bad token"), "{}", r.body);
        assert!(r.header("location").is_none());
    }
    // A cross-site GET (a link, an <img>) never acts.
    for uri in [
        "/index.html?processname=foo&action=stop",
        "/?processname=foo&action=stop",
        &format!("/index.html?processname=foo&action=stop&csrf={tok}"),
        "/index.html?action=stopall",
    ] {
        let r = get(&sv, uri);
        assert_eq!(r.code, 200, "{uri}");
        assert!(r.body.contains("ignored"), "{uri}: {}", r.body);
    }
    assert_eq!(sv.state("foo"), "RUNNING");
    // The right token works.
    let body = format!("csrf={tok}&action=stop&processname=foo");
    let r = request(&sv, "POST", "/index.html", &body, "");
    assert_eq!(r.message(), "Process foo stopped");
    assert_eq!(sv.state("foo"), "STOPPED");
}

#[test]
fn names_descriptions_and_messages_are_escaped() {
    let name = "<b>&\"x'";
    let sv = Supervisord::start(
        "web-esc",
        &format!(
            "[program:{name}]\ncommand=/nonexistent/<i>&\nstartretries=0\n\n\
             [program:ok]\ncommand={SLEEPER}\nautostart=false\n"
        ),
    );
    sv.wait_state(name, "FATAL", 20);
    let page = get(&sv, "/").body;
    let escaped = "&lt;b&gt;&amp;&quot;x&#39;";
    let quoted = "%3Cb%3E%26%22x%27";
    assert!(!page.contains(name));
    assert!(!page.contains("<i>"));
    assert!(!page.contains("<b>"));
    let r = row(&page, escaped);
    assert!(r.contains(&format!(">{escaped}</a>")));
    assert!(r.contains(&format!("href=\"tail.html?processname={quoted}\"")));
    assert!(r.contains(&format!("href=\"logtail/{quoted}/stderr\"")));
    assert!(r.contains("/nonexistent/&lt;i&gt;&amp;"), "{r}");
    // The links work.
    let tail = get(&sv, &format!("/tail.html?processname={quoted}"));
    assert_eq!(tail.code, 200);
    assert!(tail.body.contains(&format!(
        "<title>Supervisor tail of process {escaped}</title>"
    )));
    // An action on it: the message comes back quoted in the Location and
    // escaped in the page.
    let m = press(&sv, "clearlog", Some(name)).message();
    assert_eq!(m, format!("Log for {name} cleared"));
    let r = press(&sv, "start", Some("<script>alert(1)</script>"));
    let loc = r.header("location").unwrap().to_string();
    assert!(!loc.contains('<') && !loc.contains(' '), "{loc}");
    let page = get(&sv, &format!("/{loc}")).body;
    assert!(page.contains("No such process named &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>"));
}

#[test]
fn tail_page_shows_the_end_of_stdout_or_stderr() {
    let sv = Supervisord::start(
        "web-tail",
        "[program:talker]\n\
         command=/bin/sh -c \"printf START; head -c 3000 /dev/zero | tr '\\\\000' x; echo END; echo err-line >&2; exec sleep 1000\"\n\
         startsecs=0\n\n\
         [program:quiet]\ncommand=/bin/sh -c \"exec sleep 1000\"\nstdout_logfile=NONE\nstartsecs=0\n",
    );
    sv.wait_state("talker", "RUNNING", 20);
    let pre = |r: &Resp| -> String {
        let start = r.body.find("<pre id=\"tailbody\">").expect("pre") + 19;
        let end = r.body[start..].find("</pre>").expect("/pre") + start;
        r.body[start..end].to_string()
    };
    wait_until(10, "talker's output", || {
        get(&sv, "/tail.html?processname=talker")
            .body
            .contains("END")
    });

    let r = get(&sv, "/tail.html?processname=talker");
    assert_eq!(r.code, 200);
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert!(r
        .body
        .contains("<title>Supervisor tail of process talker</title>"));
    let text = pre(&r);
    // The last 1024 bytes: 1020 x's and "END\n".
    assert_eq!(text.len(), 1024, "{text}");
    assert!(text.ends_with("xEND\n"));
    assert!(!text.contains("err-line"));
    assert!(r
        .body
        .contains("id=\"refresh_anchor\" href=\"tail.html?processname=talker&amp;limit=1024\""));

    let text = pre(&get(&sv, "/tail.html?processname=talker&limit=2000"));
    assert_eq!(text.len(), 2000);
    let text = pre(&get(&sv, "/tail.html?processname=talker&limit=100"));
    assert_eq!(text.len(), 1024, "at least 1024 bytes");
    let text = pre(&get(&sv, "/tail.html?processname=talker&limit=99999"));
    assert!(text.starts_with("STARTxxx") && text.ends_with("END\n"));
    let text = pre(&get(&sv, "/tail.html?processname=talker&limit=junk"));
    assert_eq!(text.len(), 1024);

    let r = get(&sv, "/tail.html?processname=talker&channel=stderr");
    assert_eq!(pre(&r), "err-line\n");
    assert!(r.body.contains("(stderr)</title>"));

    assert_eq!(
        pre(&get(&sv, "/tail.html?processname=quiet")),
        "No file for quiet"
    );
    assert_eq!(pre(&get(&sv, "/tail.html")), "No process name found");
    assert_eq!(
        pre(&get(&sv, "/tail.html?processname=nope")),
        "ERROR: unexpected rpc fault [10] BAD_NAME: nope"
    );
}

#[test]
fn health_check_stylesheet_and_unknown_paths() {
    let sv = Supervisord::start("web-misc", "");
    for method in ["GET", "POST"] {
        let r = request(&sv, method, "/ok.html", "", "");
        assert_eq!((r.code, r.body.as_str()), (200, "OK"), "{method}");
        assert_eq!(r.header("content-type"), Some("text/plain"));
    }
    let css = get(&sv, "/stylesheets/supervisor.css");
    assert_eq!(css.code, 200);
    assert_eq!(css.header("content-type"), Some("text/css"));
    assert!(css.body.contains(".statusrunning"));
    // Everything the page needs comes from us: no other URL in it.
    let page = get(&sv, "/").body;
    assert!(page.contains("href=\"stylesheets/supervisor.css\""));
    assert!(!page.contains("<script"));
    assert!(!page.contains("src="));
    for path in [
        "/nope",
        "/images/state0.gif",
        "/ui/status.html",
        "/index.htm",
        "/tail.html/x",
    ] {
        let r = get(&sv, path);
        assert_eq!(r.code, 404, "{path}");
        assert!(r.body.contains("Error code 404."));
    }
    // A `%` before a multi-byte character once crashed the decoder.
    let r = get(&sv, "/tail.html?processname=%a\u{e9}");
    assert!(r.body.contains("BAD_NAME: %a\u{e9}"), "{}", r.body);
    assert_eq!(get(&sv, "/ok.html").body, "OK");
    assert_eq!(request(&sv, "PUT", "/", "", "").code, 400);
    assert_eq!(request(&sv, "DELETE", "/index.html", "", "").code, 400);
}

#[test]
fn every_page_needs_credentials_when_configured() {
    let dir = TempDir::new("web-auth");
    let d = dir.path.display().to_string();
    let text = format!(
        "[unix_http_server]\nfile={d}/sv.sock\nusername=alice\npassword=s3cret\n\n\
         [supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
         childlogdir={d}\nloglevel=debug\nnodaemon=true\n\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [program:foo]\ncommand={SLEEPER}\nstartsecs=0\n"
    );
    let sv = Supervisord::start_with(dir, &text, &[]);
    let good = format!(
        "Authorization: Basic {}\r\n",
        xmlrpc::base64_encode(b"alice:s3cret")
    );
    let bad = format!(
        "Authorization: Basic {}\r\n",
        xmlrpc::base64_encode(b"alice:wrong")
    );
    for (method, uri) in [
        ("GET", "/"),
        ("GET", "/index.html"),
        ("POST", "/index.html"),
        ("GET", "/tail.html?processname=foo"),
        ("GET", "/ok.html"),
        ("GET", "/stylesheets/supervisor.css"),
        ("GET", "/nope"),
    ] {
        for creds in ["", bad.as_str()] {
            let r = request(&sv, method, uri, "action=stopall", creds);
            assert_eq!(r.code, 401, "{method} {uri} {creds}");
            assert_eq!(
                r.header("www-authenticate"),
                Some("Basic realm=\"default\"")
            );
        }
    }
    let r = request(&sv, "GET", "/", "", &good);
    assert_eq!(r.code, 200);
    let tok = token_in(&r.body);
    wait_until(20, "foo running", || {
        request(&sv, "GET", "/", "", &good)
            .body
            .contains("statusrunning")
    });
    let body = format!("csrf={tok}&action=stop&processname=foo");
    let r = request(&sv, "POST", "/index.html", &body, &good);
    assert_eq!(r.message(), "Process foo stopped");
    assert!(request(&sv, "GET", "/", "", &good)
        .body
        .contains(">stopped</span>"));
}

#[test]
fn tcp_server_serves_the_same_interface_behind_auth() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let sha = "{SHA}9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684"; // sha1("pass")
    let dir = TempDir::new("web-tcp");
    let text = Supervisord::config(
        &dir,
        &format!("[program:cat]\ncommand={SLEEPER}\nstartsecs=0\n"),
    )
    .replace(
        "[unix_http_server]\n",
        &format!("[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword={sha}\n\n[unix_http_server]\n"),
    );
    let sv = Supervisord::start_with(dir, &text, &[]);
    sv.wait_state("cat", "RUNNING", 20);
    let auth = format!(
        "Authorization: Basic {}\r\n",
        xmlrpc::base64_encode(b"user:pass")
    );
    for uri in [
        "/",
        "/tail.html?processname=cat",
        "/ok.html",
        "/stylesheets/supervisor.css",
    ] {
        assert_eq!(request_tcp(port, "GET", uri, "", "").code, 401, "{uri}");
        assert_eq!(request_tcp(port, "GET", uri, "", &auth).code, 200, "{uri}");
    }
    assert_eq!(request_tcp(port, "GET", "/nope", "", &auth).code, 404);
    let page = request_tcp(port, "GET", "/index.html", "", &auth).body;
    assert!(row(&page, "cat").contains(">running</span>"));
    // One token per daemon, whichever server hands it out.
    let tok = token_in(&page);
    assert_eq!(tok, token(&sv));
    let body = format!("csrf={tok}&action=stop&processname=cat");
    assert_eq!(
        request_tcp(port, "POST", "/index.html", &body, "").code,
        401
    );
    let r = request_tcp(port, "POST", "/index.html", &body, &auth);
    assert_eq!(r.message(), "Process cat stopped");
    assert_eq!(sv.state("cat"), "STOPPED");
    // The redirect is relative: it works behind a proxy's path prefix and
    // never trusts the Host header.
    assert_eq!(
        r.header("location"),
        Some("index.html?message=Process%20cat%20stopped")
    );
}
