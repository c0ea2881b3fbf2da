//! Writing the project's files (migrations, `schema.toml`, models,
//! `migrator.toml`) so that an interrupted write never leaves a truncated
//! file: the text goes to a temporary file next to the target, is flushed
//! to disk, and then renamed over the target in one step. A reader sees the
//! old file or the new one, never half of either.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Replaces (or creates) `path` with `text`, atomically. On error nothing
/// at `path` changed and no temporary file is left; the error names the
/// file.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), CliError> {
    let fail = CliError::io(path);
    let (tmp, mut file) = temp_next_to(path, false).map_err(&fail)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    // The rename itself reaches the disk with the directory (best effort:
    // not every platform can open a directory).
    if let Ok(d) = std::fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The folder `path` is in (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A new file next to `path` (same folder, so a rename or link to `path`
/// stays on one file system), named `.<name>.<pid>.<n>.tmp` and created
/// exclusively; owner-only when `private` (a backup's data).
pub fn temp_next_to(path: &Path, private: bool) -> std::io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "names no file"))?
        .to_string_lossy()
        .into_owned();
    let dir = dir_of(path);
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("schema.toml");
        write_atomic(&path, "first\n").expect("creates");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "first\n");
        write_atomic(&path, "second\n").expect("replaces");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "second\n");
        assert_eq!(names(dir.path()), ["schema.toml"]);
    }

    #[test]
    fn a_failed_write_changes_nothing_and_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The target is a directory: the rename fails after the text was
        // written to the temporary file, which must not stay behind.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::write(target.join("inside"), "kept").expect("write");
        let e = write_atomic(&target, "text")
            .expect_err("a directory is in the way")
            .to_string();
        assert!(e.starts_with(&target.display().to_string()), "{e}");
        assert_eq!(names(dir.path()), ["taken"]);
        assert_eq!(
            std::fs::read_to_string(target.join("inside")).expect("read"),
            "kept"
        );
        // A missing folder: nothing is created.
        let missing = dir.path().join("nope").join("schema.toml");
        let e = write_atomic(&missing, "text")
            .expect_err("no folder")
            .to_string();
        assert!(e.contains("nope"), "{e}");
        assert_eq!(names(dir.path()), ["taken"]);
    }
}
