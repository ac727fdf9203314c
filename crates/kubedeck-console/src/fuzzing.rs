//! Entry points for the fuzz targets in `fuzz/`: the theme and keymap
//! readers over text that never touches the disk.

use kubedeck_core::config_file::ConfigError;

use crate::input::keymap::Keymap;
use crate::layers::Layered;
use crate::theme::Theme;

/// Reads `text` as a user theme file over the default theme.
pub fn theme_text(text: &str) -> Result<(), Vec<ConfigError>> {
    Theme::default().layer_text("fuzz", "fuzz.toml", text, None, &[])
}

/// Reads `text` as a user keymap file over the default keymap.
pub fn keymap_text(text: &str) -> Result<(), Vec<ConfigError>> {
    Keymap::built_in_default().layer_text("fuzz", "fuzz.toml", text, None, &[])
}
