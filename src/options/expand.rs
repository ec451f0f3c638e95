//! expand: Python's `format % mapping`, which Supervisor applies to config
//! values (`%(here)s`, `%(process_num)02d`, `%(ENV_HOME)s`, `%%`).
//!
//! The whole printf mini-language of Python 3 is reproduced (flags, width,
//! precision, `h`/`l`/`L` modifiers, every conversion) together with
//! CPython's error texts, because a config that Supervisor accepts must
//! expand to the same bytes here, and one it rejects must be rejected with
//! the same message. Values are strings or integers (`process_num`,
//! `numprocs`). A conversion without `(name)` formats the mapping itself,
//! as CPython does.

use crate::datatypes::py_repr;

/// One expansion value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
}

/// An insertion-ordered name → value mapping (a Python dict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expansions {
    entries: Vec<(String, Value)>,
}

impl Expansions {
    pub fn new() -> Expansions {
        Expansions::default()
    }

    /// `d[name] = value`.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name.to_string(), value)),
        }
    }

    pub fn set_str(&mut self, name: &str, value: &str) {
        self.set(name, Value::Str(value.to_string()));
    }

    /// `d.update(other)`.
    pub fn update(&mut self, other: &Expansions) {
        for (k, v) in &other.entries {
            self.set(k, v.clone());
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn sorted_names(&self) -> String {
        let mut names: Vec<&str> = self.entries.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        names.join(", ")
    }

    fn dict_repr(&self) -> String {
        let items: Vec<String> = self
            .entries
            .iter()
            .map(|(k, v)| format!("{}: {}", py_repr(k), value_repr(v)))
            .collect();
        format!("{{{}}}", items.join(", "))
    }
}

fn value_repr(v: &Value) -> String {
    match v {
        Value::Str(s) => py_repr(s),
        Value::Int(i) => i.to_string(),
    }
}

/// The reference's `expand(s, expansions, name)`: `s % expansions`, with
/// its error texts (`name` is `section.key` or a bare key, as the reference
/// passes it).
pub fn expand(s: &str, expansions: &Expansions, name: &str) -> Result<String, String> {
    format(s, expansions).map_err(|e| match e {
        FormatError::Key(key) => format!(
            "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
            py_repr(s),
            py_repr(name),
            py_repr(&key),
            expansions.sorted_names()
        ),
        FormatError::Other(msg) => format!(
            "Format string {} for {} is badly formatted: {}",
            py_repr(s),
            py_repr(name),
            msg
        ),
    })
}

#[derive(Debug, PartialEq)]
enum FormatError {
    Key(String),
    Other(String),
}

fn other<T>(msg: impl Into<String>) -> Result<T, FormatError> {
    Err(FormatError::Other(msg.into()))
}

/// Widths and precisions above this are refused instead of allocating.
const MAX_WIDTH: usize = 1 << 20;

/// The argument a conversion consumes: the mapping itself until a
/// `(name)` selects a value; each can be consumed once.
enum Arg<'a> {
    Mapping,
    Value(&'a Value),
}

#[derive(Default)]
struct Spec {
    ljust: bool,
    sign: bool,
    blank: bool,
    alt: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
}

struct Formatter<'a> {
    chars: Vec<char>,
    pos: usize,
    map: &'a Expansions,
    arg: Option<Arg<'a>>,
}

fn format(s: &str, map: &Expansions) -> Result<String, FormatError> {
    let mut f = Formatter {
        chars: s.chars().collect(),
        pos: 0,
        map,
        arg: Some(Arg::Mapping),
    };
    let mut out = String::with_capacity(s.len());
    while let Some(c) = f.next() {
        if c != '%' {
            out.push(c);
        } else if f.peek() == Some('%') {
            f.pos += 1;
            out.push('%');
        } else {
            f.conversion(&mut out)?;
        }
    }
    Ok(out)
}

