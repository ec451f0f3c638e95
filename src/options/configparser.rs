//! configparser: the config file dialect of Supervisor 4.2.5, which is
//! Python 3's `RawConfigParser(inline_comment_prefixes=(';', '#'),
//! strict=False)`.
//!
//! rust-ini (and other INI crates) cannot read this dialect: `:` as well as
//! `=` delimits keys, indented lines continue the previous value (blank
//! lines inside kept), `;`/`#` start an inline comment only after
//! whitespace (found by CPython's round-by-round search, reproduced here),
//! keys are lower-cased, duplicate sections merge and duplicate keys
//! overwrite, and `[DEFAULT]` keys are inherited by every section. Error
//! texts are the reference's, joined onto one line.
//!
//! The parser also remembers which file first defined each section, for
//! error messages.

use std::collections::HashMap;
use std::path::Path;

use crate::datatypes::{py_isspace, py_repr, py_strip};

const DEFAULT_SECTION: &str = "DEFAULT";

#[derive(Debug, Default)]
struct Section {
    name: String,
    /// The file (as named when read) that first defined the section.
    file: String,
    entries: Vec<(String, String)>,
}

impl Section {
    fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn slot(&mut self, key: &str) -> &mut String {
        let i = match self.entries.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.entries.push((key.to_string(), String::new()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }
}

/// Which section a line belongs to while reading.
#[derive(Clone, Copy, PartialEq)]
enum Cursor {
    Defaults,
    Section(usize),
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// It was read but is not valid config text (message on one line).
    Parse(String),
}

/// The parsed config files: sections in order of first appearance.
#[derive(Debug, Default)]
pub struct ConfigParser {
    defaults: Section,
    sections: Vec<Section>,
    index: HashMap<String, usize>,
}

impl ConfigParser {
    pub fn new() -> ConfigParser {
        ConfigParser::default()
    }

    /// Reads a file into the parser; `source` names it in messages.
    /// Non-UTF-8 content is refused (the reference would crash on it).
    pub fn read_file(&mut self, path: &Path, source: &str) -> Result<(), ReadError> {
        let bytes = std::fs::read(path).map_err(ReadError::Io)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            ReadError::Parse(format!(
                "File contains invalid UTF-8: {}, line: {}",
                py_repr(source),
                line
            ))
        })?;
        self.read_string(&text, source).map_err(ReadError::Parse)
    }

