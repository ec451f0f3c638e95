//! echo_supervisord_conf: prints the shipped sample config and ignores its
//! arguments; the reference's option parsers and ours accept what it
//! prints (every commented setting included) and the other shipped configs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, python, TempDir};
use supervisor::options::{
    load_server_options, parse_client_args, ClientCommand, ClientOptions, GroupKind, MainLogFile,
    ServerArgs, ServerFamily, ServerOptions,
};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn echo_conf(args: &[&str]) -> (String, Option<i32>) {
    let out = Command::new(bin("echo_supervisord_conf"))
        .args(args)
        .output()
        .expect("run echo_supervisord_conf");
    (common::stdout(&out), out.status.code())
}

#[test]
fn prints_the_shipped_sample_and_exits_0() {
    let (text, code) = echo_conf(&[]);
    assert_eq!(code, Some(0));
    let first = text.lines().next().unwrap_or("");
    assert!(first.contains("Sample supervisor config file"), "{first}");
    let shipped =
        std::fs::read_to_string(format!("{ROOT}/conf/sample.conf")).expect("read conf/sample.conf");
    assert_eq!(text, shipped);
}

#[test]
fn ignores_its_arguments() {
    let (plain, _) = echo_conf(&[]);
    let (with_args, code) = echo_conf(&["--bogus", "-c", "x.conf", "extra"]);
    assert_eq!(code, Some(0));
    assert_eq!(with_args, plain);
}

#[test]
fn enables_the_same_minimum_as_the_reference() {
    let (text, _) = echo_conf(&[]);
    let enabled: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with(';') && !l.trim().is_empty())
        .collect();
    let sections: Vec<&str> = enabled
        .iter()
        .copied()
        .filter(|l| l.starts_with('['))
        .collect();
    assert_eq!(
        sections,
        [
            "[unix_http_server]",
            "[supervisord]",
            "[rpcinterface:supervisor]",
            "[supervisorctl]"
        ]
    );
    assert!(enabled
        .iter()
        .any(|l| l.starts_with("file=/tmp/supervisor.sock ")));
    assert!(enabled
        .iter()
        .any(|l| l.starts_with("serverurl=unix:///tmp/supervisor.sock ")));
}

/// Runs Python code with the reference installed; its stdout.
fn py(dir: &TempDir, code: &str) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .current_dir(&dir.path)
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::stdout(&out)
}

