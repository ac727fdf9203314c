//! Errors in the user's files (keymaps, themes, config), located to the line
//! so that the message says exactly what to fix.

use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file as the user knows it (a path, or `built-in keymap "x"`).
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(file: &str, line: Option<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    /// A TOML syntax or type error, at the line its span points to.
    pub fn from_toml(file: &str, text: &str, err: &toml::de::Error) -> ConfigError {
        ConfigError::new(
            file,
            err.span().map(|s| line_of(text, s.start)),
            err.message().trim().to_string(),
        )
    }
}

/// A named layer's text and how to name it in messages.
pub struct Found {
    pub file: String,
    pub text: String,
}

/// Finds the keymap or theme `name`: a file `<name>.toml` in the user's
/// folder, else a built-in one, else `name` as a path; otherwise an error
/// that lists the built-in names and says where user files go.
pub fn find_named(
    kind: &str,
    name: &str,
    user_dir: Option<&Path>,
    built_in: &[(&str, &str)],
) -> Result<Found, ConfigError> {
    if let Some(dir) = user_dir {
        let path = dir.join(format!("{name}.toml"));
        if let Some(text) = read_optional(&path)? {
            return Ok(Found {
                file: path.display().to_string(),
                text,
            });
        }
    }
    if let Some((_, text)) = built_in.iter().find(|(n, _)| *n == name) {
        return Ok(Found {
            file: format!("built-in {kind} \"{name}\""),
            text: text.to_string(),
        });
    }
    match read_optional(Path::new(name))? {
        Some(text) => Ok(Found {
            file: name.to_string(),
            text,
        }),
        None => Err(ConfigError::new(
            name,
            None,
            format!(
                "no such {kind}: the built-in ones are {}; user {kind}s go in {}",
                built_in
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
                user_dir.map_or(format!("the config folder's {kind}s/"), |d| d
                    .display()
                    .to_string())
            ),
        )),
    }
}

/// Errors from resolving a parent (`extends`): a parent that does not
/// exist, or a loop, is located at the `extends` line of the file the user
/// loaded; errors inside an existing parent file keep their own place.
pub fn at_extends(
    errors: Vec<ConfigError>,
    depth: usize,
    file: &str,
    text: &str,
    parent: &toml::Spanned<String>,
) -> Vec<ConfigError> {
    if depth > 0 {
        return errors;
    }
    let line = Some(line_of(text, parent.span().start));
    errors
        .into_iter()
        .map(|e| match e.line {
            Some(_) => e,
            None => ConfigError::new(
                file,
                line,
                format!("extends {:?}: {}", parent.get_ref(), e.message),
            ),
        })
        .collect()
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads a user file; None when it does not exist (that is not an error).
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ConfigError::new(
            &path.display().to_string(),
            None,
            format!("cannot read: {e}"),
        )),
    }
}
