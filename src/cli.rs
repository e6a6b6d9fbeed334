//! The command line. Exit codes: 0 ok, 1 `convert --check` found files that
//! would change or `check` found hazards, 2 an error (usage, or a file that
//! could not be read, parsed or converted).

use crate::check;
use crate::engine::{Options, TargetVersion};
use crate::output::{Writer, file_diff};
use crate::passes;
use crate::run::{self, FileReport, Outcome};
use crate::transforms::Tables;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "awaitify", version, about = "Turns synchronous Python into correct asyncio Python.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Convert files in place (or show a diff, or check).
    Convert(ConvertArgs),
    /// Report asyncio hazards (blocking calls in async code, un-awaited
    /// coroutines...) without changing anything.
    Check(CheckArgs),
    /// List the passes, in pipeline order.
    Passes,
    /// List the rules of `check`, with their codes.
    Rules,
    /// Print the documentation of a pass or of a rule (by code).
    Explain {
        /// A pass name (`sleep`) or a rule code (`AWT101`).
        name: String,
    },
    /// Parse the files and do nothing else (benchmark baseline).
    #[command(hide = true)]
    ParseOnly {
        paths: Vec<PathBuf>,
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Target {
    Py39,
    Py310,
    Py311,
    Py312,
    Py313,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
struct ConvertArgs {
    /// Files or directories; `-` reads standard input and writes standard output.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Print a unified diff (for `git apply` / `patch -p1`) and write nothing.
    #[arg(long)]
    diff: bool,
    /// Write nothing; exit 1 if any file would change.
    #[arg(long)]
    check: bool,
    /// The file name to use in messages when reading standard input.
    #[arg(long)]
    stdin_filename: Option<String>,
    /// Run only these passes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Do not run these passes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// The oldest Python version the output must run on [default: py311].
    #[arg(long, value_enum)]
    target_version: Option<Target>,
    /// The async HTTP library `requests` code is converted to [default: httpx].
    #[arg(long, value_enum)]
    http: Option<crate::transforms::HttpBackend>,
    /// The async runtime the output runs on (aiohttp needs asyncio or anyio) [default: asyncio].
    #[arg(long, value_enum)]
    runtime: Option<crate::transforms::Runtime>,
    /// A TOML file with the options of `[tool.awaitify]` at its top level
    /// (instead of the nearest pyproject.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// text: diagnostics and a summary on stderr (the patch on stdout with
    /// --diff); json: one report on stdout, files and summary.
    #[arg(long, value_enum, default_value = "text")]
    output_format: Format,
    /// Glob of paths to skip while walking directories (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Extra rewrite tables in the format of transforms/*.toml (repeatable).
    #[arg(long)]
    tables: Vec<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
    /// Also list unchanged files.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum CheckFormat {
    Text,
    Json,
    Sarif,
    Github,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Files or directories, checked together as one project.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// text (default; coloured on a terminal), json, sarif or github.
    #[arg(long, value_enum, default_value = "text")]
    output_format: CheckFormat,
    /// Report only these rule codes or code prefixes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Do not report these rule codes or code prefixes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// `GLOB:CODE[,CODE]`: ignore these codes in files matching the glob (repeatable).
    #[arg(long)]
    per_file_ignores: Vec<String>,
    /// Rewrite the calls found with the `convert` passes that fix them, then
    /// check again.
    #[arg(long)]
    fix: bool,
    /// With `--fix`: the async HTTP library `requests` code is converted to [default: httpx].
    #[arg(long, value_enum)]
    http: Option<crate::transforms::HttpBackend>,
    /// With `--fix`: the async runtime the output runs on [default: asyncio].
    #[arg(long, value_enum)]
    runtime: Option<crate::transforms::Runtime>,
    /// With `--fix`: the oldest Python version the output must run on [default: py311].
    #[arg(long, value_enum)]
    target_version: Option<Target>,
    /// A TOML file with the options of `[tool.awaitify]` at its top level
    /// (instead of the nearest pyproject.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Glob of paths to skip while walking directories (repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Extra tables in the format of transforms/*.toml (repeatable).
    #[arg(long)]
    tables: Vec<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Do not print the summary.
    #[arg(short, long)]
    quiet: bool,
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Passes => {
            let width = passes::registry().iter().map(|p| p.name().len()).max().unwrap_or(0);
            for p in passes::registry() {
                println!("{:<width$}  {}", p.name(), p.summary());
            }
            0
        }
        Command::Rules => {
            for r in check::rules::registry() {
                println!("{}  {:<34} {}", r.code(), r.name(), r.summary());
            }
            0
        }
        Command::Explain { name } => {
            if let Some(p) = passes::by_name(&name) {
                println!("# {}\n\n{}", p.name(), p.doc());
                0
            } else if let Some(r) = check::rules::by_code(&name) {
                println!("# {} ({})\n\n{}", r.code(), r.name(), r.doc());
                0
            } else {
                eprintln!("error: no pass or rule named `{name}` (see `awaitify passes` and `awaitify rules`)");
                2
            }
        }
        Command::Check(args) => match check_command(args) {
            Ok(code) => code,
            Err(e) => fail(e),
        },
        Command::ParseOnly { paths, threads } => {
            let found = crate::files::find(&paths, &globset::GlobSet::empty());
            let results = run::parse_all(&found.files, threads);
            let failed = results.iter().filter(|r| r.is_err()).count();
            eprintln!("{} parsed, {} failed", n_files(results.len() - failed), failed);
            if failed > 0 { 2 } else { 0 }
        }
        Command::Convert(args) => match convert(args) {
            Ok(code) => code,
            Err(e) => fail(e),
        },
    }
}

/// Prints a run's error; exit code 2. A config error is positioned:
/// `path:line:col: error: message`.
fn fail(e: anyhow::Error) -> i32 {
    match e.downcast_ref::<crate::config::ConfigError>() {
        Some(c) => eprintln!("{c}"),
        None => eprintln!("error: {e:#}"),
    }
    2
}

/// The options of a run: the command line over the config file over the
/// defaults. A flag given on the command line replaces the config's value
/// (lists too); `[[rule]]` rows come only from files.
struct Settings {
    /// Passes (`convert`).
    select: Vec<String>,
    ignore: Vec<String>,
    target: TargetVersion,
    http: crate::transforms::HttpBackend,
    runtime: crate::transforms::Runtime,
    exclude: Vec<String>,
    tables: Vec<PathBuf>,
    rules: Vec<crate::transforms::UserRule>,
}

struct Given<'a> {
    config: Option<&'a PathBuf>,
    paths: &'a [PathBuf],
    select: &'a [String],
    ignore: &'a [String],
    target: Option<Target>,
    http: Option<crate::transforms::HttpBackend>,
    runtime: Option<crate::transforms::Runtime>,
    exclude: &'a [String],
    tables: &'a [PathBuf],
}

