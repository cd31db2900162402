//! Puts every server in the same page-cache state before its run.
//!
//! On the development VM, guest memory the kernel has never used is slow to
//! hand out (the host backs it lazily): writes that grow the page cache into
//! it ran at about 350 MB/s (`dd` to a file), writes that reuse pages freed a
//! moment earlier at 4–5 GB/s. Servers run one after another, and each one's
//! data directory is deleted after its turn, so every server but the first
//! wrote into freshly freed pages: the same cofferd measured 210 MB/s large
//! PUT when it ran first and 375 MB/s when it ran after s3s-fs. Writing and
//! deleting a scratch file as large as the scenario's writes before each
//! server gives all of them the second case.

use std::io::Write;
use std::path::Path;

const NAME: &str = ".page-cache-warmup";
const BLOCK: usize = 8 << 20;

/// Writes `bytes` of zeros to a scratch file in `dir`, then deletes it (no
/// fsync: the pages are freed, not written back).
pub fn warm(dir: &Path, bytes: u64) -> std::io::Result<()> {
    if bytes == 0 {
        return Ok(());
    }
    let path = dir.join(NAME);
    let result = (|| {
        let mut f = std::fs::File::create(&path)?;
        let block = vec![0u8; BLOCK];
        let mut left = bytes;
        while left > 0 {
            let n = usize::try_from(left.min(BLOCK as u64)).unwrap_or(BLOCK);
            f.write_all(&block[..n])?;
            left -= n as u64;
        }
        Ok(())
    })();
    let removed = std::fs::remove_file(&path);
    result.and(removed)
}
