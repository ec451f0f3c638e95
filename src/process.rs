//! process: one supervised program — its state machine, spawn, stop and
//! signals, and what happens when it exits.
//!
//! The transitions and log lines are the reference's (`Subprocess` in
//! process.py). Two deliberate differences, both about the moment of exec:
//! startsecs counts from the moment the child's exec succeeded (reported by
//! EOF on a close-on-exec status pipe) rather than from the fork, and a stop
//! or signal requested before that moment is held and delivered right after
//! exec, so it reaches the program itself and is not lost. A child whose
//! exec (or chdir, setuid) failed counts as "exited too quickly" even with
//! startsecs=0, so it ends FATAL instead of restarting forever.
//!
//! Time-driven steps (startsecs, backoff delay, stopwaitsecs) are timers
//! armed by `transition`; nothing here is rescanned while idle.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::datatypes::py_repr;
use crate::datatypes::{shlex_split, signame};
use crate::dispatchers::{
    Channel, InputDispatcher, ListenerProtocol, OutputDispatcher, OutputSettings,
};
use crate::events::{Notification, Pending};
use crate::options::{AutoRestart, ChannelConfig, LogFile, ProcessConfig};
use crate::states::{ListenerState, ProcessState, SupervisorState};
use crate::supervisord::{Core, Owner, Pipe};
use crate::sys::{self, ChildSetup, ChildStage, ExecReport, Privileges};

/// Index of a process in the supervisor's process table.
pub type ProcId = usize;

/// Event-listener state of a process in an `[eventlistener:x]` pool.
#[derive(Debug)]
pub struct Listener {
    pub state: ListenerState,
    pub protocol: ListenerProtocol,
    /// The event being processed (BUSY).
    pub event: Option<Pending>,
}

/// The exec status pipe of a child that has not exec'd yet.
#[derive(Debug)]
struct StatusPipe {
    file: File,
    key: usize,
    buf: Vec<u8>,
}

/// One supervised process.
#[derive(Debug)]
pub struct Process {
    pub id: ProcId,
    pub config: ProcessConfig,
    pub group: String,
    pub state: ProcessState,
    pub pid: i32,
    /// Epoch seconds of the last spawn / stop (0: never).
    pub laststart: f64,
    pub laststop: f64,
    pub laststopreport: f64,
    /// When the current child's exec succeeded.
    exec_at: Option<Instant>,
    /// A signal requested before exec: (signal, to the process group).
    held_signal: Option<(i32, bool)>,
    /// Deadline of the current state (backoff retry, SIGKILL).
    delay: Option<Instant>,
    pub backoff: i64,
    pub killing: bool,
    pub exitstatus: Option<i32>,
    pub spawnerr: Option<String>,
    /// Log files after AUTO resolution (None: not logged to a file).
    pub stdout_logfile: Option<PathBuf>,
    pub stderr_logfile: Option<PathBuf>,
    pub stdout: Option<OutputDispatcher>,
    pub stderr: Option<OutputDispatcher>,
    pub stdin: Option<InputDispatcher>,
    status: Option<StatusPipe>,
    pub listener: Option<Listener>,
    /// How many times it entered RUNNING: a `start` that waits succeeds
    /// when this grows, even if the process already exited again (with
    /// startsecs=0 it can go RUNNING and EXITED within one reap).
    pub runs: u64,
    /// Generation of the armed timer; stale heap entries are skipped.
    pub timer_gen: u64,
    /// Already in the transition queue.
    pub queued: bool,
}

