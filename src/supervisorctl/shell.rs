//! The interactive shell: reading commands (the line editor on a terminal,
//! plain lines from a pipe, with no prompt or escape sequences), the
//! history file, tab completion of actions and names, and the prompts
//! commands ask (`y/N`, username, password).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::Path;

use super::commands::ACTIONS;
use super::lineedit::{decode_key, Editor, Outcome};
use super::{help, make_namespec, py_str, Controller};
use crate::sys::{
    self,
    term::{self, ModeGuard},
};
use crate::xmlrpc::Value;

/// Buffered standard input, shared by the shell, the prompts and `fg`.
#[derive(Default)]
pub(crate) struct Input {
    file: Option<File>,
    buf: Vec<u8>,
    /// Input has ended for good (never set for a terminal, where Ctrl-D
    /// ends one read only).
    eof: bool,
    tty: bool,
}

impl Input {
    /// Standard input (a duplicate descriptor, read without std's buffer so
    /// that polling it tells the truth).
    pub(crate) fn stdin() -> Input {
        let file = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(File::from);
        let tty = file.as_ref().is_some_and(|f| term::isatty(f.as_raw_fd()));
        Input {
            eof: file.is_none(),
            file,
            buf: Vec::new(),
            tty,
        }
    }

    pub(crate) fn fd(&self) -> Option<RawFd> {
        self.file.as_ref().map(|f| f.as_raw_fd())
    }

    pub(crate) fn is_tty(&self) -> bool {
        self.tty
    }

    /// Whether input has ended (and nothing is left in the buffer).
    #[cfg(test)]
    fn exhausted(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// One read into the buffer; false at end of input.
    pub(crate) fn fill(&mut self) -> bool {
        let Some(file) = self.file.as_mut() else {
            self.eof = true;
            return false;
        };
        let mut chunk = [0u8; 4096];
        loop {
            match file.read(&mut chunk) {
                Ok(n) if n > 0 => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted && !sys::interrupted() => {
                    continue
                }
                _ => {
                    self.eof = !self.tty;
                    return false;
                }
            }
        }
    }

    /// A complete line already in the buffer, without its newline.
    pub(crate) fn take_line(&mut self) -> Option<String> {
        let nl = self.buf.iter().position(|&b| b == b'\n')?;
        let line: Vec<u8> = self.buf.drain(..=nl).collect();
        Some(String::from_utf8_lossy(&line[..nl]).into_owned())
    }

    /// What is left after end of input (a last line without newline).
    pub(crate) fn take_rest(&mut self) -> Option<String> {
        if self.buf.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.buf);
        Some(String::from_utf8_lossy(&rest).into_owned())
    }

    /// The next line, blocking; None at end of input.
    pub(crate) fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(line) = self.take_line() {
                return Some(line);
            }
            if self.eof || !self.fill() {
                return self.take_rest();
            }
        }
    }

    /// The next byte, blocking; None at end of input.
    fn read_byte(&mut self) -> Option<u8> {
        if self.buf.is_empty() && (self.eof || !self.fill()) {
            return None;
        }
        Some(self.buf.remove(0))
    }

    /// Python's `input(prompt)`: the prompt, then a line.
    pub(crate) fn prompt_line(&mut self, prompt: &str) -> Option<String> {
        let mut out = std::io::stdout();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        self.read_line()
    }

    /// Python's `getpass(prompt)`: no echo on a terminal.
    pub(crate) fn prompt_password(&mut self, prompt: &str) -> Option<String> {
        let Some(fd) = self.fd().filter(|_| self.tty) else {
            let mut err = std::io::stderr();
            let _ = write!(err, "Warning: Password input may be echoed.\n{prompt}");
            let line = self.read_line();
            let _ = writeln!(err);
            return line;
        };
        let mut out = std::io::stdout();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        let line = {
            let _guard = ModeGuard::no_echo(fd).ok();
            self.read_line()
        };
        let _ = out.write_all(b"\n");
        let _ = out.flush();
        line
    }
}

/// What one read of the command line gave.
enum Got {
    Line(String),
    Eof,
    Interrupt,
}

