//! supervisord: the daemon — start-up, the one poll loop, timers, signals,
//! reaping, shutdown and reload.
//!
//! A single thread owns every fd: child pipes, the signal self-pipe and the
//! HTTP sockets, each registered with the poller under a key that maps to
//! its owner. The loop sleeps until an fd is ready or the earliest timer is
//! due; with nothing pending it sleeps indefinitely (no periodic wake-ups).
//! Work is driven by what happened: a process is queued for a transition
//! pass when its state changed or its timer fired, never rescanned.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::dispatchers::{listener_output_line, ListenerOutcome, Sink};
use crate::events::{self, EventPool, Notification};
use crate::http::HttpServer;
use crate::loggers::{LogLevel, Logger};
use crate::options::{
    self, GroupConfig, GroupKind, MainLogFile, ServerArgs, ServerCommand, ServerOptions,
};
use crate::process::{ProcId, Process};
use crate::slab::Slab;
use crate::socket_manager::SocketManager;
use crate::states::{ListenerState, ProcessState, SupervisorState};
use crate::sys::{self, Poller, Ready};

/// Which pipe of a process an fd is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipe {
    Stdout,
    Stderr,
    Stdin,
    /// The exec status pipe.
    Status,
}

/// Who owns a registered fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Signals,
    Proc(ProcId, Pipe),
    /// An HTTP listener or connection (index into the server's tables).
    Http(usize),
}

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// A process's deadline, valid while its generation matches.
    Proc(ProcId, u64),
    /// The next TICK_<period> boundary (index into `events::TICKS`).
    Tick(usize),
    /// Something in the HTTP server wants a wake-up (deferred responses).
    Http,
}

/// Deadlines in a min-heap; stale entries are skipped when popped.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Timer)>>,
}

impl Timers {
    pub fn push(&mut self, at: Instant, t: Timer) {
        self.heap.push(Reverse((at, t)));
    }

    pub fn push_proc(&mut self, at: Instant, id: ProcId, gen: u64) {
        self.push(at, Timer::Proc(id, gen));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((t, _))| *t)
    }

    /// Removes and returns every timer due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Vec<Timer> {
        let mut out = Vec::new();
        while let Some(Reverse((t, _))) = self.heap.peek() {
            if *t > now {
                break;
            }
            if let Some(Reverse((_, timer))) = self.heap.pop() {
                out.push(timer);
            }
        }
        out
    }
}

/// State shared by everything the loop drives: options, the activity log,
/// the poller and its key table, timers, the transition queue, pending
/// event notifications.
pub struct Core {
    pub options: ServerOptions,
    /// The command line, for re-reading the config (reloadConfig, HUP).
    pub args: ServerArgs,
    pub logger: Logger,
    pub poller: Poller,
    pub keys: Slab<Owner>,
    pub timers: Timers,
    /// Processes waiting for a transition pass.
    pub queue: Vec<ProcId>,
    /// Live child pids.
    pub pids: HashMap<i32, ProcId>,
    /// Events raised since the last publish.
    pub notes: Vec<Notification>,
    pub mood: SupervisorState,
    /// Some process changed state (deferred RPC answers re-check).
    pub state_changed: bool,
    /// One read buffer for every pipe (128 KiB, the reference's read size).
    pub readbuf: Vec<u8>,
}

impl Core {
    /// Registers `fd` under a new key.
    pub fn register(
        &mut self,
        fd: RawFd,
        owner: Owner,
        read: bool,
        write: bool,
    ) -> io::Result<usize> {
        let key = self.keys.insert(owner);
        if let Err(e) = self.poller.register(fd, key, read, write) {
            self.keys.remove(key);
            return Err(e);
        }
        Ok(key)
    }

    /// Stops watching `fd` (call before closing it).
    pub fn deregister(&mut self, key: usize, fd: RawFd) {
        let _ = self.poller.deregister(fd);
        self.keys.remove(key);
    }

    /// Queues `p` for a transition pass (once).
    pub fn enqueue(&mut self, p: &mut Process) {
        if !p.queued {
            p.queued = true;
            self.queue.push(p.id);
        }
    }

    pub fn notify(&mut self, n: Notification) {
        self.notes.push(n);
    }
}

/// A running process group.
pub struct Group {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    /// In config order (priority, name).
    pub procs: Vec<ProcId>,
    /// Boxed (as is `socket`): most groups have neither.
    pub pool: Option<Box<EventPool>>,
    pub socket: Option<Box<SocketManager>>,
}

/// How a run of the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Shutdown,
    Restart,
}

/// The daemon.
pub struct Supervisor {
    pub core: Core,
    pub procs: Slab<Process>,
    /// In the order they were added.
    pub groups: Vec<Group>,
    pub http: HttpServer,
    /// Group configs from the last `reloadConfig` (used by addProcessGroup).
    pub pending_configs: Option<Vec<GroupConfig>>,
    /// Configs of groups removed since start, so that addProcessGroup can
    /// bring them back without a reread (as the reference can).
    pub removed_configs: Vec<GroupConfig>,
    signals: File,
    /// The signal pipe was readable. Signals are read, and children reaped
    /// (waitpid scans every child), only on such passes: every child exit
    /// writes a SIGCHLD byte there, so nothing is missed.
    signals_ready: bool,
    stopping: bool,
    /// Groups still to stop, the next last: (name, its index in `groups`
    /// when last seen).
    stop_groups: Vec<(String, usize)>,
    lastshutdownreport: Option<Instant>,
    /// Per TICK period, while its timer is armed: the wall-clock slice
    /// last seen (the reference's `ticks`).
    tick_slices: [Option<u64>; 3],
    /// Groups that are event listener pools (most configs have none: then
    /// events cost nothing).
    pool_count: usize,
    /// Something happened that may let a pool hand out an event (an event
    /// was raised or rebuffered, a listener changed state).
    pools_dirty: bool,
}

