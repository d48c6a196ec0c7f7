//! The history reader on small hand-made inputs: every finding, every bad cell.

use headroom::ingest::history::{read_from, Columns, History, Options};

fn read(text: &str, opts: &Options) -> Result<History, String> {
    read_from(text.as_bytes(), "h.csv", opts).map_err(|e| e.to_string())
}

fn minutes(rows: &[(u32, &str)]) -> String {
    let mut s = String::from("timestamp,rps\n");
    for (m, v) in rows {
        s.push_str(&format!("2026-01-05T{:02}:{:02}:00Z,{v}\n", m / 60, m % 60));
    }
    s
}

#[test]
fn bad_cells_name_file_line_column_value_and_expectation() {
    let e = read(&minutes(&[(0, "5"), (1, "-2")]), &Options::default()).unwrap_err();
    assert_eq!(e, "h.csv:3: column 'rps': expected a non-negative rate, found '-2'");
    let e = read("timestamp,rps\nyesterday,5\n", &Options::default()).unwrap_err();
    assert!(e.starts_with("h.csv:2: column 'timestamp': expected a time such as"), "{e}");
    assert!(e.ends_with("found 'yesterday'"), "{e}");
    let e = read("time,rps\n1,2\n", &Options::default()).unwrap_err();
    assert!(e.contains("no column named 'timestamp'") && e.contains("--time-column"), "{e}");
    let e = read("timestamp,rps\n", &Options::default()).unwrap_err();
    assert!(e.contains("no data rows"), "{e}");
}

#[test]
fn skip_bad_rows_counts_and_reports_them() {
    let opts = Options { skip_bad_rows: true, ..Options::default() };
    let h = read(&minutes(&[(0, "5"), (1, "x"), (2, "7"), (3, "7")]), &opts).unwrap();
    assert_eq!(h.quality.bad_rows, 1);
    assert!(h.quality.bad_row_examples[0].contains("h.csv:3"));
    assert_eq!(h.rows, 4);
    assert_eq!(h.days[0].rows, 3);
}

#[test]
fn duplicates_out_of_order_and_gaps_are_reported() {
    let h =
        read(&minutes(&[(0, "1"), (1, "2"), (1, "9"), (3, "3"), (2, "4"), (10, "5")]), &Options::default()).unwrap();
    let q = &h.quality;
    assert_eq!((q.duplicates, q.duplicate_lines.clone()), (1, vec![4]));
    assert_eq!((q.out_of_order, q.out_of_order_lines.clone()), (1, vec![6]));
    // 00:03 → 00:10 is a gap of 6 rows (00:02 arrived late but the 00:04..00:09 rows never did).
    assert_eq!(q.gap_count, 2);
    assert_eq!(q.gaps.last().unwrap().missing_rows, 6);
    // The duplicate (9) was dropped; the late row (4) was kept.
    assert_eq!(h.days[0].rows, 5);
    assert_eq!(h.days[0].peak_rps, 5.0);
    assert_eq!(h.days[0].sum_rps, 1.0 + 2.0 + 3.0 + 4.0 + 5.0);
}

#[test]
fn long_zero_runs_are_outages_and_short_ones_are_kept() {
    let mut rows: Vec<(u32, &str)> = (0..60).map(|m| (m, "10")).collect();
    rows[5].1 = "0";
    for r in &mut rows[20..40] {
        r.1 = "0";
    }
    let h = read(&minutes(&rows), &Options::default()).unwrap();
    assert_eq!(h.quality.outages.len(), 1);
    assert_eq!(h.quality.outages[0].rows, 20);
    assert_eq!(h.quality.isolated_zero_rows, 1);
    // The outage rows are not demand; the isolated zero is.
    assert_eq!(h.days[0].rows, 40);
    assert!((h.daily()[0].mean_rps.unwrap() - 390.0 / 40.0).abs() < 1e-12);
    assert!(h.quality.treatments().iter().any(|t| t.contains("outage")));
}

#[test]
fn counts_with_an_interval_offsets_and_unix_seconds() {
    let opts =
        Options { columns: Columns { count: Some("requests".into()), ..Columns::default() }, ..Options::default() };
    let text = "timestamp,requests\n2026-01-05T01:00:00+01:00,120\n2026-01-05T00:01:00Z,60\n2026-01-05T00:02:00Z,30\n";
    let h = read(text, &opts).unwrap();
    assert_eq!(h.interval_s, 60.0);
    assert_eq!(h.days[0].peak_rps, 2.0);
    assert_eq!(h.quality.gap_count + h.quality.out_of_order, 0);
    let unix = "timestamp,rps\n1767571200,4\n1767571260,6\n";
    let h = read(unix, &Options::default()).unwrap();
    assert_eq!(h.daily()[0].label, "2026-01-05");
    assert_eq!(h.daily()[0].mean_rps, Some(5.0));
}

#[test]
fn timestamps_outside_1970_to_2199_are_refused_and_milliseconds_are_told_apart() {
    // One far-future row once made the reader allocate 10^16 bytes.
    let e = read("timestamp,rps\n2026-01-05T00:00:00Z,5\n1e15,5\n", &Options::default()).unwrap_err();
    assert!(e.starts_with("h.csv:3: column 'timestamp'") && e.contains("from 1970 to 2199"), "{e}");
    let e = read("timestamp,rps\n9999-01-01T00:00:00Z,5\n", &Options::default()).unwrap_err();
    assert!(e.contains("from 1970 to 2199"), "{e}");
    // Unix milliseconds (13 digits) are read as such and said to be, never as the year 55969.
    let ms: String = (0..100u64).map(|k| format!("{},{}\n", 1_767_571_200_000 + k * 60_000, 10)).collect::<String>();
    let h = read(&format!("timestamp,rps\n{ms}"), &Options::default()).unwrap();
    assert_eq!(crate_rfc3339(h.first_s), "2026-01-05T00:00:00Z");
    assert_eq!(h.interval_s, 60.0);
    assert!(h.quality.treatments().iter().any(|t| t.contains("Unix milliseconds")));
    // A file that mixes them is refused at the row that changes.
    let e = read("timestamp,rps\n1767571200000,5\n1767571260,5\n", &Options::default()).unwrap_err();
    assert!(e.starts_with("h.csv:3:") && e.contains("Unix milliseconds, as the rows before it are"), "{e}");
}

fn crate_rfc3339(s: f64) -> String {
    headroom::calendar::rfc3339(s)
}
