//! The development transport: each message is an RFC 5322 file
//! `{dir}/{timestamp}-{id}.eml` (UTC timestamp to the microsecond, so a directory listing
//! sorts by sending time; 16 hex digits of a fresh UUID). Both come from the injected clock
//! and id source. The file is written under a hidden temporary name and
//! renamed, so a reader never sees half a message. Messages carry live links: the files
//! are mode 0600 and the directory the outbox creates 0700 (SPEC 17).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::MailError;
use crate::clock::Clock;
use crate::ids::IdSource;

pub struct Outbox {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl Outbox {
    /// The directory is created on the first message.
    pub fn new(dir: PathBuf, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Outbox {
        Outbox { dir, clock, ids }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one formatted message; returns its path.
    pub fn write(&self, message: &[u8]) -> Result<PathBuf, MailError> {
        let unavailable = |what: &str, e: std::io::Error| {
            MailError::Unavailable(format!("the outbox {what}: {}", e.kind()))
        };
        private_dir(&self.dir).map_err(|e| unavailable("directory cannot be created", e))?;
        let stamp = self.clock.now().format("%Y%m%dT%H%M%S%.6fZ");
        let id = self.ids.uuid().replace('-', "");
        // The last 16 digits: random in a UUID v4, and the counter in `SequentialIds`.
        let name = format!("{stamp}-{}.eml", &id[id.len().saturating_sub(16)..]);
        let temporary = self.dir.join(format!(".{name}.tmp"));
        let written = private_file().open(&temporary).and_then(|mut file| {
            file.write_all(message)?;
            file.flush()
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(unavailable("file cannot be written", e));
        }
        let path = self.dir.join(name);
        std::fs::rename(&temporary, &path).map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            unavailable("file cannot be renamed", e)
        })?;
        Ok(path)
    }
}

/// Creates `dir` (and missing parents) readable by the owner only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file, readable and writable by the owner only.
fn private_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::ids::RandomIds;

    /// The real sources: the order of the file names is the order of the clock.
    fn outbox(dir: PathBuf) -> Outbox {
        Outbox::new(dir, Arc::new(SystemClock), Arc::new(RandomIds))
    }

    #[test]
    fn files_are_named_by_time_and_sort_in_sending_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outbox = outbox(dir.path().join("outbox"));
        let paths: Vec<PathBuf> = (0..5)
            .map(|i| {
                outbox
                    .write(format!("message {i}").as_bytes())
                    .expect("written")
            })
            .collect();
        let mut listed: Vec<PathBuf> = std::fs::read_dir(outbox.dir())
            .expect("listed")
            .map(|e| e.expect("entry").path())
            .collect();
        listed.sort();
        assert_eq!(listed, paths, "only the final files, in sending order");
        for (i, path) in paths.iter().enumerate() {
            let name = path.file_name().and_then(|n| n.to_str()).expect("name");
            // 20261201T054200.123456Z-0123456789abcdef.eml
            assert_eq!(name.len(), 23 + 1 + 16 + 4, "{name}");
            assert!(
                name.ends_with(".eml") && name.as_bytes()[8] == b'T',
                "{name}"
            );
            assert_eq!(
                std::fs::read_to_string(path).expect("read"),
                format!("message {i}")
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_the_owner_can_read_the_outbox() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let outbox = outbox(dir.path().join("data/outbox"));
        let path = outbox.write(b"a live link").expect("written");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(outbox.dir()), 0o700);
    }

    #[test]
    fn an_unwritable_outbox_is_unavailable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a directory").expect("write");
        let err = outbox(blocker.join("outbox"))
            .write(b"x")
            .expect_err("cannot create");
        assert!(matches!(err, MailError::Unavailable(_)), "{err:?}");
    }
}
