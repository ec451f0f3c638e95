//! `help`: the command list (laid out as Python's `cmd` module lays out
//! topics) and each command's help text, verbatim from the reference since
//! users and tests match them.

use super::commands::ACTIONS;
use super::Controller;

/// The help text of `cmd`, as printed (one `output` call, so a trailing
/// `\n` in the text makes a blank line).
fn help_text(cmd: &str) -> Option<&'static str> {
    Some(match cmd {
        "add" => "add <name> [...]\tActivates any updates in config for process/group",
        "avail" => "avail\t\t\tDisplay all configured processes",
        "clear" => {
            "clear <name>\t\tClear a process' log files.\n\
             clear <name> <name>\tClear multiple process' log files\n\
             clear all\t\tClear all process' log files"
        }
        "exit" => "exit\tExit the supervisor shell.",
        "fg" => "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
        "help" => "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>",
        "maintail" => {
            "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n\
             maintail -100\tlast 100 *bytes* of supervisord main log file\n\
             maintail\tlast 1600 *bytes* of supervisor main log file\n"
        }
        "open" => {
            "open <url>\tConnect to a remote supervisord process.\n\
             \t\t(for UNIX domain socket, use unix:///socket/path)"
        }
        "pid" => {
            "pid\t\t\tGet the PID of supervisord.\n\
             pid <name>\t\tGet the PID of a single child process by name.\n\
             pid all\t\t\tGet the PID of every child process, one per line."
        }
        "quit" => "quit\tExit the supervisor shell.",
        "reload" => "reload \t\tRestart the remote supervisord.",
        "remove" => "remove <name> [...]\tRemoves process/group from active config",
        "reread" => "reread \t\t\tReload the daemon's configuration files without add/remove",
        "restart" => {
            "restart <name>\t\tRestart a process\n\
             restart <gname>:*\tRestart all processes in a group\n\
             restart <name> <name>\tRestart multiple processes or groups\n\
             restart all\t\tRestart all processes\n\
             Note: restart does not reread config files. For that, see reread and update."
        }
        "shutdown" => "shutdown \tShut the remote supervisord down.",
        "signal" => {
            "signal <signal name> <name>\t\tSignal a process\n\
             signal <signal name> <gname>:*\t\tSignal all processes in a group\n\
             signal <signal name> <name> <name>\tSignal multiple processes or groups\n\
             signal <signal name> all\t\tSignal all processes"
        }
        "start" => {
            "start <name>\t\tStart a process\n\
             start <gname>:*\t\tStart all processes in a group\n\
             start <name> <name>\tStart multiple processes or groups\n\
             start all\t\tStart all processes"
        }
        "status" => {
            "status <name>\t\tGet status for a single process\n\
             status <gname>:*\tGet status for all processes in a group\n\
             status <name> <name>\tGet status for multiple named processes\n\
             status\t\t\tGet all process status info"
        }
        "stop" => {
            "stop <name>\t\tStop a process\n\
             stop <gname>:*\t\tStop all processes in a group\n\
             stop <name> <name>\tStop multiple processes or groups\n\
             stop all\t\tStop all processes"
        }
        "tail" => {
            "tail [-f] <name> [stdout|stderr] (default stdout)\n\
             Ex:\n\
             tail -f <name>\t\tContinuous tail of named process stdout\n\
             \t\t\tCtrl-C to exit.\n\
             tail -100 <name>\tlast 100 *bytes* of process stdout\n\
             tail <name> stderr\tlast 1600 *bytes* of process stderr"
        }
        "update" => {
            "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\n\
             update all\t\tReload config and add/remove as necessary, and will restart affected programs\n\
             update <gname> [...]\tUpdate specific groups"
        }
        "version" => "version\t\t\tShow the version of the remote supervisord process",
        _ => return None,
    })
}

/// Prints the help of `cmd` (a command's usage after an argument error).
pub(crate) fn print_help(ctl: &Controller, cmd: &str) {
    if let Some(text) = help_text(cmd) {
        ctl.output(text);
    }
}

/// `help [topic]`.
pub(crate) fn do_help(ctl: &mut Controller, arg: &str) {
    if arg.is_empty() {
        let header = "default commands (type help <topic>):";
        ctl.output("");
        ctl.output(header);
        ctl.output(&"=".repeat(header.len()));
        let topics: Vec<&str> = ACTIONS.iter().copied().filter(|a| *a != "help").collect();
        for line in columnize(&topics, 79) {
            ctl.output(&line);
        }
        ctl.output("");
        return;
    }
    match help_text(arg) {
        Some(text) => ctl.output(text),
        None => ctl.output(&format!("*** No help on {arg}")),
    }
}

/// Python `cmd.Cmd.columnize`: the fewest rows whose columns (separated by
/// two spaces) fit in `width`, filled column by column; each cell is
/// padded to its column's width except trailing empty cells.
pub(crate) fn columnize(items: &[&str], width: usize) -> Vec<String> {
    let size = items.len();
    if size == 0 {
        return vec!["<empty>".to_string()];
    }
    if size == 1 {
        return vec![items[0].to_string()];
    }
    let len = |s: &str| s.chars().count();
    let mut layout = (size, 1, vec![0]);
    for nrows in 1..size {
        let ncols = size.div_ceil(nrows);
        let mut widths = Vec::new();
        let mut total: isize = -2;
        for col in 0..ncols {
            let w = (0..nrows)
                .filter_map(|row| items.get(row + nrows * col))
                .map(|s| len(s))
                .max()
                .unwrap_or(0);
            widths.push(w);
            total += w as isize + 2;
            if total > width as isize {
                break;
            }
        }
        if total <= width as isize {
            layout = (nrows, ncols, widths);
            break;
        }
    }
    let (nrows, ncols, widths) = layout;
    (0..nrows)
        .map(|row| {
            let mut texts: Vec<&str> = (0..ncols)
                .map(|col| items.get(row + nrows * col).copied().unwrap_or(""))
                .collect();
            while texts.last().is_some_and(|t| t.is_empty()) {
                texts.pop();
            }
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let w = widths.get(i).copied().unwrap_or(0);
                    format!("{t}{}", " ".repeat(w.saturating_sub(len(t))))
                })
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_list_matches_the_reference() {
        let topics: Vec<&str> = ACTIONS.iter().copied().filter(|a| *a != "help").collect();
        assert_eq!(
            columnize(&topics, 79),
            vec![
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
    }

    #[test]
    fn columnize_edge_cases() {
        assert_eq!(columnize(&[], 79), vec!["<empty>"]);
        assert_eq!(columnize(&["one"], 79), vec!["one"]);
        assert_eq!(
            columnize(&["aaaa", "bbbb", "cc"], 9),
            vec!["aaaa  cc", "bbbb"]
        );
        assert_eq!(columnize(&["aaaaaaaaaa", "b"], 5), vec!["aaaaaaaaaa", "b"]);
    }

    #[test]
    fn every_action_has_help() {
        for a in ACTIONS {
            assert!(help_text(a).is_some(), "{a}");
        }
    }
}
