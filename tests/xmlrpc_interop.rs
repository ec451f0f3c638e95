//! The XML-RPC codec and HTTP client against Python: byte-identical
//! encodings to `xmlrpc.client.dumps`, each side decoding the other's
//! output, and our client talking to the reference daemon (calls, faults,
//! non-ASCII text, log-tail streams).

mod common;
mod ctl_support;

use std::process::Command;

use common::{s, Value};
use ctl_support::{start_programs, Daemon};
use supervisor::http_client::{CallError, Client, LogStream, StreamEvent};
use supervisor::xmlrpc::{self, faults, Fault};

/// (our value, the same value as a Python expression).
fn samples() -> Vec<(Value, &'static str)> {
    let st = |m: Vec<(&str, Value)>| {
        Value::Struct(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    vec![
        (Value::Int(0), "0"),
        (Value::Int(-2147483648), "-2147483648"),
        (Value::Int(2147483647), "2147483647"),
        (Value::Bool(true), "True"),
        (Value::Bool(false), "False"),
        (s(""), "''"),
        (s("plain"), "'plain'"),
        (s("a&b<c>d\"e'f"), r#"'a&b<c>d"e\'f'"#),
        (s("tab\tnew\nline"), r"'tab\tnew\nline'"),
        (s("é ü 日本 🎉"), r"'é ü 日本 🎉'"),
        (Value::Double(1.5), "1.5"),
        (Value::Double(-0.0), "-0.0"),
        (Value::Double(1e20), "1e20"),
        (Value::Double(1e-7), "1e-7"),
        (Value::Double(123456789.123), "123456789.123"),
        (Value::Double(0.1 + 0.2), "0.1 + 0.2"),
        (Value::Array(vec![]), "[]"),
        (
            Value::Array(vec![
                Value::Int(1),
                s("two"),
                Value::Array(vec![Value::Bool(false)]),
            ]),
            "[1, 'two', [False]]",
        ),
        (st(vec![]), "{}"),
        (
            st(vec![
                ("name", s("cat")),
                ("pid", Value::Int(42)),
                ("nested", st(vec![("k<", s("v&"))])),
            ]),
            "{'name': 'cat', 'pid': 42, 'nested': {'k<': 'v&'}}",
        ),
        (
            Value::Base64(b"\x00\x01binary\xff".to_vec()),
            r"x.Binary(b'\x00\x01binary\xff')",
        ),
        (Value::Base64(vec![7u8; 200]), r"x.Binary(b'\x07' * 200)"),
        (
            Value::DateTime("20240102T03:04:05".into()),
            "x.DateTime('20240102T03:04:05')",
        ),
    ]
}

/// Runs Python code (with `import xmlrpc.client as x`) and returns stdout.
fn python(code: &str) -> String {
    let out = Command::new(common::python())
        .arg("-c")
        .arg(format!("import sys, xmlrpc.client as x\n{code}"))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        common::stderr(&out)
    );
    common::stdout(&out)
}

const SEP: &str = "\n----8<----\n";

#[test]
fn encodings_are_byte_identical_to_python() {
    let samples = samples();
    let exprs: Vec<&str> = samples.iter().map(|(_, e)| *e).collect();
    let code = format!(
        "vals = [{}]\n\
         out = [x.dumps((v,), methodresponse=True) for v in vals]\n\
         out.append(x.dumps(tuple(vals), 'supervisor.someMethod'))\n\
         out.append(x.dumps(x.Fault(10, 'BAD_NAME: f<o&o')))\n\
         out.append(x.dumps((), 'system.listMethods'))\n\
         sys.stdout.write({SEP:?}.join(out))",
        exprs.join(", ")
    );
    let theirs: Vec<String> = python(&code).split(SEP).map(str::to_string).collect();
    let mut ours: Vec<String> = samples
        .iter()
        .map(|(v, _)| xmlrpc::encode_response(v))
        .collect();
    let values: Vec<Value> = samples.iter().map(|(v, _)| v.clone()).collect();
    ours.push(xmlrpc::encode_call("supervisor.someMethod", &values));
    ours.push(xmlrpc::encode_fault(&Fault::new(faults::BAD_NAME, "f<o&o")));
    ours.push(xmlrpc::encode_call("system.listMethods", &[]));
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o, t);
    }
}

