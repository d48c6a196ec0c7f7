//! Errors in what the user gave headroom: each names the input and what was expected.

use thiserror::Error;

/// Bad input: a file, a cell, a column or a value that cannot be used. Exit code 2.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("{file}:{line}: column '{column}': expected {expected}, found '{found}'")]
    BadCell { file: String, line: u64, column: String, expected: String, found: String },
    #[error("{file}:{line}: {message}")]
    BadRow { file: String, line: u64, message: String },
    #[error("{file}: no column named '{column}' (the header has: {available}); name the right one with {flag}")]
    MissingColumn { file: String, column: String, available: String, flag: String },
    #[error("{file}: {message}")]
    BadFile { file: String, message: String },
    #[error("{0}")]
    Usage(String),
}

/// The most characters of input an error quotes.
pub const QUOTED: usize = 200;

/// `text` cut to [`QUOTED`] characters, saying how much was left out: an error never repeats a
/// megabyte of its input.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTED) {
        Some((at, _)) => format!("{}… ({} more characters)", &text[..at], text[at..].chars().count()),
        None => text.to_string(),
    }
}

/// Each line of a message cut to [`QUOTED`] characters beyond a short lead: for messages that
/// quote their input somewhere inside.
pub fn clip(message: &str) -> String {
    message
        .lines()
        .map(|line| if line.chars().count() > QUOTED + 80 { quote(line) } else { line.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}
