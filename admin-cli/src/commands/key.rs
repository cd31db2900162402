//! `coffer key create|list|info|disable|enable|delete`.

use time::OffsetDateTime;

use super::Context;
use super::grant::grants_table;
use crate::api::{self, CreateKey, Key, Timestamp, decode};
use crate::cli::KeyCommand;
use crate::client::{Subject, segment};
use crate::duration::format_duration;
use crate::error::CliError;
use crate::human::format_timestamp;
use crate::output::{self, Align, Table};

pub fn run(ctx: &Context, cmd: KeyCommand) -> Result<(), CliError> {
    match cmd {
        KeyCommand::Create { name, expires } => create(ctx, &name, expires),
        KeyCommand::List => list(ctx),
        KeyCommand::Info { access_key_id } => info(ctx, &access_key_id),
        KeyCommand::Disable { access_key_id } => switch(ctx, &access_key_id, false),
        KeyCommand::Enable { access_key_id } => switch(ctx, &access_key_id, true),
        KeyCommand::Delete { access_key_id } => delete(ctx, &access_key_id),
    }
}

fn create(ctx: &Context, name: &str, expires_in: Option<u64>) -> Result<(), CliError> {
    let body = api::body(&CreateKey {
        name: name.to_owned(),
        // The API takes i64 seconds; past that (2.9e11 years) saturate rather than wrap.
        expires_in_seconds: expires_in.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
    });
    let answer = ctx
        .client
        .post("/v1/keys", Some(&body), &Subject::default())?;
    let answer = ctx.client.expect_body(answer)?;
    let key: Key = decode(ctx.client.base(), &answer)?;
    let secret = key.secret_access_key.clone().unwrap_or_default();
    if secret.is_empty() {
        return Err(crate::client::ApiError::BadAnswer {
            url: ctx.client.base().to_owned(),
            reason: "the new key came without its secret_access_key".to_owned(),
        }
        .into());
    }
    ctx.emit(&answer, || {
        output::fields(&[
            ("access key id", key.access_key_id.clone()),
            ("secret access key", secret.clone()),
            ("name", key.name.clone()),
            ("expires", expiry(key.expires.as_ref(), expires_in)),
        ])
    })?;
    // On stderr so that stdout stays the key alone for scripts, yet a person always sees it.
    eprintln!(
        "coffer: save the secret access key now: it is shown only this once and cannot be shown again"
    );
    if !key.is_admin && key.grants.is_empty() {
        eprintln!(
            "coffer: the key can do nothing yet; give it access with `coffer grant {} BUCKET[/PREFIX] --read`",
            key.access_key_id
        );
    }
    Ok(())
}

fn expiry(expires: Option<&Timestamp>, requested: Option<u64>) -> String {
    match (expires, requested) {
        (None, None) => "never".to_owned(),
        (None, Some(s)) => format!("in {}", format_duration(s)),
        (v @ Some(_), Some(s)) => format!("{} (in {})", format_timestamp(v), format_duration(s)),
        (v @ Some(_), None) => format_timestamp(v),
    }
}

/// `never` for a key without expiry.
fn expires(key: &Key) -> String {
    match key.expires {
        None => "never".to_owned(),
        ref v => format_timestamp(v.as_ref()),
    }
}

/// `enabled`, `disabled` or `expired` (expiry judged by this machine's clock).
fn state(key: &Key) -> &'static str {
    if !key.enabled {
        return "disabled";
    }
    match key.expires.as_ref().and_then(Timestamp::instant) {
        Some(t) if t <= OffsetDateTime::now_utc() => "expired",
        _ => "enabled",
    }
}

