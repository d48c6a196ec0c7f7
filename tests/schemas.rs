//! The artefacts' JSON Schemas: generated from the types, committed under `schemas/`, and held to
//! both. A change to a contract's types without `HEADROOM_BLESS=1 cargo test --test schemas`
//! (which rewrites the files, for review in the diff) fails here, and every file the demo writes
//! must validate against its schema and read back to the same JSON.

use std::path::Path;

use headroom::artefact::{
    self, fit::FitReport, forecast::ForecastReport, plan::PlanReport, results::Results, Contract,
};
use serde_json::Value;

fn check<T: Contract>(name: &str) -> Value {
    let generated = artefact::schema::<T>();
    let path = Path::new("schemas").join(format!("{name}.schema.json"));
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if std::env::var_os("HEADROOM_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        committed == text,
        "{} has drifted from the {name} types: rewrite it with HEADROOM_BLESS=1 cargo test --test schemas and review the diff",
        path.display()
    );
    generated
}

/// A file validates against `schema` and reads back as `T` to the same JSON.
fn holds<T: Contract>(schema: &Value, file: &str) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(schema).expect("a valid schema");
    let errors: Vec<String> =
        validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path)).take(5).collect();
    assert!(errors.is_empty(), "{file} does not match its schema: {errors:#?}");
    let typed: T = artefact::parse(&text, file).unwrap_or_else(|e| panic!("{e}"));
    let mut again = Vec::new();
    artefact::to_writer(&typed, &mut again).unwrap();
    let back: Value = serde_json::from_slice(&again).unwrap();
    assert_eq!(back, value, "{file} does not read back to the same JSON");
}

#[test]
fn schemas_match_the_types_and_the_demo_files_match_the_schemas() {
    let results = check::<Results>("results");
    let fit = check::<FitReport>("fit");
    let forecast = check::<ForecastReport>("forecast");
    let plan = check::<PlanReport>("plan");
    // The report fixtures, and the sample `headroom demo` wrote into reports/demo/.
    for dir in ["tests/fixtures/report", "reports/demo"] {
        let sep = if dir.ends_with("report") { "-" } else { "/" };
        for run in ["spike", "sweep"] {
            holds::<Results>(&results, &format!("{dir}/{run}{sep}results.json"));
        }
        holds::<FitReport>(&fit, &format!("{dir}/fit.json"));
        holds::<ForecastReport>(&forecast, &format!("{dir}/forecast.json"));
        holds::<PlanReport>(&plan, &format!("{dir}/plan.json"));
    }
}

#[test]
fn files_of_another_version_or_kind_are_refused_by_name() {
    let fit = std::fs::read_to_string("tests/fixtures/report/fit.json").unwrap();
    let e = artefact::parse::<Results>(&fit, "fit.json").unwrap_err().to_string();
    assert!(e.contains("holds a fit from `headroom fit --format json`, where a results.json"), "{e}");
    let old = fit.replacen("\"schema_version\": 3", "\"schema_version\": 1", 1);
    let e = artefact::parse::<FitReport>(&old, "fit.json").unwrap_err().to_string();
    assert!(e.contains("schema_version 1, where this headroom reads 3"), "{e}");
    let e = artefact::parse::<FitReport>("{\"schema_version\": 3}", "x.json").unwrap_err().to_string();
    assert!(e.contains("no kind"), "{e}");
}
