//! Stored bodies: each resource's compact JSON, compressed with zstd and a dictionary.
//!
//! A FHIR resource is a kilobyte or two of JSON that repeats the same keys, systems and
//! display texts as every other resource of its kind; compressed alone it barely shrinks,
//! compressed against a dictionary of those common strings it shrinks several times. The
//! dictionary is trained once on public Synthea data (`examples/train_body_dictionary.rs`
//! in careloop-fhir says how) and built into the binary: a cache names the dictionary of each
//! row (`resource.codec`), so a later dictionary is a new codec beside this one, never a
//! change to it.
//!
//! Invariant: a body reads back byte for byte as the compact JSON that was written, whatever
//! its codec. Rows written before schema 14 are plain text (codec 0) until
//! [`crate::Store::compress_plain_bodies`] rewrites them.

use std::cell::RefCell;
use std::sync::OnceLock;

use rusqlite::types::{Type, ValueRef};

/// The cache schema that added `resource.codec` (migration 0014).
pub(crate) const SCHEMA: i64 = 14;

/// `resource.codec` of a body stored as plain UTF-8 JSON text (rows of caches before schema 14).
pub const PLAIN: i64 = 0;
/// `resource.codec` of a body compressed with zstd and [`DICTIONARY_1`].
pub const ZSTD_DICTIONARY_1: i64 = 1;
/// The codec new bodies are written with.
pub const CURRENT: i64 = ZSTD_DICTIONARY_1;

/// zstd's level: 3 (its default) compresses a small body in microseconds; higher levels cost
/// several times the time for a few percent here.
const LEVEL: i32 = 3;

/// The dictionary of codec 1: 112 KiB trained on the shared Synthea archive's resources.
static DICTIONARY_1: &[u8] = include_bytes!("../dictionaries/fhir-r4-1.zdict");

fn encoder_dictionary() -> &'static zstd::dict::EncoderDictionary<'static> {
    static DICTIONARY: OnceLock<zstd::dict::EncoderDictionary<'static>> = OnceLock::new();
    DICTIONARY.get_or_init(|| zstd::dict::EncoderDictionary::copy(DICTIONARY_1, LEVEL))
}

fn decoder_dictionary() -> &'static zstd::dict::DecoderDictionary<'static> {
    static DICTIONARY: OnceLock<zstd::dict::DecoderDictionary<'static>> = OnceLock::new();
    DICTIONARY.get_or_init(|| zstd::dict::DecoderDictionary::copy(DICTIONARY_1))
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Why a body could not be encoded or decoded. Never holds any of the body's content.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("unknown body codec {0}")]
    UnknownCodec(i64),
    #[error("a stored body does not decompress: {0}")]
    Corrupt(String),
    #[error("a stored body is not UTF-8 JSON")]
    NotText,
    #[error("compressing a body failed: {0}")]
    Compress(String),
}

/// The stored form of `json` under the current codec.
pub fn encode(json: &str) -> Result<Vec<u8>, BodyError> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(compressor) => compressor,
            None => cell.insert(new_compressor()?),
        };
        compressor
            .compress(json.as_bytes())
            .map_err(|e| BodyError::Compress(e.to_string()))
    })
}

fn new_compressor() -> Result<zstd::bulk::Compressor<'static>, BodyError> {
    let mut compressor = zstd::bulk::Compressor::with_prepared_dictionary(encoder_dictionary())
        .map_err(|e| BodyError::Compress(e.to_string()))?;
    // The codec column names the dictionary and the store's pages are authenticated by
    // SQLCipher: the frame's dictionary id and checksum would be 8 bytes a row for nothing.
    // The content size stays: decoding allocates exactly once from it.
    for parameter in [
        zstd::zstd_safe::CParameter::DictIdFlag(false),
        zstd::zstd_safe::CParameter::ChecksumFlag(false),
        zstd::zstd_safe::CParameter::ContentSizeFlag(true),
    ] {
        compressor
            .set_parameter(parameter)
            .map_err(|e| BodyError::Compress(e.to_string()))?;
    }
    Ok(compressor)
}