/// Start of the `period`-second wall-clock slice holding `when`.
fn timeslice(period: u64, when: f64) -> u64 {
    let w = when.max(0.0) as u64;
    w - w % period
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Supervisor {
    /// Creates the loop's state from parsed options: logger, poller, signal
    /// pipe. Groups and servers are added by `start`.
    pub fn new(options: ServerOptions, args: ServerArgs, logger: Logger) -> io::Result<Supervisor> {
        let poller = Poller::new()?;
        let signals = File::from(sys::install_signal_pipe(&[
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGHUP,
            libc::SIGCHLD,
            libc::SIGUSR2,
        ])?);
        let mut core = Core {
            options,
            args,
            logger,
            poller,
            keys: Slab::default(),
            timers: Timers::default(),
            queue: Vec::new(),
            pids: HashMap::new(),
            notes: Vec::new(),
            mood: SupervisorState::Running,
            state_changed: false,
            readbuf: vec![0; 128 * 1024],
        };
        core.register(signals.as_raw_fd(), Owner::Signals, true, false)?;
        Ok(Supervisor {
            core,
            procs: Slab::default(),
            groups: Vec::new(),
            http: HttpServer::default(),
            pending_configs: None,
            removed_configs: Vec::new(),
            signals,
            signals_ready: true,
            stopping: false,
            stop_groups: Vec::new(),
            lastshutdownreport: None,
            tick_slices: [None; 3],
            pool_count: 0,
            pools_dirty: false,
        })
    }

    // ------------------------------------------------------------ groups

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    /// Adds a group from its config (false if one with that name exists).
    pub fn add_process_group(&mut self, config: GroupConfig) -> Result<bool, String> {
        if self.group(&config.name).is_some() {
            return Ok(false);
        }
        let socket = match &config.kind {
            GroupKind::FastCgi { socket } => {
                Some(SocketManager::new(socket.clone(), &mut self.core.logger)?)
            }
            _ => None,
        };
        let pool = match &config.kind {
            GroupKind::EventListenerPool {
                buffer_size,
                events,
            } => Some(EventPool::new(&config.name, *buffer_size, events.clone())),
            _ => None,
        };
        self.publish_notes();
        let mut procs = Vec::new();
        for pc in config.processes {
            let id = self.procs.insert_with(|id| {
                let mut p = Process::new(id, pc, &config.name, &mut self.core);
                if pool.is_some() {
                    p.listener = Some(Box::new(crate::process::Listener {
                        state: ListenerState::Acknowledged,
                        protocol: Default::default(),
                        event: None,
                    }));
                }
                p
            });
            procs.push(id);
        }
        self.pool_count += pool.is_some() as usize;
        self.groups.push(Group {
            name: config.name.clone(),
            priority: config.priority,
            kind: config.kind,
            procs: procs.clone(),
            pool: pool.map(Box::new),
            socket: socket.map(Box::new),
        });
        self.core.notify(Notification::group(true, &config.name));
        for id in procs {
            if let Some(p) = self.procs.get_mut(id) {
                self.core.enqueue(p);
            }
        }
        self.arm_ticks();
        Ok(true)
    }

    /// Removes a group whose processes are all stopped.
    pub fn remove_process_group(&mut self, name: &str) -> bool {
        let Some(i) = self.group_index(name) else {
            return false;
        };
        if !self.unstopped(&self.groups[i]).is_empty() {
            return false;
        }
        self.publish_notes();
        let g = self.groups.remove(i);
        self.pool_count -= g.pool.is_some() as usize;
        for id in g.procs {
            if let Some(mut p) = self.procs.remove(id) {
                p.close_pipes(&mut self.core);
            }
        }
        self.core.notify(Notification::group(false, name));
        true
    }

    /// Processes of `g` not in a stopped state.
    pub fn unstopped(&self, g: &Group) -> Vec<ProcId> {
        g.procs
            .iter()
            .copied()
            .filter(|id| self.procs.get(*id).is_some_and(|p| !p.state.is_stopped()))
            .collect()
    }

    /// Groups by (priority, name), with their indexes.
    fn stop_order(&self) -> Vec<(String, usize)> {
        let mut v: Vec<(i64, &str, usize)> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.priority, g.name.as_str(), i))
            .collect();
        v.sort();
        v.into_iter().map(|(_, n, i)| (n.to_string(), i)).collect()
    }

    /// Group names sorted by (priority, name).
    pub fn sorted_group_names(&self) -> Vec<String> {
        self.stop_order().into_iter().map(|(n, _)| n).collect()
    }

    /// The running configuration of a group, for `reloadConfig` diffs.
    pub fn group_config(&self, g: &Group) -> GroupConfig {
        GroupConfig {
            name: g.name.clone(),
            priority: g.priority,
            kind: g.kind.clone(),
            processes: g
                .procs
                .iter()
                .filter_map(|id| self.procs.get(*id).map(|p| p.config.clone()))
                .collect(),
        }
    }

    /// `group.stop_all()`: stop running/starting processes in descending
    /// priority, give up on backing-off ones.
    fn stop_all(&mut self, group: usize) {
        let Some(g) = self.groups.get(group) else {
            return;
        };
        let mut ids = g.procs.clone();
        ids.sort_by_key(|id| self.procs.get(*id).map(|p| p.config.priority).unwrap_or(0));
        ids.reverse();
        for id in ids {
            let Some(p) = self.procs.get_mut(id) else {
                continue;
            };
            match p.state {
                ProcessState::Running | ProcessState::Starting => {
                    p.stop(&mut self.core);
                }
                ProcessState::Backoff => p.give_up(&mut self.core),
                _ => {}
            }
        }
    }

    // ------------------------------------------------------------ the loop

    /// Runs until shutdown or restart is requested and every process has
    /// stopped.
    pub fn run_forever(&mut self) -> Outcome {
        self.core.notify(Notification::supervisor_state(true));
        // The first pass spawns every autostart program; what it allocated
        // only for the spawning is then given back.
        self.run_queue();
        sys::release_free_memory();
        let mut ready: Vec<Ready> = Vec::new();
        loop {
            if self.core.mood < SupervisorState::Running {
                if !self.stopping {
                    self.stopping = true;
                    self.stop_groups = self.stop_order();
                    self.core.notify(Notification::supervisor_state(false));
                }
                if let Some(last) = self.stop_group_index() {
                    self.stop_all(last);
                }
                if !self.shutdown_report() {
                    return if self.core.mood == SupervisorState::Restarting {
                        Outcome::Restart
                    } else {
                        Outcome::Shutdown
                    };
                }
            }
            self.run_queue();
            self.publish_events();
            self.http_service();
            // Work generated by the steps above is handled before sleeping.
            let busy = !self.core.queue.is_empty() || !self.core.notes.is_empty();
            let timeout = if busy {
                Some(Duration::ZERO)
            } else {
                let mut t = self
                    .core
                    .timers
                    .next_deadline()
                    .map(|d| d.saturating_duration_since(Instant::now()));
                if self.stopping {
                    // Shutdown progress is reported every few seconds.
                    t = Some(t.map_or(Duration::from_secs(1), |t| t.min(Duration::from_secs(1))));
                }
                t
            };
            ready.clear();
            if let Err(e) = self.core.poller.wait(&mut ready, timeout) {
                self.core.logger.critical(&format!("poll failed: {}", e));
                std::thread::sleep(Duration::from_millis(100));
            }
            for r in ready.iter().copied() {
                self.dispatch_ready(r);
            }
            self.run_timers();
            if std::mem::take(&mut self.signals_ready) {
                let signals = self.read_signals();
                if signals.contains(&libc::SIGCHLD) {
                    self.reap();
                }
                self.handle_signals(signals);
            }
            if self.core.mood < SupervisorState::Running {
                let still = self
                    .stop_group_index()
                    .and_then(|i| self.groups.get(i))
                    .is_some_and(|g| !self.unstopped(g).is_empty());
                if !still {
                    self.stop_groups.pop();
                }
            }
        }
    }

    /// Where the group being stopped (the last of `stop_groups`) is now.
    /// Every loop pass asks while stopping: the index noted is checked
    /// first, so stopping N groups one by one is not O(N^2).
    fn stop_group_index(&mut self) -> Option<usize> {
        let (name, hint) = self.stop_groups.last()?;
        if self.groups.get(*hint).is_some_and(|g| &g.name == name) {
            return Some(*hint);
        }
        let i = self.group_index(name)?;
        if let Some(last) = self.stop_groups.last_mut() {
            last.1 = i;
        }
        Some(i)
    }

    /// Logs who we're still waiting for (every 3 s); false when nothing
    /// is left running.
    fn shutdown_report(&mut self) -> bool {
        // Runs at every loop pass while stopping: collect names only when a
        // report is due (collecting them each pass made stopping N
        // processes cost O(N^2)).
        let running = self
            .groups
            .iter()
            .flat_map(|g| g.procs.iter())
            .any(|id| self.procs.get(*id).is_some_and(|p| !p.state.is_stopped()));
        if !running {
            return false;
        }
        let due = self
            .lastshutdownreport
            .is_none_or(|t| t.elapsed() > Duration::from_secs(3));
        if due {
            let mut names = Vec::new();
            for g in &self.groups {
                for id in self.unstopped(g) {
                    if let Some(p) = self.procs.get(id) {
                        names.push((p.config.name.clone(), p.state));
                    }
                }
            }
            let list: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
            self.core
                .logger
                .info(&format!("waiting for {} to die", list.join(", ")));
            self.lastshutdownreport = Some(Instant::now());
            for (n, s) in &names {
                self.core
                    .logger
                    .blather(&format!("{} state: {}", n, s.name()));
            }
        }
        true
    }

    /// Runs transition passes until the queue is empty.
    pub fn run_queue(&mut self) {
        while !self.core.queue.is_empty() {
            let batch = std::mem::take(&mut self.core.queue);
            for id in batch {
                self.transition(id);
            }
        }
    }

    fn transition(&mut self, id: ProcId) {
        let Some(p) = self.procs.get_mut(id) else {
            return;
        };
        p.queued = false;
        let before = p.state;
        if !p.transition(&mut self.core) {
            return;
        }
        self.spawn_now(id);
        if let Some(p) = self.procs.get_mut(id) {
            p.after_spawn_check(before, &mut self.core);
        }
    }

    /// Spawns process `id` now, with its group's socket if it is an fcgi
    /// program.
    pub fn spawn_now(&mut self, id: ProcId) {
        let Some(gi) = self.socket_for(id) else {
            if let Some(p) = self.procs.get_mut(id) {
                p.spawn(&mut self.core, None);
            }
            return;
        };
        let Some(sock) = self.groups[gi].socket.as_mut() else {
            return;
        };
        match sock.acquire(&mut self.core.logger) {
            Ok(fd) => {
                let spawned = self
                    .procs
                    .get_mut(id)
                    .and_then(|p| p.spawn(&mut self.core, Some(fd)));
                if spawned.is_none() {
                    if let Some(s) = self.groups[gi].socket.as_mut() {
                        s.release(&mut self.core.logger);
                    }
                }
            }
            Err(e) => {
                let msg = sock.error_text(&e);
                if let Some(p) = self.procs.get_mut(id) {
                    p.fail_spawn(msg, &mut self.core);
                }
            }
        }
    }

    /// Index of the fcgi group owning process `id`, if any.
    fn socket_for(&self, id: ProcId) -> Option<usize> {
        self.groups
            .iter()
            .position(|g| g.socket.is_some() && g.procs.contains(&id))
    }

    fn run_timers(&mut self) {
        for t in self.core.timers.pop_due(Instant::now()) {
            match t {
                Timer::Proc(id, gen) => {
                    if let Some(p) = self.procs.get_mut(id) {
                        if p.timer_gen == gen {
                            self.core.enqueue(p);
                        }
                    }
                }
                Timer::Tick(i) => self.tick(i),
                Timer::Http => self.http.wake(),
            }
        }
    }

    // ------------------------------------------------------------ events

    /// Hands raised events to the pools that subscribe, then feeds ready
    /// listeners.
    pub fn publish_events(&mut self) {
        if !self.core.notes.is_empty() {
            self.pools_dirty = true;
            self.publish_notes();
        }
        if !std::mem::take(&mut self.pools_dirty) || self.pool_count == 0 {
            return;
        }
        for gi in 0..self.groups.len() {
            if self.groups[gi].pool.as_ref().is_some_and(|p| !p.is_empty()) {
                self.dispatch_pool(gi);
            }
        }
    }

    /// Hands raised events to the pools subscribing now. Also called just
    /// before a group is added or removed: the reference delivers an event
    /// to the pools that exist when it is raised, so a new pool sees its own
    /// PROCESS_GROUP_ADDED but nothing raised before it existed.
    fn publish_notes(&mut self) {
        let notes = std::mem::take(&mut self.core.notes);
        if self.pool_count == 0 {
            return;
        }
        for n in notes {
            let pools = self.groups.iter_mut().filter_map(|g| g.pool.as_deref_mut());
            events::publish(n, pools, &mut self.core.logger);
        }
    }

    /// Sends buffered events of pool `gi` to its first RUNNING+READY
    /// listeners, one event per listener. Like the reference, it only
    /// starts when some listener is free, so the event it could not place
    /// is rebuffered (and logged) once per round, not at every loop.
    fn dispatch_pool(&mut self, gi: usize) {
        let any_free = self.groups[gi]
            .procs
            .iter()
            .any(|id| self.procs.get(*id).is_some_and(is_free_listener));
        if !any_free {
            return;
        }
        loop {
            let Some(pending) = self.groups[gi].pool.as_mut().and_then(|p| p.pop()) else {
                return;
            };
            let envelope = match self.groups[gi].pool.as_ref() {
                Some(pool) => pool.envelope(&pending, &self.core.options.identifier),
                None => return,
            };
            let mut sent = false;
            for id in self.groups[gi].procs.clone() {
                let Some(p) = self.procs.get_mut(id) else {
                    continue;
                };
                if !is_free_listener(p) {
                    continue;
                }
                if let Err(e) = p.write_stdin(envelope.as_bytes(), &mut self.core) {
                    if e.raw_os_error() == Some(libc::EPIPE) {
                        self.core.logger.debug(&format!(
                            "epipe occurred while sending event {} to listener {}, listener state unchanged",
                            pending.event.serial, p.config.name
                        ));
                        continue;
                    }
                    self.core.logger.error(&format!(
                        "could not send event {} to listener {}: {}",
                        pending.event.serial, p.config.name, e
                    ));
                    continue;
                }
                if let Some(l) = p.listener.as_mut() {
                    l.state = ListenerState::Busy;
                    l.event = Some(pending.clone());
                }
                self.core.logger.debug(&format!(
                    "event {} sent to listener {}",
                    pending.event.serial, p.config.name
                ));
                sent = true;
                break;
            }
            if !sent {
                if let Some(pool) = self.groups[gi].pool.as_mut() {
                    pool.rebuffer(pending, &mut self.core.logger);
                }
                return;
            }
        }
    }

    /// An event came back (FAIL, bad result, listener died): back to the
    /// head of its pool.
    fn rebuffer(&mut self, id: ProcId, pending: events::Pending) {
        self.pools_dirty = true;
        let group = self.procs.get(id).map(|p| p.group.clone());
        if let Some(g) = group.and_then(|n| self.groups.iter_mut().find(|g| g.name == n)) {
            if let Some(pool) = g.pool.as_mut() {
                pool.rebuffer(pending, &mut self.core.logger);
            }
        }
    }

    /// Arms a timer for each TICK period some pool subscribes to, at the
    /// next wall-clock boundary of that period.
    fn arm_ticks(&mut self) {
        for (i, (etype, period)) in events::TICKS.iter().enumerate() {
            if self.tick_slices[i].is_none() && self.tick_wanted(*etype) {
                let now = epoch_secs();
                self.tick_slices[i] = Some(timeslice(*period, now));
                self.arm_tick(i, *period, now);
            }
        }
    }

    fn tick_wanted(&self, etype: events::EventType) -> bool {
        self.groups
            .iter()
            .filter_map(|g| g.pool.as_ref())
            .any(|p| p.subscribes_to(etype))
    }

    fn arm_tick(&mut self, i: usize, period: u64, now: f64) {
        let next = timeslice(period, now) + period;
        let wait = Duration::from_secs_f64((next as f64 - now).max(0.0));
        self.core.timers.push(Instant::now() + wait, Timer::Tick(i));
    }

    /// A TICK timer fired. As the reference's `_tick`, an event is sent
    /// only when the wall clock is in a new slice (`when:` is its start);
    /// a timer that fired a little early just waits for the boundary.
    /// Nobody subscribing any more: the timer is not re-armed.
    fn tick(&mut self, i: usize) {
        let Some((etype, period)) = events::TICKS.get(i).copied() else {
            return;
        };
        let now = epoch_secs();
        let this = timeslice(period, now);
        if self.tick_slices[i] != Some(this) {
            self.core.notify(Notification::tick(etype, this));
        }
        if self.tick_wanted(etype) {
            self.tick_slices[i] = Some(this);
            self.arm_tick(i, period, now);
        } else {
            self.tick_slices[i] = None;
        }
    }

    // ------------------------------------------------------------ I/O

    fn dispatch_ready(&mut self, r: Ready) {
        let Some(owner) = self.core.keys.get(r.key).copied() else {
            return;
        };
        match owner {
            Owner::Signals => self.signals_ready = true,
            Owner::Proc(id, Pipe::Stdin) => {
                if let Some(p) = self.procs.get_mut(id) {
                    p.stdin_writable(&mut self.core);
                }
            }
            Owner::Proc(id, pipe) => self.read_pipe(id, pipe, false),
            Owner::Http(i) => self.http_ready(i, r),
        }
    }

    /// Reads a process pipe: once (a readiness event) or until it would
    /// block (draining before the exit is handled).
    fn read_pipe(&mut self, id: ProcId, pipe: Pipe, drain: bool) {
        // A readiness event takes up to this many full reads: a chatty
        // child costs fewer wake-ups, a quiet one no extra read.
        const READS_PER_WAKEUP: usize = 8;
        let mut reads = 0;
        loop {
            let Some(p) = self.procs.get_mut(id) else {
                return;
            };
            let dispatcher = match pipe {
                Pipe::Stdout => p.stdout.as_mut(),
                Pipe::Stderr => p.stderr.as_mut(),
                _ => None,
            };
            let file = match pipe {
                Pipe::Stdout | Pipe::Stderr => dispatcher.and_then(|d| {
                    // Found full at the default 64 KiB: give this pipe more
                    // room so the child rarely blocks on it. Only pipes seen
                    // full grow (capacity counts against a per-user budget).
                    if !d.enlarged && reads > 0 {
                        d.enlarged = true;
                        if let Some(f) = d.pipe.as_ref() {
                            let _ = sys::set_pipe_size(f.as_raw_fd(), 1 << 20);
                        }
                    }
                    d.pipe.as_mut()
                }),
                Pipe::Status => {
                    if p.read_status() {
                        self.status_closed(id);
                    }
                    return;
                }
                Pipe::Stdin => return,
            };
            let Some(file) = file else {
                return;
            };
            match file.read(&mut self.core.readbuf) {
                Ok(0) => {
                    self.close_output(id, pipe);
                    return;
                }
                Ok(n) => {
                    let data = std::mem::take(&mut self.core.readbuf);
                    let full = n >= 64 * 1024;
                    self.handle_output(id, pipe, &data[..n]);
                    self.core.readbuf = data;
                    reads += 1;
                    if !drain && (!full || reads >= READS_PER_WAKEUP) {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.close_output(id, pipe);
                    return;
                }
            }
        }
    }

    fn status_closed(&mut self, id: ProcId) {
        let Some(p) = self.procs.get_mut(id) else {
            return;
        };
        if let Some(text) = p.status_closed(&mut self.core) {
            // The reference's child writes these lines to its own stderr.
            let pipe = if p.stderr.is_some() {
                Pipe::Stderr
            } else {
                Pipe::Stdout
            };
            self.handle_output(id, pipe, text.as_bytes());
        }
    }

    fn close_output(&mut self, id: ProcId, pipe: Pipe) {
        let Some(p) = self.procs.get_mut(id) else {
            return;
        };
        let d = match pipe {
            Pipe::Stdout => p.stdout.as_mut(),
            Pipe::Stderr => p.stderr.as_mut(),
            _ => None,
        };
        if let Some(d) = d {
            if let Some(f) = d.pipe.take() {
                let key = d.key;
                self.core.deregister(key, f.as_raw_fd());
                self.core.logger.debug(&format!(
                    "fd {} closed, stopped monitoring {} ({})",
                    f.as_raw_fd(),
                    p.config.name,
                    pipe_name(pipe)
                ));
            }
        }
    }

    /// Output from a child: to its dispatcher, or to the listener protocol.
    fn handle_output(&mut self, id: ProcId, pipe: Pipe, data: &[u8]) {
        let strip_ansi = self.core.options.strip_ansi;
        let Some(p) = self.procs.get_mut(id) else {
            return;
        };
        let is_protocol = pipe == Pipe::Stdout && p.listener.is_some();
        let name = p.config.name.clone();
        let group = p.group.clone();
        let pid = p.pid;
        if is_protocol && self.core.logger.enabled(LogLevel::Debug) {
            self.core.logger.debug(&listener_output_line(&name, data));
        }
        let d = match pipe {
            Pipe::Stdout => p.stdout.as_mut(),
            _ => p.stderr.as_mut(),
        };
        if let Some(d) = d {
            let mut sink = Sink {
                logger: &mut self.core.logger,
                notes: &mut self.core.notes,
                name: &name,
                group: &group,
                pid,
                strip_ansi,
            };
            if is_protocol {
                d.write_raw(data, &mut sink);
            } else {
                d.feed(data, &mut sink);
            }
            if d.wrote {
                d.wrote = false;
                self.http.logs_dirty = true;
            }
        }
        if is_protocol {
            self.listener_output(id, data);
        }
    }

    fn listener_output(&mut self, id: ProcId, data: &[u8]) {
        self.pools_dirty = true;
        let Some(p) = self.procs.get_mut(id) else {
            return;
        };
        let name = p.config.name.clone();
        let Some(l) = p.listener.as_mut() else {
            return;
        };
        l.protocol.push(data);
        loop {
            let Some(l) = self.procs.get_mut(id).and_then(|p| p.listener.as_mut()) else {
                return;
            };
            let Some(o) = l
                .protocol
                .next_outcome(&mut l.state, &name, &mut self.core.logger)
            else {
                return;
            };
            let returned = match o {
                ListenerOutcome::Ready | ListenerOutcome::Processed => {
                    l.event = None;
                    None
                }
                ListenerOutcome::Rejected => l.event.take(),
                ListenerOutcome::Unknown { reject_event } => {
                    let ev = l.event.take();
                    ev.filter(|_| reject_event)
                }
            };
            if let Some(ev) = returned {
                self.rebuffer(id, ev);
            }
        }
    }

    /// Reaps every exited child; drains its pipes first so no output is lost.
    fn reap(&mut self) {
        loop {
            let (pid, status) = match sys::waitpid_nohang() {
                Ok(Some(v)) => v,
                Ok(None) => return,
                Err(e) => {
                    self.core.logger.critical(&format!(
                        "waitpid error {}; a process may not be cleaned up properly",
                        e
                    ));
                    return;
                }
            };
            let Some(id) = self.core.pids.get(&pid).copied() else {
                let (_, msg) = crate::process::describe_wait_status(status);
                self.core
                    .logger
                    .info(&format!("reaped unknown pid {} ({})", pid, msg));
                continue;
            };
            self.read_pipe(id, Pipe::Status, true);
            self.read_pipe(id, Pipe::Stdout, true);
            self.read_pipe(id, Pipe::Stderr, true);
            let socket = self.socket_for(id);
            let Some(p) = self.procs.get_mut(id) else {
                continue;
            };
            if p.has_status_pipe() {
                // The child died before exec and its status pipe is closed.
                self.status_closed(id);
            }
            let Some(p) = self.procs.get_mut(id) else {
                continue;
            };
            let rejected = p.finish(status, &mut self.core);
            if let Some(gi) = socket {
                if let Some(s) = self.groups[gi].socket.as_mut() {
                    s.release(&mut self.core.logger);
                }
            }
            if let Some(ev) = rejected {
                self.rebuffer(id, ev);
            }
        }
    }

    /// Drains the self-pipe. Like the reference's receiver, a signal already
    /// pending is not queued twice (e.g. a TERM sent to both the pid and its
    /// group).
    fn read_signals(&mut self) -> Vec<i32> {
        let mut pending: Vec<i32> = Vec::new();
        for sig in sys::read_signals(self.signals.as_raw_fd()) {
            if !pending.contains(&sig) {
                pending.push(sig);
            }
        }
        pending
    }

    fn handle_signals(&mut self, signals: Vec<i32>) {
        for sig in signals {
            let name = crate::datatypes::signame(sig);
            match sig {
                libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => {
                    self.core
                        .logger
                        .warn(&format!("received {} indicating exit request", name));
                    self.core.mood = SupervisorState::Shutdown;
                }
                libc::SIGHUP => {
                    if self.core.mood == SupervisorState::Shutdown {
                        self.core.logger.warn(&format!(
                            "ignored {} indicating restart request (shutdown in progress)",
                            name
                        ));
                    } else {
                        self.core
                            .logger
                            .warn(&format!("received {} indicating restart request", name));
                        self.core.mood = SupervisorState::Restarting;
                    }
                }
                libc::SIGCHLD => {
                    self.core
                        .logger
                        .debug(&format!("received {} indicating a child quit", name));
                }
                libc::SIGUSR2 => {
                    self.core
                        .logger
                        .info(&format!("received {} indicating log reopen request", name));
                    self.reopen_logs();
                }
                _ => {
                    self.core
                        .logger
                        .blather(&format!("received {} indicating nothing", name));
                }
            }
        }
    }

    /// USR2: reopen the activity log and every child log.
    pub fn reopen_logs(&mut self) {
        self.core.logger.info("supervisord logreopen");
        self.core.logger.reopen();
        let ids: Vec<ProcId> = self.procs.iter().map(|(i, _)| i).collect();
        for id in ids {
            if let Some(p) = self.procs.get_mut(id) {
                p.reopen_logs();
            }
        }
    }

    // ------------------------------------------------------------ HTTP glue

    fn http_ready(&mut self, i: usize, r: Ready) {
        crate::http::ready(self, i, r);
    }

    fn http_service(&mut self) {
        crate::http::service(self);
    }
}

