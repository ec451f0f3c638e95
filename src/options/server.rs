//! server: supervisord's command line and config file (the reference's
//! `ServerOptions`): flags, config discovery, `[include]`, `[supervisord]`,
//! the HTTP server sections, `[rpcinterface:x]`, and the merge of command
//! line over file over defaults. Process sections live in `programs`.

use std::path::{Path, PathBuf};

use super::configparser::{ConfigParser, ReadError};
use super::expand::{expand, Expansions, Value};
use super::getopt::getopt;
use super::programs::process_groups;
use super::reader::{located, strings, Sect};
use super::{
    help_text, py_list_repr, search_paths, MainLogFile, RpcInterfaceConfig, ServerArgs,
    ServerCommand, ServerConfig, ServerFamily, ServerOptions, UsageError,
};
use crate::datatypes::{
    boolean, byte_size, colon_separated_user_group, dict_of_key_value_pairs, existing_directory,
    existing_dirpath, gid_for_uid, inet_address, integer, logging_level, name_to_uid,
    normalize_path, octal, py_abspath, py_dirname, py_join, py_repr, py_strip, set_ordered,
};
use crate::loggers::LogLevel;

/// supervisord's help (`-h`); `%s` is the program name.
pub const HELP: &str = "supervisord -- run a set of applications as daemons.

Usage: %s [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- run supervisord under profiler and output
                             results based on OPTIONS, which  is a comma-sep'd
                             list of 'cumulative', 'calls', and/or 'callers',
                             e.g. 'cumulative,callers')
";

const SHORT: &str = "h?c:vnu:m:d:l:y:z:e:j:i:q:a:kts";
const LONG: &[&str] = &[
    "help",
    "configuration=",
    "version",
    "nodaemon",
    "user=",
    "umask=",
    "directory=",
    "logfile=",
    "logfile_maxbytes=",
    "logfile_backups=",
    "loglevel=",
    "pidfile=",
    "identifier=",
    "childlogdir=",
    "minfds=",
    "minprocs=",
    "nocleanup",
    "strip_ansi",
    "profile_options=",
    "silent",
];

/// The root warning Python prints (as a `UserWarning`) when supervisord
/// runs as root without `-c`.
const ROOT_SEARCH_WARNING: &str = "UserWarning: Supervisord is running as root and it is \
searching for its configuration file in default locations (including its current working \
directory); you probably want to specify a \"-c\" argument specifying an absolute path to a \
configuration file for improved security.";

const ROOT_CRITICAL: &str = "Supervisor is running as root.  Privileges were not dropped \
because no user is specified in the config file.  If you intend to run as root, you can set \
user=root in the config file to avoid this message.";

fn invalid_value(opt: &str, val: &str, msg: &str) -> UsageError {
    UsageError(format!(
        "invalid value for {} {}: {}",
        opt,
        py_repr(val),
        msg
    ))
}

fn conflict(opt: &str) -> UsageError {
    UsageError(format!("conflicting command line option {}", py_repr(opt)))
}

/// Stores a flag's value, refusing a second occurrence.
pub(super) fn set_flag(slot: &mut bool, opt: &str) -> Result<(), UsageError> {
    if *slot {
        return Err(conflict(opt));
    }
    *slot = true;
    Ok(())
}

/// Validates an option's value (as the reference's handler does, before
/// the duplicate check) and stores it, refusing a second occurrence.
pub(super) fn set_value<T>(
    slot: &mut Option<String>,
    opt: &str,
    val: &str,
    check: impl FnOnce(&str) -> Result<T, String>,
) -> Result<(), UsageError> {
    check(val).map_err(|e| invalid_value(opt, val, &e))?;
    if slot.is_some() {
        return Err(conflict(opt));
    }
    *slot = Some(val.to_string());
    Ok(())
}

