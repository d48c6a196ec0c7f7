//! What every command shows, before any format: a document of titled blocks (facts with a
//! status, tables, charts, notes). Presenters build one from the core's plain structs;
//! renderers (`output`) lay it out, one per format, and compute nothing.

pub mod chart;

use serde::Serialize;

pub use chart::{Chart, Layer, XAxis};

/// A document: a title, an optional line under it, and blocks in reading order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub title: String,
    /// The files it was made from, named under the title.
    pub sources: Option<Sources>,
    pub blocks: Vec<Block>,
    /// The one table CSV writes, with plain numbers; by default every table.
    pub csv: Option<Table>,
}

/// The headroom that made a document, and the files (with what each holds) it was made from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    pub version: String,
    /// (file, what it holds).
    pub files: Vec<(String, String)>,
}

/// One part of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Labelled values, each with an optional status.
    Facts {
        heading: String,
        facts: Vec<Fact>,
    },
    Table(Table),
    Charts(Vec<Chart>),
    /// Lines that belong to no table.
    Notes {
        heading: String,
        items: Vec<String>,
    },
}

/// How a fact reads at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Warn,
}

/// One line of facts: a label, its value, and how it reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
    pub status: Option<Status>,
}

impl Fact {
    /// A fact without a status.
    pub fn new(label: &str, value: impl Into<String>) -> Self {
        Fact { label: label.into(), value: value.into(), status: None }
    }

    /// The fact with a status.
    pub fn status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }
}

/// One table with an optional heading and notes printed under it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub heading: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Table {
    /// A table with a heading and column names.
    pub fn new(heading: &str, header: &[&str]) -> Self {
        Table { heading: heading.into(), header: header.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    /// Appends a row.
    pub fn row<S: Into<String>>(mut self, cells: impl IntoIterator<Item = S>) -> Self {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Appends a note line.
    pub fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(text.into());
        self
    }
}

impl Document {
    /// A document of tables alone, the common shape of a command's answer.
    pub fn tables(title: impl Into<String>, tables: Vec<Table>) -> Document {
        Document { title: title.into(), blocks: tables.into_iter().map(Block::Table).collect(), ..Default::default() }
    }

    /// Every table, in order.
    pub fn all_tables(&self) -> impl Iterator<Item = &Table> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        })
    }
}
