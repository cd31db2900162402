//! `coffer status`: server health, buckets, objects, logical vs stored bytes, dedup ratio.

use serde_json::Value;

use super::Context;
use crate::api::{Health, Status, decode};
use crate::client::{AdminClient, Subject};
use crate::duration::format_duration;
use crate::error::CliError;
use crate::human::{format_bytes, format_count, format_ratio};
use crate::output;

pub fn run(ctx: &Context) -> Result<(), CliError> {
    // Health first and without the token: it tells "server down" apart from "token wrong".
    let health_answer =
        AdminClient::new(ctx.client.base(), None).get("/v1/health", &Subject::default())?;
    let health_answer = ctx.client.expect_body(health_answer)?;
    let health: Health = decode(ctx.client.base(), &health_answer)?;
    let answer = ctx.client.get("/v1/status", &Subject::default())?;
    let mut answer = ctx.client.expect_body(answer)?;
    let status: Status = decode(ctx.client.base(), &answer)?;
    // --json is /v1/status as sent, plus "health" from /v1/health (the one field it adds).
    if let Value::Object(map) = &mut answer {
        map.insert("health".into(), Value::String(health.status.clone()));
    }
    ctx.emit(&answer, || {
        let count = |n: Option<u64>| n.map(format_count).unwrap_or_else(|| "-".into());
        let bytes = |n: Option<u64>| {
            n.map(|b| format!("{} ({} bytes)", format_bytes(b), format_count(b)))
                .unwrap_or_else(|| "-".into())
        };
        let version = status
            .version
            .clone()
            .or_else(|| health.version.clone())
            .unwrap_or_else(|| "?".into());
        let uptime = status
            .uptime_seconds
            .map(|s| format!(", up {}", format_duration(s)))
            .unwrap_or_default();
        output::fields(&[
            ("server", ctx.client.base().to_owned()),
            (
                "health",
                format!("{} (cofferd {version}{uptime})", health.status),
            ),
            ("buckets", count(status.buckets)),
            ("objects", count(status.objects)),
            ("versions", count(status.versions)),
            ("logical size", bytes(status.logical_bytes)),
            ("stored size", bytes(status.stored_bytes)),
            (
                "dedup ratio",
                status
                    .dedup_ratio
                    .map(format_ratio)
                    .unwrap_or_else(|| "-".into()),
            ),
            ("packs", count(status.packs)),
            ("chunks", count(status.chunks)),
        ])
    })
}
