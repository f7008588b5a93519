//! The cache key: 256 random bits, kept in the OS keyring or, on headless machines, in an
//! explicit key file. The key is never written beside the data and never printed.

use std::path::{Path, PathBuf};

use crate::{Result, StoreError};

/// The keyring service under which cache keys are kept.
pub const KEYRING_SERVICE: &str = "org.careloop.desktop";

/// A raw 256-bit SQLCipher key. `Debug` does not show it; it is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey([u8; 32]);

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(<redacted>)")
    }
}

impl Drop for CacheKey {
    fn drop(&mut self) {
        // Volatile writes so the compiler cannot drop the wipe as a dead store.
        for byte in self.0.iter_mut() {
            unsafe { std::ptr::write_volatile(byte, 0) };
        }
    }
}

impl CacheKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<CacheKey> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| StoreError::Keyring(format!("no random source: {e}")))?;
        Ok(CacheKey(bytes))
    }

    /// Parses 64 hexadecimal characters.
    pub fn from_hex(text: &str) -> Option<CacheKey> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(CacheKey(bytes))
    }

    pub(crate) fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads a key file: 64 hexadecimal characters, optionally followed by one newline.
    /// The file must be readable by its owner only (mode 0600 or stricter).
    pub fn read_key_file(path: &Path) -> Result<CacheKey> {
        let fail = |reason: String| StoreError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        let metadata = std::fs::metadata(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "its permissions are {mode:04o}; a key file must be readable by its owner only (chmod 600)"
                )));
            }
        }
        if metadata.len() > 66 {
            return Err(fail(
                "it is too long; it must hold the key as 64 hexadecimal characters".into(),
            ));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        CacheKey::from_hex(trimmed)
            .ok_or_else(|| fail("it must hold the key as 64 hexadecimal characters".into()))
    }
}

/// Where the key for a data directory comes from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// An explicit key file (`--key-file` / `CARELOOP_KEY_FILE`): the server and CI option.
    KeyFile(PathBuf),
    /// The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on
    /// Windows), one entry per data directory.
    Keyring,
}

impl KeySource {
    /// The key for the cache in `data_dir`. With the keyring, a new random key is made and
    /// stored when the directory has no cache yet.
    pub fn load_or_create(&self, data_dir: &Path) -> Result<CacheKey> {
        match self {
            KeySource::KeyFile(path) => CacheKey::read_key_file(path),
            KeySource::Keyring => {
                let entry = keyring_entry(data_dir)?;
                match entry.get_password() {
                    Ok(text) => CacheKey::from_hex(text.trim()).ok_or_else(|| {
                        StoreError::Keyring("the stored cache key is malformed".into())
                    }),
                    Err(keyring::Error::NoEntry) if !crate::Store::exists(data_dir) => {
                        let key = CacheKey::generate()?;
                        entry
                            .set_password(&key.to_hex())
                            .map_err(|e| StoreError::Keyring(e.to_string()))?;
                        Ok(key)
                    }
                    Err(keyring::Error::NoEntry) => Err(StoreError::KeyMissing {
                        path: data_dir.join(crate::CACHE_FILE_NAME),
                    }),
                    Err(e) => Err(StoreError::Keyring(e.to_string())),
                }
            }
        }
    }
}

fn keyring_entry(data_dir: &Path) -> Result<keyring::Entry> {
    // One key per data directory, named by its absolute path.
    let dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let account = format!("cache-key:{}", dir.display());
    keyring::Entry::new(KEYRING_SERVICE, &account).map_err(|e| StoreError::Keyring(e.to_string()))
}
