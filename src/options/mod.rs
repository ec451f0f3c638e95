//! Options: command lines and config files of supervisord and supervisorctl,
//! parsed into the config model the daemon runs from, reproducing how
//! Supervisor 4.2.5 (`options.py`) reads them.
//!
//! Submodules own the pieces: `configparser` (Python ConfigParser dialect;
//! see there why no INI crate can do it), `expand` (Python `%`-formatting),
//! `getopt` (Python getopt), `reader` (typed section access and the error
//! format), `server` (supervisord: flags, discovery, `[include]`,
//! `[supervisord]`, HTTP servers, `[rpcinterface:x]`), `programs` (process
//! sections and groups) and `client` (supervisorctl). This file holds the
//! model (the contract between parsing and the rest of the crate) and the
//! entry points.
//!
//! Errors are one line (the caller prints `Error: <msg>` and `For help, use
//! <argv0> -h`, exit 2). Each keeps the reference's message as its core and
//! adds where the problem is:
//!
//! `<reference message> in section '<section>' (file: '<file>') for key '<key>'`
//!
//! ` for key '<key>'` is left out when no single key is at fault; the file
//! is the one that defined the section, as it was named (the `-c` argument
//! or an include glob match). Parse errors name the file and line;
//! command-line errors are the reference's (`invalid value for -e 'x': ...`).
//!
//! Where we knowingly differ from 4.2.5: `[rpcinterface:x]` with a factory
//! other than `supervisor.rpcinterface:make_main_rpcinterface` and
//! `result_handler` other than `supervisor.dispatchers:default_handler` are
//! config errors (Python plugins cannot be loaded); `[ctlplugin:x]` is
//! ignored with a warning; two processes with one name in a group, or two
//! groups with one name, are errors (the reference silently drops one);
//! `[inet_http_server] port=[::1]:9001` loses its brackets; a non-UTF-8
//! file is an error (the reference crashes); `supervisorctl -r FILE` is
//! honoured (the reference ignores it); the `Bad socket format` and `Unix
//! socket path` messages are formatted (the reference prints a tuple);
//! `[group:x]` errors name the group section (the reference may name a
//! member program's); negative byte sizes and counts are read as 0.

use std::path::{Path, PathBuf};

mod client;
pub mod configparser;
pub mod expand;
pub mod getopt;
mod programs;
mod reader;
mod server;

pub use client::parse_client_args_as;
pub use server::{load_server_options_for, parse_server_args_as};

use crate::events::EventType;
use crate::loggers::LogLevel;

/// Where a child's channel is logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFile {
    /// `NONE` / `OFF` (and `syslog`, which is rewritten to `*_syslog=true`).
    None,
    /// `AUTO`: a file created in `childlogdir` when the process is created.
    Auto,
    /// An explicit path (`~` expanded; its directory exists).
    Path(PathBuf),
}

/// `autorestart`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoRestart {
    False,
    Unexpected,
    True,
}

/// The per-channel (stdout or stderr) logging settings of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    pub logfile: LogFile,
    /// `*_logfile_maxbytes` (0 = never rotate).
    pub maxbytes: u64,
    /// `*_logfile_backups`.
    pub backups: i64,
    /// `*_capture_maxbytes` (0 = capture mode off).
    pub capture_maxbytes: u64,
    /// `*_events_enabled`.
    pub events_enabled: bool,
    /// `*_syslog`.
    pub syslog: bool,
}

/// One process, after `numprocs` expansion: every key of `[program:x]`
/// evaluated for this process.
#[derive(Clone, Debug)]
pub struct ProcessConfig {
    /// The process name (`process_name` expanded).
    pub name: String,
    /// The raw command line (split with shlex at spawn time).
    pub command: String,
    /// `directory`, not validated at parse time.
    pub directory: Option<String>,
    pub umask: Option<u32>,
    pub priority: i64,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: i64,
    pub startretries: i64,
    /// `user`, resolved to a uid at parse time.
    pub uid: Option<u32>,
    pub stdout: ChannelConfig,
    pub stderr: ChannelConfig,
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub exitcodes: Vec<i32>,
    pub redirect_stderr: bool,
    /// `[supervisord] environment` merged with this section's `environment`
    /// (section wins), in the order given.
    pub environment: Vec<(String, String)>,
    /// `serverurl` (None for `AUTO` or absent).
    pub serverurl: Option<String>,
}

