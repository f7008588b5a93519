//! The server's certificate: given as PEM files, or generated on first start (self-signed,
//! for `localhost`, the loopback addresses and any names given) and kept in the data dir.
//! Workstations pin its SHA-256 on first connection (trust on first use) or are given it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::error::{Result, ServerError};

/// Where the certificate comes from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// `cert.pem` and `key.pem` in the data dir, made on first start for these names.
    SelfSigned { names: Vec<String> },
    /// PEM files given by the administrator.
    Files { cert: PathBuf, key: PathBuf },
}

/// The rustls configuration, and the SHA-256 (hex) of the leaf certificate.
pub fn server_config(
    source: &TlsSource,
    data_dir: &Path,
) -> Result<(Arc<rustls::ServerConfig>, String)> {
    let (cert_path, key_path) = match source {
        TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSource::SelfSigned { names } => {
            let cert = data_dir.join("cert.pem");
            let key = data_dir.join("key.pem");
            if !cert.exists() || !key.exists() {
                generate(names, &cert, &key)?;
            }
            (cert, key)
        }
    };
    let certs = read_certs(&cert_path)?;
    let key = read_key(&key_path)?;
    let pin = fingerprint(&certs[0]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Internal(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ServerError::BadRequest(format!(
                "the certificate {} and key {} do not make a TLS identity: {e}",
                cert_path.display(),
                key_path.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), pin))
}

/// SHA-256 of a DER certificate, lowercase hex (what workstations pin).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    hex::encode(Sha256::digest(cert.as_ref()))
}

fn generate(names: &[String], cert_path: &Path, key_path: &Path) -> Result<()> {
    let mut all: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    all.extend(names.iter().cloned());
    let certified = rcgen::generate_simple_self_signed(all)
        .map_err(|e| ServerError::Internal(format!("generating the certificate: {e}")))?;
    write_private(key_path, certified.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(cert_path, certified.cert.pem())
        .map_err(|e| ServerError::Internal(format!("writing {}: {e}", cert_path.display())))?;
    Ok(())
}

/// Writes a new file readable by its owner only (keys), synced to disk.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| ServerError::Internal(format!("writing {}: {e}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| ServerError::Internal(format!("writing {}: {e}", path.display())))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = std::fs::read(path)
        .map_err(|e| ServerError::BadRequest(format!("certificate {}: {e}", path.display())))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| ServerError::BadRequest(format!("certificate {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(ServerError::BadRequest(format!(
            "certificate {}: no PEM certificate in it",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let bytes = std::fs::read(path)
        .map_err(|e| ServerError::BadRequest(format!("key {}: {e}", path.display())))?;
    rustls_pemfile::private_key(&mut bytes.as_slice())
        .map_err(|e| ServerError::BadRequest(format!("key {}: {e}", path.display())))?
        .ok_or_else(|| {
            ServerError::BadRequest(format!("key {}: no PEM private key in it", path.display()))
        })
}
