//! Tests of config loading as a whole: sections, defaults, numprocs,
//! groups, includes, error messages and both command lines. Expected
//! messages and values were checked against Supervisor 4.2.5.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::datatypes::UNCHANGED_ID;
use crate::events::EventType;
use crate::loggers::LogLevel;

/// A temporary directory, removed on drop.
struct Tmp(PathBuf);

impl Tmp {
    fn new() -> Tmp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "options-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Tmp(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn args_for(conf: &str) -> ServerArgs {
    ServerArgs {
        configfile: Some(conf.to_string()),
        ..Default::default()
    }
}

/// Loads `text` as supervisord.conf in a fresh directory.
fn load_in(tmp: &Tmp, text: &str) -> Result<ServerOptions, String> {
    let conf = tmp.write("supervisord.conf", text);
    load_server_options_for(&args_for(&conf), Path::new("/nonexistent/bin/supervisord"))
        .map_err(|e| e.0)
}

fn load(text: &str) -> ServerOptions {
    let tmp = Tmp::new();
    match load_in(&tmp, text) {
        Ok(o) => o,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

/// The error for `text`, with the temp file name replaced by `F`.
fn load_err(text: &str) -> String {
    let tmp = Tmp::new();
    match load_in(&tmp, text) {
        Ok(_) => panic!("{text:?} loaded"),
        Err(e) => e.replace(&tmp.path("supervisord.conf"), "F"),
    }
}

const SD: &str = "[supervisord]\n";

fn program(extra: &str) -> String {
    format!("{SD}[program:foo]\ncommand=/bin/cat\n{extra}\n")
}

fn only_process(o: &ServerOptions) -> &ProcessConfig {
    assert_eq!(o.groups.len(), 1);
    assert_eq!(o.groups[0].processes.len(), 1);
    &o.groups[0].processes[0]
}

/// A variable of this process's environment that reads back unchanged
/// through a config value (tests must not change the environment: other
/// threads read it).
fn some_env_var() -> (String, String) {
    std::env::vars()
        .find(|(k, v)| {
            k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !v.is_empty()
                && v.trim() == v
                && !v.contains(['%', ';', '#', '\n'])
        })
        .expect("an environment variable")
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ------------------------------------------------------------ supervisord

#[test]
fn supervisord_defaults() {
    let tmp = Tmp::new();
    let o = load_in(&tmp, SD).unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(o.configfile, PathBuf::from(tmp.path("supervisord.conf")));
    assert_eq!(o.here, tmp.0);
    assert_eq!(o.logfile, MainLogFile::Path(cwd.join("supervisord.log")));
    assert_eq!(o.pidfile, cwd.join("supervisord.pid"));
    assert_eq!(o.logfile_maxbytes, 50 * 1024 * 1024);
    assert_eq!(o.logfile_backups, 10);
    assert_eq!(o.loglevel, LogLevel::Info);
    assert_eq!(o.umask, 0o22);
    assert!(!o.nodaemon && !o.silent && !o.nocleanup && !o.strip_ansi);
    assert_eq!(o.minfds, 1024);
    assert_eq!(o.minprocs, 200);
    assert_eq!(o.identifier, "supervisor");
    assert!(o.childlogdir.is_absolute() && o.childlogdir.is_dir());
    assert_eq!(o.directory, None);
    assert_eq!(o.user, None);
    assert_eq!(o.uid, None);
    assert!(o.environment.is_empty());
    assert!(o.groups.is_empty() && o.servers.is_empty() && o.rpcinterfaces.is_empty());
    assert_eq!(o.serverurl, None);
    assert!(o.parse_warnings.is_empty() && o.parse_infos.is_empty());
    // This test may run as root: then the reference's critical is there.
    let root = crate::sys::getuid() == 0;
    assert_eq!(o.parse_criticals.len(), usize::from(root));
    if root {
        assert!(o.parse_criticals[0].starts_with("Supervisor is running as root.  Privileges"));
    }
}

#[test]
fn supervisord_values() {
    let tmp = Tmp::new();
    let text = "[supervisord]\nlogfile=%(here)s/x.log\nlogfile_maxbytes=1KB\nlogfile_backups=3\n\
         loglevel=BLATHER\npidfile=%(here)s/x.pid\numask=077\nnodaemon=true\nsilent=on\n\
         minfds=10\nminprocs=20\nnocleanup=yes\nchildlogdir=%(here)s\nuser=root\n\
         directory=%(here)s\nstrip_ansi=1\nidentifier=ID\nenvironment=A=\"x,y\",B=2\n";
    let o = load_in(&tmp, text).unwrap();
    assert_eq!(o.logfile, MainLogFile::Path(tmp.0.join("x.log")));
    assert_eq!(o.pidfile, tmp.0.join("x.pid"));
    assert_eq!(o.logfile_maxbytes, 1024);
    assert_eq!(o.logfile_backups, 3);
    assert_eq!(o.loglevel, LogLevel::Blather);
    assert_eq!(o.umask, 0o77);
    assert!(o.nodaemon && o.silent && o.nocleanup && o.strip_ansi);
    assert_eq!((o.minfds, o.minprocs), (10, 20));
    assert_eq!(o.childlogdir, tmp.0);
    assert_eq!(o.directory, Some(tmp.0.clone()));
    assert_eq!(
        (o.user.as_deref(), o.uid, o.gid),
        (Some("root"), Some(0), Some(0))
    );
    assert!(o.parse_criticals.is_empty());
    assert_eq!(o.identifier, "ID");
    assert_eq!(
        o.environment,
        vec![("A".into(), "x,y".into()), ("B".into(), "2".into())]
    );
    let o = load("[supervisord]\nlogfile=syslog\n");
    assert_eq!(o.logfile, MainLogFile::Syslog);
}

#[test]
fn supervisord_errors_name_file_section_and_key() {
    let cases = [
        ("nodaemon=maybe", "not a valid boolean value: 'maybe' in section 'supervisord' (file: 'F') for key 'nodaemon'"),
        ("minfds=abc", "invalid literal for int() with base 10: 'abc' in section 'supervisord' (file: 'F') for key 'minfds'"),
        ("logfile_maxbytes=12XB", "invalid literal for int() with base 10: '12xb' in section 'supervisord' (file: 'F') for key 'logfile_maxbytes'"),
        ("logfile=/nonexistent_x/x.log", "The directory named as part of the path /nonexistent_x/x.log does not exist in section 'supervisord' (file: 'F') for key 'logfile'"),
        ("umask=9", "9 can not be converted to an octal type in section 'supervisord' (file: 'F') for key 'umask'"),
        ("user=nosuchuser_x", "Invalid user name nosuchuser_x in section 'supervisord' (file: 'F') for key 'user'"),
        ("loglevel=x", "bad logging level name 'x' in section 'supervisord' (file: 'F') for key 'loglevel'"),
        ("childlogdir=/nonexistent_x", "/nonexistent_x is not an existing directory in section 'supervisord' (file: 'F') for key 'childlogdir'"),
        ("environment=A", "Unexpected end of key/value pairs in value 'A' in section 'supervisord' (file: 'F') for key 'environment'"),
        // 4.2.5 expands this value twice: host_node_name is not known the
        // first time, and %% becomes a bare % the second time.
        ("environment=X=%%", "Format string 'X=%' for 'environment' is badly formatted: incomplete format in section 'supervisord' (file: 'F') for key 'environment'"),
    ];
    for (line, want) in cases {
        assert_eq!(load_err(&format!("{SD}{line}\n")), want, "{line}");
    }
    let e = load_err("[supervisord]\nenvironment=X=%(host_node_name)s\n");
    assert!(e.starts_with("Format string 'X=%(host_node_name)s' for 'supervisord.environment' contains names ('host_node_name') which cannot be expanded. Available names: "), "{e}");
    assert!(
        e.ends_with(", here in section 'supervisord' (file: 'F') for key 'environment'"),
        "{e}"
    );
    let e = load_err("[supervisord]\nidentifier=%(foo)s\n");
    assert!(
        e.contains("for 'supervisord.identifier' contains names ('foo')"),
        "{e}"
    );
    let o = load("[supervisord]\nenvironment=X=\"a%%%%b\"\n");
    assert_eq!(o.environment, vec![("X".into(), "a%b".into())]);
}

#[test]
fn file_level_errors() {
    assert_eq!(
        load_err("[program:x]\ncommand=y\n"),
        ".ini file does not include supervisord section (file: 'F')"
    );
    assert_eq!(
        load_err("garbage\n"),
        "File contains no section headers. file: 'F', line: 1 'garbage\\n'"
    );
    assert_eq!(
        load_err("[supervisord]\nfoo\n"),
        "Source contains parsing errors: 'F' [line  2]: 'foo\\n'"
    );
    let r = load_server_options_for(&args_for("/nonexistent_x/s.conf"), Path::new("supervisord"));
    assert_eq!(
        r.unwrap_err().0,
        "could not find config file /nonexistent_x/s.conf"
    );
    let tmp = Tmp::new();
    let r = load_server_options_for(&args_for(&tmp.path("")), Path::new("supervisord"));
    assert!(r.unwrap_err().0.starts_with("could not read config file "));
}

#[test]
fn command_line_wins_over_file() {
    let tmp = Tmp::new();
    let conf = tmp.write(
        "s.conf",
        "[supervisord]\nloglevel=debug\nidentifier=file\numask=077\nlogfile=syslog\n",
    );
    let args = ServerArgs {
        configfile: Some(conf),
        nodaemon: true,
        silent: true,
        loglevel: Some("warn".into()),
        identifier: Some("cli".into()),
        umask: Some("002".into()),
        logfile: Some(tmp.path("cli.log")),
        pidfile: Some(tmp.path("cli.pid")),
        logfile_maxbytes: Some("1MB".into()),
        logfile_backups: Some("2".into()),
        childlogdir: Some(tmp.path("")),
        directory: Some(tmp.path("")),
        minfds: Some("5".into()),
        minprocs: Some("6".into()),
        user: Some("0".into()),
        ..Default::default()
    };
    let o = load_server_options_for(&args, Path::new("supervisord")).unwrap();
    assert!(o.nodaemon && o.silent);
    assert_eq!(o.loglevel, LogLevel::Warn);
    assert_eq!(o.identifier, "cli");
    assert_eq!(o.umask, 0o2);
    assert_eq!(o.logfile, MainLogFile::Path(tmp.0.join("cli.log")));
    assert_eq!(o.pidfile, tmp.0.join("cli.pid"));
    assert_eq!(o.logfile_maxbytes, 1 << 20);
    assert_eq!(o.logfile_backups, 2);
    assert_eq!((o.minfds, o.minprocs), (5, 6));
    assert_eq!(o.uid, Some(0));
    let bad_user = ServerArgs {
        user: Some("nosuchuser_x".into()),
        ..args_for(&tmp.write("t.conf", SD))
    };
    assert_eq!(
        load_server_options_for(&bad_user, Path::new("supervisord"))
            .unwrap_err()
            .0,
        "invalid value for -u 'nosuchuser_x': Invalid user name nosuchuser_x"
    );
}

#[test]
fn config_discovery() {
    let tmp = Tmp::new();
    let exe = tmp.0.join("bin/supervisord");
    let found = tmp.write("etc/supervisord.conf", SD);
    let args = ServerArgs::default();
    let o = load_server_options_for(&args, &exe).unwrap();
    assert_eq!(o.configfile, PathBuf::from(found));
    assert_eq!(o.here, tmp.0.join("etc"));
    assert_eq!(
        search_paths(Path::new("/usr/bin/supervisord")),
        [
            "/usr/etc/supervisord.conf",
            "/usr/supervisord.conf",
            "supervisord.conf",
            "etc/supervisord.conf",
            "/etc/supervisord.conf",
            "/etc/supervisor/supervisord.conf"
        ]
        .map(PathBuf::from)
    );
    assert_eq!(
        search_paths(Path::new("supervisord"))[..2],
        ["etc/supervisord.conf", "supervisord.conf"].map(PathBuf::from)
    );
    assert_eq!(
        search_paths(Path::new("/supervisord"))[..2],
        ["/etc/supervisord.conf", "/supervisord.conf"].map(PathBuf::from)
    );
}

#[test]
fn no_config_found_message() {
    let tmp = Tmp::new();
    let exe = tmp.0.join("bin/supervisord");
    let paths = search_paths(&exe);
    // Only meaningful where no default config exists (as on build hosts).
    if paths.iter().all(|p| !p.exists()) {
        let e = load_server_options_for(&ServerArgs::default(), &exe).unwrap_err();
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            e.0,
            format!(
                "No config file found at default paths ({}); use the -c option to specify a \
                 config file at a different path",
                list.join(", ")
            )
        );
    }
}

// --------------------------------------------------------------- programs

#[test]
fn program_defaults() {
    let o = load(&program(""));
    let g = &o.groups[0];
    assert_eq!((g.name.as_str(), g.priority), ("foo", 999));
    assert_eq!(g.kind, GroupKind::Process);
    let p = only_process(&o);
    assert_eq!(p.name, "foo");
    assert_eq!(p.command, "/bin/cat");
    assert_eq!(p.directory, None);
    assert_eq!(p.umask, None);
    assert_eq!(p.priority, 999);
    assert!(p.autostart);
    assert_eq!(p.autorestart, AutoRestart::Unexpected);
    assert_eq!((p.startsecs, p.startretries), (1, 3));
    assert_eq!(p.uid, None);
    let chan = ChannelConfig {
        logfile: LogFile::Auto,
        maxbytes: 50 * 1024 * 1024,
        backups: 10,
        capture_maxbytes: 0,
        events_enabled: false,
        syslog: false,
    };
    assert_eq!(p.stdout, chan);
    assert_eq!(p.stderr, chan);
    assert_eq!(p.stopsignal, libc::SIGTERM);
    assert_eq!(p.stopwaitsecs, 10);
    assert!(!p.stopasgroup && !p.killasgroup);
    assert_eq!(p.exitcodes, vec![0]);
    assert!(!p.redirect_stderr);
    assert!(p.environment.is_empty());
    assert_eq!(p.serverurl, None);
}

#[test]
fn program_values() {
    let tmp = Tmp::new();
    let text = program(&format!(
        "priority=5\nautostart=false\nautorestart=true\nstartsecs=0\nstartretries=7\n\
         user=root\nstdout_logfile={d}/out.log\nstdout_logfile_maxbytes=1KB\n\
         stdout_logfile_backups=2\nstdout_capture_maxbytes=1MB\nstdout_events_enabled=true\n\
         stdout_syslog=true\nstderr_logfile=NONE\nstopsignal=kill\nstopwaitsecs=3\n\
         stopasgroup=true\nexitcodes=0,2\ndirectory=/nonexistent_is_fine\numask=002\n\
         serverurl=http://x:1\nCommand = /bin/echo %(program_name)s %(group_name)s\n",
        d = tmp.path("")
    ));
    let o = load_in(&tmp, &text).unwrap();
    let p = only_process(&o);
    assert_eq!(o.groups[0].priority, 5);
    assert_eq!(p.command, "/bin/echo foo foo");
    assert_eq!(p.priority, 5);
    assert!(!p.autostart);
    assert_eq!(p.autorestart, AutoRestart::True);
    assert_eq!((p.startsecs, p.startretries), (0, 7));
    assert_eq!(p.uid, Some(0));
    assert_eq!(
        p.stdout,
        ChannelConfig {
            logfile: LogFile::Path(tmp.0.join("out.log")),
            maxbytes: 1024,
            backups: 2,
            capture_maxbytes: 1 << 20,
            events_enabled: true,
            syslog: true,
        }
    );
    assert_eq!(p.stderr.logfile, LogFile::None);
    assert_eq!(p.stopsignal, libc::SIGKILL);
    assert_eq!(p.stopwaitsecs, 3);
    // killasgroup defaults to stopasgroup.
    assert!(p.stopasgroup && p.killasgroup);
    assert_eq!(p.exitcodes, vec![0, 2]);
    assert_eq!(p.directory.as_deref(), Some("/nonexistent_is_fine"));
    assert_eq!(p.umask, Some(0o2));
    assert_eq!(p.serverurl.as_deref(), Some("http://x:1"));
    let o = load(&program("serverurl= auto "));
    assert_eq!(only_process(&o).serverurl, None);
}

#[test]
fn program_errors_name_file_section_and_key() {
    let loc = |key: &str| format!(" in section 'program:foo' (file: 'F') for key '{key}'");
    let cases = [
        ("autostart=maybe", format!("not a valid boolean value: 'maybe'{}", loc("autostart"))),
        ("startsecs=x", format!("invalid literal for int() with base 10: 'x'{}", loc("startsecs"))),
        ("stopsignal=FOO", format!("value 'FOO' is not a valid signal name{}", loc("stopsignal"))),
        ("stopsignal=99", format!("value '99' is not a valid signal number{}", loc("stopsignal"))),
        ("exitcodes=1,256", format!("not a valid list of exit codes: '1,256'{}", loc("exitcodes"))),
        ("autorestart=x", format!("invalid 'autorestart' value 'x'{}", loc("autorestart"))),
        ("user=nosuchuser_x", format!("Invalid user name nosuchuser_x{}", loc("user"))),
        ("user=3999999", format!("Invalid user id 3999999{}", loc("user"))),
        ("umask=8", format!("8 can not be converted to an octal type{}", loc("umask"))),
        ("stdout_logfile=/nonexistent_x/x", format!("The directory named as part of the path /nonexistent_x/x does not exist{}", loc("stdout_logfile"))),
        ("numprocs=2", format!("%(process_num) must be present within process_name when numprocs > 1{}", loc("process_name"))),
        ("process_name=a b", format!("Invalid name: 'a b' because of character: ' '{}", loc("process_name"))),
        ("stopasgroup=true\nkillasgroup=false", format!("Cannot set stopasgroup=true and killasgroup=false{}", loc("killasgroup"))),
        ("environment=A", format!("Unexpected end of key/value pairs in value 'A'{}", loc("environment"))),
        ("command=100%", format!("Format string '100%' for 'program:foo.command' is badly formatted: incomplete format{}", loc("command"))),
        ("stdout_logfile_maxbytes=5x", format!("invalid literal for int() with base 10: '5x'{}", loc("stdout_logfile_maxbytes"))),
        // *_logfile is expanded twice, as in 4.2.5.
        ("stdout_logfile=/tmp/100%%.log", format!("Format string '/tmp/100%.log' for 'stdout_logfile' is badly formatted: %o format: an integer is required, not dict{}", loc("stdout_logfile"))),
        ("priority=1.5", format!("invalid literal for int() with base 10: '1.5'{}", loc("priority"))),
    ];
    for (line, want) in cases {
        assert_eq!(load_err(&program(line)), want, "{line}");
    }
    assert_eq!(
        load_err(&format!("{SD}[program:foo]\n")),
        "program section program:foo does not specify a command in section 'program:foo' (file: 'F') for key 'command'"
    );
    assert_eq!(
        load_err(&format!("{SD}[program:a b]\ncommand=x\n")),
        "Invalid name: 'a b' because of character: ' ' in section 'program:a b' (file: 'F')"
    );
    let e = load_err(&program("directory=%(foo)s"));
    assert!(e.starts_with("Format string '%(foo)s' for 'program:foo.directory' contains names ('foo') which cannot be expanded. Available names: "), "{e}");
    for name in [
        "group_name",
        "here",
        "host_node_name",
        "numprocs",
        "process_num",
        "program_name",
    ] {
        assert!(e.contains(name), "{name} in {e}");
    }
    // priority is first read with `here` only, as in the reference.
    let e = load_err(&program("priority=%(program_name)s"));
    assert!(
        e.ends_with(", here in section 'program:foo' (file: 'F') for key 'priority'"),
        "{e}"
    );
}

#[test]
fn numprocs_expansion() {
    let tmp = Tmp::new();
    let text = program(&format!(
        "numprocs=3\nnumprocs_start=8\nprocess_name=%(program_name)s_%(process_num)d\n\
         environment=N=\"%(process_num)02d\"\nstdout_logfile={d}/%(ENV_N)s-%(numprocs)d.log\n\
         command=/bin/echo %(ENV_N)s\ndirectory=/d/%(process_num)x",
        d = tmp.path("")
    ));
    let o = load_in(&tmp, &text).unwrap();
    let names: Vec<&str> = o.groups[0]
        .processes
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    // Sorted by name as strings.
    assert_eq!(names, ["foo_10", "foo_8", "foo_9"]);
    let p10 = &o.groups[0].processes[0];
    assert_eq!(p10.command, "/bin/echo 10");
    assert_eq!(p10.environment, vec![("N".into(), "10".into())]);
    assert_eq!(p10.stdout.logfile, LogFile::Path(tmp.0.join("10-3.log")));
    assert_eq!(p10.directory.as_deref(), Some("/d/a"));
    let o = load(&program("numprocs=0"));
    assert!(o.groups[0].processes.is_empty());
    // A section's own ENV_ names are not usable in its environment value.
    let e = load_err(&program("environment=A=1,B=%(ENV_A)s"));
    assert!(e.contains("contains names ('ENV_A')"), "{e}");
    let e = load_err(&program("numprocs=2\nprocess_name=x%(process_num)0.0s"));
    assert_eq!(
        e,
        "duplicate process name 'x' in this group in section 'program:foo' (file: 'F') for key 'process_name'"
    );
}

#[test]
fn environment_merge_and_env_names() {
    let o = load(
        "[supervisord]\nenvironment=A=1,B=2\n[program:foo]\ncommand=/bin/x %(ENV_A)s\n\
         environment=C=3,B=9\n",
    );
    let p = only_process(&o);
    assert_eq!(p.command, "/bin/x 1");
    assert_eq!(
        p.environment,
        vec![
            ("A".into(), "1".into()),
            ("B".into(), "9".into()),
            ("C".into(), "3".into())
        ]
    );
    let (name, value) = some_env_var();
    let o = load(&program(&format!("command=/bin/x %(ENV_{name})s")));
    assert_eq!(only_process(&o).command, format!("/bin/x {value}"));
}

#[test]
fn logfile_warnings() {
    let tmp = Tmp::new();
    let text = program(&format!(
        "stdout_logfile=syslog\nstderr_logfile_maxbytes=0\n[program:bar]\ncommand=x\n\
         redirect_stderr=true\nstderr_logfile={}/e.log\n",
        tmp.path("")
    ));
    let o = load_in(&tmp, &text).unwrap();
    assert_eq!(
        o.parse_warnings,
        strs(&[
            "For [program:foo], stdout_logfile=syslog but this is deprecated and will be removed.  Use stdout_syslog=true to enable syslog instead.",
            "For [program:foo], AUTO logging used for stderr_logfile without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally",
            "For [program:bar], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored",
        ])
    );
    let foo = &o.groups[1].processes[0];
    assert_eq!(foo.stdout.logfile, LogFile::None);
    assert!(foo.stdout.syslog);
    let bar = &o.groups[0].processes[0];
    assert_eq!(bar.stderr.logfile, LogFile::None);
    assert!(bar.redirect_stderr);
}

#[test]
fn group_sorting() {
    let o = load(&format!(
        "{SD}[program:b]\ncommand=x\n[program:a]\ncommand=x\n[program:z]\ncommand=x\n\
         priority=1\n[eventlistener:e]\ncommand=x\nevents=TICK_5\n"
    ));
    let names: Vec<&str> = o.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["e", "z", "a", "b"]);
}

#[test]
fn heterogeneous_groups() {
    let o = load(&format!(
        "{SD}[group:g]\nprograms=a,b\npriority=3\n[program:a]\ncommand=x\npriority=5\n\
         [program:b]\ncommand=y\npriority=1\n[program:c]\ncommand=z\n"
    ));
    let names: Vec<&str> = o.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["g", "c"]);
    assert_eq!(o.groups[0].priority, 3);
    let procs: Vec<&str> = o.groups[0]
        .processes
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(procs, ["a", "b"]);
    let o = load(&format!("{SD}[group:g]\n"));
    assert!(o.groups[0].processes.is_empty());
    // A member fcgi-program is a plain program there.
    let o = load(&format!(
        "{SD}[group:g]\nprograms=f\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\n"
    ));
    assert_eq!(o.groups.len(), 1);
    assert_eq!(o.groups[0].kind, GroupKind::Process);
    let loc = " in section 'group:g' (file: 'F') for key 'programs'";
    assert_eq!(
        load_err(&format!(
            "{SD}[group:g]\nprograms=a,zz\n[program:a]\ncommand=x\n"
        )),
        format!("[group:g] names unknown program or fcgi-program zz{loc}")
    );
    assert_eq!(
        load_err(&format!(
            "{SD}[group:g]\nprograms=a\n[program:a]\ncommand=x\n[fcgi-program:a]\ncommand=x\nsocket=tcp://h:1\n"
        )),
        format!("[group:g] name a is ambiguous (exists as program and fcgi-program){loc}")
    );
    assert_eq!(
        load_err(&format!(
            "{SD}[group:g]\nprograms=a,a\n[program:a]\ncommand=x\n"
        )),
        format!("duplicate process name 'a' in this group{loc}")
    );
    assert_eq!(
        load_err(&format!("{SD}[group:g x]\nprograms=\n")),
        "Invalid name: 'g x' because of character: ' ' in section 'group:g x' (file: 'F')"
    );
    assert_eq!(
        load_err(&format!(
            "{SD}[group:a]\nprograms=b\n[program:b]\ncommand=x\n[program:a]\ncommand=x\n"
        )),
        "process group name 'a' is already used by section [group:a] in section 'program:a' (file: 'F')"
    );
}

