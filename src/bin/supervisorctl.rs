//! The `supervisorctl` executable: a thin wrapper over `supervisor::supervisorctl`.

fn main() {
    std::process::exit(supervisor::supervisorctl::main());
}
