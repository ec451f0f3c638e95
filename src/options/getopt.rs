//! getopt: Python's `getopt.getopt`, which both supervisord and
//! supervisorctl use: short option clusters (`-nc FILE`, `-cFILE`), long
//! options with `=value` or a separate value, unique prefixes of long
//! options, scanning stops at the first non-option (or after `--`), and
//! the exact error texts (`option --bogus not recognized`, ...).

/// The options found, in order, as (option, value) pairs, and the
/// positional arguments left.
pub type Parsed = (Vec<(String, String)>, Vec<String>);

/// Parses `args` (argv without argv[0]). `shortopts` is getopt's string
/// (`"hc:"`), `longopts` the long names (`"configuration="` takes a value).
/// Returns the (option, value) pairs in order, options spelled `-c` or
/// `--configuration` (a prefix is expanded to the full name), and the
/// remaining positional arguments.
pub fn getopt(args: &[String], shortopts: &str, longopts: &[&str]) -> Result<Parsed, String> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') && args[i] != "-" {
        if args[i] == "--" {
            i += 1;
            break;
        }
        if let Some(long) = args[i].strip_prefix("--") {
            i += 1;
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let (has_arg, full) = long_has_args(name, longopts)?;
            let value = match (has_arg, inline) {
                (true, Some(v)) => v,
                (true, None) => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("option --{} requires argument", full))?;
                    i += 1;
                    v.clone()
                }
                (false, Some(_)) => {
                    return Err(format!("option --{} must not have an argument", full))
                }
                (false, None) => String::new(),
            };
            opts.push((format!("--{}", full), value));
        } else {
            let cluster: Vec<char> = args[i][1..].chars().collect();
            i += 1;
            let mut j = 0;
            while j < cluster.len() {
                let opt = cluster[j];
                j += 1;
                if short_has_arg(opt, shortopts)? {
                    let value = if j < cluster.len() {
                        cluster[j..].iter().collect()
                    } else {
                        let v = args
                            .get(i)
                            .ok_or_else(|| format!("option -{} requires argument", opt))?;
                        i += 1;
                        v.clone()
                    };
                    opts.push((format!("-{}", opt), value));
                    break;
                }
                opts.push((format!("-{}", opt), String::new()));
            }
        }
    }
    Ok((opts, args[i..].to_vec()))
}

fn long_has_args(opt: &str, longopts: &[&str]) -> Result<(bool, String), String> {
    let possibilities: Vec<&str> = longopts
        .iter()
        .copied()
        .filter(|o| o.starts_with(opt))
        .collect();
    if possibilities.is_empty() {
        return Err(format!("option --{} not recognized", opt));
    }
    if possibilities.contains(&opt) {
        return Ok((false, opt.to_string()));
    }
    if possibilities.contains(&format!("{}=", opt).as_str()) {
        return Ok((true, opt.to_string()));
    }
    match possibilities.as_slice() {
        [only] => match only.strip_suffix('=') {
            Some(name) => Ok((true, name.to_string())),
            None => Ok((false, only.to_string())),
        },
        _ => Err(format!("option --{} not a unique prefix", opt)),
    }
}

fn short_has_arg(opt: char, shortopts: &str) -> Result<bool, String> {
    let chars: Vec<char> = shortopts.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == opt && opt != ':' {
            return Ok(chars.get(i + 1) == Some(&':'));
        }
    }
    Err(format!("option -{} not recognized", opt))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: &str = "h?c:vn";
    const LONG: &[&str] = &[
        "help",
        "configuration=",
        "logfile=",
        "logfile_maxbytes=",
        "loglevel=",
        "nodaemon",
        "nocleanup",
    ];

    fn run(args: &[&str]) -> Result<Parsed, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        getopt(&args, SHORT, LONG)
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn shorts() {
        let (o, a) = run(&["-nc", "f", "x"]).unwrap();
        assert_eq!(o, pairs(&[("-n", ""), ("-c", "f")]));
        assert_eq!(a, vec!["x"]);
        let (o, _) = run(&["-cfile", "-?"]).unwrap();
        assert_eq!(o, pairs(&[("-c", "file"), ("-?", "")]));
        assert_eq!(run(&["-x"]).unwrap_err(), "option -x not recognized");
        assert_eq!(run(&["-:"]).unwrap_err(), "option -: not recognized");
        assert_eq!(
            run(&["-n", "-c"]).unwrap_err(),
            "option -c requires argument"
        );
    }

    #[test]
    fn longs() {
        let (o, _) = run(&[
            "--conf=a",
            "--configuration",
            "b",
            "--nod",
            "--logfile",
            "l",
        ])
        .unwrap();
        assert_eq!(
            o,
            pairs(&[
                ("--configuration", "a"),
                ("--configuration", "b"),
                ("--nodaemon", ""),
                ("--logfile", "l"),
            ])
        );
        assert_eq!(
            run(&["--bogus"]).unwrap_err(),
            "option --bogus not recognized"
        );
        assert_eq!(
            run(&["--log"]).unwrap_err(),
            "option --log not a unique prefix"
        );
        assert_eq!(
            run(&["--no"]).unwrap_err(),
            "option --no not a unique prefix"
        );
        assert_eq!(
            run(&["--logfile"]).unwrap_err(),
            "option --logfile requires argument"
        );
        assert_eq!(
            run(&["--nodaemon=1"]).unwrap_err(),
            "option --nodaemon must not have an argument"
        );
        assert_eq!(run(&["--=x"]).unwrap_err(), "option -- not a unique prefix");
        // An empty inline value is a value.
        let (o, _) = run(&["--conf="]).unwrap();
        assert_eq!(o, pairs(&[("--configuration", "")]));
    }

    #[test]
    fn scanning_stops() {
        let (o, a) = run(&["-n", "--", "-c"]).unwrap();
        assert_eq!(o, pairs(&[("-n", "")]));
        assert_eq!(a, vec!["-c"]);
        let (o, a) = run(&["-", "-n"]).unwrap();
        assert!(o.is_empty());
        assert_eq!(a, vec!["-", "-n"]);
        let (o, a) = run(&["status", "-n"]).unwrap();
        assert!(o.is_empty());
        assert_eq!(a, vec!["status", "-n"]);
    }
}
