//! Tables in a terminal 80 columns wide (and in a 0×0 pty, which says it is 0 wide): they fit
//! by wrapping at spaces, and every number the wide table shows is still whole. The commands run
//! under `script` (util-linux), which gives them a pseudo-terminal of the size set by `stty`.

use std::process::Command;

use regex::Regex;

fn bin() -> String {
    assert_cmd::cargo::cargo_bin("headroom").display().to_string()
}

/// The command's output in a pseudo-terminal `cols` wide, or `None` without `script`.
fn in_pty(args: &str, cols: u16) -> Option<String> {
    let probe = Command::new("script").arg("--version").output();
    if probe.is_err() {
        eprintln!("skipped: no `script` (util-linux) to make a pseudo-terminal");
        return None;
    }
    let line = format!("stty cols {cols} rows 50; {} {args}", bin());
    let out = Command::new("script").args(["-qec", &line, "/dev/null"]).output().unwrap();
    assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).replace('\r', ""))
}

/// The output piped (no terminal: tables as wide as their content).
fn piped(args: &str) -> String {
    let out = Command::new("sh").args(["-c", &format!("{} {args}", bin())]).output().unwrap();
    assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The table rows of a rendering.
fn table_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| l.starts_with(['│', '┌', '╞', '└', '├']))
}

const COMMANDS: &[&str] = &[
    "forecast models/history/bikeshare_dc_hourly.csv --count-column trips --timezone -05:00 --horizon 3",
    "forecast models/history/enwiki_monthly.csv --time-column month --count-column requests --horizon 3",
    "history models/history/nasa_ksc_requests_1min.csv --by day",
    "plan models/example.toml --start 2027-01 --months 6",
    "fit models/specsdm91.csv --concurrency-column load --at 64",
    "compare tests/fixtures/report/sweep-results.json tests/fixtures/report/sweep-results.json",
    "calc queue --rate 90 --service-time 10ms --servers 1",
];

#[test]
fn at_80_columns_tables_fit_and_no_number_is_split() {
    let number = Regex::new(r"[-+−]?\d[\d,.]*(?:%|×)?").unwrap();
    for args in COMMANDS {
        let Some(narrow) = in_pty(args, 80) else { return };
        for line in table_lines(&narrow) {
            assert!(line.chars().count() <= 80, "{args}: a line of {} columns:\n{line}", line.chars().count());
        }
        let wide = piped(args);
        let cells: Vec<&str> = table_lines(&narrow).flat_map(|l| l.split(['│', '┆'])).map(str::trim).collect();
        for line in table_lines(&wide) {
            for cell in line.split(['│', '┆']).map(str::trim) {
                for word in cell.split_whitespace().filter(|w| number.is_match(w)) {
                    let whole = cells.iter().any(|c| c.split_whitespace().any(|w| w == word));
                    assert!(whole, "{args}: '{word}' (of '{cell}') is split at 80 columns:\n{narrow}");
                }
            }
        }
    }
}

#[test]
fn a_terminal_that_says_it_is_0_wide_gets_80_columns_not_1() {
    let Some(out) = in_pty("calc littles --throughput 1500 --latency 200ms", 0) else { return };
    let widest = table_lines(&out).map(|l| l.chars().count()).max().unwrap();
    assert!((30..=80).contains(&widest), "{widest} columns:\n{out}");
    assert!(out.contains("1500 req/s"), "{out}");
}