/// The check of options that take any value.
pub(super) fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// [`super::parse_server_args`] with an explicit program name (for `-h`).
pub fn parse_server_args_as(progname: &str, argv: &[String]) -> Result<ServerCommand, UsageError> {
    let (opts, rest) = getopt(argv, SHORT, LONG).map_err(UsageError)?;
    if !rest.is_empty() {
        return Err(UsageError(format!(
            "positional arguments are not supported: {}",
            py_list_repr(&rest)
        )));
    }
    let mut a = ServerArgs::default();
    for (opt, val) in &opts {
        let (o, v) = (opt.as_str(), val.as_str());
        match o {
            "-h" | "-?" | "--help" => return Ok(ServerCommand::Help(help_text(HELP, progname))),
            "-v" | "--version" => return Ok(ServerCommand::Version),
            "-n" | "--nodaemon" => set_flag(&mut a.nodaemon, o)?,
            "-s" | "--silent" => set_flag(&mut a.silent, o)?,
            "-k" | "--nocleanup" => set_flag(&mut a.nocleanup, o)?,
            "-t" | "--strip_ansi" => set_flag(&mut a.strip_ansi, o)?,
            "-c" | "--configuration" => set_value(&mut a.configfile, o, v, any)?,
            "-u" | "--user" => set_value(&mut a.user, o, v, any)?,
            "-m" | "--umask" => set_value(&mut a.umask, o, v, octal)?,
            "-d" | "--directory" => set_value(&mut a.directory, o, v, existing_directory)?,
            "-l" | "--logfile" => set_value(&mut a.logfile, o, v, existing_dirpath)?,
            "-y" | "--logfile_maxbytes" => set_value(&mut a.logfile_maxbytes, o, v, byte_size)?,
            "-z" | "--logfile_backups" => set_value(&mut a.logfile_backups, o, v, integer)?,
            "-e" | "--loglevel" => set_value(&mut a.loglevel, o, v, logging_level)?,
            "-j" | "--pidfile" => set_value(&mut a.pidfile, o, v, existing_dirpath)?,
            "-i" | "--identifier" => set_value(&mut a.identifier, o, v, any)?,
            "-q" | "--childlogdir" => set_value(&mut a.childlogdir, o, v, existing_directory)?,
            "-a" | "--minfds" => set_value(&mut a.minfds, o, v, integer)?,
            "--minprocs" => set_value(&mut a.minprocs, o, v, integer)?,
            "--profile_options" => set_value(&mut a.profile_options, o, v, any)?,
            _ => return Err(UsageError(format!("option {} not recognized", o))),
        }
    }
    Ok(ServerCommand::Run(Box::new(a)))
}

/// Converts a command-line value again (it was checked when parsed; the
/// filesystem may have changed since, e.g. on a reload).
fn cli<T>(
    value: &Option<String>,
    opt: &str,
    conv: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, UsageError> {
    value
        .as_deref()
        .map(|v| conv(v).map_err(|e| invalid_value(opt, v, &e)))
        .transpose()
}

/// Python's `tempfile.gettempdir()`.
fn tempdir() -> String {
    let env = ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(|k| std::env::var(k).ok());
    let fixed = ["/tmp", "/var/tmp", "/usr/tmp"]
        .iter()
        .map(|s| s.to_string());
    env.chain(fixed)
        .find(|d| Path::new(d).is_dir())
        .map(|d| py_abspath(&d))
        .unwrap_or_else(|| py_abspath("."))
}

/// `ENV_<name>` for every variable of supervisord's environment.
pub(super) fn environ_expansions() -> Expansions {
    let mut m = Expansions::new();
    for (k, v) in std::env::vars_os() {
        m.set(
            &format!("ENV_{}", k.to_string_lossy()),
            Value::Str(v.to_string_lossy().into_owned()),
        );
    }
    m
}

/// The first existing file of the default search list.
pub(super) fn find_default_config(exe: &Path) -> Result<String, Vec<PathBuf>> {
    let paths = search_paths(exe);
    match paths.iter().find(|p| p.exists()) {
        Some(p) => Ok(p.to_string_lossy().into_owned()),
        None => Err(paths),
    }
}

/// Reads a config file into a fresh parser, with the reference's errors.
pub(super) fn read_main_file(configfile: &str) -> Result<ConfigParser, String> {
    if !Path::new(configfile).exists() {
        return Err(format!("could not find config file {}", configfile));
    }
    let mut parser = ConfigParser::new();
    match parser.read_file(Path::new(configfile), configfile) {
        Ok(()) => Ok(parser),
        Err(ReadError::Io(_)) => Err(format!("could not read config file {}", configfile)),
        Err(ReadError::Parse(msg)) => Err(msg),
    }
}

/// `[supervisord]` as read from the file (before the command line wins).
struct SupervisordSection {
    /// The file that defined the section.
    file: String,
    minfds: i64,
    minprocs: i64,
    directory: Option<PathBuf>,
    user: Option<String>,
    umask: u32,
    logfile: PathBuf,
    logfile_maxbytes: i64,
    logfile_backups: i64,
    loglevel: LogLevel,
    pidfile: PathBuf,
    identifier: String,
    nodaemon: bool,
    silent: bool,
    childlogdir: PathBuf,
    nocleanup: bool,
    strip_ansi: bool,
    environment: Vec<(String, String)>,
}

/// Everything read from the config files.
struct FileConfig {
    supervisord: SupervisordSection,
    groups: Vec<super::GroupConfig>,
    servers: Vec<ServerConfig>,
    rpcinterfaces: Vec<RpcInterfaceConfig>,
    warnings: Vec<String>,
    infos: Vec<String>,
}

/// The context shared by the readers of one config.
pub(super) struct Config<'a> {
    pub parser: &'a ConfigParser,
    /// The main file as named on the command line (or found).
    pub configfile: &'a str,
    /// `%(here)s` of the main file.
    pub here: &'a str,
    pub host_node_name: &'a str,
    /// `ENV_*`, extended by `[supervisord] environment`.
    pub env: &'a Expansions,
}

