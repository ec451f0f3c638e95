//! socket_manager: the listening socket of an `[fcgi-program:x]` group.
//!
//! Reference-counted like the reference's: created (bound and listening)
//! when the first child of the group is about to spawn, handed to every
//! child as fd 0, kept while any child lives, closed when the last one is
//! reaped. It is also created once when the group is made, to fail early on
//! a bad address, and closed again at once.

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;

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
    pub fn new(config: SocketConfig) -> io::Result<SocketManager> {
        let probe = create(&config)?;
        drop(probe);
        if let SocketConfig::Unix { path, .. } = &config {
            let _ = std::fs::remove_file(path);
        }
        Ok(SocketManager {
            config,
            socket: None,
            refs: 0,
        })
    }

    pub fn url(&self) -> String {
        self.config.url()
    }

    /// Takes a reference for a child about to spawn; creates the socket if
    /// none is open. Returns the fd to pass as the child's stdin.
    pub fn acquire(&mut self, logger: &mut Logger) -> io::Result<RawFd> {
        if self.socket.is_none() {
            logger.info(&format!("Creating socket {}", self.config.url()));
            self.socket = Some(create(&self.config)?);
        }
        self.refs += 1;
        Ok(self.socket.as_ref().map(|s| s.as_raw_fd()).unwrap_or(-1))
    }

    /// Drops a child's reference; the last one closes the socket.
    pub fn release(&mut self, logger: &mut Logger) {
        self.refs = self.refs.saturating_sub(1);
        if self.refs == 0 && self.socket.take().is_some() {
            logger.info(&format!("Closing socket {}", self.config.url()));
            if let SocketConfig::Unix { path, .. } = &self.config {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    pub fn is_open(&self) -> bool {
        self.socket.is_some()
    }
}

fn create(config: &SocketConfig) -> io::Result<OwnedFd> {
    match config {
        SocketConfig::Tcp {
            host,
            port,
            backlog,
        } => {
            // std sets SO_REUSEADDR on UNIX.
            let l = TcpListener::bind((host.as_str(), *port))?;
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
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(path, Some(*uid), Some(*gid))?;
            }
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))?;
            sys::listen(l.as_raw_fd(), backlog.unwrap_or(libc::SOMAXCONN))?;
            Ok(OwnedFd::from(l))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refcounting_opens_and_closes() {
        let dir = std::env::temp_dir().join(format!("sv-sockmgr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fcgi.sock");
        let mut m = SocketManager::new(SocketConfig::Unix {
            path: path.clone(),
            owner: None,
            mode: 0o700,
            backlog: None,
        })
        .unwrap();
        assert!(!m.is_open());
        assert!(!path.exists(), "the fail-fast probe is closed again");
        let mut log = Logger::new(crate::loggers::LogLevel::Critical);
        let a = m.acquire(&mut log).unwrap();
        let b = m.acquire(&mut log).unwrap();
        assert_eq!(a, b);
        assert!(path.exists());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        m.release(&mut log);
        assert!(m.is_open());
        m.release(&mut log);
        assert!(!m.is_open());
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_address_fails_early() {
        assert!(SocketManager::new(SocketConfig::Tcp {
            host: "256.1.1.1".into(),
            port: 1,
            backlog: None
        })
        .is_err());
    }
}
