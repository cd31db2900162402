//! `coffer share BUCKET/KEY --expires 1h --key AKID`: a presigned GET URL for curl.

use serde_json::json;

use super::Context;
use crate::api::{Share, decode};
use crate::cli::ShareArgs;
use crate::client::Subject;
use crate::duration::format_duration;
use crate::error::CliError;

pub fn run(ctx: &Context, args: ShareArgs) -> Result<(), CliError> {
    let body = json!({
        "bucket": args.object.bucket,
        "key": args.object.key,
        "access_key_id": args.access_key_id,
        "expires_in_seconds": args.expires,
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
