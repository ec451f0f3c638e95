//! The `echo_supervisord_conf` executable: a thin wrapper over `supervisor::confecho`.

fn main() {
    std::process::exit(supervisor::confecho::main());
}
