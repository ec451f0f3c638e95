//! sys: every libc call that needs `unsafe`, behind safe functions.
//!
//! Users and groups, privileges, rlimits, signals (a self-pipe), waitpid and
//! kill, fork/exec of children (exec failure reported through a
//! close-on-exec pipe), syslog, local time, and the poller registration.
//! The rest of the crate has no `unsafe`; `term` holds the terminal calls
//! used by supervisorctl's shell.

pub mod term;

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

// ---------------------------------------------------------------- identity

pub fn getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

pub fn getgid() -> u32 {
    // SAFETY: getgid has no preconditions and cannot fail.
    unsafe { libc::getgid() }
}

pub fn getpid() -> i32 {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() }
}

/// A passwd entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passwd {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub dir: String,
}

fn cstr_field(p: *const libc::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null fields of a passwd/group record filled by the
    // *_r functions point into our buffer and are NUL-terminated.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Looks a user up by name or by uid (NSS-aware, reentrant).
fn getpw(name: Option<&CStr>, uid: u32) -> Option<Passwd> {
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        // SAFETY: an all-zero passwd is a valid value for the out-parameter.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer refers to live, correctly sized storage and
        // `name` is NUL-terminated.
        let rc = unsafe {
            match name {
                Some(n) => libc::getpwnam_r(
                    n.as_ptr(),
                    &mut pwd,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                ),
                None => libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result),
            }
        };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        return Some(Passwd {
            name: cstr_field(pwd.pw_name),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            dir: cstr_field(pwd.pw_dir),
        });
    }
}

pub fn getpwnam(name: &str) -> Option<Passwd> {
    let c = CString::new(name).ok()?;
    getpw(Some(&c), 0)
}

pub fn getpwuid(uid: u32) -> Option<Passwd> {
    getpw(None, uid)
}

/// Looks a group up by name or gid; returns (name, gid).
fn getgr(name: Option<&CStr>, gid: u32) -> Option<(String, u32)> {
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        // SAFETY: an all-zero group is a valid value for the out-parameter.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: as in `getpw`.
        let rc = unsafe {
            match name {
                Some(n) => libc::getgrnam_r(
                    n.as_ptr(),
                    &mut grp,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut result,
                ),
                None => libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut result),
            }
        };
        if rc == libc::ERANGE && buf.len() < (1 << 22) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() {
            return None;
        }
        return Some((cstr_field(grp.gr_name), grp.gr_gid));
    }
}

/// The gid of group `name`.
pub fn getgrnam(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    getgr(Some(&c), 0).map(|(_, g)| g)
}

/// The name of group `gid`.
pub fn getgrgid(gid: u32) -> Option<String> {
    getgr(None, gid).map(|(n, _)| n)
}

