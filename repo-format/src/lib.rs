//! Coffer repository format (see `DESIGN.md` beside this crate).
