//! `coffer-server`: the Coffer daemon as a library, so tests and the bench can
//! drive it in-process; `cofferd` (src/main.rs) is a thin binary over it.

pub mod admin;
pub mod app;
pub mod backend;
pub mod blocking_pool;
pub mod config;
pub mod engine;
pub mod file_modes;
pub mod http;
pub mod malloc_arenas;
pub mod s3;
pub mod sigv4;
pub mod startup_lines;
pub mod workers;
