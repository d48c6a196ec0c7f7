//! Tables in a terminal 80 columns wide (and in a 0×0 pty, which says it is 0 wide): they fit
//! by wrapping at spaces, and every number the wide table shows is still whole. The commands run
//! in a tmux window 80 columns wide (its screen read back with wrapped lines joined, so a line
//! too long shows whole), and under `script` (util-linux), whose pseudo-terminal has the size
//! set by `stty`. Without tmux that half says so and passes, unless HEADROOM_REQUIRE_TMUX is set
//! (as `.ci/run` does).

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

/// The screen of a tmux window `cols` wide after the command ran in it, or `None` without tmux.
fn in_tmux(args: &str, cols: u16) -> Option<String> {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("HEADROOM_REQUIRE_TMUX").is_none(),
            "HEADROOM_REQUIRE_TMUX is set but tmux is missing"
        );
        eprintln!("skipped: no tmux (apt-get install tmux to run this test)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    // A server of its own (its socket in the temporary folder), with none of the user's settings
    // and a scroll-back that holds the longest output.
    let socket = dir.path().join("tmux.sock");
    let conf = dir.path().join("tmux.conf");
    std::fs::write(&conf, "set -g history-limit 100000\n").unwrap();
    let tmux = |a: &[&str]| {
        let out = Command::new("tmux").arg("-S").arg(&socket).arg("-f").arg(&conf).args(a).output().unwrap();
        assert!(out.status.success(), "tmux {a:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let done = dir.path().join("done");
    let line = format!("{} {args}; echo $? > {}; sleep 120", bin(), done.display());
    let (cols, rows) = (cols.to_string(), "50".to_string());
    tmux(&["new-session", "-d", "-x", &cols, "-y", &rows, "-s", "t", "sh", "-c", &line]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !done.exists() || std::fs::read_to_string(&done).unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "{args}: did not finish in tmux within 120 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&done).unwrap().trim(), "0", "{args} failed in tmux");
    let width = tmux(&["display-message", "-p", "-t", "t", "#{pane_width}"]);
    assert_eq!(width.trim(), cols, "the tmux window is not {cols} columns wide");
    let screen = tmux(&["capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "t"]);
    tmux(&["kill-server"]);
    Some(screen)
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
fn at_80_columns_in_tmux_tables_fit_and_no_number_is_split() {
    fits_at_80(in_tmux);
}

#[test]
fn at_80_columns_in_a_pty_tables_fit_and_no_number_is_split() {
    fits_at_80(in_pty);
}

fn fits_at_80(term: fn(&str, u16) -> Option<String>) {
    let number = Regex::new(r"[-+−]?\d[\d,.]*(?:%|×)?").unwrap();
    for args in COMMANDS {
        let Some(narrow) = term(args, 80) else { return };
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