#[test]
fn event_listeners() {
    let o = load(&format!(
        "{SD}[eventlistener:e]\ncommand=x\nevents=tick_5, process_state,TICK_5\n"
    ));
    let g = &o.groups[0];
    assert_eq!(g.priority, -1);
    assert_eq!(
        g.kind,
        GroupKind::EventListenerPool {
            buffer_size: 10,
            events: vec![EventType::Tick5, EventType::ProcessState],
        }
    );
    // Only the pool defaults to -1; its processes keep 999.
    assert_eq!(g.processes[0].priority, 999);
    let o = load(&format!(
        "{SD}[eventlistener:e]\ncommand=x\nevents=EVENT\nbuffer_size=3\npriority=4\n\
         result_handler = supervisor.dispatchers : default_handler\n"
    ));
    assert_eq!(o.groups[0].priority, 4);
    let ev = |extra: &str| load_err(&format!("{SD}[eventlistener:e]\ncommand=x\n{extra}\n"));
    let loc = |k: &str| format!(" in section 'eventlistener:e' (file: 'F') for key '{k}'");
    assert_eq!(
        ev(""),
        format!(
            "[eventlistener:e] section requires an \"events\" line{}",
            loc("events")
        )
    );
    assert_eq!(
        ev("events="),
        format!(
            "[eventlistener:e] section requires an \"events\" line{}",
            loc("events")
        )
    );
    assert_eq!(
        ev("events=FOO"),
        format!(
            "Unknown event type FOO in [eventlistener:e] events{}",
            loc("events")
        )
    );
    assert_eq!(
        ev("events=TICK_5,"),
        format!(
            "Unknown event type  in [eventlistener:e] events{}",
            loc("events")
        )
    );
    assert_eq!(
        ev("events=TICK_5\nbuffer_size=0"),
        format!(
            "[eventlistener:e] section sets invalid buffer_size (0){}",
            loc("buffer_size")
        )
    );
    assert_eq!(
        ev("events=TICK_5\nredirect_stderr=true"),
        format!("[eventlistener:e] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol{}", loc("redirect_stderr"))
    );
    let e = ev("events=TICK_5\nresult_handler=foo:bar");
    assert!(e.starts_with("foo:bar cannot be resolved within [eventlistener:e]: Python entry points are not supported"), "{e}");
    assert!(e.ends_with(&loc("result_handler")), "{e}");
}

