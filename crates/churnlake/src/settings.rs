//! Configuration flows one way: `churnlake.toml` + environment + flags → [`Settings`],
//! resolved once when the command starts and read-only afterwards. Nothing else reads the
//! environment (clap reads `$CHURNLAKE_LAKE` for `--lake`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use churnlake_ingest::NamePattern;
use serde::Deserialize;

use crate::UserError;

/// The default lake when no flag, variable or configuration names one.
pub const DEFAULT_LAKE: &str = "data/lake";

/// The configuration file's name, looked for in the current directory and its parents.
pub const CONFIG_FILE: &str = "churnlake.toml";

/// `churnlake.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The lake (a path or URL).
    pub lake: Option<String>,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub query: QueryConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryConfig {
    /// Report rows one lifecycle pass may read (default 5,000,000, about 1 GiB at the
    /// peak); larger lakes are computed in several passes. `$CHURNLAKE_ROWS_PER_PASS` wins.
    pub rows_per_pass: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Data date = stamp date − this many days (default 1).
    pub data_date_offset_days: Option<i64>,
    /// Files processed at once.
    pub jobs: Option<usize>,
    /// Extra file-name patterns, tried before the defaults.
    #[serde(default)]
    pub patterns: Vec<NamePattern>,
    /// Drop the built-in docs/FORMATS.md patterns and use only `patterns`.
    #[serde(default)]
    pub replace_default_patterns: bool,
    /// Stamps dated before this are rejected (default 2000-01-01).
    pub earliest_stamp: Option<chrono::NaiveDate>,
    /// Stamps dated after this are rejected (default: a year from today).
    pub latest_stamp: Option<chrono::NaiveDate>,
    /// What to write for personal data: `keep` (default), `hash` or `drop`.
    pub pii: Option<String>,
    /// Treat merchant user ids as personal data too (default false).
    pub pii_user_ids: Option<bool>,
    /// The file holding the `hash` key (relative to this file's directory);
    /// `$CHURNLAKE_PII_KEY` and `$CHURNLAKE_PII_KEY_FILE` win. Never the key itself.
    pub pii_key_file: Option<PathBuf>,
}

/// Everything a command needs, resolved once.
#[derive(Debug)]
pub struct Settings {
    config: ConfigFile,
    /// The directory of the configuration file read (its relative paths start there).
    config_dir: Option<PathBuf>,
    /// Report rows per lifecycle pass: `$CHURNLAKE_ROWS_PER_PASS`, else the configuration,
    /// else 0 (the query library's default).
    pub rows_per_pass: u64,
    /// `$CHURNLAKE_PROFILE`: where the series query's profile goes.
    pub profile: Option<PathBuf>,
    /// Options passed to object stores: the usual credential variables of each cloud.
    pub store_options: Vec<(String, String)>,
    /// `$CHURNLAKE_PII_KEY` (the `hash` key itself) and `$CHURNLAKE_PII_KEY_FILE`.
    pii_key_env: Option<Secret>,
    pii_key_file_env: Option<PathBuf>,
}

/// A secret from the environment: never shown by `Debug`.
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Settings {
    /// Reads `explicit`, else the first `churnlake.toml` in the current directory or above
    /// it (as cargo finds `Cargo.toml`), and the environment.
    pub fn resolve(explicit: Option<&Path>) -> Result<Settings> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => find_config_file(),
        };
        let config = Settings::config_file(path.as_deref())?;
        let config_dir = path.as_deref().map(|p| match p.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        });
        let rows_per_pass = match std::env::var("CHURNLAKE_ROWS_PER_PASS") {
            Ok(value) => value.trim().replace('_', "").parse().map_err(|_| {
                UserError(format!("CHURNLAKE_ROWS_PER_PASS=`{value}`: expected a whole number of report rows"))
            })?,
            Err(_) => config.query.rows_per_pass.unwrap_or(0),
        };
        let profile = std::env::var_os("CHURNLAKE_PROFILE").filter(|p| !p.is_empty()).map(PathBuf::from);
        let store_options = std::env::vars()
            .filter(|(k, _)| ["AWS_", "GOOGLE_", "AZURE_"].iter().any(|prefix| k.starts_with(prefix)))
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let pii_key_env = std::env::var("CHURNLAKE_PII_KEY").ok().filter(|k| !k.is_empty()).map(Secret);
        let pii_key_file_env = std::env::var_os("CHURNLAKE_PII_KEY_FILE").filter(|p| !p.is_empty()).map(PathBuf::from);
        Ok(Settings { config, config_dir, rows_per_pass, profile, store_options, pii_key_env, pii_key_file_env })
    }

    fn config_file(path: Option<&Path>) -> Result<ConfigFile> {
        let config = match path {
            Some(p) => {
                tracing::info!(path = %p.display(), "reading the configuration");
                let text = std::fs::read_to_string(p)
                    .map_err(|e| UserError(format!("reading configuration {}: {e}", p.display())))?;
                toml::from_str(&text)
                    .map_err(|e| UserError(format!("configuration {} is not valid: {e}", p.display())))?
            }
            None => ConfigFile::default(),
        };
        Ok(config)
    }

    /// The lake: flag or $CHURNLAKE_LAKE (clap merges those; relative to the current
    /// directory), else the config's (a relative path there is relative to the file's
    /// directory), else the default.
    pub fn lake(&self, flag: Option<&str>) -> String {
        if let Some(lake) = flag {
            return lake.to_owned();
        }
        match (&self.config.lake, &self.config_dir) {
            (Some(lake), Some(dir)) if !lake.contains("://") && Path::new(lake).is_relative() => {
                dir.join(lake).to_string_lossy().into_owned()
            }
            (Some(lake), _) => lake.clone(),
            (None, _) => DEFAULT_LAKE.to_owned(),
        }
    }

    /// The ingest options: defaults, then configuration, then flags.
    pub fn ingest_options(
        &self,
        jobs: Option<usize>,
        dry_run: bool,
        crash_at: Option<&str>,
    ) -> Result<churnlake_ingest::IngestOptions> {
        let mut opts = churnlake_ingest::IngestOptions::default();
        let cfg = &self.config.ingest;
        let mut patterns = cfg.patterns.clone();
        if !cfg.replace_default_patterns {
            patterns.append(&mut opts.patterns);
        }
        opts.patterns = patterns;
        if let Some(days) = cfg.data_date_offset_days {
            opts.data_date_offset_days = days;
        }
        if let Some(n) = jobs.or(cfg.jobs) {
            opts.parallelism = n.max(1);
        }
        opts.dry_run = dry_run;
        if let Some(date) = cfg.earliest_stamp {
            opts.earliest_stamp = date;
        }
        if let Some(date) = cfg.latest_stamp {
            opts.latest_stamp = date;
        }
        if opts.earliest_stamp > opts.latest_stamp {
            return Err(UserError(format!(
                "configuration: earliest_stamp {} is after latest_stamp {}",
                opts.earliest_stamp, opts.latest_stamp
            ))
            .into());
        }
        if let Some(point) = crash_at {
            opts.crash_at = Some(point.parse().map_err(|e| UserError(format!("--crash-at: {e}")))?);
        }
        Ok(opts)
    }
}

