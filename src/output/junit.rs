//! JUnit XML, which CI systems show as test results: one suite of checks, each passed or failed
//! with its message. `compare` writes its regression checks, `run` its SLO and validity checks.

use std::io::Write;

use super::html::esc as escape;

/// One check: the group it belongs to (a step, or a step's request), its name, and the failure
/// message when it failed.
pub struct Case {
    pub class: String,
    pub name: String,
    pub failure: Option<String>,
}

/// Writes `cases` as one test suite named `suite`, inside a `testsuites` named `name`.
pub fn write(name: &str, suite: &str, cases: &[Case], out: &mut dyn Write) -> std::io::Result<()> {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="{}" tests="{}" failures="{failures}">"#, escape(name), cases.len())?;
    writeln!(out, r#"  <testsuite name="{}" tests="{}" failures="{failures}">"#, escape(suite), cases.len())?;
    for c in cases {
        let (class, name) = (escape(&c.class), escape(&c.name));
        match &c.failure {
            None => writeln!(out, r#"    <testcase classname="{class}" name="{name}"/>"#)?,
            Some(msg) => {
                writeln!(out, r#"    <testcase classname="{class}" name="{name}">"#)?;
                writeln!(out, r#"      <failure message="{}"/>"#, escape(msg))?;
                writeln!(out, "    </testcase>")?;
            }
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}
