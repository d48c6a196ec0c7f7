//! `${NAME}` in a plan's text, one expander for both engines: a hole is a value an earlier
//! journey step extracted, or else an environment variable, whose value is sent as it is and
//! never quoted in a report.

/// Text with `${name}` holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    /// A value extracted by an earlier step, by its slot.
    Var(usize),
    /// A value from the environment.
    Env(String),
}

impl Template {
    /// Splits `text` into text and holes: a name among `vars` becomes that slot, another one
    /// the environment's value; a name that is neither is an error, worded by `missing`.
    pub fn parse(text: &str, vars: &[String], missing: &dyn Fn(&str) -> String) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            if i > 0 {
                parts.push(Part::Text(rest[..i].to_string()));
            }
            let end = rest[i..].find('}').ok_or_else(|| format!("unclosed ${{ in '{}'", crate::error::quote(text)))?;
            let name = &rest[i + 2..i + end];
            if let Some(slot) = vars.iter().position(|v| v == name) {
                parts.push(Part::Var(slot));
            } else if let Ok(v) = std::env::var(name) {
                parts.push(Part::Env(v));
            } else {
                return Err(missing(name));
            }
            rest = &rest[i + end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template(parts))
    }

    /// The text with every hole filled (a hole whose value is missing stays empty).
    pub fn render(&self, vars: &[Option<String>]) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) | Part::Env(t) => out.push_str(t),
                Part::Var(i) => out.push_str(vars.get(*i).and_then(|v| v.as_deref()).unwrap_or("")),
            }
        }
        out
    }

    /// It has no hole an earlier step fills: every rendering is the same.
    pub fn is_fixed(&self) -> bool {
        !self.0.iter().any(|p| matches!(p, Part::Var(_)))
    }

    /// The values it takes from the environment.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Env(v) => Some(v.as_str()),
            _ => None,
        })
    }
}

/// `text` with every occurrence of each secret replaced by `<redacted>`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().filter(|s| !s.is_empty()).fold(text.to_string(), |t, s| t.replace(s.as_str(), "<redacted>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_slots_or_the_environment() {
        std::env::set_var("HEADROOM_TEMPLATE_TEST", "s3cret");
        let t = Template::parse("a ${x} b ${HEADROOM_TEMPLATE_TEST}", &["x".into()], &|n| format!("no {n}")).unwrap();
        assert_eq!(t.render(&[Some("1".into())]), "a 1 b s3cret");
        assert_eq!(t.secrets().collect::<Vec<_>>(), ["s3cret"]);
        assert_eq!(Template::parse("${nope_zz}", &[], &|n| format!("no {n}")).unwrap_err(), "no nope_zz");
        assert!(Template::parse("${x", &[], &|n| n.into()).unwrap_err().starts_with("unclosed"));
        assert_eq!(redact("Bearer s3cret!", &["s3cret".into()]), "Bearer <redacted>!");
    }
}
