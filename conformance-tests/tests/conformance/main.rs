//! Conformance tests: the real `cofferd` binary driven by real S3 clients.
//!
//! One test binary so that libtest runs the slow client tests side by side, and
//! so that the tests declared `shared` use one cofferd between them (a bucket
//! each); crash, restart, shutdown and start-up tests, and those that measure the
//! server's data dir or memory, start their own.

mod aws_cli;
mod crash;
mod dedup_encryption;
mod duplicity;
mod lifecycle_cli;
mod rclone;
mod restic;
mod retention_cli;
mod s3cmd;
mod shutdown;
mod startup;
mod workers;
