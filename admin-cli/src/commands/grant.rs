//! `coffer grant` and `coffer revoke`: an access key's permissions on a bucket or prefix.

use super::Context;
use super::key::describe;
use crate::api::{self, Grant, Key, PutGrant, RemoveGrant, decode};
use crate::cli::{GrantArgs, RevokeArgs};
use crate::client::{Subject, segment};
use crate::error::CliError;
use crate::output::{Align, Table};
use crate::target::GrantTarget;

/// Grants as a table: `who` heads the first column, which names the key (a
/// bucket's grants) or the bucket (a key's grants), then prefix and permissions.
pub fn grants_table(
    who: &'static str,
    grants: &[Grant],
    who_of: impl Fn(&Grant) -> String,
) -> String {
    let mut table = Table::new(&[
        (who, Align::Left),
        ("PREFIX", Align::Left),
        ("PERMISSIONS", Align::Left),
    ]);
    for g in grants {
        let prefix = match g.prefix.as_str() {
            "" => "(all)".to_owned(),
            p => p.to_owned(),
        };
        table.row(vec![who_of(g), prefix, g.permissions()]);
    }
    table.render()
}

/// The `prefix` of a grant request: an empty prefix is left out, which the contract reads as
/// the whole bucket.
fn prefix(target: &GrantTarget) -> Option<String> {
    (!target.prefix.is_empty()).then(|| target.prefix.clone())
}

fn where_(target: &GrantTarget) -> String {
    match (target.bucket.as_str(), target.prefix.as_str()) {
        ("*", "") => "every bucket".to_owned(),
        ("*", p) => format!("prefix {p} of every bucket"),
        (b, "") => format!("bucket {b}"),
        (b, p) => format!("{b}/{p}"),
    }
}

pub fn grant(ctx: &Context, args: GrantArgs) -> Result<(), CliError> {
    let body = api::body(&PutGrant {
        bucket: args.target.bucket.clone(),
        prefix: prefix(&args.target),
        read: args.read,
        write: args.write,
        delete: args.delete,
        owner: args.owner,
        bypass_governance: args.bypass_governance,
    });
    let path = format!("/v1/keys/{}/grants", segment(&args.access_key_id));
    let subject = Subject::both(&args.access_key_id, &args.target.bucket);
    let answer = ctx.client.post(&path, Some(&body), &subject)?;
    let answer = ctx.client.expect_body(answer)?;
    let key: Key = decode(ctx.client.base(), &answer)?;
    let words: Vec<&str> = [
        (args.read, "read"),
        (args.write, "write"),
        (args.delete, "delete"),
        (args.owner, "owner"),
        (args.bypass_governance, "bypass-governance"),
    ]
    .into_iter()
    .filter_map(|(on, w)| on.then_some(w))
    .collect();
    ctx.emit(&answer, || {
        format!(
            "granted {} on {} to {}\n\n{}",
            words.join(", "),
            where_(&args.target),
            key.access_key_id,
            describe(&key)
        )
    })
}

pub fn revoke(ctx: &Context, args: RevokeArgs) -> Result<(), CliError> {
    let body = api::body(&RemoveGrant {
        bucket: args.target.bucket.clone(),
        prefix: prefix(&args.target),
    });
    let path = format!("/v1/keys/{}/grants", segment(&args.access_key_id));
    let subject = Subject::both(&args.access_key_id, &args.target.bucket);
    let answer = ctx.client.delete(&path, Some(&body), &subject)?;
    let answer = ctx.client.expect_body(answer)?;
    let key: Key = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        format!(
            "revoked the grant on {} from {}\n\n{}",
            where_(&args.target),
            key.access_key_id,
            describe(&key)
        )
    })
}
