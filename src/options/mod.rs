//! Options: command lines and config files of supervisord and supervisorctl,
//! parsed into the config model the daemon runs from.
//!
//! Submodules own the pieces: `configparser` (Python ConfigParser dialect),
//! `expand` (Python `%`-formatting), `getopt` (Python getopt), and the
//! section readers. This file holds the model (the contract between parsing
//! and the rest of the crate) and the entry points.

use std::path::PathBuf;

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
    /// `serverurl`: the first unix server as `unix://<file>`, else the first
    /// inet server as `http://<host or localhost>:<port>`, else None.
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
}

/// What the supervisorctl command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCommand {
    Run(ClientOptions),
    /// `-h`, `-?`, `--help`: print this text to stdout, exit 0.
    Help(String),
}

mod lead_stub;
pub use lead_stub::*;
use std::path::Path;
