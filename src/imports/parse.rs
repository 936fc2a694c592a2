//! Reading an uploaded CSV file as a spreadsheet wrote it: UTF-8 with or without a byte order
//! mark, comma, semicolon or tab between fields (whichever the header line uses), fields in
//! double quotes that may hold the separator, quotes (doubled) and line breaks. What cannot be
//! read is refused with the line it is on, before anything else happens.

/// One record of the file: its cells and the line of the file it starts on (the header is line 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub line: u32,
    pub cells: Vec<String>,
}

/// A file that could be read: its header and its records (blank lines left out).
#[derive(Debug, PartialEq)]
pub struct Table {
    pub delimiter: u8,
    pub header: Vec<String>,
    pub records: Vec<Record>,
}

/// Why a file could not be read, said so that the person who saved it can fix it.
#[derive(Debug, PartialEq)]
pub struct Unreadable(pub String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text of the file, or which line holds the first byte that is not UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, Unreadable> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Unreadable(
            "The file is UTF-16 text. Save it as “CSV UTF-8 (comma delimited)” and upload it again.".into(),
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        Unreadable(format!(
            "Line {line} is not UTF-8 text (byte 0x{:02X}). Save the file as “CSV UTF-8” and upload it again.",
            bytes[at]
        ))
    })
}

/// The separator the header line uses most, outside quotes: `,` `;` or tab (a tie is `,`).
pub fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0);
    candidates[best]
}

/// Reads the whole file. A quote opened and never closed, or text right after a closing quote,
/// is refused naming the line; a quote inside an unquoted cell is kept as it is (`5" screen`).
pub fn read(bytes: &[u8]) -> Result<Table, Unreadable> {
    let text = decode(bytes)?;
    let delimiter = detect_delimiter(text);
    let mut records = records(text, delimiter as char)?;
    if records.is_empty() {
        return Err(Unreadable("The file is empty: its first line should name the columns.".into()));
    }
    let header = records.remove(0);
    let header: Vec<String> = header.cells.into_iter().map(|h| h.trim().to_owned()).collect();
    if header.iter().all(String::is_empty) {
        return Err(Unreadable("Line 1 is empty: it should name the columns.".into()));
    }
    Ok(Table { delimiter, header, records })
}

fn records(text: &str, delimiter: char) -> Result<Vec<Record>, Unreadable> {
    let mut out = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut line: u32 = 1;
    let mut start = 1;
    let mut quote_line = 0;
    // In a quoted cell; just after its closing quote.
    let (mut quoted, mut closed) = (false, false);
    let mut at_cell_start = true;
    let mut chars = text.chars().peekable();
    let finish = |cells: &mut Vec<String>, cell: &mut String, out: &mut Vec<Record>, start: u32| {
        cells.push(std::mem::take(cell));
        let taken = std::mem::take(cells);
        if !(taken.len() == 1 && taken[0].is_empty()) {
            out.push(Record { line: start, cells: taken });
        }
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => {
                    quoted = false;
                    closed = true;
                }
                '\n' => {
                    line += 1;
                    cell.push('\n');
                }
                _ => cell.push(c),
            }
            continue;
        }
        match c {
            '"' if at_cell_start => {
                quoted = true;
                quote_line = line;
                at_cell_start = false;
            }
            c if c == delimiter => {
                cells.push(std::mem::take(&mut cell));
                closed = false;
                at_cell_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                finish(&mut cells, &mut cell, &mut out, start);
                line += 1;
                start = line;
                closed = false;
                at_cell_start = true;
            }
            _ if closed => {
                return Err(Unreadable(format!(
                    "Line {line}: there is text after a closing quote. A quote inside a quoted cell is written twice (\"\")."
                )));
            }
            _ => {
                cell.push(c);
                at_cell_start = false;
            }
        }
    }
    if quoted {
        return Err(Unreadable(format!("Line {quote_line}: a quoted cell is opened and never closed.")));
    }
    if !cell.is_empty() || !cells.is_empty() {
        finish(&mut cells, &mut cell, &mut out, start);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(table: &Table) -> Vec<Vec<&str>> {
        table.records.iter().map(|r| r.cells.iter().map(String::as_str).collect()).collect()
    }

    #[test]
    fn reads_commas_quotes_and_line_breaks_with_the_lines_records_start_on() {
        let table = read(b"\xEF\xBB\xBFTitle,Description\r\n\"Smith, John\",\"two\nlines \"\"quoted\"\"\"\r\n\r\nPlain,5\" screen\n").unwrap();
        assert_eq!(table.delimiter, b',');
        assert_eq!(table.header, ["Title", "Description"]);
        assert_eq!(cells(&table), [vec!["Smith, John", "two\nlines \"quoted\""], vec!["Plain", "5\" screen"]]);
        assert_eq!(table.records.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 5]);
    }

    #[test]
    fn detects_semicolons_and_tabs_from_the_header() {
        let table = read("Title;City;Note\nA;Köln;1,5\n".as_bytes()).unwrap();
        assert_eq!(table.delimiter, b';');
        assert_eq!(cells(&table), [vec!["A", "Köln", "1,5"]]);
        assert_eq!(read(b"Title\tCity\nA\tB").unwrap().delimiter, b'\t');
        assert_eq!(read(b"\"a;b\",c\nx,y").unwrap().delimiter, b',', "separators inside quotes do not count");
    }

    #[test]
    fn names_the_line_of_a_quote_never_closed() {
        let err = read(b"Title,City\nA,B\n\"C,D\nE,F\n").unwrap_err();
        assert_eq!(err.0, "Line 3: a quoted cell is opened and never closed.");
    }

    #[test]
    fn names_the_line_of_text_after_a_closing_quote() {
        let err = read(b"Title,City\nA,B\nC,\"D\"x\n").unwrap_err();
        assert!(err.0.starts_with("Line 3: there is text after a closing quote"), "{}", err.0);
    }

    #[test]
    fn names_the_line_of_the_first_byte_that_is_not_utf8() {
        let err = read(b"Title,City\nA,B\nC,K\xF6ln\n").unwrap_err();
        assert_eq!(err.0, "Line 3 is not UTF-8 text (byte 0xF6). Save the file as “CSV UTF-8” and upload it again.");
        assert!(read(b"\xFF\xFET\x00").unwrap_err().0.contains("UTF-16"));
    }

    #[test]
    fn an_empty_file_or_header_is_refused() {
        assert!(read(b"").is_err());
        assert!(read(b"\n\n").is_err());
        assert!(read(b",,\nA,B,C").is_err());
    }

    #[test]
    fn the_last_line_needs_no_line_break() {
        let table = read(b"Title\nA\nB").unwrap();
        assert_eq!(cells(&table), [vec!["A"], vec!["B"]]);
    }
}
