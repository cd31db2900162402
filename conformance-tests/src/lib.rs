//! Test harness: starts the real `cofferd` binary and drives real S3 clients against it.
