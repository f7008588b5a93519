//! What the API tests share.

use std::path::Path;

use careloop_api::Config;
use careloop_store::KeySource;

/// A cache under `root` with a key file (no keyring, no user app-data dir).
pub fn config(root: &Path) -> Config {
    use std::os::unix::fs::PermissionsExt;
    let key = root.join("key");
    std::fs::write(&key, "5e".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    Config {
        data_dir: root.join("data"),
        key: KeySource::KeyFile(key),
    }
}