/// A listener that may be sent an event: RUNNING and READY.
fn is_free_listener(p: &Process) -> bool {
    p.state == ProcessState::Running
        && p.listener
            .as_ref()
            .is_some_and(|l| l.state == ListenerState::Ready)
}

fn pipe_name(p: Pipe) -> &'static str {
    match p {
        Pipe::Stdout => "stdout",
        Pipe::Stderr => "stderr",
        Pipe::Stdin => "stdin",
        Pipe::Status => "status",
    }
}

// ---------------------------------------------------------------- start-up

/// Entry point of `supervisord`; returns the exit status.
pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args().collect();
    let argv0 = argv
        .first()
        .cloned()
        .unwrap_or_else(|| "supervisord".into());
    let usage = |msg: &str| -> i32 {
        eprintln!("Error: {}", msg);
        eprintln!("For help, use {} -h", argv0);
        2
    };
    let args = match options::parse_server_args(argv.get(1..).unwrap_or(&[])) {
        Ok(ServerCommand::Help(text)) => {
            print!("{}", text);
            return 0;
        }
        Ok(ServerCommand::Version) => {
            println!("{}", crate::VERSION);
            return 0;
        }
        Ok(ServerCommand::Run(a)) => *a,
        Err(e) => return usage(&e.0),
    };
    let mut opts = match options::load_server_options(&args) {
        Ok(o) => o,
        Err(e) => return usage(&e.0),
    };
    sys::ensure_std_fds();
    if let Err(msg) = drop_privileges(&mut opts, true) {
        return usage(&msg);
    }
    if let Err(msg) = raise_rlimits(&mut opts) {
        return usage(&msg);
    }
    // Held for the life of the daemon (inherited across the daemonizing
    // fork): a second supervisord on the same pidfile refuses to start.
    let _pidlock = match lock_pidfile(&opts.pidfile) {
        Ok(f) => f,
        Err(msg) => return usage(&msg),
    };
    let mut first = true;
    loop {
        // The run consumes the options; a restart hands back the settings
        // and the groups it ran, in case the new config does not parse.
        let previous = match run_once(opts, &args, first) {
            Ok(RunEnd::Shutdown) => return 0,
            Ok(RunEnd::Restart(previous)) => previous,
            Err(RunError::Usage(msg)) => return usage(&msg),
            Err(RunError::Fatal(msg)) => {
                eprintln!("Error: {}", msg);
                return 1;
            }
        };
        first = false;
        opts = reload_options(&args, *previous);
        // The reference re-runs this at every start: same messages, but
        // privileges were already dropped.
        let _ = drop_privileges(&mut opts, false);
    }
}

