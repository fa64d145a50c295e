//! The command line, as clap types. Flags stay raw here; `settings` resolves them.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Daily subscription report drops → a Parquet lake → exact subscription metrics.
#[derive(Debug, Parser)]
#[command(name = "churnlake", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More logging on stderr (-v info, -vv debug, -vvv trace; or CHURNLAKE_LOG=...).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr (no progress bar, no summary).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Configuration file (default: ./churnlake.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Where the lake is: --lake, else $CHURNLAKE_LAKE, else `lake` in churnlake.toml, else data/lake.
#[derive(Debug, Args, Clone)]
pub struct LakeArg {
    /// The lake: a local directory or an object-store URL (s3://, gs://, az://, file://).
    #[arg(long, env = "CHURNLAKE_LAKE", value_name = "LAKE")]
    pub lake: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GrainArg {
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    Demo,
    Large,
    Xl,
}

/// Where and how a result is written.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format (table for terminals; csv/json/parquet for programs).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Arguments of the entity tables (`subscriptions`, `subscribers`).
#[derive(Debug, Args, Clone)]
pub struct EntityArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// The day (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Keep only active or inactive ones.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest daily report drops into the lake (idempotent: re-running is always safe).
    Ingest(IngestArgs),
    /// List the manifest: every source file, its status and row counts.
    Drops(DropsArgs),
    /// Write synthetic drops and their ground truth (for tests, demos and benchmarks).
    Generate(GenerateArgs),
    /// The daily series of actives and flows (per METRICS.md).
    Series(SeriesArgs),
    /// Cancellation rates over a period: Σ cancelled / (Σ active / days).
    Rate(RateArgs),
    /// One row per subscription, as it stood at the end of a day.
    Subscriptions(EntityArgs),
    /// One row per subscriber, as they stood at the end of a day.
    Subscribers(EntityArgs),
    /// Active subscriptions and subscribers at the end of a day.
    Active(ActiveArgs),
    /// Why a subscription counts as it does: its events in order, with sources and anomalies.
    Explain(ExplainArgs),
    /// The lifecycle anomalies of METRICS.md with their source file and line: events dated
    /// before the creation, reactivations of active and cancellations of inactive
    /// subscriptions, events dated after the last data date, events for unknown public ids.
    Anomalies(AnomaliesArgs),
    /// Run SQL over the lake (raw tables, quarantine, derived tables, calendar) with polars.
    Sql(SqlArgs),
    /// Write the subscription, subscriber and series tables to LAKE/derived/ (atomically).
    Build(BuildArgs),
    /// Generate a two-year sample, ingest it, build, and summarise.
    Demo(DemoArgs),
}

/// The arguments of `churnlake ingest`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "Exit codes: 0 every file is in the lake and nothing needs attention; 1 a source holds \
no drop, an entry could not be listed or read, or a file of the lake failed or has quarantined rows not \
acknowledged with --accept-quarantine (re-runs stay 1 until then); 2 an unexpected failure.")]
pub struct IngestArgs {
    /// Folders (scanned recursively), drop files or object-store URLs holding the drops.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub lake: LakeArg,
    /// Summary format: table on stderr, or json on stdout for schedulers.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Classify, decode and type every file and report what the run would do (failed files,
    /// quarantined rows); write nothing, not even the lake directory.
    #[arg(long)]
    pub dry_run: bool,
    /// Acknowledge the failed files and quarantined rows the lake holds when the run starts
    /// (recorded in their manifest entries): they no longer make ingest exit 1. Files new in
    /// this run are not acknowledged.
    #[arg(long)]
    pub accept_quarantine: bool,
    /// Files processed at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Test hook: abort the process at a point (`after-staging:N`, `after-publish:N`, `after-manifest:N`).
    #[arg(long, hide = true, value_name = "POINT")]
    pub crash_at: Option<String>,
}

/// The arguments of `churnlake drops`.
#[derive(Debug, Args, Clone)]
pub struct DropsArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake generate`.
#[derive(Debug, Args, Clone)]
pub struct GenerateArgs {
    /// Output folder (drops/ and truth/ are written inside).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Start from a preset (demo: 2 years; large: ~5 years, ~2 M subscriptions; xl: 10× large).
    #[arg(long, value_enum)]
    pub preset: Option<PresetArg>,
    /// First data date.
    #[arg(long, value_name = "DATE")]
    pub start: Option<NaiveDate>,
    /// Number of days.
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// New subscriptions per day (average).
    #[arg(long, value_name = "N")]
    pub subs_per_day: Option<u32>,
    /// Random seed (same seed, same bytes).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
}

/// The arguments of `churnlake series`.
#[derive(Debug, Args, Clone)]
pub struct SeriesArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// First day (default: the first data date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// Group by a subscription attribute (its latest value), e.g. product.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// day, week (Monday-based) or month: actives at the period's last day, flows summed.
    #[arg(long, value_enum, default_value = "day")]
    pub grain: GrainArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake rate`.
#[derive(Debug, Args, Clone)]
pub struct RateArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[arg(long, value_name = "DATE")]
    pub from: NaiveDate,
    #[arg(long, value_name = "DATE")]
    pub to: NaiveDate,
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// table, csv or json (one object; an array of them with --by).
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake active`.
#[derive(Debug, Args, Clone)]
pub struct ActiveArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake explain`.
#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    pub subscription_id: String,
    #[command(flatten)]
    pub lake: LakeArg,
    /// table or json.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake anomalies`.
#[derive(Debug, Args, Clone)]
pub struct AnomaliesArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// Only events that took effect by the end of this day.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake sql`.
#[derive(Debug, Args, Clone)]
pub struct SqlArgs {
    /// SQL text, or files of it run in order (e.g. queries/lifecycle.sql queries/daily_series.sql).
    #[arg(required = true, value_name = "QUERY_OR_FILE")]
    pub scripts: Vec<String>,
    #[command(flatten)]
    pub lake: LakeArg,
    /// Replace {{NAME}} in the SQL by VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake build`.
#[derive(Debug, Args, Clone)]
pub struct BuildArgs {
    #[command(flatten)]
    pub lake: LakeArg,
}

/// The arguments of `churnlake demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Working folder (drops, truth and lake go inside).
    #[arg(long, value_name = "DIR", default_value = "data/demo")]
    pub dir: PathBuf,
}
