//! Where runbooks come from: the ones shipped inside the binary, the
//! user's in `<XDG config dir>/kubedeck/runbooks/`, or a file path.

use std::path::{Path, PathBuf};

/// The shipped runbooks, by the name `runbook run NAME` accepts.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "high-error-rate",
        include_str!("../../runbooks/high-error-rate.yaml"),
    ),
    (
        "pod-crash-loop",
        include_str!("../../runbooks/pod-crash-loop.yaml"),
    ),
    (
        "failover-demo",
        include_str!("../../runbooks/failover-demo.yaml"),
    ),
    (
        "scaling-demo",
        include_str!("../../runbooks/scaling-demo.yaml"),
    ),
    (
        "bad-rollout",
        include_str!("../../runbooks/bad-rollout.yaml"),
    ),
    (
        "backup-and-verify",
        include_str!("../../runbooks/backup-and-verify.yaml"),
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Shipped,
    User(PathBuf),
    File(PathBuf),
}

/// A runbook's text and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    /// What errors are reported against: the path, or `shipped:NAME`.
    pub label: String,
    pub origin: Origin,
    pub text: String,
}

/// A path to an existing file, else a user runbook by name (`NAME.yaml` or
/// `NAME.yml`), else a shipped one: the user's own win over the shipped.
pub fn find(arg: &str, user_dir: Option<&Path>) -> Result<Source, String> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return Ok(Source {
            name: stem(path),
            label: path.display().to_string(),
            origin: Origin::File(path.to_path_buf()),
            text,
        });
    }
    let plain = !arg.contains(['/', '\\']) && !arg.is_empty();
    if plain && let Some(dir) = user_dir {
        for ext in ["yaml", "yml"] {
            let p = dir.join(format!("{arg}.{ext}"));
            if p.is_file() {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                return Ok(Source {
                    name: arg.to_string(),
                    label: p.display().to_string(),
                    origin: Origin::User(p),
                    text,
                });
            }
        }
    }
    if let Some((name, text)) = SHIPPED.iter().find(|(n, _)| *n == arg) {
        return Ok(Source {
            name: (*name).to_string(),
            label: format!("shipped:{name}"),
            origin: Origin::Shipped,
            text: (*text).to_string(),
        });
    }
    let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
    Err(format!(
        "no runbook {arg:?}: not a file, not in {}, and not a shipped runbook ({})",
        user_dir.map_or_else(
            || "the user's folder".to_string(),
            |d| d.display().to_string()
        ),
        names.join(", ")
    ))
}

/// One line of `runbook list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub origin: Origin,
    /// The title, or why it could not be read.
    pub title: Result<String, String>,
}

/// The runbooks' names, shipped then the user's, reading no runbook: for
/// completion, which must be quick.
pub fn names(user_dir: Option<&Path>) -> Vec<String> {
    SHIPPED
        .iter()
        .map(|(name, _)| (*name).to_string())
        .chain(crate::config::file_stems(user_dir, &["yaml", "yml"]))
        .collect()
}

/// The shipped runbooks, then the user's (sorted by name).
pub fn list(user_dir: Option<&Path>) -> Vec<Listed> {
    let mut out: Vec<Listed> = SHIPPED
        .iter()
        .map(|(name, text)| Listed {
            name: (*name).to_string(),
            origin: Origin::Shipped,
            title: title_of(text),
        })
        .collect();
    let mut user: Vec<Listed> = user_dir
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .map(|p| Listed {
            name: stem(&p),
            title: std::fs::read_to_string(&p)
                .map_err(|e| e.to_string())
                .and_then(|t| title_of(&t)),
            origin: Origin::User(p),
        })
        .collect();
    user.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(user);
    out
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "runbook".to_string())
}

/// The title alone, so that a list shows even runbooks that do not check.
fn title_of(text: &str) -> Result<String, String> {
    let v: serde_norway::Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    v.get("title")
        .and_then(serde_norway::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "no title".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_runbook_checks_and_has_a_title() {
        for (name, text) in SHIPPED {
            let errors = super::super::validate::check(name, &format!("shipped:{name}"), text);
            assert!(errors.is_empty(), "{name}: {errors:?}");
            assert!(title_of(text).is_ok(), "{name}");
        }
    }

    #[test]
    fn user_runbooks_shadow_shipped_ones_and_files_come_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad-rollout.yaml"),
            "title: Mine\nsteps: []\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a runbook").unwrap();
        let found = find("bad-rollout", Some(dir.path())).unwrap();
        assert!(matches!(found.origin, Origin::User(_)));
        let shipped = find("scaling-demo", Some(dir.path())).unwrap();
        assert_eq!(shipped.origin, Origin::Shipped);
        assert_eq!(shipped.label, "shipped:scaling-demo");
        let file = dir.path().join("bad-rollout.yaml");
        let by_path = find(&file.display().to_string(), None).unwrap();
        assert!(matches!(by_path.origin, Origin::File(_)));
        assert!(
            find("nope", Some(dir.path()))
                .unwrap_err()
                .contains("no runbook")
        );
        let listed = list(Some(dir.path()));
        assert_eq!(listed.len(), SHIPPED.len() + 1);
        let last = listed.last().unwrap();
        assert_eq!(last.title, Ok("Mine".to_string()));
    }
}