impl<'a> Formatter<'a> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next_or_incomplete(&mut self) -> Result<char, FormatError> {
        match self.next() {
            Some(c) => Ok(c),
            None => other("incomplete format"),
        }
    }

    fn take_arg(&mut self) -> Result<Arg<'a>, FormatError> {
        match self.arg.take() {
            Some(a) => Ok(a),
            None => other("not enough arguments for format string"),
        }
    }

    fn star(&mut self) -> Result<i64, FormatError> {
        match self.take_arg()? {
            Arg::Value(Value::Int(i)) => Ok(*i),
            _ => other("* wants int"),
        }
    }

    fn number(&mut self, first: char, what: &str) -> Result<(usize, Option<char>), FormatError> {
        let mut n = first.to_digit(10).unwrap_or(0) as usize;
        loop {
            match self.next() {
                Some(c) if c.is_ascii_digit() => {
                    n = n * 10 + c.to_digit(10).unwrap_or(0) as usize;
                    if n > MAX_WIDTH {
                        return other(format!("{} too big", what));
                    }
                }
                c => return Ok((n, c)),
            }
        }
    }

    /// One `%...` conversion; `self.pos` is just after the `%`.
    fn conversion(&mut self, out: &mut String) -> Result<(), FormatError> {
        if self.peek() == Some('(') {
            self.pos += 1;
            let start = self.pos;
            let mut depth = 1;
            while depth > 0 {
                match self.next() {
                    Some(')') => depth -= 1,
                    Some('(') => depth += 1,
                    Some(_) => {}
                    None => return other("incomplete format key"),
                }
            }
            let key: String = self.chars[start..self.pos - 1].iter().collect();
            let map = self.map;
            match map.get(&key) {
                Some(v) => self.arg = Some(Arg::Value(v)),
                None => return Err(FormatError::Key(key)),
            }
        }
        let mut spec = Spec::default();
        let mut c = self.next_or_incomplete()?;
        loop {
            match c {
                '-' => spec.ljust = true,
                '+' => spec.sign = true,
                ' ' => spec.blank = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            c = self.next_or_incomplete()?;
        }
        if c == '*' {
            let w = self.star()?;
            if w < 0 {
                spec.ljust = true;
            }
            spec.width = (w.unsigned_abs() as usize).min(MAX_WIDTH + 1);
            if spec.width > MAX_WIDTH {
                return other("width too big");
            }
            c = self.next_or_incomplete()?;
        } else if c.is_ascii_digit() {
            let (w, nc) = self.number(c, "width")?;
            spec.width = w;
            c = nc.ok_or(FormatError::Other("incomplete format".into()))?;
        }
        if c == '.' {
            c = self.next_or_incomplete()?;
            if c == '*' {
                let p = self.star()?;
                spec.prec = Some((p.max(0) as usize).min(MAX_WIDTH));
                c = self.next_or_incomplete()?;
            } else if c.is_ascii_digit() {
                let (p, nc) = self.number(c, "precision")?;
                spec.prec = Some(p);
                c = nc.ok_or(FormatError::Other("incomplete format".into()))?;
            } else {
                spec.prec = Some(0);
            }
        }
        if matches!(c, 'h' | 'l' | 'L') {
            c = self.next_or_incomplete()?;
        }
        let conv_index = self.pos - 1;
        let arg = self.take_arg()?;
        let body = self.convert(c, conv_index, &arg, &spec)?;
        out.push_str(&body);
        Ok(())
    }

    fn convert(
        &self,
        conv: char,
        index: usize,
        arg: &Arg,
        spec: &Spec,
    ) -> Result<String, FormatError> {
        let type_name = match arg {
            Arg::Mapping => "dict",
            Arg::Value(Value::Str(_)) => "str",
            Arg::Value(Value::Int(_)) => "int",
        };
        let int = match arg {
            Arg::Value(Value::Int(i)) => Some(*i),
            _ => None,
        };
        match conv {
            's' | 'r' | 'a' => {
                let text = match arg {
                    Arg::Mapping => self.map.dict_repr(),
                    Arg::Value(Value::Int(i)) => i.to_string(),
                    Arg::Value(Value::Str(s)) if conv == 's' => s.clone(),
                    Arg::Value(Value::Str(s)) => py_repr(s),
                };
                let text = if conv == 'a' {
                    ascii_escape(&text)
                } else {
                    text
                };
                let text = match spec.prec {
                    Some(p) => text.chars().take(p).collect(),
                    None => text,
                };
                Ok(pad(String::new(), text, spec, false))
            }
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                let Some(i) = int else {
                    let kind = if matches!(conv, 'd' | 'i' | 'u') {
                        "a real number"
                    } else {
                        "an integer"
                    };
                    return other(format!(
                        "%{} format: {} is required, not {}",
                        conv, kind, type_name
                    ));
                };
                let (digits, prefix) = match conv {
                    'x' => (format!("{:x}", i.unsigned_abs()), "0x"),
                    'X' => (format!("{:X}", i.unsigned_abs()), "0X"),
                    'o' => (format!("{:o}", i.unsigned_abs()), "0o"),
                    _ => (i.unsigned_abs().to_string(), ""),
                };
                let digits = match spec.prec {
                    Some(p) if digits.len() < p => {
                        format!("{}{}", "0".repeat(p - digits.len()), digits)
                    }
                    _ => digits,
                };
                let mut lead = sign(i < 0, spec).to_string();
                if spec.alt {
                    lead.push_str(prefix);
                }
                Ok(pad(lead, digits, spec, true))
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let Some(i) = int else {
                    return other(format!("must be real number, not {}", type_name));
                };
                let body = float_body(i.unsigned_abs() as f64, conv, spec);
                Ok(pad(sign(i < 0, spec).to_string(), body, spec, true))
            }
            'c' => {
                let ch = match arg {
                    Arg::Value(Value::Int(i)) => {
                        match u32::try_from(*i).ok().and_then(char::from_u32) {
                            Some(ch) => ch,
                            None if (0..0x110000).contains(i) => '\u{fffd}',
                            None => return other("%c arg not in range(0x110000)"),
                        }
                    }
                    Arg::Value(Value::Str(s)) if s.chars().count() == 1 => {
                        s.chars().next().unwrap_or('\u{fffd}')
                    }
                    _ => return other("%c requires int or char"),
                };
                Ok(pad(String::new(), ch.to_string(), spec, false))
            }
            c => {
                let shown = if (' '..='~').contains(&c) { c } else { '?' };
                other(format!(
                    "unsupported format character '{}' (0x{:x}) at index {}",
                    shown, c as u32, index
                ))
            }
        }
    }
}

