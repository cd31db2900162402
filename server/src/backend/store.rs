//! The [`Store`] trait: the repository's objects by kind and id.
//!
//! An object's name is known when its write starts, so a remote store can stream it to
//! its final key. A write is either streamed ([`Store::put_stream`], bytes appended and
//! made visible only by [`ObjectWriter::finish`]) or staged ([`Store::put`], a whole
//! body in memory); in both cases no reader ever sees a half-written object, and a
//! writer dropped without `finish` leaves nothing under the name. Listing is a paged
//! stream so a store with millions of packs is never held in one `Vec`.
//!
//! The trait is object-safe: wrappers (retry, fault injection, later failover and
//! metrics) take an `Arc<dyn Store>` and are stores themselves.

use std::fmt::Debug;
use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use super::error::StoreResult;
use super::kind::{ObjectId, ObjectKind};

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub id: ObjectId,
    /// Length in bytes.
    pub len: u64,
}

/// Objects per listing page unless a caller asks otherwise.
pub const LIST_PAGE: usize = 1000;

/// A store of repository objects.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// The store's name in the configuration; recorded with every pack it holds.
    fn name(&self) -> &str;

    /// Starts writing `kind`/`id`; the object becomes visible (replacing any object of
    /// that name) only when the writer's `finish` returns `Ok`, and is durable then.
    async fn put_stream(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> StoreResult<Box<dyn ObjectWriter>>;

    /// Stores a whole body under `kind`/`id` (durable and visible on `Ok`). Safe to
    /// repeat: an object is replaced as a whole, never appended to.
    async fn put(&self, kind: ObjectKind, id: &ObjectId, body: Bytes) -> StoreResult<()> {
        let mut w = self.put_stream(kind, id).await?;
        if let Err(e) = w.write(body).await {
            w.abort().await;
            return Err(e);
        }
        w.finish().await
    }

    /// The object's bytes, or exactly `range` of them (an error if the range passes the
    /// end of the object).
    async fn get(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
        range: Option<Range<u64>>,
    ) -> StoreResult<Bytes>;

    /// The object's length in bytes.
    async fn head(&self, kind: ObjectKind, id: &ObjectId) -> StoreResult<u64>;

    /// Up to `limit` objects of `kind` whose id sorts after `after` (all when `None`), in
    /// ascending id order. An empty page means the listing is complete.
    async fn list_page(
        &self,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>>;

    /// Removes the objects; ids that do not exist are not an error. On `Ok`, the removals
    /// are durable.
    async fn delete(&self, kind: ObjectKind, ids: &[ObjectId]) -> StoreResult<()>;
}

/// An object being written under its final name. Dropping it without `finish` must not
/// leave the object behind (implementations clean up at once, or at the next open).
#[async_trait]
pub trait ObjectWriter: Send + Debug {
    /// Appends bytes.
    async fn write(&mut self, data: Bytes) -> StoreResult<()>;
    /// Bytes appended so far.
    fn written(&self) -> u64;
    /// Makes the object durable and visible; `Ok` means it survives a crash.
    async fn finish(self: Box<Self>) -> StoreResult<()>;
    /// Discards everything written.
    async fn abort(self: Box<Self>);
}

impl dyn Store + '_ {
    /// Every object of `kind` as a stream of pages of `page` objects (the last page may
    /// be shorter; an empty listing yields no page). Each page is one
    /// [`Store::list_page`] call, so a retry wrapper retries pages, not the listing.
    pub fn list(
        &self,
        kind: ObjectKind,
        page: usize,
    ) -> BoxStream<'_, StoreResult<Vec<ObjectInfo>>> {
        let page = page.max(1);
        Box::pin(futures::stream::try_unfold(
            (None::<ObjectId>, false),
            move |(after, done)| async move {
                if done {
                    return Ok(None);
                }
                let items = self.list_page(kind, after.as_ref(), page).await?;
                if items.is_empty() {
                    return Ok(None);
                }
                let last = items.last().map(|o| o.id.clone());
                let done = items.len() < page;
                Ok(Some((items, (last, done))))
            },
        ))
    }

    /// Every object of `kind`, collected (tests and small kinds such as key slots).
    pub async fn list_all(&self, kind: ObjectKind) -> StoreResult<Vec<ObjectInfo>> {
        use futures::TryStreamExt;
        let pages: Vec<Vec<ObjectInfo>> = self.list(kind, LIST_PAGE).try_collect().await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// The object's bytes, or `None` when it does not exist.
    pub async fn get_if_exists(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> StoreResult<Option<Bytes>> {
        match self.get(kind, id, None).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}
