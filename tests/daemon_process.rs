//! Process control end to end: states, startsecs, backoff and FATAL,
//! autorestart and exitcodes, priorities, stop signals and SIGKILL,
//! process groups, the environment and identity of children.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn log_lines(sv: &Supervisord, needle: &str) -> Vec<String> {
    sv.log_text()
        .lines()
        .filter(|l| l.contains(needle))
        .map(|l| l.to_string())
        .collect()
}

#[test]
fn startsecs_then_running_and_expected_exit() {
    let sv = Supervisord::start(
        "startsecs",
        "[program:short]\ncommand=sh -c 'sleep 1.5; exit 0'\nstartsecs=1\nautorestart=false\n",
    );
    sv.wait_state("short", "RUNNING", 10);
    sv.wait_log(10, "success: short entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)");
    sv.wait_state("short", "EXITED", 10);
    sv.wait_log(5, "exited: short (exit status 0; expected)");
    assert_eq!(sv.info("short", "exitstatus"), Value::Int(0));
    assert_eq!(sv.info("short", "pid"), Value::Int(0));
}

#[test]
fn backoff_then_fatal_after_startretries() {
    let sv = Supervisord::start(
        "fatal",
        "[program:flap]\ncommand=sh -c 'exit 3'\nstartsecs=1\nstartretries=2\n",
    );
    sv.wait_state("flap", "FATAL", 20);
    // 1 + startretries spawns, then give up.
    assert_eq!(log_lines(&sv, "spawned: 'flap'").len(), 3);
    sv.wait_log(
        1,
        "gave up: flap entered FATAL state, too many start retries too quickly",
    );
    assert_eq!(
        log_lines(&sv, "exited: flap (exit status 3; not expected)").len(),
        3
    );
    assert_eq!(
        sv.info("flap", "spawnerr"),
        s("Exited too quickly (process log may have details)")
    );
    assert_eq!(
        sv.info("flap", "description"),
        s("Exited too quickly (process log may have details)")
    );
}

#[test]
fn backoff_delay_grows_linearly() {
    let sv = Supervisord::start(
        "delay",
        "[program:bad]\ncommand=/nonexistent/cmd\nstartretries=3\n",
    );
    sv.wait_state("bad", "FATAL", 20);
    let times: Vec<f64> = log_lines(&sv, "spawnerr: can't find command '/nonexistent/cmd'")
        .iter()
        .map(|l| {
            // HH:MM:SS,mmm
            let t = &l[11..23];
            let h: f64 = t[0..2].parse().unwrap();
            let m: f64 = t[3..5].parse().unwrap();
            let s: f64 = t[6..8].parse().unwrap();
            let ms: f64 = t[9..12].parse().unwrap();
            h * 3600.0 + m * 60.0 + s + ms / 1000.0
        })
        .collect();
    assert_eq!(times.len(), 4, "1 + startretries attempts");
    // Attempts at +0, +1, +3, +6 seconds (backoff += 1 each time).
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, want) in gaps.iter().zip([1.0, 2.0, 3.0]) {
        assert!((gap - want).abs() < 0.5, "gaps {gaps:?}");
    }
    assert_eq!(
        sv.info("bad", "description"),
        s("can't find command '/nonexistent/cmd'")
    );
}

#[test]
fn spawn_errors_for_bad_commands() {
    let sv = Supervisord::start(
        "spawnerr",
        "[program:dir]\ncommand=/tmp\nstartretries=0\n\n\
         [program:noexec]\ncommand={dir}/noexec.sh\nstartretries=0\n",
    );
    sv.dir.write("noexec.sh", "#!/bin/sh\necho hi\n");
    // The file was written after start; restart the attempt by hand.
    sv.wait_state("dir", "FATAL", 10);
    assert_eq!(
        sv.info("dir", "spawnerr"),
        s("command at '/tmp' is a directory")
    );
    let r = sv.rpc("supervisor.startProcess", vec![s("noexec")]);
    let f = r.expect_err("not executable");
    assert_eq!(f.code, 21, "{f:?}");
    assert!(f.string.contains("is not executable"), "{f:?}");
}

#[test]
fn exec_failure_in_child_is_reported_in_its_log() {
    let sv = Supervisord::start(
        "chdir",
        "[program:nodir]\ncommand=cat\ndirectory=/nonexistent/dir\nstartretries=0\n",
    );
    sv.wait_state("nodir", "FATAL", 10);
    let log = sv.call(
        "supervisor.readProcessStderrLog",
        vec![s("nodir"), Value::Int(0), Value::Int(0)],
    );
    assert_eq!(
        log,
        s("supervisor: couldn't chdir to /nonexistent/dir: ENOENT\nsupervisor: child process was not spawned\n")
    );
}

