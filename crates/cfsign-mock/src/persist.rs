//! The state file: loading it at start and replacing it atomically after every change.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::Store;

/// The state file's format.
#[derive(Serialize, Deserialize)]
struct SavedState {
    format: String,
    #[serde(flatten)]
    store: Store,
}

const STATE_FORMAT: &str = "cfsign-mock-state-v1";

/// Reads the state file; a file that does not exist yet is an empty store.
pub(crate) fn load(path: &Path) -> Result<Store, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Store::default()),
        Err(source) => {
            return Err(Error::Io {
                action: "read the state file",
                path: path.to_owned(),
                source,
            });
        }
    };
    let saved: SavedState = serde_json::from_str(&text).map_err(|e| Error::State {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    if saved.format != STATE_FORMAT {
        return Err(Error::State {
            path: path.to_owned(),
            detail: format!("format `{}`, expected `{STATE_FORMAT}`", saved.format),
        });
    }
    Ok(saved.store)
}

/// Writes the state atomically: a temporary file in the same directory, fsync, rename, fsync
/// of the directory. A crash at any point leaves either the old or the new file.
pub(crate) fn save(path: &Path, store: &Store) -> Result<(), Error> {
    let saved = SavedState {
        format: STATE_FORMAT.to_owned(),
        store: store.clone(),
    };
    let io = |action, source| Error::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let json = serde_json::to_vec_pretty(&saved)
        .map_err(|e| io("serialise the state for", std::io::Error::other(e)))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_owned());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        io("write the state file", source)
    })
}