/// Creates an AUTO log file: `<name>-<channel>---<identifier>-<random>.log`
/// in `dir`, like the reference's mkstemp naming.
pub fn create_autolog(
    dir: &Path,
    name: &str,
    identifier: &str,
    channel: &str,
) -> io::Result<PathBuf> {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let mut seed = [0u8; 64];
    let mut attempt = 0;
    loop {
        if let Ok(mut f) = File::open("/dev/urandom") {
            let _ = io::Read::read_exact(&mut f, &mut seed);
        } else {
            let t = Instant::now().elapsed().as_nanos() as u64 ^ (sys::getpid() as u64) << 32;
            seed[..8].copy_from_slice(&t.to_le_bytes());
        }
        let suffix: String = seed[..8]
            .iter()
            .map(|b| CHARS[*b as usize % CHARS.len()] as char)
            .collect();
        let path = dir.join(format!(
            "{}-{}---{}-{}.log",
            name, channel, identifier, suffix
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

fn resolve_logfile(
    chan: &ChannelConfig,
    core: &Core,
    name: &str,
    channel: &str,
) -> io::Result<Option<PathBuf>> {
    Ok(match &chan.logfile {
        LogFile::None => None,
        LogFile::Path(p) => Some(p.clone()),
        LogFile::Auto => Some(create_autolog(
            &core.options.childlogdir,
            name,
            &core.options.identifier,
            channel,
        )?),
    })
}

fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A reason spawning failed before fork, with the fault it maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadCommand {
    /// NO_FILE
    NotFound(String),
    /// NOT_EXECUTABLE
    NotExecutable(String),
    /// NOT_EXECUTABLE (the reference's NoPermission)
    NoPermission(String),
    /// Unparsable or empty command
    Bad(String),
}

impl BadCommand {
    pub fn message(&self) -> &str {
        match self {
            BadCommand::NotFound(m)
            | BadCommand::NotExecutable(m)
            | BadCommand::NoPermission(m)
            | BadCommand::Bad(m) => m,
        }
    }
}

impl Process {
    /// A new process in STOPPED; AUTO log files are created now, as the
    /// reference does when the group is created.
    pub fn new(id: ProcId, config: ProcessConfig, group: &str, core: &mut Core) -> Process {
        let mut logfile = |chan: &ChannelConfig, which: &str| {
            resolve_logfile(chan, core, &config.name, which).unwrap_or_else(|e| {
                core.logger.error(&format!(
                    "could not create AUTO {} log for {}: {}",
                    which, config.name, e
                ));
                None
            })
        };
        let stdout_logfile = logfile(&config.stdout, "stdout");
        let stderr_logfile = if config.redirect_stderr {
            None
        } else {
            logfile(&config.stderr, "stderr")
        };
        Process {
            id,
            group: group.to_string(),
            state: ProcessState::Stopped,
            pid: 0,
            laststart: 0.0,
            laststop: 0.0,
            laststopreport: 0.0,
            exec_at: None,
            held_signal: None,
            delay: None,
            backoff: 0,
            killing: false,
            exitstatus: None,
            spawnerr: None,
            stdout_logfile,
            stderr_logfile,
            stdout: None,
            stderr: None,
            stdin: None,
            status: None,
            listener: None,
            runs: 0,
            timer_gen: 0,
            queued: false,
            config,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Whether the child's exec has been confirmed.
    pub fn exec_confirmed(&self) -> bool {
        self.exec_at.is_some()
    }

    fn record_spawnerr(&mut self, msg: String, core: &mut Core) {
        core.logger.info(&format!("spawnerr: {}", msg));
        self.spawnerr = Some(msg);
    }

    /// Changes state, emits the PROCESS_STATE event and queues a
    /// transition pass.
    pub fn change_state(&mut self, new: ProcessState, expected: bool, core: &mut Core) {
        let old = self.state;
        if new == old {
            return;
        }
        self.state = new;
        if new == ProcessState::Running {
            self.runs += 1;
        }
        if new == ProcessState::Backoff {
            self.backoff += 1;
            self.delay = Some(Instant::now() + Duration::from_secs(self.backoff.max(0) as u64));
        }
        core.notes.push(Notification::process_state(
            new,
            &self.config.name,
            &self.group,
            old,
            self.backoff,
            expected,
            self.pid,
        ));
        core.state_changed = true;
        core.enqueue(self);
    }

    /// Splits the command and finds the executable as the reference does:
    /// a name without `/` is looked up on the program's PATH.
    pub fn execv_args(&self) -> Result<(PathBuf, Vec<String>), BadCommand> {
        let argv = shlex_split(&self.config.command).map_err(|e| {
            BadCommand::Bad(format!(
                "can't parse command {}: {}",
                py_repr(&self.config.command),
                e
            ))
        })?;
        let Some(program) = argv.first() else {
            return Err(BadCommand::Bad("command is empty".into()));
        };
        let (filename, meta) = if program.contains('/') {
            let p = PathBuf::from(program);
            let m = std::fs::metadata(&p).ok();
            (p, m)
        } else {
            let mut found = None;
            for dir in self.search_path() {
                let cand = Path::new(&dir).join(program);
                if let Ok(m) = std::fs::metadata(&cand) {
                    found = Some((cand, m));
                    break;
                }
            }
            match found {
                Some((p, m)) => (p, Some(m)),
                None => (PathBuf::from(program), None),
            }
        };
        let shown = py_repr(&filename.to_string_lossy());
        let Some(meta) = meta else {
            return Err(BadCommand::NotFound(format!(
                "can't find command {}",
                shown
            )));
        };
        if meta.is_dir() {
            return Err(BadCommand::NotExecutable(format!(
                "command at {} is a directory",
                shown
            )));
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(BadCommand::NotExecutable(format!(
                "command at {} is not executable",
                shown
            )));
        }
        if !sys::can_execute(&filename) {
            return Err(BadCommand::NoPermission(format!(
                "no permission to run command {}",
                shown
            )));
        }
        Ok((filename, argv))
    }

    fn search_path(&self) -> Vec<String> {
        if let Some((_, p)) = self.config.environment.iter().find(|(k, _)| k == "PATH") {
            return p.split(':').map(str::to_string).collect();
        }
        match std::env::var("PATH") {
            Ok(p) if !p.is_empty() => p.split(':').map(str::to_string).collect(),
            _ => vec!["/bin".into(), "/usr/bin".into(), "/usr/local/bin".into()],
        }
    }

    /// The child's environment: ours, then SUPERVISOR_*, then the configured
    /// `environment` (later wins).
    fn child_env(&self, core: &Core) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        let mut set = |k: &str, v: &str| {
            let k = OsString::from(k);
            match env.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = OsString::from(v),
                None => env.push((k, OsString::from(v))),
            }
        };
        set("SUPERVISOR_ENABLED", "1");
        if let Some(url) = self
            .config
            .serverurl
            .as_deref()
            .or(core.options.serverurl.as_deref())
        {
            set("SUPERVISOR_SERVER_URL", url);
        }
        set("SUPERVISOR_PROCESS_NAME", &self.config.name);
        set("SUPERVISOR_GROUP_NAME", &self.group);
        for (k, v) in &self.config.environment {
            set(k, v);
        }
        env
    }

    fn privileges(&self) -> Privileges {
        let Some(uid) = self.config.uid else {
            return Privileges::Keep;
        };
        if uid == sys::getuid() {
            return Privileges::Keep;
        }
        if sys::getuid() != 0 {
            return Privileges::Refuse;
        }
        match sys::getpwuid(uid) {
            Some(pw) => Privileges::Drop {
                uid,
                gid: pw.gid,
                groups: sys::grouplist(&pw.name, pw.gid),
            },
            None => Privileges::Refuse,
        }
    }

    /// Starts the child. `socket` is the fcgi group's listening socket, which
    /// becomes the child's stdin. Returns the pid, or None on failure (the
    /// process is then in BACKOFF with `spawnerr` set).
    pub fn spawn(&mut self, core: &mut Core, socket: Option<RawFd>) -> Option<i32> {
        if self.pid != 0 {
            core.logger
                .warn(&format!("process '{}' already running", self.config.name));
            return None;
        }
        self.killing = false;
        self.spawnerr = None;
        self.exitstatus = None;
        self.held_signal = None;
        self.exec_at = None;
        self.laststart = epoch_now();
        self.change_state(ProcessState::Starting, true, core);

        let (filename, argv) = match self.execv_args() {
            Ok(v) => v,
            Err(e) => {
                self.record_spawnerr(e.message().to_string(), core);
                self.change_state(ProcessState::Backoff, true, core);
                return None;
            }
        };
        let name = self.config.name.clone();
        let pipes = match self.make_pipes(socket.is_some()) {
            Ok(p) => p,
            Err(e) => {
                let msg = if e.raw_os_error() == Some(libc::EMFILE) {
                    format!("too many open files to spawn '{}'", name)
                } else {
                    format!(
                        "unknown error making dispatchers for '{}': {}",
                        name,
                        sys::errno_text(e.raw_os_error().unwrap_or(0))
                    )
                };
                self.record_spawnerr(msg, core);
                self.change_state(ProcessState::Backoff, true, core);
                return None;
            }
        };
        let setup = match self.child_setup(core, &filename, &argv, &pipes, socket) {
            Ok(s) => s,
            Err(msg) => {
                self.record_spawnerr(msg, core);
                self.change_state(ProcessState::Backoff, true, core);
                return None;
            }
        };
        let (pid, status) = match sys::spawn(&setup) {
            Ok(v) => v,
            Err(e) => {
                let msg = if e.raw_os_error() == Some(libc::EAGAIN) {
                    format!("Too many processes in process table to spawn '{}'", name)
                } else {
                    format!(
                        "unknown error during fork for '{}': {}",
                        name,
                        sys::errno_text(e.raw_os_error().unwrap_or(0))
                    )
                };
                self.record_spawnerr(msg, core);
                self.change_state(ProcessState::Backoff, true, core);
                return None;
            }
        };
        self.pid = pid;
        core.pids.insert(pid, self.id);
        core.logger
            .info(&format!("spawned: {} with pid {}", py_repr(&name), pid));
        if let Err(e) = self.attach_pipes(pipes, status, core) {
            // The child runs but we cannot watch it; it will be reaped and
            // its output is lost, which the log says.
            core.logger
                .critical(&format!("could not watch the pipes of {}: {}", name, e));
        }
        if self.listener.is_some() {
            self.listener = Some(Listener {
                state: ListenerState::Acknowledged,
                protocol: ListenerProtocol::default(),
                event: None,
            });
        }
        Some(pid)
    }

    fn make_pipes(&self, fcgi: bool) -> io::Result<ChildPipes> {
        let stdin = if fcgi { None } else { Some(sys::pipe()?) };
        let stdout = sys::pipe()?;
        let stderr = if self.config.redirect_stderr {
            None
        } else {
            Some(sys::pipe()?)
        };
        Ok(ChildPipes {
            stdin,
            stdout,
            stderr,
        })
    }

    fn child_setup(
        &self,
        core: &Core,
        filename: &Path,
        argv: &[String],
        pipes: &ChildPipes,
        socket: Option<RawFd>,
    ) -> Result<ChildSetup, String> {
        let cstr =
            |b: &[u8]| CString::new(b).map_err(|_| "command contains a NUL byte".to_string());
        let envp = self
            .child_env(core)
            .into_iter()
            .filter_map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend(v.into_vec());
                CString::new(kv).ok()
            })
            .collect();
        let stdin = match (&pipes.stdin, socket) {
            (_, Some(s)) => s,
            (Some((r, _)), None) => r.as_raw_fd(),
            (None, None) => return Err("no stdin for child".into()),
        };
        let stdout = pipes.stdout.1.as_raw_fd();
        let stderr = match &pipes.stderr {
            Some((_, w)) => w.as_raw_fd(),
            None => stdout,
        };
        Ok(ChildSetup {
            path: cstr(filename.as_os_str().as_bytes())?,
            argv: argv
                .iter()
                .map(|a| cstr(a.as_bytes()))
                .collect::<Result<_, _>>()?,
            envp,
            directory: match &self.config.directory {
                Some(d) => Some(cstr(OsStr::new(d).as_bytes())?),
                None => None,
            },
            umask: self.config.umask,
            privileges: self.privileges(),
            stdin,
            stdout,
            stderr,
            minfds: core.options.minfds.min(i32::MAX as u64) as i32,
        })
    }

    /// Keeps the parent ends of the pipes, closes the child ends, and
    /// registers everything with the poller.
    fn attach_pipes(
        &mut self,
        pipes: ChildPipes,
        status: OwnedFd,
        core: &mut Core,
    ) -> io::Result<()> {
        let ChildPipes {
            stdin,
            stdout,
            stderr,
        } = pipes;
        let status = File::from(status);
        sys::set_nonblocking(status.as_raw_fd(), true)?;
        let key = core.register(
            status.as_raw_fd(),
            Owner::Proc(self.id, Pipe::Status),
            true,
            false,
        )?;
        self.status = Some(StatusPipe {
            file: status,
            key,
            buf: Vec::new(),
        });
        let (out_r, _out_w) = stdout;
        self.stdout = Some(self.output(Channel::Stdout, out_r, core)?);
        if let Some((err_r, _err_w)) = stderr {
            self.stderr = Some(self.output(Channel::Stderr, err_r, core)?);
        }
        if let Some((_in_r, in_w)) = stdin {
            let f = File::from(in_w);
            sys::set_nonblocking(f.as_raw_fd(), true)?;
            // Registered for writing only while there is something to write.
            let key = core.register(
                f.as_raw_fd(),
                Owner::Proc(self.id, Pipe::Stdin),
                false,
                false,
            )?;
            self.stdin = Some(InputDispatcher::new(f, key));
        }
        Ok(())
    }

    fn output(
        &self,
        channel: Channel,
        fd: OwnedFd,
        core: &mut Core,
    ) -> io::Result<OutputDispatcher> {
        let f = File::from(fd);
        sys::set_nonblocking(f.as_raw_fd(), true)?;
        let (cfg, path, pipe) = match channel {
            Channel::Stdout => (&self.config.stdout, &self.stdout_logfile, Pipe::Stdout),
            Channel::Stderr => (&self.config.stderr, &self.stderr_logfile, Pipe::Stderr),
        };
        // A listener's stdout is the protocol channel: no capture, no events.
        let protocol = self.listener.is_some() && channel == Channel::Stdout;
        let settings = OutputSettings {
            logfile: path.as_deref(),
            maxbytes: cfg.maxbytes,
            backups: cfg.backups,
            syslog: cfg.syslog && !protocol,
            capture_maxbytes: if protocol { 0 } else { cfg.capture_maxbytes },
            events_enabled: cfg.events_enabled && !protocol,
        };
        let fd = f.as_raw_fd();
        // Open the log first: nothing is registered if that fails.
        let mut d = OutputDispatcher::new(channel, f, usize::MAX, &settings)?;
        d.key = core.register(fd, Owner::Proc(self.id, pipe), true, false)?;
        Ok(d)
    }

    /// Reads what is available on the exec status pipe. Ok(true) once it
    /// reached EOF (or failed): the caller then calls `status_closed`.
    pub fn read_status(&mut self) -> bool {
        let Some(s) = self.status.as_mut() else {
            return false;
        };
        let mut buf = [0u8; 64];
        loop {
            match io::Read::read(&mut s.file, &mut buf) {
                Ok(0) => return true,
                Ok(n) => s.buf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(_) => return true,
            }
        }
    }

    /// Records a spawn that failed before it could fork (STARTING, then
    /// BACKOFF with `msg` as spawnerr).
    pub fn fail_spawn(&mut self, msg: String, core: &mut Core) {
        self.laststart = epoch_now();
        self.change_state(ProcessState::Starting, true, core);
        self.record_spawnerr(msg, core);
        self.change_state(ProcessState::Backoff, true, core);
    }

    /// The status pipe closed: exec succeeded or the child reported why it
    /// failed. Returns the text to inject into the child's stderr (the
    /// reference's child writes it there itself).
    pub fn status_closed(&mut self, core: &mut Core) -> Option<String> {
        let s = self.status.take()?;
        core.deregister(s.key, s.file.as_raw_fd());
        match sys::decode_exec_report(&s.buf) {
            ExecReport::Execed => {
                self.exec_at = Some(Instant::now());
                if let Some((sig, as_group)) = self.held_signal.take() {
                    core.logger.debug(&format!(
                        "sending {} (pid {}) the {} requested before its exec",
                        self.config.name,
                        self.pid,
                        signame(sig)
                    ));
                    self.send_signal(sig, as_group, core);
                }
                core.enqueue(self);
                None
            }
            ExecReport::Failed { stage, errno } => Some(self.child_failure_text(stage, errno)),
        }
    }

    /// Whether the exec status pipe is still open.
    pub fn has_status_pipe(&self) -> bool {
        self.status.is_some()
    }

    fn child_failure_text(&self, stage: ChildStage, errno: i32) -> String {
        let e = sys::errno_text(errno);
        let uid = self.config.uid.unwrap_or(0);
        let first = match stage {
            ChildStage::NonRoot => Some(format!(
                "couldn't setuid to {}: Can't drop privilege as nonroot user",
                uid
            )),
            ChildStage::SetGroups => Some(format!(
                "couldn't setuid to {}: Could not set groups of effective user",
                uid
            )),
            ChildStage::SetGid => Some(format!(
                "couldn't setuid to {}: Could not set group id of effective user",
                uid
            )),
            ChildStage::SetUid => None,
            ChildStage::Chdir => Some(format!(
                "couldn't chdir to {}: {}",
                self.config.directory.as_deref().unwrap_or(""),
                e
            )),
            ChildStage::Exec => {
                let argv0 = shlex_split(&self.config.command)
                    .ok()
                    .and_then(|a| a.into_iter().next())
                    .unwrap_or_default();
                Some(format!("couldn't exec {}: {}", argv0, e))
            }
        };
        let mut text = String::new();
        if let Some(f) = first {
            text.push_str(&format!("supervisor: {}\n", f));
        }
        text.push_str("supervisor: child process was not spawned\n");
        text
    }

    /// Administrative stop.
    pub fn stop(&mut self, core: &mut Core) -> Option<String> {
        self.laststopreport = 0.0;
        self.kill(self.config.stopsignal, core)
    }

    /// Logs `waiting for x to stop` at most every 2 seconds.
    pub fn stop_report(&mut self, core: &mut Core) {
        if self.state == ProcessState::Stopping {
            let now = epoch_now();
            if now > self.laststopreport + 2.0 {
                core.logger
                    .info(&format!("waiting for {} to stop", self.config.name));
                self.laststopreport = now;
            }
        }
    }

    pub fn give_up(&mut self, core: &mut Core) {
        self.delay = None;
        self.backoff = 0;
        self.change_state(ProcessState::Fatal, true, core);
    }

    /// Sends `sig` intending the process to exit (stop / SIGKILL). Returns
    /// an error message, or None when sent (or held until exec).
    pub fn kill(&mut self, sig: i32, core: &mut Core) -> Option<String> {
        let name = self.config.name.clone();
        if self.state == ProcessState::Backoff {
            core.logger.debug(&format!(
                "Attempted to kill {}, which is in BACKOFF state.",
                name
            ));
            self.change_state(ProcessState::Stopped, true, core);
            return None;
        }
        if self.pid == 0 {
            let msg = format!(
                "attempted to kill {} with sig {} but it wasn't running",
                name,
                signame(sig)
            );
            core.logger.debug(&msg);
            return Some(msg);
        }
        let as_group = if self.state == ProcessState::Stopping {
            self.config.killasgroup
        } else {
            self.config.stopasgroup
        };
        core.logger.debug(&format!(
            "killing {} (pid {}) {}with signal {}",
            name,
            self.pid,
            if as_group { "process group " } else { "" },
            signame(sig)
        ));
        self.killing = true;
        self.delay = Some(Instant::now() + secs(self.config.stopwaitsecs));
        self.change_state(ProcessState::Stopping, true, core);
        // Always (re)arm: a SIGKILL repeats every stopwaitsecs.
        core.enqueue(self);
        if !self.exec_confirmed() {
            self.held_signal = Some((sig, as_group));
            return None;
        }
        self.send_signal(sig, as_group, core)
    }

    fn send_signal(&mut self, sig: i32, as_group: bool, core: &mut Core) -> Option<String> {
        let target = if as_group { -self.pid } else { self.pid };
        match sys::kill(target, sig) {
            Ok(()) => None,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                core.logger.debug(&format!(
                    "unable to signal {} (pid {}), it probably just exited on its own: {}",
                    self.config.name, self.pid, e
                ));
                None
            }
            Err(e) => {
                let msg = format!(
                    "unknown problem killing {} ({}):{}",
                    self.config.name, self.pid, e
                );
                core.logger.critical(&msg);
                self.change_state(ProcessState::Unknown, true, core);
                self.killing = false;
                self.delay = None;
                Some(msg)
            }
        }
    }

    /// Sends `sig` without intending a stop (signalProcess).
    pub fn signal(&mut self, sig: i32, core: &mut Core) -> Option<String> {
        if self.pid == 0 {
            let msg = format!(
                "attempted to send {} sig {} but it wasn't running",
                self.config.name,
                signame(sig)
            );
            core.logger.debug(&msg);
            return Some(msg);
        }
        core.logger.debug(&format!(
            "sending {} (pid {}) sig {}",
            self.config.name,
            self.pid,
            signame(sig)
        ));
        if !self.exec_confirmed() {
            self.held_signal = Some((sig, false));
            return None;
        }
        match sys::kill(self.pid, sig) {
            Ok(()) => None,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                core.logger.debug(&format!(
                    "unable to signal {} (pid {}), it probably just now exited on its own: {}",
                    self.config.name, self.pid, e
                ));
                None
            }
            Err(e) => {
                let msg = format!(
                    "unknown problem sending sig {} ({}):{}",
                    self.config.name, self.pid, e
                );
                core.logger.critical(&msg);
                self.change_state(ProcessState::Unknown, true, core);
                Some(msg)
            }
        }
    }

    /// The child was reaped with wait status `status`. The caller has
    /// drained its pipes. Returns the event it was processing, if it was a
    /// busy listener (to be rebuffered).
    pub fn finish(&mut self, status: i32, core: &mut Core) -> Option<Pending> {
        let (es, msg) = describe_wait_status(status);
        let now = epoch_now();
        self.laststop = now;
        let name = self.config.name.clone();
        let too_quickly = match self.exec_at {
            None => true,
            Some(t) => t.elapsed() < secs(self.config.startsecs),
        };
        let exit_expected = self.config.exitcodes.contains(&es);

        if self.killing {
            self.killing = false;
            self.delay = None;
            self.exitstatus = Some(es);
            let line = format!("stopped: {} ({})", name, msg);
            self.change_state(ProcessState::Stopped, true, core);
            if exit_expected {
                core.logger.info(&line);
            } else {
                core.logger.warn(&line);
            }
        } else if too_quickly && self.state == ProcessState::Starting {
            self.exitstatus = None;
            self.spawnerr = Some("Exited too quickly (process log may have details)".into());
            core.logger
                .warn(&format!("exited: {} ({}; not expected)", name, msg));
            self.change_state(ProcessState::Backoff, true, core);
        } else {
            self.delay = None;
            self.backoff = 0;
            self.exitstatus = Some(es);
            if self.state == ProcessState::Starting {
                self.change_state(ProcessState::Running, true, core);
            }
            if exit_expected {
                core.logger
                    .info(&format!("exited: {} ({}; expected)", name, msg));
                self.change_state(ProcessState::Exited, true, core);
            } else {
                self.spawnerr = Some(format!("Bad exit code {}", es));
                core.logger
                    .warn(&format!("exited: {} ({}; not expected)", name, msg));
                self.change_state(ProcessState::Exited, false, core);
            }
        }
        core.pids.remove(&self.pid);
        self.pid = 0;
        self.exec_at = None;
        self.held_signal = None;
        self.close_pipes(core);
        self.listener.as_mut().and_then(|l| l.event.take())
    }

    /// Closes every parent-side pipe of the current child.
    pub fn close_pipes(&mut self, core: &mut Core) {
        if let Some(s) = self.status.take() {
            core.deregister(s.key, s.file.as_raw_fd());
        }
        for d in [self.stdout.take(), self.stderr.take()]
            .into_iter()
            .flatten()
        {
            if let Some(p) = d.pipe.as_ref() {
                core.deregister(d.key, p.as_raw_fd());
            }
        }
        if let Some(d) = self.stdin.take() {
            if let Some(p) = d.pipe.as_ref() {
                core.deregister(d.key, p.as_raw_fd());
            }
        }
    }

    /// Queues `data` for the child's stdin. Errors as the reference's
    /// `write`: EPIPE when not running, being killed, or the pipe closed.
    pub fn write_stdin(&mut self, data: &[u8], core: &mut Core) -> io::Result<()> {
        let epipe = || io::Error::from_raw_os_error(libc::EPIPE);
        if self.pid == 0 || self.killing {
            return Err(epipe());
        }
        let Some(d) = self.stdin.as_mut() else {
            return Err(epipe());
        };
        let Some(fd) = d.pipe.as_ref().map(|p| p.as_raw_fd()) else {
            return Err(epipe());
        };
        d.buffer.extend_from_slice(data);
        let res = d.flush();
        let key = d.key;
        match res {
            Ok(()) => {
                if !d.buffer.is_empty() {
                    let _ = core.poller.modify(fd, key, false, true);
                }
                Ok(())
            }
            Err(e) => {
                self.close_stdin(core);
                Err(e)
            }
        }
    }

    /// The stdin pipe became writable: write what is buffered.
    pub fn stdin_writable(&mut self, core: &mut Core) {
        let Some(d) = self.stdin.as_mut() else {
            return;
        };
        let Some(fd) = d.pipe.as_ref().map(|p| p.as_raw_fd()) else {
            return;
        };
        let key = d.key;
        match d.flush() {
            Ok(()) if d.buffer.is_empty() => {
                let _ = core.poller.modify(fd, key, false, false);
            }
            Ok(()) => {}
            Err(_) => self.close_stdin(core),
        }
    }

    fn close_stdin(&mut self, core: &mut Core) {
        if let Some(d) = self.stdin.as_mut() {
            if let Some(p) = d.pipe.take() {
                core.deregister(d.key, p.as_raw_fd());
            }
            d.buffer.clear();
        }
    }

    /// The reference's `transition`, run when something happened to this
    /// process or its timer fired; re-arms the timer for its next deadline.
    /// Returns true if it wants to spawn (the caller spawns, because fcgi
    /// programs need their group's socket).
    pub fn transition(&mut self, core: &mut Core) -> bool {
        let now = Instant::now();
        let state = self.state;
        let mut want_spawn = false;
        if core.mood > SupervisorState::Restarting {
            want_spawn = match state {
                ProcessState::Exited => match self.config.autorestart {
                    AutoRestart::True => true,
                    AutoRestart::Unexpected => self
                        .exitstatus
                        .is_none_or(|s| !self.config.exitcodes.contains(&s)),
                    AutoRestart::False => false,
                },
                ProcessState::Stopped => self.laststart == 0.0 && self.config.autostart,
                ProcessState::Backoff => {
                    self.backoff <= self.config.startretries && self.delay.is_none_or(|d| now >= d)
                }
                _ => false,
            };
        }
        if want_spawn {
            return true;
        }
        self.after_spawn_check(state, core);
        false
    }

    /// The second half of `transition`, run on the state the process had
    /// before any spawn in this pass (as the reference does).
    pub fn after_spawn_check(&mut self, state: ProcessState, core: &mut Core) {
        let now = Instant::now();
        match state {
            ProcessState::Starting if self.state == ProcessState::Starting => {
                if let Some(t) = self.exec_at {
                    if now.duration_since(t) > secs(self.config.startsecs) {
                        self.delay = None;
                        self.backoff = 0;
                        self.change_state(ProcessState::Running, true, core);
                        core.logger.info(&format!(
                            "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                            self.config.name, self.config.startsecs
                        ));
                    }
                }
            }
            ProcessState::Backoff
                if self.state == ProcessState::Backoff
                    && self.backoff > self.config.startretries =>
            {
                self.give_up(core);
                core.logger.info(&format!(
                    "gave up: {} entered FATAL state, too many start retries too quickly",
                    self.config.name
                ));
            }
            ProcessState::Stopping
                if self.state == ProcessState::Stopping && self.delay.is_some_and(|d| now >= d) =>
            {
                core.logger.warn(&format!(
                    "killing '{}' ({}) with SIGKILL",
                    self.config.name, self.pid
                ));
                self.kill(libc::SIGKILL, core);
            }
            _ => {}
        }
        self.arm_timer(core);
    }

    /// When this process next needs a transition pass, if ever.
    fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            ProcessState::Starting => self
                .exec_at
                .map(|t| t + secs(self.config.startsecs) + Duration::from_millis(1)),
            ProcessState::Backoff if self.backoff <= self.config.startretries => self.delay,
            ProcessState::Stopping => self.delay,
            _ => None,
        }
    }

    fn arm_timer(&mut self, core: &mut Core) {
        self.timer_gen += 1;
        if let Some(d) = self.next_deadline() {
            core.timers.push_proc(d, self.id, self.timer_gen);
        }
    }

    /// Reopens the log files (USR2).
    pub fn reopen_logs(&mut self) {
        for d in [self.stdout.as_mut(), self.stderr.as_mut()]
            .into_iter()
            .flatten()
        {
            d.reopen();
        }
    }
}

