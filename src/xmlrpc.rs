//! XML-RPC: the value model, faults, and a hand-written codec for method
//! calls and responses (both directions: the daemon decodes calls and
//! encodes responses, supervisorctl does the reverse).
//!
//! Encoding reproduces the byte layout of Python's `xmlrpc.client.dumps`,
//! which the reference daemon uses. One deliberate difference: characters
//! XML 1.0 forbids (controls below 0x20 other than tab, newline and CR, and
//! U+FFFE/U+FFFF) are replaced by U+FFFD. The reference sends them raw
//! (e.g. the ESC of ANSI colours in a log tail), which makes the response
//! unparseable for every client (reference bug #85). Decoding is lenient
//! and accepts such characters, so we can talk to a Python daemon.
//!
//! The parser is a small non-validating one: elements, text, entities,
//! character references, CDATA, comments and processing instructions; a
//! DOCTYPE is refused and nesting is bounded, so hostile input can neither
//! expand entities nor overflow the stack.

use std::borrow::Cow;

/// An XML-RPC value. Structs keep their member order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    String(String),
    Double(f64),
    Array(Vec<Value>),
    Struct(Vec<(String, Value)>),
    Base64(Vec<u8>),
    DateTime(String),
    Nil,
}

/// A fault: `faultCode` and `faultString` (`NAME` or `NAME: detail`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub code: i32,
    pub string: String,
}

/// The reference's fault codes (supervisor/xmlrpc.py `Faults`).
pub mod faults {
    pub const UNKNOWN_METHOD: i32 = 1;
    pub const INCORRECT_PARAMETERS: i32 = 2;
    pub const BAD_ARGUMENTS: i32 = 3;
    pub const SIGNATURE_UNSUPPORTED: i32 = 4;
    pub const SHUTDOWN_STATE: i32 = 6;
    pub const BAD_NAME: i32 = 10;
    pub const BAD_SIGNAL: i32 = 11;
    pub const NO_FILE: i32 = 20;
    pub const NOT_EXECUTABLE: i32 = 21;
    pub const FAILED: i32 = 30;
    pub const ABNORMAL_TERMINATION: i32 = 40;
    pub const SPAWN_ERROR: i32 = 50;
    pub const ALREADY_STARTED: i32 = 60;
    pub const NOT_RUNNING: i32 = 70;
    pub const SUCCESS: i32 = 80;
    pub const ALREADY_ADDED: i32 = 90;
    pub const STILL_RUNNING: i32 = 91;
    pub const CANT_REREAD: i32 = 92;

    /// The name of a fault code (`BAD_NAME`), as used in fault strings.
    pub fn name(code: i32) -> &'static str {
        match code {
            UNKNOWN_METHOD => "UNKNOWN_METHOD",
            INCORRECT_PARAMETERS => "INCORRECT_PARAMETERS",
            BAD_ARGUMENTS => "BAD_ARGUMENTS",
            SIGNATURE_UNSUPPORTED => "SIGNATURE_UNSUPPORTED",
            SHUTDOWN_STATE => "SHUTDOWN_STATE",
            BAD_NAME => "BAD_NAME",
            BAD_SIGNAL => "BAD_SIGNAL",
            NO_FILE => "NO_FILE",
            NOT_EXECUTABLE => "NOT_EXECUTABLE",
            FAILED => "FAILED",
            ABNORMAL_TERMINATION => "ABNORMAL_TERMINATION",
            SPAWN_ERROR => "SPAWN_ERROR",
            ALREADY_STARTED => "ALREADY_STARTED",
            NOT_RUNNING => "NOT_RUNNING",
            SUCCESS => "SUCCESS",
            ALREADY_ADDED => "ALREADY_ADDED",
            STILL_RUNNING => "STILL_RUNNING",
            CANT_REREAD => "CANT_REREAD",
            _ => "UNKNOWN",
        }
    }
}

impl Fault {
    /// A fault whose string is the code's name, or `NAME: detail`.
    pub fn new(code: i32, detail: impl Into<String>) -> Fault {
        let detail = detail.into();
        let name = faults::name(code);
        let string = if detail.is_empty() {
            name.to_string()
        } else {
            format!("{}: {}", name, detail)
        };
        Fault { code, string }
    }
}

