//! The command line, as clap types. Flags stay raw here; `settings` resolves them.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Daily subscription report drops → a Parquet lake → exact subscription metrics.
#[derive(Debug, Parser)]
#[command(name = "churnlake", version, propagate_version = true, after_help = TOP_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

// The options every command takes, shown under their own heading.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// More logging on stderr (-v info, -vv debug, -vvv trace; or CHURNLAKE_LOG=...).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr (no progress bar, no summary).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Configuration file (default: the first churnlake.toml in the current directory or
    /// above it); paths in it are relative to its own directory.
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

/// A knowledge date: the lake as it stood when only the drops stamped by then had arrived.
#[derive(Debug, Args, Clone, Default)]
pub struct KnownArg {
    /// Compute from the drops known on this day only (stamp date ≤ DATE), exactly as a lake
    /// holding just those would: reproduces a report made that day.
    #[arg(long, value_name = "DATE")]
    pub as_known_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
    Parquet,
    Pdf,
}

impl Format {
    /// Its `--format` name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Parquet => "parquet",
            Format::Pdf => "pdf",
        }
    }
}

/// The formats of the commands that write frames (series, tables, active, anomalies, sql).
pub const FRAME_FORMATS: &[Format] = &[Format::Table, Format::Csv, Format::Json, Format::Parquet];
/// The formats of the `report` kinds (the frame formats and PDF).
pub const PDF_FORMATS: &[Format] = &[Format::Table, Format::Csv, Format::Json, Format::Parquet, Format::Pdf];
/// The formats of `drops` and `rate`.
pub const TEXT_FORMATS: &[Format] = &[Format::Table, Format::Csv, Format::Json];
/// The formats of `explain` and of `ingest`'s summary.
pub const REPORT_FORMATS: &[Format] = &[Format::Table, Format::Json];

/// A `--format` parser that offers (and accepts) only `allowed`.
fn formats(allowed: &'static [Format]) -> impl TypedValueParser<Value = Format> {
    let names: Vec<&'static str> = allowed.iter().map(|f| f.name()).collect();
    PossibleValuesParser::new(names).try_map(|name| Format::from_str(&name, false))
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
    /// Output format: table for terminals, the others for programs [default: the one
    /// --out's extension names (.csv, .json, .parquet, .txt for table), else table].
    #[arg(long = "format", id = "format", value_name = "FORMAT", value_parser = formats(FRAME_FORMATS))]
    pub format_flag: Option<Format>,
    /// Write to this file instead of stdout (its folder must exist); without --format its
    /// extension sets the format, and an explicit --format wins over the extension.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// The format to write: --format, else from --out's extension, else table (settled
    /// by `commands::run` before the command starts).
    #[arg(skip)]
    pub format: Format,
}

/// `--chart`: a chart kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChartArg {
    /// bars side by side, one per series or group (the default look of an insight)
    Bar,
    /// bars of the --by groups stacked (needs --by)
    Stacked,
    /// lines over dates
    Line,
    /// shares of a whole over categories (not over time)
    Pie,
    /// the numbers as a grid
    Table,
}

/// Draw the result instead of writing it.
#[derive(Debug, Args, Clone, Default)]
pub struct ChartArgs {
    /// Draw the result as a chart into --out FILE.svg or FILE.png (required with --chart;
    /// --format does not apply): bar, stacked, line, pie or table.
    #[arg(long, value_enum, value_name = "KIND")]
    pub chart: Option<ChartArg>,
}

/// Arguments of the entity tables (`subscriptions`, `subscribers`).
#[derive(Debug, Args, Clone)]
pub struct EntityArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// The day (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Keep only active or inactive ones.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Under the top-level help: where the definitions are, and the exit codes.
const TOP_HELP: &str = "\
Every number follows docs/METRICS.md; ingest accepts the drops of docs/FORMATS.md.
`churnlake COMMAND --help` shows a command's options and examples.

Exit codes: 0 ok; 1 bad input (a usage error, a refused request, a data problem reported
on stderr); 2 unexpected failure.";

const INGEST_HELP: &str = "\
Examples:
  churnlake ingest /srv/drops --lake data/lake
  churnlake ingest s3://acme-drops/daily --lake s3://acme-data/churnlake --format json
  churnlake ingest drops/ --dry-run
  churnlake ingest drops/ more/drops/ one_file.csv --accept-quarantine
  CHURNLAKE_PII_KEY_FILE=/etc/churnlake/pii.key churnlake ingest drops/ --pii hash
  CHURNLAKE_PII_KEY_FILE=new.key churnlake ingest drops/ --pii hash --rewrite-pii   (rotate the key)

