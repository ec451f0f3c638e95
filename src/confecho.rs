//! confecho (to be written).

/// Entry point of the executable; returns the exit status.
pub fn main() -> i32 {
    eprintln!("not yet implemented");
    1
}