    /// Parses `text` (one file) into the parser.
    pub fn read_string(&mut self, text: &str, source: &str) -> Result<(), String> {
        let mut cursect: Option<Cursor> = None;
        let mut optname: Option<String> = None;
        let mut indent_level = 0usize;
        let mut errors: Vec<String> = Vec::new();
        // Values written by this file, right-stripped at the end.
        let mut touched: Vec<(Cursor, String)> = Vec::new();
        for (n, line) in lines(text).enumerate() {
            let lineno = n + 1;
            let chars: Vec<char> = line.chars().collect();
            let comment_start = comment_start(&chars);
            let content: String = chars[..comment_start.unwrap_or(chars.len())]
                .iter()
                .collect();
            let value = py_strip(&content);
            if value.is_empty() {
                // A blank line (not a comment line) inside a value is kept.
                if comment_start.is_none() {
                    if let (Some(cur), Some(opt)) = (cursect, &optname) {
                        self.section_mut(cur).slot(opt).push('\n');
                    }
                }
                continue;
            }
            let cur_indent = chars.iter().position(|c| !py_isspace(*c)).unwrap_or(0);
            if let (Some(cur), Some(opt), true) = (cursect, &optname, cur_indent > indent_level) {
                let slot = self.section_mut(cur).slot(opt);
                slot.push('\n');
                slot.push_str(value);
                continue;
            }
            indent_level = cur_indent;
            if let Some(header) = section_header(value) {
                cursect = Some(self.open_section(header, source));
                optname = None;
                continue;
            }
            let Some(cur) = cursect else {
                return Err(format!(
                    "File contains no section headers. file: {}, line: {} {}",
                    py_repr(source),
                    lineno,
                    py_repr(&line)
                ));
            };
            match value.find(['=', ':']) {
                Some(i) if !value[..i].trim_end_matches(py_isspace).is_empty() => {
                    let key = value[..i].trim_end_matches(py_isspace).to_lowercase();
                    *self.section_mut(cur).slot(&key) = py_strip(&value[i + 1..]).to_string();
                    touched.push((cur, key.clone()));
                    optname = Some(key);
                }
                Some(_) => {
                    errors.push(format!("[line {:2}]: {}", lineno, py_repr(&line)));
                    optname = None;
                }
                None => errors.push(format!("[line {:2}]: {}", lineno, py_repr(&line))),
            }
        }
        for (cur, key) in touched {
            let slot = self.section_mut(cur).slot(&key);
            let kept = slot.trim_end_matches(py_isspace).len();
            slot.truncate(kept);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "Source contains parsing errors: {} {}",
                py_repr(source),
                errors.join(" ")
            ))
        }
    }

    fn open_section(&mut self, name: &str, source: &str) -> Cursor {
        if let Some(&i) = self.index.get(name) {
            return Cursor::Section(i);
        }
        if name == DEFAULT_SECTION {
            return Cursor::Defaults;
        }
        self.sections.push(Section {
            name: name.to_string(),
            file: source.to_string(),
            entries: Vec::new(),
        });
        self.index.insert(name.to_string(), self.sections.len() - 1);
        Cursor::Section(self.sections.len() - 1)
    }

    fn section_mut(&mut self, cur: Cursor) -> &mut Section {
        match cur {
            Cursor::Defaults => &mut self.defaults,
            Cursor::Section(i) => &mut self.sections[i],
        }
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).map(|&i| &self.sections[i])
    }

    /// Section names in order of first appearance (`[DEFAULT]` excluded).
    pub fn sections(&self) -> Vec<&str> {
        self.sections.iter().map(|s| s.name.as_str()).collect()
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// A key of a section, falling back to `[DEFAULT]`. None when the
    /// section or the key does not exist.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let s = self.section(section)?;
        s.get(key).or_else(|| self.defaults.get(key))
    }

    /// The keys of a section: its own, then inherited `[DEFAULT]` ones.
    pub fn options(&self, section: &str) -> Vec<String> {
        let Some(s) = self.section(section) else {
            return Vec::new();
        };
        let mut keys: Vec<String> = s.entries.iter().map(|(k, _)| k.clone()).collect();
        for (k, _) in &self.defaults.entries {
            if s.get(k).is_none() {
                keys.push(k.clone());
            }
        }
        keys
    }

    /// The file that first defined `section`, as it was named when read.
    pub fn section_file(&self, section: &str) -> Option<&str> {
        self.section(section).map(|s| s.file.as_str())
    }

    /// Sets a key of an existing section.
    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        if let Some(&i) = self.index.get(section) {
            *self.sections[i].slot(key) = value.to_string();
        }
    }

    /// The reference's `expand_here`: in every section, every value (own
    /// or inherited from `[DEFAULT]`) holding `%(here)s` gets it replaced
    /// textually and stored in the section.
    pub fn expand_here(&mut self, here: &str) {
        const HERE: &str = "%(here)s";
        for i in 0..self.sections.len() {
            let name = self.sections[i].name.clone();
            for key in self.options(&name) {
                let Some(v) = self.get(&name, &key) else {
                    continue;
                };
                if v.contains(HERE) {
                    let v = v.replace(HERE, here);
                    *self.sections[i].slot(&key) = v;
                }
            }
        }
    }
}

/// Splits text into lines the way Python's universal-newline text mode
/// does (`\n`, `\r\n` and `\r` all end a line, read back as `\n`).
fn lines(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\r', '\n']) {
            Some(i) => {
                let line = format!("{}\n", &rest[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest.to_string();
                rest = "";
                Some(line)
            }
        }
    })
}

/// Where a comment starts in a line: a full-line comment, or `;`/`#`
/// preceded by whitespace (or at column 0). CPython searches the prefixes
/// round by round and stops at the first round that finds one, so a later
/// `;` can win over an earlier `#` that only qualifies on a later round.
fn comment_start(chars: &[char]) -> Option<usize> {
    let stripped: String = chars.iter().collect();
    let stripped = py_strip(&stripped);
    if stripped.starts_with(';') || stripped.starts_with('#') {
        return Some(0);
    }
    let find = |prefix: char, from: usize| {
        chars[from..]
            .iter()
            .position(|c| *c == prefix)
            .map(|i| i + from)
    };
    let mut cursors: Vec<(char, usize)> = vec![(';', 0), ('#', 0)];
    loop {
        let mut best: Option<usize> = None;
        let mut next = Vec::new();
        for (prefix, from) in cursors {
            let Some(i) = find(prefix, from) else {
                continue;
            };
            next.push((prefix, i + 1));
            if i == 0 || py_isspace(chars[i - 1]) {
                best = Some(best.map_or(i, |b: usize| b.min(i)));
            }
        }
        if best.is_some() || next.is_empty() {
            return best;
        }
        cursors = next;
    }
}