fn target_version(t: Target) -> TargetVersion {
    match t {
        Target::Py39 => TargetVersion::Py39,
        Target::Py310 => TargetVersion::Py310,
        Target::Py311 => TargetVersion::Py311,
        Target::Py312 => TargetVersion::Py312,
        Target::Py313 => TargetVersion::Py313,
    }
}

fn settings(g: Given) -> anyhow::Result<Settings> {
    let cfg = crate::config::Config::load(g.config.map(|p| p.as_path()), g.paths)?;
    let pick =
        |cli: &[String], cfg: Option<Vec<String>>| if cli.is_empty() { cfg.unwrap_or_default() } else { cli.to_vec() };
    Ok(Settings {
        select: pick(g.select, cfg.select),
        ignore: pick(g.ignore, cfg.ignore),
        target: g
            .target
            .map(target_version)
            .or(cfg.target_version.map(|t| t.version()))
            .unwrap_or(TargetVersion::Py311),
        http: g.http.or(cfg.http).unwrap_or_default(),
        runtime: g.runtime.or(cfg.runtime).unwrap_or_default(),
        exclude: pick(g.exclude, cfg.exclude),
        tables: if g.tables.is_empty() { cfg.tables.unwrap_or_default() } else { g.tables.to_vec() },
        rules: cfg.rule,
    })
}

impl Settings {
    /// The built-in tables, the `tables` files, then the config's rules.
    fn tables(&self) -> anyhow::Result<Tables> {
        let mut t = Tables::builtin();
        for p in &self.tables {
            t.extend(crate::config::load_tables(p)?);
        }
        t.rule.extend(self.rules.iter().cloned());
        t.http.backend = self.http;
        t.target = self.runtime;
        if self.http == crate::transforms::HttpBackend::Aiohttp && self.runtime == crate::transforms::Runtime::Trio {
            anyhow::bail!(
                "`--http aiohttp` cannot run on trio: aiohttp needs an asyncio event loop; use `--http httpx` (httpx runs on trio) or `--runtime anyio`/`asyncio`"
            );
        }
        if !t.runtime.iter().any(|r| r.name == self.runtime) {
            anyhow::bail!("no [[runtime]] row for `{}` in the tables", self.runtime.name());
        }
        Ok(t)
    }
}

