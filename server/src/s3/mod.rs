//! The S3 front: s3s parses requests and checks SigV4; `CofferS3` maps each
//! operation onto the engine. One file per group of operations, plus the
//! pieces they share (errors, checksums, conditions, ranges, bodies).

pub mod access;
mod auth;
mod blocking;
mod body;
mod bucket_defaults;
mod buckets;
mod checksum;
mod conditional;
mod convert;
mod copy;
pub(crate) mod error;
mod host;
mod lifecycle;
mod listing;
mod multipart;
mod object_lock;
mod objects;
pub mod permissions;
mod query;
mod range;
mod range_fallback;
mod refusal;
pub mod request_limits;
mod screen;
mod service;
mod strict_auth;
mod tagging;
mod token;
mod unenforced;
mod url_encoding;
mod versioning;
pub(crate) mod xml_limit;
pub mod xml_text;

use std::sync::Arc;

use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::{S3Service, S3ServiceBuilder};

pub use self::auth::{CofferAccess, CofferAuth, Label, LabelSlot};
pub use self::error::with_default_message;
pub use self::host::DomainHost;
pub use self::refusal::Refusal;
pub use self::screen::screen;
use crate::engine::Engine;

/// The S3 implementation over the engine.
#[derive(Debug, Clone)]
pub struct CofferS3 {
    engine: Arc<Engine>,
    region: String,
}

impl CofferS3 {
    pub fn new(engine: Arc<Engine>, region: String) -> Self {
        CofferS3 { engine, region }
    }
}

/// What the S3 service needs from the configuration.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Region reported by GetBucketLocation / HeadBucket and accepted as a LocationConstraint.
    pub region: String,
    /// Base domain for virtual-host addressing; `None` = path style only.
    pub domain: Option<String>,
    /// Concurrent signed requests, in total and per access key.
    pub limits: request_limits::RequestLimitSettings,
}

/// The hyper service: SigV4 against the engine's keys, every request signed.
/// The S3 service, and its request slots (the health report reads them).
pub fn build_service(
    engine: Arc<Engine>,
    opts: &S3Options,
) -> (S3Service, Arc<request_limits::RequestLimits>) {
    // One set of slots for both services: a replayed request takes its slot
    // in the replay, never one in each.
    let limits = Arc::new(request_limits::RequestLimits::new(opts.limits));
    // The route replays requests with an unusable Range header through a
    // service of its own (no route, so no cycle and no second replay).
    let replay = builder(Arc::clone(&engine), opts, Arc::clone(&limits)).build();
    let mut main = builder(engine, opts, Arc::clone(&limits));
    main.set_route(range_fallback::IgnoreUnusableRange::new(
        replay,
        opts.region.clone(),
    ));
    (main.build(), limits)
}

fn builder(
    engine: Arc<Engine>,
    opts: &S3Options,
    limits: Arc<request_limits::RequestLimits>,
) -> S3ServiceBuilder {
    let mut builder =
        S3ServiceBuilder::new(CofferS3::new(Arc::clone(&engine), opts.region.clone()));
    let mut s3s_config = S3Config::default();
    s3s_config.xml_max_body_size = xml_limit::XML_BODY_LIMIT;
    builder.set_config(Arc::new(StaticConfigProvider::new(Arc::new(s3s_config))));
    builder.set_auth(CofferAuth::new(Arc::clone(&engine)));
    builder.set_access(access::GrantAccess::new(Arc::clone(&engine), limits));
    if let Some(domain) = &opts.domain {
        builder.set_host(DomainHost::new(domain));
    }
    builder
}