impl<'a> Config<'a> {
    pub fn section(&self, name: &'a str) -> Sect<'a> {
        Sect::new(self.parser, name, self.configfile, self.env)
    }

    pub fn here(&self) -> Expansions {
        strings(&[("here", self.here)])
    }
}

/// Applies `[include]`: globs relative to the main file's directory,
/// matches read in sorted order, `%(here)s` substituted per file.
fn read_includes(
    parser: &mut ConfigParser,
    configfile: &str,
    here: &str,
    names: &Expansions,
    warnings: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Result<(), String> {
    parser.expand_here(here);
    let file = parser
        .section_file("include")
        .unwrap_or(configfile)
        .to_string();
    let Some(files) = parser.get("include", "files") else {
        return Err(located(
            ".ini file has [include] section, but no files setting",
            "include",
            &file,
            Some("files"),
        ));
    };
    let files = expand(files, names, "include.files")
        .map_err(|e| located(&e, "include", &file, Some("files")))?;
    for pattern in files.split_whitespace() {
        let pattern = py_join(here, pattern);
        let matches = glob_sorted(&pattern);
        if matches.is_empty() {
            warnings.push(format!("No file matches via include \"{}\"", pattern));
            continue;
        }
        for filename in matches {
            infos.push(format!(
                "Included extra file \"{}\" during parsing",
                filename
            ));
            match parser.read_file(Path::new(&filename), &filename) {
                // Python's ConfigParser.read skips files it cannot open.
                Err(ReadError::Io(_)) => {}
                Err(ReadError::Parse(msg)) => return Err(msg),
                Ok(()) => parser.expand_here(&py_abspath(py_dirname(&filename))),
            }
        }
    }
    Ok(())
}

/// Python's `sorted(glob.glob(pattern))` (non-recursive: `**` is `*`;
/// leading dots must be matched literally; a malformed pattern is a
/// literal path).
fn glob_sorted(pattern: &str) -> Vec<String> {
    let mut collapsed = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '*' && collapsed.ends_with('*')) {
            collapsed.push(c);
        }
    }
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut found: Vec<String> = match glob::glob_with(&collapsed, opts) {
        Ok(paths) => paths
            .filter_map(Result::ok)
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        Err(_) => {
            let p = Path::new(pattern);
            if p.symlink_metadata().is_ok() {
                vec![pattern.to_string()]
            } else {
                Vec::new()
            }
        }
    };
    found.sort();
    found
}

