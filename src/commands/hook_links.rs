//! An extensions folder made of chosen hooks (or endpoints): `hooks test` and `hooks check` load
//! only the extensions under test, so they create a temporary `<dir>/hooks/<name>` (or
//! `<dir>/endpoints/<name>`) linking to each folder. The loader resolves the links, so an
//! extension keeps its name and its relative requires.

use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};

pub fn link(extensions: &Path, hooks: &[PathBuf]) -> anyhow::Result<()> {
    link_as(extensions, "hooks", hooks)
}

/// [`link`] into `<dir>/<kind>` (`hooks` or `endpoints`).
pub fn link_as(extensions: &Path, kind: &str, hooks: &[PathBuf]) -> anyhow::Result<()> {
    let hooks_dir = extensions.join(kind);
    std::fs::create_dir_all(&hooks_dir)?;
    for hook in hooks {
        let target = std::fs::canonicalize(hook).with_context(|| format!("hook folder {}", hook.display()))?;
        let name = target.file_name().ok_or_else(|| anyhow!("{} is not a hook folder", hook.display()))?;
        std::os::unix::fs::symlink(&target, hooks_dir.join(name)).with_context(|| format!("two hooks are named {}", name.to_string_lossy()))?;
    }
    Ok(())
}