impl ProcessConfig {
    /// The reference's ProcessConfig equality, used by `reloadConfig`:
    /// every setting compared, except that `AUTO` log files compare equal
    /// to anything.
    pub fn same_as(&self, other: &ProcessConfig) -> bool {
        fn chan_eq(a: &ChannelConfig, b: &ChannelConfig) -> bool {
            let files =
                a.logfile == LogFile::Auto || b.logfile == LogFile::Auto || a.logfile == b.logfile;
            files
                && a.maxbytes == b.maxbytes
                && a.backups == b.backups
                && a.capture_maxbytes == b.capture_maxbytes
                && a.events_enabled == b.events_enabled
                && a.syslog == b.syslog
        }
        self.name == other.name
            && self.command == other.command
            && self.directory == other.directory
            && self.umask == other.umask
            && self.priority == other.priority
            && self.autostart == other.autostart
            && self.autorestart == other.autorestart
            && self.startsecs == other.startsecs
            && self.startretries == other.startretries
            && self.uid == other.uid
            && chan_eq(&self.stdout, &other.stdout)
            && chan_eq(&self.stderr, &other.stderr)
            && self.stopsignal == other.stopsignal
            && self.stopwaitsecs == other.stopwaitsecs
            && self.stopasgroup == other.stopasgroup
            && self.killasgroup == other.killasgroup
            && self.exitcodes == other.exitcodes
            && self.redirect_stderr == other.redirect_stderr
            && self.environment == other.environment
            && self.serverurl == other.serverurl
    }
}

/// `[fcgi-program:x] socket`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketConfig {
    /// `tcp://host:port`.
    Tcp {
        host: String,
        port: u16,
        backlog: Option<i32>,
    },
    /// `unix:///absolute/path`.
    Unix {
        path: PathBuf,
        /// `socket_owner` as (uid, gid), or the program user's when it
        /// differs from supervisord's.
        owner: Option<(u32, u32)>,
        /// `socket_mode`, default 0o700.
        mode: u32,
        backlog: Option<i32>,
    },
}

impl SocketConfig {
    /// The URL form used in log lines (`tcp://host:port`, `unix:///path`).
    pub fn url(&self) -> String {
        match self {
            SocketConfig::Tcp { host, port, .. } => format!("tcp://{}:{}", host, port),
            SocketConfig::Unix { path, .. } => format!("unix://{}", path.display()),
        }
    }
}

/// What kind of group a section produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupKind {
    /// `[program:x]` (homogeneous) or `[group:x]` (heterogeneous).
    Process,
    /// `[eventlistener:x]`.
    EventListenerPool {
        buffer_size: usize,
        /// The subscribed types, in the order first seen in `events=`.
        events: Vec<EventType>,
    },
    /// `[fcgi-program:x]`.
    FastCgi { socket: SocketConfig },
}

/// A process group: what `[program:x]`, `[group:x]`, `[eventlistener:x]`
/// and `[fcgi-program:x]` produce.
#[derive(Clone, Debug)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    /// Sorted by (priority, name) for homogeneous groups; in `programs=`
    /// order for `[group:x]`.
    pub processes: Vec<ProcessConfig>,
}

impl GroupConfig {
    /// The reference's group equality (name, priority, kind-specific
    /// settings, process configs with `same_as`).
    pub fn same_as(&self, other: &GroupConfig) -> bool {
        self.name == other.name
            && self.priority == other.priority
            && self.kind == other.kind
            && self.processes.len() == other.processes.len()
            && self
                .processes
                .iter()
                .zip(&other.processes)
                .all(|(a, b)| a.same_as(b))
    }
}

/// Where an HTTP server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerFamily {
    /// `[inet_http_server] port`; an empty host means all interfaces.
    Inet { host: String, port: u16 },
    /// `[unix_http_server]`.
    Unix {
        file: PathBuf,
        /// Default 0o700.
        chmod: u32,
        /// `chown` as (uid, gid); None leaves ownership unchanged.
        chown: Option<(u32, u32)>,
    },
}

/// One `[inet_http_server*]` or `[unix_http_server*]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The section name, e.g. `unix_http_server` (used in log lines).
    pub section: String,
    pub family: ServerFamily,
    pub username: Option<String>,
    /// Cleartext, or `{SHA}` followed by 40 hex digits.
    pub password: Option<String>,
}

