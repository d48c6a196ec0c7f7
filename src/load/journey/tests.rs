use std::sync::Arc;
use std::time::Duration;

use super::driver::{apportion, JourneyEngine};
use super::*;
use crate::load::http::Target;
use crate::load::mix::RequestMix;
use crate::plan::parse;

const PLAN: &str = r#"
[[journeys]]
name = "buy"
weight = 3
[[journeys.steps]]
name = "token"
path = "/t"
extract = { token = { json = "/token" }, id = { header = "X-Id" }, n = { regex = 'n=(\d+)' } }
[[journeys.steps]]
name = "use"
method = "post"
path = "/u/${id}"
headers = { Authorization = "Bearer ${token}" }
body = "n=${n}"
think = "250ms"

[[journeys]]
name = "look"
[[journeys.steps]]
name = "home"
path = "/"

[profile]
kind = "load"
rate = "10"
duration = "1s"
"#;

fn journeys() -> Vec<Journey> {
    prepare(&parse(PLAN, "p.toml").unwrap().journeys, "/api", "p.toml").unwrap()
}

#[test]
fn values_extracted_by_a_step_fill_the_next_ones() {
    let j = journeys();
    let (token, using) = (&j[0].steps[0], &j[0].steps[1]);
    assert_eq!(using.name, "buy/use");
    assert_eq!(using.think, Some(Duration::from_millis(250)));
    let headers = [("x-id".to_string(), "42".to_string())];
    let mut vars = vec![None; j[0].vars.len()];
    for (slot, _, how) in &token.extract {
        vars[*slot] = Some(how.apply(&headers, br#"{"token": "t1.9", "n": "n=7"}"#).unwrap());
    }
    assert_eq!(using.path.render(&vars), "/api/u/42");
    assert_eq!(using.headers[0].1.render(&vars), "Bearer t1.9");
    assert_eq!(using.body.as_ref().unwrap().render(&vars), "n=7");
}

#[test]
fn extractions_say_what_they_missed() {
    let j = Extract::Json("/a/0/b".into());
    assert_eq!(j.apply(&[], br#"{"a": [{"b": 12}]}"#).unwrap(), "12");
    assert!(j.apply(&[], b"{}").unwrap_err().contains("/a/0/b"));
    assert!(j.apply(&[], b"<html>").unwrap_err().contains("not JSON"));
    assert!(Extract::Header("Location".into()).apply(&[], b"").unwrap_err().contains("Location"));
    let r = Extract::Regex(regex::Regex::new("id=[0-9]+").unwrap());
    assert_eq!(r.apply(&[], b"x id=5 y").unwrap(), "id=5");
    assert!(r.apply(&[], b"none").is_err());
}

#[test]
fn variables_must_come_from_an_earlier_step_or_the_environment() {
    let plan = |path: &str| {
        PLAN.replace("path = \"/u/${id}\"", &format!("path = \"{path}\""))
            .replace("path = \"/t\"", "path = \"/t/${id}\"")
    };
    let e = prepare(&parse(&plan("/u"), "p.toml").unwrap().journeys, "", "p.toml").unwrap_err().to_string();
    assert!(e.contains("journeys[0] \"buy\": step 1 \"token\": path") && e.contains("this same step"), "{e}");
    let p = PLAN.replace("path = \"/u/${id}\"", "path = \"/u/${HEADROOM_TEST_UNSET_VAR}\"");
    let e = prepare(&parse(&p, "p.toml").unwrap().journeys, "", "p.toml").unwrap_err().to_string();
    assert!(e.contains("step 2 \"use\": path") && e.contains("export HEADROOM_TEST_UNSET_VAR"), "{e}");
    let p = PLAN.replace("name = \"look\"", "name = \"buy\"");
    let e = prepare(&parse(&p, "p.toml").unwrap().journeys, "", "p.toml").unwrap_err().to_string();
    assert!(e.contains("journeys[1] \"buy\": name"), "{e}");
}

#[test]
fn users_are_split_by_weight_and_every_journey_gets_one() {
    assert_eq!(apportion(8, &[3, 1]), [6, 2]);
    assert_eq!(apportion(2, &[9, 1]), [1, 1]);
    assert_eq!(apportion(1, &[1, 1]).iter().sum::<usize>(), 1);
    assert_eq!(apportion(10, &[1, 1, 1]).iter().sum::<usize>(), 10);
}

#[test]
fn each_journey_draws_its_share_of_the_one_schedule() {
    let base = RequestMix::new(Target::parse("http://127.0.0.1:1").unwrap(), vec![], Duration::from_secs(1), 4);
    let e = JourneyEngine::new(Arc::new(base), journeys(), false);
    assert_eq!(e.names(), ["buy/token", "buy/use", "look/home"]);
    // Weights 3:1 rotate as buy, buy, look, buy; each journey's tickets are its own slots.
    let tickets = |j: usize| (0..6).map(|m| e.ticket(j, m)).collect::<Vec<_>>();
    assert_eq!(tickets(0), [0, 1, 3, 4, 5, 7]);
    assert_eq!(tickets(1), [2, 6, 10, 14, 18, 22]);
}
