//! Events: types and their hierarchy, payload rendering, serial numbers and
//! the per-pool event buffers of event listener pools.
//!
//! Subscribing to a type also delivers its subtypes (`EVENT` is everything,
//! `PROCESS_STATE` every `PROCESS_STATE_*`, ...), as the reference's class
//! hierarchy does. Payloads are rendered when the event is created, so they
//! show the values of that moment (the reference renders state payloads
//! eagerly too).
//!
//! Deliberate difference: an event a listener rejected (or died with) goes
//! back to that listener's pool only. 4.2.5 hands it to every pool holding a
//! process of the same priority as the listener (its `process in procs`
//! compares processes by priority), so pools receive duplicates of events
//! they never subscribed to.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::loggers::Logger;
use crate::states::ProcessState;

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

/// One event: its type and rendered payload, plus the global serial given
/// when the first pool accepted it.
#[derive(Debug)]
pub struct Event {
    pub etype: EventType,
    pub payload: String,
    pub serial: u64,
}

/// The reference's global serial: shared by all pools, never reset (not
/// even by a reload), first value 0, wraps at i64::MAX.
static GLOBAL_SERIAL: AtomicU64 = AtomicU64::new(0);

fn next_serial(counter: &mut u64) -> u64 {
    let s = *counter;
    *counter = if s >= i64::MAX as u64 { 0 } else { s + 1 };
    s
}

fn next_global_serial() -> u64 {
    let mut cur = GLOBAL_SERIAL.load(Ordering::Relaxed);
    let s = next_serial(&mut cur);
    GLOBAL_SERIAL.store(cur, Ordering::Relaxed);
    s
}

/// An event not yet delivered: the type and payload, before any pool took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub etype: EventType,
    pub payload: String,
}

impl Notification {
    /// PROCESS_STATE_<to>: `processname:X groupname:G from_state:S` plus the
    /// extra fields of that state (`tries`, `expected`, `pid`).
    pub fn process_state(
        to: ProcessState,
        name: &str,
        group: &str,
        from: ProcessState,
        tries: i64,
        expected: bool,
        pid: i32,
    ) -> Notification {
        let mut payload = format!(
            "processname:{} groupname:{} from_state:{}",
            name,
            group,
            from.name()
        );
        let etype = match to {
            ProcessState::Stopped => ProcessStateStopped,
            ProcessState::Starting => ProcessStateStarting,
            ProcessState::Running => ProcessStateRunning,
            ProcessState::Backoff => ProcessStateBackoff,
            ProcessState::Stopping => ProcessStateStopping,
            ProcessState::Exited => ProcessStateExited,
            ProcessState::Fatal => ProcessStateFatal,
            ProcessState::Unknown => ProcessStateUnknown,
        };
        match to {
            ProcessState::Starting | ProcessState::Backoff => {
                payload.push_str(&format!(" tries:{}", tries))
            }
            ProcessState::Exited => {
                payload.push_str(&format!(" expected:{} pid:{}", expected as i32, pid))
            }
            ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
                payload.push_str(&format!(" pid:{}", pid))
            }
            ProcessState::Fatal | ProcessState::Unknown => {}
        }
        Notification { etype, payload }
    }

    /// PROCESS_LOG_STDOUT/STDERR.
    pub fn process_log(
        stderr: bool,
        name: &str,
        group: &str,
        pid: i32,
        data: &[u8],
    ) -> Notification {
        let (etype, channel) = if stderr {
            (ProcessLogStderr, "stderr")
        } else {
            (ProcessLogStdout, "stdout")
        };
        Notification {
            etype,
            payload: format!(
                "processname:{} groupname:{} pid:{} channel:{}\n{}",
                name,
                group,
                pid,
                channel,
                decode_or_repr(data)
            ),
        }
    }

    /// PROCESS_COMMUNICATION_STDOUT/STDERR.
    pub fn process_comm(
        stderr: bool,
        name: &str,
        group: &str,
        pid: i32,
        data: &[u8],
    ) -> Notification {
        Notification {
            etype: if stderr {
                ProcessCommunicationStderr
            } else {
                ProcessCommunicationStdout
            },
            payload: format!(
                "processname:{} groupname:{} pid:{}\n{}",
                name,
                group,
                pid,
                decode_or_repr(data)
            ),
        }
    }

    /// REMOTE_COMMUNICATION.
    pub fn remote_comm(typ: &str, data: &str) -> Notification {
        Notification {
            etype: RemoteCommunication,
            payload: format!("type:{}\n{}", typ, data),
        }
    }

    /// SUPERVISOR_STATE_CHANGE_RUNNING / _STOPPING (empty payload).
    pub fn supervisor_state(running: bool) -> Notification {
        Notification {
            etype: if running {
                SupervisorStateChangeRunning
            } else {
                SupervisorStateChangeStopping
            },
            payload: String::new(),
        }
    }

    /// TICK_5 / TICK_60 / TICK_3600 for the slice starting at `when`.
    pub fn tick(etype: EventType, when: u64) -> Notification {
        Notification {
            etype,
            payload: format!("when:{}", when),
        }
    }

    /// PROCESS_GROUP_ADDED / _REMOVED (payload ends with a newline).
    pub fn group(added: bool, name: &str) -> Notification {
        Notification {
            etype: if added {
                ProcessGroupAdded
            } else {
                ProcessGroupRemoved
            },
            payload: format!("groupname:{}\n", name),
        }
    }
}

