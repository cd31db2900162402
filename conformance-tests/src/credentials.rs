//! The credentials every test server starts with, in one place: the root key the
//! kit passes as `COFFER_ROOT_ACCESS_KEY` / `COFFER_ROOT_SECRET_KEY` and the region.
//! The Python harness (`python/coffer_harness.py`) repeats these values; a unit
//! test below keeps the two in step.

/// Root access key id every test server is started with.
pub const ACCESS_KEY: &str = "COFFERTESTROOTKEY001";
/// Root secret every test server is started with.
pub const SECRET_KEY: &str = "cofferTestRootSecret0000000000000000000001";
/// Region every test server reports.
pub const REGION: &str = "us-east-1";

/// An S3 access key and its secret, as a test signs with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

impl Key {
    /// The root key of every test server.
    pub fn root() -> Key {
        Key {
            id: ACCESS_KEY.to_owned(),
            secret: SECRET_KEY.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_harness_uses_the_same_credentials() {
        let py = include_str!("../python/coffer_harness.py");
        for (name, value) in [
            ("ACCESS_KEY", ACCESS_KEY),
            ("SECRET_KEY", SECRET_KEY),
            ("REGION", REGION),
        ] {
            assert!(
                py.contains(&format!("{name} = \"{value}\"")),
                "coffer_harness.py: {name} differs from credentials.rs"
            );
        }
    }
}
