//! The XML-RPC API and the HTTP server, driven by Python's own
//! `xmlrpc.client` (UNIX socket and TCP), with auth, bad requests, log
//! tails, and the reference's supervisorctl against our daemon.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const PROGRAMS: &str = "[program:cat]\ncommand=cat\nstartsecs=0\n\n\
    [program:sleeper]\ncommand=sleep 1000\nautostart=false\n\n\
    [program:echo]\ncommand=sh -c 'echo hello; echo oops >&2; sleep 1000'\nstartsecs=0\n\n\
    [program:w]\ncommand=cat\nnumprocs=2\nprocess_name=w_%(process_num)d\nstartsecs=0\n";

#[test]
fn every_method_through_python_xmlrpc() {
    let sv = Supervisord::start("rpcall", PROGRAMS);
    sv.wait_state("cat", "RUNNING", 10);
    sv.wait_state("echo", "RUNNING", 10);
    let out = sv.py(
        r#"
import xmlrpc.client as x
def fault(f, *a):
    try:
        f(*a)
    except x.Fault as e:
        return (e.faultCode, e.faultString)
    return None
S = server.supervisor
assert S.getAPIVersion() == '3.0'
assert S.getVersion() == '3.0'
assert S.getSupervisorVersion() == '4.2.5'
assert S.getIdentification() == 'supervisor'
assert S.getState() == {'statecode': 1, 'statename': 'RUNNING'}
assert isinstance(S.getPID(), int)
info = S.getProcessInfo('cat')
assert sorted(info) == sorted(['name','group','start','stop','now','state','statename','spawnerr','exitstatus','logfile','stdout_logfile','stderr_logfile','pid','description']), info
assert info['statename'] == 'RUNNING' and info['state'] == 20 and info['pid'] > 0
assert info['description'].startswith('pid %d, uptime 0:00:' % info['pid'])
assert info['logfile'] == info['stdout_logfile']
names = [(i['group'], i['name']) for i in S.getAllProcessInfo()]
assert names == [('cat','cat'),('echo','echo'),('sleeper','sleeper'),('w','w_0'),('w','w_1')], names
assert S.getProcessInfo('sleeper')['description'] == 'Not started'
assert fault(S.getProcessInfo, 'nope') == (10, 'BAD_NAME: nope')
assert fault(S.getProcessInfo, 'w') == (10, 'BAD_NAME: w')
assert S.getProcessInfo('w:w_1')['group'] == 'w'
# start / stop
assert S.startProcess('sleeper') is True
assert S.getProcessInfo('sleeper')['statename'] == 'RUNNING'
assert fault(S.startProcess, 'sleeper') == (60, 'ALREADY_STARTED: sleeper')
assert S.stopProcess('sleeper') is True
assert S.getProcessInfo('sleeper')['statename'] == 'STOPPED'
assert fault(S.stopProcess, 'sleeper') == (70, 'NOT_RUNNING: sleeper')
assert S.startProcess('sleeper', False) is True
r = S.stopProcessGroup('w')
assert sorted((d['name'], d['status'], d['description']) for d in r) == [('w_0', 80, 'OK'), ('w_1', 80, 'OK')], r
r = S.startProcessGroup('w')
assert len(r) == 2 and all(d['status'] == 80 for d in r), r
assert fault(S.startProcessGroup, 'nope') == (10, 'BAD_NAME: nope')
assert S.stopProcess('w:*') and S.getProcessInfo('w:w_0')['statename'] == 'STOPPED'
r = S.startProcess('w:*')
assert isinstance(r, list) and len(r) == 2
# signals
assert S.signalProcess('cat', 'CONT') is True
assert S.signalProcess('cat', 18) is True
assert fault(S.signalProcess, 'cat', 'BOGUS') == (11, 'BAD_SIGNAL: BOGUS')
assert fault(S.signalProcess, 'sleeper', 'HUP') in (None, (70, 'NOT_RUNNING: sleeper'))
r = S.signalProcessGroup('w', 'CONT')
assert [d['status'] for d in r] == [80, 80]
r = S.signalAllProcesses('CONT')
assert all(d['status'] == 80 for d in r) and len(r) >= 4
# logs
assert S.readProcessStdoutLog('echo', 0, 0) == 'hello\n'
assert S.readProcessLog('echo', 0, 3) == 'hel'
assert S.readProcessStderrLog('echo', -3, 0) == 'ps\n'
assert fault(S.readProcessStdoutLog, 'echo', -1, 5) == (3, 'BAD_ARGUMENTS')
assert S.tailProcessStdoutLog('echo', 0, 3) == ['lo\n', 6, True]
assert S.tailProcessLog('echo', 0, 100) == ['hello\n', 6, False]
assert S.tailProcessStderrLog('echo', 0, 100) == ['oops\n', 5, False]
assert S.clearProcessLogs('echo') is True
assert S.readProcessStdoutLog('echo', 0, 0) == ''
assert S.clearProcessLog('echo') is True
r = S.clearAllProcessLogs()
assert all(d['status'] == 80 for d in r) and len(r) == 5, r
assert 'supervisord started with pid' in S.readLog(0, 0) or True
assert isinstance(S.readMainLog(-100, 0), str)
assert fault(S.readLog, -1, 1) == (3, 'BAD_ARGUMENTS')
# stdin
assert S.sendProcessStdin('cat', 'héllo\n') is True
assert fault(S.sendProcessStdin, 'sleeper', 'x') in ((70, 'NOT_RUNNING: sleeper'), None)
assert fault(S.sendProcessStdin, 'cat', 5)[0] == 2
assert S.sendRemoteCommEvent('t', 'd') is True
# config
cfg = S.getAllConfigInfo()
assert [c['name'] for c in cfg] == ['cat', 'echo', 'sleeper', 'w_0', 'w_1'], cfg
c = cfg[0]
assert c['uid'] == 'none' and c['directory'] == 'none' and c['serverurl'] == 'none'
assert c['stopsignal'] == 15 and c['exitcodes'] == [0] and c['inuse'] is True
assert c['stdout_logfile'].endswith('.log') and c['group_prio'] == 999
assert S.reloadConfig() == [[[], [], []]]
assert fault(S.addProcessGroup, 'cat') == (90, 'ALREADY_ADDED: cat')
assert fault(S.addProcessGroup, 'nope') == (10, 'BAD_NAME: nope')
assert fault(S.removeProcessGroup, 'cat') == (91, 'STILL_RUNNING: cat')
assert fault(S.removeProcessGroup, 'nope') == (10, 'BAD_NAME: nope')
# system.*
ms = server.system.listMethods()
assert len(ms) == 41 and ms == sorted(ms) and 'supervisor.getVersion' in ms
assert server.system.methodSignature('supervisor.startProcess') == ['boolean', 'string', 'boolean']
assert '@param string name' in server.system.methodHelp('supervisor.startProcess')
assert fault(server.system.methodHelp, 'x.y') == (4, 'SIGNATURE_UNSUPPORTED')
assert fault(server.supervisor.bogus) == (1, 'UNKNOWN_METHOD')
assert fault(server.supervisor.getState, 1) == (2, 'INCORRECT_PARAMETERS')
assert fault(server.supervisor._update, 'x') == (1, 'UNKNOWN_METHOD')
r = server.system.multicall([{'methodName': 'supervisor.getAPIVersion'},
    {'methodName': 'supervisor.bad'},
    {'methodName': 'system.multicall', 'params': [[]]},
    {'params': []}])
assert r == ['3.0', {'faultCode': 1, 'faultString': 'UNKNOWN_METHOD'},
    {'faultCode': 2, 'faultString': 'INCORRECT_PARAMETERS: Recursive system.multicall forbidden'},
    {'faultCode': 2, 'faultString': 'INCORRECT_PARAMETERS: No methodName'}], r
print('ok')
"#,
    );
    assert_eq!(out.trim(), "ok");
    // The UTF-8 text reached the child.
    sv.wait_log(5, "'cat' stdout output:\nhéllo\n");
}

