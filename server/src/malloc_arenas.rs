//! Caps glibc's malloc arenas, which otherwise hold on to cofferd's freed
//! chunk buffers and push its peak RSS past the 256 MiB budget.
//!
//! glibc gives every thread that contends for malloc an arena of its own, up
//! to eight per core, and an arena returns memory to the system only from its
//! top. Chunk buffers (up to 4 MiB plain, as much again sealed) are allocated
//! on one thread of the blocking pool and freed on another, so each arena
//! keeps its own high-water mark of them. `coffer-bench large` (4 streams of
//! 64 MiB objects, PUT then GET) measured peak RSS at 413 MiB with glibc's
//! default, 183 MiB with two arenas (same MB/s), 300 MiB with jemalloc and
//! 589 MiB with mimalloc, so the fix is this one call rather than another
//! allocator.
//!
//! Freed memory in the middle of an arena is not returned either until
//! `malloc_trim` is called: after a burst of unread GETs was closed, 1.4 GB
//! stayed resident for minutes. [`trim`] is called by the engine's
//! `memory-trim` worker after enough GET data was released (at most once a
//! second), which gives that memory back without touching the allocations
//! of the hot path.
//!
//! This is the crate's only `unsafe`: two FFI calls. `MALLOC_ARENA_MAX` in
//! the environment still wins over [`cap`].

#![allow(unsafe_code)]

/// Limits malloc to one arena per core (at least 2, at most 8). Call first
/// thing in `main`. A no-op off glibc.
pub fn cap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return;
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores.clamp(2, 8)).unwrap_or(2);
        // SAFETY: mallopt only sets an allocator parameter; it takes no
        // pointers, and is called before other threads can be allocating.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// Returns free memory in every arena to the system (`malloc_trim(0)`).
/// Takes a few milliseconds on a large heap: call it off the async reactor.
/// A no-op off glibc.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes no pointers and only releases memory
        // that is free; glibc locks each arena while it walks it, so it is
        // safe to call while other threads allocate.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