/// `[rpcinterface:x]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcInterfaceConfig {
    pub name: String,
    /// `supervisor.rpcinterface_factory`.
    pub factory: String,
}

/// `[supervisord] logfile`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MainLogFile {
    Syslog,
    Path(PathBuf),
}

/// The supervisord command line, kept so that a reload (SIGHUP,
/// `supervisor.restart`) re-reads the config with the same flags.
/// Every field is what the flag said, before the config file is merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerArgs {
    pub configfile: Option<String>,
    pub nodaemon: bool,
    pub silent: bool,
    pub user: Option<String>,
    pub umask: Option<String>,
    pub directory: Option<String>,
    pub logfile: Option<String>,
    pub logfile_maxbytes: Option<String>,
    pub logfile_backups: Option<String>,
    pub loglevel: Option<String>,
    pub pidfile: Option<String>,
    pub identifier: Option<String>,
    pub childlogdir: Option<String>,
    pub nocleanup: bool,
    pub minfds: Option<String>,
    pub minprocs: Option<String>,
    pub strip_ansi: bool,
    pub profile_options: Option<String>,
}

/// What the supervisord command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerCommand {
    Run(Box<ServerArgs>),
    /// `-h`, `-?`, `--help`: print this text to stdout, exit 0.
    Help(String),
    /// `-v`, `--version`: print `VERSION`, exit 0.
    Version,
}

/// A usage error: printed as `Error: <msg>` then `For help, use <argv0> -h`
/// on stderr, exit status 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

/// Everything supervisord runs from: command line merged over the config
/// file merged over the defaults.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The config file actually read (absolute).
    pub configfile: PathBuf,
    /// Its directory (`%(here)s`).
    pub here: PathBuf,
    pub nodaemon: bool,
    pub silent: bool,
    /// `user` as given, and its uid/gid (resolved at parse time).
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub umask: u32,
    pub directory: Option<PathBuf>,
    pub logfile: MainLogFile,
    pub logfile_maxbytes: u64,
    pub logfile_backups: i64,
    pub loglevel: LogLevel,
    pub pidfile: PathBuf,
    pub identifier: String,
    pub childlogdir: PathBuf,
    pub minfds: u64,
    pub minprocs: u64,
    pub nocleanup: bool,
    pub strip_ansi: bool,
    /// `[supervisord] environment`, in order.
    pub environment: Vec<(String, String)>,
    /// Groups sorted by (priority, name).
    pub groups: Vec<GroupConfig>,
    /// inet servers first, then unix servers, each in section order.
    pub servers: Vec<ServerConfig>,
    pub rpcinterfaces: Vec<RpcInterfaceConfig>,
    /// SUPERVISOR_SERVER_URL for children when a program sets no
    /// `serverurl`: the first unix server as `unix://<file>`, else an inet
    /// server as `http://<host or localhost>:<port>` (the last one, as the
    /// reference's loop has it; an IPv6 host in brackets), else None.
    pub serverurl: Option<String>,
    /// Messages collected while parsing, logged once the logger exists
    /// (criticals, then warnings, then infos), as the reference does.
    pub parse_criticals: Vec<String>,
    pub parse_warnings: Vec<String>,
    pub parse_infos: Vec<String>,
}

/// What the supervisorctl command line and config ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// The config file read, if any.
    pub configfile: Option<PathBuf>,
    /// `-i`, or no action given.
    pub interactive: bool,
    /// Prompt word (`supervisor`); the shell shows `<prompt>> `.
    pub prompt: String,
    /// `http://host:port` or `unix:///abs/path`.
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub history_file: Option<PathBuf>,
    /// The action and its arguments (empty: interactive shell).
    pub args: Vec<String>,
    /// Messages to print on stderr before acting (e.g. an ignored
    /// `[ctlplugin:x]` section), each a full line.
    pub warnings: Vec<String>,
}

/// What the supervisorctl command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCommand {
    Run(ClientOptions),
    /// `-h`, `-?`, `--help`: print this text to stdout, exit 0.
    Help(String),
}

/// supervisord's command line; argv without argv[0]. The program name
/// shown by `-h` is this process's argv[0].
pub fn parse_server_args(argv: &[String]) -> Result<ServerCommand, UsageError> {
    parse_server_args_as(&argv0(), argv)
}