// ------------------------------------------------------------------ encoding

const XML_HEADER: &str = "<?xml version='1.0'?>\n";

/// Encodes a `<methodCall>` (client side), laid out as Python's `dumps`.
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::from(XML_HEADER);
    out.push_str("<methodCall>\n<methodName>");
    escape_into(&mut out, method);
    out.push_str("</methodName>\n<params>\n");
    for p in params {
        out.push_str("<param>\n");
        encode_value(&mut out, p);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// Encodes a successful `<methodResponse>` exactly as Python's
/// `xmlrpc.client.dumps((value,), methodresponse=True)` lays it out.
pub fn encode_response(value: &Value) -> String {
    let mut out = String::from(XML_HEADER);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    encode_value(&mut out, value);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out
}

/// Encodes a fault response in the layout of Python's `dumps(Fault(...))`.
pub fn encode_fault(fault: &Fault) -> String {
    let body = Value::Struct(vec![
        ("faultCode".to_string(), Value::Int(i64::from(fault.code))),
        (
            "faultString".to_string(),
            Value::String(fault.string.clone()),
        ),
    ]);
    let mut out = String::from(XML_HEADER);
    out.push_str("<methodResponse>\n<fault>\n");
    encode_value(&mut out, &body);
    out.push_str("</fault>\n</methodResponse>\n");
    out
}

fn encode_value(out: &mut String, value: &Value) {
    match value {
        Value::Int(i) => {
            out.push_str("<value><int>");
            out.push_str(&i.to_string());
            out.push_str("</int></value>\n");
        }
        Value::Bool(b) => {
            out.push_str(if *b {
                "<value><boolean>1</boolean></value>\n"
            } else {
                "<value><boolean>0</boolean></value>\n"
            });
        }
        Value::String(s) => {
            out.push_str("<value><string>");
            escape_into(out, s);
            out.push_str("</string></value>\n");
        }
        Value::Double(d) => {
            out.push_str("<value><double>");
            out.push_str(&python_float_repr(*d));
            out.push_str("</double></value>\n");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for item in items {
                encode_value(out, item);
            }
            out.push_str("</data></array></value>\n");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>\n");
            for (name, v) in members {
                out.push_str("<member>\n<name>");
                escape_into(out, name);
                out.push_str("</name>\n");
                encode_value(out, v);
                out.push_str("</member>\n");
            }
            out.push_str("</struct></value>\n");
        }
        Value::Base64(bytes) => {
            out.push_str("<value><base64>\n");
            // Python's base64.encodebytes: 76-character lines, each ended.
            let text = base64_encode(bytes);
            for line in text.as_bytes().chunks(76) {
                out.push_str(std::str::from_utf8(line).unwrap_or_default());
                out.push('\n');
            }
            out.push_str("</base64></value>\n");
        }
        Value::DateTime(text) => {
            out.push_str("<value><dateTime.iso8601>");
            escape_into(out, text);
            out.push_str("</dateTime.iso8601></value>\n");
        }
        // Python writes no newline after nil; keep its layout.
        Value::Nil => out.push_str("<value><nil/></value>"),
    }
}

/// Whether XML 1.0 allows `c` in a document.
fn xml_allowed(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{FFFE}' | '\u{FFFF}' => false,
        c => c >= ' ',
    }
}

/// Escapes `& < >` as Python does, and replaces characters XML 1.0 forbids
/// with U+FFFD (see the module comment).
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if !xml_allowed(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Formats a double as Python's `repr(float)`: shortest round-trip digits,
/// fixed notation for decimal exponents in [-4, 16), else `1e+20` style.
pub(crate) fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x.is_infinite() {
        return format!("{sign}inf");
    }
    // `{:e}` gives the shortest round-trip digits, e.g. "1.2345e17".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let int_len = exp as usize + 1;
            let mut int_part = digits.clone();
            while int_part.len() < int_len {
                int_part.push('0');
            }
            let frac = &int_part.split_off(int_len);
            let frac = if frac.is_empty() { "0" } else { frac.as_str() };
            format!("{sign}{int_part}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs())
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, on one line.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64, ignoring whitespace (as Python's `decodebytes`).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return Err("invalid base64: data after padding".to_string());
        }
        let v = B64
            .iter()
            .position(|&b| b == c)
            .ok_or_else(|| format!("invalid base64 character {:?}", c as char))?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err("invalid base64: truncated".to_string());
    }
    Ok(out)
}