#[test]
fn fastcgi_programs() {
    let fc = |extra: &str| format!("{SD}[fcgi-program:f]\ncommand=x\n{extra}\n");
    let sock = |extra: &str| match &load(&fc(extra)).groups[0].kind {
        GroupKind::FastCgi { socket } => socket.clone(),
        k => panic!("{k:?}"),
    };
    assert_eq!(
        sock("socket=tcp://LocalHost:9002"),
        SocketConfig::Tcp {
            host: "localhost".into(),
            port: 9002,
            backlog: None
        }
    );
    assert_eq!(
        sock("socket=unix:///tmp/../tmp/%(program_name)s.sock\nsocket_owner=0:0\nsocket_backlog=5\nsocket_mode=0777"),
        SocketConfig::Unix { path: "/tmp/f.sock".into(), owner: Some((0, 0)), mode: 0o777, backlog: Some(5) }
    );
    assert_eq!(
        sock("socket=unix:///tmp/f.sock\nsocket_owner=root"),
        SocketConfig::Unix {
            path: "/tmp/f.sock".into(),
            owner: Some((0, UNCHANGED_ID)),
            mode: 0o700,
            backlog: None
        }
    );
    assert_eq!(sock("socket=tcp://h:1").url(), "tcp://h:1");
    let loc = |k: &str| format!(" in section 'fcgi-program:f' (file: 'F') for key '{k}'");
    let cases = [
        ("", format!("[fcgi-program:f] section requires a \"socket\" line{}", loc("socket"))),
        ("socket=tcp://:9002", format!("Bad socket format tcp://:9002 in [fcgi-program:f] socket{}", loc("socket"))),
        ("socket=TCP://h:1", format!("Bad socket format TCP://h:1 in [fcgi-program:f] socket{}", loc("socket"))),
        ("socket=unix://rel/path", format!("Unix socket path rel/path is not an absolute path in [fcgi-program:f] socket{}", loc("socket"))),
        ("socket=tcp://h:99999", format!("99999 is above upper bound (65535) in [fcgi-program:f] socket{}", loc("socket"))),
        ("socket=tcp://h:0", format!("0 is below lower bound (1) in [fcgi-program:f] socket{}", loc("socket"))),
        ("socket=tcp://h:1\nsocket_mode=0777", format!("socket_owner and socket_mode params should only be used with a Unix domain socket in [fcgi-program:f] socket{}", loc("socket"))),
        ("socket=unix:///tmp/f.sock\nsocket_backlog=0", format!("Invalid socket_backlog value 0{}", loc("socket_backlog"))),
        ("socket=unix:///tmp/f.sock\nsocket_mode=9", format!("Invalid socket_mode value 9{}", loc("socket_mode"))),
        ("socket=unix:///tmp/f.sock\nsocket_owner=nosuchuser_x", format!("Invalid socket_owner value nosuchuser_x{}", loc("socket_owner"))),
    ];
    for (extra, want) in cases {
        assert_eq!(load_err(&fc(extra)), want, "{extra}");
    }
}

