//! web::html: the text helpers of the web pages — HTML escaping, URL
//! quoting, form decoding, Python's `time.ctime()` — and the pages' common
//! frame (head, header, footer) and stylesheet.

use crate::http::percent_decode;

/// The stylesheet served at `/stylesheets/supervisor.css`.
pub const STYLESHEET: &str = include_str!("supervisor.css");

/// Escapes text for HTML content and (quoted) attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes log output for a `<pre>`: like `escape`, and control characters
/// other than tab and newlines (ANSI colour codes...) become U+FFFD, which
/// HTML allows where raw control characters are parse errors.
pub fn escape_log(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect();
    escape(&cleaned)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a
/// name is safe in a path segment and a query value alike.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{:02X}", b));
        }
    }
    out
}

/// Decoded `application/x-www-form-urlencoded` fields, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses `a=1&b=x+y`; fields without `=` get an empty value.
    pub fn parse(text: &str) -> Form {
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        Form(
            text.split('&')
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let (k, v) = f.split_once('=').unwrap_or((f, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// Fields of `self` first, then those of `other` (so `get` prefers
    /// `self`'s).
    pub fn then(mut self, other: Form) -> Form {
        self.0.extend(other.0);
        self
    }

    /// The first value of `name`; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Python's `time.ctime()` for epoch seconds, in local time:
/// `Sun Nov  2 03:04:05 2026`.
pub fn ctime(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let tm = crate::sys::localtime(secs);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[(tm.weekday % 7) as usize],
        MONTHS[(tm.month.clamp(1, 12) - 1) as usize],
        tm.day,
        tm.hour,
        tm.minute,
        tm.second,
        tm.year
    )
}

/// The seconds since the epoch now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Everything a page has around its content. `title` and `extra_head`
/// are already HTML.
pub fn page(title: &str, extra_head: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         {extra_head}<title>{title}</title>\n\
         <link href=\"stylesheets/supervisor.css\" rel=\"stylesheet\">\n</head>\n<body>\n\
         <div id=\"wrapper\">\n<header id=\"header\"><a href=\"index.html\">Supervisor</a> \
         <span>process status</span></header>\n<main id=\"content\">\n{content}</main>\n</div>\n\
         <footer id=\"footer\"><span><a href=\"http://supervisord.org\">Supervisor</a> \
         <span id=\"supervisor_version\">{version}</span></span> \
         <span>&copy; 2006-<span id=\"copyright_date\">{year}</span></span></footer>\n\
         </body>\n</html>\n",
        version = escape(crate::VERSION),
        year = crate::sys::localtime(now_secs()).year,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            escape(r#"<script>a&b "c" 'd'</script>"#),
            "&lt;script&gt;a&amp;b &quot;c&quot; &#39;d&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("caf\u{e9}"), "caf\u{e9}");
    }

    #[test]
    fn log_escaping_replaces_control_characters() {
        assert_eq!(
            escape_log("\u{1b}[31mred\u{1b}[0m <x>\n\tz\r\n"),
            "\u{fffd}[31mred\u{fffd}[0m &lt;x&gt;\n\tz\r\n"
        );
    }

    #[test]
    fn quoting_leaves_only_unreserved_characters() {
        assert_eq!(quote("grp:a b/c&d?e#f"), "grp%3Aa%20b%2Fc%26d%3Fe%23f");
        assert_eq!(quote("Az09-._~"), "Az09-._~");
        assert_eq!(quote("\u{e9}"), "%C3%A9");
        assert_eq!(quote("Process foo started"), "Process%20foo%20started");
    }

    #[test]
    fn forms_decode_plus_and_percent() {
        let f = Form::parse("action=stop&processname=g%3Ax+y&empty=&flag&&csrf=%zz");
        assert_eq!(f.get("action"), Some("stop"));
        assert_eq!(f.get("processname"), Some("g:x y"));
        assert_eq!(f.get("empty"), None);
        assert_eq!(f.get("flag"), None);
        assert_eq!(f.get("csrf"), Some("%zz"));
        assert_eq!(f.get("missing"), None);
        let merged = Form::parse("action=start").then(Form::parse("action=stop&x=1"));
        assert_eq!(merged.get("action"), Some("start"));
        assert_eq!(merged.get("x"), Some("1"));
    }

    #[test]
    fn ctime_layout() {
        let c = ctime(1_795_319_277);
        // `Www Mmm dd hh:mm:ss yyyy`, the day padded with a space.
        assert_eq!(c.len(), 24, "{c}");
        assert_eq!(&c[19..], " 2026");
        assert_eq!(c.as_bytes()[13], b':');
        let tm = crate::sys::localtime(1_795_319_277);
        assert_eq!(&c[8..10], format!("{:2}", tm.day));
    }

    #[test]
    fn page_frame() {
        let p = page("T &amp; x", "<meta name=\"x\">\n", "<p>body</p>\n");
        assert!(p.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(p.contains("<title>T &amp; x</title>"));
        assert!(p.contains("name=\"viewport\""));
        assert!(p.contains("<meta name=\"x\">\n<title>"));
        assert!(p.contains("<p>body</p>"));
        assert!(p.contains(&format!(
            "<span id=\"supervisor_version\">{}",
            crate::VERSION
        )));
        assert!(p.contains("&copy; 2006-<span id=\"copyright_date\">20"));
    }
}
