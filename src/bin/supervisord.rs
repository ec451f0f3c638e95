//! The `supervisord` executable: a thin wrapper over `supervisor::supervisord`.

fn main() {
    std::process::exit(supervisor::supervisord::main());
}
