//! Interop: a corpus of config files is read both by the reference
//! (Supervisor 4.2.5's `ServerOptions.realize` in the venv) and by
//! `supervisor::options`, and the resulting settings are compared field by
//! field. Errors must carry the reference's message (ours adds where).

// The shared harness trips one clippy lint (reported to the lead).
mod common;

use std::process::Command;

use supervisor::options::{
    load_server_options_for, AutoRestart, ChannelConfig, GroupKind, LogFile, MainLogFile,
    ServerArgs, ServerFamily, ServerOptions,
};

/// Prints, per config file given, the same dump as `dump()` below, or
/// `ERROR <message>`.
const REFERENCE_DUMP: &str = r#"
import sys, socket
from supervisor.options import ServerOptions
from supervisor.datatypes import Automatic, RestartWhenExitUnexpected, RestartUnconditionally

class Exit(Exception):
    pass

def lf(v):
    if v is Automatic: return 'AUTO'
    if v is None: return 'NONE'
    return str(v)

def ar(v):
    return {RestartWhenExitUnexpected: 'unexpected', RestartUnconditionally: 'true', False: 'false'}[v]

def env(d):
    return ','.join('%s=%s' % kv for kv in d.items())

def chan(p, c):
    g = lambda k: getattr(p, '%s_%s' % (c, k))
    return '%s:%s:%s:%s:%s:%s' % (lf(g('logfile')), g('logfile_maxbytes'), g('logfile_backups'),
        g('capture_maxbytes'), g('events_enabled'), g('syslog'))

for path in sys.argv[1:]:
    o = ServerOptions()
    msgs = []
    o.usage = lambda m: (msgs.append(str(m)), (_ for _ in ()).throw(Exit()))
    try:
        o.realize(['-c', path])
    except Exit:
        print('ERROR ' + msgs[0].replace('\n\t', ' ').replace('\n', ' '))
        print('END')
        continue
    print('options logfile=%s pidfile=%s umask=%o loglevel=%s ident=%s nodaemon=%s silent=%s '
          'minfds=%s minprocs=%s childlogdir=%s directory=%s nocleanup=%s strip_ansi=%s uid=%s '
          'serverurl=%s env=%s' % (o.logfile, o.pidfile, o.umask, o.loglevel, o.identifier,
          bool(o.nodaemon), bool(o.silent), o.minfds, o.minprocs, o.childlogdir, o.directory,
          bool(o.nocleanup), bool(o.strip_ansi), o.uid, o.serverurl,
          env(o.configroot.supervisord.environment)))
    for c in o.server_configs:
        if c['family'] == socket.AF_INET:
            print('inet %s %s %s %s %s' % (c['section'], c['host'], c['port'], c['username'], c['password']))
        else:
            print('unix %s %s %o %s %s %s' % (c['section'], c['file'], c['chmod'], c['chown'], c['username'], c['password']))
    for g in o.process_group_configs:
        kind = type(g).__name__
        extra = ''
        if kind == 'EventListenerPoolConfig':
            extra = ' %s %s' % (g.buffer_size, ','.join(sorted(e.__name__ for e in g.pool_events)))
        elif kind == 'FastCGIGroupConfig':
            extra = ' %s' % g.socket_config.url
        print('group %s %s %s%s' % (g.name, g.priority, kind, extra))
        for p in g.process_configs:
            print('  proc %s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s' % (
                p.name, p.command, p.directory, p.umask, p.priority, p.autostart, ar(p.autorestart),
                p.startsecs, p.startretries, p.uid, chan(p, 'stdout'), chan(p, 'stderr'),
                int(p.stopsignal), p.stopwaitsecs, p.stopasgroup, p.killasgroup,
                ','.join(map(str, p.exitcodes)), p.redirect_stderr, env(p.environment), p.serverurl))
    for m in o.parse_warnings: print('WARN ' + m)
    for m in o.parse_infos: print('INFO ' + m)
    print('END')
"#;

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "None".to_string())
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn env(pairs: &[(String, String)]) -> String {
    let v: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    v.join(",")
}

fn logfile(l: &LogFile) -> String {
    match l {
        LogFile::Auto => "AUTO".into(),
        LogFile::None => "NONE".into(),
        LogFile::Path(p) => p.display().to_string(),
    }
}