Exit codes: 0 every file is in the lake and nothing needs attention; 1 a source holds no drop, an
entry could not be listed or read, or a file of the lake failed or has quarantined rows not
acknowledged with --accept-quarantine (re-runs stay 1 until then); 2 an unexpected failure.";

const DROPS_HELP: &str = "\
Examples:
  churnlake drops --lake data/lake
  churnlake drops --out manifest.json";

const GENERATE_HELP: &str = "\
Examples:
  churnlake generate --out data/gen --days 90 --seed 7
  churnlake generate --out data/large --preset large";

const SERIES_HELP: &str = "\
Examples:
  churnlake series --from 2024-01-01 --to 2024-03-31 --grain week
  churnlake series --by product --out series.csv";

const REVENUE_HELP: &str = "\
Examples:
  churnlake revenue --from 2024-01-01 --to 2024-03-31 --grain month
  churnlake revenue --by product --out revenue.parquet

MRR = price × quantity × 30.4375 ÷ frequency_days (30.4375 = 365.25 / 12) with the attributes in \
effect on each day, summed exactly and printed rounded half to even to cents; arpu = mrr ÷ active \
subscribers (empty when none). Movements on D: new, reactivation, expansion, contraction, \
churned, so that mrr(D) = mrr(D−1) + new + reactivation + expansion − contraction − churned. \
With --by X, a subscription is in the group of X in effect that day: a switch is contraction in \
the old group and expansion in the new. A subscription missing price, quantity or frequency (or \
with a frequency of 0) is active with no MRR and counted in mrr_unknown_subscriptions.";

const COHORTS_HELP: &str = "\
Examples:
  churnlake cohorts
  churnlake cohorts --level subscribers --format csv --out cohorts.csv
  churnlake cohorts --chart table --out triangle.svg

A subscription's cohort is the month of its created date (a subscriber's, of their first \
subscription's). Each cell is the share of the cohort active at the end of the month `age` months \
later, for every month end within the lake's first..last data date; `size` counts the whole \
cohort. The table is the triangle (one row per cohort, one column per age, shares in %); CSV, \
JSON and Parquet have one row per cell: cohort, age, size, active, share (six decimals). \
--chart table draws the triangle (shares in %), bar the share of each cohort after 1, 3, 6 and 12 \
months, line each cohort's share at every month end.";

const CANCELLATIONS_HELP: &str = "\
Examples:
  churnlake cancellations --from 2024-01-01 --to 2024-03-31
  churnlake cancellations --from 2024-01-01 --to 2024-03-31 --by product --format csv
  churnlake cancellations --from 2024-01-01 --to 2024-01-31 --by cancelled_within_24h

Each cancellation event of the period (a distinct subscription and cancel date of the \
cancellation reports) counts once, in the group its own report row gives (the newest row of that \
event), not the subscription's latest value as in `series --by`. Columns: the group, \
cancellations, cancelled_within_24h (the row's 24 Hour Cancel flag), share_cancelled_within_24h \
(a fraction), median_days_from_creation (cancel date − created date), subscriptions (distinct).";

const RATE_HELP: &str = "\
Examples:
  churnlake rate --from 2024-01-01 --to 2024-01-31
  churnlake rate --from 2024-01-01 --to 2024-01-31 --by product --format json
  churnlake rate --from 2024-01-01 --to 2024-01-31 --definition all