#[test]
fn autorestart_modes_and_exitcodes() {
    let sv = Supervisord::start(
        "autorestart",
        "[program:always]\ncommand=sh -c 'sleep 0.3; exit 0'\nstartsecs=0\nautorestart=true\n\n\
         [program:never]\ncommand=sh -c 'sleep 0.3; exit 1'\nstartsecs=0\nautorestart=false\n\n\
         [program:unexp_ok]\ncommand=sh -c 'sleep 0.3; exit 2'\nstartsecs=0\nexitcodes=0,2\n\n\
         [program:unexp_bad]\ncommand=sh -c 'sleep 0.3; exit 5'\nstartsecs=0\nexitcodes=0,2\n",
    );
    wait_until(10, "always restarted twice", || {
        log_lines(&sv, "spawned: 'always'").len() >= 3
    });
    wait_until(10, "unexp_bad restarted", || {
        log_lines(&sv, "spawned: 'unexp_bad'").len() >= 2
    });
    sv.wait_state("never", "EXITED", 10);
    sv.wait_state("unexp_ok", "EXITED", 10);
    assert_eq!(log_lines(&sv, "spawned: 'never'").len(), 1);
    assert_eq!(log_lines(&sv, "spawned: 'unexp_ok'").len(), 1);
    sv.wait_log(1, "exited: unexp_ok (exit status 2; expected)");
    sv.wait_log(1, "exited: never (exit status 1; not expected)");
    assert_eq!(sv.info("never", "spawnerr"), s("Bad exit code 1"));
}

#[test]
fn autostart_false_stays_stopped() {
    let sv = Supervisord::start(
        "autostart",
        "[program:manual]\ncommand=cat\nautostart=false\n",
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sv.state("manual"), "STOPPED");
    assert_eq!(sv.info("manual", "description"), s("Not started"));
    assert_eq!(
        sv.call("supervisor.startProcess", vec![s("manual")]),
        Value::Bool(true)
    );
    assert_eq!(
        sv.state("manual"),
        "RUNNING",
        "wait=True returns once RUNNING"
    );
}

#[test]
fn priority_orders_start_and_shutdown() {
    let mut sv = Supervisord::start(
        "priority",
        "[program:late]\ncommand=cat\npriority=300\nstartsecs=0\n\n\
         [program:early]\ncommand=cat\npriority=100\nstartsecs=0\n\n\
         [program:middle]\ncommand=cat\npriority=200\nstartsecs=0\n",
    );
    for n in ["early", "middle", "late"] {
        sv.wait_state(n, "RUNNING", 10);
    }
    let spawned = log_lines(&sv, "spawned:");
    let order: Vec<&str> = ["early", "middle", "late"]
        .iter()
        .copied()
        .filter(|n| spawned.iter().any(|l| l.contains(&format!("'{n}'"))))
        .collect();
    assert_eq!(order.len(), 3);
    let pos = |n: &str| {
        spawned
            .iter()
            .position(|l| l.contains(&format!("'{n}'")))
            .unwrap()
    };
    assert!(pos("early") < pos("middle") && pos("middle") < pos("late"));
    assert_eq!(sv.stop_with("TERM", 20), Some(0));
    let log = sv.log_text();
    let stop = |n: &str| log.find(&format!("stopped: {n} ")).unwrap();
    assert!(stop("late") < stop("middle") && stop("middle") < stop("early"));
}

#[test]
fn stopsignal_and_sigkill_after_stopwaitsecs() {
    let sv = Supervisord::start(
        "stopsig",
        "[program:hup]\ncommand=sh -c 'trap \"echo got-hup; exit 0\" HUP; while true; do sleep 0.1; done'\n\
         stopsignal=HUP\nstartsecs=0\n\n\
         [program:stubborn]\ncommand=sh -c 'trap \"\" TERM; while true; do sleep 0.1; done'\n\
         stopwaitsecs=1\nstartsecs=0\n",
    );
    sv.wait_state("hup", "RUNNING", 10);
    sv.wait_state("stubborn", "RUNNING", 10);
    assert_eq!(
        sv.call("supervisor.stopProcess", vec![s("hup")]),
        Value::Bool(true)
    );
    sv.wait_log(5, "stopped: hup (exit status 0)");
    let out = sv.call(
        "supervisor.readProcessStdoutLog",
        vec![s("hup"), Value::Int(0), Value::Int(0)],
    );
    assert_eq!(out, s("got-hup\n"));
    let pid = sv.pid_of("stubborn");
    let t = Instant::now();
    assert_eq!(
        sv.call("supervisor.stopProcess", vec![s("stubborn")]),
        Value::Bool(true)
    );
    assert!(t.elapsed() >= Duration::from_millis(900));
    sv.wait_log(1, &format!("killing 'stubborn' ({pid}) with SIGKILL"));
    sv.wait_log(1, "stopped: stubborn (terminated by SIGKILL)");
}