/// The TICK types and their periods in seconds.
pub const TICKS: [(EventType, u64); 3] = [(Tick5, 5), (Tick60, 60), (Tick3600, 3600)];

/// Data as text: UTF-8, or the reference's `Undecodable: b'...'` form.
pub fn decode_or_repr(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        Err(_) => format!("Undecodable: {}", bytes_repr(data)),
    }
}

/// Python's `repr()` of a bytes object (`b'a\n\x88'`).
pub fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\'' if quote == '\'' => out.push_str("\\'"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{:02x}", b)),
        }
    }
    out.push(quote);
    out
}

/// An event waiting in (or taken from) a pool's buffer.
#[derive(Clone, Debug)]
pub struct Pending {
    pub event: Rc<Event>,
    pub pool_serial: u64,
}

/// The event buffer of one `[eventlistener:x]` pool.
#[derive(Debug)]
pub struct EventPool {
    pub name: String,
    pub buffer_size: usize,
    pub subscriptions: Vec<EventType>,
    serial: u64,
    buffer: VecDeque<Pending>,
}

impl EventPool {
    pub fn new(name: &str, buffer_size: usize, subscriptions: Vec<EventType>) -> EventPool {
        EventPool {
            name: name.to_string(),
            buffer_size: buffer_size.max(1),
            subscriptions,
            serial: 0,
            buffer: VecDeque::new(),
        }
    }

    pub fn subscribes_to(&self, t: EventType) -> bool {
        self.subscriptions.iter().any(|s| t.is_a(*s))
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Buffers a newly notified event at the tail, dropping the oldest on
    /// overflow as the reference does.
    pub fn accept(&mut self, event: Rc<Event>, logger: &mut Logger) {
        let pool_serial = next_serial(&mut self.serial);
        self.insert(Pending { event, pool_serial }, false, logger);
    }

    /// Puts an event back at the head: rejected, its listener died, or no
    /// listener was free to take it (the reference logs the line in every
    /// case).
    pub fn rebuffer(&mut self, pending: Pending, logger: &mut Logger) {
        logger.debug(&format!(
            "rebuffering event {} for pool {} (buf size={}, max={})",
            pending.event.serial,
            self.name,
            self.buffer.len(),
            self.buffer_size
        ));
        self.insert(pending, true, logger);
    }

    fn insert(&mut self, pending: Pending, head: bool, logger: &mut Logger) {
        if self.buffer.len() >= self.buffer_size {
            if let Some(old) = self.buffer.pop_front() {
                logger.error(&format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name, old.event.serial
                ));
            }
        }
        if head {
            self.buffer.push_front(pending);
        } else {
            self.buffer.push_back(pending);
        }
    }

    pub fn pop(&mut self) -> Option<Pending> {
        self.buffer.pop_front()
    }

    /// The bytes sent to a listener: header line and payload. `len` counts
    /// characters, not bytes, as the reference (Python str length) does.
    pub fn envelope(&self, p: &Pending, identifier: &str) -> String {
        format!(
            "ver:3.0 server:{} serial:{} pool:{} poolserial:{} eventname:{} len:{}\n{}",
            identifier,
            p.event.serial,
            self.name,
            p.pool_serial,
            p.event.etype.name(),
            p.event.payload.chars().count(),
            p.event.payload
        )
    }
}

