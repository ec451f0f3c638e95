//! Logging: levels, the activity log (stdout mirror, rotating file, syslog)
//! and the rotating files that child output is written to.
//!
//! Rotation follows the reference: the size check happens after every write,
//! so a file may overshoot `maxbytes` by one write; then `.N-1` → `.N`, ...,
//! base → `.1`, and the base is reopened empty. A write is never split across
//! files, so no byte is lost or reordered by rotation.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::sys;

/// Log levels with the reference's numeric values and 4-letter codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Blather = 3,
    Trace = 5,
    Debug = 10,
    Info = 20,
    Warn = 30,
    Error = 40,
    Critical = 50,
}

impl LogLevel {
    /// Parses a level name (`critical error warn info debug trace blather`,
    /// case-insensitive).
    pub fn from_name(name: &str) -> Option<LogLevel> {
        Some(match name.to_ascii_lowercase().as_str() {
            "critical" => LogLevel::Critical,
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            "blather" => LogLevel::Blather,
            _ => return None,
        })
    }

    /// The code written in each log line (`CRIT`, `INFO`, ...).
    pub fn code(self) -> &'static str {
        match self {
            LogLevel::Critical => "CRIT",
            LogLevel::Error => "ERRO",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBG",
            LogLevel::Trace => "TRAC",
            LogLevel::Blather => "BLAT",
        }
    }

    /// The lower-case name (`info`).
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Critical => "critical",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
            LogLevel::Blather => "blather",
        }
    }
}

/// Current time as `YYYY-MM-DD HH:MM:SS,mmm` in local time.
pub fn asctime_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let tm = sys::localtime(now.as_secs() as i64);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.year,
        tm.month,
        tm.day,
        tm.hour,
        tm.minute,
        tm.second,
        now.subsec_millis()
    )
}

/// Syslog priorities we use (facility user).
pub const LOG_ERR: u8 = 3;
pub const LOG_INFO: u8 = 6;

thread_local! {
    static SYSLOG: RefCell<Option<UnixDatagram>> = const { RefCell::new(None) };
}

/// Sends one message to the local syslog daemon, RFC 3164 style as glibc's
/// `syslog()` does (facility user, ident `supervisord[pid]`). The socket is
/// `/dev/log`, or `$SUPERVISOR_SYSLOG_SOCKET` (used by tests). Messages are
/// dropped when no syslog daemon listens, as with `syslog()`.
pub fn syslog(priority: u8, msg: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let tm = sys::localtime(now);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let line = format!(
        "<{}>{} {:2} {:02}:{:02}:{:02} supervisord[{}]: {}",
        8 + priority as u32,
        MONTHS[(tm.month.clamp(1, 12) - 1) as usize],
        tm.day,
        tm.hour,
        tm.minute,
        tm.second,
        sys::getpid(),
        msg
    );
    let path = std::env::var_os("SUPERVISOR_SYSLOG_SOCKET")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/log"));
    SYSLOG.with(|cell| {
        let mut slot = cell.borrow_mut();
        for _ in 0..2 {
            if slot.is_none() {
                let Ok(s) = UnixDatagram::unbound() else {
                    return;
                };
                if s.connect(&path).is_err() {
                    return;
                }
                let _ = s.set_nonblocking(true);
                *slot = Some(s);
            }
            if let Some(s) = slot.as_ref() {
                match s.send(line.as_bytes()) {
                    Ok(_) => return,
                    // The daemon restarted: reconnect once.
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => *slot = None,
                    Err(_) => return,
                }
            }
        }
    });
}

/// A log file that rotates at `maxbytes` keeping `backups` old copies.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    file: Option<File>,
    maxbytes: u64,
    backups: i64,
    /// Where we believe the end of the file is (None: not a regular file,
    /// never rotated). Kept in memory to save a seek per write; checked
    /// against the real position before rotating, since another writer
    /// (or a truncation) may have moved it.
    pos: Option<u64>,
}

impl LogFile {
    /// Opens `path` for appending (created if missing). `maxbytes` 0 means
    /// never rotate.
    pub fn open(path: &Path, maxbytes: u64, backups: i64) -> io::Result<LogFile> {
        let mut lf = LogFile {
            path: path.to_path_buf(),
            file: None,
            maxbytes,
            backups,
            pos: None,
        };
        lf.reopen()?;
        Ok(lf)
    }