/// Opens and locks the pidfile; refuses if another supervisord holds it.
fn lock_pidfile(path: &std::path::Path) -> Result<Option<File>, String> {
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
    {
        Ok(f) => f,
        // Not writable: the reference only logs that later; no lock then.
        Err(_) => return Ok(None),
    };
    match sys::try_lock(&f) {
        Ok(true) => Ok(Some(f)),
        Ok(false) => {
            let pid = std::fs::read_to_string(path).unwrap_or_default();
            Err(format!(
                "Another supervisord is already running with pid {} (pidfile {}).  Shut it down first before starting supervisord.",
                pid.trim(),
                path.display()
            ))
        }
        Err(_) => Ok(Some(f)),
    }
}

/// Re-reads the config for a restart; a config that no longer parses keeps
/// the previous one running (the reference would exit), and says why.
fn reload_options(args: &ServerArgs, previous: ServerOptions) -> ServerOptions {
    match options::load_server_options(args) {
        Ok(mut o) => {
            // Privileges and rlimits are applied once, at first start.
            o.parse_criticals
                .retain(|m| !m.starts_with("Supervisor is running as root"));
            o
        }
        Err(e) => {
            let mut o = previous;
            o.parse_criticals = vec![format!(
                "could not reload the configuration ({}); restarting with the previous one",
                e.0
            )];
            o.parse_warnings.clear();
            o.parse_infos.clear();
            o
        }
    }
}