// ------------------------------------------------------------------ decoding

/// Deepest element nesting accepted (about 64 nested values, at three
/// elements per level for arrays and structs).
const MAX_ELEMENT_DEPTH: usize = 3 * 64 + 8;

/// An XML element: name and children (attributes are ignored). Names and
/// text without entities borrow from the document: a 100-process
/// getAllProcessInfo answer is some 10,000 elements.
#[derive(Debug)]
struct Element<'a> {
    name: &'a str,
    children: Vec<Node<'a>>,
}

#[derive(Debug)]
enum Node<'a> {
    Elem(Element<'a>),
    Text(Cow<'a, str>),
}

impl<'a> Element<'a> {
    /// Child elements, in order (text between them is ignored).
    fn elements(&self) -> impl Iterator<Item = &Element<'a>> {
        self.children.iter().filter_map(|n| match n {
            Node::Elem(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    fn child(&self, name: &str) -> Option<&Element<'a>> {
        self.elements().find(|e| e.name == name)
    }

    /// The text content (adjacent text is merged into one node); an error
    /// if there are child elements.
    fn text(&self) -> Result<Cow<'a, str>, String> {
        match self.children.as_slice() {
            [] => Ok(Cow::Borrowed("")),
            [Node::Text(t)] => Ok(t.clone()),
            _ => Err(format!(
                "unexpected <{}> in <{}>",
                self.elements().next().map_or("?", |e| e.name),
                self.name
            )),
        }
    }

    /// Whether any non-whitespace text sits directly inside.
    fn has_text(&self) -> bool {
        self.children
            .iter()
            .any(|n| matches!(n, Node::Text(t) if !t.trim().is_empty()))
    }
}

/// A cursor over the document text.
struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    /// Skips past the next `end` (ASCII), returning what came before it.
    fn until(&mut self, end: &str) -> Result<&'a str, String> {
        let rest = self.rest();
        // A char search is a memchr; a &str search sets up a two-way
        // searcher each time, which costs more than the short scan.
        let first = char::from(end.as_bytes()[0]);
        let mut from = 0;
        while let Some(i) = rest[from..].find(first) {
            let at = from + i;
            if rest[at..].starts_with(end) {
                self.pos += at + end.len();
                return Ok(&rest[..at]);
            }
            from = at + 1;
        }
        Err(format!("unterminated markup: expected {end:?}"))
    }

    /// Skips comments, processing instructions and whitespace; a DOCTYPE
    /// is refused (no entity definitions, no expansion attacks).
    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            let trimmed = self.rest().trim_start();
            self.pos = self.s.len() - trimmed.len();
            if self.eat("<!--") {
                self.until("-->")?;
            } else if self.eat("<?") {
                self.until("?>")?;
            } else if self.rest().starts_with("<!DOCTYPE") {
                return Err("DOCTYPE is not allowed".to_string());
            } else {
                return Ok(());
            }
        }
    }

    /// Reads a start tag after its `<`: (name, self-closing).
    fn start_tag(&mut self) -> Result<(&'a str, bool), String> {
        let body = self.until(">")?;
        let (body, empty) = match body.strip_suffix('/') {
            Some(b) => (b, true),
            None => (body, false),
        };
        // The name ends at the first (ASCII) whitespace: attributes follow.
        let end = body
            .bytes()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(body.len());
        let name = &body[..end];
        if name.is_empty()
            || name
                .bytes()
                .any(|b| matches!(b, b'<' | b'&' | b'"' | b'\''))
        {
            return Err(format!("bad tag <{body}>"));
        }
        Ok((name, empty))
    }
}

