//! The last datastore view, saved so that a node restarted while the datastore is down
//! starts with the cluster as it last knew it (`<state_dir>/datastore-view.json`).
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::view::ClusterView;

/// Bumped when the saved layout changes incompatibly; an older file is ignored.
const FORMAT: u32 = 1;
const FILE_NAME: &str = "datastore-view.json";

#[derive(Serialize, Deserialize)]
struct Saved {
    format: u32,
    node_name: String,
    /// Which datastore it came from (endpoints and prefix), so that a node pointed at
    /// another cluster does not start from the old one's view.
    source: String,
    view: ClusterView,
}

/// The saved view's path in `state_dir`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Writes the view atomically (a temporary file renamed over the old one), mode 0600.
pub fn save(
    state_dir: &Path,
    node_name: &str,
    source: &str,
    view: &ClusterView,
) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(state_dir)?;
    let saved = Saved {
        format: FORMAT,
        node_name: node_name.to_string(),
        source: source.to_string(),
        view: view.clone(),
    };
    let text = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
    let final_path = path(state_dir);
    let temp = state_dir.join(format!(".{FILE_NAME}.tmp"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(&text)?;
    file.sync_all()?;
    std::fs::rename(&temp, &final_path)
}

/// The saved view, if there is one for this node and datastore. `Err` says why a file that
/// exists was not used.
pub fn load(
    state_dir: &Path,
    node_name: &str,
    source: &str,
) -> Result<Option<ClusterView>, String> {
    let file = path(state_dir);
    let text = match std::fs::read(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot read {}: {error}", file.display())),
    };
    let saved: Saved = serde_json::from_slice(&text)
        .map_err(|error| format!("{} is not a saved view: {error}", file.display()))?;
    if saved.format != FORMAT {
        return Err(format!("{} has format {}, not {FORMAT}", file.display(), saved.format));
    }
    if saved.node_name != node_name || saved.source != source {
        return Err(format!(
            "{} is for node {} of {}, not node {node_name} of {source}",
            file.display(),
            saved.node_name,
            saved.source
        ));
    }
    Ok(Some(saved.view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load() {
        let dir = std::env::temp_dir().join(format!("bgpd-state-test-{}", std::process::id()));
        let view = ClusterView { revision: 7, ..ClusterView::default() };
        assert_eq!(load(&dir, "n1", "etcd").unwrap(), None, "nothing saved yet");
        save(&dir, "n1", "etcd", &view).unwrap();
        assert_eq!(load(&dir, "n1", "etcd").unwrap(), Some(view));
        assert!(load(&dir, "n2", "etcd").unwrap_err().contains("not node n2"));
        std::fs::write(path(&dir), "garbage").unwrap();
        assert!(load(&dir, "n1", "etcd").unwrap_err().contains("not a saved view"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