/// The JSON of a stored body.
pub fn decode(codec: i64, stored: &[u8]) -> Result<String, BodyError> {
    let bytes = match codec {
        PLAIN => stored.to_vec(),
        ZSTD_DICTIONARY_1 => {
            let size = zstd::zstd_safe::get_frame_content_size(stored)
                .ok()
                .flatten()
                .ok_or_else(|| BodyError::Corrupt("no content size".to_owned()))?;
            // A body is at most the importer's largest resource (16 MiB); a larger size is a
            // damaged frame, not a reason to allocate it.
            if size > 64 * 1024 * 1024 {
                return Err(BodyError::Corrupt("content size out of range".to_owned()));
            }
            DECOMPRESSOR.with(|cell| {
                let mut cell = cell.borrow_mut();
                let decompressor = match cell.as_mut() {
                    Some(decompressor) => decompressor,
                    None => cell.insert(
                        zstd::bulk::Decompressor::with_prepared_dictionary(decoder_dictionary())
                            .map_err(|e| BodyError::Corrupt(e.to_string()))?,
                    ),
                };
                decompressor
                    .decompress(stored, size as usize)
                    .map_err(|e| BodyError::Corrupt(e.to_string()))
            })?
        }
        other => return Err(BodyError::UnknownCodec(other)),
    };
    String::from_utf8(bytes).map_err(|_| BodyError::NotText)
}

/// Reads the body in column `body` of a row whose codec is in column `codec`.
pub(crate) fn column(
    row: &rusqlite::Row<'_>,
    codec: usize,
    body: usize,
) -> rusqlite::Result<String> {
    column_as(row, row.get(codec)?, body)
}

/// Reads the body in column `body`, stored with `codec`.
pub(crate) fn column_as(
    row: &rusqlite::Row<'_>,
    codec: i64,
    body: usize,
) -> rusqlite::Result<String> {
    match row.get_ref(body)? {
        ValueRef::Text(stored) | ValueRef::Blob(stored) => decode(codec, stored)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(body, Type::Blob, Box::new(e))),
        other => Err(rusqlite::Error::InvalidColumnType(
            body,
            "body".to_owned(),
            other.data_type(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_reads_back_byte_for_byte_and_smaller() {
        let json = r#"{"resourceType":"Observation","id":"a1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8302-2","display":"Body Height"}],"text":"Body Height"},"subject":{"reference":"urn:uuid:0d6e"},"effectiveDateTime":"2020-01-01T10:00:00-05:00","valueQuantity":{"value":172.1,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}}"#;
        let stored = encode(json).unwrap();
        assert!(
            stored.len() * 2 < json.len(),
            "{} bytes stored for {}",
            stored.len(),
            json.len()
        );
        assert_eq!(decode(CURRENT, &stored).unwrap(), json);
        assert_eq!(decode(PLAIN, json.as_bytes()).unwrap(), json);
        // Unicode survives (names, notes in any language).
        let accented =
            r#"{"resourceType":"Patient","id":"p","name":[{"family":"Núñez","given":["Zoë"]}]}"#;
        assert_eq!(
            decode(CURRENT, &encode(accented).unwrap()).unwrap(),
            accented
        );
    }

    #[test]
    fn a_damaged_or_unknown_body_is_an_error_that_holds_no_content() {
        let stored = encode(r#"{"resourceType":"Patient","id":"secret-name"}"#).unwrap();
        let cut = &stored[..stored.len() / 2];
        let error = decode(CURRENT, cut).unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(matches!(
            decode(7, &stored),
            Err(BodyError::UnknownCodec(7))
        ));
        assert!(matches!(
            decode(PLAIN, &[0xff, 0xfe]),
            Err(BodyError::NotText)
        ));
    }
}
