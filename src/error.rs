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
