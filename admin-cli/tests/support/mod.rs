//! Shared by the `coffer` integration tests: the real binary of this build
//! (`run`), a real cofferd to point it at (`real`, started by the test kit), and
//! a fake admin API (`fake_admin`) kept only for what a real server cannot be made
//! to answer (see the top of that file).

// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod fake_admin;
pub mod real;
pub mod run;
