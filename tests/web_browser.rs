//! End to end in a real browser: headless Chromium, driven through
//! chromedriver's W3C WebDriver HTTP API, loads the status page, clicks
//! Stop and then Start on a process, sees its state change, opens a log
//! page, and saves screenshots (desktop, phone, log page) under `target/`.
//!
//! `make test` installs Debian's `chromium` and `chromium-driver` when they
//! are missing; without them this test fails, it never skips.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{wait_for, Supervisord, TempDir};

fn tool(var: &str, default: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        p.exists(),
        "{} is missing: run `make test` (or `make browser-deps`) to install it",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The string value of the first `"key": "..."` in a JSON text.
fn json_str(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' | 'f' => {}
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

/// The full length of a response once `buf` holds all of it.
fn complete_length(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))?
        .trim()
        .parse()
        .ok()?;
    (buf.len() >= head_end + len).then_some(head_end + len)
}

/// A chromedriver with one browser session; both end on drop.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: TempDir,
}

impl Browser {
    fn start() -> Browser {
        let chromium = tool("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run chromedriver");
        let profile = TempDir::new("chromium");
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        wait_for(30, "chromedriver ready", || {
            b.call_raw("GET", "/status", "")
                .ok()
                .filter(|r| r.contains("\"ready\":true") || r.contains("\"ready\": true"))
        });
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1024,720",
        ]
        .iter()
        .map(|a| common::json_literal(a))
        .chain([common::json_literal(&format!(
            "--user-data-dir={}",
            b._profile.path.display()
        ))])
        .collect::<Vec<_>>()
        .join(",");
        let caps = format!(
            "{{\"capabilities\":{{\"alwaysMatch\":{{\"browserName\":\"chrome\",\
             \"goog:chromeOptions\":{{\"binary\":{},\"args\":[{args}]}}}}}}}}",
            common::json_literal(&chromium.display().to_string())
        );
        let resp = b.call("POST", "/session", &caps);
        b.session = json_str(&resp, "sessionId")
            .unwrap_or_else(|| panic!("Chromium did not start a session: {resp}"));
        b
    }

    fn call_raw(&self, method: &str, path: &str, body: &str) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes())?;
        // chromedriver keeps the connection open: read by Content-Length.
        let mut out = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if let Some(len) = complete_length(&out) {
                out.truncate(len);
                break;
            }
        }
        let text = String::from_utf8_lossy(&out).into_owned();
        Ok(text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or(text))
    }

    fn call(&self, method: &str, path: &str, body: &str) -> String {
        self.call_raw(method, path, body)
            .unwrap_or_else(|e| panic!("chromedriver {method} {path}: {e}"))
    }

    /// A WebDriver command on this session.
    fn cmd(&self, method: &str, path: &str, body: &str) -> String {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn goto(&self, url: &str) {
        let r = self.cmd(
            "POST",
            "/url",
            &format!("{{\"url\":{}}}", common::json_literal(url)),
        );
        assert!(!r.contains("\"error\""), "navigate to {url}: {r}");
    }

    /// The element an XPath finds, if any.
    fn find(&self, xpath: &str) -> Option<String> {
        let body = format!(
            "{{\"using\":\"xpath\",\"value\":{}}}",
            common::json_literal(xpath)
        );
        let r = self.cmd("POST", "/element", &body);
        json_str(&r, "element-6066-11e4-a52e-4f735466cecf")
    }

    fn text(&self, xpath: &str) -> Option<String> {
        let el = self.find(xpath)?;
        json_str(
            &self.cmd("GET", &format!("/element/{el}/text"), ""),
            "value",
        )
    }

    fn click(&self, xpath: &str) {
        let el = self
            .find(xpath)
            .unwrap_or_else(|| panic!("no element {xpath} in:\n{}", self.source()));
        let r = self.cmd("POST", &format!("/element/{el}/click"), "{}");
        assert!(!r.contains("\"error\""), "click {xpath}: {r}");
    }

    fn source(&self) -> String {
        json_str(&self.cmd("GET", "/source", ""), "value").unwrap_or_default()
    }

    fn resize(&self, width: u32, height: u32) {
        let body = format!("{{\"width\":{width},\"height\":{height}}}");
        let r = self.cmd("POST", "/window/rect", &body);
        assert!(!r.contains("\"error\""), "resize: {r}");
    }

    fn screenshot(&self, path: &Path) {
        let r = self.cmd("GET", "/screenshot", "");
        let b64 = json_str(&r, "value").expect("screenshot data");
        let png = supervisor::xmlrpc::base64_decode(&b64).expect("screenshot base64");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call_raw("DELETE", &format!("/session/{}", self.session), "");
        }
        let kids = common::descendants(self.driver.id());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        for k in kids {
            common::kill(k, "KILL");
        }
    }
}

