//! A small writer of compact JSON text: objects and arrays built with closures, keys in the
//! order they are written, no white space.
//!
//! Building `serde_json::Value` trees for millions of resources would dominate the run time;
//! this writer appends straight to one reused `String` instead.

use std::fmt::Write as _;

/// An open JSON object; keys are written in call order.
pub(crate) struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

/// An open JSON array.
pub(crate) struct Arr<'a> {
    out: &'a mut String,
    first: bool,
}

/// Writes one JSON object into `out` (appending) with the fields `fill` writes.
pub(crate) fn object(out: &mut String, fill: impl FnOnce(&mut Obj<'_>)) {
    out.push('{');
    let mut obj = Obj { out, first: true };
    fill(&mut obj);
    obj.out.push('}');
}

fn array(out: &mut String, fill: impl FnOnce(&mut Arr<'_>)) {
    out.push('[');
    let mut arr = Arr { out, first: true };
    fill(&mut arr);
    arr.out.push(']');
}

impl Obj<'_> {
    /// Writes `"key":`; keys are ASCII names chosen by this crate, so they need no escaping.
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        push_string(self.out, value);
        self
    }

    /// A string value written by `write`, e.g. a formatted date, without an intermediate String.
    pub fn str_with(&mut self, key: &str, write: impl FnOnce(&mut String)) -> &mut Self {
        self.key(key);
        self.out.push('"');
        write(self.out);
        self.out.push('"');
        self
    }

    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        let _ = write!(self.out, "{value}");
        self
    }

    /// A decimal with one fractional digit, given in tenths (e.g. 72 -> `7.2`).
    pub fn tenths(&mut self, key: &str, tenths: i64) -> &mut Self {
        self.key(key);
        push_tenths(self.out, tenths);
        self
    }

    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    pub fn obj(&mut self, key: &str, fill: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(key);
        object(self.out, fill);
        self
    }

    pub fn arr(&mut self, key: &str, fill: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        self.key(key);
        array(self.out, fill);
        self
    }
}

impl Arr<'_> {
    fn comma(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    pub fn obj(&mut self, fill: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.comma();
        object(self.out, fill);
        self
    }

    pub fn str(&mut self, value: &str) -> &mut Self {
        self.comma();
        push_string(self.out, value);
        self
    }
}

/// Appends `tenths / 10` with exactly one fractional digit.
fn push_tenths(out: &mut String, tenths: i64) {
    if tenths < 0 {
        out.push('-');
    }
    let magnitude = tenths.unsigned_abs();
    let _ = write!(out, "{}.{}", magnitude / 10, magnitude % 10);
}

/// Appends `value` as a JSON string literal (quotes, backslashes and control characters
/// escaped; every other character, accents included, written as UTF-8).
pub(crate) fn push_string(out: &mut String, value: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (at, ch) in value.char_indices() {
        let escape = match ch {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&value[plain_from..at]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", ch as u32);
        } else {
            out.push_str(escape);
        }
        plain_from = at + ch.len_utf8();
    }
    out.push_str(&value[plain_from..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_compact_json_in_call_order() {
        let mut out = String::new();
        object(&mut out, |o| {
            o.str("resourceType", "Patient")
                .int("n", -3)
                .tenths("a1c", 72)
                .bool("active", true);
            o.arr("given", |a| {
                a.str("Zoë").str("say \"hi\"\n\u{1}");
            });
            o.obj("meta", |m| {
                m.str_with("lastUpdated", |s| s.push_str("2026-06-30"));
            });
        });
        assert_eq!(
            out,
            r#"{"resourceType":"Patient","n":-3,"a1c":7.2,"active":true,"given":["Zoë","say \"hi\"\n\u0001"],"meta":{"lastUpdated":"2026-06-30"}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(parsed["given"][1], "say \"hi\"\n\u{1}");
    }

    #[test]
    fn tenths_keep_one_digit() {
        let mut out = String::new();
        push_tenths(&mut out, 70);
        out.push(' ');
        push_tenths(&mut out, -5);
        assert_eq!(out, "7.0 -0.5");
    }
}