/// Every group `user` belongs to, `gid` first.
pub fn grouplist(user: &str, gid: u32) -> Vec<u32> {
    let Ok(c) = CString::new(user) else {
        return vec![gid];
    };
    let mut n: libc::c_int = 64;
    loop {
        let mut groups: Vec<libc::gid_t> = vec![0; n as usize];
        let want = n;
        // SAFETY: `groups` has room for `n` entries; `n` is updated to the
        // number needed when it is too small.
        let rc = unsafe { libc::getgrouplist(c.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if rc == -1 {
            if n > want && n < 65536 {
                continue;
            }
            return vec![gid];
        }
        groups.truncate(n.max(0) as usize);
        let mut out = vec![gid];
        out.extend(groups.into_iter().filter(|g| *g != gid));
        return out;
    }
}

/// The node name (`platform.node()` / `uname -n`).
pub fn hostname() -> String {
    // SAFETY: an all-zero utsname is a valid out-parameter for uname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    cstr_field(u.nodename.as_ptr())
}

// -------------------------------------------------------------- privileges

/// Drops to `uid`/`gid` with supplementary `groups` (setgroups, setgid,
/// setuid). Error texts are the reference's.
pub fn drop_privileges(uid: u32, gid: u32, groups: &[u32]) -> Result<(), String> {
    // SAFETY: `groups` is a valid slice of gid_t for its length.
    if unsafe { libc::setgroups(groups.len(), groups.as_ptr()) } != 0 {
        return Err("Could not set groups of effective user".into());
    }
    // SAFETY: setgid has no memory-safety preconditions.
    if unsafe { libc::setgid(gid) } != 0 {
        return Err("Could not set group id of effective user".into());
    }
    // SAFETY: setuid has no memory-safety preconditions.
    if unsafe { libc::setuid(uid) } != 0 {
        return Err(format!(
            "Could not set user id: {}",
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Sets the umask, returns the previous one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid has no memory-safety preconditions.
    cvt(unsafe { libc::setsid() }).map(|_| ())
}

/// What `fork` returned in this process.
pub enum Fork {
    Parent(i32),
    Child,
}

/// Forks the (single-threaded) daemon; used only to daemonize.
pub fn fork() -> io::Result<Fork> {
    // SAFETY: the daemon is single-threaded, so the child may run any code.
    match cvt(unsafe { libc::fork() })? {
        0 => Ok(Fork::Child),
        pid => Ok(Fork::Parent(pid)),
    }
}

/// `_exit`: leave now, without running destructors or flushing stdio.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Makes sure fds 0, 1 and 2 are open (on /dev/null if closed), so that no
/// pipe or socket we open later lands on them.
pub fn ensure_std_fds() {
    for fd in 0..3 {
        // SAFETY: F_GETFD on any integer is harmless.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            if let Ok(f) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                let nfd = f.as_raw_fd();
                if nfd != fd {
                    // SAFETY: both are valid fds; dup2 onto a closed slot.
                    unsafe { libc::dup2(nfd, fd) };
                } else {
                    // It landed on the slot we wanted: keep it open.
                    std::mem::forget(f);
                }
            }
        }
    }
}

/// Points fds 0, 1 and 2 at /dev/null (daemonizing).
pub fn redirect_std_fds_to_null() -> io::Result<()> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        // SAFETY: `f` is a valid fd; dup2 replaces the std slot atomically.
        cvt(unsafe { libc::dup2(f.as_raw_fd(), fd) })?;
    }
    Ok(())
}

/// Takes an exclusive advisory lock on `f` without waiting; false if
/// another process holds it.
pub fn try_lock(f: &std::fs::File) -> io::Result<bool> {
    // SAFETY: flock on a descriptor owned by `f`.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    match errno() {
        libc::EWOULDBLOCK => Ok(false),
        e => Err(io::Error::from_raw_os_error(e)),
    }
}

/// Gives freed heap memory back to the kernel (after start-up, the config
/// parser's temporary structures would otherwise stay resident).
pub fn release_free_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe { libc::malloc_trim(0) };
}

// ------------------------------------------------------------------ rlimits

#[derive(Clone, Copy, Debug)]
pub enum Resource {
    NoFile,
    NProc,
}

fn resource_id(r: Resource) -> libc::__rlimit_resource_t {
    match r {
        Resource::NoFile => libc::RLIMIT_NOFILE,
        Resource::NProc => libc::RLIMIT_NPROC,
    }
}

/// (soft, hard); `u64::MAX` means unlimited.
pub fn getrlimit(r: Resource) -> io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-parameter.
    cvt(unsafe { libc::getrlimit(resource_id(r), &mut lim) })?;
    Ok((lim.rlim_cur, lim.rlim_max))
}

pub fn setrlimit(r: Resource, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: `lim` is a valid rlimit.
    cvt(unsafe { libc::setrlimit(resource_id(r), &lim) }).map(|_| ())
}

/// RLIM_INFINITY as we report it.
pub const RLIM_INFINITY: u64 = libc::RLIM_INFINITY;

// ------------------------------------------------------------------ signals

/// Write end of the signal self-pipe, read by the async-signal handler.
static SIGNAL_PIPE_W: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE_W.load(Ordering::Relaxed);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write and errno access are async-signal-safe; errno is
        // restored so the interrupted code sees its own value.
        unsafe {
            let saved = *libc::__errno_location();
            libc::write(fd, &b as *const u8 as *const libc::c_void, 1);
            *libc::__errno_location() = saved;
        }
    }
}