/// Decodes the entities in `raw` (character data between tags).
fn unescape(raw: &str, out: &mut String) -> Result<(), String> {
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .filter(|&e| e <= 10)
            .ok_or_else(|| "bare '&' in text".to_string())?;
        let name = &after[..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => char_ref(name).ok_or_else(|| format!("unknown entity &{name};"))?,
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// `#NN` or `#xNN` as a character.
fn char_ref(name: &str) -> Option<char> {
    let num = name.strip_prefix('#')?;
    let code = match num.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => num.parse().ok()?,
    };
    char::from_u32(code)
}

/// Parses a document (see [`document_text`]) into its root element.
/// Lenient on characters XML forbids (a Python daemon sends them raw);
/// strict on structure.
fn parse_document(text: &str) -> Result<Element<'_>, String> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut r = Reader { s: text, pos: 0 };
    r.skip_misc()?;
    if !r.eat("<") {
        return Err("no root element".to_string());
    }
    let (name, empty) = r.start_tag()?;
    let mut stack = vec![Element {
        name,
        children: Vec::new(),
    }];
    if empty {
        return finish_document(&mut r, stack.pop());
    }
    while let Some(top) = stack.last_mut() {
        // One look at the next two bytes picks the branch: this loop runs
        // once per tag, and a process list is thousands of tags.
        let next = match r.rest().as_bytes() {
            [b'<', b'/', ..] => b'/',
            [b'<', b'!', ..] => b'!',
            [b'<', b'?', ..] => b'?',
            [b'<', ..] => b'<',
            _ => 0,
        };
        if next == b'/' && r.eat("</") {
            let name = r.until(">")?.trim_end();
            if name != top.name {
                return Err(format!("mismatched tag: </{}> closes <{}>", name, top.name));
            }
            let done = stack.pop();
            match (stack.last_mut(), done) {
                (Some(parent), Some(done)) => push_element(parent, done),
                (_, done) => return finish_document(&mut r, done),
            }
        } else if next == b'!' && r.eat("<![CDATA[") {
            let data = r.until("]]>")?;
            push_text(top, Cow::Borrowed(data));
        } else if next == b'!' && r.eat("<!--") {
            r.until("-->")?;
        } else if next == b'?' && r.eat("<?") {
            r.until("?>")?;
        } else if next != 0 && r.eat("<") {
            let (name, empty) = r.start_tag()?;
            let el = Element {
                name,
                children: Vec::new(),
            };
            if empty {
                push_element(top, el);
            } else if stack.len() >= MAX_ELEMENT_DEPTH {
                return Err("XML nested too deeply".to_string());
            } else {
                stack.push(el);
            }
        } else {
            let rest = r.rest();
            if rest.is_empty() {
                return Err(format!("unexpected end of document inside <{}>", top.name));
            }
            let end = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..end];
            let text = if raw.contains('&') {
                let mut decoded = String::new();
                unescape(raw, &mut decoded)?;
                Cow::Owned(decoded)
            } else {
                Cow::Borrowed(raw)
            };
            r.pos += end;
            push_text(top, text);
        }
    }
    Err("no root element".to_string())
}

/// Appends text, merging with a preceding text node (CDATA next to text).
/// Whitespace beside child elements is dropped: it means nothing there
/// (`text` refuses elements with children, `has_text` ignores it).
fn push_text<'a>(el: &mut Element<'a>, text: Cow<'a, str>) {
    match el.children.last_mut() {
        Some(Node::Text(t)) => t.to_mut().push_str(&text),
        Some(Node::Elem(_)) if text.trim().is_empty() => {}
        _ => el.children.push(Node::Text(text)),
    }
}

/// Appends a child element, dropping whitespace just before it.
fn push_element<'a>(el: &mut Element<'a>, child: Element<'a>) {
    if matches!(el.children.last(), Some(Node::Text(t)) if t.trim().is_empty()) {
        el.children.pop();
    }
    el.children.push(Node::Elem(child));
}

/// The document as text: lossy UTF-8, as the decoders are lenient.
fn document_text(body: &[u8]) -> Cow<'_, str> {
    // The strict check is much faster than the lossy scan; valid UTF-8 is
    // the common case.
    match std::str::from_utf8(body) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(body),
    }
}

