//! A small line editor for the interactive shell on a terminal: key
//! decoding (control keys, VT100/xterm escape sequences, UTF-8), editing
//! (cursor moves, kills, history recall), readline-style tab completion,
//! and redrawing as one escape-sequence string. Pure logic: the shell feeds
//! it bytes and writes out what it renders.

/// One decoded key press.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    Enter,
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    Up,
    Down,
    Tab,
    /// Ctrl-C.
    Interrupt,
    /// Ctrl-D: end of input on an empty line, else delete.
    CtrlD,
    /// Ctrl-K: kill to the end of the line.
    KillEnd,
    /// Ctrl-U: kill to the start of the line.
    KillStart,
    /// Ctrl-W: kill the word before the cursor.
    KillWord,
    /// Ctrl-L: redraw on a cleared screen.
    Clear,
    /// Anything else (unknown sequences, stray control bytes).
    Ignore,
}

/// Reads one key from `next` (one byte per call, None at end of input).
pub(crate) fn decode_key(next: &mut dyn FnMut() -> Option<u8>) -> Option<Key> {
    let b = next()?;
    Some(match b {
        0x01 => Key::Home,
        0x02 => Key::Left,
        0x03 => Key::Interrupt,
        0x04 => Key::CtrlD,
        0x05 => Key::End,
        0x06 => Key::Right,
        0x08 | 0x7f => Key::Backspace,
        b'\t' => Key::Tab,
        b'\r' | b'\n' => Key::Enter,
        0x0b => Key::KillEnd,
        0x0c => Key::Clear,
        0x0e => Key::Down,
        0x10 => Key::Up,
        0x15 => Key::KillStart,
        0x17 => Key::KillWord,
        0x1b => decode_escape(next)?,
        b if b < 0x20 => Key::Ignore,
        b if b < 0x80 => Key::Char(b as char),
        lead => decode_utf8(lead, next)?,
    })
}

/// The rest of an escape sequence after ESC.
fn decode_escape(next: &mut dyn FnMut() -> Option<u8>) -> Option<Key> {
    match next()? {
        b'[' => {
            let mut params = Vec::new();
            let last = loop {
                let b = next()?;
                if (0x40..=0x7e).contains(&b) {
                    break b;
                }
                params.push(b);
            };
            Some(match (last, params.as_slice()) {
                (b'A', _) => Key::Up,
                (b'B', _) => Key::Down,
                (b'C', _) => Key::Right,
                (b'D', _) => Key::Left,
                (b'H', _) => Key::Home,
                (b'F', _) => Key::End,
                (b'~', b"1" | b"7") => Key::Home,
                (b'~', b"4" | b"8") => Key::End,
                (b'~', b"3") => Key::Delete,
                _ => Key::Ignore,
            })
        }
        b'O' => Some(match next()? {
            b'A' => Key::Up,
            b'B' => Key::Down,
            b'C' => Key::Right,
            b'D' => Key::Left,
            b'H' => Key::Home,
            b'F' => Key::End,
            _ => Key::Ignore,
        }),
        _ => Some(Key::Ignore),
    }
}

/// A multi-byte UTF-8 character starting with `lead`.
fn decode_utf8(lead: u8, next: &mut dyn FnMut() -> Option<u8>) -> Option<Key> {
    let extra = match lead {
        0xc0..=0xdf => 1,
        0xe0..=0xef => 2,
        0xf0..=0xf7 => 3,
        _ => return Some(Key::Ignore),
    };
    let mut bytes = vec![lead];
    for _ in 0..extra {
        bytes.push(next()?);
    }
    Some(
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.chars().next())
            .map_or(Key::Ignore, Key::Char),
    )
}

/// What a key press did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Still editing: redraw.
    Edited,
    /// Enter: the finished line.
    Done(String),
    /// Ctrl-D on an empty line.
    Eof,
    /// Ctrl-C.
    Interrupt,
    /// A second Tab on an ambiguous word: show these candidates.
    ShowCandidates(Vec<String>),
    /// Ctrl-L.
    ClearScreen,
}

