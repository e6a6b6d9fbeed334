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
    #[serde(default)]
    pub http: HttpTable,
}

/// The requests -> httpx map (`transforms/http.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTable {
    #[serde(default)]
    pub function: Vec<HttpFunction>,
    #[serde(default)]
    pub session: Vec<HttpSession>,
    #[serde(default)]
    pub method: Vec<HttpMethod>,
    #[serde(default)]
    pub exception: Vec<HttpException>,
    #[serde(default)]
    pub attribute: Vec<HttpAttribute>,
    #[serde(default)]
    pub unsupported: Vec<HttpUnsupported>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFunction {
    pub sync: String,
    pub method: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSession {
    pub sync: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMethod {
    pub name: String,
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpException {
    pub sync: Vec<String>,
    pub httpx: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAttribute {
    pub name: String,
    pub template: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpUnsupported {
    pub name: String,
    pub why: String,
}

impl HttpTable {
    fn extend(&mut self, o: HttpTable) {
        self.function.extend(o.function);
        self.session.extend(o.session);
        self.method.extend(o.method);
        self.exception.extend(o.exception);
        self.attribute.extend(o.attribute);
        self.unsupported.extend(o.unsupported);
    }
}

pub const BUILTIN: &[(&str, &str)] = &[
    ("asyncio.toml", include_str!("../transforms/asyncio.toml")),
    ("http.toml", include_str!("../transforms/http.toml")),
];

impl Tables {
    pub fn builtin() -> Tables {
        let mut t = Tables::default();
        for (name, text) in BUILTIN {
            let more = Tables::parse(text).unwrap_or_else(|e| panic!("built-in table {name} is invalid: {e}"));
            t.extend(more);
        }
        t
    }

    pub fn extend(&mut self, more: Tables) {
        self.call.extend(more.call);
        self.http.extend(more.http);
    }

    pub fn parse(text: &str) -> Result<Tables, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn calls_for<'a>(&'a self, pass: &'a str) -> impl Iterator<Item = &'a CallRule> + 'a {
        self.call.iter().filter(move |r| r.pass == pass)
    }
}
