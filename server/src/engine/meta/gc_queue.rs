//! The `gc_queue` table: chunk id → when its reference count reached zero.

use redb::TableDefinition;

use super::Bin;
use super::codec::Writer;

pub(crate) const GC_QUEUE: Bin = TableDefinition::new("gc_queue");

pub(crate) fn encode_gc_entry(queued_us: i64) -> Vec<u8> {
    Writer::with_version(1).i64(queued_us).finish()
}
