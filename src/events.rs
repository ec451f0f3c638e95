//! Event types: names, the subscription hierarchy and payload rendering.
//!
//! Subscribing to a type also delivers its subtypes (`EVENT` is everything,
//! `PROCESS_STATE` every `PROCESS_STATE_*`, ...), as the reference's class
//! hierarchy does.

/// Every event type of the reference, abstract parents included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    Event,
    ProcessState,
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunication,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLog,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChange,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroup,
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

use EventType::*;

/// (type, name, parent); the parent of `EVENT` is itself.
const TABLE: &[(EventType, &str, EventType)] = &[
    (Event, "EVENT", Event),
    (ProcessState, "PROCESS_STATE", Event),
    (ProcessStateStopped, "PROCESS_STATE_STOPPED", ProcessState),
    (ProcessStateExited, "PROCESS_STATE_EXITED", ProcessState),
    (ProcessStateStarting, "PROCESS_STATE_STARTING", ProcessState),
    (ProcessStateStopping, "PROCESS_STATE_STOPPING", ProcessState),
    (ProcessStateBackoff, "PROCESS_STATE_BACKOFF", ProcessState),
    (ProcessStateFatal, "PROCESS_STATE_FATAL", ProcessState),
    (ProcessStateRunning, "PROCESS_STATE_RUNNING", ProcessState),
    (ProcessStateUnknown, "PROCESS_STATE_UNKNOWN", ProcessState),
    (ProcessCommunication, "PROCESS_COMMUNICATION", Event),
    (
        ProcessCommunicationStdout,
        "PROCESS_COMMUNICATION_STDOUT",
        ProcessCommunication,
    ),
    (
        ProcessCommunicationStderr,
        "PROCESS_COMMUNICATION_STDERR",
        ProcessCommunication,
    ),
    (ProcessLog, "PROCESS_LOG", Event),
    (ProcessLogStdout, "PROCESS_LOG_STDOUT", ProcessLog),
    (ProcessLogStderr, "PROCESS_LOG_STDERR", ProcessLog),
    (RemoteCommunication, "REMOTE_COMMUNICATION", Event),
    (SupervisorStateChange, "SUPERVISOR_STATE_CHANGE", Event),
    (
        SupervisorStateChangeRunning,
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        SupervisorStateChange,
    ),
    (
        SupervisorStateChangeStopping,
        "SUPERVISOR_STATE_CHANGE_STOPPING",
        SupervisorStateChange,
    ),
    (Tick, "TICK", Event),
    (Tick5, "TICK_5", Tick),
    (Tick60, "TICK_60", Tick),
    (Tick3600, "TICK_3600", Tick),
    (ProcessGroup, "PROCESS_GROUP", Event),
    (ProcessGroupAdded, "PROCESS_GROUP_ADDED", ProcessGroup),
    (ProcessGroupRemoved, "PROCESS_GROUP_REMOVED", ProcessGroup),
];

impl EventType {
    /// The type named `name` (exact, upper-case, as in `events=` after
    /// upper-casing).
    pub fn from_name(name: &str) -> Option<EventType> {
        TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(t, _, _)| *t)
    }

    pub fn name(self) -> &'static str {
        TABLE[self as usize].1
    }

    pub fn parent(self) -> EventType {
        TABLE[self as usize].2
    }

    /// True when an event of type `self` is delivered to a subscriber of
    /// `subscribed` (the type itself or one of its ancestors).
    pub fn is_a(self, subscribed: EventType) -> bool {
        let mut t = self;
        loop {
            if t == subscribed {
                return true;
            }
            if t == Event {
                return false;
            }
            t = t.parent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_discriminant() {
        for (i, (t, _, _)) in TABLE.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
    }

    #[test]
    fn names_round_trip() {
        for (t, n, _) in TABLE {
            assert_eq!(EventType::from_name(n), Some(*t));
            assert_eq!(t.name(), *n);
        }
        assert_eq!(EventType::from_name("FOO"), None);
        assert_eq!(EventType::from_name("tick_5"), None);
    }

    #[test]
    fn hierarchy() {
        assert!(ProcessStateExited.is_a(ProcessState));
        assert!(ProcessStateExited.is_a(Event));
        assert!(!ProcessStateExited.is_a(ProcessLog));
        assert!(Tick60.is_a(Tick));
        assert!(!Tick.is_a(Tick60));
        assert!(ProcessGroupAdded.is_a(ProcessGroup));
    }
}
