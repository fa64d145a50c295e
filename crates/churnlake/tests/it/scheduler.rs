//! What a nightly job (and the person writing it) relies on: usage errors exit 1, never
//! the unexpected-failure code; every command documents itself; `--out`'s extension sets
//! the format; the configuration is found like Cargo.toml; messages say what to run;
//! outputs keep one shape and one timestamp format.

use std::path::Path;
use std::process::{Command, ExitCode, Output};

use clap::CommandFactory;

use crate::support::{bin, ingest, path, repo, run};

/// Runs a command line in-process: (exit code, stdout, stderr).
fn in_process(args: &[&str]) -> (ExitCode, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut argv = vec!["churnlake"];
    argv.extend_from_slice(args);
    let code = churnlake::run(argv, &mut out, &mut err);
    (code, String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}

/// A lake of conformance case 09 (two subscriptions of one subscriber, May 2023).
fn fixture() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    ingest(&repo().join("tests/conformance/cases/09-subscriber-two-subscriptions/drops"), &lake);
    let lake = path(&lake).to_owned();
    (dir, lake)
}

/// Runs the binary in `dir`, without the environment's lake.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("CHURNLAKE_LAKE")
        .env_remove("CHURNLAKE_ROWS_PER_PASS")
        .env("CHURNLAKE_LOG", "error")
        .output()
        .expect("the churnlake binary runs")
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let (dir, lake) = fixture();
    let l = lake.as_str();
    let missing_dir = dir.path().join("nodir/x.csv");
    let cases: [(&[&str], &str); 9] = [
        (&["series", "--lake", l, "--from", "2024-13-01"], "2024-13-01"),
        (&["seris", "--lake", l], "unrecognized subcommand"),
        (&["rate", "--lake", l, "--from", "2023-05-01"], "--to"),
        (&["series", "--lake", l, "--grain", "year"], "year"),
        (&["series", "--lake", l, "--format", "xml"], "xml"),
        (&["series", "--lake", l, "--bogus"], "--bogus"),
        (&["series", "--lake", l, "--out", path(&missing_dir)], "does not exist"),
        (&["explain", "--lake", l], "<ID>"),
        (&[], "Usage"),
    ];
    for (args, needle) in cases {
        let (code, out, err) = in_process(args);
        assert_eq!(code, ExitCode::from(1), "{args:?}: usage errors exit 1\n{err}");
        assert!(out.is_empty(), "{args:?}: nothing on stdout: {out}");
        assert!(err.contains(needle), "{args:?}: the error names `{needle}`:\n{err}");
        // the binary agrees
        assert_eq!(run(args).status.code(), Some(1), "{args:?}: the binary exits 1");
    }
    assert!(!missing_dir.parent().expect("a parent").exists(), "--out created no folder");
    for args in [&["--help"][..], &["--version"], &["series", "--help"], &["help", "rate"]] {
        let (code, out, _) = in_process(args);
        assert_eq!(code, ExitCode::SUCCESS, "{args:?}");
        assert!(!out.is_empty(), "{args:?}: help on stdout");
    }
}

#[test]
fn a_reversed_period_is_refused_naming_both_dates() {
    let (_dir, lake) = fixture();
    let l = lake.as_str();
    for command in ["series", "rate"] {
        let (code, out, err) = in_process(&[command, "--lake", l, "--from", "2023-05-04", "--to", "2023-05-02"]);
        assert_eq!(code, ExitCode::from(1), "{command}: {err}");
        assert!(out.is_empty(), "{command}: {out}");
        assert!(err.contains("--from 2023-05-04") && err.contains("--to 2023-05-02"), "{command}: {err}");
    }
}

/// Every subcommand of `cmd`, with its path of names.
fn subcommands(cmd: &clap::Command, prefix: &str, found: &mut Vec<(String, clap::Command)>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("{prefix}{}", sub.get_name());
        found.push((name.clone(), sub.clone()));
        subcommands(sub, &format!("{name} "), found);
    }
}

#[test]
fn every_command_has_an_example_and_every_argument_a_description() {
    let mut top = churnlake::Cli::command();
    top.build();
    let mut commands = Vec::new();
    subcommands(&top, "", &mut commands);
    assert!(commands.len() >= 14, "{} commands", commands.len());
    let top_help = top.render_long_help().to_string();
    for (name, cmd) in &commands {
        // a nested command (`report subscriptions`) is listed by its parent's help
        let (listing, own) = match name.rsplit_once(' ') {
            Some((parent, own)) => {
                let mut parent = commands.iter().find(|(n, _)| n == parent).map(|(_, c)| c.clone()).expect("a parent");
                (parent.render_long_help().to_string(), own)
            }
            None => (top_help.clone(), name.as_str()),
        };
        assert!(listing.contains(&format!("  {own} ")), "the help above `{name}` lists it:\n{listing}");
        let after = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
        assert!(after.contains(&format!("churnlake {name}")), "`{name} --help` has an example: {after:?}");
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if ["help", "version"].contains(&id) {
                continue;
            }
            assert!(
                arg.get_help().is_some() || arg.get_long_help().is_some(),
                "`{name}`: argument `{id}` is described"
            );
        }
    }
}