/// Creates a non-blocking close-on-exec pipe.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 returned two fresh descriptors that we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Asks for a pipe capacity of `size` bytes (F_SETPIPE_SZ); the kernel may
/// refuse (above pipe-max-size, or over the user's pipe budget).
pub fn set_pipe_size(fd: RawFd, size: i32) -> io::Result<()> {
    // SAFETY: F_SETPIPE_SZ on a pipe the caller owns.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, size) }).map(|_| ())
}

/// Sets or clears O_NONBLOCK.
pub fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor the caller owns.
    unsafe {
        let flags = cvt(libc::fcntl(fd, libc::F_GETFL))?;
        let flags = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        cvt(libc::fcntl(fd, libc::F_SETFL, flags))?;
    }
    Ok(())
}

/// Routes `signals` to a self-pipe and returns its (non-blocking) read end.
/// Each delivery writes the signal number as one byte.
pub fn install_signal_pipe(signals: &[i32]) -> io::Result<OwnedFd> {
    let (r, w) = pipe()?;
    set_nonblocking(r.as_raw_fd(), true)?;
    set_nonblocking(w.as_raw_fd(), true)?;
    let old = SIGNAL_PIPE_W.swap(w.as_raw_fd(), Ordering::SeqCst);
    std::mem::forget(w); // lives for the rest of the process
    if old >= 0 {
        // SAFETY: `old` was the previous pipe's write end, owned by us.
        unsafe { libc::close(old) };
    }
    for &sig in signals {
        set_handler(sig, on_signal as *const () as libc::sighandler_t)?;
    }
    Ok(r)
}

fn set_handler(sig: i32, handler: libc::sighandler_t) -> io::Result<()> {
    set_handler_flags(sig, handler, libc::SA_RESTART)
}

fn set_handler_flags(sig: i32, handler: libc::sighandler_t, flags: i32) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is valid; we fill handler and flags.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler;
    sa.sa_flags = flags;
    // SAFETY: `sa.sa_mask` is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    // SAFETY: `sa` is fully initialised; the handler only does
    // async-signal-safe work.
    cvt(unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) }).map(|_| ())
}

/// Set by SIGINT while [`catch_interrupts`] is in force.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Whether [`catch_interrupts`] is in force (SIGINT's action to restore
/// after a stream routed it elsewhere).
static CATCHING: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_sig: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes SIGINT set a flag instead of killing the process, and interrupt
/// (not restart) the blocking call in progress, so a caller can give up
/// what it was waiting for: Ctrl-C during a command of supervisorctl's
/// shell, which the reference meets with KeyboardInterrupt.
pub fn catch_interrupts() -> io::Result<()> {
    CATCHING.store(true, Ordering::SeqCst);
    set_handler_flags(
        libc::SIGINT,
        on_interrupt as *const () as libc::sighandler_t,
        0,
    )
}

/// Whether SIGINT arrived since [`catch_interrupts`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// SIGINT's action back to what it was before a stream took it: the flag
/// of [`catch_interrupts`], or the default.
pub fn restore_interrupts() -> io::Result<()> {
    if CATCHING.load(Ordering::SeqCst) {
        catch_interrupts()
    } else {
        default_signal(libc::SIGINT)
    }
}

/// Restores the default action for `sig`.
pub fn default_signal(sig: i32) -> io::Result<()> {
    set_handler(sig, libc::SIG_DFL)
}

/// Ignores `sig`.
pub fn ignore_signal(sig: i32) -> io::Result<()> {
    set_handler(sig, libc::SIG_IGN)
}

/// Reads every pending signal number from the self-pipe.
pub fn read_signals(fd: RawFd) -> Vec<i32> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n <= 0 {
            break;
        }
        out.extend(buf[..n as usize].iter().map(|b| *b as i32));
    }
    out
}

/// Sends `sig` to `pid` (negative: a process group).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    cvt(unsafe { libc::kill(pid, sig) }).map(|_| ())
}

/// Reaps one exited child without blocking: Some((pid, raw wait status)).
/// None when no child has exited (or there are no children).
pub fn waitpid_nohang() -> io::Result<Option<(i32, i32)>> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a valid out-parameter.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            return Ok(Some((pid, status)));
        }
        if pid == 0 {
            return Ok(None);
        }
        match errno() {
            libc::EINTR => continue,
            libc::ECHILD => return Ok(None),
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

/// Reaps `pid`, blocking up to... never: returns Some(status) if it exited.
pub fn waitpid_pid_nohang(pid: i32) -> io::Result<Option<i32>> {
    let mut status: libc::c_int = 0;
    // SAFETY: `status` is a valid out-parameter.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    match r {
        0 => Ok(None),
        -1 => Err(io::Error::last_os_error()),
        _ => Ok(Some(status)),
    }
}