fn read_supervisord(cfg: &Config) -> Result<SupervisordSection, String> {
    let s = cfg.section("supervisord");
    let here = cfg.here();
    // Read in the reference's order, so that the first bad key is the one
    // reported.
    let minfds = s.typed("minfds", "1024", &here, integer)?;
    let minprocs = s.typed("minprocs", "200", &here, integer)?;
    let directory = s.typed_opt("directory", &here, existing_directory)?;
    let user = s.get("user", &here)?;
    let umask = s.typed("umask", "022", &here, octal)?;
    let logfile = s.typed("logfile", "supervisord.log", &here, existing_dirpath)?;
    let logfile_maxbytes = s.typed("logfile_maxbytes", "50MB", &here, byte_size)?;
    let logfile_backups = s.typed("logfile_backups", "10", &here, integer)?;
    let loglevel = s.typed("loglevel", "info", &here, logging_level)?;
    let pidfile = s.typed("pidfile", "supervisord.pid", &here, existing_dirpath)?;
    let identifier = s.get_or("identifier", "supervisor", &here)?;
    let nodaemon = s.typed("nodaemon", "false", &here, boolean)?;
    let silent = s.typed("silent", "false", &here, boolean)?;
    let childlogdir = s.typed("childlogdir", &tempdir(), &here, existing_directory)?;
    let nocleanup = s.typed("nocleanup", "false", &here, boolean)?;
    let strip_ansi = s.typed("strip_ansi", "false", &here, boolean)?;
    let environ_str = s.get_or("environment", "", &here)?;
    // 4.2.5 expands this value a second time, now with host_node_name.
    let mut names = strings(&[("here", cfg.here), ("host_node_name", cfg.host_node_name)]);
    names.update(cfg.env);
    let environment = expand(&environ_str, &names, "environment")
        .and_then(|v| dict_of_key_value_pairs(&v))
        .map_err(|e| s.err(Some("environment"), e))?;
    Ok(SupervisordSection {
        file: s.file.to_string(),
        minfds,
        minprocs,
        directory,
        user,
        umask,
        logfile,
        logfile_maxbytes,
        logfile_backups,
        loglevel,
        pidfile,
        identifier,
        nodaemon,
        silent,
        childlogdir,
        nocleanup,
        strip_ansi,
        environment,
    })
}

/// The only factory we have: the reference's own namespace.
const MAIN_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
const FACTORY_KEY: &str = "supervisor.rpcinterface_factory";

/// An entry point spec as `pkg_resources` reads it: whitespace around the
/// `:` and at the ends does not matter.
pub(super) fn normalize_spec(spec: &str) -> String {
    match spec.split_once(':') {
        Some((m, a)) => format!("{}:{}", py_strip(m), py_strip(a)),
        None => py_strip(spec).to_string(),
    }
}

/// The keys of a plugin section other than the factory, expanded as the
/// reference expands them (so that malformed values are refused alike).
pub(super) fn check_plugin_extras(
    s: &Sect,
    parser: &ConfigParser,
    factory_key: &str,
) -> Result<(), String> {
    for key in parser.options(s.name) {
        if key != factory_key {
            s.get(&key, &Expansions::new())?;
        }
    }
    Ok(())
}

fn read_rpcinterfaces(cfg: &Config) -> Result<Vec<RpcInterfaceConfig>, String> {
    let mut out = Vec::new();
    for section in cfg.parser.sections() {
        let Some(name) = section.strip_prefix("rpcinterface:") else {
            continue;
        };
        let s = cfg.section(section);
        let none = Expansions::new();
        let Some(spec) = s.get(FACTORY_KEY, &none)? else {
            return Err(s.err(
                None,
                format!("section [{}] does not specify a {}", section, FACTORY_KEY),
            ));
        };
        if normalize_spec(&spec) != MAIN_RPC_FACTORY {
            return Err(s.err(
                Some(FACTORY_KEY),
                format!(
                    "{} cannot be resolved within [{}]: Python plugins are not supported \
                     (the only factory available is {})",
                    spec, section, MAIN_RPC_FACTORY
                ),
            ));
        }
        check_plugin_extras(&s, cfg.parser, FACTORY_KEY)?;
        out.push(RpcInterfaceConfig {
            name: name.to_string(),
            factory: MAIN_RPC_FACTORY.to_string(),
        });
    }
    Ok(out)
}

fn credentials(s: &Sect) -> Result<(Option<String>, Option<String>), String> {
    let none = Expansions::new();
    let username = s.get("username", &none)?;
    let password = s.get("password", &none)?;
    if username.is_some() != password.is_some() {
        let key = if username.is_some() {
            "password"
        } else {
            "username"
        };
        return Err(s.err(
            Some(key),
            format!(
                "Section [{}] contains incomplete authentication: If a username or a password \
                 is specified, both the username and password must be specified",
                s.name
            ),
        ));
    }
    Ok((username, password))
}

