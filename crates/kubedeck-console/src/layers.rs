//! Keymaps and themes are layered files: each may name a parent it
//! `extends` and overrides only what it lists. Finding a file by name (in
//! the user's folder, built in, or a path) and walking its chain of parents
//! is the same for both; reading one file is each kind's own.

use std::path::Path;

use toml::Spanned;

use kubedeck_core::config_file::{ConfigError, at_extends, find_named};

/// The most files one chain of `extends` may hold. A file that extends
/// itself, however indirectly, is a loop whatever the length.
const MAX_CHAIN: usize = 32;

pub(crate) trait Layered {
    /// What messages call the files: "keymap", "theme".
    const KIND: &'static str;
    /// The files that ship with kubedeck, by name.
    const BUILT_IN: &'static [(&'static str, &'static str)];

    /// Applies the file `file` (named `name`, reading `text`) over what is
    /// built so far; its `extend` applies the parent first. `chain` holds
    /// the files that extend it, nearest last.
    fn layer_text(
        &mut self,
        name: &str,
        file: &str,
        text: &str,
        user_dir: Option<&Path>,
        chain: &[String],
    ) -> Result<(), Vec<ConfigError>>;

    /// Applies the file `name`: one in the user's folder, a built-in one,
    /// or a path.
    fn layer_named(
        &mut self,
        name: &str,
        user_dir: Option<&Path>,
        chain: &[String],
    ) -> Result<(), Vec<ConfigError>> {
        let found = find_named(Self::KIND, name, user_dir, Self::BUILT_IN).map_err(|e| vec![e])?;
        if let Some(start) = chain.iter().position(|f| *f == found.file) {
            let mut cycle: Vec<&str> = chain[start..].iter().map(String::as_str).collect();
            cycle.push(&found.file);
            return Err(vec![ConfigError::new(
                name,
                None,
                format!(
                    "{}s extend each other in a loop: {}",
                    Self::KIND,
                    cycle.join(" → ")
                ),
            )]);
        }
        if chain.len() >= MAX_CHAIN {
            return Err(vec![ConfigError::new(
                name,
                None,
                format!(
                    "the chain of {}s extending each other is longer than {MAX_CHAIN} files",
                    Self::KIND
                ),
            )]);
        }
        let mut chain = chain.to_vec();
        chain.push(found.file.clone());
        self.layer_text(name, &found.file, &found.text, user_dir, &chain)
    }

    /// Applies `parent`, what `file` extends; a parent that is missing or
    /// loops is reported at the `extends` line.
    fn extend(
        &mut self,
        parent: &Spanned<String>,
        file: &str,
        text: &str,
        user_dir: Option<&Path>,
        chain: &[String],
    ) -> Result<(), Vec<ConfigError>> {
        let depth = chain.len().saturating_sub(1);
        self.layer_named(parent.get_ref(), user_dir, chain)
            .map_err(|e| at_extends(e, depth, file, text, parent))
    }
}
