//! confecho: the `echo_supervisord_conf` tool, which prints the commented
//! sample configuration shipped as `conf/sample.conf`.

use std::io::Write;

/// The sample configuration (also installed as a file by `make install`).
pub const SAMPLE_CONF: &str = include_str!("../conf/sample.conf");

/// Entry point of the executable; returns the exit status. Arguments are
/// ignored, as the reference does.
pub fn main() -> i32 {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(SAMPLE_CONF.as_bytes())
        .and_then(|_| out.flush())
    {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("echo_supervisord_conf: {e}");
            1
        }
    }
}