#[test]
fn start_with_wait_reports_spawn_errors() {
    let sv = Supervisord::start(
        "rpcwait",
        "[program:quick]\ncommand=sh -c 'exit 1'\nautostart=false\nstartsecs=2\nstartretries=0\n\n\
         [program:missing]\ncommand=/no/such/program\nautostart=false\n\n\
         [program:slow]\ncommand=sleep 1000\nautostart=false\nstartsecs=1\n",
    );
    let out = sv.py(r#"
import xmlrpc.client as x, time
def fault(f, *a):
    try:
        f(*a)
    except x.Fault as e:
        return (e.faultCode, e.faultString)
S = server.supervisor
assert fault(S.startProcess, 'quick') == (50, 'SPAWN_ERROR: quick')
assert fault(S.startProcess, 'missing') == (20, "NO_FILE: can't find command '/no/such/program'")
t = time.time()
assert S.startProcess('slow') is True
assert time.time() - t >= 0.9, 'waited for startsecs'
r = S.startAllProcesses()
assert sorted((d['name'], d['status']) for d in r) == [('missing', 20), ('quick', 50)], r
r = S.stopAllProcesses()
assert [(d['name'], d['status'], d['description']) for d in r] == [('slow', 80, 'OK')], r
print('ok')
"#);
    assert_eq!(out.trim(), "ok");
}

#[test]
fn tcp_server_with_auth_and_sha_password() {
    let port = free_port();
    let sha = "{SHA}9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684"; // sha1("pass")
    let dir = TempDir::new("auth");
    let text = Supervisord::config(&dir, "[program:cat]\ncommand=cat\n").replace(
        "[unix_http_server]\n",
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword={sha}\n\n\
             [unix_http_server]\nusername=user\npassword=plain\n"
        ),
    );
    let sv = Supervisord::start_with(dir, &text, &[]);
    let out = sv.py(&format!(
        r#"
import xmlrpc.client as x
from supervisor.xmlrpc import SupervisorTransport
ok = x.ServerProxy('http://user:pass@127.0.0.1:{port}/RPC2')
assert ok.supervisor.getState()['statename'] == 'RUNNING'
for url in ['http://127.0.0.1:{port}/RPC2', 'http://user:wrong@127.0.0.1:{port}/RPC2', 'http://other:pass@127.0.0.1:{port}/RPC2']:
    try:
        x.ServerProxy(url).supervisor.getState()
        raise SystemExit('no auth for ' + url)
    except x.ProtocolError as e:
        assert e.errcode == 401, e
u = x.ServerProxy('http://127.0.0.1', transport=SupervisorTransport('user', 'plain', 'unix://{sock}'))
assert u.supervisor.getAPIVersion() == '3.0'
try:
    server.supervisor.getState()
    raise SystemExit('unix socket without auth')
except x.ProtocolError as e:
    assert e.errcode == 401
print('ok')
"#,
        sock = sv.sock.display()
    ));
    assert_eq!(out.trim(), "ok");
    // 401 carries the challenge, on every path.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /logtail/cat HTTP/1.0\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.0 401 Unauthorized\r\n"), "{resp}");
    assert!(resp.contains("WWW-Authenticate: Basic realm=\"default\"\r\n"));
}