JSON is one object: the period's rates over the whole lake (from, to, days, definition, \
subscription_cancels, average_active_subscriptions, subscription_numerator, \
subscription_denominator, subscription_cancellation_rate, and the same five for \
subscribers), then `by` (the --by column, or null) and `rows`: one such object per group \
with --by (its first key the group, named after the column), or the one row of the whole \
lake without it. With --definition all, an array of such objects, one per definition. Rates \
are fractions; null when the denominator is 0. A(a−1) on the lake's first data date counts \
the subscriptions created before it (the series' opening balance).";

const SUBSCRIPTIONS_HELP: &str = "\
Examples:
  churnlake subscriptions --status active --out active.parquet
  churnlake subscriptions --as-of 2024-01-31 --format csv";

const SUBSCRIBERS_HELP: &str = "\
Examples:
  churnlake subscribers --status inactive
  churnlake subscribers --as-of 2024-01-31 --out subscribers.json";

const ACTIVE_HELP: &str = "\
Examples:
  churnlake active
  churnlake active --as-of 2024-01-31 --by product --format csv";

const EXPLAIN_HELP: &str = "\
Examples:
  churnlake explain 1000003
  churnlake explain 1000003 --format json --out 1000003.json";

const ANOMALIES_HELP: &str = "\
Examples:
  churnlake anomalies
  churnlake anomalies --as-of 2024-01-31 --out anomalies.csv";

const SQL_HELP: &str = "\
Examples:
  churnlake sql \"SELECT product, COUNT(*) AS n FROM subscriptions GROUP BY product\"
  churnlake sql queries/lifecycle.sql queries/daily_series.sql --format csv
  churnlake sql queries/lifecycle.sql queries/daily_series.sql queries/cancellation_rate.sql \\
    --param from=2024-01-01 --param to=2024-01-31 --format json

Tables: subscriptions, cancellations, subscriber_events, orders, inventory,
crm_subscriptions (those ingested), quarantine, calendar (every data date), and
derived_subscriptions, derived_subscribers, derived_series once `churnlake build` ran.";

const BUILD_HELP: &str = "\
Examples:
  churnlake build --lake data/lake
  churnlake sql \"SELECT * FROM derived_series ORDER BY date DESC LIMIT 7\"";

const DEMO_HELP: &str = "\
Examples:
  churnlake demo
  churnlake demo --dir /tmp/churnlake-demo";

const CHECK_HELP: &str = "\
Examples:
  churnlake check
  churnlake check --fail-on warn --format json --out checks.json";

const RECONCILE_HELP: &str = "\
Examples:
  churnlake reconcile --dashboard dashboard.csv
  churnlake reconcile --dashboard data/sample/truth/series.csv --format csv --out gaps.csv";

const DIFF_HELP: &str = "\
Examples:
  churnlake diff --known-on 2024-02-03 --known-on 2024-03-01
  churnlake diff --known-on 2024-02-03 --known-on 2024-03-01 --from 2024-01-01 --to 2024-01-31 --format json";

const REPORT_HELP: &str = "\
Examples:
  churnlake report html --out report.html
  churnlake report subscriptions --where \"current_status = 'active'\" --columns subscription_id,product,price
  churnlake report cancellations --from 2024-01-01 --to 2024-01-31 --group-by cancel_reason
  churnlake report orders --preview
  churnlake report subscribers --out subscribers.pdf

Kinds: html (the self-contained HTML report), subscriptions, subscribers (the tables, as of a day), cancellations, reactivations,
orders (one row per event). `churnlake report KIND --help` lists each kind's options.";

const REPORT_SUBSCRIPTIONS_HELP: &str = "\
Examples:
  churnlake report subscriptions --where \"current_status = 'active' AND price >= 20\" --preview
  churnlake report subscriptions --group-by product --out by-product.pdf
  churnlake report subscriptions --as-of 2024-01-31 --columns subscription_id,product,current_status --format csv

Columns: the `subscriptions` table's, and `currency` (the base currency of price and
discount_price). Money is exact (two decimals); group-by sums are exact too.";

const REPORT_SUBSCRIBERS_HELP: &str = "\
Examples:
  churnlake report subscribers --where \"active_subscriptions > 1\"
  churnlake report subscribers --group-by current_status --format json

Columns: the `subscribers` table's.";

const REPORT_CANCELLATIONS_HELP: &str = "\
Examples:
  churnlake report cancellations --from 2024-01-01 --to 2024-01-31 --group-by cancel_reason
  churnlake report cancellations --where \"cancelled_within_24h\" --out quick-cancels.pdf

One row per cancellation event of the cancellation reports (each distinct subscription and
cancel date; a re-sent row is not a second event), with the first row's file and line.
--from/--to bound the cancel date.";

const REPORT_REACTIVATIONS_HELP: &str = "\
Examples:
  churnlake report reactivations --from 2024-01-01 --to 2024-03-31 --group-by product
  churnlake report reactivations --where \"subscription_id IS NULL\"

One row per reactivation (each distinct public id and date among the code-9 events), with
the subscription the newest report row maps its public id to (empty when no report carries
it). --from/--to bound the event date.";

const REPORT_ORDERS_HELP: &str = "\
Examples:
  churnlake report orders --from 2024-01-01 --to 2024-01-31 --group-by product_id
  churnlake report orders --where \"order_total > 50\" --format csv --out big-orders.csv

