//! The index schema: which field holds what, how it is analyzed, and what is stored (in RAM)
//! to build hits and snippets.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STORED, STRING,
};

use crate::analysis::{TERM_TOKENIZER, WORD_TOKENIZER};

/// The fields of the index.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    /// `kind:id`, the document's identity, for replacing and removing it.
    pub key: Field,
    /// [`crate::DocKind::as_str`]; stored, and indexed for the kind filter.
    pub kind: Field,
    pub id: Field,
    pub patient_id: Field,
    /// The title's words; stored for hits and person snippets.
    pub title: Field,
    /// Edge n-grams of the title's words, from one character: as-you-type names.
    pub title_prefix: Field,
    /// Stored only: the free text, for snippets.
    pub text: Field,
    /// Words of the free text, the address and the language.
    pub body: Field,
    /// Edge n-grams of the body's words, from three characters.
    pub body_prefix: Field,
    /// Normalized identifiers (see [`crate::analysis::identifier_key`]).
    pub identifier: Field,
    /// Prefixes of the normalized identifiers, from two characters.
    pub identifier_prefix: Field,
    /// Digit n-grams of the phone numbers (see [`crate::analysis::add_phone_grams`]).
    pub phone: Field,
    /// Stored only: shown in person snippets.
    pub language: Field,
    pub segment: Field,
    pub status: Field,
    pub owner: Field,
}

impl Fields {
    pub(crate) fn schema() -> (Schema, Fields) {
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORD_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let terms = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TERM_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let mut builder = Schema::builder();
        let fields = Fields {
            key: builder.add_text_field("key", STRING),
            kind: builder.add_text_field("kind", STRING | STORED),
            id: builder.add_text_field("id", STORED),
            patient_id: builder.add_text_field("patient_id", STORED),
            title: builder.add_text_field("title", words.clone().set_stored()),
            title_prefix: builder.add_text_field("title_prefix", terms.clone()),
            text: builder.add_text_field("text", STORED),
            body: builder.add_text_field("body", words),
            body_prefix: builder.add_text_field("body_prefix", terms.clone()),
            identifier: builder.add_text_field("identifier", terms.clone()),
            identifier_prefix: builder.add_text_field("identifier_prefix", terms.clone()),
            phone: builder.add_text_field("phone", terms),
            language: builder.add_text_field("language", STORED),
            segment: builder.add_text_field("segment", STRING),
            status: builder.add_text_field("status", STRING),
            owner: builder.add_text_field("owner", STRING),
        };
        (builder.build(), fields)
    }
}
