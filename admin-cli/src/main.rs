//! coffer, the admin CLI: talks to the admin API of cofferd (buckets, keys, grants, status,
//! presigned URLs). The work is in the library (src/lib.rs).

use std::process::ExitCode;

fn main() -> ExitCode {
    coffer_admin::run()
}
