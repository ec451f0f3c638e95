//! client: supervisorctl's command line and `[supervisorctl]` section (the
//! reference's `ClientOptions`). `[ctlplugin:x]` sections (Python plugins
//! adding commands) cannot be loaded: each is reported in
//! `ClientOptions::warnings` and otherwise ignored, so that a config
//! written for a plugin still works for every built-in command.

use std::path::PathBuf;

use super::expand::Expansions;
use super::getopt::getopt;
use super::reader::{strings, Sect};
use super::server::{
    any, check_plugin_extras, environ_expansions, find_default_config, read_main_file, set_flag,
    set_value,
};
use super::{help_text, ClientCommand, ClientOptions, UsageError};
use crate::datatypes::{normalize_path, py_dirname, py_repr, url};

/// supervisorctl's help (`-h`); `%s` is the program name.
pub const HELP: &str = "supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default \"http://localhost:9001\").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.
";

const SHORT: &str = "h?c:is:u:p:r:";
const LONG: &[&str] = &[
    "help",
    "configuration=",
    "interactive",
    "serverurl=",
    "username=",
    "password=",
    "history_file=",
];

const DEFAULT_SERVERURL: &str = "http://localhost:9001";
const DEFAULT_PROMPT: &str = "supervisor";
const CTL_FACTORY_KEY: &str = "supervisor.ctl_factory";

#[derive(Default)]
struct Cli {
    configfile: Option<String>,
    interactive: bool,
    serverurl: Option<String>,
    username: Option<String>,
    password: Option<String>,
    history_file: Option<String>,
}

/// `[supervisorctl]` as read from the file.
struct Section {
    serverurl: String,
    prompt: String,
    username: Option<String>,
    password: Option<String>,
    history_file: Option<PathBuf>,
    warnings: Vec<String>,
}

/// [`super::parse_client_args`] with an explicit program name (argv[0]),
/// which is shown by `-h` and decides the default config search list.
pub fn parse_client_args_as(progname: &str, argv: &[String]) -> Result<ClientCommand, UsageError> {
    let (opts, args) = getopt(argv, SHORT, LONG).map_err(UsageError)?;
    let mut c = Cli::default();
    for (opt, val) in &opts {
        let (o, v) = (opt.as_str(), val.as_str());
        match o {
            "-h" | "-?" | "--help" => return Ok(ClientCommand::Help(help_text(HELP, progname))),
            "-i" | "--interactive" => set_flag(&mut c.interactive, o)?,
            "-c" | "--configuration" => set_value(&mut c.configfile, o, v, any)?,
            "-s" | "--serverurl" => set_value(&mut c.serverurl, o, v, url)?,
            "-u" | "--username" => set_value(&mut c.username, o, v, any)?,
            "-p" | "--password" => set_value(&mut c.password, o, v, any)?,
            "-r" | "--history_file" => set_value(&mut c.history_file, o, v, any)?,
            _ => return Err(UsageError(format!("option {} not recognized", o))),
        }
    }
    let configfile = match c.configfile.take() {
        Some(f) => Some(f),
        None => find_default_config(std::path::Path::new(progname)).ok(),
    };
    // An empty -c reads no file, as in the reference.
    let configfile = configfile.filter(|f| !f.is_empty());
    let section = match &configfile {
        Some(f) => Some(read_section(f).map_err(UsageError)?),
        None => None,
    };
    let interactive = c.interactive || args.is_empty();
    let history_file = c.history_file.as_deref().map(normalize_path);
    Ok(ClientCommand::Run(match section {
        Some(s) => ClientOptions {
            configfile: configfile.map(|f| normalize_path(&f)),
            interactive,
            prompt: s.prompt,
            serverurl: c.serverurl.unwrap_or(s.serverurl),
            username: c.username.or(s.username),
            password: c.password.or(s.password),
            history_file: history_file.or(s.history_file),
            args,
            warnings: s.warnings,
        },
        None => ClientOptions {
            configfile: None,
            interactive,
            prompt: DEFAULT_PROMPT.to_string(),
            serverurl: c.serverurl.unwrap_or_else(|| DEFAULT_SERVERURL.to_string()),
            username: c.username,
            password: c.password,
            history_file,
            args,
            warnings: Vec::new(),
        },
    }))
}

fn read_section(configfile: &str) -> Result<Section, String> {
    let here = py_dirname(&normalize_path(configfile).to_string_lossy()).to_string();
    let parser = read_main_file(configfile)?;
    if !parser.has_section("supervisorctl") {
        return Err(format!(
            ".ini file does not include supervisorctl section (file: {})",
            py_repr(configfile)
        ));
    }
    let env = environ_expansions();
    let s = Sect::new(&parser, "supervisorctl", configfile, &env);
    let here = strings(&[("here", &here)]);
    let none = Expansions::new();
    let serverurl = s.get_or("serverurl", DEFAULT_SERVERURL, &here)?;
    let serverurl = match serverurl.strip_prefix("unix://") {
        Some(path) => format!("unix://{}", normalize_path(path).display()),
        None => serverurl,
    };
    let prompt = s.get_or("prompt", DEFAULT_PROMPT, &none)?;
    let username = s.get("username", &none)?;
    let password = s.get("password", &none)?;
    let history_file = s
        .get("history_file", &here)?
        .filter(|h| !h.is_empty())
        .map(|h| normalize_path(&h));
    let mut warnings = Vec::new();
    for section in parser.sections() {
        if !section.starts_with("ctlplugin:") {
            continue;
        }
        let p = Sect::new(&parser, section, configfile, &env);
        let Some(spec) = p.get(CTL_FACTORY_KEY, &none)? else {
            return Err(p.err(
                None,
                format!(
                    "section [{}] does not specify a {}",
                    section, CTL_FACTORY_KEY
                ),
            ));
        };
        check_plugin_extras(&p, &parser, CTL_FACTORY_KEY)?;
        warnings.push(format!(
            "Warning: [{}] ignored: {} {} is a Python plugin, which is not supported",
            section, CTL_FACTORY_KEY, spec
        ));
    }
    Ok(Section {
        serverurl,
        prompt,
        username,
        password,
        history_file,
        warnings,
    })
}
