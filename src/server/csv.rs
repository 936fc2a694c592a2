//! CSV files a spreadsheet opens safely (issue 13): comma-separated, UTF-8 with a byte order
//! mark (so spreadsheets read accents correctly), fields quoted when they need it, and cells a
//! spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) written with a
//! leading `'`. A validated phone number (E.164, `+` and digits) is data, not a formula, and is
//! written as it is. The importer undoes exactly that one `'` ([`restore`]); a value that itself
//! starts with `'` before such a character gets one more, so every value reads back as it was.

use bytes::{BufMut, Bytes, BytesMut};

/// What a spreadsheet reads as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The UTF-8 byte order mark every file starts with.
pub const BOM: &[u8] = "\u{feff}".as_bytes();

/// Whether a spreadsheet would run `value` as a formula.
pub fn looks_like_formula(value: &str) -> bool {
    value.starts_with(FORMULA_STARTS)
}

/// Whether `value` is written with a leading `'`: a formula, or a value whose own leading
/// apostrophes stand before a formula character (which [`restore`] would otherwise take).
fn needs_guard(value: &str) -> bool {
    looks_like_formula(value.trim_start_matches('\''))
}

/// A phone number as Roster validates it: `+` then 7 to 15 digits.
fn is_e164(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The cell as read back: of the apostrophes before a formula character, the first is the
/// exporter's, not the user's, and goes.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// Rows of CSV written into a buffer that is handed on in chunks.
pub struct CsvWriter {
    buf: BytesMut,
    first_in_row: bool,
}

impl Default for CsvWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvWriter {
    /// A writer whose first bytes are the byte order mark.
    pub fn new() -> Self {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        buf.put_slice(BOM);
        Self { buf, first_in_row: true }
    }

    /// A text cell, neutralised when it would be a formula.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        if needs_guard(value) {
            self.quoted_if_needed("'", value);
        } else {
            self.quoted_if_needed("", value);
        }
        self
    }

    /// An optional text cell (empty when absent).
    pub fn opt(&mut self, value: Option<&str>) -> &mut Self {
        self.text(value.unwrap_or(""))
    }

    /// A phone number: written as it is when it is a valid E.164 number, else as text.
    pub fn phone(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) if is_e164(v) => {
                self.separate();
                self.buf.put_slice(v.as_bytes());
                self
            }
            other => self.opt(other),
        }
    }

    /// A number or another value whose text never needs quoting.
    pub fn plain(&mut self, value: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        self.separate();
        let _ = write!(StringSink(&mut self.buf), "{value}");
        self
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.buf.put_slice(b"\r\n");
        self.first_in_row = true;
    }

    /// A whole row of text cells.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        for cell in cells {
            self.text(cell);
        }
        self.end_row();
    }

    /// How many bytes wait to be handed on.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes written so far; the writer goes on empty.
    pub fn take(&mut self) -> Bytes {
        self.buf.split().freeze()
    }

    fn separate(&mut self) {
        if !self.first_in_row {
            self.buf.put_u8(b',');
        }
        self.first_in_row = false;
    }

    fn quoted_if_needed(&mut self, prefix: &str, value: &str) {
        let needs = value.contains([',', ';', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ');
        if !needs {
            self.buf.put_slice(prefix.as_bytes());
            self.buf.put_slice(value.as_bytes());
            return;
        }
        self.buf.put_u8(b'"');
        self.buf.put_slice(prefix.as_bytes());
        for part in value.split_inclusive('"') {
            self.buf.put_slice(part.as_bytes());
            if part.ends_with('"') {
                self.buf.put_u8(b'"');
            }
        }
        self.buf.put_u8(b'"');
    }
}

struct StringSink<'a>(&'a mut BytesMut);

impl std::fmt::Write for StringSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut CsvWriter)) -> String {
        let mut w = CsvWriter::new();
        f(&mut w);
        let bytes = w.take();
        assert!(bytes.starts_with(BOM));
        String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap()
    }

    #[test]
    fn fields_are_quoted_only_when_they_need_it() {
        let out = written(|w| {
            w.row(["Acme", "Smith, John", "say \"hi\"", "two\nlines", " padded", "Köln"]);
        });
        assert_eq!(out, "Acme,\"Smith, John\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",Köln\r\n");
    }

    #[test]
    fn formulas_are_neutralised_and_restored_but_phone_numbers_are_data() {
        for dangerous in ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx", "=HYPERLINK(\"http://x\")"] {
            let out = written(|w| {
                w.text(dangerous);
                w.end_row();
            });
            let cell = out.trim_end_matches("\r\n");
            let unquoted = cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')).map(|c| c.replace("\"\"", "\"")).unwrap_or(cell.to_owned());
            assert!(unquoted.starts_with('\''), "{dangerous:?} → {cell:?}");
            assert_eq!(restore(&unquoted), dangerous);
        }
        let out = written(|w| {
            w.phone(Some("+4930123456")).phone(Some("+49 30 1")).phone(None);
            w.end_row();
        });
        assert_eq!(out, "+4930123456,'+49 30 1,\r\n");
        // A user's own leading apostrophe is kept: before ordinary text, and before a formula.
        for value in ["'quoted", "'=x", "''@y", "plain", ""] {
            let out = written(|w| {
                w.text(value);
                w.end_row();
            });
            let cell = out.trim_end_matches("\r\n");
            assert_eq!(restore(cell), value, "{value:?} → {cell:?}");
        }
        assert_eq!(restore("''=x"), "'=x");
        assert_eq!(restore("'quoted"), "'quoted");
    }
}