fn chan(c: &ChannelConfig) -> String {
    format!(
        "{}:{}:{}:{}:{}:{}",
        logfile(&c.logfile),
        c.maxbytes,
        c.backups,
        c.capture_maxbytes,
        py_bool(c.events_enabled),
        py_bool(c.syslog)
    )
}

fn dump(o: &ServerOptions) -> String {
    let mut out = String::new();
    let logfile = match &o.logfile {
        MainLogFile::Syslog => "syslog".to_string(),
        MainLogFile::Path(p) => p.display().to_string(),
    };
    out.push_str(&format!(
        "options logfile={} pidfile={} umask={:o} loglevel={} ident={} nodaemon={} silent={} \
         minfds={} minprocs={} childlogdir={} directory={} nocleanup={} strip_ansi={} uid={} \
         serverurl={} env={}\n",
        logfile,
        o.pidfile.display(),
        o.umask,
        o.loglevel as i32,
        o.identifier,
        py_bool(o.nodaemon),
        py_bool(o.silent),
        o.minfds,
        o.minprocs,
        o.childlogdir.display(),
        opt(&o.directory.as_ref().map(|d| d.display())),
        py_bool(o.nocleanup),
        py_bool(o.strip_ansi),
        opt(&o.uid),
        opt(&o.serverurl),
        env(&o.environment)
    ));
    for s in &o.servers {
        match &s.family {
            ServerFamily::Inet { host, port } => out.push_str(&format!(
                "inet {} {} {} {} {}\n",
                s.section,
                host,
                port,
                opt(&s.username),
                opt(&s.password)
            )),
            ServerFamily::Unix { file, chmod, chown } => {
                let chown = match chown {
                    None => "(-1, -1)".to_string(),
                    Some((u, g)) => {
                        let id = |x: u32| if x == u32::MAX { -1 } else { x as i64 };
                        format!("({}, {})", id(*u), id(*g))
                    }
                };
                out.push_str(&format!(
                    "unix {} {} {:o} {} {} {}\n",
                    s.section,
                    file.display(),
                    chmod,
                    chown,
                    opt(&s.username),
                    opt(&s.password)
                ))
            }
        }
    }
    for g in &o.groups {
        let (kind, extra) = match &g.kind {
            GroupKind::Process => ("ProcessGroupConfig", String::new()),
            GroupKind::EventListenerPool {
                buffer_size,
                events,
            } => {
                let mut names: Vec<String> = events
                    .iter()
                    .map(|e| {
                        // The reference's class names: TICK_5 -> Tick5Event.
                        let camel: String = e
                            .name()
                            .split('_')
                            .map(|w| {
                                let mut cs = w.chars();
                                match cs.next() {
                                    Some(f) => f.to_string() + &cs.as_str().to_lowercase(),
                                    None => String::new(),
                                }
                            })
                            .collect();
                        match camel.as_str() {
                            "Event" => camel,
                            _ => format!("{camel}Event"),
                        }
                    })
                    .collect();
                names.sort();
                (
                    "EventListenerPoolConfig",
                    format!(" {} {}", buffer_size, names.join(",")),
                )
            }
            GroupKind::FastCgi { socket } => ("FastCGIGroupConfig", format!(" {}", socket.url())),
        };
        out.push_str(&format!(
            "group {} {} {}{}\n",
            g.name, g.priority, kind, extra
        ));
        for p in &g.processes {
            let ar = match p.autorestart {
                AutoRestart::Unexpected => "unexpected",
                AutoRestart::True => "true",
                AutoRestart::False => "false",
            };
            let codes: Vec<String> = p.exitcodes.iter().map(|c| c.to_string()).collect();
            out.push_str(&format!(
                "  proc {}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}\n",
                p.name,
                p.command,
                opt(&p.directory),
                opt(&p.umask),
                p.priority,
                py_bool(p.autostart),
                ar,
                p.startsecs,
                p.startretries,
                opt(&p.uid),
                chan(&p.stdout),
                chan(&p.stderr),
                p.stopsignal,
                p.stopwaitsecs,
                py_bool(p.stopasgroup),
                py_bool(p.killasgroup),
                codes.join(","),
                py_bool(p.redirect_stderr),
                env(&p.environment),
                opt(&p.serverurl)
            ));
        }
    }
    for m in &o.parse_warnings {
        out.push_str(&format!("WARN {m}\n"));
    }
    for m in &o.parse_infos {
        out.push_str(&format!("INFO {m}\n"));
    }
    out
}