#[test]
fn default_section_is_inherited() {
    let o = load("[DEFAULT]\nstartsecs=7\n[supervisord]\n[program:a]\ncommand=x\n");
    assert_eq!(only_process(&o).startsecs, 7);
    // ... by [supervisord] too.
    let o = load("[DEFAULT]\nidentifier=dflt\n[supervisord]\n");
    assert_eq!(o.identifier, "dflt");
}

// ---------------------------------------------------------------- include

#[test]
fn includes() {
    let tmp = Tmp::new();
    tmp.write("conf.d/a.conf", "[program:a]\ncommand=/bin/a %(here)s\n");
    tmp.write(
        "other/b.ini",
        "[program:b]\ncommand=/bin/b %(here)s\n[program:a]\npriority=3\n",
    );
    tmp.write("other/.hidden.ini", "[program:hidden]\ncommand=x\n");
    std::fs::create_dir_all(tmp.0.join("conf.d/d.conf")).unwrap();
    let o = load_in(
        &tmp,
        "[supervisord]\nlogfile=%(here)s/sd.log\n[DEFAULT]\ndirectory=%(here)s\n\
         [include]\nfiles = conf.d/*.conf\n  other/*.ini nomatch/*.x\n",
    )
    .unwrap();
    let d = tmp.path("");
    assert_eq!(o.logfile, MainLogFile::Path(tmp.0.join("sd.log")));
    let names: Vec<&str> = o.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let a = &o.groups[0].processes[0];
    assert_eq!(a.command, format!("/bin/a {d}conf.d"));
    assert_eq!(a.directory, Some(format!("{d}conf.d")));
    assert_eq!(a.priority, 3);
    let b = &o.groups[1].processes[0];
    assert_eq!(b.command, format!("/bin/b {d}other"));
    assert_eq!(
        o.parse_warnings,
        vec![format!("No file matches via include \"{d}nomatch/*.x\"")]
    );
    assert_eq!(
        o.parse_infos,
        vec![
            format!("Included extra file \"{d}conf.d/a.conf\" during parsing"),
            format!("Included extra file \"{d}conf.d/d.conf\" during parsing"),
            format!("Included extra file \"{d}other/b.ini\" during parsing"),
        ]
    );
}

