//! datatypes: the value types of Supervisor's config file and command
//! lines, with the reference's (Supervisor 4.2.5 `datatypes.py`) accepted
//! forms and error texts, plus the few Python primitives they rest on
//! (`int()`, `repr()`, `shlex`, `os.path` helpers).
//!
//! Every converter returns `Err(message)` with the reference's wording and
//! no context; the config reader (`crate::options`) adds the file, section
//! and key.

use std::path::{Path, PathBuf};

use crate::loggers::LogLevel;
use crate::options::AutoRestart;

// ------------------------------------------------------------ Python bits

/// Python's `str.isspace()` for one character.
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` (no argument).
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

fn py_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Format characters (Cf) and private use, which Python escapes too.
    !matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF)
}

/// Python's `repr()` of a str: the quoting used in the reference's error
/// messages (`'x'`, or `"it's"` when the text holds a single quote only).
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if py_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Python's `int(s, base)` for base 8 or 10: surrounding whitespace, a
/// sign, `_` between digits, and (base 8) an `0o` prefix. None when Python
/// would raise or the value does not fit an i64.
pub fn py_int(s: &str, base: u32) -> Option<i64> {
    let t = py_strip(s);
    let (neg, mut rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut underscore_ok = false;
    if base == 8 {
        if let Some(r) = rest.strip_prefix("0o").or_else(|| rest.strip_prefix("0O")) {
            rest = r;
            underscore_ok = true;
        }
    }
    if rest.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    let mut prev_underscore = false;
    for c in rest.chars() {
        if c == '_' {
            if prev_underscore || !underscore_ok {
                return None;
            }
            prev_underscore = true;
            continue;
        }
        let d = c.to_digit(base)? as i64;
        value = value.checked_mul(base as i64)?.checked_add(d)?;
        prev_underscore = false;
        underscore_ok = true;
    }
    if prev_underscore {
        return None;
    }
    Some(if neg { -value } else { value })
}

fn int_error(s: &str) -> String {
    format!("invalid literal for int() with base 10: {}", py_repr(s))
}

// ------------------------------------------------------------------ paths

/// Python's `os.path.dirname`.
pub fn py_dirname(p: &str) -> &str {
    let head = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    if !head.is_empty() && head.bytes().any(|b| b != b'/') {
        head.trim_end_matches('/')
    } else {
        head
    }
}

/// Python's `os.path.join` for two parts.
pub fn py_join(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        b.to_string()
    } else if a.ends_with('/') {
        format!("{}{}", a, b)
    } else {
        format!("{}/{}", a, b)
    }
}

/// Python's `os.path.expanduser`: `~` and `~user` prefixes.
pub fn expanduser(p: &str) -> String {
    if !p.starts_with('~') {
        return p.to_string();
    }
    let end = p.find('/').unwrap_or(p.len());
    let user = &p[1..end];
    let home = if user.is_empty() {
        match std::env::var("HOME") {
            Ok(h) => Some(h),
            Err(_) => crate::sys::getpwuid(crate::sys::getuid()).map(|pw| pw.dir),
        }
    } else {
        crate::sys::getpwnam(user).map(|pw| pw.dir)
    };
    match home {
        Some(h) => {
            let h = h.trim_end_matches('/');
            let joined = format!("{}{}", h, &p[end..]);
            if joined.is_empty() {
                "/".to_string()
            } else {
                joined
            }
        }
        None => p.to_string(),
    }
}

/// Python's `os.path.normpath` (POSIX, lexical).
pub fn py_normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let body = parts.join("/");
    match (absolute, body.is_empty()) {
        (true, _) => format!("/{}", body),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Python's `os.path.abspath`.
pub fn py_abspath(p: &str) -> String {
    if p.starts_with('/') {
        return py_normpath(p);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".to_string());
    py_normpath(&py_join(&cwd, p))
}

/// The reference's `normalize_path`: `~` expanded, made absolute, normalized.
pub fn normalize_path(p: &str) -> PathBuf {
    PathBuf::from(py_abspath(&expanduser(p)))
}

// ------------------------------------------------------------- converters

/// `process_or_group_name`: stripped; no space, `:` or `/`.
pub fn process_or_group_name(name: &str) -> Result<String, String> {
    let s = py_strip(name);
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                py_repr(name),
                py_repr(&c.to_string())
            ));
        }
    }
    Ok(s.to_string())
}

/// `integer`: Python `int()`.
pub fn integer(s: &str) -> Result<i64, String> {
    py_int(s, 10).ok_or_else(|| int_error(s))
}

/// `boolean`: `yes true on 1` / `no false off 0`, any case.
pub fn boolean(s: &str) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: {}", py_repr(s))),
    }
}

/// `list_of_strings`: comma-separated, each item stripped; empty → none.
pub fn list_of_strings(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(|x| py_strip(x).to_string()).collect()
}

/// `list_of_exitcodes`: comma-separated integers in 0..=255.
pub fn list_of_exitcodes(s: &str) -> Result<Vec<i32>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|x| match py_int(x, 10) {
            Some(v) if (0..=255).contains(&v) => Ok(v as i32),
            _ => Err(format!("not a valid list of exit codes: {}", py_repr(s))),
        })
        .collect()
}

/// `byte_size`: an integer with an optional `KB`/`MB`/`GB` suffix (any
/// case, 1024-based). Negative values are accepted, as by the reference.
pub fn byte_size(s: &str) -> Result<i64, String> {
    let v = s.to_lowercase();
    for (suffix, mult) in [("kb", 1i64 << 10), ("mb", 1 << 20), ("gb", 1 << 30)] {
        if let Some(num) = v.strip_suffix(suffix) {
            let n = py_int(num, 10).ok_or_else(|| int_error(num))?;
            return n
                .checked_mul(mult)
                .ok_or_else(|| format!("value {} is too large", py_repr(s)));
        }
    }
    py_int(&v, 10).ok_or_else(|| int_error(&v))
}

/// `octal_type`: Python `int(s, 8)`.
pub fn octal(s: &str) -> Result<u32, String> {
    py_int(s, 8)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("{} can not be converted to an octal type", s))
}

/// Every name of Python's `signal` module that starts with `SIG`, with its
/// value. For numbers with several names the first listed is the one
/// `signame` reports (as Python's module dict order makes it).
const SIGNALS: &[(&str, i32)] = &[
    ("SIGHUP", libc::SIGHUP),
    ("SIGINT", libc::SIGINT),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGILL", libc::SIGILL),
    ("SIGTRAP", libc::SIGTRAP),
    ("SIGABRT", libc::SIGABRT),
    ("SIGBUS", libc::SIGBUS),
    ("SIGFPE", libc::SIGFPE),
    ("SIGKILL", libc::SIGKILL),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGSEGV", libc::SIGSEGV),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGPIPE", libc::SIGPIPE),
    ("SIGALRM", libc::SIGALRM),
    ("SIGTERM", libc::SIGTERM),
    #[cfg(target_os = "linux")]
    ("SIGSTKFLT", libc::SIGSTKFLT),
    ("SIGCHLD", libc::SIGCHLD),
    ("SIGCONT", libc::SIGCONT),
    ("SIGSTOP", libc::SIGSTOP),
    ("SIGTSTP", libc::SIGTSTP),
    ("SIGTTIN", libc::SIGTTIN),
    ("SIGTTOU", libc::SIGTTOU),
    ("SIGURG", libc::SIGURG),
    ("SIGXCPU", libc::SIGXCPU),
    ("SIGXFSZ", libc::SIGXFSZ),
    ("SIGVTALRM", libc::SIGVTALRM),
    ("SIGPROF", libc::SIGPROF),
    ("SIGWINCH", libc::SIGWINCH),
    #[cfg(target_os = "linux")]
    ("SIGPOLL", libc::SIGPOLL),
    #[cfg(target_os = "linux")]
    ("SIGPWR", libc::SIGPWR),
    ("SIGSYS", libc::SIGSYS),
    // glibc's values, as Python reports them.
    #[cfg(target_os = "linux")]
    ("SIGRTMIN", 34),
    #[cfg(target_os = "linux")]
    ("SIGRTMAX", 64),
    ("SIGIO", libc::SIGIO),
    ("SIGIOT", libc::SIGIOT),
    #[cfg(target_os = "linux")]
    ("SIGCLD", libc::SIGCHLD),
    // Not signals, but `signal.SIG*` attributes the reference accepts.
    ("SIG_DFL", 0),
    ("SIG_IGN", 1),
    ("SIG_BLOCK", libc::SIG_BLOCK),
    ("SIG_UNBLOCK", libc::SIG_UNBLOCK),
    ("SIG_SETMASK", libc::SIG_SETMASK),
];

/// `signal_number`: a number, or a name with or without `SIG` (any case).
pub fn signal_number(s: &str) -> Result<i32, String> {
    let num = match py_int(s, 10) {
        Some(n) => n,
        None => {
            let upper = py_strip(s).to_uppercase();
            let name = if upper.starts_with("SIG") {
                upper
            } else {
                format!("SIG{}", upper)
            };
            match SIGNALS.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => *v as i64,
                None => return Err(format!("value {} is not a valid signal name", py_repr(s))),
            }
        }
    };
    match SIGNALS.iter().find(|(_, v)| *v as i64 == num) {
        Some((_, v)) => Ok(*v),
        None => Err(format!("value {} is not a valid signal number", py_repr(s))),
    }
}

/// The reference's `signame`: `SIGTERM`, or `signal N` for numbers
/// without a name.
pub fn signame(sig: i32) -> String {
    SIGNALS
        .iter()
        .find(|(n, v)| *v == sig && !n.starts_with("SIG_"))
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| format!("signal {}", sig))
}

/// `auto_restart`: boolean words or `unexpected`.
pub fn auto_restart(s: &str) -> Result<AutoRestart, String> {
    let v = s.to_lowercase();
    match v.as_str() {
        "yes" | "true" | "on" | "1" => Ok(AutoRestart::True),
        "no" | "false" | "off" | "0" => Ok(AutoRestart::False),
        "unexpected" => Ok(AutoRestart::Unexpected),
        _ => Err(format!("invalid 'autorestart' value {}", py_repr(&v))),
    }
}

/// What `logfile_name` makes of a `*_logfile` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFileName {
    /// `NONE` / `OFF`.
    None,
    /// `AUTO`.
    Auto,
    /// `syslog` (deprecated spelling of `*_syslog=true`).
    Syslog,
    Path(PathBuf),
}

/// `logfile_name`: `NONE`, `OFF`, `AUTO`, `syslog` (any case) or a path
/// whose directory exists.
pub fn logfile_name(s: &str) -> Result<LogFileName, String> {
    match s.to_lowercase().as_str() {
        "none" | "off" => Ok(LogFileName::None),
        "auto" => Ok(LogFileName::Auto),
        "syslog" => Ok(LogFileName::Syslog),
        _ => existing_dirpath(s).map(LogFileName::Path),
    }
}

/// `existing_directory`: `~` expanded; must be a directory.
pub fn existing_directory(s: &str) -> Result<PathBuf, String> {
    let nv = expanduser(s);
    if Path::new(&nv).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!("{} is not an existing directory", s))
    }
}

/// `existing_dirpath`: `~` expanded; its directory part (if any) must exist.
pub fn existing_dirpath(s: &str) -> Result<PathBuf, String> {
    let nv = expanduser(s);
    let dir = py_dirname(&nv);
    if dir.is_empty() || Path::new(dir).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!(
            "The directory named as part of the path {} does not exist",
            s
        ))
    }
}

/// `logging_level`: `critical error warn info debug trace blather`.
pub fn logging_level(s: &str) -> Result<LogLevel, String> {
    LogLevel::from_name(s).ok_or_else(|| format!("bad logging level name {}", py_repr(s)))
}

/// `name_to_uid`: a user name or a numeric uid that exists.
pub fn name_to_uid(s: &str) -> Result<u32, String> {
    match py_int(s, 10) {
        None => crate::sys::getpwnam(s)
            .map(|pw| pw.uid)
            .ok_or_else(|| format!("Invalid user name {}", s)),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|uid| crate::sys::getpwuid(*uid).is_some())
            .ok_or_else(|| format!("Invalid user id {}", s)),
    }
}

/// `name_to_gid`: a group name or a numeric gid that exists.
pub fn name_to_gid(s: &str) -> Result<u32, String> {
    match py_int(s, 10) {
        None => crate::sys::getgrnam(s).ok_or_else(|| format!("Invalid group name {}", s)),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|gid| crate::sys::getgrgid(*gid).is_some())
            .ok_or_else(|| format!("Invalid group id {}", s)),
    }
}

/// `gid_for_uid`: the primary group of a user id.
pub fn gid_for_uid(uid: u32) -> Result<u32, String> {
    crate::sys::getpwuid(uid)
        .map(|pw| pw.gid)
        .ok_or_else(|| format!("Invalid user id {}", uid))
}

/// "Leave unchanged" in a (uid, gid) pair, the reference's -1.
pub const UNCHANGED_ID: u32 = u32::MAX;

/// `colon_separated_user_group`: `user` or `user:group`; a missing group
/// is `UNCHANGED_ID`.
pub fn colon_separated_user_group(s: &str) -> Result<(u32, u32), String> {
    let parsed = match s.split_once(':') {
        None => name_to_uid(s).map(|uid| (uid, UNCHANGED_ID)),
        Some((u, g)) => name_to_uid(u).and_then(|uid| name_to_gid(g).map(|gid| (uid, gid))),
    };
    parsed.map_err(|_| format!("Invalid user:group definition {}", s))
}

fn port_number(s: &str) -> Result<u16, String> {
    let v = integer(s)?;
    if v < 1 {
        Err(format!("{} is below lower bound (1)", v))
    } else if v > 0xffff {
        Err(format!("{} is above upper bound (65535)", v))
    } else {
        Ok(v as u16)
    }
}

/// `inet_address`: `port`, `host:port`, `:port` or `*:port` (empty host =
/// all interfaces; host lower-cased). A bracketed IPv6 literal
/// (`[::1]:9001`) loses its brackets.
pub fn inet_address(s: &str) -> Result<(String, u16), String> {
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() {
                return Err("no port number specified in ''".to_string());
            }
            let host = host.to_lowercase();
            let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                Some(inner) => inner.to_string(),
                None => host,
            };
            (host, port_number(port)?)
        }
        None => {
            let port =
                port_number(s).map_err(|_| format!("not a valid port number: {} ", py_repr(s)))?;
            (String::new(), port)
        }
    };
    Ok((if host == "*" { String::new() } else { host }, port))
}

/// `url`: needs a scheme and a network location or a path, as Python's
/// `urlparse` sees them.
pub fn url(s: &str) -> Result<String, String> {
    let bad = || format!("value {} is not a URL", py_repr(s));
    let cleaned: String = s
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let colon = cleaned.find(':').ok_or_else(bad)?;
    let scheme = &cleaned[..colon];
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(bad());
    }
    let rest = &cleaned[colon + 1..];
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let (netloc, path) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find('/').unwrap_or(r.len());
            (&r[..end], &r[end..])
        }
        None => ("", rest),
    };
    // urlsplit's check on IPv6 brackets.
    if netloc.contains('[') != netloc.contains(']') {
        return Err("Invalid IPv6 URL".to_string());
    }
    if netloc.is_empty() && path.is_empty() {
        return Err(bad());
    }
    Ok(s.to_string())
}

// ------------------------------------------------------------------ shlex

/// `dict_of_key_value_pairs` (4.2.5: Python's legacy, non-POSIX `shlex`
/// with `/.+-():` added to the word characters): `KEY=value` pairs
/// separated by one token (normally `,`); quotes are kept by the lexer and
/// then stripped from both ends of the value. The result keeps first-seen
/// order; a repeated key keeps its place and takes the last value.
pub fn dict_of_key_value_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = legacy_shlex(s)?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if i + 3 > tokens.len() || tokens[i + 1] != "=" {
            return Err(format!(
                "Unexpected end of key/value pairs in value '{}'",
                s
            ));
        }
        let value = tokens[i + 2].trim_matches(['\'', '"']).to_string();
        set_ordered(&mut out, &tokens[i], value);
        i += 4;
    }
    Ok(out)
}

/// Dict-style insert into an ordered list of pairs.
pub fn set_ordered(pairs: &mut Vec<(String, String)>, key: &str, value: String) {
    match pairs.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => pairs.push((key.to_string(), value)),
    }
}

fn legacy_shlex(s: &str) -> Result<Vec<String>, String> {
    #[derive(PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || "/.+-():".contains(c);
    let is_space = |c: char| " \t\r\n".contains(c);
    let mut chars = s.chars().peekable();
    let mut tokens = Vec::new();
    let mut pushback: Option<char> = None;
    loop {
        if let Some(c) = pushback.take() {
            tokens.push(c.to_string());
            continue;
        }
        let mut state = State::Space;
        let mut token = String::new();
        loop {
            let next = chars.next();
            match (&state, next) {
                (State::Space, None) => return Ok(tokens),
                (State::Space, Some(c)) if is_space(c) => {}
                (State::Space | State::Word, Some('#')) => {
                    // The rest of the line is a comment; in a word the
                    // word then goes on on the next line (as Python does).
                    for c in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                (State::Space, Some(c)) if is_word(c) => {
                    token.push(c);
                    state = State::Word;
                }
                (State::Space, Some(c)) if c == '\'' || c == '"' => {
                    token.push(c);
                    state = State::Quote(c);
                }
                (State::Space, Some(c)) => {
                    token.push(c);
                    break;
                }
                (State::Quote(_), None) => return Err("No closing quotation".to_string()),
                (State::Quote(q), Some(c)) => {
                    token.push(c);
                    if c == *q {
                        break;
                    }
                }
                (State::Word, None) => break,
                (State::Word, Some(c)) if is_space(c) => break,
                (State::Word, Some(c)) if is_word(c) || c == '\'' || c == '"' => token.push(c),
                (State::Word, Some(c)) => {
                    pushback = Some(c);
                    break;
                }
            }
        }
        tokens.push(token);
    }
}

/// Python's `shlex.split(s)` (POSIX mode, no comments): how `command` is
/// split into argv at spawn time.
pub fn shlex_split(s: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        Escape(Option<char>),
    }
    let is_space = |c: char| " \t\r\n".contains(c);
    let mut out = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Space;
    for c in s.chars() {
        state = match state {
            State::Space | State::Word if is_space(c) => {
                if state == State::Word || quoted {
                    out.push(std::mem::take(&mut token));
                    quoted = false;
                }
                State::Space
            }
            State::Space | State::Word => match c {
                '\\' => State::Escape(None),
                '\'' | '"' => State::Quote(c),
                c => {
                    token.push(c);
                    State::Word
                }
            },
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    State::Word
                } else if c == '\\' && q == '"' {
                    State::Escape(Some(q))
                } else {
                    token.push(c);
                    state
                }
            }
            State::Escape(inside) => {
                // Within double quotes only `"` and `\` can be escaped.
                if let Some(q) = inside {
                    if c != '\\' && c != q {
                        token.push('\\');
                    }
                }
                token.push(c);
                match inside {
                    Some(q) => State::Quote(q),
                    None => State::Word,
                }
            }
        };
    }
    match state {
        State::Quote(_) => Err("No closing quotation".to_string()),
        State::Escape(_) => Err("No escaped character".to_string()),
        State::Word => {
            out.push(token);
            Ok(out)
        }
        State::Space => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(py_repr("abc"), "'abc'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr("x\n\t\\"), "'x\\n\\t\\\\'");
        assert_eq!(py_repr("\u{1}\u{7f}\u{a0}é"), "'\\x01\\x7f\\xa0é'");
        assert_eq!(py_repr("\u{2028}"), "'\\u2028'");
    }

    #[test]
    fn python_int() {
        assert_eq!(py_int(" 12 ", 10), Some(12));
        assert_eq!(py_int("+5", 10), Some(5));
        assert_eq!(py_int("-5", 10), Some(-5));
        assert_eq!(py_int("1_000", 10), Some(1000));
        assert_eq!(py_int("007", 10), Some(7));
        for bad in ["", "1__0", "_1", "1_", "1.5", "0x1", "- 1", "abc"] {
            assert_eq!(py_int(bad, 10), None, "{bad}");
        }
        assert_eq!(py_int("99999999999999999999", 10), None);
        assert_eq!(py_int("022", 8), Some(0o22));
        assert_eq!(py_int("0o22", 8), Some(0o22));
        assert_eq!(py_int("0O_7", 8), Some(7));
        assert_eq!(py_int("8", 8), None);
        assert_eq!(py_int("0o", 8), None);
    }

    #[test]
    fn paths() {
        assert_eq!(py_dirname("/a/b"), "/a");
        assert_eq!(py_dirname("/a"), "/");
        assert_eq!(py_dirname("a"), "");
        assert_eq!(py_dirname("a//b"), "a");
        assert_eq!(py_dirname("//a"), "//");
        assert_eq!(py_join("", "x"), "x");
        assert_eq!(py_join("/a/", "x"), "/a/x");
        assert_eq!(py_join("/a", "/x"), "/x");
        assert_eq!(py_normpath("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(py_normpath("/.."), "/");
        assert_eq!(py_normpath("../a/.."), "..");
        assert_eq!(py_normpath("a/.."), ".");
        assert!(py_abspath("x").ends_with("/x"));
        assert!(py_abspath("x").starts_with('/'));
        let home = std::env::var("HOME").unwrap_or_default();
        if !home.is_empty() {
            assert_eq!(
                expanduser("~/x"),
                format!("{}/x", home.trim_end_matches('/'))
            );
        }
        if let Some(pw) = crate::sys::getpwnam("root") {
            assert_eq!(
                expanduser("~root/x"),
                format!("{}/x", pw.dir.trim_end_matches('/'))
            );
        }
        assert_eq!(expanduser("~nosuchuser_xyz/x"), "~nosuchuser_xyz/x");
        assert_eq!(expanduser("a~"), "a~");
    }

    #[test]
    fn names() {
        assert_eq!(process_or_group_name(" foo ").unwrap(), "foo");
        assert_eq!(
            process_or_group_name("a b").unwrap_err(),
            "Invalid name: 'a b' because of character: ' '"
        );
        assert_eq!(
            process_or_group_name("a:b").unwrap_err(),
            "Invalid name: 'a:b' because of character: ':'"
        );
        assert_eq!(
            process_or_group_name("a/b").unwrap_err(),
            "Invalid name: 'a/b' because of character: '/'"
        );
    }

    #[test]
    fn integers_and_booleans() {
        assert_eq!(integer("42"), Ok(42));
        assert_eq!(
            integer("1.5").unwrap_err(),
            "invalid literal for int() with base 10: '1.5'"
        );
        for t in ["yes", "TRUE", "On", "1"] {
            assert_eq!(boolean(t), Ok(true));
        }
        for f in ["no", "False", "OFF", "0"] {
            assert_eq!(boolean(f), Ok(false));
        }
        assert_eq!(
            boolean("maybe").unwrap_err(),
            "not a valid boolean value: 'maybe'"
        );
    }

    #[test]
    fn lists() {
        assert_eq!(list_of_strings(""), Vec::<String>::new());
        assert_eq!(list_of_strings("a, b ,,c"), s(&["a", "b", "", "c"]));
        assert_eq!(list_of_exitcodes("0, 2"), Ok(vec![0, 2]));
        assert_eq!(list_of_exitcodes(""), Ok(vec![]));
        assert_eq!(
            list_of_exitcodes("1,256").unwrap_err(),
            "not a valid list of exit codes: '1,256'"
        );
        assert_eq!(
            list_of_exitcodes("a").unwrap_err(),
            "not a valid list of exit codes: 'a'"
        );
        assert!(list_of_exitcodes("-1").is_err());
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("50MB"), Ok(52428800));
        assert_eq!(byte_size("1kb"), Ok(1024));
        assert_eq!(byte_size("2Gb"), Ok(2 << 30));
        assert_eq!(byte_size("123"), Ok(123));
        assert_eq!(byte_size("-5"), Ok(-5));
        assert_eq!(byte_size("12 MB"), Ok(12 << 20));
        assert_eq!(
            byte_size("12XB").unwrap_err(),
            "invalid literal for int() with base 10: '12xb'"
        );
        assert_eq!(
            byte_size("abcMB").unwrap_err(),
            "invalid literal for int() with base 10: 'abc'"
        );
        assert_eq!(
            byte_size("5B").unwrap_err(),
            "invalid literal for int() with base 10: '5b'"
        );
        assert!(byte_size("99999999999GB").is_err());
        assert_eq!(byte_size("+5kb"), Ok(5120));
        assert_eq!(byte_size("-5KB"), Ok(-5120));
        assert_eq!(byte_size("5_0MB"), Ok(50 << 20));
        assert_eq!(
            byte_size("5mb ").unwrap_err(),
            "invalid literal for int() with base 10: '5mb '"
        );
        assert_eq!(
            byte_size("").unwrap_err(),
            "invalid literal for int() with base 10: ''"
        );
    }

    #[test]
    fn octals() {
        assert_eq!(octal("022"), Ok(0o22));
        assert_eq!(octal("0o777"), Ok(0o777));
        assert_eq!(octal("22"), Ok(0o22));
        assert_eq!(
            octal("9").unwrap_err(),
            "9 can not be converted to an octal type"
        );
        assert_eq!(octal(" 17 "), Ok(0o17));
        assert_eq!(octal("7_7"), Ok(0o77));
        assert_eq!(
            octal("08").unwrap_err(),
            "08 can not be converted to an octal type"
        );
        // Python accepts a negative umask (and fails when applying it).
        assert!(octal("-7").is_err());
    }

    #[test]
    fn signals() {
        assert_eq!(signal_number("TERM"), Ok(15));
        assert_eq!(signal_number("sigkill"), Ok(9));
        assert_eq!(signal_number(" hup "), Ok(1));
        assert_eq!(signal_number("9"), Ok(9));
        assert_eq!(signal_number("IOT"), Ok(6));
        assert_eq!(signal_number("rtmin"), Ok(34));
        assert_eq!(signal_number("_dfl"), Ok(0));
        assert_eq!(signal_number("0"), Ok(0));
        assert_eq!(
            signal_number("FOO").unwrap_err(),
            "value 'FOO' is not a valid signal name"
        );
        assert_eq!(
            signal_number("").unwrap_err(),
            "value '' is not a valid signal name"
        );
        assert_eq!(
            signal_number("99").unwrap_err(),
            "value '99' is not a valid signal number"
        );
        assert_eq!(
            signal_number("-1").unwrap_err(),
            "value '-1' is not a valid signal number"
        );
        assert_eq!(signame(15), "SIGTERM");
        assert_eq!(signame(6), "SIGABRT");
        assert_eq!(signame(17), "SIGCHLD");
        assert_eq!(signame(29), "SIGPOLL");
        assert_eq!(signame(64), "SIGRTMAX");
        assert_eq!(signame(0), "signal 0");
        assert_eq!(signame(40), "signal 40");
    }

    #[test]
    fn autorestart() {
        assert_eq!(auto_restart("true"), Ok(AutoRestart::True));
        assert_eq!(auto_restart("OFF"), Ok(AutoRestart::False));
        assert_eq!(auto_restart("Unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(
            auto_restart("X").unwrap_err(),
            "invalid 'autorestart' value 'x'"
        );
    }

    #[test]
    fn logfiles_and_dirs() {
        assert_eq!(logfile_name("NONE"), Ok(LogFileName::None));
        assert_eq!(logfile_name("off"), Ok(LogFileName::None));
        assert_eq!(logfile_name("Auto"), Ok(LogFileName::Auto));
        assert_eq!(logfile_name("SYSLOG"), Ok(LogFileName::Syslog));
        assert_eq!(
            logfile_name("/tmp/x.log"),
            Ok(LogFileName::Path(PathBuf::from("/tmp/x.log")))
        );
        assert_eq!(
            logfile_name("rel.log"),
            Ok(LogFileName::Path(PathBuf::from("rel.log")))
        );
        assert_eq!(
            logfile_name("/nonexistent_dir_x/a.log").unwrap_err(),
            "The directory named as part of the path /nonexistent_dir_x/a.log does not exist"
        );
        assert_eq!(existing_directory("/tmp"), Ok(PathBuf::from("/tmp")));
        assert_eq!(
            existing_directory("/nonexistent_dir_x").unwrap_err(),
            "/nonexistent_dir_x is not an existing directory"
        );
    }

    #[test]
    fn levels() {
        assert_eq!(logging_level("WARN"), Ok(LogLevel::Warn));
        assert_eq!(
            logging_level("bogus").unwrap_err(),
            "bad logging level name 'bogus'"
        );
    }

    #[test]
    fn users_and_groups() {
        assert_eq!(name_to_uid("root"), Ok(0));
        assert_eq!(name_to_uid("0"), Ok(0));
        assert_eq!(
            name_to_uid("nosuchuser_xyz").unwrap_err(),
            "Invalid user name nosuchuser_xyz"
        );
        assert_eq!(
            name_to_uid("3999999").unwrap_err(),
            "Invalid user id 3999999"
        );
        assert_eq!(name_to_uid("-1").unwrap_err(), "Invalid user id -1");
        let root_group = crate::sys::getgrgid(0).unwrap_or_default();
        assert_eq!(name_to_gid(&root_group), Ok(0));
        assert_eq!(
            name_to_gid("nosuchgroup_xyz").unwrap_err(),
            "Invalid group name nosuchgroup_xyz"
        );
        assert_eq!(gid_for_uid(0), Ok(0));
        assert_eq!(colon_separated_user_group("root"), Ok((0, UNCHANGED_ID)));
        assert_eq!(colon_separated_user_group("0:0"), Ok((0, 0)));
        assert_eq!(
            colon_separated_user_group("root:nosuchgroup_xyz").unwrap_err(),
            "Invalid user:group definition root:nosuchgroup_xyz"
        );
    }

    #[test]
    fn inet_addresses() {
        assert_eq!(inet_address("9001"), Ok((String::new(), 9001)));
        assert_eq!(inet_address("*:9001"), Ok((String::new(), 9001)));
        assert_eq!(inet_address(":9001"), Ok((String::new(), 9001)));
        assert_eq!(
            inet_address("LocalHost:9001"),
            Ok(("localhost".to_string(), 9001))
        );
        assert_eq!(inet_address("[::1]:9001"), Ok(("::1".to_string(), 9001)));
        assert_eq!(inet_address("::1:9001"), Ok(("::1".to_string(), 9001)));
        assert_eq!(
            inet_address("host:").unwrap_err(),
            "no port number specified in ''"
        );
        assert_eq!(
            inet_address("abc").unwrap_err(),
            "not a valid port number: 'abc' "
        );
        assert_eq!(
            inet_address("0").unwrap_err(),
            "not a valid port number: '0' "
        );
        assert_eq!(
            inet_address("h:0").unwrap_err(),
            "0 is below lower bound (1)"
        );
        assert_eq!(
            inet_address("h:70000").unwrap_err(),
            "70000 is above upper bound (65535)"
        );
        assert_eq!(
            inet_address("h:x").unwrap_err(),
            "invalid literal for int() with base 10: 'x'"
        );
    }

    #[test]
    fn urls() {
        assert!(url("http://localhost:9001").is_ok());
        assert!(url("unix:///tmp/x.sock").is_ok());
        // urlparse sees a scheme "localhost" and a path "9001".
        assert!(url("localhost:9001").is_ok());
        assert_eq!(url("foo://").unwrap_err(), "value 'foo://' is not a URL");
        assert_eq!(url("http://[::1").unwrap_err(), "Invalid IPv6 URL");
        assert_eq!(url("http://::1]:9").unwrap_err(), "Invalid IPv6 URL");
        assert!(url("http://[::1]:9").is_ok());
        assert_eq!(url("9001").unwrap_err(), "value '9001' is not a URL");
        assert_eq!(url("").unwrap_err(), "value '' is not a URL");
        for ok in [
            "unix:///",
            "a:b",
            " http://x",
            "http://x?y",
            "h-t+t.p://x",
            "http:////",
        ] {
            assert!(url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://",
            "http:",
            "http:?x",
            "-x://y",
            "x:#f",
            "1:2",
            "ht tp://x",
        ] {
            assert_eq!(
                url(bad),
                Err(format!("value {} is not a URL", py_repr(bad)))
            );
        }
    }

    fn kv(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn key_value_pairs() {
        assert_eq!(
            dict_of_key_value_pairs("A=1,B=2"),
            Ok(kv(&[("A", "1"), ("B", "2")]))
        );
        assert_eq!(
            dict_of_key_value_pairs("A=\"x,y\", B='a b' , C=/usr/bin:(x)+-."),
            Ok(kv(&[("A", "x,y"), ("B", "a b"), ("C", "/usr/bin:(x)+-.")]))
        );
        assert_eq!(dict_of_key_value_pairs(""), Ok(vec![]));
        assert_eq!(dict_of_key_value_pairs("A=\"\""), Ok(kv(&[("A", "")])));
        // The separator is any single token; a duplicate key keeps its place.
        assert_eq!(
            dict_of_key_value_pairs("A=1;B=2,A=3"),
            Ok(kv(&[("A", "3"), ("B", "2")]))
        );
        assert_eq!(dict_of_key_value_pairs("A=b c"), Ok(kv(&[("A", "b")])));
        // '#' starts a comment.
        assert_eq!(dict_of_key_value_pairs("A=b#,C=d"), Ok(kv(&[("A", "b")])));
        assert_eq!(
            dict_of_key_value_pairs("A").unwrap_err(),
            "Unexpected end of key/value pairs in value 'A'"
        );
        assert_eq!(
            dict_of_key_value_pairs("A=foo@bar").unwrap_err(),
            "Unexpected end of key/value pairs in value 'A=foo@bar'"
        );
        assert_eq!(
            dict_of_key_value_pairs("A=1\nB=2").unwrap_err(),
            "Unexpected end of key/value pairs in value 'A=1\nB=2'"
        );
        assert_eq!(
            dict_of_key_value_pairs("A=\"x").unwrap_err(),
            "No closing quotation"
        );
        // Legacy mode: a quote inside a word is an ordinary character and
        // escapes are not special.
        assert_eq!(
            dict_of_key_value_pairs("A=x\"y,B=\"a\\\""),
            Ok(kv(&[("A", "x\"y"), ("B", "a\\")]))
        );
    }

    #[test]
    fn shlex_split_posix() {
        assert_eq!(shlex_split("a b  c"), Ok(s(&["a", "b", "c"])));
        assert_eq!(shlex_split("  "), Ok(vec![]));
        assert_eq!(
            shlex_split("bash -c 'echo \"hi there\"'"),
            Ok(s(&["bash", "-c", "echo \"hi there\""]))
        );
        assert_eq!(shlex_split("a'b'\"c\"d"), Ok(s(&["abcd"])));
        assert_eq!(shlex_split("a '' b"), Ok(s(&["a", "", "b"])));
        assert_eq!(shlex_split("\"\""), Ok(s(&[""])));
        assert_eq!(shlex_split("a\\ b"), Ok(s(&["a b"])));
        assert_eq!(shlex_split("\"a\\\"b\\\\c\\d\""), Ok(s(&["a\"b\\c\\d"])));
        assert_eq!(shlex_split("'a\\b'"), Ok(s(&["a\\b"])));
        assert_eq!(shlex_split("a\nb\tc"), Ok(s(&["a", "b", "c"])));
        assert_eq!(
            shlex_split("# not a comment"),
            Ok(s(&["#", "not", "a", "comment"]))
        );
        assert_eq!(shlex_split("a 'b").unwrap_err(), "No closing quotation");
        assert_eq!(shlex_split("a\\").unwrap_err(), "No escaped character");
        assert_eq!(shlex_split("\"a\\").unwrap_err(), "No escaped character");
    }
}