/// Checks that only comments and whitespace follow the root element.
fn finish_document<'a>(
    r: &mut Reader<'a>,
    root: Option<Element<'a>>,
) -> Result<Element<'a>, String> {
    r.skip_misc()?;
    if !r.rest().is_empty() {
        return Err("junk after the document element".to_string());
    }
    root.ok_or_else(|| "no root element".to_string())
}

/// Decodes a `<methodCall>`: (methodName, params). Malformed XML, a missing
/// or empty methodName, or bad values give an error description.
pub fn parse_call(body: &[u8]) -> Result<(String, Vec<Value>), String> {
    let text = document_text(body);
    let root = parse_document(&text)?;
    if root.name != "methodCall" {
        return Err(format!("expected <methodCall>, found <{}>", root.name));
    }
    let method = root
        .child("methodName")
        .ok_or_else(|| "no <methodName>".to_string())?
        .text()?;
    let method = method.trim().to_string();
    if method.is_empty() {
        return Err("empty <methodName>".to_string());
    }
    let params = match root.child("params") {
        Some(params) => decode_params(params)?,
        None => Vec::new(),
    };
    Ok((method, params))
}

/// Decodes a `<methodResponse>`: Ok(Ok(value)) or Ok(Err(fault)); Err when
/// malformed.
pub fn parse_response(body: &[u8]) -> Result<Result<Value, Fault>, String> {
    let text = document_text(body);
    let root = parse_document(&text)?;
    if root.name != "methodResponse" {
        return Err(format!("expected <methodResponse>, found <{}>", root.name));
    }
    if let Some(fault) = root.child("fault") {
        let value = fault
            .child("value")
            .ok_or_else(|| "<fault> without <value>".to_string())?;
        return decode_fault(&decode_value(value, 0)?).map(Err);
    }
    let params = root
        .child("params")
        .ok_or_else(|| "<methodResponse> without <params> or <fault>".to_string())?;
    let mut values = decode_params(params)?;
    if values.len() != 1 {
        return Err(format!("expected one response value, got {}", values.len()));
    }
    Ok(Ok(values.remove(0)))
}

fn decode_params(params: &Element) -> Result<Vec<Value>, String> {
    params
        .elements()
        .map(|param| {
            if param.name != "param" {
                return Err(format!("unexpected <{}> in <params>", param.name));
            }
            let value = param
                .child("value")
                .ok_or_else(|| "<param> without <value>".to_string())?;
            decode_value(value, 0)
        })
        .collect()
}

fn decode_fault(v: &Value) -> Result<Fault, String> {
    let Value::Struct(members) = v else {
        return Err("fault is not a struct".to_string());
    };
    let get = |k: &str| members.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    let code = match get("faultCode") {
        Some(Value::Int(c)) => i32::try_from(*c).map_err(|_| "faultCode out of range")?,
        _ => return Err("fault without an int faultCode".to_string()),
    };
    let string = match get("faultString") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err("fault without a string faultString".to_string()),
    };
    Ok(Fault { code, string })
}

