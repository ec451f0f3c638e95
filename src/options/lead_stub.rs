//! TEMPORARY minimal config reader used only until the options branch
//! lands (it replaces this file). Not for review.
use super::*;
use std::collections::BTreeMap;

pub fn split_namespec(s: &str) -> (String, Option<String>) {
    match s.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g.to_string(), None),
        Some((g, p)) => (g.to_string(), Some(p.to_string())),
        None => (s.to_string(), Some(s.to_string())),
    }
}

pub fn make_namespec(g: &str, p: &str) -> String {
    if g == p {
        p.to_string()
    } else {
        format!("{}:{}", g, p)
    }
}

pub fn parse_server_args(argv: &[String]) -> Result<ServerCommand, UsageError> {
    let mut a = ServerArgs::default();
    let mut it = argv.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "-c" => a.configfile = it.next().cloned(),
            "-n" => a.nodaemon = true,
            "-v" => return Ok(ServerCommand::Version),
            _ => return Err(UsageError(format!("option {} not recognized", x))),
        }
    }
    Ok(ServerCommand::Run(Box::new(a)))
}

fn parse(text: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with(';') || l.starts_with('#') {
            continue;
        }
        if l.starts_with('[') {
            out.push((
                l.trim_matches(|c| c == '[' || c == ']').to_string(),
                BTreeMap::new(),
            ));
            continue;
        }
        if let Some((k, v)) = l.split_once(['=', ':']) {
            let v = v.split(" ;").next().unwrap_or("").trim().to_string();
            if let Some(s) = out.last_mut() {
                s.1.insert(k.trim().to_lowercase(), v);
            }
        }
    }
    out
}

fn chan(sec: &BTreeMap<String, String>, c: &str) -> ChannelConfig {
    let lf = match sec.get(&format!("{}_logfile", c)).map(|s| s.as_str()) {
        None | Some("AUTO") => LogFile::Auto,
        Some("NONE") => LogFile::None,
        Some(p) => LogFile::Path(p.into()),
    };
    ChannelConfig {
        logfile: lf,
        maxbytes: sec
            .get(&format!("{}_logfile_maxbytes", c))
            .and_then(|v| v.parse().ok())
            .unwrap_or(50 << 20),
        backups: sec
            .get(&format!("{}_logfile_backups", c))
            .and_then(|v| v.parse().ok())
            .unwrap_or(10),
        capture_maxbytes: sec
            .get(&format!("{}_capture_maxbytes", c))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        events_enabled: sec
            .get(&format!("{}_events_enabled", c))
            .map(|v| v == "true")
            .unwrap_or(false),
        syslog: false,
    }
}

pub fn load_server_options(args: &ServerArgs) -> Result<ServerOptions, UsageError> {
    let cf = args
        .configfile
        .clone()
        .ok_or_else(|| UsageError("no -c".into()))?;
    let cf = std::fs::canonicalize(&cf).map_err(|e| UsageError(e.to_string()))?;
    let text = std::fs::read_to_string(&cf).map_err(|e| UsageError(e.to_string()))?;
    let here = cf.parent().unwrap_or(Path::new("/")).to_path_buf();
    let secs = parse(&text.replace("%(here)s", &here.display().to_string()));
    let get = |s: &str, k: &str| {
        secs.iter()
            .find(|(n, _)| n == s)
            .and_then(|(_, m)| m.get(k).cloned())
    };
    let mut groups = Vec::new();
    let mut servers = Vec::new();
    for (name, sec) in &secs {
        if let Some(p) = name
            .strip_prefix("program:")
            .or(name.strip_prefix("eventlistener:"))
        {
            let b = |k: &str, d: bool| sec.get(k).map(|v| v == "true").unwrap_or(d);
            let i = |k: &str, d: i64| sec.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
            let pc = ProcessConfig {
                name: p.to_string(),
                command: sec.get("command").cloned().ok_or_else(|| {
                    UsageError(format!(
                        "program section {} does not specify a command",
                        name
                    ))
                })?,
                directory: sec.get("directory").cloned(),
                umask: None,
                priority: i("priority", 999),
                autostart: b("autostart", true),
                autorestart: match sec.get("autorestart").map(|s| s.as_str()) {
                    Some("true") => AutoRestart::True,
                    Some("false") => AutoRestart::False,
                    _ => AutoRestart::Unexpected,
                },
                startsecs: i("startsecs", 1),
                startretries: i("startretries", 3),
                uid: None,
                stdout: chan(sec, "stdout"),
                stderr: chan(sec, "stderr"),
                stopsignal: sec
                    .get("stopsignal")
                    .map(|s| crate::datatypes::signal_number(s).unwrap_or(15))
                    .unwrap_or(15),
                stopwaitsecs: i("stopwaitsecs", 10),
                stopasgroup: b("stopasgroup", false),
                killasgroup: b("killasgroup", false),
                exitcodes: vec![0],
                redirect_stderr: b("redirect_stderr", false),
                environment: vec![],
                serverurl: None,
            };
            let kind = if name.starts_with("eventlistener:") {
                GroupKind::EventListenerPool {
                    buffer_size: 10,
                    events: sec
                        .get("events")
                        .map(|e| {
                            e.split(',')
                                .filter_map(|x| crate::events::EventType::from_name(x.trim()))
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            } else {
                GroupKind::Process
            };
            groups.push(GroupConfig {
                name: p.to_string(),
                priority: pc.priority,
                kind,
                processes: vec![pc],
            });
        }
        if name == "unix_http_server" {
            servers.push(ServerConfig {
                section: name.clone(),
                family: ServerFamily::Unix {
                    file: sec.get("file").cloned().unwrap_or_default().into(),
                    chmod: 0o700,
                    chown: None,
                },
                username: sec.get("username").cloned(),
                password: sec.get("password").cloned(),
            });
        }
    }
    groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    let serverurl = servers.iter().find_map(|s| match &s.family {
        ServerFamily::Unix { file, .. } => Some(format!("unix://{}", file.display())),
        _ => None,
    });
    Ok(ServerOptions {
        configfile: cf.clone(),
        here,
        nodaemon: args.nodaemon || get("supervisord", "nodaemon").as_deref() == Some("true"),
        silent: false,
        user: None,
        uid: None,
        gid: None,
        umask: 0o22,
        directory: None,
        logfile: MainLogFile::Path(
            get("supervisord", "logfile")
                .unwrap_or("supervisord.log".into())
                .into(),
        ),
        logfile_maxbytes: 50 << 20,
        logfile_backups: 10,
        loglevel: LogLevel::from_name(&get("supervisord", "loglevel").unwrap_or("info".into()))
            .unwrap_or(LogLevel::Info),
        pidfile: get("supervisord", "pidfile")
            .unwrap_or("supervisord.pid".into())
            .into(),
        identifier: "supervisor".into(),
        childlogdir: get("supervisord", "childlogdir")
            .unwrap_or("/tmp".into())
            .into(),
        minfds: 1024,
        minprocs: 200,
        nocleanup: false,
        strip_ansi: false,
        environment: vec![],
        groups,
        servers,
        rpcinterfaces: vec![RpcInterfaceConfig {
            name: "supervisor".into(),
            factory: "x".into(),
        }],
        serverurl,
        parse_criticals: vec![],
        parse_warnings: vec![],
        parse_infos: vec![],
    })
}
