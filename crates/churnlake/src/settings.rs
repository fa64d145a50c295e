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
        // variables that are not Unicode are not ours (and would make `std::env::vars` panic)
        let env: Vec<(String, String)> =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        let store_options = store_options(&env, home_dir().as_deref())?;
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
        opts.store_options = self.store_options.clone();
        if let Some(point) = crash_at {
            opts.crash_at = Some(point.parse().map_err(|e| UserError(format!("--crash-at: {e}")))?);
        }
        Ok(opts)
    }
}

/// The options object stores are opened with (lake and drop sources alike): every
/// `AWS_*`, `GOOGLE_*` and `AZURE_*` variable of `env` (lower-cased, as `object_store`'s
/// builders read them: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, `GOOGLE_SERVICE_ACCOUNT`,
/// `AZURE_STORAGE_ACCOUNT_NAME`, ...), then what the AWS profile (`AWS_PROFILE`, else
/// `default`) of the shared files gives and the variables do not: keys and token (only when
/// `AWS_ACCESS_KEY_ID` is unset: never a key of one with the secret of the other), region,
/// endpoint. `AWS_ENDPOINT_URL_S3` stands for `AWS_ENDPOINT_URL` when that is unset.
pub fn store_options(env: &[(String, String)], home: Option<&Path>) -> Result<Vec<(String, String)>> {
    let mut options: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| ["AWS_", "GOOGLE_", "AZURE_"].iter().any(|prefix| k.starts_with(prefix)))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    if var("AWS_ENDPOINT_URL").is_none()
        && let Some(endpoint) = var("AWS_ENDPOINT_URL_S3")
    {
        options.push(("aws_endpoint_url".into(), endpoint));
    }
    let named = var("AWS_PROFILE").or_else(|| var("AWS_DEFAULT_PROFILE"));
    let profile = named.clone().unwrap_or_else(|| "default".to_owned());
    let file = |variable: &str, default: &str| -> Option<PathBuf> {
        var(variable).map(PathBuf::from).or_else(|| home.map(|h| h.join(".aws").join(default)))
    };
    let keys_set = var("AWS_ACCESS_KEY_ID").is_some();
    let mut found = false;
    let mut from_profile: Vec<(String, String)> = Vec::new();
    // credentials: `[name]`; config: `[profile name]` (`[default]` for the default)
    let sections = [
        (file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), profile.clone()),
        (
            file("AWS_CONFIG_FILE", "config"),
            if profile == "default" { profile.clone() } else { format!("profile {profile}") },
        ),
    ];
    for (path, section) in sections {
        let Some(path) = path else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Some(values) = ini_section(&text, &section) else { continue };
        found = true;
        for (key, value) in values {
            let option = match key.as_str() {
                "aws_access_key_id" => "aws_access_key_id",
                "aws_secret_access_key" => "aws_secret_access_key",
                "aws_session_token" => "aws_session_token",
                "region" => "aws_region",
                "endpoint_url" => "aws_endpoint_url",
                _ => continue,
            };
            // keys come as a set: from the variables or from the profile, never mixed
            let credential = option != "aws_region" && option != "aws_endpoint_url";
            if credential && keys_set {
                continue;
            }
            if !options.iter().chain(&from_profile).any(|(k, _)| k == option) {
                from_profile.push((option.to_owned(), value));
            }
        }
    }
    if let Some(name) = named
        && !found
    {
        return Err(
            UserError(format!("AWS_PROFILE=`{name}`: no such profile in the AWS credentials or config file")).into()
        );
    }
    options.extend(from_profile);
    Ok(options)
}

/// The `key = value` lines of section `[name]` of an INI text (the AWS shared files).
fn ini_section(text: &str, name: &str) -> Option<Vec<(String, String)>> {
    let mut inside = false;
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = header.split_whitespace().collect::<Vec<_>>().join(" ") == name;
            if inside {
                found.get_or_insert_with(Vec::new);
            }
            continue;
        }
        if inside
            && let Some((key, value)) = line.split_once('=')
            && let Some(values) = found.as_mut()
        {
            values.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    found
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn get<'a>(options: &'a [(String, String)], key: &str) -> Option<&'a str> {
        options.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn store_options_take_the_variables_then_the_profile() {
        let home = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(home.path().join(".aws")).expect("dir");
        std::fs::write(
            home.path().join(".aws/credentials"),
            "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n\
             [team]\naws_access_key_id=TEAM\naws_secret_access_key=teamsecret\naws_session_token=tok\n",
        )
        .expect("write");
        std::fs::write(
            home.path().join(".aws/config"),
            "[default]\nregion = eu-west-1\n[profile team]\nregion = us-east-2\nendpoint_url = http://127.0.0.1:9000\n",
        )
        .expect("write");
        let got = store_options(&env(&[("AWS_PROFILE", "team"), ("PATH", "/bin")]), Some(home.path())).expect("ok");
        assert_eq!(get(&got, "aws_access_key_id"), Some("TEAM"));
        assert_eq!(get(&got, "aws_secret_access_key"), Some("teamsecret"));
        assert_eq!(get(&got, "aws_session_token"), Some("tok"));
        assert_eq!(get(&got, "aws_region"), Some("us-east-2"));
        assert_eq!(get(&got, "aws_endpoint_url"), Some("http://127.0.0.1:9000"));
        assert_eq!(get(&got, "path"), None);

        // the variables win over the profile; the default profile without AWS_PROFILE
        let got = store_options(&env(&[("AWS_REGION", "ap-south-1"), ("AWS_ACCESS_KEY_ID", "ENV")]), Some(home.path()))
            .expect("ok");
        assert_eq!(get(&got, "aws_access_key_id"), Some("ENV"));
        assert_eq!(get(&got, "aws_secret_access_key"), None, "a profile's secret beside the variable's key");
        assert_eq!(get(&got, "aws_region"), Some("ap-south-1"));
        assert_eq!(got.iter().filter(|(k, _)| k == "aws_access_key_id").count(), 1);
        let got = store_options(&env(&[]), Some(home.path())).expect("ok");
        assert_eq!(get(&got, "aws_access_key_id"), Some("DEF"));
        assert_eq!(get(&got, "aws_secret_access_key"), Some("defsecret"));
        assert_eq!(get(&got, "aws_region"), Some("eu-west-1"));
        assert_eq!(get(&got, "aws_endpoint_url"), None);

        // a named profile that does not exist is the user's error
        let error = store_options(&env(&[("AWS_PROFILE", "nope")]), Some(home.path())).expect_err("no such profile");
        assert!(error.to_string().contains("AWS_PROFILE=`nope`"), "{error}");
        // no files, no profile asked for: just the variables
        let none = tempfile::tempdir().expect("temp dir");
        let got = store_options(&env(&[("AWS_ENDPOINT_URL_S3", "http://s3.local")]), Some(none.path())).expect("ok");
        assert_eq!(got, env(&[("aws_endpoint_url_s3", "http://s3.local"), ("aws_endpoint_url", "http://s3.local")]));
    }
}
