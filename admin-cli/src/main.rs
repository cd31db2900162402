//! coffer, the admin CLI (talks to the admin API of cofferd).

fn main() {
    eprintln!("coffer: the admin CLI is not built yet");
    std::process::exit(2);
}