/// Finds/reads the config (searching default paths when -c is absent),
/// merges CLI > file > defaults, validates everything. When supervisord
/// runs as root and searches, the reference's warning is printed on
/// stderr. `parse_criticals` holds the "running as root" message when no
/// user is set and we are root; the "Set uid to user ..." and rlimit
/// infos belong to the caller, which does those things.
pub fn load_server_options(args: &ServerArgs) -> Result<ServerOptions, UsageError> {
    load_server_options_for(args, Path::new(&argv0()))
}

/// supervisorctl's command line and config; argv without argv[0].
pub fn parse_client_args(argv: &[String]) -> Result<ClientCommand, UsageError> {
    parse_client_args_as(&argv0(), argv)
}

fn argv0() -> String {
    std::env::args_os()
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The default config search list for an executable at `exe` (argv[0]):
/// the reference joins `dirname(dirname(argv[0]))` with `etc/...`.
pub fn search_paths(exe: &Path) -> Vec<PathBuf> {
    use crate::datatypes::{py_dirname, py_join};
    let exe = exe.to_string_lossy();
    let up = py_dirname(py_dirname(&exe));
    [
        py_join(&py_join(up, "etc"), "supervisord.conf"),
        py_join(up, "supervisord.conf"),
        "supervisord.conf".to_string(),
        "etc/supervisord.conf".to_string(),
        "/etc/supervisord.conf".to_string(),
        "/etc/supervisor/supervisord.conf".to_string(),
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect()
}

/// "g:p" -> ("g", Some("p")); "g:*" and "g:" -> ("g", None); "name" ->
/// ("name", Some("name")).
pub fn split_namespec(s: &str) -> (String, Option<String>) {
    match s.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g.to_string(), None),
        Some((g, p)) => (g.to_string(), Some(p.to_string())),
        None => (s.to_string(), Some(s.to_string())),
    }
}

/// "g:p", or "p" when group == process.
pub fn make_namespec(group: &str, process: &str) -> String {
    if group == process {
        process.to_string()
    } else {
        format!("{}:{}", group, process)
    }
}

/// The keys of `[program:x]`, shared by the other process sections, plus
/// the given extra keys.
macro_rules! with_program_keys {
    ($($extra:literal),*) => {
        &[
            "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
            "startsecs", "startretries", "autorestart", "exitcodes", "stopsignal",
            "stopwaitsecs", "stopasgroup", "killasgroup", "user", "redirect_stderr",
            "stdout_logfile", "stdout_logfile_maxbytes", "stdout_logfile_backups",
            "stdout_capture_maxbytes", "stdout_events_enabled", "stdout_syslog",
            "stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups",
            "stderr_capture_maxbytes", "stderr_events_enabled", "stderr_syslog",
            "environment", "directory", "umask", "serverurl", $($extra),*
        ]
    };
}

/// Every key accepted per section kind (unknown keys are ignored, as by
/// the reference).
pub const SECTION_KEYS: &[(&str, &[&str])] = &[
    (
        "supervisord",
        &[
            "logfile",
            "logfile_maxbytes",
            "logfile_backups",
            "loglevel",
            "pidfile",
            "umask",
            "nodaemon",
            "silent",
            "minfds",
            "minprocs",
            "nocleanup",
            "childlogdir",
            "user",
            "directory",
            "strip_ansi",
            "environment",
            "identifier",
        ],
    ),
    ("program", with_program_keys!()),
    (
        "eventlistener",
        with_program_keys!("buffer_size", "events", "result_handler"),
    ),
    (
        "fcgi-program",
        with_program_keys!("socket", "socket_backlog", "socket_owner", "socket_mode"),
    ),
    ("group", &["programs", "priority"]),
    ("include", &["files"]),
    (
        "unix_http_server",
        &["file", "chmod", "chown", "username", "password"],
    ),
    ("inet_http_server", &["port", "username", "password"]),
    (
        "supervisorctl",
        &[
            "serverurl",
            "username",
            "password",
            "prompt",
            "history_file",
        ],
    ),
    ("rpcinterface", &["supervisor.rpcinterface_factory"]),
];

/// The reference's help: its doc text plus a newline, `%s` replaced by
/// the program name.
fn help_text(doc: &str, progname: &str) -> String {
    format!("{}\n", doc).replace("%s", progname)
}

/// Python's repr of a list of strings: `['a', 'b']`.
fn py_list_repr(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| crate::datatypes::py_repr(s)).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests;