/// Offers `n` to `pools`; if any subscribes, the event gets the next global
/// serial and every subscribing pool buffers it. Returns whether any did.
pub fn publish<'a>(
    n: Notification,
    pools: impl Iterator<Item = &'a mut EventPool>,
    logger: &mut Logger,
) -> bool {
    let mut takers: Vec<&mut EventPool> = pools.filter(|p| p.subscribes_to(n.etype)).collect();
    if takers.is_empty() {
        return false;
    }
    let ev = Rc::new(Event {
        etype: n.etype,
        payload: n.payload,
        serial: next_global_serial(),
    });
    for p in takers.iter_mut() {
        p.accept(ev.clone(), logger);
    }
    true
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
    fn payloads() {
        let n = Notification::process_state(
            ProcessState::Exited,
            "cat",
            "cat",
            ProcessState::Running,
            0,
            false,
            42,
        );
        assert_eq!(n.etype, ProcessStateExited);
        assert_eq!(
            n.payload,
            "processname:cat groupname:cat from_state:RUNNING expected:0 pid:42"
        );
        let n = Notification::process_state(
            ProcessState::Backoff,
            "a",
            "g",
            ProcessState::Starting,
            2,
            true,
            0,
        );
        assert_eq!(
            n.payload,
            "processname:a groupname:g from_state:STARTING tries:2"
        );
        // Extra fields per state, as the reference's get_extra_values.
        let extras = [
            (ProcessState::Stopped, " pid:5"),
            (ProcessState::Starting, " tries:3"),
            (ProcessState::Running, " pid:5"),
            (ProcessState::Backoff, " tries:3"),
            (ProcessState::Stopping, " pid:5"),
            (ProcessState::Exited, " expected:1 pid:5"),
            (ProcessState::Fatal, ""),
            (ProcessState::Unknown, ""),
        ];
        for (to, extra) in extras {
            let n = Notification::process_state(to, "a", "g", ProcessState::Running, 3, true, 5);
            assert_eq!(n.etype.name(), format!("PROCESS_STATE_{}", to.name()));
            assert_eq!(
                n.payload,
                format!("processname:a groupname:g from_state:RUNNING{extra}")
            );
        }
        let n = Notification::process_log(false, "a", "g", 7, b"hi\x88");
        assert_eq!(
            n.payload,
            "processname:a groupname:g pid:7 channel:stdout\nUndecodable: b'hi\\x88'"
        );
        assert_eq!(Notification::group(true, "g").payload, "groupname:g\n");
        assert_eq!(Notification::tick(Tick5, 10).payload, "when:10");
    }

    #[test]
    fn reprs() {
        assert_eq!(bytes_repr(b"\x88\n"), "b'\\x88\\n'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
    }

    #[test]
    fn pool_overflow_drops_oldest_and_envelope_counts_chars() {
        let mut log = Logger::new(crate::loggers::LogLevel::Critical);
        let mut a = EventPool::new("a", 2, vec![ProcessState]);
        let mut b = EventPool::new("b", 10, vec![Event]);
        for _ in 0..3 {
            let n = Notification::remote_comm("t", "x");
            assert!(publish(n, [&mut a, &mut b].into_iter(), &mut log));
            let n = Notification::process_state(
                ProcessState::Running,
                "p",
                "p",
                ProcessState::Starting,
                0,
                true,
                1,
            );
            publish(n, [&mut a, &mut b].into_iter(), &mut log);
        }
        assert_eq!(a.len(), 2);
        assert_eq!(b.len(), 6);
        let first_b = b.pop().unwrap();
        assert_eq!(first_b.pool_serial, 0);
        let first_a = a.pop().unwrap();
        assert_eq!(first_a.pool_serial, 1, "oldest of a was dropped");
        let n = Notification::remote_comm("t", "\u{e9}");
        let mut c = EventPool::new("c", 1, vec![RemoteCommunication]);
        publish(n, [&mut c].into_iter(), &mut log);
        let p = c.pop().unwrap();
        let env = c.envelope(&p, "supervisor");
        assert!(env.starts_with("ver:3.0 server:supervisor serial:"));
        assert!(env
            .ends_with("pool:c poolserial:0 eventname:REMOTE_COMMUNICATION len:8\ntype:t\n\u{e9}"));
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