fn options(s: &Settings) -> anyhow::Result<Options> {
    let mut opts = Options::default();
    for name in s.select.iter().chain(&s.ignore) {
        if passes::by_name(name).is_none() {
            anyhow::bail!("no pass named `{name}` (see `awaitify passes`)");
        }
    }
    if !s.select.is_empty() {
        opts.passes.retain(|p| s.select.iter().any(|x| x == p));
    }
    opts.passes.retain(|p| !s.ignore.iter().any(|x| x == p));
    opts.target = s.target;
    opts.tables = s.tables()?;
    Ok(opts)
}

fn convert(args: ConvertArgs) -> anyhow::Result<i32> {
    let set = settings(Given {
        config: args.config.as_ref(),
        paths: &args.paths,
        select: &args.select,
        ignore: &args.ignore,
        target: args.target_version,
        http: args.http,
        runtime: args.runtime,
        exclude: &args.exclude,
        tables: &args.tables,
    })?;
    let mut opts = options(&set)?;
    // The pytest configuration that applies to the files (standard input:
    // to its `--stdin-filename`, else the current directory).
    let config_paths: Vec<PathBuf> = if args.paths.iter().any(|p| p.as_os_str() == "-") {
        vec![args.stdin_filename.as_deref().map_or_else(|| PathBuf::from("."), PathBuf::from)]
    } else if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    opts.pytest_auto = crate::pytest_config::auto_mode(&config_paths, set.runtime);
    opts.entry_points = std::sync::Arc::new(crate::entry_points::find(&config_paths));
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if args.paths.len() > 1 {
            anyhow::bail!("`-` (standard input) cannot be combined with other paths");
        }
        return convert_stdin(&args, opts);
    }
    let ex = crate::files::excludes(&set.exclude).map_err(|e| anyhow::anyhow!(e))?;
    let found = crate::files::find(&args.paths, &ex);
    // Files are written as they are converted (see `run::convert_all_each`);
    // what each write gave is reported below, in path order.
    let writer = (!args.diff && !args.check).then(|| std::sync::Mutex::new(Writer::new()));
    let reports = run::convert_all_each(&found.files, &opts, args.threads, |r| {
        let w = writer.as_ref()?;
        if found.aliases.contains_key(&r.path) {
            return None;
        }
        let Outcome::Changed { decoded, result } = &r.outcome else { return None };
        let new = result.output.as_deref().unwrap_or_default();
        Some(write_file(&mut w.lock().unwrap_or_else(|e| e.into_inner()), r, decoded, new))
    });
    // What the writer removed (stale temporaries), in path order: which
    // write found them first depends on the threads.
    if let Some(w) = &writer {
        let mut notes = std::mem::take(&mut w.lock().unwrap_or_else(|e| e.into_inner()).notes);
        notes.sort();
        for n in notes {
            eprintln!("{n}");
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = found.errors.len();
    let (mut changed, mut unchanged, mut skipped) = (0, 0, found.skipped.len());
    for (p, e) in &found.errors {
        eprintln!("{}: error: {e}", p.display());
    }
    let mut json_files = vec![];
    for (p, target) in &found.skipped {
        let reason = skipped_link(target);
        eprintln!("{}: skipped: {reason}", p.display());
        json_files.push(json_skipped(p, &reason));
    }
    for (r, written) in &reports {
        let display = r.path.to_string_lossy().to_string();
        if let Some(to) = found.aliases.get(&r.path) {
            // Converted (written, diffed, reported) under its other name.
            skipped += 1;
            let reason = format!("another name of {}, converted under that name", to.display());
            if args.verbose && !args.quiet {
                eprintln!("{display}: skipped: {reason}");
            }
            if args.output_format == Format::Json {
                json_files.push(json_skipped(&r.path, &reason));
            }
            continue;
        }
        let mut write_error = None;
        match &r.outcome {
            Outcome::Changed { decoded, result } => {
                changed += 1;
                report_diags(&display, &result.diagnostics, &args);
                let new = result.output.as_deref().unwrap_or_default();
                if args.diff && args.output_format == Format::Text {
                    write!(out, "{}", file_diff(&display, decoded, new))?;
                } else if let Some(Err(e)) = written {
                    eprintln!("{display}: error: {e}");
                    write_error = Some(e.to_string());
                    failed += 1;
                    changed -= 1;
                }
                if args.verbose && !args.quiet {
                    let verb = if args.diff || args.check { "would be converted" } else { "converted" };
                    eprintln!("{display}: {verb} ({} edits)", result.edits);
                }
            }
            Outcome::Unchanged { result } => {
                unchanged += 1;
                report_diags(&display, &result.diagnostics, &args);
                if args.verbose && !args.quiet {
                    eprintln!("{display}: unchanged");
                }
            }
            Outcome::Failed { error } => {
                failed += 1;
                eprintln!("{display}:{}", error_suffix(error));
            }
        }
        if args.output_format == Format::Json {
            let mut entry = json_file(r);
            if let Some(e) = write_error {
                entry["outcome"] = "failed".into();
                entry["error"] = e.into();
            }
            json_files.push(entry);
        }
    }
    if args.output_format == Format::Json {
        for (p, e) in &found.errors {
            json_files.push(serde_json::json!({
                "path": report_path(p), "outcome": "failed", "edits": 0, "diagnostics": [], "error": e,
            }));
        }
        let doc = serde_json::json!({
            "files": json_files,
            "summary": {"converted": changed, "unchanged": unchanged, "failed": failed, "skipped": skipped},
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    }
    if !args.quiet && reports.is_empty() && found.errors.is_empty() && found.skipped.is_empty() {
        eprintln!("nothing to convert: no Python files under {}", display_paths(&args.paths));
    } else if !args.quiet {
        let verb = if args.diff || args.check { "would be converted" } else { "converted" };
        let skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
        eprintln!("{} {verb}, {unchanged} unchanged, {failed} failed{skipped}", n_files(changed));
    }
    Ok(if failed > 0 {
        2
    } else if args.check && changed > 0 {
        1
    } else {
        0
    })
}

/// Writes a converted file in place, if it is still as it was read (see
/// [`Writer::write`]); what the writer has to say is left in `w.notes`.
fn write_file(
    w: &mut Writer,
    r: &FileReport,
    decoded: &crate::source::Decoded,
    new: &str,
) -> Result<(), crate::output::WriteError> {
    let stamp = r.stamp.as_ref().ok_or(crate::output::WriteError::Changed)?;
    w.write(&r.path, &decoded.to_bytes(new), stamp, &decoded.to_bytes(&decoded.text))
}

/// Why a symbolic link found while walking is not converted.
fn skipped_link(target: &std::path::Path) -> String {
    format!(
        "symbolic link to {}, which is not one of the files converted (outside the paths given, or excluded); name the link itself to convert that file",
        target.display()
    )
}

fn json_skipped(path: &std::path::Path, reason: &str) -> serde_json::Value {
    serde_json::json!({
        "path": report_path(path), "outcome": "skipped", "edits": 0, "diagnostics": [], "error": null,
        "reason": reason,
    })
}

/// `path:line:col: error: msg` for positioned errors, `path: error: msg` else.
fn error_suffix(error: &str) -> String {
    let positioned = error.split(':').take(2).all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if positioned {
        let mut parts = error.splitn(3, ':');
        let (l, c, rest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("error: ").unwrap_or(rest);
        format!("{l}:{c}: error: {rest}")
    } else {
        format!(" error: {error}")
    }
}

fn report_diags(display: &str, diags: &[crate::engine::Located], args: &ConvertArgs) {
    if args.quiet || args.output_format == Format::Json {
        return;
    }
    for d in diags {
        eprintln!("{display}:{}:{}: [{}] {}", d.line, d.col, d.pass, d.message);
    }
}

/// `N file` or `N files`.
fn n_files(n: usize) -> String {
    format!("{n} file{}", if n == 1 { "" } else { "s" })
}

/// A path as reports name it: as given, without leading `./` (as the diff
/// names it; an absolute path stays absolute).
fn report_path(p: &std::path::Path) -> String {
    let s = p.to_string_lossy();
    let mut t: &str = &s;
    while let Some(rest) = t.strip_prefix("./") {
        t = rest.trim_start_matches('/');
    }
    if t.is_empty() { s.to_string() } else { t.to_string() }
}

fn json_file(r: &FileReport) -> serde_json::Value {
    let path = report_path(&r.path);
    match &r.outcome {
        Outcome::Changed { result, .. } => serde_json::json!({
            "path": path, "outcome": "changed", "edits": result.edits, "diagnostics": result.diagnostics, "error": null,
        }),
        Outcome::Unchanged { result } => serde_json::json!({
            "path": path, "outcome": "unchanged", "edits": 0, "diagnostics": result.diagnostics, "error": null,
        }),
        Outcome::Failed { error } => serde_json::json!({
            "path": path, "outcome": "failed", "edits": 0, "diagnostics": [], "error": error,
        }),
    }
}

fn convert_stdin(args: &ConvertArgs, opts: Options) -> anyhow::Result<i32> {
    let mut bytes = vec![];
    std::io::stdin().read_to_end(&mut bytes)?;
    let name = args.stdin_filename.clone().unwrap_or_else(|| "-".into());
    let display = name.clone();
    let original = bytes.clone();
    let outcome = run::with_big_stack(move || run::convert_bytes(&bytes, &display, &opts));
    let mut out = std::io::stdout().lock();
    let report = FileReport { path: PathBuf::from(&name), outcome, stamp: None };
    let code = match &report.outcome {
        Outcome::Changed { decoded, result } => {
            report_diags(&name, &result.diagnostics, args);
            let new = result.output.as_deref().unwrap_or_default();
            if args.output_format == Format::Json {
            } else if args.diff {
                write!(out, "{}", file_diff(&name, decoded, new))?;
            } else if !args.check {
                out.write_all(&decoded.to_bytes(new))?;
            }
            if args.check { 1 } else { 0 }
        }
        Outcome::Unchanged { result } => {
            report_diags(&name, &result.diagnostics, args);
            if !args.diff && !args.check && args.output_format == Format::Text {
                // `convert -` is a filter: unchanged input comes out as it went in.
                out.write_all(&original)?;
            }
            0
        }
        Outcome::Failed { error } => {
            eprintln!("{name}:{}", error_suffix(error));
            if !args.diff && !args.check && args.output_format == Format::Text {
                out.write_all(&original)?;
            }
            2
        }
    };
    if args.output_format == Format::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&serde_json::json!({"files": [json_file(&report)]}))?)?;
    }
    Ok(code)
}

fn codes_known(list: &[String], flag: &str) -> anyhow::Result<()> {
    for c in list {
        if !check::rules::registry().iter().any(|r| r.code().starts_with(c.as_str())) || c.is_empty() {
            anyhow::bail!("{flag}: no rule code starts with `{c}` (see `awaitify rules`)");
        }
    }
    Ok(())
}

fn check_command(args: CheckArgs) -> anyhow::Result<i32> {
    codes_known(&args.select, "--select")?;
    codes_known(&args.ignore, "--ignore")?;
    // `select` / `ignore` of the config name passes: not for `check`.
    let set = settings(Given {
        config: args.config.as_ref(),
        paths: &args.paths,
        select: &[],
        ignore: &[],
        target: args.target_version,
        http: args.http,
        runtime: args.runtime,
        exclude: &args.exclude,
        tables: &args.tables,
    })?;
    let mut opts =
        check::CheckOptions { select: args.select.clone(), ignore: args.ignore.clone(), ..Default::default() };
    opts.tables = set.tables()?;
    for spec in &args.per_file_ignores {
        let Some((glob, codes)) = spec.rsplit_once(':') else {
            anyhow::bail!("--per-file-ignores {spec}: expected GLOB:CODE[,CODE]");
        };
        let codes: Vec<String> = codes.split(',').map(|c| c.trim().to_string()).collect();
        codes_known(&codes, "--per-file-ignores")?;
        let g = globset::Glob::new(glob).map_err(|e| anyhow::anyhow!("--per-file-ignores {spec}: {e}"))?;
        opts.per_file_ignores.push((g.compile_matcher(), codes));
    }
    let ex = crate::files::excludes(&set.exclude).map_err(|e| anyhow::anyhow!(e))?;
    let found = crate::files::find(&args.paths, &ex);
    if found.files.is_empty() && found.errors.is_empty() {
        eprintln!("nothing to check: no Python files under {}", display_paths(&args.paths));
        if matches!(args.output_format, CheckFormat::Json | CheckFormat::Sarif) {
            print!("{}", render(&args, &check::Report::default(), &Default::default()));
        }
        return Ok(0);
    }
    for (p, target) in &found.skipped {
        eprintln!("{}: skipped: {}", p.display(), skipped_link(target));
    }
    let mut report = check::check_files(&found.files, &opts, args.threads);
    if args.fix {
        let fixed = fix(&args, &set, &found, &report)?;
        if !args.quiet {
            eprintln!("fixed {}", n_files(fixed));
        }
        report = check::check_files(&found.files, &opts, args.threads);
    }
    for (p, e) in &found.errors {
        report.errors.push(check::CheckError { path: p.to_string_lossy().to_string(), message: e.clone() });
    }
    let mut sources = std::collections::HashMap::new();
    if args.output_format == CheckFormat::Text {
        for f in &report.findings {
            if !sources.contains_key(&f.path)
                && let Ok(b) = std::fs::read(&f.path)
                && let Ok(d) = crate::source::decode(&b)
            {
                sources.insert(f.path.clone(), d.text);
            }
        }
        for e in &report.errors {
            eprintln!("{}:{}", e.path, error_suffix(&e.message));
        }
    }
    print!("{}", render(&args, &report, &sources));
    if !args.quiet {
        let n = report.findings.len();
        let fixable = report.findings.iter().filter(|f| f.fix.is_some()).count();
        let files: std::collections::BTreeSet<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
        let errors = match report.errors.len() {
            0 => String::new(),
            1 => ", 1 error".to_string(),
            e => format!(", {e} errors"),
        };
        if n == 0 {
            eprintln!("no findings in {}{errors}", n_files(report.files));
        } else {
            eprintln!(
                "{n} finding{} in {} of {} ({fixable} fixable with `--fix`){errors}",
                if n == 1 { "" } else { "s" },
                files.len(),
                n_files(report.files)
            );
        }
    }
    Ok(if !report.errors.is_empty() {
        2
    } else if report.findings.is_empty() {
        0
    } else {
        1
    })
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.to_string_lossy().to_string()).collect::<Vec<_>>().join(", ")
}