The orders table as delivered (its columns typed by name), one row per order row, and
`currency` (the base currency of its money columns, unless the files carry a currency
column). --from/--to bound the data date.";
const INSIGHT_HELP: &str = "\
Examples:
  churnlake insight --event cancelled --by cancel_reason
  churnlake insight --event cancelled --by product --grain month --chart stacked --out cancels.svg
  churnlake insight --event order --measure amount --grain week --where \"sku LIKE 'TEA-%'\" --out orders.csv
  churnlake insight --event created --by product --underlying --out created.parquet

Events are the series' state changes (created = new_subscriptions, cancelled =
cancelled_subscriptions, reactivated = reactivated_subscriptions, per day and group) and the
orders report's orders (one per order id). --where and --by take the events' columns (see
--underlying); --by uses each subscription's latest attributes, as `series --by` does.";

const REPORT_HTML_HELP: &str = "\
Examples:
  churnlake report html --out report.html
  churnlake report html --from 2024-01-01 --to 2024-06-30 --out h1.html

The page is one file with its charts as inline SVG: it opens offline in any browser.";

const COMPLETIONS_HELP: &str = "\
Examples:
  churnlake completions bash > ~/.local/share/bash-completion/completions/churnlake
  churnlake completions zsh > ~/.zfunc/_churnlake
  churnlake completions fish > ~/.config/fish/completions/churnlake.fish";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest daily report drops into the lake (idempotent: re-running is always safe).
    #[command(after_help = INGEST_HELP, mut_arg("format", |a| a.value_parser(formats(REPORT_FORMATS))))]
    Ingest(IngestArgs),
    /// List the manifest: every source file, its status and row counts.
    #[command(after_help = DROPS_HELP, mut_arg("format", |a| a.value_parser(formats(TEXT_FORMATS))))]
    Drops(DropsArgs),
    /// Write synthetic drops and their ground truth (for tests, demos and benchmarks).
    #[command(after_help = GENERATE_HELP)]
    Generate(GenerateArgs),
    /// The daily series of actives and flows (per docs/METRICS.md).
    #[command(after_help = SERIES_HELP)]
    Series(SeriesArgs),
    /// Monthly recurring revenue per day: MRR, ARPU and the MRR movements (docs/METRICS.md
    /// "Revenue"), optionally per group of an attribute in effect that day.
    #[command(after_help = REVENUE_HELP)]
    Revenue(RevenueArgs),
    /// Retention cohorts: per creation month, the share still active at each month end.
    #[command(after_help = COHORTS_HELP)]
    Cohorts(CohortsArgs),
    /// Why people cancel: the period's cancellation events counted per reason (or another
    /// attribute of each event's own report row), with 24-hour cancels and days from creation.
    #[command(after_help = CANCELLATIONS_HELP)]
    Cancellations(CancellationsArgs),
    /// Cancellation rates over a period: Σ cancelled / (Σ active / days).
    #[command(after_help = RATE_HELP, mut_arg("format", |a| a.value_parser(formats(TEXT_FORMATS))))]
    Rate(RateArgs),
    /// One row per subscription, as it stood at the end of a day.
    #[command(after_help = SUBSCRIPTIONS_HELP)]
    Subscriptions(EntityArgs),
    /// One row per subscriber, as they stood at the end of a day.
    #[command(after_help = SUBSCRIBERS_HELP)]
    Subscribers(EntityArgs),
    /// Active subscriptions and subscribers at the end of a day.
    #[command(after_help = ACTIVE_HELP)]
    Active(ActiveArgs),
    /// Why a subscription counts as it does: its events in order, with sources and anomalies.
    #[command(after_help = EXPLAIN_HELP, mut_arg("format", |a| a.value_parser(formats(REPORT_FORMATS))))]
    Explain(ExplainArgs),
    /// The lifecycle anomalies of docs/METRICS.md with their source file and line: events
    /// dated before the creation, reactivations of active and cancellations of inactive
    /// subscriptions, events dated after the last data date, events for unknown public ids.
    #[command(after_help = ANOMALIES_HELP)]
    Anomalies(AnomaliesArgs),
    /// Run SQL over the lake (raw tables, quarantine, derived tables, calendar) with polars.
    #[command(after_help = SQL_HELP)]
    Sql(SqlArgs),
    /// Write the subscription, subscriber and series tables to LAKE/derived/ (atomically).
    #[command(after_help = BUILD_HELP)]
    Build(BuildArgs),
    /// Generate a two-year sample, ingest it, build, and summarise.
    #[command(after_help = DEMO_HELP)]
    Demo(DemoArgs),
    /// The data checks: missing and late drops, re-deliveries, failed files, quarantined
    /// rows, anomalies, disagreements between the reports (exit 1 at --fail-on).
    #[command(after_help = CHECK_HELP, mut_arg("format", |a| a.value_parser(formats(REPORT_FORMATS))))]
    Check(CheckArgs),
    /// Compare the series with numbers copied from the platform's dashboard: every
    /// differing day and metric, with its likely causes.
    #[command(after_help = RECONCILE_HELP, mut_arg("format", |a| a.value_parser(formats(TEXT_FORMATS))))]
    Reconcile(ReconcileArgs),
    /// The restatement of the series between two knowledge dates: every (date, metric) that
    /// changed, with the drops that arrived in between.
    #[command(after_help = DIFF_HELP, mut_arg("format", |a| a.value_parser(formats(TEXT_FORMATS))))]
    Diff(DiffArgs),
    /// Ready-made reports: the HTML page (`report html`), and tables filtered (--where), their
    /// columns chosen, grouped, previewed and exported (table, CSV, JSON, Parquet, PDF).
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Count or sum lifecycle events and orders per period and breakdown value (an insight),
    /// as a table or a chart; --underlying gives the events behind it.
    #[command(after_help = INSIGHT_HELP)]
    Insight(InsightArgs),
}

