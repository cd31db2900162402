//! The test kit: the one way tests start the real `cofferd` and drive real
//! clients against it.
//!
//! - [`CofferServer`] (built with [`ServerBuilder`]) spawns the binary on free
//!   ports, reads its start-up lines with the server's own reader
//!   ([`StartupLines`]), restarts it on the same data dir, stops it with SIGTERM
//!   or SIGKILL ([`Stop`]).
//! - [`credentials`]: the root key and region every test server starts with.
//! - [`admin`]: the admin API through the `coffer` CLI's own client, and the
//!   real `coffer` binary.
//! - [`stores`]: the memory and fault-injecting stores (the server's own),
//!   for engine tests.
//! - [`TestEnv`]: one test's temp dir, a server (its own, or with
//!   [`TestEnv::shared`] the test binary's [`shared`] one, a bucket each) and
//!   helpers that run client programs with an environment that points only
//!   at that server.

pub mod admin;
pub mod clients;
pub mod command;
pub mod credentials;
pub mod files;
pub mod paths;
pub mod server;
pub mod server_builder;
pub mod shared;
pub mod stores;
pub mod testenv;
pub mod tls;

pub use admin::{Admin, coffer_cmd};
pub use coffer_server::startup_lines::{FirstStart, StartupLines};
pub use command::{CmdOutput, run_cmd};
pub use credentials::{ACCESS_KEY, Key, REGION, SECRET_KEY};
pub use server::{CofferServer, ServerOptions, Stop};
pub use server_builder::{ServerBuilder, bare_cofferd};
pub use testenv::TestEnv;

/// Declares a test that gets a fresh [`TestEnv`] with a running `cofferd` of its
/// own; `shared` gives it the test binary's shared server instead (use buckets
/// of the test's own), `tls` an HTTPS server of its own.
///
/// ```ignore
/// coffer_test!(puts_and_gets, |t| { t.aws_v2(&["s3", "ls"]).assert_ok(); });
/// coffer_test!(lists, shared, |t| { t.create_bucket("lists"); });
/// ```
#[macro_export]
macro_rules! coffer_test {
    ($name:ident, |$t:ident| $body:block) => {
        #[test]
        fn $name() {
            #[allow(unused_mut)]
            let mut $t = $crate::TestEnv::new(stringify!($name));
            $body
        }
    };
    ($name:ident, shared, |$t:ident| $body:block) => {
        #[test]
        fn $name() {
            #[allow(unused_mut)]
            let mut $t = $crate::TestEnv::shared(stringify!($name));
            $body
        }
    };
    ($name:ident, tls, |$t:ident| $body:block) => {
        #[test]
        fn $name() {
            #[allow(unused_mut)]
            let mut $t = $crate::TestEnv::new_tls(stringify!($name));
            $body
        }
    };
}