fn render(args: &CheckArgs, report: &check::Report, sources: &std::collections::HashMap<String, String>) -> String {
    use std::io::IsTerminal;
    match args.output_format {
        CheckFormat::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            check::format::text(report, sources, colour)
        }
        CheckFormat::Json => check::format::json(report),
        CheckFormat::Sarif => check::format::sarif(report),
        CheckFormat::Github => check::format::github(report),
    }
}

/// `check --fix`: `convert` with the passes the findings name (and
/// `colour`, which awaits what turned async), restricted to the call sites
/// found (and the rest of their groups: one session, one `with`), written
/// only to the files with a fixable finding. The other files of the run
/// still inform the cross-module guard. Returns the number of files written.
fn fix(args: &CheckArgs, set: &Settings, found: &crate::files::Found, report: &check::Report) -> anyhow::Result<usize> {
    let files = &found.files;
    let mut wanted: Vec<&'static str> = report.findings.iter().filter_map(|f| f.fix).collect();
    if wanted.is_empty() {
        return Ok(0);
    }
    wanted.push("colour");
    let targets: std::collections::BTreeSet<&str> =
        report.findings.iter().filter(|f| f.fix.is_some()).map(|f| f.path.as_str()).collect();
    let mut only = crate::engine::Sites::default();
    for f in report.findings.iter().filter(|f| f.fix.is_some()) {
        only.entry(f.path.clone()).or_default().insert((f.line, f.col));
    }
    let mut opts = Options { only: Some(std::sync::Arc::new(only)), ..Options::default() };
    opts.passes.retain(|p| wanted.contains(p));
    opts.target = set.target;
    opts.tables = set.tables()?;
    let paths: Vec<PathBuf> = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    opts.entry_points = std::sync::Arc::new(crate::entry_points::find(&paths));
    let mut written = 0;
    let mut writer = Writer::new();
    for r in run::convert_all(files, &opts, args.threads) {
        let display = r.path.to_string_lossy().to_string();
        if !targets.contains(display.as_str()) || found.aliases.contains_key(&r.path) {
            continue;
        }
        match &r.outcome {
            Outcome::Changed { decoded, result } => {
                let new = result.output.as_deref().unwrap_or_default();
                let done = write_file(&mut writer, &r, decoded, new);
                for n in writer.notes.drain(..) {
                    eprintln!("{n}");
                }
                done.map_err(|e| anyhow::anyhow!("{display}: {e}"))?;
                written += 1;
            }
            Outcome::Unchanged { .. } => {}
            Outcome::Failed { error } => eprintln!("{display}:{}", error_suffix(error)),
        }
        if !args.quiet
            && let Outcome::Changed { result, .. } | Outcome::Unchanged { result } = &r.outcome
        {
            for d in &result.diagnostics {
                eprintln!("{display}:{}:{}: [{}] {}", d.line, d.col, d.pass, d.message);
            }
        }
    }
    Ok(written)
}
