//! The flat `cofferd.toml` of before sections (`listen = …`, `zstd_level = …`
//! at the top level): still loaded, each key moved to its section, with one
//! deprecation warning naming the keys and where they go now.

use toml::Table;

use super::settings::{SETTINGS, get, set, take};

/// Moves every flat key of `tree` to its sectioned place. Returns the
/// warning to log, or `None` for a file already in sections; an error when a
/// file gives one setting both ways (which one is meant cannot be known).
pub fn migrate(tree: &mut Table) -> Result<Option<String>, String> {
    let mut moved = Vec::new();
    for s in SETTINGS {
        let Some(old) = s.legacy else { continue };
        if get(tree, old).is_none() {
            continue;
        }
        if get(tree, s.path).is_some() {
            return Err(format!(
                "`{}` (flat layout) and `{}` in [{}] both set the same setting; keep the sectioned one",
                old.join("."),
                s.path[s.path.len() - 1],
                s.path[..s.path.len() - 1].join("."),
            ));
        }
        if let Some(value) = take(tree, old) {
            set(tree, s.path, value);
            moved.push(format!(
                "{} → [{}] {}",
                old.join("."),
                s.path[..s.path.len() - 1].join("."),
                s.path[s.path.len() - 1]
            ));
        }
    }
    Ok((!moved.is_empty()).then(|| {
        format!(
            "the config file uses the flat layout of before sections, which is deprecated; \
             it still loads, but move its keys to their sections ({}); \
             `cofferd --print-config` prints the sectioned form",
            moved.join(", ")
        )
    }))
}