impl Settings {
    /// The personal-data settings: `policy` (the flag) else `[ingest] pii` else keep; merchant
    /// user ids too when `user_ids` (the flag) or `[ingest] pii_user_ids`. Under `hash` the
    /// key is read now: `$CHURNLAKE_PII_KEY`, else the file `$CHURNLAKE_PII_KEY_FILE` names,
    /// else `[ingest] pii_key_file`; none, or a short one, is an error before any work.
    pub fn pii_options(&self, policy: Option<&str>, user_ids: bool) -> Result<churnlake_ingest::PiiOptions> {
        let cfg = &self.config.ingest;
        let policy: churnlake_lake::PiiPolicy = match (policy, &cfg.pii) {
            (Some(flag), _) => flag.parse().map_err(|e| UserError(format!("--pii {e}")))?,
            (None, Some(text)) => text.parse().map_err(|e| UserError(format!("configuration: [ingest] pii = {e}")))?,
            (None, None) => churnlake_lake::PiiPolicy::Keep,
        };
        let user_ids = user_ids || cfg.pii_user_ids.unwrap_or(false);
        let key = match policy {
            churnlake_lake::PiiPolicy::Hash => Some(self.pii_key()?),
            _ => None,
        };
        Ok(churnlake_ingest::PiiOptions { policy, key, user_ids })
    }

    fn pii_key(&self) -> Result<churnlake_ingest::PiiKey> {
        let config_file = match (&self.config.ingest.pii_key_file, &self.config_dir) {
            (Some(file), Some(dir)) if file.is_relative() => Some(dir.join(file)),
            (file, _) => file.clone(),
        };
        let (bytes, origin) = match (&self.pii_key_env, &self.pii_key_file_env, config_file) {
            (Some(key), _, _) => (key.0.as_bytes().to_vec(), "$CHURNLAKE_PII_KEY".to_owned()),
            (None, Some(file), _) => (read_key_file(file)?, format!("$CHURNLAKE_PII_KEY_FILE ({})", file.display())),
            (None, None, Some(file)) => (read_key_file(&file)?, format!("[ingest] pii_key_file ({})", file.display())),
            (None, None, None) => {
                return Err(UserError(
                    "pii = \"hash\" needs a key: set $CHURNLAKE_PII_KEY, or name a key file with \
                     $CHURNLAKE_PII_KEY_FILE or `pii_key_file` in the configuration's [ingest] (a key is never \
                     taken from the command line)"
                        .to_owned(),
                )
                .into());
            }
        };
        Ok(churnlake_ingest::PiiKey::new(bytes, &origin).map_err(|e| UserError(e.to_string()))?)
    }
}

/// A key file's bytes, without a final line break.
fn read_key_file(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)
        .map_err(|e| UserError(format!("reading the personal data key file {}: {e}", path.display())))?;
    for end in [b'\n', b'\r'] {
        if bytes.last() == Some(&end) {
            bytes.pop();
        }
    }
    Ok(bytes)
}

/// The first `churnlake.toml` in the current directory or one of its parents.
fn find_config_file() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().map(|dir| dir.join(CONFIG_FILE)).find(|p| p.is_file())
}
