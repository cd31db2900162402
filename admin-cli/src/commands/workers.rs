//! `coffer workers`: the server's background workers, their state and last error.

use serde::Deserialize;
use serde_json::Value;

use super::Context;
use crate::api::decode;
use crate::client::Subject;
use crate::error::CliError;
use crate::human::{format_count, format_scalar, format_timestamp};
use crate::output::{Align, Table};

/// One entry of `GET /v1/workers`, as the table needs it (the server's type is
/// `coffer_server::workers::WorkerStatus`; it moves to the shared API crate).
#[derive(Debug, Deserialize)]
struct Worker {
    name: String,
    #[serde(default)]
    state: Value,
    #[serde(default)]
    steps: Option<u64>,
    #[serde(default)]
    errors: Option<u64>,
    #[serde(default)]
    restarts: Option<u64>,
    #[serde(default)]
    last_success: Value,
    #[serde(default)]
    last_error: Option<String>,
    #[serde(default)]
    progress: Option<String>,
}

pub fn run(ctx: &Context) -> Result<(), CliError> {
    let answer = ctx.client.get("/v1/workers", &Subject::default())?;
    let answer = ctx.client.expect_body(answer)?;
    let workers: Vec<Worker> = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        if workers.is_empty() {
            return "no workers\n".to_owned();
        }
        let count = |n: Option<u64>| n.map(format_count).unwrap_or_else(|| "-".into());
        let mut table = Table::new(&[
            ("NAME", Align::Left),
            ("STATE", Align::Left),
            ("STEPS", Align::Right),
            ("ERRORS", Align::Right),
            ("RESTARTS", Align::Right),
            ("LAST SUCCESS", Align::Left),
            ("LAST ERROR", Align::Left),
            ("PROGRESS", Align::Left),
        ]);
        for w in &workers {
            table.row(vec![
                w.name.clone(),
                format_scalar(&w.state).replace('_', " "),
                count(w.steps),
                count(w.errors),
                count(w.restarts),
                format_timestamp(&w.last_success),
                w.last_error.clone().unwrap_or_else(|| "-".into()),
                w.progress.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        table.render()
    })
}
