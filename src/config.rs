//! Configuration files: `[tool.awaitify]` in the nearest `pyproject.toml`
//! that has one, or a `--config FILE` whose top level is that table. The
//! options are the long options of `convert` in kebab-case, plus `[[rule]]`
//! rows (the `rules` pass). Unknown keys and wrong types are errors that
//! name the file, line and column.

use crate::transforms::{HttpBackend, Runtime, UserRule};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `--target-version` spelled in a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetName {
    Py39,
    Py310,
    Py311,
    Py312,
    Py313,
}

impl TargetName {
    pub fn version(self) -> crate::engine::TargetVersion {
        use crate::engine::TargetVersion as T;
        match self {
            TargetName::Py39 => T::Py39,
            TargetName::Py310 => T::Py310,
            TargetName::Py311 => T::Py311,
            TargetName::Py312 => T::Py312,
            TargetName::Py313 => T::Py313,
        }
    }
}

/// The `[tool.awaitify]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Passes to run (`convert`).
    pub select: Option<Vec<String>>,
    /// Passes to skip (`convert`).
    pub ignore: Option<Vec<String>>,
    pub target_version: Option<TargetName>,
    pub http: Option<HttpBackend>,
    pub runtime: Option<Runtime>,
    /// Globs of paths to skip while walking.
    pub exclude: Option<Vec<String>>,
    /// Extra tables (relative to the config file's directory).
    pub tables: Option<Vec<PathBuf>>,
    /// User rules.
    #[serde(default)]
    pub rule: Vec<UserRule>,
    /// The file it came from (for messages); set by the loader.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    awaitify: Option<Config>,
}

/// A config error: `path:line:col: message`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn located(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let at = u32::try_from(span.start).unwrap_or(u32::MAX);
            let (line, col) = crate::source::line_col(text, at.into());
            ConfigError(format!("{}:{line}:{col}: error: {message}", path.display()))
        }
        None => ConfigError(format!("{}: error: {message}", path.display())),
    }
}

/// A `--tables` file (or a `tables` entry of the config).
pub fn load_tables(path: &Path) -> Result<crate::transforms::Tables, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{}: error: cannot read: {e}", path.display())))?;
    crate::transforms::Tables::parse(&text).map_err(|e| located(path, &text, &e))
}

impl Config {
    /// Reads a `--config` file: its top level is the `[tool.awaitify]` table.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: error: cannot read: {e}", path.display())))?;
        let mut c: Config = toml::from_str(&text).map_err(|e| located(path, &text, &e))?;
        c.path = Some(path.to_path_buf());
        c.resolve_paths(path);
        Ok(c)
    }

    /// `[tool.awaitify]` of a `pyproject.toml`, if it has one.
    pub fn from_pyproject(path: &Path) -> Result<Option<Config>, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: error: cannot read: {e}", path.display())))?;
        // Only a file that mentions the table is ours to parse.
        if !text.contains("tool.awaitify") && !text.contains("[tool]") {
            return Ok(None);
        }
        let p: Pyproject = toml::from_str(&text).map_err(|e| located(path, &text, &e))?;
        let Some(mut c) = p.tool.and_then(|t| t.awaitify) else { return Ok(None) };
        c.path = Some(path.to_path_buf());
        c.resolve_paths(path);
        Ok(Some(c))
    }

    /// The nearest `pyproject.toml` with a `[tool.awaitify]` table, walking
    /// up from `start` (a file or a directory).
    pub fn discover(start: &Path) -> Result<Option<Config>, ConfigError> {
        let start = crate::files::lexical_absolute(start);
        let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
        while let Some(d) = dir {
            let candidate = d.join("pyproject.toml");
            if candidate.is_file()
                && let Some(c) = Config::from_pyproject(&candidate)?
            {
                return Ok(Some(c));
            }
            dir = d.parent();
        }
        Ok(None)
    }

    /// `--config FILE` if given, else the discovered `pyproject.toml`
    /// (from the first path, or the current directory for `-`).
    pub fn load(explicit: Option<&Path>, paths: &[PathBuf]) -> Result<Config, ConfigError> {
        if let Some(p) = explicit {
            return Config::from_file(p);
        }
        let start = match paths.first() {
            Some(p) if p.as_os_str() != "-" => p.clone(),
            _ => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        Ok(Config::discover(&start)?.unwrap_or_default())
    }

    fn resolve_paths(&mut self, file: &Path) {
        let base = file.parent().unwrap_or(Path::new("."));
        if let Some(t) = &mut self.tables {
            for p in t.iter_mut() {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
        // A glob matches a path as walked (`legacy/x.py` from the project
        // root), a file name, or, anchored at the config's directory, the
        // absolute path (`files::find` tries all three).
        if let Some(ex) = &mut self.exclude {
            let base = crate::files::lexical_absolute(base);
            let anchored: Vec<String> = ex
                .iter()
                .filter(|g| !Path::new(g.as_str()).is_absolute() && !g.starts_with('*'))
                .map(|g| base.join(g.trim_start_matches("./")).to_string_lossy().to_string())
                .collect();
            ex.extend(anchored);
        }
    }
}