#[test]
fn format_offers_only_the_formats_the_command_writes() {
    let top = churnlake::Cli::command();
    let expected: [(&str, &[&str]); 10] = [
        ("ingest", &["table", "json"]),
        ("drops", &["table", "csv", "json"]),
        ("series", &["table", "csv", "json", "parquet"]),
        ("rate", &["table", "csv", "json"]),
        ("subscriptions", &["table", "csv", "json", "parquet"]),
        ("subscribers", &["table", "csv", "json", "parquet"]),
        ("active", &["table", "csv", "json", "parquet"]),
        ("explain", &["table", "json"]),
        ("anomalies", &["table", "csv", "json", "parquet"]),
        ("sql", &["table", "csv", "json", "parquet"]),
    ];
    for (name, formats) in expected {
        let cmd = top.find_subcommand(name).unwrap_or_else(|| panic!("no `{name}`"));
        let arg = cmd.get_arguments().find(|a| a.get_id() == "format").unwrap_or_else(|| panic!("`{name}` --format"));
        let offered: Vec<String> = arg.get_possible_values().iter().map(|v| v.get_name().to_owned()).collect();
        assert_eq!(offered, formats, "`{name} --format`");
    }
    // and the ones not offered are refused as usage errors
    let (code, _, err) = in_process(&["explain", "1", "--format", "csv"]);
    assert_eq!(code, ExitCode::from(1), "{err}");
}