/// The state shown in the row of process `name`.
fn shown_state(b: &Browser, name: &str) -> Option<String> {
    b.text(&format!(
        "//tr[.//input[@name='processname' and @value='{name}']]/td[@class='status']/span"
    ))
}

fn button(name: &str, action: &str) -> String {
    format!(
        "//input[@name='processname' and @value='{name}']/following-sibling::button[@value='{action}']"
    )
}

#[test]
fn stop_and_start_a_process_in_chromium() {
    let port = free_port();
    let dir = TempDir::new("web-browser");
    let programs = "[program:webapp]\ncommand=/bin/sh -c \"exec sleep 1000\"\nstartsecs=0\n\n\
         [program:worker]\ncommand=/bin/sh -c \"exec sleep 1000\"\nstartsecs=0\n\n\
         [program:batch]\ncommand=/bin/sh -c \"exec sleep 1000\"\nautostart=false\n";
    let text = Supervisord::config(&dir, programs).replace(
        "[unix_http_server]\n",
        &format!("[inet_http_server]\nport=127.0.0.1:{port}\n\n[unix_http_server]\n"),
    );
    let sv = Supervisord::start_with(dir, &text, &[]);
    let url = format!("http://127.0.0.1:{port}/");
    let browser = Browser::start();

    browser.goto(&url);
    wait_for(20, "webapp running on the page", || {
        browser.goto(&url);
        shown_state(&browser, "webapp").filter(|s| s == "running")
    });
    assert_eq!(shown_state(&browser, "batch").as_deref(), Some("stopped"));

    browser.click(&button("webapp", "stop"));
    wait_for(20, "webapp stopped on the page", || {
        shown_state(&browser, "webapp").filter(|s| s == "stopped")
    });
    let msg = browser.text("//div[@class='status_msg']");
    assert_eq!(msg.as_deref(), Some("Process webapp stopped"));
    assert!(
        sv.log_text().contains("stopped: webapp"),
        "{}",
        sv.log_text()
    );
    // A stopped process offers Start, not Stop.
    assert!(browser.find(&button("webapp", "stop")).is_none());

    browser.click(&button("webapp", "start"));
    wait_for(20, "webapp running again on the page", || {
        shown_state(&browser, "webapp").filter(|s| s == "running")
    });
    let msg = browser.text("//div[@class='status_msg']");
    assert_eq!(msg.as_deref(), Some("Process webapp started"));

    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).expect("target dir");
    browser.screenshot(&target.join("web-screenshot.png"));
    browser.resize(390, 844);
    browser.screenshot(&target.join("web-screenshot-phone.png"));

    browser.resize(1024, 720);
    browser.goto(&format!("{url}tail.html?processname=webapp&channel=stderr"));
    let title = json_str(&browser.cmd("GET", "/title", ""), "value");
    assert_eq!(
        title.as_deref(),
        Some("Supervisor tail of process webapp (stderr)")
    );
    assert_eq!(browser.text("//pre[@id='tailbody']").as_deref(), Some(""));
    browser.screenshot(&target.join("web-screenshot-tail.png"));
}
