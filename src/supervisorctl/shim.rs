//! TEMPORARY stand-in for `crate::options::parse_client_args` until the
//! options branch lands on main. Delete when merging main.

use crate::options::{ClientCommand, ClientOptions, UsageError};
use std::path::PathBuf;

pub(crate) fn parse_client_args(args: &[String]) -> Result<ClientCommand, UsageError> {
    let mut o = ClientOptions {
        configfile: None,
        interactive: false,
        prompt: "supervisor".into(),
        serverurl: String::new(),
        username: None,
        password: None,
        history_file: None,
        args: Vec::new(),
    };
    let (mut url, mut user, mut pass) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| UsageError(format!("option {a} requires argument")))
        };
        match a.as_str() {
            "-c" => o.configfile = Some(PathBuf::from(val()?)),
            "-s" => url = Some(val()?),
            "-u" => user = Some(val()?),
            "-p" => pass = Some(val()?),
            "-r" => o.history_file = Some(PathBuf::from(val()?)),
            "-i" => o.interactive = true,
            "-h" => return Ok(ClientCommand::Help("usage\n".into())),
            s if s.starts_with('-') => {
                return Err(UsageError(format!("option {s} not recognized")))
            }
            _ => {
                o.args.push(a.clone());
                o.args.extend(it.by_ref().cloned());
                break;
            }
        }
    }
    if let Some(conf) = &o.configfile {
        let text = std::fs::read_to_string(conf).map_err(|e| UsageError(e.to_string()))?;
        let mut in_section = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_section = line == "[supervisorctl]";
            } else if let (true, Some((k, v))) = (in_section, line.split_once('=')) {
                let v = v.trim().to_string();
                match k.trim() {
                    "serverurl" => o.serverurl = v,
                    "username" => o.username = Some(v),
                    "password" => o.password = Some(v),
                    "prompt" => o.prompt = v,
                    "history_file" => o.history_file = Some(PathBuf::from(v)),
                    _ => {}
                }
            }
        }
    }
    if let Some(u) = url {
        o.serverurl = u;
    }
    if o.serverurl.is_empty() {
        o.serverurl = "http://localhost:9001".into();
    }
    if user.is_some() {
        o.username = user;
    }
    if pass.is_some() {
        o.password = pass;
    }
    if o.args.is_empty() {
        o.interactive = true;
    }
    Ok(ClientCommand::Run(o))
}
