//! socket_manager: the listening socket of an `[fcgi-program:x]` group.
//!
//! Reference-counted like the reference's: created (bound and listening)
//! when the first child of the group is about to spawn, handed to every
//! child as fd 0, kept while any child lives, closed when the last one is
//! reaped. It is also created once when the group is made, to fail early on
//! a bad address, and closed again at once; both are logged (`Creating
//! socket <url>` / `Closing socket <url>`) as the reference does. As there,
//! a UNIX socket's file stays in place after the socket is closed (the next
//! creation unlinks it first), and TCP sockets are IPv4 (`AF_INET`).
//!
//! Deliberate difference: when the socket cannot be made again at a later
//! spawn (the address got taken meanwhile), that spawn fails with the
//! `Could not create FastCGI socket ...` message as its spawn error and the
//! process backs off; the reference's main loop dies on the exception.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

use crate::loggers::Logger;
use crate::options::SocketConfig;
use crate::sys;

/// The socket of one fcgi group and how many children hold it.
pub struct SocketManager {
    config: SocketConfig,
    socket: Option<OwnedFd>,
    refs: usize,
}

impl SocketManager {
    /// Checks that the socket can be created (then closes it again).
    /// The error is the reference's `Could not create FastCGI socket ...`.
    pub fn new(config: SocketConfig, logger: &mut Logger) -> Result<SocketManager, String> {
        let mut m = SocketManager {
            config,
            socket: None,
            refs: 0,
        };
        m.acquire(logger).map_err(|e| m.error_text(&e))?;
        m.release(logger);
        Ok(m)
    }

    pub fn url(&self) -> String {
        self.config.url()
    }

    /// `Could not create FastCGI socket <url>: <error as Python prints it>`.
    pub fn error_text(&self, e: &io::Error) -> String {
        format!(
            "Could not create FastCGI socket {}: {}",
            self.url(),
            os_error_text(e)
        )
    }

    /// Takes a reference for a child about to spawn; creates the socket if
    /// none is open. Returns the fd to pass as the child's stdin.
    pub fn acquire(&mut self, logger: &mut Logger) -> io::Result<RawFd> {
        let fd = match &self.socket {
            Some(s) => s.as_raw_fd(),
            None => {
                logger.info(&format!("Creating socket {}", self.url()));
                let s = create(&self.config)?;
                let fd = s.as_raw_fd();
                self.socket = Some(s);
                fd
            }
        };
        self.refs += 1;
        Ok(fd)
    }

    /// Drops a child's reference; the last one closes the socket.
    pub fn release(&mut self, logger: &mut Logger) {
        self.refs = self.refs.saturating_sub(1);
        if self.refs == 0 && self.socket.take().is_some() {
            logger.info(&format!("Closing socket {}", self.url()));
        }
    }

    pub fn is_open(&self) -> bool {
        self.socket.is_some()
    }
}

/// An error as Python's `OSError` prints (`[Errno 98] Address already in
/// use`); other errors as they are.
fn os_error_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let text = e.to_string();
            let suffix = format!(" (os error {})", n);
            format!(
                "[Errno {}] {}",
                n,
                text.strip_suffix(&suffix).unwrap_or(&text)
            )
        }
        None => e.to_string(),
    }
}

fn create(config: &SocketConfig) -> io::Result<OwnedFd> {
    match config {
        SocketConfig::Tcp {
            host,
            port,
            backlog,
        } => {
            let l = bind_ipv4(host, *port)?;
            sys::listen(l.as_raw_fd(), backlog.unwrap_or(libc::SOMAXCONN))?;
            Ok(OwnedFd::from(l))
        }
        SocketConfig::Unix {
            path,
            owner,
            mode,
            backlog,
        } => {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            let l = UnixListener::bind(path)?;
            // As the reference: a socket that cannot be set up leaves no file.
            if let Err(e) = chown_chmod(path, *owner, *mode) {
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
            sys::listen(l.as_raw_fd(), backlog.unwrap_or(libc::SOMAXCONN))?;
            Ok(OwnedFd::from(l))
        }
    }
}

/// Binds the first IPv4 address of `host` (std sets SO_REUSEADDR).
fn bind_ipv4(host: &str, port: u16) -> io::Result<TcpListener> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()?
        .filter(SocketAddr::is_ipv4)
        .collect();
    match addrs.first() {
        Some(a) => TcpListener::bind(a),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no IPv4 address for {}", host),
        )),
    }
}

fn chown_chmod(path: &Path, owner: Option<(u32, u32)>, mode: u32) -> io::Result<()> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn refcounting_opens_and_closes() {
        let dir = std::env::temp_dir().join(format!("sv-sockmgr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fcgi.sock");
        let mut log = Logger::new(crate::loggers::LogLevel::Critical);
        let mut m = SocketManager::new(
            SocketConfig::Unix {
                path: path.clone(),
                owner: None,
                mode: 0o620,
                backlog: None,
            },
            &mut log,
        )
        .unwrap();
        assert!(!m.is_open(), "the fail-fast probe is closed again");
        assert!(UnixStream::connect(&path).is_err());
        let a = m.acquire(&mut log).unwrap();
        let b = m.acquire(&mut log).unwrap();
        assert_eq!(a, b);
        assert!(UnixStream::connect(&path).is_ok(), "listening");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o620);
        m.release(&mut log);
        assert!(m.is_open());
        m.release(&mut log);
        assert!(!m.is_open());
        assert!(UnixStream::connect(&path).is_err(), "closed");
        assert!(path.exists(), "the reference leaves the file in place");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_address_fails_early() {
        let mut log = Logger::new(crate::loggers::LogLevel::Critical);
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = SocketManager::new(
            SocketConfig::Tcp {
                host: "127.0.0.1".into(),
                port,
                backlog: None,
            },
            &mut log,
        )
        .err()
        .unwrap();
        assert_eq!(
            err,
            format!(
                "Could not create FastCGI socket tcp://127.0.0.1:{}: [Errno 98] Address already in use",
                port
            )
        );
        assert!(SocketManager::new(
            SocketConfig::Tcp {
                host: "256.1.1.1".into(),
                port: 1,
                backlog: None
            },
            &mut log
        )
        .is_err());
    }
}