/// How `run_once` ended.
enum RunEnd {
    Shutdown,
    /// The options of the run, with `groups` rebuilt from the running state.
    Restart(Box<ServerOptions>),
}

enum RunError {
    Usage(String),
    Fatal(String),
}

/// Drops to `user` (at first start only, `apply`) and queues the
/// reference's messages about it for the activity log.
fn drop_privileges(opts: &mut ServerOptions, apply: bool) -> Result<(), String> {
    // (The parser queues the "running as root" warning when no user is set.)
    let Some(uid) = opts.uid else {
        return Ok(());
    };
    if uid == sys::getuid() || !apply {
        opts.parse_infos
            .push(format!("Set uid to user {} succeeded", uid));
        return Ok(());
    }
    if sys::getuid() != 0 {
        return Err("Can't drop privilege as nonroot user".into());
    }
    let pw = sys::getpwuid(uid).ok_or_else(|| format!("Can't find uid {}", uid))?;
    let groups = sys::grouplist(&pw.name, pw.gid);
    sys::drop_privileges(uid, pw.gid, &groups)?;
    opts.parse_infos
        .push(format!("Set uid to user {} succeeded", uid));
    Ok(())
}

fn raise_rlimits(opts: &mut ServerOptions) -> Result<(), String> {
    let limits = [
        (
            sys::Resource::NoFile,
            opts.minfds,
            "RLIMIT_NOFILE",
            "The minimum number of file descriptors required to run this process is {min} as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open {hard} file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start.",
        ),
        (
            sys::Resource::NProc,
            opts.minprocs,
            "RLIMIT_NPROC",
            "The minimum number of available processes required to run this program is {min} as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open {hard} processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start.",
        ),
    ];
    for (res, min, name, msg) in limits {
        let (soft, hard) = sys::getrlimit(res).map_err(|e| e.to_string())?;
        if soft < min && soft != sys::RLIM_INFINITY {
            let new_hard = if hard < min && hard != sys::RLIM_INFINITY {
                min
            } else {
                hard
            };
            if sys::setrlimit(res, min, new_hard).is_err() {
                let hard_text = if hard == sys::RLIM_INFINITY {
                    "-1".to_string()
                } else {
                    hard.to_string()
                };
                return Err(msg
                    .replace("{min}", &min.to_string())
                    .replace("{hard}", &hard_text));
            }
            opts.parse_infos
                .push(format!("Increased {} limit to {}", name, min));
        }
    }
    Ok(())
}

