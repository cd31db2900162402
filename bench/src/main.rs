//! coffer-bench: load generator and peer comparison (not built yet).

fn main() {
    eprintln!("coffer-bench: not built yet");
    std::process::exit(2);
}
