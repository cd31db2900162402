//! `coffer workers`: the server's background workers, their state and last error.

use super::Context;
use crate::api::{WorkerState, WorkerStatus, decode};
use crate::client::Subject;
use crate::error::CliError;
use crate::human::{format_count, format_timestamp};
use crate::output::{Align, Table};

pub fn run(ctx: &Context) -> Result<(), CliError> {
    let answer = ctx.client.get("/v1/workers", &Subject::default())?;
    let answer = ctx.client.expect_body(answer)?;
    let workers: Vec<WorkerStatus> = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        if workers.is_empty() {
            return "no workers\n".to_owned();
        }
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
                state_name(w.state).to_owned(),
                format_count(w.steps),
                format_count(w.errors),
                format_count(w.restarts),
                format_timestamp(w.last_success.as_ref()),
                w.last_error.clone().unwrap_or_else(|| "-".into()),
                w.progress.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        table.render()
    })
}

fn state_name(state: WorkerState) -> &'static str {
    match state {
        WorkerState::Idle => "idle",
        WorkerState::Running => "running",
        WorkerState::BackingOff => "backing off",
        WorkerState::Stopped => "stopped",
    }
}
