//! Conformance tests: the real `cofferd` binary driven by real S3 clients.
//!
//! One test binary so that libtest runs the slow client tests side by side.

mod aws_cli;
mod crash;
mod dedup_encryption;
mod duplicity;
mod rclone;
mod restic;
mod s3cmd;
mod shutdown;
mod startup;
mod workers;
