//! Owner-only modes for everything cofferd keeps on local disk: directories
//! 0700, files 0600. The data directory holds `meta.redb` (bucket and object
//! names, user metadata in clear today: see docs/security.md), the master key
//! and the admin token; a local store holds the sealed packs and journal. None
//! of it is for other users of the machine.
//!
//! New files get these modes where they are created (`backend/local.rs`, the
//! metadata store, key and token files). [`tighten`] fixes what an earlier
//! version or an operator's copy left wider, once at start.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of every directory cofferd creates or keeps.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file cofferd creates or keeps.
pub const FILE_MODE: u32 = 0o600;

/// Why the modes could not be checked or set.
#[derive(Debug, thiserror::Error)]
#[error("setting owner-only modes under {path}", path = .path.display())]
pub struct FileModeError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> FileModeError + '_ {
    move |source| FileModeError {
        path: path.to_path_buf(),
        source,
    }
}

/// What [`tighten`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tightened {
    pub dirs: usize,
    pub files: usize,
}

impl Tightened {
    pub fn is_empty(&self) -> bool {
        self.dirs == 0 && self.files == 0
    }
}

/// Creates `dir` and its missing parents with [`DIR_MODE`]. Parents that
/// exist keep their mode (they may be `/var/lib` or the like).
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Options that create a file with [`FILE_MODE`] (the mode applies only when
/// the file is created).
pub fn new_file_options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// Removes group and other permissions from `root` and from everything
/// beneath it: directories to [`DIR_MODE`], files to [`FILE_MODE`]. Symlinks
/// are neither followed nor changed. A missing `root` is left missing (it is
/// created owner-only when it is first needed). Returns what it changed, for
/// the one log line at start.
pub fn tighten(root: &Path) -> Result<Tightened, FileModeError> {
    if !root.exists() {
        return Ok(Tightened::default());
    }
    let mut changed = Tightened::default();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if set_mode(&dir, DIR_MODE)? {
            changed.dirs += 1;
        }
        for entry in std::fs::read_dir(&dir).map_err(err(&dir))? {
            let entry = entry.map_err(err(&dir))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(err(&path))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && set_mode(&path, FILE_MODE)? {
                changed.files += 1;
            }
        }
    }
    Ok(changed)
}

/// Sets `mode` unless the path has it already; `true` = changed.
fn set_mode(path: &Path, mode: u32) -> Result<bool, FileModeError> {
    let meta = std::fs::symlink_metadata(path).map_err(err(path))?;
    if meta.permissions().mode() & 0o7777 == mode {
        return Ok(false);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(err(path))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn tightens_wide_modes_and_counts_them() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("data");
        let sub = root.join("packs");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o700)).unwrap();
        let wide = sub.join("a.pack");
        let ok = root.join("meta.redb");
        std::fs::write(&wide, b"x").unwrap();
        std::fs::write(&ok, b"x").unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o600)).unwrap();

        let changed = tighten(&root).unwrap();
        assert_eq!(changed, Tightened { dirs: 1, files: 1 });
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&wide), 0o600);
        assert_eq!(mode(&ok), 0o600);
        assert!(
            tighten(&root).unwrap().is_empty(),
            "a second pass changes nothing"
        );
    }

    #[test]
    fn a_missing_root_is_left_missing_and_created_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("new/data");
        assert!(tighten(&root).unwrap().is_empty());
        assert!(!root.exists());
        create_dir_all(&root).unwrap();
        assert_eq!(mode(&root), 0o700);
        let f = root.join("f");
        new_file_options()
            .write(true)
            .create_new(true)
            .open(&f)
            .unwrap();
        assert_eq!(mode(&f), 0o600);
    }
}