fn make_logger(opts: &ServerOptions) -> Result<Logger, String> {
    let mut logger = Logger::new(opts.loglevel);
    if opts.nodaemon && !opts.silent {
        logger.add_stdout();
    }
    match &opts.logfile {
        MainLogFile::Syslog => logger.add_syslog(),
        MainLogFile::Path(p) => logger
            .add_file(p, opts.logfile_maxbytes, opts.logfile_backups)
            .map_err(|e| format!("could not open the log file {}: {}", p.display(), e))?,
    }
    for m in &opts.parse_criticals {
        logger.critical(m);
    }
    for m in &opts.parse_warnings {
        logger.warn(m);
    }
    for m in &opts.parse_infos {
        logger.info(m);
    }
    Ok(logger)
}

/// Deletes AUTO child logs left by a previous run (names carry our
/// identifier): `<anything>---<identifier>-<anything>.log[.N]`.
fn clear_autochildlogdir(opts: &ServerOptions, logger: &mut Logger) {
    let marker = format!("---{}-", opts.identifier);
    let Ok(rd) = std::fs::read_dir(&opts.childlogdir) else {
        logger.warn("Could not clear childlog dir");
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if is_autolog_name(&name, &marker) {
            if let Err(_e) = std::fs::remove_file(e.path()) {
                logger.warn(&format!(
                    "Failed to clean up {}",
                    crate::datatypes::py_repr(&e.path().to_string_lossy())
                ));
            }
        }
    }
}