#[test]
fn stop_right_after_start_reaches_the_program() {
    // The program traps TERM; if the signal arrived before exec it would be
    // lost and the program killed with SIGKILL after stopwaitsecs.
    let sv = Supervisord::start(
        "earlystop",
        "[program:trap]\ncommand=sh -c 'trap \"echo got-term; exit 0\" TERM; while true; do sleep 0.05; done'\n\
         startsecs=0\nautostart=false\nstopwaitsecs=30\n",
    );
    for round in 0..5 {
        let body = supervisor::xmlrpc::encode_call(
            "system.multicall",
            &[Value::Array(vec![
                Value::Struct(vec![
                    ("methodName".into(), s("supervisor.startProcess")),
                    (
                        "params".into(),
                        Value::Array(vec![s("trap"), Value::Bool(false)]),
                    ),
                ]),
                Value::Struct(vec![
                    ("methodName".into(), s("supervisor.stopProcess")),
                    ("params".into(), Value::Array(vec![s("trap")])),
                ]),
            ])],
        );
        let req = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            body.len(),
            body
        );
        let t = Instant::now();
        let raw = sv.raw_http(req.as_bytes(), 60);
        assert!(String::from_utf8_lossy(&raw).contains("<boolean>1</boolean>"));
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "round {round}: stop took {:?} (SIGKILL after stopwaitsecs?)",
            t.elapsed()
        );
        assert_eq!(sv.state("trap"), "STOPPED");
    }
    let log = sv.log_text();
    assert!(!log.contains("SIGKILL"), "{log}");
    // Delivered after exec: the program ran its trap, or (if the shell had
    // not installed it yet) died of the TERM itself — never lost.
    let stops = log.matches("stopped: trap (exit status 0)").count()
        + log.matches("stopped: trap (terminated by SIGTERM)").count();
    assert_eq!(stops, 5, "{log}");
    // Start and stop ran in one loop iteration, before the exec could be
    // confirmed: every stop signal was held and sent after the exec.
    assert_eq!(
        log.matches("the SIGTERM requested before its exec").count(),
        5,
        "{log}"
    );
}

#[test]
fn stopasgroup_kills_the_whole_process_group() {
    let sv = Supervisord::start(
        "stopasgroup",
        "[program:tree]\ncommand=sh -c 'sleep 1000 & echo $! > {dir}/grandchild.pid; wait'\n\
         stopasgroup=true\nstartsecs=0\n",
    );
    sv.wait_state("tree", "RUNNING", 10);
    let pidfile = sv.dir.join("grandchild.pid");
    let gc: u32 = wait_for(10, "grandchild pid", || {
        std::fs::read_to_string(&pidfile).ok()?.trim().parse().ok()
    });
    assert!(pid_alive(gc));
    sv.call("supervisor.stopProcess", vec![s("tree")]);
    wait_until(5, "grandchild killed", || !pid_alive(gc));
}

#[test]
fn environment_and_supervisor_variables() {
    let sv = Supervisord::start(
        "environ",
        "[supervisord]\nenvironment=GLOBAL=\"g,1\",SHARED=from-supervisord\n\n\
         [program:env]\ncommand=sh -c 'env; sleep 1000'\nenvironment=LOCAL=l,SHARED=from-program\nstartsecs=0\n",
    );
    sv.wait_state("env", "RUNNING", 10);
    let out = wait_for(10, "env output", || {
        let v = sv
            .rpc(
                "supervisor.readProcessStdoutLog",
                vec![s("env"), Value::Int(0), Value::Int(0)],
            )
            .ok()?;
        match v {
            Value::String(t) if t.contains("SUPERVISOR_GROUP_NAME") => Some(t),
            _ => None,
        }
    });
    let lines: Vec<&str> = out.lines().collect();
    for want in [
        "SUPERVISOR_ENABLED=1",
        "SUPERVISOR_PROCESS_NAME=env",
        "SUPERVISOR_GROUP_NAME=env",
        "GLOBAL=g,1",
        "LOCAL=l",
        "SHARED=from-program",
    ] {
        assert!(lines.contains(&want), "missing {want} in {out}");
    }
    let url = format!("SUPERVISOR_SERVER_URL=unix://{}", sv.sock.display());
    assert!(lines.contains(&url.as_str()), "missing {url} in {out}");
}