#[test]
fn include_errors_name_the_included_file() {
    let tmp = Tmp::new();
    let inc = tmp.write("inc/c.ini", "[program:c]\ncommand=x\nautostart=maybe\n");
    let e = load_in(&tmp, "[supervisord]\n[include]\nfiles=inc/*.ini\n").unwrap_err();
    assert_eq!(
        e,
        format!("not a valid boolean value: 'maybe' in section 'program:c' (file: '{inc}') for key 'autostart'")
    );
    tmp.write("inc/c.ini", "[program:c]\nbad line\n");
    let e = load_in(&tmp, "[supervisord]\n[include]\nfiles=inc/*.ini\n").unwrap_err();
    assert_eq!(
        e,
        format!("Source contains parsing errors: '{inc}' [line  2]: 'bad line\\n'")
    );
    tmp.write("inc/c.ini", "nohead=1\n");
    let e = load_in(&tmp, "[supervisord]\n[include]\nfiles=inc/*.ini\n").unwrap_err();
    assert_eq!(
        e,
        format!("File contains no section headers. file: '{inc}', line: 1 'nohead=1\\n'")
    );
    assert_eq!(
        load_err("[supervisord]\n[include]\n"),
        ".ini file has [include] section, but no files setting in section 'include' (file: 'F') for key 'files'"
    );
    let e = load_err("[supervisord]\n[include]\nfiles=%(nope)s\n");
    assert!(
        e.starts_with("Format string '%(nope)s' for 'include.files' contains names ('nope')"),
        "{e}"
    );
    // Absolute patterns are used as they are.
    let abs = Tmp::new();
    let f = abs.write("x.conf", "[program:x]\ncommand=y\n");
    let o = load_in(&tmp, &format!("[supervisord]\n[include]\nfiles={f}\n")).unwrap();
    assert_eq!(o.groups[0].name, "x");
}

