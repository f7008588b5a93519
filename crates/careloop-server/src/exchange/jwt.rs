//! SMART Backend Services client assertions: a compact JWS signed ES384 (P-384) or RS384
//! (RSA PKCS#1 v1.5, SHA-384) with a key of the client's registered JWKS; `iss` and `sub`
//! the client id, `aud` the token URL, `exp` at most 5 minutes ahead, `jti` used once.
//! Verified with `ring` (already the TLS stack's), no JWT library.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::store::PartnerClient;
use crate::error::{Result, ServerError};

/// An assertion lives at most this long.
const MAX_LIFETIME_SECONDS: i64 = 300;
/// Clock skew allowed between a partner and the server.
const SKEW_SECONDS: i64 = 60;

/// What a verified assertion says.
#[derive(Debug, PartialEq, Eq)]
pub struct Claims {
    pub jti: String,
    pub exp: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    iss: String,
    sub: String,
    aud: Value,
    exp: i64,
    jti: String,
}

fn bad(why: &str) -> ServerError {
    ServerError::Unauthorized(format!("the client assertion is not valid: {why}"))
}

fn part<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad(&format!("its {what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|e| bad(&format!("its {what}: {e}")))
}

fn split(jwt: &str) -> Result<(&str, &str, &str)> {
    let mut parts = jwt.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(b), Some(s), None) => Ok((h, b, s)),
        _ => Err(bad("a JWT has three parts separated by '.'")),
    }
}

/// The client an assertion says it comes from (`iss`), before anything is verified: to find
/// its keys.
pub fn client_of(jwt: &str) -> Result<String> {
    let (_, body, _) = split(jwt)?;
    let body: Body = part(body, "claims")?;
    Ok(body.iss)
}

/// Verifies an assertion of `client` for `audience` at `now`.
pub fn verify(
    jwt: &str,
    client: &PartnerClient,
    audience: &str,
    now: DateTime<Utc>,
) -> Result<Claims> {
    let (header_text, body_text, signature_text) = split(jwt)?;
    let header: Header = part(header_text, "header")?;
    let body: Body = part(body_text, "claims")?;
    if body.iss != client.client_id || body.sub != client.client_id {
        return Err(bad("iss and sub must both be the client id"));
    }
    let aud_ok = match &body.aud {
        Value::String(a) => a == audience,
        Value::Array(items) => items.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad(&format!("aud must be the token URL, {audience}")));
    }
    let exp = DateTime::from_timestamp(body.exp, 0).ok_or_else(|| bad("exp is not a time"))?;
    if exp < now - chrono::Duration::seconds(SKEW_SECONDS) {
        return Err(bad("it expired (exp)"));
    }
    if exp > now + chrono::Duration::seconds(MAX_LIFETIME_SECONDS + SKEW_SECONDS) {
        return Err(bad("exp is more than 5 minutes ahead"));
    }
    if body.jti.trim().is_empty() || body.jti.len() > 256 {
        return Err(bad("jti must be 1 to 256 characters"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_text)
        .map_err(|_| bad("its signature is not base64url"))?;
    let signed = format!("{header_text}.{body_text}");
    let jwks: Value = serde_json::from_str(&client.jwks)
        .map_err(|e| ServerError::Internal(format!("the client's JWKS: {e}")))?;
    let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
    let candidates = keys.iter().filter(|k| {
        header
            .kid
            .as_deref()
            .is_none_or(|kid| k["kid"].as_str() == Some(kid))
    });
    let mut tried = 0;
    for key in candidates {
        tried += 1;
        if verify_with(key, &header.alg, signed.as_bytes(), &signature)? {
            return Ok(Claims { jti: body.jti, exp });
        }
    }
    Err(bad(if tried == 0 {
        "no key of the client's JWKS has its kid"
    } else {
        "the signature does not verify with the client's keys"
    }))
}

fn key_bytes(key: &Value, field: &str) -> Result<Vec<u8>> {
    let text = key[field]
        .as_str()
        .ok_or_else(|| ServerError::Internal(format!("a JWKS key has no {field}")))?;
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| ServerError::Internal(format!("a JWKS key's {field} is not base64url")))
}

fn verify_with(key: &Value, alg: &str, message: &[u8], signature: &[u8]) -> Result<bool> {
    use ring::signature;
    match (alg, key["kty"].as_str()) {
        ("ES384", Some("EC")) => {
            if key["crv"].as_str() != Some("P-384") {
                return Ok(false);
            }
            let mut point = vec![4u8];
            point.extend(key_bytes(key, "x")?);
            point.extend(key_bytes(key, "y")?);
            Ok(
                signature::UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .verify(message, signature)
                    .is_ok(),
            )
        }
        ("RS384", Some("RSA")) => {
            let (n, e) = (key_bytes(key, "n")?, key_bytes(key, "e")?);
            Ok(signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA384, message, signature)
                .is_ok())
        }
        ("ES384" | "RS384", _) => Ok(false),
        (other, _) => Err(bad(&format!(
            "alg {other:?}: the exchange takes ES384 or RS384"
        ))),
    }
}

/// Checks a JWKS document an admin registers: public keys only, each ES384 (P-384) or RSA.
pub fn check_jwks(text: &str) -> Result<()> {
    let jwks: Value = serde_json::from_str(text)
        .map_err(|e| ServerError::BadRequest(format!("the JWKS is not JSON: {e}")))?;
    let keys = jwks["keys"]
        .as_array()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ServerError::BadRequest("a JWKS has a non-empty \"keys\" array".into()))?;
    for (i, key) in keys.iter().enumerate() {
        if key.get("d").is_some() {
            return Err(ServerError::BadRequest(format!(
                "keys[{i}] holds a private key (\"d\"): register the public key only"
            )));
        }
        let ok = match key["kty"].as_str() {
            Some("EC") => {
                key["crv"].as_str() == Some("P-384")
                    && key_bytes(key, "x").is_ok()
                    && key_bytes(key, "y").is_ok()
            }
            Some("RSA") => key_bytes(key, "n").is_ok() && key_bytes(key, "e").is_ok(),
            _ => false,
        };
        if !ok {
            return Err(ServerError::BadRequest(format!(
                "keys[{i}]: expected an EC P-384 key (x, y) or an RSA key (n, e)"
            )));
        }
    }
    Ok(())
}