#[test]
fn directory_umask_and_path_lookup() {
    let sv = Supervisord::start(
        "dirumask",
        "[program:where]\ncommand=sh -c 'pwd; umask; touch made; sleep 1000'\ndirectory={dir}\numask=027\nstartsecs=0\n",
    );
    sv.wait_state("where", "RUNNING", 10);
    let out = wait_for(10, "output", || {
        match sv
            .rpc(
                "supervisor.readProcessStdoutLog",
                vec![s("where"), Value::Int(0), Value::Int(0)],
            )
            .ok()?
        {
            Value::String(t) if t.lines().count() >= 2 => Some(t),
            _ => None,
        }
    });
    let mut it = out.lines();
    assert_eq!(it.next(), Some(sv.dir.path.to_str().unwrap()));
    assert_eq!(it.next(), Some("0027"));
    use std::os::unix::fs::PermissionsExt;
    let made = sv.dir.join("made");
    wait_until(5, "file made", || made.exists());
    let mode = std::fs::metadata(&made).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn user_switch_when_root() {
    if supervisor::sys::getuid() != 0 {
        // Only root can switch users; elsewhere the config is refused or
        // fails in the child, which other tests cover.
        return;
    }
    let sv = Supervisord::start(
        "user",
        "[program:who]\ncommand=sh -c 'id -u; id -g; sleep 1000'\nuser=nobody\nstartsecs=0\n",
    );
    sv.wait_state("who", "RUNNING", 10);
    let out = wait_for(10, "id output", || {
        match sv
            .rpc(
                "supervisor.readProcessStdoutLog",
                vec![s("who"), Value::Int(0), Value::Int(0)],
            )
            .ok()?
        {
            Value::String(t) if t.lines().count() >= 2 => Some(t),
            _ => None,
        }
    });
    let nobody = supervisor::sys::getpwnam("nobody").unwrap();
    let mut it = out.lines();
    assert_eq!(it.next(), Some(nobody.uid.to_string().as_str()));
    assert_eq!(it.next(), Some(nobody.gid.to_string().as_str()));
}

#[test]
fn numprocs_and_heterogeneous_groups() {
    let sv = Supervisord::start(
        "numprocs",
        "[program:worker]\ncommand=cat\nnumprocs=3\nnumprocs_start=1\nprocess_name=%(program_name)s_%(process_num)02d\nstartsecs=0\n\n\
         [program:a]\ncommand=cat\nstartsecs=0\n\n[program:b]\ncommand=cat\nstartsecs=0\n\n\
         [group:pair]\nprograms=b,a\n",
    );
    for n in [
        "worker:worker_01",
        "worker:worker_02",
        "worker:worker_03",
        "pair:a",
        "pair:b",
    ] {
        sv.wait_state(n, "RUNNING", 10);
    }
    let all = sv.call("supervisor.getAllProcessInfo", vec![]);
    let Value::Array(items) = all else { panic!() };
    let names: Vec<String> = items
        .iter()
        .map(|i| match (field_of(i, "group"), field_of(i, "name")) {
            (Value::String(g), Value::String(n)) => format!("{g}:{n}"),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "pair:a",
            "pair:b",
            "worker:worker_01",
            "worker:worker_02",
            "worker:worker_03"
        ]
    );
    // A bare group name of a heterogeneous group is not a process.
    assert_eq!(
        sv.rpc("supervisor.getProcessInfo", vec![s("pair")])
            .unwrap_err()
            .code,
        10
    );
}

#[test]
fn crash_loop_leaves_no_zombies() {
    let sv = Supervisord::start(
        "zombies",
        "[program:crash]\ncommand=sh -c 'exit 1'\nstartsecs=0\nautorestart=true\n",
    );
    wait_until(20, "many restarts", || {
        log_lines(&sv, "spawned: 'crash'").len() >= 50
    });
    let zombies = descendants(sv.pid())
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .map(|st| {
                    st.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(false)
        })
        .count();
    // At most the child that exited this instant.
    assert!(zombies <= 1, "{zombies} zombies");
    let fds = std::fs::read_dir(format!("/proc/{}/fd", sv.pid()))
        .unwrap()
        .count();
    assert!(fds < 30, "{fds} fds open: a leak");
}

#[test]
fn start_of_an_instant_exit_with_startsecs_zero_succeeds() {
    // startsecs=0: RUNNING as soon as it exec'd, so a waiting start must
    // report success even when the exit is reaped in the same pass.
    let sv = Supervisord::start(
        "instant",
        "[program:instant]\ncommand=true\nstartsecs=0\nautostart=false\nautorestart=false\n",
    );
    for round in 0..20 {
        let r = sv.rpc("supervisor.startProcess", vec![s("instant")]);
        assert_eq!(r, Ok(Value::Bool(true)), "round {round}");
        sv.wait_state("instant", "EXITED", 10);
    }
}