// ---------------------------------------------------------------- servers

#[test]
fn http_servers() {
    let tmp = Tmp::new();
    let o = load_in(
        &tmp,
        "[supervisord]\n[unix_http_server]\nfile=%(here)s/../s.sock\nchmod=0777\nchown=0:0\n\
         [inet_http_server]\nport=127.0.0.1:9001\nusername=u\npassword={SHA}x\n\
         [inet_http_serverX]\nport=*:9002\n[unix_http_server:two]\nfile=/tmp/two.sock\n",
    )
    .unwrap();
    let parent = tmp.0.parent().unwrap().join("s.sock");
    assert_eq!(
        o.servers,
        vec![
            ServerConfig {
                section: "inet_http_server".into(),
                family: ServerFamily::Inet {
                    host: "127.0.0.1".into(),
                    port: 9001
                },
                username: Some("u".into()),
                password: Some("{SHA}x".into()),
            },
            ServerConfig {
                section: "inet_http_serverX".into(),
                family: ServerFamily::Inet {
                    host: "".into(),
                    port: 9002
                },
                username: None,
                password: None,
            },
            ServerConfig {
                section: "unix_http_server".into(),
                family: ServerFamily::Unix {
                    file: parent.clone(),
                    chmod: 0o777,
                    chown: Some((0, 0))
                },
                username: None,
                password: None,
            },
            ServerConfig {
                section: "unix_http_server:two".into(),
                family: ServerFamily::Unix {
                    file: "/tmp/two.sock".into(),
                    chmod: 0o700,
                    chown: None
                },
                username: None,
                password: None,
            },
        ]
    );
    assert_eq!(o.serverurl, Some(format!("unix://{}", parent.display())));
    let url = |t: &str| load(&format!("{SD}{t}")).serverurl;
    // Without a unix server: the last inet server, localhost for "all".
    assert_eq!(
        url("[inet_http_server]\nport=h1:1\n[inet_http_server:b]\nport=9001\n"),
        Some("http://localhost:9001".into())
    );
    assert_eq!(
        url("[inet_http_server]\nport=[::1]:9001\n"),
        Some("http://[::1]:9001".into())
    );
    let cases = [
        ("[inet_http_server]\n", "section [inet_http_server] has no port value in section 'inet_http_server' (file: 'F') for key 'port'"),
        ("[inet_http_server]\nport=9001\nusername=u\n", "Section [inet_http_server] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified in section 'inet_http_server' (file: 'F') for key 'password'"),
        ("[inet_http_server]\nport=host:\n", "no port number specified in '' in section 'inet_http_server' (file: 'F') for key 'port'"),
        ("[inet_http_server]\nport=abc\n", "not a valid port number: 'abc'  in section 'inet_http_server' (file: 'F') for key 'port'"),
        ("[inet_http_server]\nport=%(here)s\n", ""),
        ("[unix_http_server]\n", "section [unix_http_server] has no file value in section 'unix_http_server' (file: 'F') for key 'file'"),
        ("[unix_http_server]\nfile=s.sock\nchmod=9\n", "Invalid chmod value 9 in section 'unix_http_server' (file: 'F') for key 'chmod'"),
        ("[unix_http_server]\nfile=s.sock\nchown=root:nosuchgroup_x\n", "Invalid sockchown value root:nosuchgroup_x in section 'unix_http_server' (file: 'F') for key 'chown'"),
    ];
    for (text, want) in cases {
        let e = load_err(&format!("{SD}{text}"));
        if want.is_empty() {
            assert!(
                e.contains("for 'inet_http_server.port' contains names ('here')"),
                "{e}"
            );
        } else {
            assert_eq!(e, want, "{text}");
        }
    }
}

#[test]
fn rpc_interfaces() {
    let o = load(&format!(
        "{SD}[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
    ));
    assert_eq!(
        o.rpcinterfaces,
        vec![RpcInterfaceConfig {
            name: "supervisor".into(),
            factory: "supervisor.rpcinterface:make_main_rpcinterface".into(),
        }]
    );
    let e = load_err(&format!(
        "{SD}[rpcinterface:x]\nsupervisor.rpcinterface_factory = my.module:factory\n"
    ));
    assert!(e.starts_with("my.module:factory cannot be resolved within [rpcinterface:x]: Python plugins are not supported"), "{e}");
    assert!(
        e.ends_with(
            " in section 'rpcinterface:x' (file: 'F') for key 'supervisor.rpcinterface_factory'"
        ),
        "{e}"
    );
    assert_eq!(
        load_err(&format!("{SD}[rpcinterface:x]\nfoo=bar\n")),
        "section [rpcinterface:x] does not specify a supervisor.rpcinterface_factory in section 'rpcinterface:x' (file: 'F')"
    );
}

// ------------------------------------------------------------ command line

fn sargs(v: &[&str]) -> Result<ServerCommand, String> {
    parse_server_args_as("/usr/bin/supervisord", &strs(v)).map_err(|e| e.0)
}

