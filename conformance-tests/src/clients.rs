//! Ready-to-run invocations of each real client (aws cli v1/v2, s3cmd, rclone, restic, duplicity),
//! configured exactly as `docs/clients/*.md` describes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::command::{CmdOutput, run_cmd};
use crate::paths;
use crate::testenv::TestEnv;

/// Generous per-command deadline: a hung client fails the test instead of the CI run.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(600);

/// Which aws cli.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsCli {
    /// Debian's `awscli` 2.x at /usr/bin/aws.
    V2,
    /// pip `awscli` 1.x in the venv.
    V1,
}

impl AwsCli {
    pub fn bin(self) -> PathBuf {
        match self {
            AwsCli::V2 => paths::aws_v2(),
            AwsCli::V1 => paths::aws_v1(),
        }
    }
}

impl TestEnv {
    /// `aws --endpoint-url <server> ARGS…`.
    pub fn aws_cmd(&self, cli: AwsCli, args: &[&str]) -> Command {
        let mut c = self.client_cmd(cli.bin());
        c.arg("--endpoint-url").arg(self.endpoint()).args(args);
        c
    }

    /// Runs the aws cli and returns what it did.
    pub fn aws(&self, cli: AwsCli, args: &[&str]) -> CmdOutput {
        run_cmd(self.aws_cmd(cli, args), CLIENT_TIMEOUT)
    }

    /// Creates a bucket with aws cli v2 and asserts success.
    pub fn create_bucket(&self, bucket: &str) {
        self.aws(AwsCli::V2, &["s3api", "create-bucket", "--bucket", bucket])
            .assert_ok();
    }

    /// Turns versioning on for a bucket with `cli` and asserts success.
    pub fn enable_versioning(&self, cli: AwsCli, bucket: &str) {
        self.aws(
            cli,
            &[
                "s3api",
                "put-bucket-versioning",
                "--bucket",
                bucket,
                "--versioning-configuration",
                "Status=Enabled",
            ],
        )
        .assert_ok();
    }

    /// Writes `home/.s3cfg` for this server and returns its path.
    pub fn s3cmd_config(&self) -> PathBuf {
        let hostport = format!("127.0.0.1:{}", self.server.port());
        let path = self.home().join(".s3cfg");
        let mut cfg = format!(
            "[default]\naccess_key = {}\nsecret_key = {}\nhost_base = {hostport}\n\
             host_bucket = {hostport}\nbucket_location = {}\nuse_https = {}\n\
             signature_v2 = False\ncheck_ssl_certificate = True\nmultipart_chunk_size_mb = 5\n",
            crate::ACCESS_KEY,
            crate::SECRET_KEY,
            crate::REGION,
            if self.server.is_tls() {
                "True"
            } else {
                "False"
            },
        );
        if let Some(ca) = self.ca_cert() {
            cfg.push_str(&format!("ca_certs_file = {}\n", ca.display()));
        }
        std::fs::write(&path, cfg).expect("write s3cmd config");
        path
    }

    /// `s3cmd -c <cfg> ARGS…`.
    pub fn s3cmd(&self, args: &[&str]) -> CmdOutput {
        let cfg = self.s3cmd_config();
        let mut c = self.client_cmd("s3cmd");
        c.arg("-c").arg(cfg).args(args);
        run_cmd(c, CLIENT_TIMEOUT)
    }

    /// Writes an rclone config with a remote called `coffer` and returns its path.
    pub fn rclone_config(&self) -> PathBuf {
        let path = self.home().join("rclone.conf");
        let cfg = format!(
            "[coffer]\ntype = s3\nprovider = Other\naccess_key_id = {}\nsecret_access_key = {}\n\
             endpoint = {}\nregion = {}\nforce_path_style = true\n",
            crate::ACCESS_KEY,
            crate::SECRET_KEY,
            self.endpoint(),
            crate::REGION
        );
        std::fs::write(&path, cfg).expect("write rclone config");
        path
    }

    /// `rclone --config <cfg> ARGS…` (remote `coffer:`).
    pub fn rclone(&self, args: &[&str]) -> CmdOutput {
        let cfg = self.rclone_config();
        let mut c = self.client_cmd("rclone");
        // rclone 1.60 fails on AWS_CA_BUNDLE pointing at a bundle it cannot use; it needs none.
        c.env_remove("AWS_CA_BUNDLE")
            .arg("--config")
            .arg(cfg)
            .args(args);
        run_cmd(c, CLIENT_TIMEOUT)
    }

    /// `restic ARGS…` against `s3:<endpoint>/<bucket>/<prefix>`.
    pub fn restic(&self, repo: &str, args: &[&str]) -> CmdOutput {
        let mut c = self.client_cmd("restic");
        c.env(
            "RESTIC_REPOSITORY",
            format!("s3:{}/{repo}", self.endpoint()),
        )
        .env("RESTIC_PASSWORD", "coffer-test-restic-password")
        .env("RESTIC_CACHE_DIR", self.root().join("restic-cache"))
        .args(args);
        if let Some(ca) = self.ca_cert() {
            c.arg("--cacert").arg(ca);
        }
        run_cmd(c, CLIENT_TIMEOUT)
    }

    /// `duplicity ARGS… ` with the boto3 backend options pointing at this server
    /// (`--s3-endpoint-url`, `--s3-region-name`), a temp archive dir and a passphrase.
    pub fn duplicity(&self, args: &[&str]) -> CmdOutput {
        let mut c = self.client_cmd("duplicity");
        let gnupg = self.home().join(".gnupg");
        let _ = std::fs::create_dir_all(&gnupg);
        set_private(&gnupg);
        c.env("PASSPHRASE", "coffer-test-duplicity-passphrase")
            .env("GNUPGHOME", &gnupg)
            .args(args)
            .arg("--s3-endpoint-url")
            .arg(self.endpoint())
            .arg("--s3-region-name")
            .arg(crate::REGION)
            .arg("--archive-dir")
            .arg(self.root().join("duplicity-archive"));
        run_cmd(c, CLIENT_TIMEOUT)
    }
}

fn set_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}