/// Characters that end a word for completion: Python's readline default
/// set minus `:`, `*` and `-`, which supervisorctl removes so that
/// `group:name`, `group:*` and dashed names complete as one word.
const WORD_BREAKS: &str = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?";

/// The line being edited, its cursor, and history navigation.
pub(crate) struct Editor {
    buf: Vec<char>,
    cursor: usize,
    history: Vec<String>,
    /// Index into `history` being shown; `history.len()` is the new line.
    hist_pos: usize,
    /// The new line, kept while browsing history.
    draft: Vec<char>,
    last_was_tab: bool,
}

impl Editor {
    pub(crate) fn new(history: Vec<String>) -> Editor {
        let hist_pos = history.len();
        Editor {
            buf: Vec::new(),
            cursor: 0,
            history,
            hist_pos,
            draft: Vec::new(),
            last_was_tab: false,
        }
    }

    pub(crate) fn line(&self) -> String {
        self.buf.iter().collect()
    }

    /// Applies one key. `complete(line, word)` lists the candidates for
    /// the word before the cursor.
    pub(crate) fn handle(
        &mut self,
        key: Key,
        complete: &mut dyn FnMut(&str, &str) -> Vec<String>,
    ) -> Outcome {
        let was_tab = std::mem::replace(&mut self.last_was_tab, key == Key::Tab);
        match key {
            Key::Char(c) => {
                self.buf.insert(self.cursor, c);
                self.cursor += 1;
            }
            Key::Enter => return Outcome::Done(self.line()),
            Key::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.buf.remove(self.cursor);
            }
            Key::Delete if self.cursor < self.buf.len() => {
                self.buf.remove(self.cursor);
            }
            Key::CtrlD if self.buf.is_empty() => return Outcome::Eof,
            Key::CtrlD if self.cursor < self.buf.len() => {
                self.buf.remove(self.cursor);
            }
            Key::Left => self.cursor = self.cursor.saturating_sub(1),
            Key::Right => self.cursor = (self.cursor + 1).min(self.buf.len()),
            Key::Home => self.cursor = 0,
            Key::End => self.cursor = self.buf.len(),
            Key::Up => self.recall(-1),
            Key::Down => self.recall(1),
            Key::KillEnd => self.buf.truncate(self.cursor),
            Key::KillStart => {
                self.buf.drain(..self.cursor);
                self.cursor = 0;
            }
            Key::KillWord => {
                let mut start = self.cursor;
                while start > 0 && self.buf[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && self.buf[start - 1] != ' ' {
                    start -= 1;
                }
                self.buf.drain(start..self.cursor);
                self.cursor = start;
            }
            Key::Tab => return self.complete(was_tab, complete),
            Key::Interrupt => return Outcome::Interrupt,
            Key::Clear => return Outcome::ClearScreen,
            _ => {}
        }
        Outcome::Edited
    }

    /// Moves through history by `step` (-1 older, +1 newer).
    fn recall(&mut self, step: isize) {
        let target = self.hist_pos as isize + step;
        if target < 0 || target as usize > self.history.len() {
            return;
        }
        if self.hist_pos == self.history.len() {
            self.draft = self.buf.clone();
        }
        self.hist_pos = target as usize;
        self.buf = match self.history.get(self.hist_pos) {
            Some(entry) => entry.chars().collect(),
            None => self.draft.clone(),
        };
        self.cursor = self.buf.len();
    }

