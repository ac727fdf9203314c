//! Files only their owner may read (mode 0600): reports, incident logs,
//! saved pod logs and the console's log name clusters and carry cluster
//! data. A file that already exists with a looser mode is tightened.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

/// Creates (or truncates) `path` for writing, readable by its owner only.
pub fn create(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    open(path, &mut options)
}

/// Creates `path`, which must not exist (no file or link of that name
/// is followed), for writing, readable by its owner only: a file in a
/// shared folder such as /tmp.
pub fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    open(path, &mut options)
}

/// Opens (creating) `path` for appending, readable by its owner only.
pub fn append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    open(path, &mut options)
}

/// Writes `contents` to `path` as [`create`] opens it.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut file = create(path)?;
    file.write_all(contents.as_ref())?;
    file.flush()
}

fn open(path: &Path, options: &mut OpenOptions) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // The mode above applies to new files only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[test]
    fn new_and_existing_files_end_up_0600() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.md");
        write(&new, "x").unwrap();
        assert_eq!(mode(&new), 0o600);
        let old = dir.path().join("old.log");
        std::fs::write(&old, "before\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        append(&old).unwrap().write_all(b"after\n").unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "before\nafter\n");
        let fresh = dir.path().join("edit.yaml");
        create_new(&fresh).unwrap().write_all(b"x").unwrap();
        assert_eq!(mode(&fresh), 0o600);
        assert!(
            create_new(&fresh).is_err(),
            "an existing file is not reused"
        );
    }
}