    fn open_append(path: &Path) -> io::Result<File> {
        OpenOptions::new().append(true).create(true).open(path)
    }

    fn end_of(f: &File) -> Option<u64> {
        f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `data` whole, then rotates if the file reached `maxbytes`.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.reopen()?;
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        f.write_all(data)?;
        let Some(pos) = self.pos.as_mut() else {
            return Ok(());
        };
        *pos += data.len() as u64;
        if self.maxbytes > 0 && *pos >= self.maxbytes {
            match f.stream_position() {
                Ok(real) if real >= self.maxbytes => self.rollover()?,
                Ok(real) => *pos = real,
                Err(_) => self.pos = None,
            }
        }
        Ok(())
    }

    fn rollover(&mut self) -> io::Result<()> {
        self.file = None;
        if self.backups > 0 {
            let name = |i: i64| PathBuf::from(format!("{}.{}", self.path.display(), i));
            for i in (1..self.backups).rev() {
                let src = name(i);
                if src.exists() {
                    ignore_enoent(std::fs::rename(&src, name(i + 1)))?;
                }
            }
            ignore_enoent(std::fs::rename(&self.path, name(1)))?;
        }
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)?;
        self.pos = Self::end_of(&f);
        self.file = Some(f);
        Ok(())
    }

    /// Closes and reopens the file (after it was moved away: USR2).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let f = Self::open_append(&self.path)?;
        self.pos = Self::end_of(&f);
        self.file = Some(f);
        Ok(())
    }

    /// Deletes the file and starts a new empty one (clearLog); rotated
    /// backups stay.
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        ignore_enoent(std::fs::remove_file(&self.path))?;
        self.reopen()
    }
}

