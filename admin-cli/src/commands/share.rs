//! `coffer share BUCKET/KEY --expires 1h --key AKID`: a presigned GET URL for curl.

use super::Context;
use crate::api::{self, CreateShare, Share, decode};
use crate::cli::ShareArgs;
use crate::client::Subject;
use crate::duration::format_duration;
use crate::error::CliError;

pub fn run(ctx: &Context, args: ShareArgs) -> Result<(), CliError> {
    let body = api::body(&CreateShare {
        bucket: args.object.bucket.clone(),
        key: args.object.key.clone(),
        access_key_id: args.access_key_id.clone(),
        expires_in_seconds: args.expires,
    });
    let subject = Subject::both(&args.access_key_id, &args.object.bucket);
    let answer = ctx.client.post("/v1/share", Some(&body), &subject)?;
    let answer = ctx.client.expect_body(answer)?;
    let share: Share = decode(ctx.client.base(), &answer)?;
    // stdout is the URL alone, so `curl "$(coffer share …)"` works.
    ctx.emit(&answer, || format!("{}\n", share.url))?;
    if !ctx.json {
        eprintln!(
            "coffer: anyone holding this URL can read {}/{} for {}",
            args.object.bucket,
            args.object.key,
            format_duration(args.expires)
        );
    }
    Ok(())
}
