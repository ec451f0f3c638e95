//! web: the web interface every HTTP server carries — the status page with
//! its actions (`/`, `/index.html`), the log page (`/tail.html`), the
//! health check (`/ok.html`) and the stylesheet, all built into the binary.
//!
//! Deliberate differences from the reference (supervisor/web.py):
//! - actions are POST forms carrying a per-daemon token (CSRF protection);
//!   a GET with `action=` only shows the page with a notice (`refresh`
//!   excepted: it changes nothing), a POST with a missing or wrong token
//!   is refused with 403;
//! - every name, description and message is HTML-escaped and every name in
//!   a URL percent-encoded;
//! - the redirect after an action is relative (`index.html?message=...`),
//!   so the page works behind a reverse proxy under a path prefix;
//! - a failed start during Restart is reported (the reference says
//!   "restarted" whatever happened);
//! - `tail.html` also shows stderr (`&channel=stderr`, reference issue
//!   #1442) and reads at most 4 MiB;
//! - state colours and the logo are CSS, not images; pages forbid framing
//!   and load nothing but their own stylesheet (Content-Security-Policy).

mod actions;
mod html;
mod status;
mod tail;

use std::sync::OnceLock;

use crate::http::{Request, Response, WebOutcome};
use crate::supervisord::Supervisor;
use html::Form;

/// Answers a non-RPC, non-logtail request, or None for 404.
pub fn handle(sup: &mut Supervisor, req: &Request) -> Option<WebOutcome> {
    // The reference ignores any number of leading slashes.
    let page = match req.path().trim_start_matches('/') {
        "" => "index.html",
        p => p,
    };
    if !matches!(
        page,
        "index.html" | "tail.html" | "ok.html" | "stylesheets/supervisor.css"
    ) {
        return None;
    }
    if req.method != "GET" && req.method != "POST" {
        // What medusa answers to a method no handler takes.
        return Some(WebOutcome::Done(Response::error(400)));
    }
    let form = request_form(req);
    Some(match page {
        "index.html" => status::handle(sup, req.method == "POST", &form),
        "tail.html" => WebOutcome::Done(tail::handle(sup, &form)),
        "ok.html" => WebOutcome::Done(Response::new(200, "text/plain", b"OK".to_vec())),
        _ => WebOutcome::Done(
            Response::new(200, "text/css", html::STYLESHEET.as_bytes().to_vec())
                .header("Cache-Control", "max-age=3600")
                .header("X-Content-Type-Options", "nosniff"),
        ),
    })
}

/// The query fields, with those of a POST body taking precedence.
fn request_form(req: &Request) -> Form {
    let query = Form::parse(req.query());
    if req.method == "POST" {
        Form::parse(&String::from_utf8_lossy(&req.body)).then(query)
    } else {
        query
    }
}

/// An HTML page with the reference's no-cache headers and ours against
/// framing, sniffing and loading anything from elsewhere.
fn html_response(code: u16, body: String) -> Response {
    let mut resp = Response::new(code, "text/html;charset=utf-8", body.into_bytes());
    for (k, v) in no_cache_headers() {
        resp = resp.header(k, v);
    }
    resp.header(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    )
    .header("X-Frame-Options", "DENY")
    .header("X-Content-Type-Options", "nosniff")
    .header("Referrer-Policy", "same-origin")
}

fn no_cache_headers() -> [(&'static str, &'static str); 3] {
    [
        ("Pragma", "no-cache"),
        ("Cache-Control", "no-cache"),
        ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ]
}

/// The form token of this daemon: 32 random bytes in hex, made once.
/// Another site can't read our pages, so it can't know it.
fn csrf_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        random_bytes()
            .iter()
            .map(|b| format!("{:02x}", b))
            .collect()
    })
}

fn random_bytes() -> [u8; 32] {
    use std::io::Read;
    let mut buf = [0u8; 32];
    let from_kernel = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if from_kernel.is_err() {
        // No /dev/urandom (odd chroots): std's hasher keys are seeded
        // from the OS's random source too.
        use std::hash::{BuildHasher, Hasher};
        for chunk in buf.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(html::now_secs() as u64);
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    buf
}

/// Whether a submitted token is ours (compared in constant time).
fn token_ok(given: Option<&str>) -> bool {
    given.is_some_and(|t| crate::http::constant_time_eq(t.as_bytes(), csrf_token().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_stable_random_hex() {
        let t = csrf_token();
        assert_eq!(t.len(), 64);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(t, csrf_token());
        assert_ne!(t, "0".repeat(64));
        assert!(token_ok(Some(t)));
        assert!(!token_ok(None));
        assert!(!token_ok(Some("")));
        assert!(!token_ok(Some(&t[..63])));
        assert!(!token_ok(Some(&format!("{t}0"))));
    }

    #[test]
    fn html_responses_carry_cache_and_security_headers() {
        let r = html_response(200, "<p>x</p>".into());
        let names: Vec<&str> = r.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "Pragma",
                "Cache-Control",
                "Expires",
                "Content-Security-Policy",
                "X-Frame-Options",
                "X-Content-Type-Options",
                "Referrer-Policy"
            ]
        );
        assert_eq!(r.headers[0].1, "text/html;charset=utf-8");
    }
}