/// A decoded wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(i32),
    Signaled { signal: i32, core: bool },
    Other(i32),
}

pub fn decode_wait_status(status: i32) -> WaitStatus {
    if libc::WIFEXITED(status) {
        WaitStatus::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        WaitStatus::Signaled {
            signal: libc::WTERMSIG(status),
            core: libc::WCOREDUMP(status),
        }
    } else {
        WaitStatus::Other(status)
    }
}

/// The errno symbol (`ENOENT`), as Python's `errno.errorcode` names it.
pub fn errno_name(e: i32) -> Option<&'static str> {
    Some(match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::EPIPE => "EPIPE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELOOP => "ELOOP",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EDQUOT => "EDQUOT",
        libc::ELIBBAD => "ELIBBAD",
        _ => return None,
    })
}

/// Python's `errno.errorcode.get(code, code)`: the symbol, or the number.
pub fn errno_text(e: i32) -> String {
    errno_name(e)
        .map(str::to_string)
        .unwrap_or_else(|| e.to_string())
}

/// `access(path, X_OK)`.
pub fn can_execute(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is NUL-terminated.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

// ------------------------------------------------------------------- spawn

/// How a child changes identity before exec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Privileges {
    /// No `user=`, or already that user.
    Keep,
    /// setgroups(groups), setgid(gid), setuid(uid).
    Drop {
        uid: u32,
        gid: u32,
        groups: Vec<u32>,
    },
    /// `user=` differs from ours and we are not root: the child reports
    /// "Can't drop privilege as nonroot user" and exits, as the reference's does.
    Refuse,
}

/// Everything the child needs, allocated before the fork.
pub struct ChildSetup {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub directory: Option<CString>,
    pub umask: Option<u32>,
    pub privileges: Privileges,
    /// Descriptors that become the child's 0, 1 and 2.
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
    /// Close every other descriptor from 3 up to this (exclusive), at least.
    pub minfds: i32,
}

/// Where a child failed before exec, as reported on the status pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildStage {
    SetGroups = 1,
    SetGid = 2,
    SetUid = 3,
    NonRoot = 4,
    Chdir = 5,
    Exec = 6,
}

impl ChildStage {
    fn from_u8(b: u8) -> Option<ChildStage> {
        Some(match b {
            1 => ChildStage::SetGroups,
            2 => ChildStage::SetGid,
            3 => ChildStage::SetUid,
            4 => ChildStage::NonRoot,
            5 => ChildStage::Chdir,
            6 => ChildStage::Exec,
            _ => return None,
        })
    }
}

/// What the status pipe said once it closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecReport {
    /// Closed with nothing written: exec succeeded.
    Execed,
    /// The child failed at `stage` with `errno` (0 when not an errno).
    Failed { stage: ChildStage, errno: i32 },
}

/// Decodes what was read from the status pipe up to EOF.
pub fn decode_exec_report(bytes: &[u8]) -> ExecReport {
    if bytes.len() >= 5 {
        if let Some(stage) = ChildStage::from_u8(bytes[0]) {
            let errno = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
            return ExecReport::Failed { stage, errno };
        }
    }
    if bytes.is_empty() {
        ExecReport::Execed
    } else {
        ExecReport::Failed {
            stage: ChildStage::Exec,
            errno: 0,
        }
    }
}