fn sign(negative: bool, spec: &Spec) -> &'static str {
    if negative {
        "-"
    } else if spec.sign {
        "+"
    } else if spec.blank {
        " "
    } else {
        ""
    }
}

/// Pads `lead + body` to the width: left-justified with spaces, or zeros
/// between `lead` and `body` for numbers with the `0` flag, else spaces
/// on the left.
fn pad(lead: String, body: String, spec: &Spec, numeric: bool) -> String {
    let len = lead.chars().count() + body.chars().count();
    if len >= spec.width {
        return lead + &body;
    }
    let fill = spec.width - len;
    if spec.ljust {
        format!("{}{}{}", lead, body, " ".repeat(fill))
    } else if numeric && spec.zero {
        format!("{}{}{}", lead, "0".repeat(fill), body)
    } else {
        format!("{}{}{}", " ".repeat(fill), lead, body)
    }
}

/// `%e` of a non-negative number: mantissa with `prec` decimals and a
/// signed exponent of at least two digits.
fn exp_form(v: f64, prec: usize, alt: bool) -> (String, i32) {
    let raw = format!("{:.*e}", prec, v);
    let (mant, exp) = raw.split_once('e').unwrap_or((raw.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut mant = mant.to_string();
    if alt && !mant.contains('.') {
        mant.push('.');
    }
    let sign = if exp < 0 { '-' } else { '+' };
    (format!("{}e{}{:02}", mant, sign, exp.abs()), exp)
}

fn float_body(v: f64, conv: char, spec: &Spec) -> String {
    let prec = spec.prec.unwrap_or(6);
    let body = match conv.to_ascii_lowercase() {
        'f' => {
            let mut s = format!("{:.*}", prec, v);
            if spec.alt && prec == 0 {
                s.push('.');
            }
            s
        }
        'e' => exp_form(v, prec, spec.alt).0,
        _ => {
            let p = prec.max(1);
            let (e_form, exp) = exp_form(v, p - 1, spec.alt);
            let mut s = if exp >= -4 && (exp as i64) < p as i64 {
                let decimals = (p as i64 - 1 - exp as i64).max(0) as usize;
                let mut f = format!("{:.*}", decimals, v);
                if spec.alt && !f.contains('.') {
                    f.push('.');
                }
                f
            } else {
                e_form
            };
            if !spec.alt {
                s = strip_fraction_zeros(&s);
            }
            s
        }
    };
    if conv.is_ascii_uppercase() {
        body.to_uppercase()
    } else {
        body
    }
}

fn strip_fraction_zeros(s: &str) -> String {
    let (mant, exp) = match s.find('e') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mant = if mant.contains('.') {
        mant.trim_end_matches('0').trim_end_matches('.')
    } else {
        mant
    };
    format!("{}{}", mant, exp)
}

fn ascii_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xff => out.push_str(&format!("\\x{:02x}", n)),
            n @ 0x100..=0xffff => out.push_str(&format!("\\u{:04x}", n)),
            n => out.push_str(&format!("\\U{:08x}", n)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Expansions {
        let mut m = Expansions::new();
        m.set("a", Value::Int(1));
        m.set("s", Value::Str("xy".into()));
        m.set("n", Value::Int(-5));
        m.set("one", Value::Str("z".into()));
        m.set("big", Value::Int(100_000_000_000_000_000));
        m.set("a(b)", Value::Int(2));
        m
    }

    fn ok(fmt: &str) -> String {
        match format(fmt, &map()) {
            Ok(s) => s,
            Err(e) => panic!("{fmt}: {e:?}"),
        }
    }

    fn err(fmt: &str) -> String {
        match format(fmt, &map()) {
            Ok(s) => panic!("{fmt} gave {s}"),
            Err(FormatError::Other(m)) => m,
            Err(FormatError::Key(k)) => format!("KeyError {k}"),
        }
    }

    /// Every case below was run through Python 3.11 `fmt % d`.
    #[test]
    fn conversions_match_python() {
        let cases = [
            ("%(a)5d|", "    1|"),
            ("%(a)-5d|", "1    |"),
            ("%(a)05.2f", "01.00"),
            ("%(s)r", "'xy'"),
            ("%(s)a", "'xy'"),
            ("%(a)x", "1"),
            ("%(a)e", "1.000000e+00"),
            ("%(a)c", "\u{1}"),
            ("%(one)5c|", "    z|"),
            ("%(a)i", "1"),
            ("%(a)u", "1"),
            ("%(a)ld", "1"),
            ("%(s).1s", "x"),
            ("%(a)+d", "+1"),
            ("%(a) d", " 1"),
            ("%(a)#x", "0x1"),
            ("%(a)#o", "0o1"),
            ("%(s)5.1s|", "    x|"),
            ("%%(a)s", "%(a)s"),
            ("%(a)F", "1.000000"),
            ("%(n)05d", "-0005"),
            ("%(n)x", "-5"),
            ("%(n)#X", "-0X5"),
            ("%(a).3d", "001"),
            ("%(n)+.3d", "-005"),
            ("%(a)-05d|", "1    |"),
            ("%(a)#5o|", "  0o1|"),
            ("%(n)e", "-5.000000e+00"),
            ("%(a)g", "1"),
            ("%(a).0e", "1e+00"),
            ("%(a)#.0e", "1.e+00"),
            ("%(a).3g", "1"),
            ("%(n)10.4f|", "   -5.0000|"),
            ("%(big)e", "1.000000e+17"),
            ("%(big)g", "1e+17"),
            ("%(s)10r|", "      'xy'|"),
            ("%(a)#.3g", "1.00"),
            ("%(a) +d", "+1"),
            ("%(s)+5s|", "   xy|"),
            ("%(s)05s|", "   xy|"),
            ("%(a).0f", "1"),
            ("%(a)#.0f", "1."),
            ("%(a).5x", "00001"),
            ("%(a)#.5x", "0x00001"),
            ("%(a)#08x", "0x000001"),
            ("%(a).d", "1"),
            ("%(a(b))s", "2"),
            ("%(a)s%(s)s", "1xy"),
            ("%(a)-.3s", "1"),
            ("%(s).0s|", "|"),
            ("%(s)-3s|", "xy |"),
            ("%(a)+5x|", "   +1|"),
            ("%(a)#X", "0X1"),
            ("%(a)+#o", "+0o1"),
            ("%(a)05s|", "    1|"),
            ("%(a)- 5d|", " 1   |"),
            ("%(a)0-5d|", "1    |"),
            ("%(a)010.3d|", "0000000001|"),
            ("100%%", "100%"),
            ("plain", "plain"),
            ("", ""),
        ];
        for (fmt, want) in cases {
            assert_eq!(ok(fmt), want, "{fmt}");
        }
    }

    #[test]
    fn errors_match_python() {
        let cases = [
            ("%(s)d", "%d format: a real number is required, not str"),
            ("%(s)i", "%i format: a real number is required, not str"),
            ("%(s)X", "%X format: an integer is required, not str"),
            ("%(s)e", "must be real number, not str"),
            ("%(s)c", "%c requires int or char"),
            ("%(n)c", "%c arg not in range(0x110000)"),
            ("%d", "%d format: a real number is required, not dict"),
            ("%x", "%x format: an integer is required, not dict"),
            ("%", "incomplete format"),
            ("%(a", "incomplete format key"),
            ("%(a(b)s", "incomplete format key"),
            ("%(a)", "incomplete format"),
            ("%(a)5", "incomplete format"),
            ("%(a)5.", "incomplete format"),
            ("%(a)l", "incomplete format"),
            ("%(a)s%", "incomplete format"),
            (
                "%(a)z",
                "unsupported format character 'z' (0x7a) at index 4",
            ),
            (
                "%(a)%",
                "unsupported format character '%' (0x25) at index 4",
            ),
            ("%5%", "unsupported format character '%' (0x25) at index 2"),
            ("%-%", "unsupported format character '%' (0x25) at index 2"),
            (
                "%(a)ll",
                "unsupported format character 'l' (0x6c) at index 5",
            ),
            (
                "%(a)h5d",
                "unsupported format character '5' (0x35) at index 5",
            ),
            (
                "%\u{1}",
                "unsupported format character '?' (0x1) at index 1",
            ),
            (
                "%(a)é",
                "unsupported format character '?' (0xe9) at index 4",
            ),
            ("%(a)s %s", "not enough arguments for format string"),
            ("%(a)*d", "not enough arguments for format string"),
            ("%(a)*.*d", "not enough arguments for format string"),
            ("%(a)s%z", "not enough arguments for format string"),
            ("%(a)99999999999999999999d", "width too big"),
            ("%(b)s", "KeyError b"),
            ("%(a)s %(b)s %(c)s", "KeyError b"),
        ];
        for (fmt, want) in cases {
            assert_eq!(err(fmt), want, "{fmt}");
        }
    }

    #[test]
    fn bare_conversion_formats_the_mapping() {
        let mut m = Expansions::new();
        m.set("a", Value::Int(1));
        m.set("s", Value::Str("x".into()));
        assert_eq!(format("%s", &m), Ok("{'a': 1, 's': 'x'}".to_string()));
        assert_eq!(format("% s", &m), Ok("{'a': 1, 's': 'x'}".to_string()));
    }

    #[test]
    fn expand_error_texts() {
        let mut m = Expansions::new();
        m.set_str("here", "/etc");
        m.set_str("ENV_HOME", "/root");
        assert_eq!(
            expand("%(foo)s", &m, "program:x.command").unwrap_err(),
            "Format string '%(foo)s' for 'program:x.command' contains names ('foo') \
             which cannot be expanded. Available names: ENV_HOME, here"
        );
        assert_eq!(
            expand("100%", &m, "program:x.command").unwrap_err(),
            "Format string '100%' for 'program:x.command' is badly formatted: incomplete format"
        );
        assert_eq!(
            expand("/tmp/100%.log", &m, "stdout_logfile").unwrap_err(),
            "Format string '/tmp/100%.log' for 'stdout_logfile' is badly formatted: \
             %o format: an integer is required, not dict"
        );
        assert_eq!(expand("%(here)s/x", &m, "k"), Ok("/etc/x".to_string()));
    }

    #[test]
    fn mapping_is_a_dict() {
        let mut m = Expansions::new();
        m.set_str("a", "1");
        m.set_str("b", "2");
        m.set_str("a", "3");
        let mut other = Expansions::new();
        other.set("c", Value::Int(4));
        m.update(&other);
        assert_eq!(m.get("a"), Some(&Value::Str("3".into())));
        assert_eq!(m.dict_repr(), "{'a': '3', 'b': '2', 'c': 4}");
        assert_eq!(m.sorted_names(), "a, b, c");
    }
}