/// The reference's `.+?---<id>-\S+\.log\.{0,1}\d{0,4}` (matched at the
/// start of the name).
fn is_autolog_name(name: &str, marker: &str) -> bool {
    let Some(i) = name.find(marker) else {
        return false;
    };
    if i == 0 {
        return false;
    }
    let rest = &name[i + marker.len()..];
    // \S+\.log then optional . and up to 4 digits (re.match: a prefix match).
    rest.char_indices()
        .filter(|(_, c)| *c == '.')
        .any(|(j, _)| {
            j > 0 && rest[j..].starts_with(".log") && !rest[..j].contains(char::is_whitespace)
        })
}

fn run_once(opts: ServerOptions, args: &ServerArgs, first: bool) -> Result<RunEnd, RunError> {
    let mut logger = make_logger(&opts).map_err(RunError::Usage)?;
    if !opts.nocleanup {
        clear_autochildlogdir(&opts, &mut logger);
    }
    let mut opts = opts;
    let mut groups = std::mem::take(&mut opts.groups);
    let nodaemon = opts.nodaemon;
    let mut sup =
        Supervisor::new(opts, args.clone(), logger).map_err(|e| RunError::Fatal(e.to_string()))?;
    // Exact sizes: with hundreds of programs, doubling growth would leave
    // up to half of these tables unused.
    sup.procs
        .reserve(groups.iter().map(|g| g.processes.len()).sum());
    sup.groups.reserve_exact(groups.len());
    for g in groups.drain(..) {
        if let Err(msg) = sup.add_process_group(g) {
            return Err(RunError::Usage(msg));
        }
    }
    if let Err(msg) = crate::http::open_servers(&mut sup) {
        return Err(RunError::Usage(msg));
    }
    if first && !nodaemon {
        daemonize(&mut sup);
    }
    sys::release_free_memory();
    let pidfile = sup.core.options.pidfile.clone();
    let pid = sys::getpid();
    match std::fs::write(&pidfile, format!("{}\n", pid)) {
        Ok(()) => sup
            .core
            .logger
            .info(&format!("supervisord started with pid {}", pid)),
        Err(_) => sup
            .core
            .logger
            .critical(&format!("could not write pidfile {}", pidfile.display())),
    }
    let outcome = sup.run_forever();
    crate::http::close_servers(&mut sup);
    let _ = std::fs::remove_file(&pidfile);
    Ok(match outcome {
        Outcome::Shutdown => RunEnd::Shutdown,
        Outcome::Restart => {
            let groups = sup.groups.iter().map(|g| sup.group_config(g)).collect();
            let mut opts = std::mem::replace(&mut sup.core.options, empty_options());
            opts.groups = groups;
            RunEnd::Restart(Box::new(opts))
        }
    })
}