/// Forks and execs a child as described by `setup`. Returns its pid and the
/// read end of a close-on-exec status pipe: it reaches EOF with nothing
/// written once exec succeeded, or carries an `ExecReport::Failed` record.
///
/// Between fork and exec the child allocates nothing and makes only
/// async-signal-safe calls: everything is prepared here, before the fork.
pub fn spawn(setup: &ChildSetup) -> io::Result<(i32, OwnedFd)> {
    let mut argv: Vec<*const libc::c_char> = setup.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = setup.envp.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    let groups: &[u32] = match &setup.privileges {
        Privileges::Drop { groups, .. } => groups,
        _ => &[],
    };
    let (status_r, status_w) = pipe()?;
    let status_fd = status_w.as_raw_fd();

    // SAFETY: the daemon is single-threaded; the child branch below calls
    // only async-signal-safe functions on memory prepared before the fork
    // and never returns (exec or _exit).
    let pid = cvt(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: see above; `child_after_fork` never returns.
        unsafe { child_after_fork(setup, &argv, &envp, groups, status_fd) }
    }
    drop(status_w);
    Ok((pid, status_r))
}

/// The child side of `spawn`. Never returns.
///
/// # Safety
/// Must be called only in a freshly forked child of a single-threaded
/// parent, with pointers that stay valid (they were allocated before fork).
unsafe fn child_after_fork(
    setup: &ChildSetup,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    groups: &[u32],
    status_fd: RawFd,
) -> ! {
    let fail = |stage: ChildStage, err: i32| -> ! {
        let e = err.to_le_bytes();
        let rec = [stage as u8, e[0], e[1], e[2], e[3]];
        libc::write(status_fd, rec.as_ptr() as *const libc::c_void, rec.len());
        libc::_exit(127)
    };
    let err = || *libc::__errno_location();

    // The parent's handler would write into the parent's self-pipe.
    SIGNAL_PIPE_W.store(-1, Ordering::Relaxed);
    // Own process group, so signals aimed at supervisord's group (Ctrl-C in
    // the foreground) do not reach children, and -pid reaches theirs.
    libc::setpgid(0, 0);

    // Children start with default dispositions and an empty mask, whatever
    // supervisord ignores (SIGPIPE) or blocks.
    let mut set: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut set);
    libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    for sig in [
        libc::SIGPIPE,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGCHLD,
    ] {
        libc::signal(sig, libc::SIG_DFL);
    }

    for (src, dst) in [(setup.stdin, 0), (setup.stdout, 1), (setup.stderr, 2)] {
        if src == dst {
            libc::fcntl(dst, libc::F_SETFD, 0);
        } else if libc::dup2(src, dst) == -1 {
            fail(ChildStage::Exec, err());
        }
    }
    // Close everything else but the status pipe.
    let close_upto = |lo: i32, hi: i32| {
        if lo > hi {
            return;
        }
        if libc::syscall(
            libc::SYS_close_range,
            lo as libc::c_uint,
            hi as libc::c_uint,
            0,
        ) != 0
        {
            let top = hi.min(setup.minfds.max(1024));
            let mut fd = lo;
            while fd <= top {
                libc::close(fd);
                fd += 1;
            }
        }
    };
    close_upto(3, status_fd - 1);
    close_upto(status_fd + 1, i32::MAX);

    match &setup.privileges {
        Privileges::Keep => {}
        Privileges::Refuse => fail(ChildStage::NonRoot, 0),
        Privileges::Drop { uid, gid, .. } => {
            if libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
                fail(ChildStage::SetGroups, err());
            }
            if libc::setgid(*gid) != 0 {
                fail(ChildStage::SetGid, err());
            }
            if libc::setuid(*uid) != 0 {
                fail(ChildStage::SetUid, err());
            }
        }
    }
    if let Some(dir) = &setup.directory {
        if libc::chdir(dir.as_ptr()) != 0 {
            fail(ChildStage::Chdir, err());
        }
    }
    if let Some(mask) = setup.umask {
        libc::umask(mask as libc::mode_t);
    }
    libc::execve(setup.path.as_ptr(), argv.as_ptr(), envp.as_ptr());
    fail(ChildStage::Exec, err())
}

// --------------------------------------------------------------- local time

/// Broken-down local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    pub year: i32,
    /// 1..=12
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday
    pub weekday: u32,
}

/// Converts epoch seconds to local time (honours TZ).
pub fn localtime(secs: i64) -> Tm {
    let t = secs as libc::time_t;
    // SAFETY: an all-zero tm is a valid out-parameter.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: `t` and `tm` are valid for the call.
    unsafe { libc::localtime_r(&t, &mut tm) };
    Tm {
        year: tm.tm_year + 1900,
        month: (tm.tm_mon + 1) as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
        weekday: tm.tm_wday as u32,
    }
}