impl Command {
    /// The command's name, its `--chart` kind when one is asked for, and its output (for the
    /// commands that draw charts).
    pub fn chart_mut(&mut self) -> Option<(&'static str, ChartArg, &mut OutputArgs)> {
        let (name, chart, output) = match self {
            Command::Series(a) => ("series", a.chart.chart, &mut a.output),
            Command::Rate(a) => ("rate", a.chart.chart, &mut a.output),
            Command::Insight(a) => ("insight", a.chart.chart, &mut a.output),
            Command::Revenue(a) => ("revenue", a.chart.chart, &mut a.output),
            Command::Cohorts(a) => ("cohorts", a.chart.chart, &mut a.output),
            _ => return None,
        };
        chart.map(|chart| (name, chart, output))
    }

    /// The command's name, its result output and the formats it writes, for the commands
    /// that write a result through `--format` / `--out`.
    pub fn output_mut(&mut self) -> Option<(&'static str, &mut OutputArgs, &'static [Format])> {
        match self {
            Command::Drops(a) => Some(("drops", &mut a.output, TEXT_FORMATS)),
            Command::Series(a) => Some(("series", &mut a.output, FRAME_FORMATS)),
            Command::Rate(a) => Some(("rate", &mut a.output, TEXT_FORMATS)),
            Command::Revenue(a) => Some(("revenue", &mut a.output, FRAME_FORMATS)),
            Command::Cohorts(a) => Some(("cohorts", &mut a.output, FRAME_FORMATS)),
            Command::Cancellations(a) => Some(("cancellations", &mut a.output, FRAME_FORMATS)),
            Command::Subscriptions(a) => Some(("subscriptions", &mut a.output, FRAME_FORMATS)),
            Command::Subscribers(a) => Some(("subscribers", &mut a.output, FRAME_FORMATS)),
            Command::Active(a) => Some(("active", &mut a.output, FRAME_FORMATS)),
            Command::Explain(a) => Some(("explain", &mut a.output, REPORT_FORMATS)),
            Command::Anomalies(a) => Some(("anomalies", &mut a.output, FRAME_FORMATS)),
            Command::Sql(a) => Some(("sql", &mut a.output, FRAME_FORMATS)),
            Command::Check(a) => Some(("check", &mut a.output, REPORT_FORMATS)),
            Command::Reconcile(a) => Some(("reconcile", &mut a.output, TEXT_FORMATS)),
            Command::Diff(a) => Some(("diff", &mut a.output, TEXT_FORMATS)),
            Command::Report(a) => a.kind.output_mut(),
            Command::Insight(a) => Some(("insight", &mut a.output, FRAME_FORMATS)),
            Command::Ingest(_)
            | Command::Generate(_)
            | Command::Build(_)
            | Command::Demo(_)
            | Command::Completions(_) => None,
        }
    }
}

