//! pidproxy: runs a command and relays the signals it receives to the pid
//! written in a pidfile, for programs that daemonize behind a wrapper
//! (`pidproxy PIDFILE COMMAND [ARGS...]`).
//!
//! Behaviour follows the reference's pidproxy.py: the command is spawned by
//! its absolute path relative to the current directory (no PATH search);
//! TERM, HUP, INT, QUIT, USR1 and USR2 are relayed; after relaying TERM,
//! INT or QUIT the proxy exits 0; it exits 0 when its child exits. Unlike
//! the reference it notices the child's exit at once (SIGCHLD through the
//! signal self-pipe) instead of polling every five seconds.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::sys;

/// Signals relayed to the pid in the pidfile.
const RELAYED: [i32; 6] = [
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGQUIT,
];

/// Relayed signals after which the proxy exits.
const EXIT_AFTER: [i32; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT];

/// Exit status when the command cannot be started (the shell's convention).
const EXIT_CANNOT_EXEC: i32 = 127;

/// Entry point of the executable; returns the exit status.
pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    run(&args)
}

/// Runs pidproxy with a full argv (`argv[0]` included).
pub fn run(args: &[OsString]) -> i32 {
    let (Some(pidfile), Some(command)) = (args.get(1), args.get(2)) else {
        let argv0 = args
            .first()
            .map(|a| a.to_string_lossy())
            .unwrap_or_default();
        print!("{}", usage(&argv0));
        let _ = std::io::stdout().flush();
        return 1;
    };
    match proxy(Path::new(pidfile), command, &args[3..]) {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("pidproxy: {msg}");
            code
        }
    }
}

/// The reference's usage text (its module docstring), `argv0` substituted.
fn usage(argv0: &str) -> String {
    format!(
        "pidproxy -- run command and proxy signals to it via its pidfile.\n\
         \n\
         This executable runs a command and then monitors a pidfile.  When this\n\
         executable receives a signal, it sends the same signal to the pid\n\
         in the pidfile.\n\
         \n\
         Usage: {argv0} <pidfile name> <command> [<cmdarg1> ...]\n\
         \n"
    )
}

/// Spawns the command and relays signals until it exits or a relayed
/// TERM/INT/QUIT ends the proxy. Errors carry the exit status to use.
fn proxy(pidfile: &Path, command: &OsStr, args: &[OsString]) -> Result<i32, (i32, String)> {
    let cwd = std::env::current_dir()
        .map_err(|e| (1, format!("cannot get the current directory: {e}")))?;
    let exe = abspath(&cwd, Path::new(command));
    // The pipe exists before the child does, so its exit cannot be missed.
    let mut signals = RELAYED.to_vec();
    signals.push(libc::SIGCHLD);
    let sigfd = sys::install_signal_pipe(&signals)
        .map_err(|e| (1, format!("cannot install signal handlers: {e}")))?;
    Command::new(&exe)
        .arg0(command)
        .args(args)
        .spawn()
        .map_err(|e| {
            (
                EXIT_CANNOT_EXEC,
                format!("couldn't exec {}: {e}", exe.display()),
            )
        })?;
    let poller = sys::Poller::new().map_err(|e| (1, format!("cannot create poller: {e}")))?;
    poller
        .register(sigfd.as_raw_fd(), 0, true, false)
        .map_err(|e| (1, format!("cannot watch the signal pipe: {e}")))?;
    let mut ready = Vec::new();
    loop {
        ready.clear();
        poller
            .wait(&mut ready, None)
            .map_err(|e| (1, format!("cannot wait for signals: {e}")))?;
        for sig in sys::read_signals(sigfd.as_raw_fd()) {
            if sig == libc::SIGCHLD {
                if child_exited()? {
                    return Ok(0);
                }
            } else if let Some(code) = relay(pidfile, sig)? {
                return Ok(code);
            }
        }
    }
}

/// Reaps exited children; true once one has exited (the proxy has one).
fn child_exited() -> Result<bool, (i32, String)> {
    sys::waitpid_nohang()
        .map(|reaped| reaped.is_some())
        .map_err(|e| (1, format!("waitpid failed: {e}")))
}

/// Sends `sig` to the pid in `pidfile`. Some(exit status) when the proxy
/// must now exit. An unreadable pidfile is reported and otherwise ignored.
fn relay(pidfile: &Path, sig: i32) -> Result<Option<i32>, (i32, String)> {
    let Some(pid) = read_pid(pidfile) else {
        println!("Can't read child pidfile {}!", pidfile.display());
        let _ = std::io::stdout().flush();
        return Ok(None);
    };
    sys::kill(pid, sig).map_err(|e| (1, format!("cannot send signal {sig} to pid {pid}: {e}")))?;
    Ok(EXIT_AFTER.contains(&sig).then_some(0))
}

/// The pid in `pidfile`; None unless it holds one positive integer (0 and
/// negative values would signal process groups, never what is meant).
fn read_pid(pidfile: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(pidfile).ok()?;
    text.trim().parse::<i32>().ok().filter(|pid| *pid > 0)
}

/// Python's `os.path.abspath`: `path` joined to `cwd` and normalised
/// lexically (`.` dropped, `..` removes the previous component).
fn abspath(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    let mut out = PathBuf::from("/");
    for part in joined.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abspath_is_relative_to_cwd_and_normalised() {
        let cwd = Path::new("/srv/app");
        assert_eq!(
            abspath(cwd, Path::new("run.sh")),
            Path::new("/srv/app/run.sh")
        );
        assert_eq!(
            abspath(cwd, Path::new("./bin/../x")),
            Path::new("/srv/app/x")
        );
        assert_eq!(abspath(cwd, Path::new("/bin/echo")), Path::new("/bin/echo"));
        assert_eq!(abspath(cwd, Path::new("../../../y")), Path::new("/y"));
        assert_eq!(abspath(cwd, Path::new("a//b/")), Path::new("/srv/app/a/b"));
    }

    #[test]
    fn usage_names_argv0() {
        let text = usage("/usr/bin/pidproxy");
        assert!(text.starts_with("pidproxy -- run command and proxy signals"));
        assert!(
            text.ends_with("Usage: /usr/bin/pidproxy <pidfile name> <command> [<cmdarg1> ...]\n\n")
        );
    }

    #[test]
    fn pidfile_must_hold_a_positive_pid() {
        let dir = std::env::temp_dir().join(format!("pidproxy-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pid");
        for (text, want) in [
            (" 42\n", Some(42)),
            ("0\n", None),
            ("-1", None),
            ("x", None),
            ("", None),
        ] {
            std::fs::write(&f, text).unwrap();
            assert_eq!(read_pid(&f), want, "{text:?}");
        }
        assert_eq!(read_pid(&dir.join("missing")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