#[test]
fn server_command_line() {
    let run = |v: &[&str]| match sargs(v) {
        Ok(ServerCommand::Run(a)) => *a,
        other => panic!("{v:?}: {other:?}"),
    };
    let a = run(&[
        "-ct.conf",
        "-nsk",
        "--strip",
        "-e",
        "DEBUG",
        "--logfile=x.log",
        "-y",
        "1KB",
        "-z",
        "3",
        "-j",
        "p.pid",
        "-i",
        "id",
        "-q",
        "/tmp",
        "-a",
        "9",
        "--minp",
        "8",
        "-d",
        "/",
        "-m",
        "077",
        "-u",
        "nobody",
        "--profile_options",
        "cumulative",
    ]);
    assert_eq!(
        a,
        ServerArgs {
            configfile: Some("t.conf".into()),
            nodaemon: true,
            silent: true,
            user: Some("nobody".into()),
            umask: Some("077".into()),
            directory: Some("/".into()),
            logfile: Some("x.log".into()),
            logfile_maxbytes: Some("1KB".into()),
            logfile_backups: Some("3".into()),
            loglevel: Some("DEBUG".into()),
            pidfile: Some("p.pid".into()),
            identifier: Some("id".into()),
            childlogdir: Some("/tmp".into()),
            nocleanup: true,
            minfds: Some("9".into()),
            minprocs: Some("8".into()),
            strip_ansi: true,
            profile_options: Some("cumulative".into()),
        }
    );
    assert_eq!(run(&[]), ServerArgs::default());
    assert_eq!(sargs(&["-v"]), Ok(ServerCommand::Version));
    assert_eq!(sargs(&["--vers"]), Ok(ServerCommand::Version));
    let errors = [
        (vec!["--bogus"], "option --bogus not recognized"),
        (vec!["-x"], "option -x not recognized"),
        (vec!["--log"], "option --log not a unique prefix"),
        (vec!["--min", "3"], "option --min not a unique prefix"),
        (vec!["--logfile"], "option --logfile requires argument"),
        (vec!["-c"], "option -c requires argument"),
        (vec!["--nodaemon=1"], "option --nodaemon must not have an argument"),
        (vec!["foo"], "positional arguments are not supported: ['foo']"),
        (vec!["-c", "a", "-", "x"], "positional arguments are not supported: ['-', 'x']"),
        (vec!["--", "-n"], "positional arguments are not supported: ['-n']"),
        (vec!["-c", "a", "-c", "b"], "conflicting command line option '-c'"),
        (vec!["-n", "--nodaemon"], "conflicting command line option '--nodaemon'"),
        (vec!["-e", "bogus"], "invalid value for -e 'bogus': bad logging level name 'bogus'"),
        (vec!["--logl", "x"], "invalid value for --loglevel 'x': bad logging level name 'x'"),
        (vec!["-m", "9"], "invalid value for -m '9': 9 can not be converted to an octal type"),
        (vec!["-d", "/nonexistent_x"], "invalid value for -d '/nonexistent_x': /nonexistent_x is not an existing directory"),
        (vec!["-l", "/nonexistent_x/x"], "invalid value for -l '/nonexistent_x/x': The directory named as part of the path /nonexistent_x/x does not exist"),
        (vec!["-y", "5x"], "invalid value for -y '5x': invalid literal for int() with base 10: '5x'"),
        (vec!["-z", "x"], "invalid value for -z 'x': invalid literal for int() with base 10: 'x'"),
        (vec!["-a", "x"], "invalid value for -a 'x': invalid literal for int() with base 10: 'x'"),
        (vec!["--minprocs", "x"], "invalid value for --minprocs 'x': invalid literal for int() with base 10: 'x'"),
        (vec!["-q", "/nonexistent_x"], "invalid value for -q '/nonexistent_x': /nonexistent_x is not an existing directory"),
        // Options are handled in order: an error before -h wins.
        (vec!["-e", "bogus", "-h"], "invalid value for -e 'bogus': bad logging level name 'bogus'"),
        (vec!["-h", "--bogus"], "option --bogus not recognized"),
        (vec!["-m", "7", "-m", "9"], "invalid value for -m '9': 9 can not be converted to an octal type"),
    ];
    for (v, want) in errors {
        assert_eq!(sargs(&v), Err(want.to_string()), "{v:?}");
    }
}

#[test]
fn server_help() {
    for flag in ["-h", "-?", "--help", "--he"] {
        let Ok(ServerCommand::Help(text)) = sargs(&[flag, "-e", "bogus"]) else {
            panic!("{flag}");
        };
        assert!(text.starts_with("supervisord -- run a set of applications as daemons.\n\nUsage: /usr/bin/supervisord [options]\n"));
        assert!(text.contains("\n-l/--logfile FILENAME -- use FILENAME as logfile path\n"));
        assert!(text.ends_with("e.g. 'cumulative,callers')\n\n"));
    }
    let Ok(ServerCommand::Help(text)) = sargs(&["-hn"]) else {
        panic!()
    };
    assert_eq!(text.lines().count(), 30);
}

// ---------------------------------------------------------------- client

fn cargs(v: &[&str]) -> Result<ClientCommand, String> {
    parse_client_args_as("/nonexistent_x/bin/supervisorctl", &strs(v)).map_err(|e| e.0)
}

fn client(v: &[&str]) -> ClientOptions {
    match cargs(v) {
        Ok(ClientCommand::Run(o)) => o,
        other => panic!("{v:?}: {other:?}"),
    }
}

#[test]
fn client_defaults_without_config() {
    let o = client(&["status", "foo"]);
    assert_eq!(
        o,
        ClientOptions {
            configfile: None,
            interactive: false,
            prompt: "supervisor".into(),
            serverurl: "http://localhost:9001".into(),
            username: None,
            password: None,
            history_file: None,
            args: strs(&["status", "foo"]),
            warnings: vec![],
        }
    );
    assert!(client(&[]).interactive);
    assert!(client(&["-i", "status"]).interactive);
    let o = client(&[
        "-s",
        "unix:///tmp/s.sock",
        "-u",
        "me",
        "-p",
        "pw",
        "-r",
        "/tmp/h",
        "status",
        "-x",
    ]);
    assert_eq!(o.serverurl, "unix:///tmp/s.sock");
    assert_eq!(
        (o.username.as_deref(), o.password.as_deref()),
        (Some("me"), Some("pw"))
    );
    assert_eq!(o.history_file, Some(PathBuf::from("/tmp/h")));
    assert_eq!(o.args, strs(&["status", "-x"]));
    // --history is a prefix of --history_file and takes "status".
    let o = client(&["--history", "status"]);
    assert!(o.args.is_empty() && o.interactive);
}