/// `\[(?P<header>.+)\]` matched at the start of the (stripped) line:
/// everything up to the last `]`.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ConfigParser {
        let mut p = ConfigParser::new();
        if let Err(e) = p.read_string(text, "x.conf") {
            panic!("{text:?}: {e}");
        }
        p
    }

    fn parse_err(text: &str) -> String {
        let mut p = ConfigParser::new();
        match p.read_string(text, "x.conf") {
            Ok(()) => panic!("{text:?} parsed"),
            Err(e) => e,
        }
    }

    // Expected values below were produced by Python 3.11's RawConfigParser
    // configured as Supervisor 4.2.5 configures it.

    #[test]
    fn inline_comments_need_whitespace_before() {
        let p = parse("[a]\nx=1 ;c\ny=1;c\nz=1 #c\nw=1\t#c\nq=#c\nr = ;x\n");
        assert_eq!(p.get("a", "x"), Some("1"));
        assert_eq!(p.get("a", "y"), Some("1;c"));
        assert_eq!(p.get("a", "z"), Some("1"));
        assert_eq!(p.get("a", "w"), Some("1"));
        assert_eq!(p.get("a", "q"), Some("#c"));
        assert_eq!(p.get("a", "r"), Some(""));
        // Quotes do not protect.
        let p = parse("[a]\nx=\"a ;b\"\ncommand=bash -c 'foo ; bar'\n");
        assert_eq!(p.get("a", "x"), Some("\"a"));
        assert_eq!(p.get("a", "command"), Some("bash -c 'foo"));
    }

    #[test]
    fn inline_comment_rounds() {
        let p = parse("[a]\nk = x#y #z ;w\nj = x;y ;z #w\n");
        assert_eq!(p.get("a", "k"), Some("x#y #z"));
        assert_eq!(p.get("a", "j"), Some("x;y ;z"));
    }

    #[test]
    fn delimiters_and_case() {
        let p = parse("[Sec]\nKey : v : w\nk2 = v = w\nAutoStart=false\nempty:\n");
        assert_eq!(p.get("Sec", "key"), Some("v : w"));
        assert_eq!(p.get("Sec", "k2"), Some("v = w"));
        assert_eq!(p.get("Sec", "autostart"), Some("false"));
        assert_eq!(p.get("Sec", "empty"), Some(""));
        assert_eq!(p.get("sec", "key"), None);
    }

    #[test]
    fn continuation_lines() {
        let p = parse("[a]\nx = 1\n  2\n\n  3\n\n\n[b]\n");
        assert_eq!(p.get("a", "x"), Some("1\n2\n\n3"));
        let p = parse("[a]\nx = 1\n  ;c\n  2\n");
        assert_eq!(p.get("a", "x"), Some("1\n2"));
        let p = parse("[a]\n  x = 1\n  y = 2\n   z\n");
        assert_eq!(p.get("a", "x"), Some("1"));
        assert_eq!(p.get("a", "y"), Some("2\nz"));
        let p = parse("[a]\nx=\n  cont\n");
        assert_eq!(p.get("a", "x"), Some("\ncont"));
        let p = parse("[a]\nx=1\n  [b]\n");
        assert_eq!(p.get("a", "x"), Some("1\n[b]"));
        assert!(!p.has_section("b"));
        let p = parse("[a]\nx=1\n\t\n  y\n");
        assert_eq!(p.get("a", "x"), Some("1\n\ny"));
        let p = parse("[a]\nx=v\n y;z\n");
        assert_eq!(p.get("a", "x"), Some("v\ny;z"));
        let p = parse("[a]\n\u{3000}k=v\n\u{3000}\u{3000}c\n");
        assert_eq!(p.get("a", "k"), Some("v\nc"));
    }

    #[test]
    fn universal_newlines() {
        let p = parse("[a]\r\nx=1\r\n  y\r\n[b]\rz=2\r");
        assert_eq!(p.get("a", "x"), Some("1\ny"));
        assert_eq!(p.get("b", "z"), Some("2"));
    }

    #[test]
    fn duplicates_merge_and_defaults_inherit() {
        let p = parse("[a]\nx=1\n[a]\ny=2\nx=3\n");
        assert_eq!(p.get("a", "x"), Some("3"));
        assert_eq!(p.get("a", "y"), Some("2"));
        assert_eq!(p.sections(), vec!["a"]);
        let p = parse("[DEFAULT]\nd=1\nx=0\n[a]\nx=2\n[b]\n");
        assert_eq!(p.get("a", "d"), Some("1"));
        assert_eq!(p.get("a", "x"), Some("2"));
        assert_eq!(p.get("b", "x"), Some("0"));
        assert_eq!(p.sections(), vec!["a", "b"]);
        assert!(!p.has_section("DEFAULT"));
        assert_eq!(p.get("nosuch", "d"), None);
    }

    #[test]
    fn headers() {
        let p = parse("[a] junk\nx=1\n[b]c]\n[ d ]\n  [e]\n");
        assert_eq!(p.sections(), vec!["a", "b]c", " d ", "e"]);
        assert_eq!(p.get("a", "x"), Some("1"));
        assert_eq!(p.section_file("a"), Some("x.conf"));
        let p = parse("; comment\n[a]\n# c\nx=1\n");
        assert_eq!(p.get("a", "x"), Some("1"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_err("x=1\n"),
            "File contains no section headers. file: 'x.conf', line: 1 'x=1\\n'"
        );
        assert_eq!(
            parse_err("[]\n"),
            "File contains no section headers. file: 'x.conf', line: 1 '[]\\n'"
        );
        assert_eq!(
            parse_err("[a]\nfoo\n=bar\n"),
            "Source contains parsing errors: 'x.conf' [line  2]: 'foo\\n' [line  3]: '=bar\\n'"
        );
        assert_eq!(
            parse_err("[a]\nk=v\n  bad\n=x\n  cont"),
            "Source contains parsing errors: 'x.conf' [line  4]: '=x\\n' [line  5]: '  cont'"
        );
        assert_eq!(
            parse_err("[a]\n;x=1\n  y\n"),
            "Source contains parsing errors: 'x.conf' [line  3]: '  y\\n'"
        );
    }

    #[test]
    fn several_files() {
        let mut p = ConfigParser::new();
        p.read_string("[a]\nx=1\n", "one.conf").unwrap();
        p.read_string("[b]\ny=2\n[a]\nz=3\n", "two.conf").unwrap();
        assert_eq!(p.section_file("a"), Some("one.conf"));
        assert_eq!(p.section_file("b"), Some("two.conf"));
        assert_eq!(p.get("a", "z"), Some("3"));
        // Each file needs its own section header.
        assert!(p.read_string("k=v\n", "three.conf").is_err());
    }

    #[test]
    fn here_is_substituted_per_file() {
        let mut p = ConfigParser::new();
        p.read_string(
            "[DEFAULT]\nd=%(here)s/d\n[a]\nx=%(here)s/x\n",
            "/m/main.conf",
        )
        .unwrap();
        p.expand_here("/m");
        p.read_string("[b]\ny=%(here)s/y\n", "/i/inc.conf").unwrap();
        p.expand_here("/i");
        assert_eq!(p.get("a", "x"), Some("/m/x"));
        assert_eq!(p.get("a", "d"), Some("/m/d"));
        assert_eq!(p.get("b", "y"), Some("/i/y"));
        assert_eq!(p.get("b", "d"), Some("/i/d"));
    }

    #[test]
    fn files_and_bad_bytes() {
        let dir = std::env::temp_dir().join(format!("cp-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.conf");
        std::fs::write(&f, b"[a]\nx=1\ny=\xff\n").unwrap();
        let mut p = ConfigParser::new();
        match p.read_file(&f, "bad.conf") {
            Err(ReadError::Parse(m)) => {
                assert_eq!(m, "File contains invalid UTF-8: 'bad.conf', line: 3")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            p.read_file(&dir.join("missing.conf"), "missing.conf"),
            Err(ReadError::Io(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "",
            "\n",
            "[",
            "]",
            "[a",
            "[a]\n=",
            "[a]\n:",
            "[a]\n \t",
            "\u{0}",
            "[a]\n\u{85}x=1",
            "[\u{2028}]\nk=v",
            "[a]\n#",
            "[a]\nk=v\n\u{1c}x",
            "[a]\n;\u{3000};",
        ] {
            let mut p = ConfigParser::new();
            let _ = p.read_string(text, "f");
        }
    }
}
