//! The man pages under `man/`: they render without a single groff warning,
//! supervisord.conf(5) (and the sample config) document every key the
//! parser accepts, and supervisorctl(1) documents every command.

mod common;

use std::path::PathBuf;
use std::process::Command;

use supervisor::options::SECTION_KEYS;

const PAGES: [&str; 5] = [
    "supervisord.8",
    "supervisorctl.1",
    "echo_supervisord_conf.1",
    "pidproxy.1",
    "supervisord.conf.5",
];

/// Sections documented as taking every `[program:x]` key.
const INHERIT_PROGRAM: [&str; 2] = ["eventlistener", "fcgi-program"];

fn page_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("man")
        .join(name)
}

fn page(name: &str) -> String {
    std::fs::read_to_string(page_path(name)).unwrap_or_else(|e| panic!("read man/{name}: {e}"))
}

/// The `.SS` (or `.SH`) block whose heading satisfies `pred`, up to the
/// next heading of either level.
fn block(text: &str, pred: impl Fn(&str) -> bool) -> Option<&str> {
    let mut start = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let is_heading = line.starts_with(".SS ") || line.starts_with(".SH ");
        if is_heading {
            if let Some(s) = start {
                return Some(&text[s..offset]);
            }
            if pred(line[4..].trim().trim_matches('"')) {
                start = Some(offset);
            }
        }
        offset += line.len();
    }
    start.map(|s| &text[s..])
}

/// The first word of each `.TP` tag line in `text`, roff escapes removed.
fn tags(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0] == ".TP")
        .filter_map(|w| {
            let (_, rest) = w[1].split_once(' ')?;
            let word = rest.trim_start_matches('"').split([' ', '"']).next()?;
            Some(
                word.replace("\\-", "-")
                    .replace("\\fI", "")
                    .replace("\\fP", ""),
            )
        })
        .collect()
}

/// The `[kind...]` subsection of supervisord.conf(5) for a section kind.
fn conf_section<'a>(text: &'a str, kind: &str) -> &'a str {
    block(text, |h| {
        h.strip_prefix('[')
            .map(|h| h.split([':', ']']).next() == Some(kind))
            .unwrap_or(false)
    })
    .unwrap_or_else(|| panic!("supervisord.conf(5) has no subsection for [{kind}]"))
}

#[test]
fn pages_render_without_warnings() {
    let groff = Command::new("groff").arg("--version").output();
    assert!(
        matches!(&groff, Ok(o) if o.status.success()),
        "groff is required to lint the man pages (Debian: apt-get install groff-base; \
         `make test` installs it)"
    );
    for name in PAGES {
        for width in ["65n", "78n", "100n"] {
            let out = Command::new("groff")
                .args(["-man", "-ww", "-z", "-Tutf8", &format!("-rLL={width}")])
                .arg(page_path(name))
                .output()
                .expect("run groff");
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "man/{name} at width {width}: {}",
                common::stderr(&out)
            );
        }
    }
}

#[test]
fn pages_name_themselves_and_each_other() {
    for name in PAGES {
        let text = page(name);
        let (title, section) = name.rsplit_once('.').expect("page name has a section");
        let th = format!(".TH {} {section} ", title.to_uppercase());
        assert!(text.contains(&th), "man/{name} lacks {th:?}");
        assert!(text.contains(".SH NAME\n"), "man/{name} lacks NAME");
        assert!(text.contains(".SH SEE ALSO\n"), "man/{name} lacks SEE ALSO");
    }
}

#[test]
fn supervisord_conf_5_documents_every_key() {
    let text = page("supervisord.conf.5");
    let program = tags(conf_section(&text, "program"));
    let mut missing = Vec::new();
    for (kind, keys) in SECTION_KEYS {
        let section = conf_section(&text, kind);
        let own = tags(section);
        let inherits = INHERIT_PROGRAM.contains(kind);
        if inherits {
            assert!(
                section.contains(".B [program:x]\nkey is accepted"),
                "[{kind}] should say it accepts every [program:x] key"
            );
        }
        for key in keys.iter() {
            let found =
                own.iter().any(|t| t == key) || (inherits && program.iter().any(|t| t == key));
            if !found {
                missing.push(format!("[{kind}] {key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in supervisord.conf(5): {missing:?}"
    );
}

#[test]
fn sample_conf_lists_every_key() {
    let sample = std::fs::read_to_string(page_path("../conf/sample.conf")).expect("read sample");
    let mut missing = Vec::new();
    for (kind, keys) in SECTION_KEYS {
        for key in keys.iter() {
            let listed = sample.lines().any(|l| {
                let l = l.trim_start_matches(';');
                l.starts_with(key) && l[key.len()..].trim_start().starts_with(['=', ':'])
            });
            if !listed {
                missing.push(format!("[{kind}] {key}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in conf/sample.conf: {missing:?}");
}

/// The reference's `supervisorctl help` lists its commands; with `help`
/// itself, each must have an entry under ACTIONS in supervisorctl(1).
#[test]
fn supervisorctl_1_documents_every_command() {
    let dir = common::TempDir::new("manctl");
    let conf = dir.write("ctl.conf", "[supervisorctl]\n");
    let out = Command::new(common::venv().join("bin/supervisorctl"))
        .arg("-c")
        .arg(&conf)
        .arg("help")
        .output()
        .expect("run the reference supervisorctl");
    let listing = common::stdout(&out);
    let ruler = listing.find("=\n").expect("help has a ruler");
    let mut commands: Vec<&str> = listing[ruler..].split_whitespace().skip(1).collect();
    commands.push("help");
    assert!(commands.len() >= 22, "{listing}");

    let text = page("supervisorctl.1");
    let actions = tags(block(&text, |h| h == "ACTIONS").expect("ACTIONS section"));
    let missing: Vec<&&str> = commands
        .iter()
        .filter(|c| !actions.iter().any(|a| a == *c))
        .collect();
    assert!(missing.is_empty(), "not in supervisorctl(1): {missing:?}");
}

/// True if `flag` occurs in `text` as a whole option (`-c` is not found
/// inside `--configuration`).
fn mentions(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + flag.len()..].chars().next();
        !matches!(before, Some(c) if c == '-' || c.is_alphanumeric())
            && !matches!(after, Some(c) if c == '_' || c.is_alphanumeric())
    })
}

/// Every flag in the reference's `supervisord -h` is under OPTIONS.
#[test]
fn supervisord_8_documents_every_flag() {
    let help = Command::new(common::venv().join("bin/supervisord"))
        .arg("-h")
        .output()
        .expect("run the reference supervisord");
    let text = page("supervisord.8");
    let options = block(&text, |h| h == "OPTIONS")
        .expect("OPTIONS section")
        .replace("\\-", "-");
    let flags: Vec<String> = common::stdout(&help)
        .lines()
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| {
            let spec = l.split_whitespace().next().unwrap_or("");
            spec.split('/').map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    assert!(flags.len() >= 38, "{flags:?}");
    let missing: Vec<&String> = flags.iter().filter(|f| !mentions(&options, f)).collect();
    assert!(missing.is_empty(), "not in supervisord(8): {missing:?}");
}