/// Configs both implementations must read alike. `@D@` is the temp dir.
const CORPUS: &[&str] = &[
    "[supervisord]\n",
    "[supervisord]\nlogfile=@D@/sd.log\nlogfile_maxbytes=1KB\nlogfile_backups=2\nloglevel=TRACE\n\
     pidfile=%(here)s/sd.pid\numask=0o77\nnodaemon=on\nsilent=1\nminfds=5\nminprocs=6\n\
     childlogdir=%(here)s\ndirectory=/\nnocleanup=true\nstrip_ansi=yes\nidentifier=x%%y\n\
     environment=A=\"x,y\",B='q r',C=%(ENV_HOME)s\nuser=root\n",
    "[supervisord]\nlogfile=syslog\n",
    "[supervisord]\nenvironment=X=\"a%%%%b\"\n",
    "[supervisord]\nenvironment=A=1,B=2\n[program:foo]\ncommand=/bin/cat %(ENV_A)s\n\
     environment=C=3,B=9\nnumprocs=3\nnumprocs_start=8\nprocess_name=%(program_name)s_%(process_num)d\n\
     stdout_logfile=@D@/%(ENV_C)s-%(process_num)02d.log\ndirectory=/d/%(process_num)x\n",
    "[supervisord]\n[program:foo]\ncommand = /bin/cat ; comment\n  --flag\nautostart=FALSE\n\
     autorestart=true\nstartsecs=0\nstartretries=9\nstopsignal=sigint\nstopwaitsecs=1\n\
     stopasgroup=true\nexitcodes=0, 2\nredirect_stderr=true\nstderr_logfile=@D@/e.log\n\
     stdout_logfile=syslog\nstdout_capture_maxbytes=1MB\nstdout_events_enabled=1\numask=002\n\
     serverurl=AUTO\nuser=0\npriority=-5\nstderr_logfile_maxbytes=0\n",
    "[supervisord]\n[program:foo]\ncommand=x\nstdout_logfile=NONE\nstderr_logfile=off\n\
     stdout_syslog=true\nserverurl=http://h:1\nstdout_logfile_maxbytes=0\n",
    "[supervisord]\n[group:g]\nprograms=b,a\npriority=3\n[program:a]\ncommand=x\npriority=5\n\
     [program:b]\ncommand=y\npriority=1\n[program:c]\ncommand=z\n[group:h]\n",
    "[supervisord]\n[eventlistener:e]\ncommand=x\nevents=tick_5, process_state,TICK_5\n\
     buffer_size=3\n[eventlistener:f]\ncommand=y\nevents=EVENT\npriority=2\nnumprocs=2\n\
     process_name=f%(process_num)s\n",
    "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=tcp://LocalHost:9002\n\
     [fcgi-program:g]\ncommand=x\nsocket=unix:///tmp/../tmp/%(program_name)s.sock\n\
     socket_owner=0:0\n",
    "[supervisord]\n[unix_http_server]\nfile=%(here)s/../s.sock\nchmod=0777\nchown=0:0\n\
     [inet_http_server]\nport=127.0.0.1:9001\nusername=u\npassword={SHA}x\n\
     [inet_http_serverX]\nport=*:9002\n[unix_http_server:two]\nfile=/tmp/two.sock\n\
     username=a\npassword=b\nchown=root\n",
    "[supervisord]\n[inet_http_server]\nport=h1:1\n[inet_http_server:b]\nport=9001\n",
    "[DEFAULT]\nstartsecs=7\nidentifier=dflt\n[supervisord]\n[program:a]\ncommand=x\n",
    "[supervisord]\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = \
     supervisor.rpcinterface:make_main_rpcinterface\n",
    "[supervisord]\n[include]\nfiles = conf.d/*.conf\n  other/*.ini nomatch/*.x\n\
     [DEFAULT]\ndirectory=%(here)s\n",
    // Errors.
    "[program:x]\ncommand=y\n",
    "garbage\n",
    "[supervisord]\nfoo\n=bar\n",
    "[supervisord]\nnodaemon=maybe\n",
    "[supervisord]\nminfds=abc\n",
    "[supervisord]\nlogfile_maxbytes=12XB\n",
    "[supervisord]\numask=9\n",
    "[supervisord]\nuser=nosuchuser_x\n",
    "[supervisord]\nloglevel=x\n",
    "[supervisord]\nenvironment=X=%%\n",
    "[supervisord]\nenvironment=X=%(host_node_name)s\n",
    "[supervisord]\n[program:foo]\ncommand=x\nautostart=maybe\n",
    "[supervisord]\n[program:foo]\ncommand=x\nstopsignal=FOO\n",
    "[supervisord]\n[program:foo]\ncommand=x\nstopsignal=99\n",
    "[supervisord]\n[program:foo]\ncommand=x\nexitcodes=1,256\n",
    "[supervisord]\n[program:foo]\ncommand=x\nnumprocs=2\n",
    "[supervisord]\n[program:foo]\ncommand=x\nstopasgroup=true\nkillasgroup=false\n",
    "[supervisord]\n[program:foo]\ncommand=x\nenvironment=A\n",
    "[supervisord]\n[program:foo]\ncommand=100%\n",
    "[supervisord]\n[program:foo]\ncommand=%(foo)s\n",
    "[supervisord]\n[program:foo]\ncommand=x\nstdout_logfile=/tmp/100%%.log\n",
    "[supervisord]\n[program:foo]\n",
    "[supervisord]\n[program:foo]\ncommand=x\npriority=1.5\n",
    "[supervisord]\n[program:foo]\ncommand=x\numask=8\n",
    "[supervisord]\n[program:foo]\ncommand=x\nuser=nosuchuser_x\n",
    "[supervisord]\n[eventlistener:e]\ncommand=x\n",
    "[supervisord]\n[eventlistener:e]\ncommand=x\nevents=FOO\n",
    "[supervisord]\n[eventlistener:e]\ncommand=x\nevents=TICK_5\nbuffer_size=0\n",
    "[supervisord]\n[eventlistener:e]\ncommand=x\nevents=TICK_5\nredirect_stderr=true\n",
    "[supervisord]\n[fcgi-program:f]\ncommand=x\n",
    "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:99999\n",
    "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=unix:///tmp/f.sock\nsocket_backlog=0\n",
    "[supervisord]\n[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nsocket_mode=0777\n",
    "[supervisord]\n[group:g]\nprograms=a\n[program:a]\ncommand=x\n[fcgi-program:a]\ncommand=x\nsocket=tcp://h:1\n",
    "[supervisord]\n[inet_http_server]\n",
    "[supervisord]\n[inet_http_server]\nport=9001\nusername=u\n",
    "[supervisord]\n[inet_http_server]\nport=abc\n",
    "[supervisord]\n[inet_http_server]\nport=h:0\n",
    "[supervisord]\n[unix_http_server]\n",
    "[supervisord]\n[unix_http_server]\nfile=s.sock\nchmod=9\n",
    "[supervisord]\n[include]\n",
];