/// The arguments of `churnlake ingest`.
#[derive(Debug, Args, Clone)]
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
    /// What to write for personal data (email addresses, first and last names, and merchant
    /// user ids with --pii-user-ids): keep them, hash them (HMAC-SHA-256 under the key in
    /// $CHURNLAKE_PII_KEY, or the file $CHURNLAKE_PII_KEY_FILE or `[ingest] pii_key_file`
    /// names), or drop them (null). Default: `[ingest] pii`, else keep.
    #[arg(long, value_name = "POLICY", value_parser = ["keep", "hash", "drop"])]
    pub pii: Option<String>,
    /// Treat merchant user ids as personal data too (`[ingest] pii_user_ids = true`).
    #[arg(long)]
    pub pii_user_ids: bool,
    /// Write every file of the lake again under this run's personal-data policy and key (a
    /// policy change or a key rotation; without it such a run is refused). The sources must
    /// hold every file the lake holds.
    #[arg(long)]
    pub rewrite_pii: bool,
    #[command(flatten)]
    pub wait: WaitArg,
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
    #[command(flatten)]
    pub known: KnownArg,
    /// First day (default: the first data date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day, included; not before --from (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// Group by a subscription attribute (its latest value), e.g. product.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// day, week (Monday-based) or month: actives at the period's last day, flows summed.
    #[arg(long, value_enum, default_value = "day")]
    pub grain: GrainArg,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// A column the chart draws (repeatable) [default: active_subscriptions and
    /// active_subscribers; with --by, active_subscriptions per group].
    #[arg(long = "chart-column", value_name = "COLUMN")]
    pub chart_columns: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake revenue`.
#[derive(Debug, Args, Clone)]
pub struct RevenueArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// First day (default: the first data date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day, included; not before --from (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// Group by a subscription attribute as in effect on each day, e.g. product.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// day, week (Monday-based) or month: mrr and arpu at the period's last day, movements summed.
    #[arg(long, value_enum, default_value = "day")]
    pub grain: GrainArg,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake cohorts`.
#[derive(Debug, Args, Clone)]
pub struct CohortsArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// Count subscriptions (cohort: the created month) or subscribers (their first
    /// subscription's month; active while one of their subscriptions is).
    #[arg(long, value_enum, default_value = "subscriptions")]
    pub level: LevelArg,
    /// One triangle per value of a subscription attribute (its latest value), e.g. product.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `cohorts --level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// Subscriptions, by the month of their created date
    Subscriptions,
    /// Subscribers, by the month of their first subscription
    Subscribers,
}

/// The arguments of `churnlake cancellations`.
#[derive(Debug, Args, Clone)]
pub struct CancellationsArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// First day of the period (cancel dates).
    #[arg(long, value_name = "DATE")]
    pub from: NaiveDate,
    /// Last day of the period (included; not before --from).
    #[arg(long, value_name = "DATE")]
    pub to: NaiveDate,
    /// Count per this attribute of each event's own report row (cancel_reason, product,
    /// cancelled_within_24h, …).
    #[arg(long, value_name = "COLUMN", default_value = "cancel_reason")]
    pub by: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake rate`.
#[derive(Debug, Args, Clone)]
pub struct RateArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// First day of the period.
    #[arg(long, value_name = "DATE")]
    pub from: NaiveDate,
    /// Last day of the period (included; not before --from).
    #[arg(long, value_name = "DATE")]
    pub to: NaiveDate,
    /// One row per value of a subscription attribute (its latest value), e.g. product.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// The churn definition (docs/METRICS.md "Churn definitions"); `all` gives one result
    /// per definition. Over the n days a (--from) .. b (--to): C = cancels, N = new, A(D) =
    /// active at the end of D, L = active at the end of a−1 and not at the end of b.
    #[arg(long, value_enum, default_value = "ordergroove", value_name = "DEFINITION")]
    pub definition: DefinitionArg,
    /// One result per day, week (Monday-based) or month of the period instead of one for
    /// the whole period (the first and last periods cut at --from and --to).
    #[arg(long, value_enum)]
    pub grain: Option<GrainArg>,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `rate --definition`: one churn definition, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DefinitionArg {
    /// C ÷ (Σ A(D) ÷ n): the platform's own dashboard
    Ordergroove,
    /// C ÷ A(a−1): churned ÷ customers at the start
    StartOfPeriod,
    /// C ÷ (A(a−1) + N): everyone who could have churned
    StartPlusNew,
    /// L ÷ A(a−1): logo churn of the starting base (reactivated ones are not lost)
    Cohort,
    /// Every definition, side by side
    All,
}

/// The arguments of `churnlake active`.
#[derive(Debug, Args, Clone)]
pub struct ActiveArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// The day (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// One row per value of a subscription attribute (its latest value), e.g. product.
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake explain`.
#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// A subscription id, or a public subscription id (32 hex) when no subscription has that id.
    #[arg(value_name = "ID")]
    pub subscription_id: String,
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// The day (default: the last data date): the state at its end, events after it left out.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake anomalies`.
#[derive(Debug, Args, Clone)]
pub struct AnomaliesArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
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
    #[command(flatten)]
    pub known: KnownArg,
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
    #[command(flatten)]
    pub wait: WaitArg,
    /// Test hook: abort the process once N tables of the set are in place (`after-table:N`).
    #[arg(long, hide = true, value_name = "POINT")]
    pub crash_at: Option<String>,
}