#[test]
fn client_config() {
    let tmp = Tmp::new();
    let (name, value) = some_env_var();
    let conf = tmp.write(
        "c.conf",
        &format!(
            "[supervisorctl]\nserverurl=unix://%(here)s/../s.sock\nusername=%(ENV_{name})s\n\
             password=pw\nprompt=mine\nhistory_file=%(here)s/h\n[ctlplugin:x]\n\
             supervisor.ctl_factory=mod:fn\n"
        ),
    );
    let o = client(&["-c", &conf, "status"]);
    assert_eq!(o.configfile, Some(PathBuf::from(&conf)));
    assert_eq!(
        o.serverurl,
        format!(
            "unix://{}",
            tmp.0.parent().unwrap().join("s.sock").display()
        )
    );
    assert_eq!(o.username.as_deref(), Some(value.as_str()));
    assert_eq!(o.password.as_deref(), Some("pw"));
    assert_eq!(o.prompt, "mine");
    assert_eq!(o.history_file, Some(tmp.0.join("h")));
    assert_eq!(
        o.warnings,
        strs(&["Warning: [ctlplugin:x] ignored: supervisor.ctl_factory mod:fn is a Python plugin, which is not supported"])
    );
    let o = client(&[
        "-c",
        &conf,
        "-s",
        "http://h:1",
        "-u",
        "cli",
        "-r",
        "/tmp/h2",
    ]);
    assert_eq!(o.serverurl, "http://h:1");
    assert_eq!(o.username.as_deref(), Some("cli"));
    assert_eq!(o.history_file, Some(PathBuf::from("/tmp/h2")));
    let bare = tmp.write("bare.conf", "[supervisorctl]\n");
    let o = client(&["-c", &bare]);
    assert_eq!(o.serverurl, "http://localhost:9001");
    assert_eq!(o.prompt, "supervisor");
    assert_eq!(o.history_file, None);
}

#[test]
fn client_errors() {
    let tmp = Tmp::new();
    let noctl = tmp.write("n.conf", "[supervisord]\n");
    let bad = tmp.write("b.conf", "garbage\n");
    let plugin = tmp.write("p.conf", "[supervisorctl]\n[ctlplugin:x]\nfoo=1\n");
    let errors = [
        (vec!["--bogus"], "option --bogus not recognized".to_string()),
        (vec!["-s", "foo://", "status"], "invalid value for -s 'foo://': value 'foo://' is not a URL".into()),
        (vec!["-c", "/nonexistent_x"], "could not find config file /nonexistent_x".into()),
        (vec!["-u", "a", "-u", "b"], "conflicting command line option '-u'".into()),
        (vec!["-c", &noctl], format!(".ini file does not include supervisorctl section (file: '{noctl}')")),
        (vec!["-c", &bad], format!("File contains no section headers. file: '{bad}', line: 1 'garbage\\n'")),
        (vec!["-c", &plugin], format!("section [ctlplugin:x] does not specify a supervisor.ctl_factory in section 'ctlplugin:x' (file: '{plugin}')")),
    ];
    for (v, want) in errors {
        assert_eq!(cargs(&v), Err(want), "{v:?}");
    }
    let Ok(ClientCommand::Help(text)) = cargs(&["-h", "-c"]).or_else(|_| cargs(&["-h"])) else {
        panic!()
    };
    assert!(text.starts_with("supervisorctl -- control applications run by supervisord from the cmd line.\n\nUsage: /nonexistent_x/bin/supervisorctl [options] [action [arguments]]\n"));
    assert!(text
        .contains("\n-i/--interactive -- start an interactive shell after executing commands\n"));
}

// ------------------------------------------------------------------ misc

#[test]
fn namespecs() {
    assert_eq!(split_namespec("g:p"), ("g".into(), Some("p".into())));
    assert_eq!(split_namespec("g:*"), ("g".into(), None));
    assert_eq!(split_namespec("g:"), ("g".into(), None));
    assert_eq!(split_namespec("name"), ("name".into(), Some("name".into())));
    assert_eq!(split_namespec("a:b:c"), ("a".into(), Some("b:c".into())));
    assert_eq!(make_namespec("g", "p"), "g:p");
    assert_eq!(make_namespec("p", "p"), "p");
}

#[test]
fn section_keys_cover_every_kind() {
    let kinds: Vec<&str> = SECTION_KEYS.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds,
        [
            "supervisord",
            "program",
            "eventlistener",
            "fcgi-program",
            "group",
            "include",
            "unix_http_server",
            "inet_http_server",
            "supervisorctl",
            "rpcinterface"
        ]
    );
    let keys = |kind: &str| {
        SECTION_KEYS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| *v)
            .unwrap_or(&[])
    };
    assert_eq!(keys("program").len(), 32);
    assert!(keys("eventlistener").contains(&"result_handler"));
    assert!(keys("fcgi-program").contains(&"socket_mode"));
    assert!(keys("fcgi-program").contains(&"stdout_syslog"));
}

#[test]
fn unreadable_or_odd_configs_never_panic() {
    let tmp = Tmp::new();
    for text in [
        "", "[supervisord]\n[program:]\ncommand=x\n", "[supervisord]\n[program:x]\ncommand=%(",
        "[supervisord]\n[program:x]\ncommand=x\nnumprocs=-3\n",
        "[supervisord]\n[program:x]\ncommand=x\nnumprocs_start=9223372036854775807\nprocess_name=%(process_num)d\n",
        "[supervisord]\n[eventlistener:x]\nevents=\u{df}\ncommand=x\n",
        "[supervisord]\n[include]\nfiles=[\n", "[supervisord]\n[include]\nfiles=**/*\n",
    ] {
        let _ = load_in(&tmp, text);
    }
}

/// Random text built from the characters that matter to the parsers.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn text(&mut self, len: usize) -> String {
        const PIECES: &[&str] = &[
            "%",
            "(",
            ")",
            "s",
            "d",
            "0",
            "5",
            ".",
            "#",
            ";",
            ":",
            "=",
            " ",
            "\n",
            "\t",
            "[",
            "]",
            "\"",
            "'",
            "\\",
            "é",
            "\u{2028}",
            "x",
            "*",
            "-",
            "+",
            "l",
            ",",
            "\r",
            "%(here)s",
            "[program:",
            "command",
            "numprocs",
            "process_num",
            "ENV_",
            "%(process_num)",
        ];
        (0..len)
            .map(|_| PIECES[(self.next() % PIECES.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn random_input_never_panics() {
    use crate::datatypes::*;
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut names = expand::Expansions::new();
    names.set("here", expand::Value::Str("/h".into()));
    names.set("process_num", expand::Value::Int(3));
    for _ in 0..3000 {
        let t = noise.text(12);
        let _ = expand::expand(&t, &names, "k");
        let _ = configparser::ConfigParser::new().read_string(&t, "f");
        let _ = dict_of_key_value_pairs(&t);
        let _ = shlex_split(&t);
        let _ = (
            byte_size(&t),
            octal(&t),
            signal_number(&t),
            inet_address(&t),
            url(&t),
        );
        let _ = (
            list_of_exitcodes(&t),
            process_or_group_name(&t),
            py_repr(&t),
        );
        let _ = getopt::getopt(&[t.clone(), t.clone()], "h?c:", &["help", "conf="]);
    }
    let tmp = Tmp::new();
    for _ in 0..200 {
        let body = noise.text(30);
        let _ = load_in(
            &tmp,
            &format!("[supervisord]\n[program:p]\ncommand=x\n{body}"),
        );
    }
}