fn read_servers(cfg: &Config) -> Result<Vec<ServerConfig>, String> {
    let mut out = Vec::new();
    let none = Expansions::new();
    for section in cfg.parser.sections() {
        if !section.starts_with("inet_http_server") {
            continue;
        }
        let s = cfg.section(section);
        let (username, password) = credentials(&s)?;
        let Some(port) = s.get("port", &none)? else {
            return Err(s.err(
                Some("port"),
                format!("section [{}] has no port value", section),
            ));
        };
        let (host, port) = inet_address(&port).map_err(|e| s.err(Some("port"), e))?;
        out.push(ServerConfig {
            section: section.to_string(),
            family: ServerFamily::Inet { host, port },
            username,
            password,
        });
    }
    for section in cfg.parser.sections() {
        if !section.starts_with("unix_http_server") {
            continue;
        }
        let s = cfg.section(section);
        let Some(file) = s.get("file", &cfg.here())? else {
            return Err(s.err(
                Some("file"),
                format!("section [{}] has no file value", section),
            ));
        };
        let file = normalize_path(py_strip(&file));
        let (username, password) = credentials(&s)?;
        let chown = s.typed_opt("chown", &none, |v| {
            colon_separated_user_group(v).map_err(|_| format!("Invalid sockchown value {}", v))
        })?;
        let chmod = s
            .typed_opt("chmod", &none, |v| {
                octal(v).map_err(|_| format!("Invalid chmod value {}", v))
            })?
            .unwrap_or(0o700);
        out.push(ServerConfig {
            section: section.to_string(),
            family: ServerFamily::Unix { file, chmod, chown },
            username,
            password,
        });
    }
    Ok(out)
}

fn read_config(configfile: &str, here: &str, env: &mut Expansions) -> Result<FileConfig, String> {
    let mut parser = read_main_file(configfile)?;
    let host_node_name = crate::sys::hostname();
    let mut warnings = Vec::new();
    let mut infos = Vec::new();
    if parser.has_section("include") {
        let mut names = strings(&[("here", here), ("host_node_name", &host_node_name)]);
        names.update(env);
        read_includes(
            &mut parser,
            configfile,
            here,
            &names,
            &mut warnings,
            &mut infos,
        )?;
    }
    if !parser.has_section("supervisord") {
        return Err(format!(
            ".ini file does not include supervisord section (file: {})",
            py_repr(configfile)
        ));
    }
    let supervisord = {
        let cfg = Config {
            parser: &parser,
            configfile,
            here,
            host_node_name: &host_node_name,
            env,
        };
        read_supervisord(&cfg)?
    };
    for (k, v) in &supervisord.environment {
        env.set(&format!("ENV_{}", k), Value::Str(v.clone()));
    }
    let cfg = Config {
        parser: &parser,
        configfile,
        here,
        host_node_name: &host_node_name,
        env,
    };
    let rpcinterfaces = read_rpcinterfaces(&cfg)?;
    let mut groups = process_groups(&cfg, &mut warnings)?;
    for group in &mut groups {
        for p in &mut group.processes {
            let mut merged = supervisord.environment.clone();
            for (k, v) in std::mem::take(&mut p.environment) {
                set_ordered(&mut merged, &k, v);
            }
            p.environment = merged;
        }
    }
    let servers = read_servers(&cfg)?;
    Ok(FileConfig {
        supervisord,
        groups,
        servers,
        rpcinterfaces,
        warnings,
        infos,
    })
}

/// The fallback `SUPERVISOR_SERVER_URL`: the first unix server, else (as
/// the reference's loop has it) the last inet server.
fn fallback_serverurl(servers: &[ServerConfig]) -> Option<String> {
    let unix = servers.iter().find_map(|s| match &s.family {
        ServerFamily::Unix { file, .. } => Some(format!("unix://{}", file.display())),
        _ => None,
    });
    unix.or_else(|| {
        servers.iter().rev().find_map(|s| match &s.family {
            ServerFamily::Inet { host, port } => Some(match host.as_str() {
                "" => format!("http://localhost:{}", port),
                h if h.contains(':') => format!("http://[{}]:{}", h, port),
                h => format!("http://{}:{}", h, port),
            }),
            _ => None,
        })
    })
}

