//! Running the built binary and reading its outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `churnlake` binary built with these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_churnlake"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs churnlake with `args`, returning its output (whatever the exit code).
pub fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("CHURNLAKE_LAKE")
        .env_remove("CHURNLAKE_ROWS_PER_PASS")
        .env("CHURNLAKE_LOG", "error")
        .envs(env.iter().copied())
        .output()
        .expect("the churnlake binary runs")
}

/// Runs churnlake and returns stdout, failing the test (with stderr) unless it exits with one of `codes`.
pub fn run_ok(args: &[&str], codes: &[i32]) -> String {
    run_ok_env(args, &[], codes)
}

/// [`run_ok`] with extra environment variables.
pub fn run_ok_env(args: &[&str], env: &[(&str, &str)], codes: &[i32]) -> String {
    let out = run_env(args, env);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        codes.contains(&code),
        "churnlake {args:?} exited {code}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Ingests `drops` into `lake` (exit 0, or 1 when rows were quarantined).
pub fn ingest(drops: &Path, lake: &Path) {
    run_ok(&["ingest", path(drops), "--lake", path(lake)], &[0, 1]);
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// CSV text → header and rows of cells.
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().expect("a CSV header").iter().map(|s| s.trim().to_owned()).collect();
    let rows =
        reader.records().map(|r| r.expect("a CSV record").iter().map(|s| s.trim().to_owned()).collect()).collect();
    (header, rows)
}

/// Selects `columns` (by name) from CSV text, rows sorted: for set comparisons.
pub fn project(text: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let (header, rows) = parse_csv(text);
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| header.iter().position(|h| h == c).unwrap_or_else(|| panic!("no column {c} in {header:?}")))
        .collect();
    let mut out: Vec<Vec<String>> =
        rows.iter().map(|r| idx.iter().map(|&i| r.get(i).cloned().unwrap_or_default()).collect()).collect();
    out.sort();
    out
}

/// Asserts `active(D) = active(D−1) + new + reactivated − cancelled` on every row of a
/// series CSV (per group when `group` names a column), at both levels.
pub fn assert_flow_identity(series_csv: &str, group: Option<&str>) {
    let (header, rows) = parse_csv(series_csv);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name}"));
    let g = group.map(col);
    let mut previous: std::collections::HashMap<String, [i64; 2]> = Default::default();
    for row in &rows {
        let key = g.map(|i| row[i].clone()).unwrap_or_default();
        let num = |name: &str| row[col(name)].parse::<i64>().expect("integer cell");
        for (level, suffix) in ["subscriptions", "subscribers"].iter().enumerate() {
            let active = num(&format!("active_{suffix}"));
            let flows = num(&format!("new_{suffix}")) + num(&format!("reactivated_{suffix}"))
                - num(&format!("cancelled_{suffix}"));
            if let Some(prev) = previous.get(&key) {
                assert_eq!(active, prev[level] + flows, "flow identity broken at {row:?}");
            }
        }
        previous.insert(key, [num("active_subscriptions"), num("active_subscribers")]);
    }
}

/// Asserts two sorted row sets are equal, printing only the rows that differ.
pub fn assert_same_rows(label: &str, got: &[Vec<String>], expected: &[Vec<String>]) {
    if got == expected {
        return;
    }
    let got_set: std::collections::BTreeSet<&Vec<String>> = got.iter().collect();
    let expected_set: std::collections::BTreeSet<&Vec<String>> = expected.iter().collect();
    let missing: Vec<_> = expected_set.difference(&got_set).take(15).collect();
    let extra: Vec<_> = got_set.difference(&expected_set).take(15).collect();
    let mut report = format!("{label}: {} rows expected, {} got\n", expected.len(), got.len());
    for row in missing {
        report.push_str(&format!("  - {}\n", row.join(",")));
    }
    for row in extra {
        report.push_str(&format!("  + {}\n", row.join(",")));
    }
    panic!("{report}");
}

/// Every file under `dir` (recursively), sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("lists a directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Copies a directory tree (a small lake).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("a directory") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copying");
        }
    }
}