#[test]
fn out_extension_sets_the_format_unless_format_is_given() {
    let (dir, lake) = fixture();
    let l = lake.as_str();
    let file = |name: &str| dir.path().join(name);
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect("the output file");
    for (name, extra) in [
        ("s.csv", &[][..]),
        ("s.JSON", &[]),
        ("s.parquet", &[]),
        ("s.txt", &[]),
        ("explicit.csv", &["--format", "json"]),
    ] {
        let target = file(name);
        let mut args = vec!["series", "--lake", l, "--out", path(&target)];
        args.extend_from_slice(extra);
        let (code, out, err) = in_process(&args);
        assert_eq!(code, ExitCode::SUCCESS, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: the data went to the file");
    }
    let csv = String::from_utf8(read("s.csv")).expect("UTF-8");
    assert!(csv.starts_with("date,active_subscriptions,"), "{csv}");
    let json: serde_json::Value = serde_json::from_slice(&read("s.JSON")).expect(".JSON writes JSON");
    assert!(json.is_array(), "{json}");
    assert!(read("s.parquet").starts_with(b"PAR1"), ".parquet writes Parquet");
    let table = String::from_utf8(read("s.txt")).expect("UTF-8");
    assert!(table.starts_with("date  ") && table.lines().nth(1).is_some_and(|l| l.starts_with("----")), "{table}");
    let explicit: serde_json::Value = serde_json::from_slice(&read("explicit.csv")).expect("--format json wins");
    assert!(explicit.is_array());
    // rate writes CSV from the extension too; explain writes no CSV; an unknown extension is refused
    let rate = file("rate.csv");
    let (code, _, err) =
        in_process(&["rate", "--lake", l, "--from", "2023-05-01", "--to", "2023-05-05", "--out", path(&rate)]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert!(std::fs::read_to_string(&rate).expect("rate.csv").starts_with("from,to,days,"));
    for (args, needle) in [
        (vec!["explain", "500081", "--lake", l, "--out", "x.csv"], "`explain` writes table, json"),
        (vec!["series", "--lake", l, "--out", "x.xlsx"], "cannot tell the format"),
        (vec!["series", "--lake", l, "--out", "noextension"], "cannot tell the format"),
        (vec!["rate", "--lake", l, "--from", "2023-05-01", "--to", "2023-05-05", "--out", "x.parquet"], "parquet"),
    ] {
        let (code, _, err) = in_process(&args);
        assert_eq!(code, ExitCode::from(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for (shell, needle) in [("bash", "_churnlake()"), ("zsh", "#compdef churnlake"), ("fish", "complete -c churnlake")]
    {
        let (code, out, err) = in_process(&["completions", shell]);
        assert_eq!(code, ExitCode::SUCCESS, "{shell}: {err}");
        assert!(out.contains(needle), "{shell}: {}", out.chars().take(300).collect::<String>());
        assert!(out.contains("subscriptions"), "{shell}: the subcommands are completed");
    }
    let (code, _, _) = in_process(&["completions", "tcsh"]);
    assert_eq!(code, ExitCode::from(1));
}

#[test]
fn the_configuration_is_found_above_the_current_directory_and_its_paths_are_its_own() {
    let (dir, lake) = fixture();
    let project = dir.path().join("project");
    let deep = project.join("reports/2023");
    std::fs::create_dir_all(&deep).expect("folders");
    std::fs::rename(&lake, project.join("the-lake")).expect("move the lake into the project");
    std::fs::write(project.join("churnlake.toml"), "lake = \"the-lake\"\n").expect("write the configuration");
    let expected =
        String::from_utf8(run(&["series", "--lake", path(&project.join("the-lake")), "--format", "csv"]).stdout)
            .expect("UTF-8");
    assert!(expected.starts_with("date,"), "{expected}");
    // found by walking up from a folder inside the project; `lake` relative to the file
    for cwd in [&project, &deep] {
        let out = run_in(cwd, &["series", "--format", "csv"]);
        assert_eq!(out.status.code(), Some(0), "in {}: {}", cwd.display(), String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "in {}", cwd.display());
    }
    // named with --config from elsewhere: still relative to the file, not to the current directory
    let config = project.join("churnlake.toml");
    let out = run_in(dir.path(), &["series", "--config", path(&config), "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let relative = run_in(&deep, &["series", "--config", "../../churnlake.toml", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&relative.stdout), expected, "{}", String::from_utf8_lossy(&relative.stderr));
    // --lake still wins, relative to the current directory
    let out =
        run_in(dir.path(), &["series", "--config", path(&config), "--lake", "project/the-lake", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn sql_errors_say_what_to_run_first() {
    let (_dir, lake) = fixture();
    let l = lake.as_str();
    let (code, _, err) = in_process(&["sql", "SELECT * FROM derived_series", "--lake", l]);
    assert_eq!(code, ExitCode::from(1), "{err}");
    assert!(err.contains("churnlake build"), "a derived table points to `churnlake build`: {err}");
    let daily = repo().join("queries/daily_series.sql");
    let (code, _, err) = in_process(&["sql", path(&daily), "--lake", l]);
    assert_eq!(code, ExitCode::from(1), "{err}");
    assert!(err.contains("lifecycle.sql"), "a missing view points to the file that defines it: {err}");
    // after build, the derived tables are there
    let (code, _, err) = in_process(&["build", "--lake", l]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    let (code, out, err) =
        in_process(&["sql", "SELECT COUNT(*) AS n FROM derived_series", "--lake", l, "--format", "csv"]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert_eq!(out, "n\n5\n");
}

#[test]
fn quiet_build_writes_nothing_on_stderr() {
    let (_dir, lake) = fixture();
    let (code, out, err) = in_process(&["build", "--lake", &lake, "-q"]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert!(out.is_empty() && err.is_empty(), "build -q: stdout {out:?}, stderr {err:?}");
    let (_, _, err) = in_process(&["build", "--lake", &lake]);
    assert!(err.contains("wrote "), "without -q, build says what it wrote: {err}");
}

#[test]
fn control_characters_never_break_a_text_table() {
    let (_dir, lake) = fixture();
    let query = "SELECT 'two\nlines' AS note, 'a\ttab' AS other, 'bell\u{7}' AS third FROM calendar LIMIT 1";
    let (code, out, err) = in_process(&["sql", query, "--lake", &lake]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert_eq!(out.lines().count(), 3, "header, rule and one row:\n{out}");
    let row = out.lines().nth(2).expect("the row");
    assert!(row.contains("two\\nlines") && row.contains("a\\ttab") && row.contains("bell\\u{7}"), "{row}");
    // CSV and JSON keep the values as they are
    let (_, csv, _) = in_process(&["sql", query, "--lake", &lake, "--format", "csv"]);
    assert!(csv.contains("\"two\nlines\""), "{csv}");
    let (_, json, _) = in_process(&["sql", query, "--lake", &lake, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json[0]["note"], "two\nlines");
}

/// Every value of `column` in a text table (columns split on two spaces or more).
fn table_column(table: &str, column: &str) -> Vec<String> {
    let split = |line: &str| -> Vec<String> {
        line.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect()
    };
    let mut lines = table.lines();
    let header = split(lines.next().expect("a header"));
    let i = header.iter().position(|h| h == column).unwrap_or_else(|| panic!("no {column} in {header:?}"));
    lines.skip(1).map(|l| split(l)[i].clone()).collect()
}

fn csv_column(csv: &str, column: &str) -> Vec<String> {
    let (header, rows) = crate::support::parse_csv(csv);
    let i = header.iter().position(|h| h == column).unwrap_or_else(|| panic!("no {column} in {header:?}"));
    rows.iter().map(|r| r[i].clone()).collect()
}

fn json_column(json: &str, column: &str) -> Vec<String> {
    let rows: Vec<serde_json::Value> = serde_json::from_str(json).expect("a JSON array");
    rows.iter().map(|r| r[column].as_str().unwrap_or_else(|| panic!("{column} in {r}")).to_owned()).collect()
}

#[test]
fn timestamps_have_one_format_in_every_output() {
    let (_dir, lake) = fixture();
    let l = lake.as_str();
    let drops = |format: &str| in_process(&["drops", "--lake", l, "--format", format]).1;
    let (table, csv, json) = (drops("table"), drops("csv"), drops("json"));
    for column in ["stamp", "ingested_at"] {
        let from_json = json_column(&json, column);
        assert_eq!(table_column(&table, column), from_json, "drops table vs JSON: {column}");
        assert_eq!(csv_column(&csv, column), from_json, "drops CSV vs JSON: {column}");
    }
    assert_eq!(json_column(&json, "stamp")[0], "2023-05-02T06:02:11");
    let ingested = &json_column(&json, "ingested_at")[0];
    assert!(ingested.contains('T') && ingested.ends_with('Z'), "{ingested}");
    // frames: timestamp columns of the lake in every text format
    let query = "SELECT drop_stamp FROM subscriptions ORDER BY drop_stamp LIMIT 1";
    let sql = |format: &str| in_process(&["sql", query, "--lake", l, "--format", format]).1;
    assert_eq!(table_column(&sql("table"), "drop_stamp"), ["2023-05-02T06:02:11"]);
    assert_eq!(csv_column(&sql("csv"), "drop_stamp"), ["2023-05-02T06:02:11"]);
    assert_eq!(json_column(&sql("json"), "drop_stamp"), ["2023-05-02T06:02:11"]);
    // the ingest summary (JSON) writes the manifest's times the same way
    let dir = tempfile::tempdir().expect("temp dir");
    let drops_dir = repo().join("tests/conformance/cases/09-subscriber-two-subscriptions/drops");
    let (code, out, err) =
        in_process(&["ingest", path(&drops_dir), "--lake", path(&dir.path().join("lake")), "--format", "json"]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("the summary is JSON");
    let entry = &report["files"][0]["entry"];
    assert_eq!(entry["stamp"], "2023-05-02T06:02:11", "{entry}");
    assert!(entry["ingested_at"].as_str().is_some_and(|t| t.contains('T') && t.ends_with('Z')), "{entry}");
}

#[test]
fn rate_json_has_one_shape_with_or_without_by() {
    let (_dir, lake) = fixture();
    let base = ["rate", "--lake", lake.as_str(), "--from", "2023-05-01", "--to", "2023-05-05", "--format", "json"];
    let plain: serde_json::Value = serde_json::from_str(&in_process(&base).1).expect("JSON");
    let mut by_args = base.to_vec();
    by_args.extend(["--by", "product"]);
    let by: serde_json::Value = serde_json::from_str(&in_process(&by_args).1).expect("JSON");
    let keys = |v: &serde_json::Value| -> Vec<String> { v.as_object().expect("one object").keys().cloned().collect() };
    assert_eq!(keys(&plain), keys(&by), "the same keys with and without --by");
    assert_eq!(plain["by"], serde_json::Value::Null);
    assert_eq!(by["by"], "product");
    // the top level is the whole lake's rate in both
    for k in ["subscription_cancels", "subscription_cancellation_rate", "subscriber_cancellation_rate"] {
        assert_eq!(plain[k], by[k], "{k}");
    }
    assert_eq!(plain["subscription_cancels"], 2);
    let rows = plain["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["subscription_cancellation_rate"], plain["subscription_cancellation_rate"]);
    let groups = by["rows"].as_array().expect("rows");
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].as_object().and_then(|o| o.keys().next()).map(String::as_str), Some("product"));
}

/// Every `*.md` a text points at (words ending in `.md`).
fn md_pointers(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "`()[]<>,;:\"'*|".contains(c))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| w.ends_with(".md") && !w.contains("://"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_and_help_point_only_at_files_in_the_repository() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let top_help = churnlake::Cli::command().render_long_help().to_string();
    let mut texts = vec![("README.md".to_owned(), readme), ("--help".to_owned(), top_help)];
    let mut commands = Vec::new();
    subcommands(&churnlake::Cli::command(), "", &mut commands);
    for (name, mut cmd) in commands {
        texts.push((format!("{name} --help"), cmd.render_long_help().to_string()));
    }
    let mut pointers = 0;
    for (label, text) in &texts {
        for pointer in md_pointers(text) {
            pointers += 1;
            assert!(repo().join(&pointer).is_file(), "{label} points at {pointer}, which is not in the repository");
        }
    }
    assert!(pointers > 5, "only {pointers} pointers found");
    assert!(texts[1].1.contains("docs/METRICS.md") && texts[1].1.contains("docs/FORMATS.md"), "{}", texts[1].1);
}
