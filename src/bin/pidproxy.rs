//! The `pidproxy` executable: a thin wrapper over `supervisor::pidproxy`.

fn main() {
    std::process::exit(supervisor::pidproxy::main());
}
