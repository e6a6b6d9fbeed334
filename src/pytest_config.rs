//! Whether the project's pytest configuration runs async tests without
//! marks: pytest-asyncio's `asyncio_mode = auto`, pytest-trio's
//! `trio_mode = true`, anyio's `anyio_mode = auto`. Read from the file
//! pytest itself would use: in the nearest directory above a path that has
//! one, the first of `pytest.ini`, `.pytest.ini` (always a pytest
//! configuration), `pyproject.toml` (with `[tool.pytest.ini_options]` or
//! `[tool.pytest]`), `tox.ini` (with `[pytest]`), `setup.cfg` (with
//! `[tool:pytest]`).

use crate::transforms::Runtime;
use std::path::{Path, PathBuf};

/// The ini option that turns the runtime's plugin to auto mode.
fn key(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Asyncio => "asyncio_mode",
        Runtime::Trio => "trio_mode",
        Runtime::Anyio => "anyio_mode",
    }
}

fn is_auto(runtime: Runtime, value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'').to_ascii_lowercase();
    match runtime {
        Runtime::Trio => matches!(v.as_str(), "true" | "1" | "yes" | "y" | "on" | "t"),
        _ => v == "auto",
    }
}

/// True when every path's pytest configuration runs async tests of this
/// runtime without marks. A marker in auto mode is harmless and a missing
/// one in strict mode is not, so any doubt answers false.
pub fn auto_mode(paths: &[PathBuf], runtime: Runtime) -> bool {
    !paths.is_empty() && paths.iter().all(|p| nearest(p).is_some_and(|(name, text)| mode_of(&name, &text, runtime)))
}

/// The pytest configuration file that applies to `path`: its name and text.
pub fn nearest(path: &Path) -> Option<(String, String)> {
    let abs = std::path::absolute(path).ok()?;
    let start = if abs.is_dir() { abs.as_path() } else { abs.parent()? };
    for dir in start.ancestors() {
        for name in ["pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"] {
            let Ok(text) = std::fs::read_to_string(dir.join(name)) else { continue };
            if is_config(name, &text) {
                return Some((name.to_string(), text));
            }
        }
    }
    None
}

fn is_config(name: &str, text: &str) -> bool {
    match name {
        "pytest.ini" | ".pytest.ini" => true,
        "pyproject.toml" => toml_table(text).is_some(),
        "tox.ini" => ini_section(text, "pytest").is_some(),
        "setup.cfg" => ini_section(text, "tool:pytest").is_some(),
        _ => false,
    }
}

/// Whether the configuration file turns on auto mode for the runtime.
pub fn mode_of(name: &str, text: &str, runtime: Runtime) -> bool {
    let k = key(runtime);
    match name {
        "pyproject.toml" => toml_table(text).and_then(|t| t.get(k).cloned()).is_some_and(|v| match v {
            toml::Value::String(s) => is_auto(runtime, &s),
            toml::Value::Boolean(b) => b && runtime == Runtime::Trio,
            _ => false,
        }),
        "pytest.ini" | ".pytest.ini" => ini_section(text, "pytest").is_some_and(|s| ini_value(&s, k, runtime)),
        "tox.ini" => ini_section(text, "pytest").is_some_and(|s| ini_value(&s, k, runtime)),
        "setup.cfg" => ini_section(text, "tool:pytest").is_some_and(|s| ini_value(&s, k, runtime)),
        _ => false,
    }
}

/// `[tool.pytest.ini_options]`, else pytest 9's native `[tool.pytest]`.
fn toml_table(text: &str) -> Option<toml::Table> {
    let doc: toml::Table = text.parse().ok()?;
    let pytest = doc.get("tool")?.get("pytest")?.as_table()?;
    match pytest.get("ini_options").and_then(|t| t.as_table()) {
        Some(ini) => Some(ini.clone()),
        None => Some(pytest.clone()),
    }
}