/// `backups:rw--, dumps/latest/:r---` — a key's grants on one line.
pub fn grants_summary(key: &Key) -> String {
    if key.is_admin {
        return "everything (admin)".to_owned();
    }
    if key.grants.is_empty() {
        return "-".to_owned();
    }
    key.grants
        .iter()
        .map(|g| {
            let bucket = if g.bucket.is_empty() { "?" } else { &g.bucket };
            let sep = if g.prefix.is_empty() { "" } else { "/" };
            format!("{bucket}{sep}{}:{}", g.prefix, g.letters())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `label: value` block and grants table of `key info` (also shown after grant/revoke).
pub fn describe(key: &Key) -> String {
    let mut text = output::fields(&[
        ("access key id", key.access_key_id.clone()),
        ("name", key.name.clone()),
        ("created", format_timestamp(key.created.as_ref())),
        ("expires", expires(key)),
        ("state", state(key).to_owned()),
        (
            "admin",
            if key.is_admin {
                "yes (all permissions on every bucket)".into()
            } else {
                "no".into()
            },
        ),
    ]);
    text.push('\n');
    if key.grants.is_empty() {
        text.push_str(if key.is_admin {
            "no grants (none needed)\n"
        } else {
            "no grants: the key can do nothing\n"
        });
        return text;
    }
    text.push_str(&grants_table("BUCKET", &key.grants, |g| {
        if g.bucket.is_empty() {
            "?".to_owned()
        } else {
            g.bucket.clone()
        }
    }));
    text
}

fn list(ctx: &Context) -> Result<(), CliError> {
    let answer = ctx.client.get("/v1/keys", &Subject::default())?;
    let answer = ctx.client.expect_body(answer)?;
    let keys: Vec<Key> = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        if keys.is_empty() {
            return "no access keys\n".to_owned();
        }
        let mut table = Table::new(&[
            ("ACCESS KEY ID", Align::Left),
            ("NAME", Align::Left),
            ("CREATED", Align::Left),
            ("EXPIRES", Align::Left),
            ("STATE", Align::Left),
            ("GRANTS (r=read w=write d=delete o=owner)", Align::Left),
        ]);
        for k in &keys {
            table.row(vec![
                k.access_key_id.clone(),
                k.name.clone(),
                format_timestamp(k.created.as_ref()),
                expires(k),
                state(k).to_owned(),
                grants_summary(k),
            ]);
        }
        table.render()
    })
}

fn info(ctx: &Context, id: &str) -> Result<(), CliError> {
    let path = format!("/v1/keys/{}", segment(id));
    let answer = ctx.client.get(&path, &Subject::access_key(id))?;
    let answer = ctx.client.expect_body(answer)?;
    let key: Key = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || describe(&key))
}

fn switch(ctx: &Context, id: &str, enable: bool) -> Result<(), CliError> {
    let verb = if enable { "enable" } else { "disable" };
    let path = format!("/v1/keys/{}/{verb}", segment(id));
    let answer = ctx.client.post(&path, None, &Subject::access_key(id))?;
    let answer = ctx.client.expect_body(answer)?;
    let key: Key = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        format!(
            "{verb}d access key {} ({})\n",
            key.access_key_id,
            state(&key)
        )
    })
}

fn delete(ctx: &Context, id: &str) -> Result<(), CliError> {
    let path = format!("/v1/keys/{}", segment(id));
    ctx.client.delete(&path, None, &Subject::access_key(id))?;
    if !ctx.json {
        output::print(&format!("deleted access key {id}\n"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn key(v: Value) -> Key {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn state_follows_enabled_and_expiry() {
        assert_eq!(
            state(&key(json!({"access_key_id":"a","enabled":false}))),
            "disabled"
        );
        assert_eq!(
            state(&key(
                json!({"access_key_id":"a","expires":"2000-01-01T00:00:00Z"})
            )),
            "expired"
        );
        assert_eq!(
            state(&key(
                json!({"access_key_id":"a","expires":"2999-01-01T00:00:00Z"})
            )),
            "enabled"
        );
        assert_eq!(
            state(&key(json!({"access_key_id":"a","expires":null}))),
            "enabled"
        );
    }

    #[test]
    fn grants_summary_is_compact() {
        let k = key(json!({"access_key_id":"a","grants":[
            {"bucket":"backups","read":true,"write":true},
            {"bucket":"dumps","prefix":"latest/","read":true}
        ]}));
        assert_eq!(grants_summary(&k), "backups:rw--, dumps/latest/:r---");
        assert_eq!(
            grants_summary(&key(json!({"access_key_id":"a","is_admin":true}))),
            "everything (admin)"
        );
    }
}