    /// Readline-style completion: a single candidate replaces the word; several
    /// insert their common prefix, and a second Tab lists them.
    fn complete(
        &mut self,
        was_tab: bool,
        complete: &mut dyn FnMut(&str, &str) -> Vec<String>,
    ) -> Outcome {
        let start = self.buf[..self.cursor]
            .iter()
            .rposition(|c| WORD_BREAKS.contains(*c))
            .map_or(0, |i| i + 1);
        let word: String = self.buf[start..self.cursor].iter().collect();
        let mut candidates = complete(&self.line(), &word);
        candidates.sort();
        candidates.dedup();
        let prefix = common_prefix(&candidates);
        if prefix.chars().count() > word.chars().count() {
            self.buf.splice(start..self.cursor, prefix.chars());
            self.cursor = start + prefix.chars().count();
            self.last_was_tab = false;
            return Outcome::Edited;
        }
        if was_tab && candidates.len() > 1 {
            return Outcome::ShowCandidates(candidates);
        }
        Outcome::Edited
    }

    /// The escape sequences that redraw the line: prompt, the part of the
    /// text that fits in `width` columns around the cursor, cursor placed.
    pub(crate) fn render(&self, prompt: &str, width: usize) -> String {
        let prompt_len = prompt.chars().count();
        let room = width.saturating_sub(prompt_len + 1).max(1);
        let first = (self.cursor + 1).saturating_sub(room);
        let last = (first + room).min(self.buf.len());
        let visible: String = self.buf[first..last].iter().collect();
        let col = prompt_len + self.cursor - first;
        let mut out = format!("\r{prompt}{visible}\x1b[K\r");
        if col > 0 {
            out.push_str(&format!("\x1b[{col}C"));
        }
        out
    }
}