/// How long a writer waits for the lake's lock.
#[derive(Debug, Args, Clone)]
pub struct WaitArg {
    /// Wait up to this many seconds for another writer (an `ingest` or `build` still
    /// running) to release the lake's lock, instead of exiting 1 at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 0, env = "CHURNLAKE_WAIT_LOCK")]
    pub wait_lock: u64,
}

impl WaitArg {
    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.wait_lock)
    }
}

/// The arguments of `churnlake demo`.
#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Working folder (drops, truth and lake go inside).
    #[arg(long, value_name = "DIR", default_value = "data/demo")]
    pub dir: PathBuf,
}

/// When `churnlake check` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any `error` finding (a missing day, a failed file).
    Error,
    /// Any `warn` or `error` finding.
    Warn,
    /// Never (report only).
    Never,
}

/// The arguments of `churnlake check`.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// Exit 1 when a finding is at or above this level.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake reconcile`.
#[derive(Debug, Args, Clone)]
pub struct ReconcileArgs {
    /// CSV copied from the dashboard: a `date` column and any of the series' columns (or the
    /// dashboard's headings, e.g. "Active Subscriptions at Day's End", "Subscription Cancels").
    #[arg(long, value_name = "FILE")]
    pub dashboard: PathBuf,
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake completions`.
#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The arguments of `churnlake diff`.
#[derive(Debug, Args, Clone)]
pub struct DiffArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    /// The two knowledge dates, earlier first (give the flag twice): the figures as known on
    /// each, from the drops stamped by then.
    #[arg(long = "known-on", value_name = "DATE", required = true, num_args = 1, action = clap::ArgAction::Append)]
    pub known_on: Vec<NaiveDate>,
    /// First day of the series compared (default: every day of either side).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day of the series compared.
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `insight --event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InsightEventArg {
    /// a subscription created (the series' new_subscriptions)
    Created,
    /// a subscription going inactive (the series' cancelled_subscriptions)
    Cancelled,
    /// a subscription going active again (the series' reactivated_subscriptions)
    Reactivated,
    /// an order of the orders report
    Order,
}

/// `insight --measure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MeasureArg {
    /// the number of events
    Count,
    /// the sum of the events' amounts (orders: the order total; subscription events: the
    /// subscription's price × quantity)
    Amount,
}

