//! A configured secret (admin token, root secret key): readable by the code
//! that needs it, never by `Debug`, logs or `--print-config`.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// What a secret shows wherever a config is displayed.
pub const REDACTED: &str = "<redacted>";

/// A secret that never shows up in `Debug` output, logs or serialised config.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Serialising a config only ever serves to show it (`--print-config`), so a
/// secret serialises as a placeholder: no code path can print the real value
/// by serialising the whole config.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}