/// The pipes of a child being spawned: (read end, write end) pairs.
struct ChildPipes {
    stdin: Option<(OwnedFd, OwnedFd)>,
    stdout: (OwnedFd, OwnedFd),
    stderr: Option<(OwnedFd, OwnedFd)>,
}

fn secs(n: i64) -> Duration {
    Duration::from_secs(n.max(0) as u64)
}

/// The reference's `decode_wait_status`: (exit status for exitcodes,
/// description). Signals give -1.
pub fn describe_wait_status(status: i32) -> (i32, String) {
    match sys::decode_wait_status(status) {
        sys::WaitStatus::Exited(code) => (code, format!("exit status {}", code)),
        sys::WaitStatus::Signaled { signal, core } => {
            let mut msg = format!("terminated by {}", signame(signal));
            if core {
                msg.push_str(" (core dumped)");
            }
            (-1, msg)
        }
        sys::WaitStatus::Other(s) => (-1, format!("unknown termination cause 0x{:04x}", s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_text() {
        assert_eq!(describe_wait_status(0), (0, "exit status 0".into()));
        assert_eq!(describe_wait_status(3 << 8), (3, "exit status 3".into()));
        assert_eq!(
            describe_wait_status(libc::SIGTERM),
            (-1, "terminated by SIGTERM".into())
        );
        assert_eq!(
            describe_wait_status(libc::SIGSEGV | 0x80),
            (-1, "terminated by SIGSEGV (core dumped)".into())
        );
    }

    #[test]
    fn autolog_names() {
        let d = std::env::temp_dir().join(format!("sv-autolog-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = create_autolog(&d, "cat", "supervisor", "stdout").unwrap();
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(n.starts_with("cat-stdout---supervisor-"), "{n}");
        assert!(n.ends_with(".log"));
        assert_eq!(n.len(), "cat-stdout---supervisor-".len() + 8 + 4);
        let _ = std::fs::remove_dir_all(&d);
    }
}
