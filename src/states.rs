//! State codes and names: processes, the supervisor itself, event listeners.

/// A process's state, with the reference's numeric codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProcessState {
    Stopped = 0,
    Starting = 10,
    Running = 20,
    Backoff = 30,
    Stopping = 40,
    Exited = 100,
    Fatal = 200,
    Unknown = 1000,
}

impl ProcessState {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    pub fn from_code(code: i64) -> Option<ProcessState> {
        Some(match code {
            0 => ProcessState::Stopped,
            10 => ProcessState::Starting,
            20 => ProcessState::Running,
            30 => ProcessState::Backoff,
            40 => ProcessState::Stopping,
            100 => ProcessState::Exited,
            200 => ProcessState::Fatal,
            1000 => ProcessState::Unknown,
            _ => return None,
        })
    }

    /// STOPPED, EXITED, FATAL, UNKNOWN.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// RUNNING, BACKOFF, STARTING: a `start` is refused with ALREADY_STARTED.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Backoff | ProcessState::Starting
        )
    }

    /// RUNNING, STARTING, STOPPING: states in which signals may be sent.
    pub fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Starting | ProcessState::Stopping
        )
    }
}

/// The daemon's own state ("mood").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SupervisorState {
    Shutdown = -1,
    Restarting = 0,
    Running = 1,
    Fatal = 2,
}

impl SupervisorState {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            SupervisorState::Fatal => "FATAL",
            SupervisorState::Running => "RUNNING",
            SupervisorState::Restarting => "RESTARTING",
            SupervisorState::Shutdown => "SHUTDOWN",
        }
    }
}

/// An event listener's protocol state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerState {
    Ready = 10,
    Busy = 20,
    Acknowledged = 30,
    Unknown = 40,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in [
            ProcessState::Stopped,
            ProcessState::Starting,
            ProcessState::Running,
            ProcessState::Backoff,
            ProcessState::Stopping,
            ProcessState::Exited,
            ProcessState::Fatal,
            ProcessState::Unknown,
        ] {
            assert_eq!(ProcessState::from_code(s.code() as i64), Some(s));
        }
        assert_eq!(ProcessState::from_code(5), None);
    }

    #[test]
    fn state_classes() {
        assert!(ProcessState::Exited.is_stopped());
        assert!(!ProcessState::Stopping.is_stopped());
        assert!(ProcessState::Backoff.is_running());
        assert!(!ProcessState::Backoff.is_signallable());
        assert!(ProcessState::Stopping.is_signallable());
    }
}
