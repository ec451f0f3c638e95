//! term: terminal calls (termios raw mode, window size, isatty) for supervisorctl's shell.
//!
//! Each mode change is a guard that restores the saved settings on drop, so
//! no error path can leave the user's terminal in raw mode.

use std::io;
use std::os::fd::RawFd;

/// Whether `fd` is a terminal.
pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { libc::isatty(fd) == 1 }
}

/// The terminal's width in columns, if `fd` is a terminal that knows it.
pub fn window_width(fd: RawFd) -> Option<usize> {
    // SAFETY: an all-zero winsize is a valid value to be overwritten.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize into the valid pointer.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws as *mut libc::winsize) };
    (rc == 0 && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

fn get_attrs(fd: RawFd) -> io::Result<libc::termios> {
    // SAFETY: an all-zero termios is a valid value to be overwritten.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr writes one termios into the valid pointer.
    if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(t)
}

fn set_attrs(fd: RawFd, t: &libc::termios) -> io::Result<()> {
    // SAFETY: `t` points to a fully initialised termios.
    if unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Terminal settings changed for a while; the saved ones come back on drop.
pub struct ModeGuard {
    fd: RawFd,
    saved: libc::termios,
}

impl ModeGuard {
    fn change(fd: RawFd, edit: impl FnOnce(&mut libc::termios)) -> io::Result<ModeGuard> {
        let saved = get_attrs(fd)?;
        let mut t = saved;
        edit(&mut t);
        set_attrs(fd, &t)?;
        Ok(ModeGuard { fd, saved })
    }

    /// Raw input for a line editor: bytes arrive one at a time, unechoed,
    /// Ctrl-C and Ctrl-Z as plain bytes; output processing stays on so
    /// `\n` still starts a new line.
    pub fn raw(fd: RawFd) -> io::Result<ModeGuard> {
        Self::change(fd, |t| {
            t.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
            t.c_iflag &= !(libc::IXON | libc::ICRNL | libc::INLCR | libc::ISTRIP | libc::BRKINT);
            t.c_cc[libc::VMIN] = 1;
            t.c_cc[libc::VTIME] = 0;
        })
    }

    /// Line input without echo (password prompts).
    pub fn no_echo(fd: RawFd) -> io::Result<ModeGuard> {
        Self::change(fd, |t| t.c_lflag &= !libc::ECHO)
    }
}

impl Drop for ModeGuard {
    fn drop(&mut self) {
        let _ = set_attrs(self.fd, &self.saved);
    }
}