fn non_negative(v: i64) -> u64 {
    v.max(0) as u64
}

/// [`super::load_server_options`] for an executable path (argv[0]), which
/// decides the default search list.
pub fn load_server_options_for(args: &ServerArgs, exe: &Path) -> Result<ServerOptions, UsageError> {
    let umask = cli(&args.umask, "-m", octal)?;
    let directory = cli(&args.directory, "-d", existing_directory)?;
    let logfile = cli(&args.logfile, "-l", existing_dirpath)?;
    let logfile_maxbytes = cli(&args.logfile_maxbytes, "-y", byte_size)?;
    let logfile_backups = cli(&args.logfile_backups, "-z", integer)?;
    let loglevel = cli(&args.loglevel, "-e", logging_level)?;
    let pidfile = cli(&args.pidfile, "-j", existing_dirpath)?;
    let childlogdir = cli(&args.childlogdir, "-q", existing_directory)?;
    let minfds = cli(&args.minfds, "-a", integer)?;
    let minprocs = cli(&args.minprocs, "--minprocs", integer)?;

    let configfile = match &args.configfile {
        Some(c) => c.clone(),
        None => {
            if crate::sys::getuid() == 0 {
                eprintln!("{}", ROOT_SEARCH_WARNING);
            }
            find_default_config(exe).map_err(|paths| {
                let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                UsageError(format!(
                    "No config file found at default paths ({}); use the -c option to specify \
                     a config file at a different path",
                    list.join(", ")
                ))
            })?
        }
    };
    let here = py_abspath(py_dirname(&configfile));
    let mut env = environ_expansions();
    let file = read_config(&configfile, &here, &mut env).map_err(UsageError)?;
    let sd = file.supervisord;

    let (user, user_from_cli) = match (&args.user, &sd.user) {
        (Some(u), _) => (Some(u.clone()), true),
        (None, u) => (u.clone(), false),
    };
    let uid = match &user {
        None => None,
        Some(u) => Some(name_to_uid(u).map_err(|e| {
            if user_from_cli {
                invalid_value("-u", u, &e)
            } else {
                UsageError(located(&e, "supervisord", &sd.file, Some("user")))
            }
        })?),
    };
    let gid = match uid {
        Some(uid) => Some(gid_for_uid(uid).map_err(UsageError)?),
        None => None,
    };
    let logfile = logfile.unwrap_or(sd.logfile);
    let logfile = if logfile.as_os_str() == "syslog" {
        MainLogFile::Syslog
    } else {
        MainLogFile::Path(normalize_path(&logfile.to_string_lossy()))
    };
    let pidfile = normalize_path(&pidfile.unwrap_or(sd.pidfile).to_string_lossy());
    let mut parse_criticals = Vec::new();
    if uid.is_none() && crate::sys::getuid() == 0 {
        parse_criticals.push(ROOT_CRITICAL.to_string());
    }
    let serverurl = fallback_serverurl(&file.servers);
    Ok(ServerOptions {
        configfile: PathBuf::from(py_abspath(&configfile)),
        here: PathBuf::from(here),
        nodaemon: args.nodaemon || sd.nodaemon,
        silent: args.silent || sd.silent,
        user,
        uid,
        gid,
        umask: umask.unwrap_or(sd.umask),
        directory: directory.or(sd.directory),
        logfile,
        logfile_maxbytes: non_negative(logfile_maxbytes.unwrap_or(sd.logfile_maxbytes)),
        logfile_backups: logfile_backups.unwrap_or(sd.logfile_backups),
        loglevel: loglevel.unwrap_or(sd.loglevel),
        pidfile,
        identifier: args.identifier.clone().unwrap_or(sd.identifier),
        childlogdir: childlogdir.unwrap_or(sd.childlogdir),
        minfds: non_negative(minfds.unwrap_or(sd.minfds)),
        minprocs: non_negative(minprocs.unwrap_or(sd.minprocs)),
        nocleanup: args.nocleanup || sd.nocleanup,
        strip_ansi: args.strip_ansi || sd.strip_ansi,
        environment: sd.environment,
        groups: file.groups,
        servers: file.servers,
        rpcinterfaces: file.rpcinterfaces,
        serverurl,
        parse_criticals,
        parse_warnings: file.warnings,
        parse_infos: file.infos,
    })
}
