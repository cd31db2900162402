//! cofferd, the Coffer daemon.

fn main() {}