/// The longest common prefix of `items` (empty for none).
fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut len = first.len();
    for item in &items[1..] {
        len = first
            .char_indices()
            .zip(item.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut it = bytes.iter().copied();
        let mut next = move || it.next();
        std::iter::from_fn(|| decode_key(&mut next)).collect()
    }

    fn none(_: &str, _: &str) -> Vec<String> {
        Vec::new()
    }

    fn type_keys(ed: &mut Editor, ks: &[Key]) -> Outcome {
        let mut last = Outcome::Edited;
        for k in ks {
            last = ed.handle(*k, &mut none);
        }
        last
    }

    #[test]
    fn decodes_keys_and_sequences() {
        assert_eq!(
            keys(b"a\x1b[D\x1b[C\x1bOH\x1b[4~\x1b[3~\x7f\t\r\x01\x05\x0b\x15\x17\x03\x04"),
            vec![
                Key::Char('a'),
                Key::Left,
                Key::Right,
                Key::Home,
                Key::End,
                Key::Delete,
                Key::Backspace,
                Key::Tab,
                Key::Enter,
                Key::Home,
                Key::End,
                Key::KillEnd,
                Key::KillStart,
                Key::KillWord,
                Key::Interrupt,
                Key::CtrlD,
            ]
        );
        assert_eq!(
            keys("é日".as_bytes()),
            vec![Key::Char('é'), Key::Char('日')]
        );
        assert_eq!(
            keys(b"\x1b[1;5C\x1b[5~\x1bb"),
            vec![Key::Right, Key::Ignore, Key::Ignore]
        );
    }

    #[test]
    fn editing_keys() {
        let mut ed = Editor::new(vec![]);
        for c in "stats".chars() {
            ed.handle(Key::Char(c), &mut none);
        }
        type_keys(
            &mut ed,
            &[Key::Left, Key::Char('u'), Key::End, Key::Char(' ')],
        );
        assert_eq!(ed.line(), "status ");
        type_keys(&mut ed, &[Key::Home, Key::Delete, Key::Char('S')]);
        assert_eq!(ed.line(), "Status ");
        type_keys(&mut ed, &[Key::End, Key::Backspace, Key::KillWord]);
        assert_eq!(ed.line(), "");
        for c in "start foo".chars() {
            ed.handle(Key::Char(c), &mut none);
        }
        type_keys(&mut ed, &[Key::Home, Key::Right, Key::KillEnd]);
        assert_eq!(ed.line(), "s");
        type_keys(&mut ed, &[Key::Char('x'), Key::Left, Key::KillStart]);
        assert_eq!(ed.line(), "x");
        assert_eq!(ed.handle(Key::Enter, &mut none), Outcome::Done("x".into()));
    }

    #[test]
    fn ctrl_d_is_eof_only_on_an_empty_line() {
        let mut ed = Editor::new(vec![]);
        type_keys(&mut ed, &[Key::Char('a'), Key::Char('b'), Key::Home]);
        assert_eq!(ed.handle(Key::CtrlD, &mut none), Outcome::Edited);
        assert_eq!(ed.line(), "b");
        type_keys(&mut ed, &[Key::CtrlD]);
        assert_eq!(ed.handle(Key::CtrlD, &mut none), Outcome::Eof);
    }

    #[test]
    fn history_recall_keeps_the_draft() {
        let mut ed = Editor::new(vec!["status".into(), "version".into()]);
        ed.handle(Key::Char('x'), &mut none);
        type_keys(&mut ed, &[Key::Up]);
        assert_eq!(ed.line(), "version");
        type_keys(&mut ed, &[Key::Up, Key::Up]);
        assert_eq!(ed.line(), "status");
        type_keys(&mut ed, &[Key::Down]);
        assert_eq!(ed.line(), "version");
        type_keys(&mut ed, &[Key::Down]);
        assert_eq!(ed.line(), "x");
        type_keys(&mut ed, &[Key::Down]);
        assert_eq!(ed.line(), "x");
    }

    #[test]
    fn tab_completion_like_readline() {
        let mut seen = Vec::new();
        let mut complete = |line: &str, word: &str| {
            seen.push((line.to_string(), word.to_string()));
            ["start ", "status ", "stop ", "grp:a ", "grp:b ", "grp:* "]
                .iter()
                .filter(|c| c.starts_with(word))
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
        };
        let mut ed = Editor::new(vec![]);
        for c in "sta".chars() {
            ed.handle(Key::Char(c), &mut complete);
        }
        assert_eq!(ed.handle(Key::Tab, &mut complete), Outcome::Edited);
        assert_eq!(ed.line(), "sta");
        assert_eq!(
            ed.handle(Key::Tab, &mut complete),
            Outcome::ShowCandidates(vec!["start ".into(), "status ".into()])
        );
        ed.handle(Key::Char('r'), &mut complete);
        ed.handle(Key::Tab, &mut complete);
        assert_eq!(ed.line(), "start ");
        for c in "g".chars() {
            ed.handle(Key::Char(c), &mut complete);
        }
        ed.handle(Key::Tab, &mut complete);
        assert_eq!(ed.line(), "start grp:");
        ed.handle(Key::Char('b'), &mut complete);
        ed.handle(Key::Tab, &mut complete);
        assert_eq!(ed.line(), "start grp:b ");
        assert_eq!(
            seen.last(),
            Some(&("start grp:b".to_string(), "grp:b".to_string()))
        );
    }

    #[test]
    fn render_places_the_cursor_and_scrolls() {
        let mut ed = Editor::new(vec![]);
        for c in "abc".chars() {
            ed.handle(Key::Char(c), &mut none);
        }
        ed.handle(Key::Left, &mut none);
        assert_eq!(ed.render("p> ", 80), "\rp> abc\x1b[K\r\x1b[5C");
        let mut ed = Editor::new(vec![]);
        for c in "0123456789".chars() {
            ed.handle(Key::Char(c), &mut none);
        }
        assert_eq!(ed.render("p> ", 8), "\rp> 789\x1b[K\r\x1b[6C");
    }

    #[test]
    fn common_prefixes() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_prefix(&v(&["start ", "status "])), "sta");
        assert_eq!(common_prefix(&v(&["a"])), "a");
        assert_eq!(common_prefix(&v(&["éa", "éb"])), "é");
        assert_eq!(common_prefix(&v(&["x", "y"])), "");
        assert_eq!(common_prefix(&[]), "");
    }
}