/// The arguments of `churnlake insight`.
#[derive(Debug, Args, Clone)]
pub struct InsightArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// The event counted: created, cancelled, reactivated or order.
    #[arg(long, value_enum)]
    pub event: InsightEventArg,
    /// count (number of events) or amount (sum of their amounts).
    #[arg(long, value_enum, default_value = "count")]
    pub measure: MeasureArg,
    /// Keep only the events matching a SQL boolean expression over their columns (polars
    /// SQL), e.g. "product = 'Earl Grey' AND quantity > 1".
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Break down by a column of the events (e.g. product, sku, cancel_reason).
    #[arg(long, value_name = "COLUMN")]
    pub by: Option<String>,
    /// One row per day, week (Monday-based) or month; without it, one row per --by value
    /// over the whole period.
    #[arg(long, value_enum)]
    pub grain: Option<GrainArg>,
    /// First day (default: the first data date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day, included (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// Write the events behind the result instead: one row per event and breakdown value.
    #[arg(long)]
    pub underlying: bool,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake report`: the kind of report, each with its own flags.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub kind: ReportKind,
}

/// The reports `churnlake report` makes.
#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// One self-contained HTML page (inline SVG and CSS, nothing fetched): headline numbers,
    /// the active series, daily flows, monthly cancellation rates, products, data checks.
    #[command(after_help = REPORT_HTML_HELP)]
    Html(ReportHtmlArgs),
    /// One row per subscription, as it stood at the end of a day.
    #[command(after_help = REPORT_SUBSCRIPTIONS_HELP, mut_arg("format", |a| a.value_parser(formats(PDF_FORMATS))))]
    Subscriptions(EntityReportArgs),
    /// One row per subscriber, as they stood at the end of a day.
    #[command(after_help = REPORT_SUBSCRIBERS_HELP, mut_arg("format", |a| a.value_parser(formats(PDF_FORMATS))))]
    Subscribers(EntityReportArgs),
    /// One row per cancellation event, with its reason, product and dates.
    #[command(after_help = REPORT_CANCELLATIONS_HELP, mut_arg("format", |a| a.value_parser(formats(PDF_FORMATS))))]
    Cancellations(EventReportArgs),
    /// One row per reactivation (code-9 event), with the subscription it reactivates.
    #[command(after_help = REPORT_REACTIVATIONS_HELP, mut_arg("format", |a| a.value_parser(formats(PDF_FORMATS))))]
    Reactivations(EventReportArgs),
    /// One row per order row of the orders drops.
    #[command(after_help = REPORT_ORDERS_HELP, mut_arg("format", |a| a.value_parser(formats(PDF_FORMATS))))]
    Orders(EventReportArgs),
}

impl ReportKind {
    /// The report's name (`subscriptions`, …).
    pub fn name(&self) -> &'static str {
        match self {
            ReportKind::Subscriptions(_) => "subscriptions",
            ReportKind::Subscribers(_) => "subscribers",
            ReportKind::Cancellations(_) => "cancellations",
            ReportKind::Reactivations(_) => "reactivations",
            ReportKind::Orders(_) => "orders",
            ReportKind::Html(_) => "html",
        }
    }

    /// The options every table report shares (`html` has its own).
    pub fn common(&self) -> Option<(&LakeArg, &KnownArg, &ReportOptions, &OutputArgs)> {
        match self {
            ReportKind::Subscriptions(a) | ReportKind::Subscribers(a) => {
                Some((&a.lake, &a.known, &a.report, &a.output))
            }
            ReportKind::Cancellations(a) | ReportKind::Reactivations(a) | ReportKind::Orders(a) => {
                Some((&a.lake, &a.known, &a.report, &a.output))
            }
            ReportKind::Html(_) => None,
        }
    }

    fn output_mut(&mut self) -> Option<(&'static str, &mut OutputArgs, &'static [Format])> {
        let name = match self {
            ReportKind::Subscriptions(_) => "report subscriptions",
            ReportKind::Subscribers(_) => "report subscribers",
            ReportKind::Cancellations(_) => "report cancellations",
            ReportKind::Reactivations(_) => "report reactivations",
            ReportKind::Orders(_) => "report orders",
            ReportKind::Html(_) => return None,
        };
        let output = match self {
            ReportKind::Subscriptions(a) | ReportKind::Subscribers(a) => &mut a.output,
            ReportKind::Cancellations(a) | ReportKind::Reactivations(a) | ReportKind::Orders(a) => &mut a.output,
            ReportKind::Html(_) => return None,
        };
        Some((name, output, PDF_FORMATS))
    }
}

/// What every report takes: the filter, the columns, the grouping, the preview.
#[derive(Debug, Args, Clone)]
pub struct ReportOptions {
    /// Keep the rows where this SQL boolean expression over the report's columns holds
    /// (polars SQL), e.g. "product = 'Matcha' AND price >= 20" or "cancel_date >= '2024-01-01'".
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// The columns to show, in this order (comma-separated); with --group-by, of the grouped table.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// One row per value of this column: the rows counted (`rows`) and each money column
    /// summed exactly (`<column>_total`), per currency.
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Show only the first 10 rows, and how many there are in all.
    #[arg(long)]
    pub preview: bool,
}

/// The arguments of `report subscriptions` and `report subscribers`.
#[derive(Debug, Args, Clone)]
pub struct EntityReportArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// The day (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `report cancellations`, `report reactivations` and `report orders`.
#[derive(Debug, Args, Clone)]
pub struct EventReportArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// First day (the event's date: cancel date, event date, an order's data date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day, included; not before --from.
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    #[command(flatten)]
    pub report: ReportOptions,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `churnlake report html`.
#[derive(Debug, Args, Clone)]
pub struct ReportHtmlArgs {
    #[command(flatten)]
    pub lake: LakeArg,
    #[command(flatten)]
    pub known: KnownArg,
    /// First day of the charts (default: the first data date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day of the charts and of the headline numbers (default: the last data date).
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// The HTML file to write (its folder must exist).
    #[arg(long, value_name = "PATH", default_value = "report.html")]
    pub out: PathBuf,
}
