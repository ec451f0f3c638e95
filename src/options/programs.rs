//! programs: the process sections — `[program:x]`, `[group:x]`,
//! `[eventlistener:x]`, `[fcgi-program:x]` — turned into process groups,
//! with `numprocs` expansion and the reference's per-process `%`-names
//! (`process_num`, `numprocs`, the section's own `ENV_*`).

use std::collections::{HashMap, HashSet};

use super::expand::{expand, Expansions, Value};
use super::reader::{strings, Sect};
use super::server::{normalize_spec, Config};
use super::{
    AutoRestart, ChannelConfig, GroupConfig, GroupKind, LogFile, ProcessConfig, SocketConfig,
};
use crate::datatypes::{
    auto_restart, boolean, byte_size, colon_separated_user_group, dict_of_key_value_pairs,
    gid_for_uid, integer, list_of_exitcodes, list_of_strings, logfile_name, name_to_uid,
    normalize_path, octal, process_or_group_name, py_repr, signal_number, LogFileName,
};
use crate::events::EventType;

/// The only result handler we have: the reference's stock one.
const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

/// Every process group of the config, sorted by (priority, name).
pub(super) fn process_groups(
    cfg: &Config,
    warnings: &mut Vec<String>,
) -> Result<Vec<GroupConfig>, String> {
    let mut groups = Vec::new();
    let mut in_groups: Vec<&str> = Vec::new();
    let sections = cfg.parser.sections();
    let here = cfg.here();

    for section in &sections {
        let Some(name) = section.strip_prefix("group:") else {
            continue;
        };
        let s = cfg.section(section);
        let (group, members) = heterogeneous_group(cfg, &s, name, &sections, warnings)?;
        in_groups.extend(members);
        groups.push((section, group));
    }

    for section in &sections {
        let Some(name) = section.strip_prefix("program:") else {
            continue;
        };
        if in_groups.contains(section) {
            continue;
        }
        let s = cfg.section(section);
        let program_name = process_or_group_name(name).map_err(|e| s.err(None, e))?;
        let priority = s.typed("priority", "999", &here, integer)?;
        let processes = processes_from_section(cfg, &s, &program_name, warnings)?;
        groups.push((
            section,
            GroupConfig {
                name: program_name,
                priority,
                kind: GroupKind::Process,
                processes,
            },
        ));
    }

    for section in &sections {
        let Some(pool_name) = section.strip_prefix("eventlistener:") else {
            continue;
        };
        let s = cfg.section(section);
        groups.push((section, event_listener_pool(cfg, &s, pool_name, warnings)?));
    }

    for section in &sections {
        let Some(name) = section.strip_prefix("fcgi-program:") else {
            continue;
        };
        if in_groups.contains(section) {
            continue;
        }
        let s = cfg.section(section);
        groups.push((section, fcgi_group(cfg, &s, name, warnings)?));
    }

    groups.sort_by(|(_, a), (_, b)| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (section, g) in &groups {
        if let Some(first) = seen.insert(&g.name, section) {
            return Err(cfg.section(section).err(
                None,
                format!(
                    "process group name {} is already used by section [{}]",
                    py_repr(&g.name),
                    first
                ),
            ));
        }
    }
    Ok(groups.into_iter().map(|(_, g)| g).collect())
}

/// `[group:x]`: the processes of the listed programs, in `programs=`
/// order. Also returns the member sections, which then form no group of
/// their own.
fn heterogeneous_group<'a>(
    cfg: &Config,
    s: &Sect,
    name: &str,
    sections: &[&'a str],
    warnings: &mut Vec<String>,
) -> Result<(GroupConfig, Vec<&'a str>), String> {
    let here = cfg.here();
    let group_name = process_or_group_name(name).map_err(|e| s.err(None, e))?;
    let programs = list_of_strings(&s.get("programs", &here)?.unwrap_or_default());
    let priority = s.typed("priority", "999", &here, integer)?;
    let find = |n: String| sections.iter().copied().find(|x| *x == n);
    let mut processes = Vec::new();
    let mut members = Vec::new();
    for program in programs {
        let member = match (
            find(format!("program:{}", program)),
            find(format!("fcgi-program:{}", program)),
        ) {
            (Some(_), Some(_)) => {
                return Err(s.err(
                    Some("programs"),
                    format!(
                        "[{}] name {} is ambiguous (exists as program and fcgi-program)",
                        s.name, program
                    ),
                ))
            }
            (Some(m), None) | (None, Some(m)) => m,
            (None, None) => {
                return Err(s.err(
                    Some("programs"),
                    format!(
                        "[{}] names unknown program or fcgi-program {}",
                        s.name, program
                    ),
                ))
            }
        };
        // As in the reference, a member fcgi-program runs as a plain
        // program (its socket settings are not read).
        let ms = cfg.section(member);
        processes.extend(processes_from_section(cfg, &ms, &group_name, warnings)?);
        members.push(member);
    }
    check_unique_names(s, "programs", &processes)?;
    let group = GroupConfig {
        name: group_name,
        priority,
        kind: GroupKind::Process,
        processes,
    };
    Ok((group, members))
}

fn event_listener_pool(
    cfg: &Config,
    s: &Sect,
    pool_name: &str,
    warnings: &mut Vec<String>,
) -> Result<GroupConfig, String> {
    let here = cfg.here();
    let section = s.name;
    let priority = s.typed("priority", "-1", &here, integer)?;
    let buffer_size = s.typed("buffer_size", "10", &here, integer)?;
    if buffer_size < 1 {
        return Err(s.err(
            Some("buffer_size"),
            format!(
                "[{}] section sets invalid buffer_size ({})",
                section, buffer_size
            ),
        ));
    }
    let handler = s.get_or("result_handler", DEFAULT_RESULT_HANDLER, &here)?;
    if normalize_spec(&handler) != DEFAULT_RESULT_HANDLER {
        return Err(s.err(
            Some("result_handler"),
            format!(
                "{} cannot be resolved within [{}]: Python entry points are not supported \
                 (the only result handler available is {})",
                handler, section, DEFAULT_RESULT_HANDLER
            ),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for n in list_of_strings(&s.get_or("events", "", &here)?) {
        let n = n.to_uppercase();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if names.is_empty() {
        return Err(s.err(
            Some("events"),
            format!("[{}] section requires an \"events\" line", section),
        ));
    }
    let events = names
        .iter()
        .map(|n| {
            EventType::from_name(n).ok_or_else(|| {
                s.err(
                    Some("events"),
                    format!("Unknown event type {} in [{}] events", n, section),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if s.typed("redirect_stderr", "false", &here, boolean)? {
        return Err(s.err(
            Some("redirect_stderr"),
            format!(
                "[{}] section sets redirect_stderr=true but this is not allowed because it \
                 will interfere with the eventlistener protocol",
                section
            ),
        ));
    }
    let processes = processes_from_section(cfg, s, pool_name, warnings)?;
    Ok(GroupConfig {
        name: pool_name.to_string(),
        priority,
        kind: GroupKind::EventListenerPool {
            buffer_size: buffer_size as usize,
            events,
        },
        processes,
    })
}

fn fcgi_group(
    cfg: &Config,
    s: &Sect,
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<GroupConfig, String> {
    let here = cfg.here();
    let program_name = process_or_group_name(name).map_err(|e| s.err(None, e))?;
    let priority = s.typed("priority", "999", &here, integer)?;
    let proc_uid = s.typed_opt("user", &here, name_to_uid)?;
    let backlog = s.typed_opt("socket_backlog", &here, |v| {
        let n = integer(v)?;
        if (1..=65535).contains(&n) {
            Ok(n as i32)
        } else {
            Err(format!("Invalid socket_backlog value {}", n))
        }
    })?;
    let owner = s.typed_opt("socket_owner", &here, |v| {
        colon_separated_user_group(v).map_err(|_| format!("Invalid socket_owner value {}", v))
    })?;
    let mode = s.typed_opt("socket_mode", &here, |v| {
        octal(v).map_err(|_| format!("Invalid socket_mode value {}", v))
    })?;
    let mut names = here.clone();
    names.set("program_name", Value::Str(program_name.clone()));
    let socket = s.get("socket", &names)?.unwrap_or_default();
    if socket.is_empty() {
        return Err(s.err(
            Some("socket"),
            format!("[{}] section requires a \"socket\" line", s.name),
        ));
    }
    let socket = fcgi_socket(&socket, proc_uid, owner, mode, backlog)
        .map_err(|e| s.err(Some("socket"), format!("{} in [{}] socket", e, s.name)))?;
    let processes = processes_from_section(cfg, s, &program_name, warnings)?;
    Ok(GroupConfig {
        name: program_name,
        priority,
        kind: GroupKind::FastCgi { socket },
        processes,
    })
}

/// `tcp://host:port` or `unix:///absolute/path`.
fn fcgi_socket(
    sock: &str,
    proc_uid: Option<u32>,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    backlog: Option<i32>,
) -> Result<SocketConfig, String> {
    if let Some(path) = sock.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(format!("Unix socket path {} is not an absolute path", path));
        }
        let owner = match (owner, proc_uid) {
            (Some(o), _) => Some(o),
            (None, Some(uid)) if uid != crate::sys::getuid() => Some((uid, gid_for_uid(uid)?)),
            (None, _) => None,
        };
        return Ok(SocketConfig::Unix {
            path: normalize_path(path),
            owner,
            mode: mode.unwrap_or(0o700),
            backlog,
        });
    }
    if owner.is_some() || mode.is_some() {
        return Err(
            "socket_owner and socket_mode params should only be used with a Unix domain socket"
                .to_string(),
        );
    }
    let bad = || format!("Bad socket format {}", sock);
    let rest = sock.strip_prefix("tcp://").ok_or_else(bad)?;
    let (host, port) = rest.split_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty() && !host.chars().any(|c| c.is_whitespace() || c == ':');
    let port_ok = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
    if !host_ok || !port_ok {
        return Err(bad());
    }
    let digits = match port.trim_start_matches('0') {
        "" => "0",
        d => d,
    };
    let port = match digits.parse::<u32>() {
        Ok(0) => return Err("0 is below lower bound (1)".to_string()),
        Ok(p) if p <= 65535 => p as u16,
        _ => return Err(format!("{} is above upper bound (65535)", digits)),
    };
    Ok(SocketConfig::Tcp {
        host: host.to_lowercase(),
        port,
        backlog,
    })
}

/// Per-channel (stdout/stderr) keys read for one process.
struct Channel {
    logfile: LogFile,
    maxbytes: i64,
    backups: i64,
    syslog: bool,
}

/// The keys of a process section that do not depend on `process_num`.
struct Common {
    priority: i64,
    autostart: bool,
    autorestart: AutoRestart,
    startsecs: i64,
    startretries: i64,
    stopsignal: i32,
    stopwaitsecs: i64,
    stopasgroup: bool,
    killasgroup: bool,
    exitcodes: Vec<i32>,
    redirect_stderr: bool,
    numprocs: i64,
    numprocs_start: i64,
    environment: String,
    stdout_capture: i64,
    stdout_events: bool,
    stderr_capture: i64,
    stderr_events: bool,
    serverurl: Option<String>,
    uid: Option<u32>,
    umask: Option<u32>,
    process_name: String,
}

fn read_common(s: &Sect, names: &Expansions) -> Result<Common, String> {
    let stopasgroup = s.typed("stopasgroup", "false", names, boolean)?;
    let killasgroup = s.typed(
        "killasgroup",
        if stopasgroup { "true" } else { "false" },
        names,
        boolean,
    )?;
    let c = Common {
        priority: s.typed("priority", "999", names, integer)?,
        autostart: s.typed("autostart", "true", names, boolean)?,
        autorestart: s.typed("autorestart", "unexpected", names, auto_restart)?,
        startsecs: s.typed("startsecs", "1", names, integer)?,
        startretries: s.typed("startretries", "3", names, integer)?,
        stopsignal: s.typed("stopsignal", "TERM", names, signal_number)?,
        stopwaitsecs: s.typed("stopwaitsecs", "10", names, integer)?,
        stopasgroup,
        killasgroup,
        exitcodes: s.typed("exitcodes", "0", names, list_of_exitcodes)?,
        redirect_stderr: s.typed("redirect_stderr", "false", names, boolean)?,
        numprocs: s.typed("numprocs", "1", names, integer)?,
        numprocs_start: s.typed("numprocs_start", "0", names, integer)?,
        environment: s.raw("environment").unwrap_or("").to_string(),
        stdout_capture: s.typed("stdout_capture_maxbytes", "0", names, byte_size)?,
        stdout_events: s.typed("stdout_events_enabled", "false", names, boolean)?,
        stderr_capture: s.typed("stderr_capture_maxbytes", "0", names, byte_size)?,
        stderr_events: s.typed("stderr_events_enabled", "false", names, boolean)?,
        serverurl: s
            .get("serverurl", names)?
            .filter(|u| !u.trim().eq_ignore_ascii_case("auto") && !u.is_empty()),
        uid: s.typed_opt("user", names, name_to_uid)?,
        umask: s.typed_opt("umask", names, octal)?,
        process_name: process_or_group_name(s.raw("process_name").unwrap_or("%(program_name)s"))
            .map_err(|e| s.err(Some("process_name"), e))?,
    };
    if c.numprocs > 1 && !c.process_name.contains("%(process_num)") {
        return Err(s.err(
            Some("process_name"),
            "%(process_num) must be present within process_name when numprocs > 1",
        ));
    }
    if c.stopasgroup && !c.killasgroup {
        return Err(s.err(
            Some("killasgroup"),
            "Cannot set stopasgroup=true and killasgroup=false",
        ));
    }
    Ok(c)
}

/// One channel's keys for one process. `*_logfile` is expanded twice, as
/// the reference does (so `%%` must be written `%%%%`).
fn read_channel(
    s: &Sect,
    names: &Expansions,
    ch: &str,
    warnings: &mut Vec<String>,
) -> Result<Channel, String> {
    let lf_key = format!("{}_logfile", ch);
    let sy_key = format!("{}_syslog", ch);
    let lf = match s.get(&lf_key, names)? {
        None => LogFileName::Auto,
        Some(v) => {
            let v = expand(&v, names, &lf_key).map_err(|e| s.err(Some(&lf_key), e))?;
            logfile_name(&v).map_err(|e| s.err(Some(&lf_key), e))?
        }
    };
    let backups = s.typed(&format!("{}_logfile_backups", ch), "10", names, integer)?;
    let maxbytes = s.typed(
        &format!("{}_logfile_maxbytes", ch),
        "50MB",
        names,
        byte_size,
    )?;
    let mut syslog = s.typed(&sy_key, "false", names, boolean)?;
    let logfile = match lf {
        LogFileName::Syslog => {
            warnings.push(format!(
                "For [{}], {}=syslog but this is deprecated and will be removed.  Use {}=true \
                 to enable syslog instead.",
                s.name, lf_key, sy_key
            ));
            syslog = true;
            LogFile::None
        }
        LogFileName::Auto => {
            if maxbytes == 0 {
                warnings.push(format!(
                    "For [{}], AUTO logging used for {} without rollover, set maxbytes > 0 to \
                     avoid filling up filesystem unintentionally",
                    s.name, lf_key
                ));
            }
            LogFile::Auto
        }
        LogFileName::None => LogFile::None,
        LogFileName::Path(p) => LogFile::Path(p),
    };
    Ok(Channel {
        logfile,
        maxbytes,
        backups,
        syslog,
    })
}

fn channel_config(c: Channel, capture: i64, events: bool) -> ChannelConfig {
    ChannelConfig {
        logfile: c.logfile,
        maxbytes: c.maxbytes.max(0) as u64,
        backups: c.backups,
        capture_maxbytes: capture.max(0) as u64,
        events_enabled: events,
        syslog: c.syslog,
    }
}

/// The processes of one section (`numprocs` of them), sorted by
/// (priority, name).
fn processes_from_section(
    cfg: &Config,
    s: &Sect,
    group_name: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<ProcessConfig>, String> {
    let name = s.name.split_once(':').map_or("", |(_, n)| n);
    let program_name = process_or_group_name(name).map_err(|e| s.err(None, e))?;
    let mut names = strings(&[
        ("here", cfg.here),
        ("program_name", &program_name),
        ("host_node_name", cfg.host_node_name),
        ("group_name", group_name),
    ]);
    let c = read_common(s, &names)?;
    let mut out = Vec::new();
    for i in 0..c.numprocs.max(0) {
        let process_num = c.numprocs_start.checked_add(i).ok_or_else(|| {
            s.err(
                Some("numprocs_start"),
                "process_num does not fit in 64 bits",
            )
        })?;
        // The reference keeps adding to one mapping: from here on every key
        // sees process_num, numprocs, ENV_* and this section's own ENV_*.
        names.set("process_num", Value::Int(process_num));
        names.set("numprocs", Value::Int(c.numprocs));
        names.update(&s.names(&Expansions::new()));
        let env_str = expand(&c.environment, &names, "environment")
            .map_err(|e| s.err(Some("environment"), e))?;
        let environment =
            dict_of_key_value_pairs(&env_str).map_err(|e| s.err(Some("environment"), e))?;
        for (k, v) in &environment {
            names.set(&format!("ENV_{}", k), Value::Str(v.clone()));
        }
        let directory = s.get("directory", &names)?;
        let stdout = read_channel(s, &names, "stdout", warnings)?;
        let mut stderr = read_channel(s, &names, "stderr", warnings)?;
        if c.redirect_stderr {
            if matches!(stderr.logfile, LogFile::Path(_)) {
                warnings.push(format!(
                    "For [{}], redirect_stderr=true but stderr_logfile has also been set to a \
                     filename, the filename has been ignored",
                    s.name
                ));
            }
            stderr.logfile = LogFile::None;
        }
        let Some(command) = s.get("command", &names)? else {
            return Err(s.err(
                Some("command"),
                format!("program section {} does not specify a command", s.name),
            ));
        };
        let name = expand(&c.process_name, &names, "process_name")
            .map_err(|e| s.err(Some("process_name"), e))?;
        out.push(ProcessConfig {
            name,
            command,
            directory,
            umask: c.umask,
            priority: c.priority,
            autostart: c.autostart,
            autorestart: c.autorestart,
            startsecs: c.startsecs,
            startretries: c.startretries,
            uid: c.uid,
            stdout: channel_config(stdout, c.stdout_capture, c.stdout_events),
            stderr: channel_config(stderr, c.stderr_capture, c.stderr_events),
            stopsignal: c.stopsignal,
            stopwaitsecs: c.stopwaitsecs,
            stopasgroup: c.stopasgroup,
            killasgroup: c.killasgroup,
            exitcodes: c.exitcodes.clone(),
            redirect_stderr: c.redirect_stderr,
            environment,
            serverurl: c.serverurl.clone(),
        });
    }
    out.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    check_unique_names(s, "process_name", &out)?;
    // Kept for the daemon's lifetime: a one-process group would otherwise
    // hold room for four configs.
    out.shrink_to_fit();
    Ok(out)
}

/// Refuses a group in which two processes have the same name (the
/// reference would silently keep only the last one).
fn check_unique_names(s: &Sect, key: &str, processes: &[ProcessConfig]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for p in processes {
        if !seen.insert(p.name.as_str()) {
            return Err(s.err(
                Some(key),
                format!("duplicate process name {} in this group", py_repr(&p.name)),
            ));
        }
    }
    Ok(())
}
