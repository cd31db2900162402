//! Test harness: starts the real `cofferd` binary and drives real S3 clients against it.
//!
//! Every test gets its own [`TestEnv`]: a temp dir, a `cofferd` on a free port with
//! its own data dir and fixed root credentials, and helpers that run client
//! programs with an environment that points only at that server.

pub mod clients;
pub mod command;
pub mod files;
pub mod paths;
pub mod server;
pub mod testenv;
pub mod tls;

pub use command::{CmdOutput, run_cmd};
pub use server::{CofferServer, ServerOptions};
pub use testenv::TestEnv;

/// Root access key id every test server is started with.
pub const ACCESS_KEY: &str = "COFFERTESTROOTKEY001";
/// Root secret every test server is started with.
pub const SECRET_KEY: &str = "cofferTestRootSecret0000000000000000000001";
/// Region every test server reports.
pub const REGION: &str = "us-east-1";

/// Declares a test that gets a fresh [`TestEnv`] with a running `cofferd`.
///
/// ```ignore
/// coffer_test!(puts_and_gets, |t| { t.aws_v2(&["s3", "ls"]).assert_ok(); });
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
    ($name:ident, tls, |$t:ident| $body:block) => {
        #[test]
        fn $name() {
            #[allow(unused_mut)]
            let mut $t = $crate::TestEnv::new_tls(stringify!($name));
            $body
        }
    };
}