/// The shell: runs `status` first (as the reference queues it), then
/// reads and runs commands until `quit`, `exit`, end of input or Ctrl-C.
pub(crate) fn cmdloop(ctl: &mut Controller) {
    let editing = ctl.input.is_tty() && term::isatty(1);
    let mut history = if editing {
        ctl.options
            .history_file
            .as_deref()
            .map(load_history)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    // Ctrl-C while a command runs leaves the shell (the reference catches
    // KeyboardInterrupt around its loop): interrupt the wait, not us.
    let _ = sys::catch_interrupts();
    let mut stop = ctl.onecmd("status");
    while !stop && !sys::interrupted() {
        let read = if editing {
            edit_line(ctl, &history)
        } else {
            ctl.input.read_line().map_or(Got::Eof, Got::Line)
        };
        if sys::interrupted() {
            break;
        }
        let line = match read {
            Got::Line(line) => {
                if editing && !line.is_empty() && history.last() != Some(&line) {
                    history.push(line.clone());
                }
                line
            }
            Got::Eof => "EOF".to_string(),
            Got::Interrupt => {
                ctl.output("");
                break;
            }
        };
        stop = ctl.onecmd(&line);
    }
    if sys::interrupted() {
        ctl.output("");
    }
    if editing {
        if let Some(path) = ctl.options.history_file.as_deref() {
            save_history(path, &history);
        }
    }
}

/// Reads one line with the editor, the terminal in raw mode meanwhile.
fn edit_line(ctl: &mut Controller, history: &[String]) -> Got {
    let prompt = format!("{}> ", ctl.options.prompt);
    let mut input = std::mem::take(&mut ctl.input);
    let fd = input.fd().unwrap_or(0);
    let width = term::window_width(1).unwrap_or(80);
    let guard = ModeGuard::raw(fd);
    let mut editor = Editor::new(history.to_vec());
    let mut out = std::io::stdout();
    let _ = write!(out, "{}", editor.render(&prompt, width));
    let _ = out.flush();
    let result = loop {
        let Some(key) = decode_key(&mut || input.read_byte()) else {
            break Got::Eof;
        };
        let mut complete = |line: &str, word: &str| complete(ctl, line, word);
        match editor.handle(key, &mut complete) {
            Outcome::Done(line) => break Got::Line(line),
            Outcome::Eof => break Got::Eof,
            Outcome::Interrupt => break Got::Interrupt,
            Outcome::ShowCandidates(list) => {
                let items: Vec<&str> = list.iter().map(|c| c.trim_end()).collect();
                let _ = write!(out, "\r\n");
                for row in help::columnize(&items, width.saturating_sub(1)) {
                    let _ = write!(out, "{}\r\n", row.trim_end());
                }
            }
            Outcome::ClearScreen => {
                let _ = write!(out, "\x1b[H\x1b[2J");
            }
            Outcome::Edited => {}
        }
        let _ = write!(out, "{}", editor.render(&prompt, width));
        let _ = out.flush();
    };
    // Leave the cursor after the line, on a fresh one.
    let _ = write!(out, "\r\n");
    let _ = out.flush();
    drop(guard);
    ctl.input = input;
    result
}

/// Completion candidates for `word` on `line`, as the reference's completer
/// gives them (each with a trailing space).
fn complete(ctl: &mut Controller, line: &str, word: &str) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let action = words.first().copied().unwrap_or("");
    let candidates: Vec<String> = if words.is_empty() || (words.len() == 1 && !line.ends_with(' '))
    {
        ACTIONS.iter().map(|a| a.to_string()).collect()
    } else if "help".contains(action) {
        // The reference tests `action in ('help')`: a substring test.
        ACTIONS.iter().map(|a| a.to_string()).collect()
    } else if ["add", "remove", "update"].contains(&action) {
        let mut groups: Vec<String> = Vec::new();
        for info in ctl.complete_info() {
            let g = info_text(&info, "group");
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        groups
    } else if [
        "clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail",
    ]
    .contains(&action)
    {
        process_candidates(&ctl.complete_info(), word)
    } else {
        Vec::new()
    };
    candidates
        .into_iter()
        .filter(|c| c.starts_with(word))
        .map(|c| format!("{c} "))
        .collect()
}

fn info_text(info: &Value, key: &str) -> String {
    match info {
        Value::Struct(m) => m
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| py_str(v))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Process names: `group:name` (plus `group:*`) when the word has a colon
/// or the process is in a group of another name, else the bare name.
fn process_candidates(infos: &[Value], word: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for info in infos {
        let (group, name) = (info_text(info, "group"), info_text(info, "name"));
        if word.contains(':') || name != group {
            out.push(format!("{group}:{name}"));
            let all = format!("{group}:*");
            if !out.contains(&all) {
                out.push(all);
            }
        } else {
            out.push(make_namespec(&group, &name));
        }
    }
    out
}

/// History lines from `path` (none if it cannot be read).
fn load_history(path: &Path) -> Vec<String> {
    std::fs::read(path)
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the history, one line per entry; failures are ignored, as the
/// reference ignores them.
fn save_history(path: &Path, history: &[String]) {
    let mut text = String::new();
    for line in history {
        text.push_str(line);
        text.push('\n');
    }
    let _ = std::fs::write(path, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str) -> Value {
        Value::Struct(vec![
            ("group".into(), Value::String(group.into())),
            ("name".into(), Value::String(name.into())),
        ])
    }

    #[test]
    fn process_names_for_completion() {
        let infos = [info("cat", "cat"), info("grp", "a"), info("grp", "b")];
        assert_eq!(
            process_candidates(&infos, ""),
            vec!["cat", "grp:a", "grp:*", "grp:b"]
        );
        assert_eq!(
            process_candidates(&infos, "c:"),
            vec!["cat:cat", "cat:*", "grp:a", "grp:*", "grp:b"]
        );
    }

    #[test]
    fn input_lines() {
        let mut input = Input {
            file: None,
            buf: b"one\ntwo\nthree".to_vec(),
            eof: true,
            tty: false,
        };
        assert_eq!(input.read_line().as_deref(), Some("one"));
        assert_eq!(input.take_line().as_deref(), Some("two"));
        assert_eq!(input.take_line(), None);
        assert_eq!(input.read_line().as_deref(), Some("three"));
        assert_eq!(input.read_line(), None);
        assert!(input.exhausted());
    }
}
