//! The SysV init script `conf/init.d/supervisord`, run for real: start,
//! status, reload, stop and the LSB exit codes, with the pid file, socket
//! and logs in a temp dir named through its defaults file.
//!
//! The daemon is our `supervisord`; set `INITSCRIPT_SUPERVISORD` to another
//! binary (e.g. the reference's `target/venv/bin/supervisord`) to check the
//! script against it.

mod common;

use std::fs::File;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{descendants, kill, pid_alive, wait_until, TempDir};

fn daemon() -> PathBuf {
    std::env::var_os("INITSCRIPT_SUPERVISORD")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::bin("supervisord"))
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/init.d/supervisord")
}

/// A service instance: config, defaults file and paths in one temp dir.
/// On drop, whatever supervisord is left (and its children) is killed.
struct Service {
    dir: TempDir,
    defaults: PathBuf,
    config: PathBuf,
    pidfile: PathBuf,
    sock: PathBuf,
    log: PathBuf,
}

impl Service {
    fn new(tag: &str) -> Service {
        let dir = TempDir::new(tag);
        let d = dir.path.display().to_string();
        let config = dir.write(
            "sv.conf",
            &format!(
                "[unix_http_server]\nfile={d}/sv.sock\n\n\
                 [supervisord]\nlogfile={d}/logs/supervisord.log\n\
                 pidfile={d}/from-config.pid\nchildlogdir={d}/logs\n\n\
                 [rpcinterface:supervisor]\n\
                 supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
                 [supervisorctl]\nserverurl=unix://{d}/sv.sock\n\n\
                 [program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n"
            ),
        );
        let defaults = dir.write(
            "defaults",
            &format!(
                "DAEMON={}\nCONFIG={d}/sv.conf\nPIDFILE={d}/init.pid\nLOGDIR={d}/logs\n\
                 START_TIMEOUT=20\nSTOP_TIMEOUT=20\n",
                daemon().display()
            ),
        );
        Service {
            pidfile: dir.join("init.pid"),
            sock: dir.join("sv.sock"),
            log: dir.join("logs/supervisord.log"),
            defaults,
            config,
            dir,
        }
    }

    /// Runs the script with `action`: (exit code, stdout + stderr). The
    /// output goes through a file: a daemon that kept inherited pipes open
    /// must not hang the test.
    fn run(&self, action: &str) -> (Option<i32>, String) {
        let path = self.dir.join("script.out");
        let out = File::create(&path).expect("create output file");
        let err = out.try_clone().expect("dup output file");
        let status = Command::new(script())
            .arg(action)
            .env("SUPERVISORD_DEFAULTS", &self.defaults)
            .current_dir(&self.dir.path)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .expect("run the init script");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        (status.code(), text)
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.pidfile)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, needle: &str) {
        wait_until(20, &format!("log line {needle:?}"), || {
            self.log_text().contains(needle)
        });
    }

    fn socket_up(&self) -> bool {
        UnixStream::connect(&self.sock).is_ok()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let Some(pid) = self.pid() else {
            return;
        };
        let kids = descendants(pid);
        kill(pid, "TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while pid_alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        kill(pid, "KILL");
        for k in kids {
            kill(k, "KILL");
        }
    }
}

#[test]
fn start_status_reload_stop() {
    let svc = Service::new("initsvc");
    assert_eq!(
        svc.run("status"),
        (Some(3), "supervisord is not running\n".into())
    );

    let (code, text) = svc.run("start");
    assert_eq!(code, Some(0), "start: {text}\nlog:\n{}", svc.log_text());
    // The pid file is the one the script passed with -j, not the config's.
    let pid = svc.pid().expect("pid file written");
    assert!(pid_alive(pid));
    assert!(!svc.dir.join("from-config.pid").exists());
    wait_until(20, "control socket", || svc.socket_up());
    svc.wait_log("spawned: 'sleeper'");
    assert_eq!(
        svc.run("status"),
        (Some(0), format!("supervisord is running (pid {pid})\n"))
    );
    let (code, text) = svc.run("start");
    assert_eq!(code, Some(0));
    assert!(text.contains("already running"), "{text}");

    // reload re-reads the config in the same process.
    let mut conf = std::fs::read_to_string(&svc.config).expect("read config");
    conf.push_str("\n[program:added]\ncommand=sleep 1001\nstartsecs=0\n");
    std::fs::write(&svc.config, conf).expect("write config");
    assert_eq!(svc.run("reload").0, Some(0));
    svc.wait_log("received SIGHUP indicating restart request");
    svc.wait_log("spawned: 'added'");
    assert_eq!(svc.pid(), Some(pid));
    assert!(pid_alive(pid));
    assert_eq!(svc.run("force-reload").0, Some(0));
    wait_until(20, "the second reload to respawn 'added'", || {
        svc.log_text().matches("spawned: 'added'").count() == 2
    });

    let children = common::wait_for(20, "programs running", || {
        Some(descendants(pid)).filter(|c| c.len() == 2)
    });
    let (code, text) = svc.run("stop");
    assert_eq!(code, Some(0), "stop: {text}");
    assert!(!pid_alive(pid));
    assert!(!svc.pidfile.exists());
    wait_until(20, "programs to exit", || {
        children.iter().all(|c| !pid_alive(*c))
    });
    assert_eq!(svc.run("status").0, Some(3));
    assert_eq!(svc.run("stop").0, Some(0));
    assert_eq!(svc.run("reload").0, Some(7));
}

#[test]
fn restart_gives_a_new_daemon() {
    let svc = Service::new("initrst");
    assert_eq!(svc.run("start").0, Some(0));
    let first = svc.pid().expect("pid file written");
    svc.wait_log("spawned: 'sleeper'");
    let (code, text) = svc.run("restart");
    assert_eq!(code, Some(0), "restart: {text}");
    let second = svc.pid().expect("pid file rewritten");
    assert_ne!(first, second);
    assert!(!pid_alive(first) && pid_alive(second));
    assert_eq!(svc.run("stop").0, Some(0));
}

#[test]
fn start_reports_a_bad_config() {
    let svc = Service::new("initbad");
    std::fs::write(&svc.config, "[supervisord]\nloglevel=bogus\n").expect("write config");
    let (code, text) = svc.run("start");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("Error:"), "{text}");
    assert_eq!(svc.run("status").0, Some(3));
}

#[test]
fn lsb_codes_without_a_daemon() {
    let svc = Service::new("initlsb");
    std::fs::remove_file(&svc.config).expect("remove config");
    assert_eq!(svc.run("start").0, Some(6));
    // A pid file naming a dead process.
    std::fs::write(&svc.pidfile, "999999999\n").expect("write pid file");
    let (code, text) = svc.run("status");
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(svc.run("force-reload").0, Some(7));
    assert_eq!(svc.run("stop").0, Some(0));
    assert!(!svc.pidfile.exists());
    let (code, text) = svc.run("bogus");
    assert_eq!(code, Some(3));
    assert!(text.starts_with("Usage: "), "{text}");
}