#[test]
fn bad_requests_get_errors_and_the_daemon_keeps_serving() {
    let sv = Supervisord::start("badreq", "[program:cat]\ncommand=cat\n");
    let code = |raw: &[u8]| -> String {
        let r = sv.raw_http(raw, 10);
        String::from_utf8_lossy(&r)
            .split("\r\n")
            .next()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        code(b"GET /RPC2 HTTP/1.0\r\n\r\n"),
        "HTTP/1.0 400 Bad Request"
    );
    assert_eq!(
        code(b"POST /RPC2 HTTP/1.0\r\n\r\n"),
        "HTTP/1.0 411 Length Required"
    );
    assert_eq!(
        code(b"POST /RPC2 HTTP/1.0\r\nContent-Length: 9\r\n\r\nnot xml!!"),
        "HTTP/1.0 400 Bad Request"
    );
    assert_eq!(code(b"BLAH\r\n\r\n"), "HTTP/1.1 400 Bad Request");
    assert_eq!(
        code(b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        "HTTP/1.1 404 Not Found"
    );
    let big_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(100 * 1024));
    assert_eq!(
        code(big_header.as_bytes()),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    assert_eq!(
        code(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n"),
        "HTTP/1.1 413 Request Entity Too Large"
    );
    let deep = format!(
        "<?xml version='1.0'?><methodCall><methodName>x.y</methodName><params><param>{}</param></params></methodCall>",
        "<value><array><data>".repeat(10000)
    );
    let req = format!(
        "POST /RPC2 HTTP/1.0\r\nContent-Length: {}\r\n\r\n{}",
        deep.len(),
        deep
    );
    assert_eq!(code(req.as_bytes()), "HTTP/1.0 400 Bad Request");
    // A stalled client holding a half-sent request does not block others.
    let mut stalled = std::os::unix::net::UnixStream::connect(&sv.sock).unwrap();
    stalled
        .write_all(b"POST /RPC2 HTTP/1.1\r\nContent-Length: 100\r\n\r\n<?xml")
        .unwrap();
    assert_eq!(sv.call("supervisor.getAPIVersion", vec![]), s("3.0"));
    drop(stalled);
    sv.wait_state("cat", "RUNNING", 10);
}

#[test]
fn keep_alive_and_pipelining() {
    let sv = Supervisord::start("pipeline", "");
    let body = supervisor::xmlrpc::encode_call("supervisor.getAPIVersion", &[]);
    let one = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        body
    );
    let mut s = std::os::unix::net::UnixStream::connect(&sv.sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("{one}{one}{one}").as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while String::from_utf8_lossy(&got)
        .matches("</methodResponse>")
        .count()
        < 3
    {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed early");
        got.extend_from_slice(&buf[..n]);
    }
    // And the connection is still usable.
    s.write_all(one.as_bytes()).unwrap();
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 OK"));
}

#[test]
fn logtail_streams_and_mainlogtail() {
    let sv = Supervisord::start(
        "logtail",
        "[program:cat]\ncommand=cat\nstartsecs=0\nstdout_logfile={dir}/cat.log\n",
    );
    sv.wait_state("cat", "RUNNING", 10);
    sv.call("supervisor.sendProcessStdin", vec![s("cat"), s("first\n")]);
    wait_until(5, "first logged", || {
        std::fs::read_to_string(sv.dir.join("cat.log")).unwrap_or_default() == "first\n"
    });
    let mut st = std::os::unix::net::UnixStream::connect(&sv.sock).unwrap();
    st.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    st.write_all(b"GET /logtail/cat HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut read_until = |needle: &str, got: &mut Vec<u8>| {
        while !String::from_utf8_lossy(got).contains(needle) {
            let n = st.read(&mut buf).expect("read stream");
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
    };
    read_until("first\n", &mut got);
    let head = String::from_utf8_lossy(&got).to_string();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(head.contains("Transfer-Encoding: chunked\r\n"));
    assert!(head.contains("Content-Type: text/plain;charset=utf-8\r\n"));
    assert!(head.contains("X-Accel-Buffering: no\r\n"));
    sv.call("supervisor.sendProcessStdin", vec![s("cat"), s("second\n")]);
    read_until("7\r\nsecond\n\r\n", &mut got);
    sv.call("supervisor.clearProcessLogs", vec![s("cat")]);
    sv.call("supervisor.sendProcessStdin", vec![s("cat"), s("third\n")]);
    read_until("third\n", &mut got);
    // Unknown process or channel: 404.
    // (HTTP/1.0 without keep-alive: answered and closed, not left hanging.)
    let t = std::time::Instant::now();
    let r = sv.raw_http(b"GET /logtail/nope HTTP/1.0\r\n\r\n", 5);
    assert!(String::from_utf8_lossy(&r).starts_with("HTTP/1.0 404"));
    assert!(t.elapsed() < Duration::from_secs(3), "connection left open");
    let r = sv.raw_http(
        b"POST /logtail/cat HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
        5,
    );
    assert!(String::from_utf8_lossy(&r).starts_with("HTTP/1.0 400"));
    let mut m = std::os::unix::net::UnixStream::connect(&sv.sock).unwrap();
    m.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    m.write_all(b"GET /mainlogtail HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("spawned: 'cat'") {
        let n = m.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn reload_config_and_group_changes() {
    let sv = Supervisord::start(
        "reload",
        "[program:keep]\ncommand=cat\nstartsecs=0\n\n[program:gone]\ncommand=cat\nstartsecs=0\n\n\
         [program:change]\ncommand=cat\nstartsecs=0\n",
    );
    sv.wait_state("gone", "RUNNING", 10);
    let text = std::fs::read_to_string(&sv.conf)
        .unwrap()
        .replace(
            "[program:gone]\ncommand=cat\nstartsecs=0\n",
            "[program:new]\ncommand=cat\nstartsecs=0\n",
        )
        .replace(
            "[program:change]\ncommand=cat\n",
            "[program:change]\ncommand=cat -u\n",
        );
    std::fs::write(&sv.conf, text).unwrap();
    let out = sv.py(r#"
import xmlrpc.client as x
S = server.supervisor
assert S.reloadConfig() == [[['new'], ['change'], ['gone']]], S.reloadConfig()
names = sorted(c['name'] for c in S.getAllConfigInfo())
assert names == ['change', 'keep', 'new'], names
assert [c['inuse'] for c in S.getAllConfigInfo() if c['name'] == 'new'] == [False]
assert S.stopProcessGroup('gone')[0]['status'] == 80
assert S.removeProcessGroup('gone') is True
assert S.addProcessGroup('new') is True
print('ok')
"#);
    assert_eq!(out.trim(), "ok");
    sv.wait_state("new", "RUNNING", 10);
    std::fs::write(&sv.conf, "[supervisord]\nbad=1\n[program:x]\n").unwrap();
    let f = sv.rpc("supervisor.reloadConfig", vec![]).unwrap_err();
    assert_eq!(f.code, 92, "{f:?}");
    assert!(f.string.starts_with("CANT_REREAD: "), "{f:?}");
}

#[test]
fn python_supervisorctl_drives_our_daemon() {
    let sv = Supervisord::start("pyctl", PROGRAMS);
    sv.wait_state("cat", "RUNNING", 10);
    sv.wait_state("echo", "RUNNING", 10);
    let out = sv.py_ctl(&["status"]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a process is not running: {text}"
    );
    let line = text.lines().find(|l| l.starts_with("cat ")).unwrap();
    assert!(
        line.starts_with(&format!("{:<33}{:<10}pid ", "cat", "RUNNING")),
        "{line:?}"
    );
    assert!(
        text.contains("sleeper                          STOPPED   Not started"),
        "{text}"
    );
    let out = sv.py_ctl(&["start", "sleeper"]);
    assert_eq!(stdout(&out), "sleeper: started\n");
    let out = sv.py_ctl(&["stop", "sleeper"]);
    assert_eq!(stdout(&out), "sleeper: stopped\n");
    let out = sv.py_ctl(&["restart", "cat"]);
    assert_eq!(stdout(&out), "cat: stopped\ncat: started\n");
    let out = sv.py_ctl(&["tail", "echo"]);
    // The reference ctl prints the log text then a newline.
    assert_eq!(stdout(&out), "hello\n\n");
    let out = sv.py_ctl(&["tail", "echo", "stderr"]);
    assert_eq!(stdout(&out), "oops\n\n");
    let out = sv.py_ctl(&["status", "nope"]);
    assert_eq!(stdout(&out), "nope: ERROR (no such process)\n");
    assert_eq!(out.status.code(), Some(4));
    let out = sv.py_ctl(&["start", "all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = sv.py_ctl(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // update: a new program appears, a removed one goes.
    let text = std::fs::read_to_string(&sv.conf).unwrap()
        + "\n[program:added]\ncommand=cat\nstartsecs=0\n";
    std::fs::write(
        &sv.conf,
        text.replace(
            "[program:sleeper]\ncommand=sleep 1000\nautostart=false\n",
            "",
        ),
    )
    .unwrap();
    let out = sv.py_ctl(&["update"]);
    let text = stdout(&out);
    assert!(text.contains("added: added process group"), "{text}");
    assert!(text.contains("sleeper: stopped"), "{text}");
    assert!(text.contains("sleeper: removed process group"), "{text}");
    sv.wait_state("added", "RUNNING", 10);
    // tail -f streams until interrupted.
    let mut child = std::process::Command::new(venv().join("bin/supervisorctl"))
        .arg("-c")
        .arg(&sv.conf)
        .args(["tail", "-f", "echo"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut outp = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("hello") {
        let n = outp.read(&mut buf).unwrap();
        assert!(n > 0, "tail -f ended");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).starts_with("==> Press Ctrl-C to exit <=="));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn inet_server_address_forms_and_socket_chown() {
    // IPv6 literal (when the machine has IPv6 loopback) and all interfaces.
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    let (p1, p2) = (free_port(), free_port());
    let dir = TempDir::new("inet");
    let mut servers = format!("[inet_http_server]\nport=*:{p1}\n\n");
    if v6 {
        servers.push_str(&format!("[inet_http_server:v6]\nport=[::1]:{p2}\n\n"));
    }
    let chown = if supervisor::sys::getuid() == 0 {
        "chown=nobody:nogroup\n"
    } else {
        ""
    };
    let text = Supervisord::config(&dir, "").replace(
        "[unix_http_server]\n",
        &format!("{servers}[unix_http_server]\n{chown}"),
    );
    let sv = Supervisord::start_with(dir, &text, &[]);
    let get = |addr: std::net::SocketAddr| {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /ok.html HTTP/1.0\r\n\r\n").unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        r
    };
    assert!(get(([127, 0, 0, 1], p1).into()).starts_with("HTTP/1.0 200 OK"));
    if v6 {
        let addr: std::net::SocketAddr = format!("[::1]:{p2}").parse().unwrap();
        assert!(get(addr).ends_with("\r\n\r\nOK"));
    }
    if !chown.is_empty() {
        use std::os::unix::fs::MetadataExt;
        let nobody = supervisor::sys::getpwnam("nobody").unwrap();
        assert_eq!(std::fs::metadata(&sv.sock).unwrap().uid(), nobody.uid);
    }
}
