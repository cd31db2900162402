//! Shared by the `coffer` integration tests: a fake admin API and a way to run the real binary.
//!
//! These tests check the CLI against the admin API *contract* (notes/admin_api.md), answered by a
//! small fake server. End-to-end tests against the real cofferd come with the server side of the
//! admin API (server/src/admin/), which is not written yet.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod fake_admin;
pub mod run;