// ------------------------------------------------------------------- poller

/// The one poller of a loop: level-triggered readiness keyed by `usize`.
///
/// Invariant kept by callers: an fd is deregistered before it is closed
/// (what `polling` requires of `add`).
pub struct Poller {
    inner: polling::Poller,
    /// Reused by every `wait` (no allocation per wake-up).
    events: std::cell::RefCell<polling::Events>,
}

/// One readiness event.
#[derive(Clone, Copy, Debug)]
pub struct Ready {
    pub key: usize,
    pub readable: bool,
    pub writable: bool,
}

impl Poller {
    pub fn new() -> io::Result<Poller> {
        Ok(Poller {
            inner: polling::Poller::new()?,
            events: std::cell::RefCell::new(polling::Events::new()),
        })
    }

    fn event(key: usize, read: bool, write: bool) -> polling::Event {
        match (read, write) {
            (true, true) => polling::Event::all(key),
            (true, false) => polling::Event::readable(key),
            (false, true) => polling::Event::writable(key),
            (false, false) => polling::Event::none(key),
        }
    }

    /// Starts watching `fd` under `key`.
    pub fn register(&self, fd: RawFd, key: usize, read: bool, write: bool) -> io::Result<()> {
        // SAFETY: callers deregister `fd` before closing it (type invariant).
        unsafe {
            self.inner
                .add_with_mode(fd, Self::event(key, read, write), polling::PollMode::Level)
        }
    }

    /// Changes the interest of a registered `fd`.
    pub fn modify(&self, fd: RawFd, key: usize, read: bool, write: bool) -> io::Result<()> {
        // SAFETY: `fd` is registered and still open (type invariant).
        let bfd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        self.inner
            .modify_with_mode(bfd, Self::event(key, read, write), polling::PollMode::Level)
    }

    /// Stops watching `fd` (before it is closed).
    pub fn deregister(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: `fd` is still open (type invariant).
        let bfd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        self.inner.delete(bfd)
    }

    /// Waits for readiness up to `timeout` (None: forever) and appends the
    /// events to `out`.
    pub fn wait(&self, out: &mut Vec<Ready>, timeout: Option<Duration>) -> io::Result<()> {
        let mut events = self.events.borrow_mut();
        events.clear();
        match self.inner.wait(&mut events, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        out.extend(events.iter().map(|e| Ready {
            key: e.key,
            readable: e.readable,
            writable: e.writable,
        }));
        Ok(())
    }
}

// ------------------------------------------------------------------ sockets

/// `listen(fd, backlog)` on a bound socket (std fixes its own backlog).
pub fn listen(fd: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: listen has no memory-safety preconditions.
    cvt(unsafe { libc::listen(fd, backlog) }).map(|_| ())
}

/// Credentials of the peer of a UNIX socket: (pid, uid, gid).
pub fn peer_credentials(fd: RawFd) -> io::Result<(i32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid out-parameters of the right size.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    })?;
    Ok((cred.pid, cred.uid, cred.gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_user_exists() {
        let p = getpwnam("root").expect("root in passwd");
        assert_eq!(p.uid, 0);
        assert_eq!(getpwuid(0).map(|p| p.name), Some("root".to_string()));
        assert!(getpwnam("no-such-user-xyzzy").is_none());
        assert_eq!(getgrgid(0).as_deref(), Some("root"));
        assert_eq!(getgrnam("root"), Some(0));
    }

    #[test]
    fn exec_report_decoding() {
        assert_eq!(decode_exec_report(&[]), ExecReport::Execed);
        let mut rec = vec![ChildStage::Chdir as u8];
        rec.extend_from_slice(&libc::ENOENT.to_le_bytes());
        assert_eq!(
            decode_exec_report(&rec),
            ExecReport::Failed {
                stage: ChildStage::Chdir,
                errno: libc::ENOENT
            }
        );
    }

    #[test]
    fn wait_status_decoding() {
        assert_eq!(decode_wait_status(3 << 8), WaitStatus::Exited(3));
        assert_eq!(
            decode_wait_status(libc::SIGTERM),
            WaitStatus::Signaled {
                signal: libc::SIGTERM,
                core: false
            }
        );
    }
}
