//! reader: typed, expanded access to one config section, and the one-line
//! error format every config error uses:
//!
//! `<reference message> in section '<section>' (file: '<file>') for key '<key>'`
//!
//! (` for key ...` is left out when no single key is at fault). The file is
//! the one that first defined the section, named as it was read (the `-c`
//! argument or the include glob match), as the reference names it.

use super::configparser::ConfigParser;
use super::expand::{expand, Expansions, Value};
use crate::datatypes::py_repr;

/// Adds the location to a reference message.
pub fn located(msg: &str, section: &str, file: &str, key: Option<&str>) -> String {
    let mut out = format!(
        "{} in section {} (file: {})",
        msg,
        py_repr(section),
        py_repr(file)
    );
    if let Some(k) = key {
        out.push_str(" for key ");
        out.push_str(&py_repr(k));
    }
    out
}

/// An expansion mapping from string pairs.
pub fn strings(pairs: &[(&str, &str)]) -> Expansions {
    let mut m = Expansions::new();
    for (k, v) in pairs {
        m.set(k, Value::Str(v.to_string()));
    }
    m
}

/// One section of a parsed config, read the way the reference's `saneget`
/// reads it: values (and string defaults) are `%`-expanded with the
/// process environment (`ENV_*`) plus per-call names.
pub struct Sect<'a> {
    parser: &'a ConfigParser,
    pub name: &'a str,
    pub file: &'a str,
    env: &'a Expansions,
}

impl<'a> Sect<'a> {
    /// `configfile` names the main file, for sections it defined.
    pub fn new(
        parser: &'a ConfigParser,
        name: &'a str,
        configfile: &'a str,
        env: &'a Expansions,
    ) -> Sect<'a> {
        let file = parser.section_file(name).unwrap_or(configfile);
        Sect {
            parser,
            name,
            file,
            env,
        }
    }

    /// A message located in this section (and key).
    pub fn err(&self, key: Option<&str>, msg: impl AsRef<str>) -> String {
        located(msg.as_ref(), self.name, self.file, key)
    }

    /// The raw (unexpanded) value.
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.parser.get(self.name, key)
    }

    /// `ENV_*` overlaid with `extra`: what a value of this section expands
    /// with.
    pub fn names(&self, extra: &Expansions) -> Expansions {
        let mut m = self.env.clone();
        m.update(extra);
        m
    }

    fn expanded(&self, key: &str, value: &str, extra: &Expansions) -> Result<String, String> {
        // Without a '%' expansion is the identity; building the names (a
        // copy of the whole environment) for every key made parsing a
        // thousand-program config take a noticeable part of start-up.
        if !value.contains('%') {
            return Ok(value.to_string());
        }
        expand(value, &self.names(extra), &format!("{}.{}", self.name, key))
            .map_err(|e| self.err(Some(key), e))
    }

    /// The expanded value, or None when the key is absent.
    pub fn get(&self, key: &str, extra: &Expansions) -> Result<Option<String>, String> {
        self.raw(key)
            .map(|v| self.expanded(key, v, extra))
            .transpose()
    }

    /// The expanded value, or the expanded default.
    pub fn get_or(&self, key: &str, default: &str, extra: &Expansions) -> Result<String, String> {
        self.expanded(key, self.raw(key).unwrap_or(default), extra)
    }

    /// `get_or` then a conversion; conversion errors are located.
    pub fn typed<T>(
        &self,
        key: &str,
        default: &str,
        extra: &Expansions,
        conv: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, String> {
        let v = self.get_or(key, default, extra)?;
        conv(&v).map_err(|e| self.err(Some(key), e))
    }

    /// `get` then a conversion when present.
    pub fn typed_opt<T>(
        &self,
        key: &str,
        extra: &Expansions,
        conv: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match self.get(key, extra)? {
            Some(v) => conv(&v).map(Some).map_err(|e| self.err(Some(key), e)),
            None => Ok(None),
        }
    }
}