/// A placeholder left in a finished supervisor.
fn empty_options() -> ServerOptions {
    ServerOptions {
        configfile: Default::default(),
        here: Default::default(),
        nodaemon: true,
        silent: true,
        user: None,
        uid: None,
        gid: None,
        umask: 0o22,
        directory: None,
        logfile: MainLogFile::Syslog,
        logfile_maxbytes: 0,
        logfile_backups: 0,
        loglevel: crate::loggers::LogLevel::Critical,
        pidfile: Default::default(),
        identifier: String::new(),
        childlogdir: Default::default(),
        minfds: 0,
        minprocs: 0,
        nocleanup: true,
        strip_ansi: false,
        environment: Vec::new(),
        groups: Vec::new(),
        servers: Vec::new(),
        rpcinterfaces: Vec::new(),
        serverurl: None,
        parse_criticals: Vec::new(),
        parse_warnings: Vec::new(),
        parse_infos: Vec::new(),
    }
}

/// Single fork (the parent exits at once), chdir, stdio to /dev/null,
/// setsid, umask — as the reference does.
fn daemonize(sup: &mut Supervisor) {
    match sys::fork() {
        Ok(sys::Fork::Parent(_)) => sys::exit_now(0),
        Ok(sys::Fork::Child) => {}
        Err(e) => {
            sup.core
                .logger
                .critical(&format!("could not fork to daemonize: {}", e));
            return;
        }
    }
    sup.core.logger.info("daemonizing the supervisord process");
    if let Some(dir) = sup.core.options.directory.clone() {
        match std::env::set_current_dir(&dir) {
            Ok(()) => sup.core.logger.info(&format!(
                "set current directory: {}",
                crate::datatypes::py_repr(&dir.to_string_lossy())
            )),
            Err(e) => sup.core.logger.critical(&format!(
                "can't chdir into {}: {}",
                crate::datatypes::py_repr(&dir.to_string_lossy()),
                e
            )),
        }
    }
    let _ = sys::redirect_std_fds_to_null();
    let _ = sys::setsid();
    sys::set_umask(sup.core.options.umask);
}

impl Supervisor {
    /// Convenience for RPC: every process id in display order (group name,
    /// then process name).
    pub fn all_process_ids(&self) -> Vec<ProcId> {
        let mut v: Vec<(&str, &str, ProcId)> = self
            .procs
            .iter()
            .map(|(id, p)| (p.group.as_str(), p.config.name.as_str(), id))
            .collect();
        v.sort();
        v.into_iter().map(|(_, _, id)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autolog_cleanup_pattern() {
        let m = "---supervisor-";
        assert!(is_autolog_name("cat-stdout---supervisor-abc123.log", m));
        assert!(is_autolog_name("cat-stdout---supervisor-abc123.log.1", m));
        assert!(!is_autolog_name("cat-stdout---other-abc123.log", m));
        assert!(!is_autolog_name("---supervisor-abc.log", m));
        assert!(!is_autolog_name("cat.log", m));
    }

    #[test]
    fn tick_slices_are_wall_clock_aligned() {
        assert_eq!(timeslice(5, 1003.7), 1000);
        assert_eq!(timeslice(5, 1005.0), 1005);
        assert_eq!(timeslice(60, 1_795_320_399.99), 1_795_320_360);
        assert_eq!(timeslice(3600, -1.0), 0);
    }

    #[test]
    fn timers_pop_in_order() {
        let mut t = Timers::default();
        let now = Instant::now();
        t.push(now + Duration::from_secs(2), Timer::Tick(0));
        t.push(now, Timer::Proc(1, 1));
        t.push(now + Duration::from_secs(1), Timer::Http);
        assert_eq!(t.next_deadline(), Some(now));
        assert_eq!(
            t.pop_due(now + Duration::from_millis(1500)),
            vec![Timer::Proc(1, 1), Timer::Http]
        );
        assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(2)));
    }
}
