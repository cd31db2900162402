//! The admin API of a running test server, driven with the `coffer` CLI's own
//! client (`coffer_admin::client`), so tests see the server exactly as the CLI
//! does; and [`coffer_cmd`], the real `coffer` binary pointed at a server.

use std::path::Path;
use std::process::Command;

pub use coffer_admin::client::ApiError;
use coffer_admin::client::{AdminClient, Subject};
use serde_json::{Value, json};

use crate::credentials::Key;
use crate::paths;

/// The admin listener of a server and the token it is driven with.
#[derive(Debug)]
pub struct Admin {
    pub url: String,
    /// `None` sends no `Authorization` header.
    pub token: Option<String>,
    client: AdminClient,
}

impl Admin {
    pub fn new(url: &str, token: Option<&str>) -> Admin {
        Admin {
            url: url.to_owned(),
            token: token.map(str::to_owned),
            client: AdminClient::new(url, token.map(str::to_owned)),
        }
    }

    /// The same listener with another token (or none).
    pub fn with_token(&self, token: Option<&str>) -> Admin {
        Admin::new(&self.url, token)
    }

    /// The CLI's client itself, for what the helpers here do not cover.
    pub fn client(&self) -> &AdminClient {
        &self.client
    }

    /// One request; the CLI's reading of the answer (`Ok(None)` for a success
    /// without a body, an [`ApiError`] with the status and code otherwise).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, ApiError> {
        let subject = Subject::default();
        match method {
            "GET" => self.client.get(path, &subject),
            "POST" => self.client.post(path, body, &subject),
            "PUT" => self.client.put(path, body, &subject),
            "DELETE" => self.client.delete(path, body, &subject),
            other => panic!("the admin API has no {other} requests"),
        }
    }

    /// Asserts a success with a JSON body and returns it.
    #[track_caller]
    pub fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        match self.call(method, path, body) {
            Ok(Some(v)) => v,
            Ok(None) => panic!("{method} {path}: a success without a body"),
            Err(e) => panic!("{method} {path}: {e} ({e:?})"),
        }
    }

    /// Asserts a refusal and returns it.
    #[track_caller]
    pub fn refused(&self, method: &str, path: &str, body: Option<&Value>) -> ApiError {
        match self.call(method, path, body) {
            Ok(v) => panic!("{method} {path} succeeded: {v:?}"),
            Err(e) => e,
        }
    }

    pub fn create_bucket(&self, name: &str) {
        self.ok("POST", "/v1/buckets", Some(&json!({ "name": name })));
    }

    /// A new key with the given grants `(bucket, prefix, "rwdo" letters)`.
    pub fn create_key(&self, name: &str, grants: &[(&str, &str, &str)]) -> Key {
        let v = self.ok("POST", "/v1/keys", Some(&json!({ "name": name })));
        let key = Key {
            id: v["access_key_id"].as_str().expect("id").to_owned(),
            secret: v["secret_access_key"].as_str().expect("secret").to_owned(),
        };
        for (bucket, prefix, perms) in grants {
            self.grant(&key.id, bucket, prefix, perms);
        }
        key
    }

    pub fn grant(&self, id: &str, bucket: &str, prefix: &str, perms: &str) {
        self.ok(
            "POST",
            &format!("/v1/keys/{id}/grants"),
            Some(&json!({
                "bucket": bucket, "prefix": prefix,
                "read": perms.contains('r'), "write": perms.contains('w'),
                "delete": perms.contains('d'), "owner": perms.contains('o'),
            })),
        );
    }
}

/// The real `coffer` binary, built next to `cofferd`
/// (`cargo build -p coffer-admin --bins`), with a scrubbed environment: PATH,
/// `HOME` = `home` (so no config file of the host is read) and nothing else.
pub fn coffer_cmd(home: &Path) -> Command {
    let bin = paths::coffer_bin();
    assert!(
        bin.exists(),
        "coffer binary not found at {} (build it with `cargo build -p coffer-admin --bins`)",
        bin.display()
    );
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", paths::CLIENT_PATH)
        .env("HOME", home)
        .env("LANG", "C.UTF-8");
    c
}