#[test]
fn each_side_decodes_the_other() {
    let samples = samples();
    // Python reads what we encode and re-encodes it: the same bytes.
    let ours: Vec<String> = samples
        .iter()
        .map(|(v, _)| xmlrpc::encode_response(v))
        .collect();
    let dir = common::TempDir::new("xmlrpc-interop");
    let file = dir.write("ours.txt", &ours.join(SEP));
    let code = format!(
        "docs = open({:?}, encoding='utf-8').read().split({SEP:?})\n\
         out = [x.dumps(x.loads(d, use_builtin_types=False)[0], methodresponse=True) for d in docs]\n\
         sys.stdout.write({SEP:?}.join(out))",
        file.display().to_string()
    );
    let again: Vec<String> = python(&code).split(SEP).map(str::to_string).collect();
    assert_eq!(again, ours);
    // We read what Python encodes.
    let exprs: Vec<&str> = samples.iter().map(|(_, e)| *e).collect();
    let code = format!(
        "vals = [{}]\nsys.stdout.write({SEP:?}.join(x.dumps((v,), methodresponse=True) for v in vals))",
        exprs.join(", ")
    );
    let theirs = python(&code);
    for ((value, expr), doc) in samples.iter().zip(theirs.split(SEP)) {
        assert_eq!(
            xmlrpc::parse_response(doc.as_bytes()),
            Ok(Ok(value.clone())),
            "{expr}"
        );
    }
    // A call Python makes, and a fault.
    let call = python("sys.stdout.write(x.dumps((1, 'a', [True]), 'supervisor.x'))");
    assert_eq!(
        xmlrpc::parse_call(call.as_bytes()),
        Ok((
            "supervisor.x".to_string(),
            vec![Value::Int(1), s("a"), Value::Array(vec![Value::Bool(true)])]
        ))
    );
    let fault = python("sys.stdout.write(x.dumps(x.Fault(70, 'NOT_RUNNING: cat')))");
    assert_eq!(
        xmlrpc::parse_response(fault.as_bytes()),
        Ok(Err(Fault::new(faults::NOT_RUNNING, "cat")))
    );
}

#[test]
fn control_characters_stay_parseable_for_python() {
    let ours = xmlrpc::encode_response(&s("\x1b[31mred\x1b[0m\x00"));
    let dir = common::TempDir::new("xmlrpc-ctl");
    let file = dir.write("esc.xml", &ours);
    let code = format!(
        "print(ascii(x.loads(open({:?}, encoding='utf-8').read())[0][0]))",
        file.display().to_string()
    );
    assert_eq!(python(&code), "'\\ufffd[31mred\\ufffd[0m\\ufffd'\n");
    // What Python sends raw, we still read.
    let raw = python("sys.stdout.write(x.dumps(('\\x1b[1mbold',), methodresponse=True))");
    assert_eq!(
        xmlrpc::parse_response(raw.as_bytes()),
        Ok(Ok(s("\x1b[1mbold")))
    );
}

#[test]
fn client_talks_to_the_reference_daemon() {
    let sv = start_programs(Daemon::Reference, "xmlrpc-client");
    let url = format!("unix://{}", sv.sock.display());
    let mut client = Client::new(&url, None, None).expect("client");
    // Several calls on one kept-alive connection.
    assert_eq!(
        client.call("supervisor.getAPIVersion", &[]).expect("api"),
        s("3.0")
    );
    let Value::Array(infos) = client
        .call("supervisor.getAllProcessInfo", &[])
        .expect("infos")
    else {
        panic!("not an array")
    };
    let names: Vec<Value> = infos.iter().map(|i| common::field_of(i, "name")).collect();
    assert_eq!(
        names,
        vec![
            s("cat"),
            s("a"),
            s("b"),
            s("noexec"),
            s("quick"),
            s("sleeper")
        ]
    );
    match client.call("supervisor.getProcessInfo", &[s("nope")]) {
        Err(CallError::Fault(f)) => assert_eq!(f, Fault::new(faults::BAD_NAME, "nope")),
        other => panic!("expected BAD_NAME, got {other:?}"),
    }
    // Non-ASCII text goes through the daemon and back.
    let text = "héllo 日本 🎉\n";
    client
        .call("supervisor.sendProcessStdin", &[s("cat"), s(text)])
        .expect("send");
    common::wait_until(10, "echo", || {
        client
            .call(
                "supervisor.readProcessStdoutLog",
                &[s("cat"), Value::Int(0), Value::Int(0)],
            )
            .ok()
            == Some(s(text))
    });
    let multi = Value::Array(vec![
        Value::Struct(vec![
            ("methodName".into(), s("supervisor.getPID")),
            ("params".into(), Value::Array(vec![])),
        ]),
        Value::Struct(vec![
            ("methodName".into(), s("supervisor.nope")),
            ("params".into(), Value::Array(vec![])),
        ]),
    ]);
    let Value::Array(results) = client
        .call("system.multicall", &[multi])
        .expect("multicall")
    else {
        panic!("not an array")
    };
    assert_eq!(results.len(), 2);
    assert_eq!(common::field_of(&results[1], "faultCode"), Value::Int(1));
    // The same over TCP is refused when nothing listens; errno is kept.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut refused = Client::new(&format!("http://127.0.0.1:{port}"), None, None).expect("client");
    let err = refused.call("supervisor.getPID", &[]).expect_err("refused");
    assert_eq!(err.errno(), Some(libc::ECONNREFUSED));
}

#[test]
fn log_stream_reads_the_reference_logtail() {
    let sv = start_programs(Daemon::Reference, "xmlrpc-stream");
    let url = format!("unix://{}", sv.sock.display());
    let mut stream = LogStream::open(&url, "/logtail/grp:b/stderr", None, None).expect("open");
    let mut got = Vec::new();
    while !got.ends_with(b"err\n") {
        match stream.read_some().expect("read") {
            StreamEvent::Data(d) => got.extend(d),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, b"err\n");
    let mut missing = LogStream::open(&url, "/logtail/nope", None, None).expect("open");
    let status = loop {
        match missing.read_some().expect("read") {
            StreamEvent::Data(d) if d.is_empty() => continue,
            other => break other,
        }
    };
    assert_eq!(status, StreamEvent::Status(404));
}