/// The reference's message, up to its list of names (which depends on
/// the environment Python adds to).
fn core(msg: &str) -> &str {
    match msg.find(" Available names:") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

#[test]
fn configs_read_like_the_reference() {
    let dir = common::TempDir::new("optinterop");
    let d = dir.path.display().to_string();
    dir.write("conf.d/a.conf", "[program:a]\ncommand=/bin/a %(here)s\n");
    dir.write(
        "other/b.ini",
        "[program:b]\ncommand=/bin/b %(here)s\n[program:a]\npriority=3\n",
    );
    let files: Vec<String> = CORPUS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            dir.write(&format!("c{i}.conf"), &text.replace("@D@", &d))
                .display()
                .to_string()
        })
        .collect();
    let out = Command::new(common::python())
        .arg("-c")
        .arg(REFERENCE_DUMP)
        .args(&files)
        .output()
        .expect("run the reference");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: Vec<&str> = text.split("END\n").collect();
    assert_eq!(reference.len(), files.len() + 1, "{text}");
    for (file, want) in files.iter().zip(&reference) {
        let args = ServerArgs {
            configfile: Some(file.clone()),
            ..Default::default()
        };
        let ours = load_server_options_for(&args, std::path::Path::new("supervisord"));
        match (ours, want.strip_prefix("ERROR ")) {
            (Ok(o), None) => assert_eq!(dump(&o), *want, "{file}"),
            (Err(e), Some(msg)) => {
                let msg = core(msg.trim_end());
                assert!(
                    e.0.starts_with(msg),
                    "{file}:\n ours: {}\n  ref: {msg}",
                    e.0
                );
            }
            (Ok(o), Some(msg)) => panic!("{file}: reference refused ({msg}), we read {o:?}"),
            (Err(e), None) => panic!("{file}: we refused ({}), reference read:\n{want}", e.0),
        }
    }
}
