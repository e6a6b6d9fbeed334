//! Declarative rewrite tables (`transforms/*.toml`), embedded in the binary.
//! Users can load more tables in the same format.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CallRule {
    /// The pass that applies this rule.
    pub pass: String,
    /// Fully qualified sync callable, e.g. `time.sleep`.
    pub sync: String,
    /// Fully qualified async replacement, e.g. `asyncio.sleep`.
    #[serde(rename = "async")]
    pub async_: String,
    /// Module to import for the replacement.
    pub import: String,
    /// Whether the new call is awaited.
    #[serde(rename = "await")]
    pub await_: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    #[serde(default)]
    pub call: Vec<CallRule>,
}

pub const BUILTIN: &[(&str, &str)] = &[("asyncio.toml", include_str!("../transforms/asyncio.toml"))];

impl Tables {
    pub fn builtin() -> Tables {
        let mut t = Tables::default();
        for (name, text) in BUILTIN {
            let more = Tables::parse(text).unwrap_or_else(|e| panic!("built-in table {name} is invalid: {e}"));
            t.call.extend(more.call);
        }
        t
    }

    pub fn parse(text: &str) -> Result<Tables, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn calls_for<'a>(&'a self, pass: &'a str) -> impl Iterator<Item = &'a CallRule> + 'a {
        self.call.iter().filter(move |r| r.pass == pass)
    }
}