/// Our supervisord's view of a config file.
fn our_server(path: &Path) -> ServerOptions {
    let args = ServerArgs {
        configfile: Some(path.display().to_string()),
        ..ServerArgs::default()
    };
    load_server_options(&args).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// Our supervisorctl's view of a config file.
fn our_client(path: &Path) -> ClientOptions {
    let argv = ["-c".to_string(), path.display().to_string()];
    match parse_client_args(&argv) {
        Ok(ClientCommand::Run(opts)) => opts,
        other => panic!("{}: {other:?}", path.display()),
    }
}

fn server_sections(opts: &ServerOptions) -> Vec<String> {
    let mut v: Vec<String> = opts.servers.iter().map(|s| s.section.clone()).collect();
    v.sort();
    v
}

/// The sample with every commented-out section and setting enabled, and
/// the example paths, users and program names swapped for ones that exist.
fn sample_all_enabled(dir: &TempDir) -> PathBuf {
    let (text, _) = echo_conf(&[]);
    let enabled: String = text
        .lines()
        .map(|l| match l.strip_prefix(';') {
            Some(rest) if rest.starts_with(|c: char| c == '[' || c.is_ascii_lowercase()) => rest,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let id = Command::new("id").arg("-un").output().expect("run id -un");
    let me = common::stdout(&id).trim().to_string();
    let d = dir.path.display().to_string();
    dir.write(
        "all.conf",
        &enabled
            .replace("/a/path", &format!("{d}/child.log"))
            .replace("progname1,progname2", "theprogramname")
            .replace("chrism:wheel", &me)
            .replace("chrism", &me)
            .replace("user=supervisor ", &format!("user={me} ")),
    )
}

/// conf/supervisord.conf with its /var/log and /run paths moved into `dir`
/// (the directories of log and pid files must exist).
fn system_conf(dir: &TempDir) -> PathBuf {
    let d = dir.path.display().to_string();
    let text = std::fs::read_to_string(format!("{ROOT}/conf/supervisord.conf"))
        .expect("read conf/supervisord.conf")
        .replace("/var/log/supervisor", &d)
        .replace("/run/", &format!("{d}/"));
    dir.write("system.conf", &text)
}

/// The reference's own parsers read the output unchanged: supervisord's
/// view (servers, rpcinterface, log and pid files) and supervisorctl's.
#[test]
fn the_reference_accepts_the_output() {
    let (text, _) = echo_conf(&[]);
    let dir = TempDir::new("confecho");
    let conf = dir.write("sample.conf", &text);
    let code = format!(
        "from supervisor.options import ServerOptions, ClientOptions\n\
         s = ServerOptions()\n\
         s.realize(args=['-c', {conf:?}])\n\
         [srv] = s.server_configs\n\
         print(srv['section'], srv['file'])\n\
         print(s.logfile, s.pidfile, s.loglevel, s.nodaemon)\n\
         print([name for name, _, _ in s.rpcinterface_factories])\n\
         c = ClientOptions()\n\
         c.realize(args=['-c', {conf:?}])\n\
         print(c.serverurl)\n",
        conf = conf.display().to_string()
    );
    assert_eq!(
        py(&dir, &code),
        "unix_http_server /tmp/supervisor.sock\n\
         /tmp/supervisord.log /tmp/supervisord.pid 20 False\n\
         ['supervisor']\n\
         unix:///tmp/supervisor.sock\n"
    );
}

/// Our parsers read it the same way.
#[test]
fn our_parsers_accept_the_output() {
    let (text, _) = echo_conf(&[]);
    let dir = TempDir::new("confours");
    let conf = dir.write("sample.conf", &text);
    let s = our_server(&conf);
    assert_eq!(server_sections(&s), ["unix_http_server"]);
    assert!(matches!(
        &s.servers[0].family,
        ServerFamily::Unix { file, .. } if file == Path::new("/tmp/supervisor.sock")
    ));
    assert_eq!(s.logfile, MainLogFile::Path("/tmp/supervisord.log".into()));
    assert_eq!(s.pidfile, Path::new("/tmp/supervisord.pid"));
    assert!(!s.nodaemon);
    let names: Vec<&str> = s.rpcinterfaces.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["supervisor"]);
    assert!(s.groups.is_empty());
    assert_eq!(our_client(&conf).serverurl, "unix:///tmp/supervisor.sock");
}

/// Every commented-out section and setting is real: with all of them
/// enabled, the reference and our parsers accept the file and build each
/// kind of group.
#[test]
fn every_commented_setting_is_accepted() {
    let dir = TempDir::new("confall");
    let conf = sample_all_enabled(&dir);
    let code = format!(
        "from supervisor.options import ServerOptions, ClientOptions\n\
         s = ServerOptions()\n\
         s.realize(args=['-c', {conf:?}])\n\
         print(sorted((type(g).__name__, g.name) for g in s.process_group_configs))\n\
         print(sorted(c['section'] for c in s.server_configs))\n\
         c = ClientOptions()\n\
         c.realize(args=['-c', {conf:?}])\n\
         print(c.serverurl, c.prompt)\n",
        conf = conf.display().to_string()
    );
    assert_eq!(
        py(&dir, &code),
        "[('EventListenerPoolConfig', 'theeventlistenername'), \
         ('FastCGIGroupConfig', 'thefcgiprogramname'), \
         ('ProcessGroupConfig', 'thegroupname')]\n\
         ['inet_http_server', 'unix_http_server']\n\
         http://127.0.0.1:9001 mysupervisor\n"
    );

    let s = our_server(&conf);
    let mut groups: Vec<(String, &str)> = s
        .groups
        .iter()
        .map(|g| {
            let kind = match g.kind {
                GroupKind::Process => "process",
                GroupKind::EventListenerPool { .. } => "eventlistener",
                GroupKind::FastCgi { .. } => "fcgi",
            };
            (g.name.clone(), kind)
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            ("theeventlistenername".to_string(), "eventlistener"),
            ("thefcgiprogramname".to_string(), "fcgi"),
            ("thegroupname".to_string(), "process"),
        ]
    );
    assert_eq!(
        server_sections(&s),
        ["inet_http_server", "unix_http_server"]
    );
    let c = our_client(&conf);
    assert_eq!(
        (c.serverurl.as_str(), c.prompt.as_str()),
        ("http://127.0.0.1:9001", "mysupervisor")
    );
}

/// The other shipped configs parse, with the reference and with ours: the
/// demo of `make run` as is, the system config moved into a temp dir.
#[test]
fn shipped_configs_are_accepted() {
    let dir = TempDir::new("confship");
    let demo = PathBuf::from(format!("{ROOT}/conf/demo.conf"));
    let system = system_conf(&dir);
    let code = format!(
        "from supervisor.options import ServerOptions\n\
         for path in ({demo:?}, {system:?}):\n\
         \x20   s = ServerOptions()\n\
         \x20   s.realize(args=['-c', path])\n\
         \x20   print(sorted(p.name for g in s.process_group_configs for p in g.process_configs),\n\
         \x20         sorted(c['section'] for c in s.server_configs))\n",
        demo = demo.display().to_string(),
        system = system.display().to_string()
    );
    assert_eq!(
        py(&dir, &code),
        "['clock', 'counter_0', 'counter_1', 'flaky'] ['inet_http_server', 'unix_http_server']\n\
         [] ['unix_http_server']\n"
    );

    let s = our_server(&demo);
    let mut names: Vec<&str> = s
        .groups
        .iter()
        .flat_map(|g| g.processes.iter().map(|p| p.name.as_str()))
        .collect();
    names.sort();
    assert_eq!(names, ["clock", "counter_0", "counter_1", "flaky"]);
    assert_eq!(
        server_sections(&s),
        ["inet_http_server", "unix_http_server"]
    );
    let s = our_server(&system);
    assert!(s.groups.is_empty());
    assert_eq!(server_sections(&s), ["unix_http_server"]);
    assert_eq!(
        our_client(&system).serverurl,
        format!("unix://{}/supervisor.sock", dir.path.display())
    );
}
