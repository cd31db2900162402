//! `coffer bucket create|list|info|delete`.

use super::Context;
use super::grant::grants_table;
use crate::api::{self, Bucket, CreateBucket, decode};
use crate::cli::BucketCommand;
use crate::client::{Subject, segment};
use crate::error::CliError;
use crate::human::{format_bytes, format_count, format_timestamp, format_versioning};
use crate::output::{self, Align, Table};

pub fn run(ctx: &Context, cmd: BucketCommand) -> Result<(), CliError> {
    match cmd {
        BucketCommand::Create { name } => create(ctx, &name),
        BucketCommand::List => list(ctx),
        BucketCommand::Info { name } => info(ctx, &name),
        BucketCommand::Delete { name } => delete(ctx, &name),
    }
}

fn create(ctx: &Context, name: &str) -> Result<(), CliError> {
    let answer = ctx.client.post(
        "/v1/buckets",
        Some(&api::body(&CreateBucket {
            name: name.to_owned(),
        })),
        &Subject::bucket(name),
    )?;
    let answer = ctx.client.expect_body(answer)?;
    let bucket: Bucket = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || format!("created bucket {}\n", bucket.name))
}

fn list(ctx: &Context) -> Result<(), CliError> {
    let answer = ctx.client.get("/v1/buckets", &Subject::default())?;
    let answer = ctx.client.expect_body(answer)?;
    let buckets: Vec<Bucket> = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        if buckets.is_empty() {
            return "no buckets\n".to_owned();
        }
        let mut table = Table::new(&[
            ("NAME", Align::Left),
            ("CREATED", Align::Left),
            ("VERSIONING", Align::Left),
            ("OBJECTS", Align::Right),
            ("SIZE", Align::Right),
        ]);
        for b in &buckets {
            table.row(vec![
                b.name.clone(),
                format_timestamp(b.created.as_ref()),
                format_versioning(b.versioning),
                b.objects.map(format_count).unwrap_or_else(|| "-".into()),
                b.logical_bytes
                    .map(format_bytes)
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        table.render()
    })
}

fn info(ctx: &Context, name: &str) -> Result<(), CliError> {
    let path = format!("/v1/buckets/{}", segment(name));
    let answer = ctx.client.get(&path, &Subject::bucket(name))?;
    let answer = ctx.client.expect_body(answer)?;
    let bucket: Bucket = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        let mut text = output::fields(&[
            ("bucket", bucket.name.clone()),
            ("created", format_timestamp(bucket.created.as_ref())),
            ("versioning", format_versioning(bucket.versioning)),
            (
                "objects",
                bucket
                    .objects
                    .map(format_count)
                    .unwrap_or_else(|| "-".into()),
            ),
            (
                "size",
                bucket
                    .logical_bytes
                    .map(|b| format!("{} ({} bytes)", format_bytes(b), format_count(b)))
                    .unwrap_or_else(|| "-".into()),
            ),
        ]);
        text.push('\n');
        let grants = bucket.grants.as_deref().unwrap_or_default();
        if grants.is_empty() {
            text.push_str("no grants (only admin keys can use this bucket)\n");
        } else {
            text.push_str(&grants_table("ACCESS KEY ID", grants, |g| {
                g.access_key_id.clone().unwrap_or_else(|| "-".into())
            }));
        }
        text
    })
}

fn delete(ctx: &Context, name: &str) -> Result<(), CliError> {
    let path = format!("/v1/buckets/{}", segment(name));
    ctx.client.delete(&path, None, &Subject::bucket(name))?;
    // 204 has nothing to print as JSON; the exit code is the answer for scripts.
    if !ctx.json {
        output::print(&format!("deleted bucket {name}\n"))?;
    }
    Ok(())
}
