//! Scenario 3: ListObjectsV2 in pages (default 1,000 keys) over a bucket of many keys
//! (default 100,000): pages/s. Every pass must see every key exactly once.

use std::sync::Arc;

use bytes::Bytes;

use super::{ScenarioError, create_bucket, expect_eq, record};
use crate::pool;
use crate::results::Measured;
use crate::s3_client::ClientError;
use crate::servers::RunningServer;

#[derive(Debug, Clone)]
pub struct Params {
    pub keys: usize,
    pub page: usize,
    pub passes: usize,
    pub concurrency: usize,
    pub populate_concurrency: usize,
}

fn key(i: usize) -> String {
    // Two levels, like backup tools' `data/<xx>/<id>` layouts.
    format!("data/{:02x}/{i:08}", i % 256)
}

pub async fn run(server: &RunningServer, p: &Params) -> Result<Measured, ScenarioError> {
    let mut m = Measured::default();
    let bucket: Arc<str> = "listing".into();
    create_bucket(&server.endpoint, &bucket).await?;

    let b = bucket.clone();
    let mut populate = pool::run(
        &server.endpoint,
        server.pid(),
        p.populate_concurrency,
        p.keys,
        move |mut c, i| {
            let b = b.clone();
            async move {
                let r = c.put(&b, &key(i), Bytes::new()).await.map(|_| 1);
                (c, r)
            }
        },
    )
    .await?;
    expect_eq("keys created", populate.bytes, p.keys as u64)?;
    record(&mut m, "list.populate", &mut populate);

    let (b, keys, page) = (bucket.clone(), p.keys, p.page);
    // A server that hands out a token leading back to the start would loop forever.
    let max_pages = (keys.div_ceil(page) + 2) as u64;
    // Each operation is one full pass; its "bytes" are the pages it fetched.
    let mut passes = pool::run(
        &server.endpoint,
        server.pid(),
        p.concurrency,
        p.passes,
        move |mut c, _| {
            let b = b.clone();
            async move {
                let mut seen = 0usize;
                let mut pages = 0u64;
                let mut token: Option<String> = None;
                let r = loop {
                    match c.list_page(&b, page, token.as_deref()).await {
                        Ok(pg) => {
                            seen += pg.keys;
                            pages += 1;
                            if pg.keys > page {
                                break Err(ClientError::BadResponse(format!(
                                    "page of {} keys, asked for at most {page}",
                                    pg.keys
                                )));
                            }
                            match pg.next_token {
                                Some(_) if pages >= max_pages => {
                                    break Err(ClientError::BadResponse(format!(
                                        "listing did not end after {pages} pages"
                                    )));
                                }
                                Some(t) => token = Some(t),
                                None if seen == keys => break Ok(pages),
                                None => {
                                    break Err(ClientError::BadResponse(format!(
                                        "listing pass saw {seen} keys, bucket holds {keys}"
                                    )));
                                }
                            }
                        }
                        Err(e) => break Err(e),
                    }
                };
                (c, r)
            }
        },
    )
    .await?;
    let pages = passes.bytes;
    expect_eq(
        "pages over all passes",
        pages,
        (p.keys.div_ceil(p.page).max(1) * p.passes) as u64,
    )?;
    m.set("list.pages", pages as f64);
    m.set("list.keys_per_pass", p.keys as f64);
    m.set(
        "list.pages_per_s",
        pages as f64 / passes.elapsed.as_secs_f64().max(1e-9),
    );
    record(&mut m, "list.pass", &mut passes);
    Ok(m)
}