fn ignore_enoent(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Where activity-log lines go.
#[derive(Debug)]
enum Handler {
    Stdout,
    File(LogFile),
    Syslog,
}

/// The activity log: level filter plus handlers, with the reference's line
/// format `%(asctime)s %(levelname)s %(message)s\n`.
#[derive(Debug)]
pub struct Logger {
    level: LogLevel,
    handlers: Vec<Handler>,
    /// Set whenever a line is written; readers following the file (the
    /// `/mainlogtail` endpoint) clear it.
    pub dirty: bool,
    /// The last file error, reported once on stderr-less daemons through the
    /// remaining handlers instead of being lost.
    file_error: bool,
}

impl Logger {
    pub fn new(level: LogLevel) -> Logger {
        Logger {
            level,
            handlers: Vec::new(),
            dirty: false,
            file_error: false,
        }
    }

    /// Mirrors lines to our stdout (foreground, not silent).
    pub fn add_stdout(&mut self) {
        self.handlers.push(Handler::Stdout);
    }

    pub fn add_file(&mut self, path: &Path, maxbytes: u64, backups: i64) -> io::Result<()> {
        self.handlers
            .push(Handler::File(LogFile::open(path, maxbytes, backups)?));
        Ok(())
    }

    pub fn add_syslog(&mut self) {
        self.handlers.push(Handler::Syslog);
    }

    pub fn level(&self) -> LogLevel {
        self.level
    }

    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// The file the activity log is written to, if any.
    pub fn file_path(&self) -> Option<&Path> {
        self.handlers.iter().find_map(|h| match h {
            Handler::File(f) => Some(f.path()),
            _ => None,
        })
    }

    pub fn log(&mut self, level: LogLevel, msg: &str) {
        if !self.enabled(level) {
            return;
        }
        let line = format!("{} {} {}\n", asctime_now(), level.code(), msg);
        let mut failed = None;
        for h in &mut self.handlers {
            match h {
                Handler::Stdout => {
                    let mut out = io::stdout().lock();
                    let _ = out.write_all(line.as_bytes());
                    let _ = out.flush();
                }
                Handler::File(f) => {
                    if let Err(e) = f.write(line.as_bytes()) {
                        failed = Some(format!("{}: {}", f.path().display(), e));
                    }
                }
                Handler::Syslog => {
                    for part in line.trim_end_matches('\n').split('\n') {
                        syslog(LOG_INFO, part);
                    }
                }
            }
        }
        self.dirty = true;
        match failed {
            // Report a failing log file once, on stderr (still the terminal
            // in the foreground) and syslog, then stay quiet until it works.
            Some(e) if !self.file_error => {
                self.file_error = true;
                let msg = format!("supervisord: cannot write the activity log {}", e);
                eprintln!("{}", msg);
                syslog(LOG_ERR, &msg);
            }
            None => self.file_error = false,
            _ => {}
        }
    }

    pub fn critical(&mut self, msg: &str) {
        self.log(LogLevel::Critical, msg)
    }
    pub fn error(&mut self, msg: &str) {
        self.log(LogLevel::Error, msg)
    }
    pub fn warn(&mut self, msg: &str) {
        self.log(LogLevel::Warn, msg)
    }
    pub fn info(&mut self, msg: &str) {
        self.log(LogLevel::Info, msg)
    }
    pub fn debug(&mut self, msg: &str) {
        self.log(LogLevel::Debug, msg)
    }
    pub fn trace(&mut self, msg: &str) {
        self.log(LogLevel::Trace, msg)
    }
    pub fn blather(&mut self, msg: &str) {
        self.log(LogLevel::Blather, msg)
    }

    /// Reopens the log file (USR2).
    pub fn reopen(&mut self) {
        for h in &mut self.handlers {
            if let Handler::File(f) = h {
                let _ = f.reopen();
            }
        }
    }

    /// Deletes and reopens the log file (`clearLog`).
    pub fn clear(&mut self) -> io::Result<()> {
        for h in &mut self.handlers {
            if let Handler::File(f) = h {
                f.clear()?;
            }
        }
        self.dirty = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sv-loggers-{}-{}", std::process::id(), name));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn rotation_keeps_every_byte_in_order() {
        let d = tmp("rot");
        let p = d.join("out.log");
        let mut lf = LogFile::open(&p, 10, 3).unwrap();
        let mut all = Vec::new();
        for i in 0..20u8 {
            let chunk = vec![b'a' + i; 4];
            lf.write(&chunk).unwrap();
            all.extend_from_slice(&chunk);
        }
        // Files hold the tail of the stream, oldest backup first.
        let mut got = Vec::new();
        for name in ["out.log.3", "out.log.2", "out.log.1", "out.log"] {
            if let Ok(b) = std::fs::read(d.join(name)) {
                got.extend(b);
            }
        }
        assert!(
            all.ends_with(&got),
            "rotated files are a suffix of the stream"
        );
        assert_eq!(std::fs::read(d.join("out.log.1")).unwrap().len(), 12);
        assert!(!d.join("out.log.4").exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn zero_backups_truncates() {
        let d = tmp("trunc");
        let p = d.join("x.log");
        let mut lf = LogFile::open(&p, 5, 0).unwrap();
        lf.write(b"123456").unwrap();
        assert_eq!(std::fs::read(&p).unwrap().len(), 0);
        assert!(!d.join("x.log.1").exists());
        lf.write(b"ab").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"ab");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn clear_and_reopen() {
        let d = tmp("clear");
        let p = d.join("x.log");
        let mut lf = LogFile::open(&p, 0, 0).unwrap();
        lf.write(b"hello").unwrap();
        lf.clear().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"");
        std::fs::rename(&p, d.join("moved")).unwrap();
        lf.reopen().unwrap();
        lf.write(b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn logger_format_and_level() {
        let d = tmp("logger");
        let p = d.join("main.log");
        let mut l = Logger::new(LogLevel::Info);
        l.add_file(&p, 0, 0).unwrap();
        l.debug("hidden");
        l.warn("exited: x (exit status 3; not expected)");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("hidden"));
        let line = text.lines().next().unwrap();
        // 2024-01-02 03:04:05,678 WARN exited: ...
        assert_eq!(&line[4..5], "-");
        assert_eq!(&line[19..20], ",");
        assert!(line[23..].starts_with(" WARN exited: x (exit status 3; not expected)"));
        let _ = std::fs::remove_dir_all(&d);
    }
}
