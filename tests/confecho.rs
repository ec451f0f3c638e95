//! echo_supervisord_conf: prints the shipped sample config, ignores its
//! arguments, and the reference's option parsers accept what it prints;
//! the other shipped configs (demo, system) parse too.

mod common;

use std::process::Command;

use common::{bin, python, TempDir};

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
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/sample.conf"))
        .expect("read conf/sample.conf");
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

/// The reference's own parsers read the output unchanged: supervisord's
/// view (servers, rpcinterface, log and pid files) and supervisorctl's.
#[test]
fn the_reference_accepts_the_output() {
    let (text, _) = echo_conf(&[]);
    let dir = TempDir::new("confecho");
    let conf = dir.write("sample.conf", &text);
    let code = format!(
        "import sys\n\
         from supervisor.options import ServerOptions, ClientOptions\n\
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
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .current_dir(&dir.path)
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        common::stdout(&out),
        "unix_http_server /tmp/supervisor.sock\n\
         /tmp/supervisord.log /tmp/supervisord.pid 20 False\n\
         ['supervisor']\n\
         unix:///tmp/supervisor.sock\n"
    );
}

/// Every commented-out section and setting is real: with all of them
/// enabled (example paths and users swapped for ones that exist here), the
/// reference still accepts the file and builds each kind of group.
#[test]
fn every_commented_setting_is_accepted_by_the_reference() {
    let (text, _) = echo_conf(&[]);
    let enabled: String = text
        .lines()
        .map(|l| match l.strip_prefix(';') {
            Some(rest) if rest.starts_with(|c: char| c == '[' || c.is_ascii_lowercase()) => rest,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = TempDir::new("confall");
    let d = dir.path.display().to_string();
    let conf = dir.write(
        "all.conf",
        &enabled
            .replace("/a/path", &format!("{d}/child.log"))
            .replace("progname1,progname2", "theprogramname"),
    );
    let code = format!(
        "import os, pwd\n\
         from supervisor.options import ServerOptions, ClientOptions\n\
         me = pwd.getpwuid(os.getuid()).pw_name\n\
         path = {conf:?}\n\
         text = open(path).read()\n\
         for u in ('chrism:wheel', 'chrism', 'user=supervisor '):\n\
         \x20   text = text.replace(u, 'user=' + me + ' ' if u.startswith('user=') else me)\n\
         open(path, 'w').write(text)\n\
         s = ServerOptions()\n\
         s.realize(args=['-c', path])\n\
         print(sorted((type(g).__name__, g.name) for g in s.process_group_configs))\n\
         print(sorted(c['section'] for c in s.server_configs))\n\
         c = ClientOptions()\n\
         c.realize(args=['-c', path])\n\
         print(c.serverurl, c.prompt)\n",
        conf = conf.display().to_string()
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .current_dir(&dir.path)
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        common::stdout(&out),
        "[('EventListenerPoolConfig', 'theeventlistenername'), \
         ('FastCGIGroupConfig', 'thefcgiprogramname'), \
         ('ProcessGroupConfig', 'thegroupname')]\n\
         ['inet_http_server', 'unix_http_server']\n\
         http://127.0.0.1:9001 mysupervisor\n"
    );
}

/// The other shipped configs parse with the reference: the demo of
/// `make run` as is, the system config with its /var/log and /run paths
/// moved into a temp dir (their directories must exist).
#[test]
fn shipped_configs_are_accepted_by_the_reference() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = TempDir::new("confship");
    let d = dir.path.display().to_string();
    let system = std::fs::read_to_string(format!("{root}/conf/supervisord.conf"))
        .expect("read conf/supervisord.conf")
        .replace("/var/log/supervisor", &d)
        .replace("/run/", &format!("{d}/"));
    let system = dir.write("system.conf", &system);
    let code = format!(
        "from supervisor.options import ServerOptions\n\
         for path in ({demo:?}, {system:?}):\n\
         \x20   s = ServerOptions()\n\
         \x20   s.realize(args=['-c', path])\n\
         \x20   print(sorted(p.name for g in s.process_group_configs for p in g.process_configs),\n\
         \x20         sorted(c['section'] for c in s.server_configs))\n",
        demo = format!("{root}/conf/demo.conf"),
        system = system.display().to_string()
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .current_dir(&dir.path)
        .output()
        .expect("run python");
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        common::stdout(&out),
        "['clock', 'counter_0', 'counter_1', 'flaky'] ['inet_http_server', 'unix_http_server']\n\
         [] ['unix_http_server']\n"
    );
}