/// The lines of an ini section (`[name]`), if it exists.
pub(crate) fn ini_section(text: &str, name: &str) -> Option<Vec<String>> {
    let mut out: Option<Vec<String>> = None;
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            inside = t[1..t.len() - 1].trim() == name;
            if inside && out.is_none() {
                out = Some(vec![]);
            }
            continue;
        }
        if inside && let Some(v) = out.as_mut() {
            v.push(line.to_string());
        }
    }
    out
}

fn ini_value(lines: &[String], key: &str, runtime: Runtime) -> bool {
    lines.iter().any(|l| {
        let l = l.trim();
        if l.starts_with('#') || l.starts_with(';') {
            return false;
        }
        let Some((k, v)) = l.split_once(['=', ':']) else { return false };
        k.trim() == key && is_auto(runtime, v.split([';', '#']).next().unwrap_or(""))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind_of_file() {
        let a = Runtime::Asyncio;
        assert!(mode_of("pyproject.toml", "[tool.pytest.ini_options]\nasyncio_mode = \"auto\"\n", a));
        assert!(!mode_of("pyproject.toml", "[tool.pytest.ini_options]\nasyncio_mode = \"strict\"\n", a));
        assert!(mode_of("pyproject.toml", "[tool.pytest]\nasyncio_mode = \"auto\"\n", a));
        assert!(!mode_of("pyproject.toml", "[tool.black]\nasyncio_mode = \"auto\"\n", a));
        assert!(mode_of("pytest.ini", "[pytest]\nasyncio_mode = auto\n", a));
        assert!(mode_of("pytest.ini", "[pytest]\nasyncio_mode: auto  # comment\n", a));
        assert!(!mode_of("pytest.ini", "[pytest]\n# asyncio_mode = auto\n", a));
        assert!(!mode_of("pytest.ini", "[other]\nasyncio_mode = auto\n", a));
        assert!(mode_of("tox.ini", "[tox]\nenvlist = py311\n[pytest]\nasyncio_mode = auto\n", a));
        assert!(mode_of("setup.cfg", "[tool:pytest]\nasyncio_mode = auto\n", a));
        assert!(!mode_of("setup.cfg", "[pytest]\nasyncio_mode = auto\n", a));
        assert!(mode_of("pytest.ini", "[pytest]\ntrio_mode = true\n", Runtime::Trio));
        assert!(mode_of("pyproject.toml", "[tool.pytest.ini_options]\ntrio_mode = true\n", Runtime::Trio));
        assert!(!mode_of("pytest.ini", "[pytest]\nasyncio_mode = auto\n", Runtime::Trio));
        assert!(mode_of("pytest.ini", "[pytest]\nanyio_mode = auto\n", Runtime::Anyio));
    }

    #[test]
    fn the_nearest_configuration_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("pyproject.toml"), "[tool.pytest.ini_options]\nasyncio_mode = \"auto\"\n").unwrap();
        std::fs::create_dir_all(root.join("pkg/tests")).unwrap();
        std::fs::write(root.join("pkg/tests/test_a.py"), "").unwrap();
        // A setup.cfg without a pytest section is not a configuration.
        std::fs::write(root.join("pkg/setup.cfg"), "[metadata]\nname = x\n").unwrap();
        let test = root.join("pkg/tests/test_a.py");
        assert!(auto_mode(std::slice::from_ref(&test), Runtime::Asyncio));
        assert!(auto_mode(&[root.join("pkg")], Runtime::Asyncio));
        assert!(!auto_mode(std::slice::from_ref(&test), Runtime::Anyio));
        // A nearer pytest.ini (even empty of the option) decides: strict.
        std::fs::write(root.join("pkg/pytest.ini"), "[pytest]\n").unwrap();
        assert!(!auto_mode(std::slice::from_ref(&test), Runtime::Asyncio));
        assert!(auto_mode(&[root.to_path_buf()], Runtime::Asyncio));
        // Every path must agree.
        assert!(!auto_mode(&[root.to_path_buf(), test], Runtime::Asyncio));
        assert!(!auto_mode(&[], Runtime::Asyncio));
    }
}