/// Decodes a `<value>` element; `depth` counts enclosing values.
fn decode_value(value: &Element, depth: usize) -> Result<Value, String> {
    if depth > 64 {
        return Err("values nested too deeply".to_string());
    }
    let mut typed = value.elements();
    let Some(t) = typed.next() else {
        // Untyped: the text itself is a string.
        return value.text().map(|t| Value::String(t.into_owned()));
    };
    if typed.next().is_some() || value.has_text() {
        return Err("a <value> holds more than one item".to_string());
    }
    let text = || t.text();
    match t.name {
        "int" | "i4" | "i8" => parse_int(&text()?).map(Value::Int),
        "boolean" => match text()?.trim() {
            "1" | "true" => Ok(Value::Bool(true)),
            "0" | "false" => Ok(Value::Bool(false)),
            other => Err(format!("bad boolean value {other:?}")),
        },
        "string" => text().map(|t| Value::String(t.into_owned())),
        "double" => {
            let s = text()?;
            s.trim()
                .parse()
                .map(Value::Double)
                .map_err(|_| format!("bad double value {s:?}"))
        }
        "base64" => base64_decode(&text()?).map(Value::Base64),
        "dateTime.iso8601" => Ok(Value::DateTime(text()?.trim().to_string())),
        "nil" => Ok(Value::Nil),
        "array" => {
            let data = t
                .child("data")
                .ok_or_else(|| "<array> without <data>".to_string())?;
            data.elements()
                .map(|v| decode_value(v, depth + 1))
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        "struct" => t
            .elements()
            .map(|m| decode_member(m, depth))
            .collect::<Result<_, _>>()
            .map(Value::Struct),
        other => Err(format!("unknown value type <{other}>")),
    }
}

fn decode_member(member: &Element, depth: usize) -> Result<(String, Value), String> {
    if member.name != "member" {
        return Err(format!("unexpected <{}> in <struct>", member.name));
    }
    let name = member
        .child("name")
        .ok_or_else(|| "<member> without <name>".to_string())?
        .text()?
        .into_owned();
    let value = member
        .child("value")
        .ok_or_else(|| "<member> without <value>".to_string())?;
    Ok((name, decode_value(value, depth + 1)?))
}

/// An integer as Python's `int()` reads it (surrounding whitespace, sign).
fn parse_int(s: &str) -> Result<i64, String> {
    let t = s.trim();
    t.strip_prefix('+')
        .unwrap_or(t)
        .parse()
        .map_err(|_| format!("bad int value {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.to_string())
    }

    fn member(k: &str, v: Value) -> (String, Value) {
        (k.to_string(), v)
    }

    fn response_of(body: &str) -> String {
        format!(
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{body}</param>\n</params>\n</methodResponse>\n"
        )
    }

    // Expected strings below were printed by Python 3.11's xmlrpc.client.dumps.

    #[test]
    fn response_layout_matches_python() {
        let v = Value::Struct(vec![member(
            "a",
            Value::Array(vec![Value::Int(1), Value::Bool(true), s("x<")]),
        )]);
        assert_eq!(
            encode_response(&v),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>a</name>\n<value><array><data>\n<value><int>1</int></value>\n<value><boolean>1</boolean></value>\n<value><string>x&lt;</string></value>\n</data></array></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"
        );
    }

    #[test]
    fn struct_with_every_scalar_matches_python() {
        let v = Value::Struct(vec![
            member("name", s("foo")),
            member("group", s("g")),
            member("pid", Value::Int(12)),
            member("ok", Value::Bool(false)),
            member("list", Value::Array(vec![])),
            member("s", Value::Struct(vec![])),
            member("d", Value::Double(2.5)),
        ]);
        assert_eq!(
            encode_response(&v),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>foo</string></value>\n</member>\n<member>\n<name>group</name>\n<value><string>g</string></value>\n</member>\n<member>\n<name>pid</name>\n<value><int>12</int></value>\n</member>\n<member>\n<name>ok</name>\n<value><boolean>0</boolean></value>\n</member>\n<member>\n<name>list</name>\n<value><array><data>\n</data></array></value>\n</member>\n<member>\n<name>s</name>\n<value><struct>\n</struct></value>\n</member>\n<member>\n<name>d</name>\n<value><double>2.5</double></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"
        );
    }

    #[test]
    fn scalars_match_python() {
        let cases: &[(Value, &str)] = &[
            (s(""), "<value><string></string></value>\n"),
            (Value::Nil, "<value><nil/></value>"),
            (
                Value::DateTime("20200101T00:00:00".into()),
                "<value><dateTime.iso8601>20200101T00:00:00</dateTime.iso8601></value>\n",
            ),
            (
                Value::Base64(b"hi\0".to_vec()),
                "<value><base64>\naGkA\n</base64></value>\n",
            ),
            (
                Value::Array(vec![Value::Base64(vec![]), Value::Base64(b"\xff\0abc".to_vec())]),
                "<value><array><data>\n<value><base64>\n</base64></value>\n<value><base64>\n/wBhYmM=\n</base64></value>\n</data></array></value>\n",
            ),
            (
                s("é ü 日本 &amp; <tag>"),
                "<value><string>é ü 日本 &amp;amp; &lt;tag&gt;</string></value>\n",
            ),
            (s("a&b>c\"d'"), "<value><string>a&amp;b&gt;c\"d'</string></value>\n"),
        ];
        for (v, body) in cases {
            assert_eq!(encode_response(v), response_of(body), "{v:?}");
        }
    }

    #[test]
    fn base64_lines_are_76_chars_like_python() {
        let v = Value::Base64(vec![b'a'; 100]);
        assert_eq!(
            encode_response(&v),
            response_of("<value><base64>\nYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\nYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==\n</base64></value>\n")
        );
    }

    #[test]
    fn doubles_format_as_python_repr() {
        let cases = [
            (1e20, "1e+20"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e-7, "1e-07"),
            (3.0, "3.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ];
        for (x, want) in cases {
            assert_eq!(python_float_repr(x), want, "{x}");
        }
    }

    #[test]
    fn fault_layout_matches_python() {
        assert_eq!(
            encode_fault(&Fault::new(faults::BAD_NAME, "foo")),
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: foo</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"
        );
    }

    #[test]
    fn call_layout_matches_python() {
        assert_eq!(
            encode_call("supervisor.getVersion", &[]),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getVersion</methodName>\n<params>\n</params>\n</methodCall>\n"
        );
        assert_eq!(
            encode_call(
                "supervisor.startProcess",
                &[s("foo"), Value::Int(3), Value::Bool(true)]
            ),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n<params>\n<param>\n<value><string>foo</string></value>\n</param>\n<param>\n<value><int>3</int></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodCall>\n"
        );
    }

    #[test]
    fn forbidden_characters_are_replaced_when_encoding() {
        let out = encode_response(&s("\x1b[31mred\x1b[0m\ttab\u{FFFF}\0"));
        assert!(out.contains("<string>\u{FFFD}[31mred\u{FFFD}[0m\ttab\u{FFFD}\u{FFFD}</string>"));
        // Still decodable, and the replacement survives.
        assert_eq!(
            parse_response(out.as_bytes()),
            Ok(Ok(s("\u{FFFD}[31mred\u{FFFD}[0m\ttab\u{FFFD}\u{FFFD}")))
        );
    }

    #[test]
    fn raw_control_characters_are_accepted_when_decoding() {
        let body = response_of("<value><string>\x1b[1mbold\x1b[0m</string></value>\n");
        assert_eq!(
            parse_response(body.as_bytes()),
            Ok(Ok(s("\x1b[1mbold\x1b[0m")))
        );
    }

    #[test]
    fn round_trips() {
        let v = Value::Struct(vec![
            member("i", Value::Int(-42)),
            member("big", Value::Int(1 << 40)),
            member("b", Value::Bool(false)),
            member("s", s("tab\there\nnl & <x> é 日本")),
            member("d", Value::Double(-1.25e-9)),
            member("arr", Value::Array(vec![Value::Nil, Value::Array(vec![])])),
            member("bin", Value::Base64((0..=255).collect())),
            member("dt", Value::DateTime("20240102T03:04:05".into())),
            member("empty", Value::Struct(vec![])),
            member("a<&>", s("")),
        ]);
        assert_eq!(
            parse_response(encode_response(&v).as_bytes()),
            Ok(Ok(v.clone()))
        );
        let call = encode_call("x.y", &[v.clone(), s("2")]);
        assert_eq!(
            parse_call(call.as_bytes()),
            Ok(("x.y".to_string(), vec![v, s("2")]))
        );
        let f = Fault::new(faults::NOT_RUNNING, "été");
        assert_eq!(parse_response(encode_fault(&f).as_bytes()), Ok(Err(f)));
    }

    #[test]
    fn decodes_untyped_entities_and_cdata() {
        let body = "<?xml version='1.0'?><methodCall><methodName>a.b</methodName><params><param><value>plain &#65;&#x42;<![CDATA[<x>]]>&quot;&apos;</value></param></params></methodCall>";
        assert_eq!(
            parse_call(body.as_bytes()),
            Ok(("a.b".to_string(), vec![s("plain AB<x>\"'")]))
        );
    }

    #[test]
    fn decodes_other_spellings() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<methodCall>\n  <methodName> m.n </methodName>\n  <params>\n    <param><value> <i4> 7 </i4> </value></param>\n    <param><value><i8>-9000000000</i8></value></param>\n    <param><value><boolean>0</boolean></value></param>\n    <param><value><double> 1e3 </double></value></param>\n    <param><value><base64>aGVs\n bG8=</base64></value></param>\n    <param><value/></param>\n    <param><value><string/></value></param>\n  </params>\n</methodCall>\n";
        assert_eq!(
            parse_call(body.as_bytes()),
            Ok((
                "m.n".to_string(),
                vec![
                    Value::Int(7),
                    Value::Int(-9_000_000_000),
                    Value::Bool(false),
                    Value::Double(1000.0),
                    Value::Base64(b"hello".to_vec()),
                    s(""),
                    s(""),
                ]
            ))
        );
    }

    #[test]
    fn whitespace_is_kept_in_text_and_dropped_between_elements() {
        let body = "<methodCall><methodName>m</methodName><params>\n<param>\n<value>  </value></param>\n<param><value>\n <string> a &amp; b </string>\n</value></param>\n<param><value><struct>\n<member> <name> k </name>\n<value> x<![CDATA[ y ]]></value> </member>\n</struct></value></param></params></methodCall>";
        assert_eq!(
            parse_call(body.as_bytes()),
            Ok((
                "m".to_string(),
                vec![
                    s("  "),
                    s(" a & b "),
                    Value::Struct(vec![(" k ".to_string(), s(" x y "))]),
                ]
            ))
        );
        // Invalid UTF-8 is decoded lossily, not refused.
        let mut body = b"<methodCall><methodName>m</methodName><params><param><value>a".to_vec();
        body.push(0xff);
        body.extend_from_slice(b"</value></param></params></methodCall>");
        assert_eq!(
            parse_call(&body),
            Ok(("m".to_string(), vec![s("a\u{FFFD}")]))
        );
    }

    #[test]
    fn call_without_params_is_accepted() {
        let body = "<methodCall><methodName>supervisor.getState</methodName></methodCall>";
        assert_eq!(
            parse_call(body.as_bytes()),
            Ok(("supervisor.getState".to_string(), vec![]))
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        let bad: &[&str] = &[
            "",
            "not xml",
            "<methodCall>",
            "<methodCall></methodResponse>",
            "<methodCall><params/></methodCall>",
            "<methodCall><methodName></methodName></methodCall>",
            "<methodCall><methodName>a</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
            "<methodCall><methodName>a</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>",
            "<methodCall><methodName>a</methodName><params><param><value><foo/></value></param></params></methodCall>",
            "<methodCall><methodName>a&bogus;</methodName></methodCall>",
            "<methodCall><methodName>a & b</methodName></methodCall>",
            "<methodCall><methodName>a</methodName></methodCall>junk",
            "<!DOCTYPE x [<!ENTITY a \"b\">]><methodCall><methodName>a</methodName></methodCall>",
            "<methodCall><methodName>a</methodName><params><param><value><base64>!!</base64></value></param></params></methodCall>",
            "<methodCall><methodName>a</methodName><params><param><value><int>1</int><int>2</int></value></param></params></methodCall>",
        ];
        for b in bad {
            assert!(parse_call(b.as_bytes()).is_err(), "{b:?}");
        }
        assert!(parse_response(b"<methodCall/>").is_err());
        assert!(parse_response(
            b"<methodResponse><fault><value><int>1</int></value></fault></methodResponse>"
        )
        .is_err());
        assert!(parse_response(b"<methodResponse><params></params></methodResponse>").is_err());
        assert!(parse_call(&[0xff, 0xfe, b'<']).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let depth = 100_000;
        let body = format!(
            "<methodCall><methodName>a</methodName><params><param>{}{}</param></params></methodCall>",
            "<value><array><data>".repeat(depth),
            "</data></array></value>".repeat(depth)
        );
        assert!(parse_call(body.as_bytes()).is_err());
        let ok_depth = 60;
        let body = format!(
            "<methodCall><methodName>a</methodName><params><param>{}<value>x</value>{}</param></params></methodCall>",
            "<value><array><data>".repeat(ok_depth),
            "</data></array></value>".repeat(ok_depth)
        );
        assert!(parse_call(body.as_bytes()).is_ok());
    }

    #[test]
    fn base64_round_trip() {
        for n in 0..10 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)), Ok(data));
        }
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
    }
}
