//! Crash safety and idempotency of `ingest`: a process killed at several points (by the
//! crash hook, and by SIGKILL from outside at pseudo-random moments of ingest and build)
//! and re-run leaves the same lake as a clean run; re-ingesting changes nothing; a held
//! lock stops a second ingest with a clear message.

use std::collections::BTreeMap;
use std::path::Path;

use churnlake_generate::{Preset, generate};

use crate::support::{copy_tree, files_under, ingest, path, run, run_ok};

/// Every data file's bytes, and every manifest entry without its volatile fields.
fn lake_contents(lake: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for p in files_under(lake) {
        let rel = p.strip_prefix(lake).expect("inside the lake").to_string_lossy().into_owned();
        if rel == churnlake_lake::MANIFEST_SNAPSHOT {
            continue; // a cache of the entries (with their e-tags): compared through them
        }
        let bytes = std::fs::read(&p).expect("read lake file");
        if rel.starts_with("_manifest/") {
            let mut entry: serde_json::Value = serde_json::from_slice(&bytes).expect("manifest JSON");
            if let Some(obj) = entry.as_object_mut() {
                obj.remove("ingested_at");
                obj.remove("source_path");
            }
            out.insert(rel, entry.to_string().into_bytes());
        } else {
            out.insert(rel, bytes);
        }
    }
    out
}

fn scenario(dir: &Path) -> std::path::PathBuf {
    let mut opts = Preset::Demo.options(dir.join("gen"));
    opts.days = 40;
    opts.subs_per_day = 6;
    opts.seed = 7;
    generate(&opts).expect("generation succeeds").drops_dir
}

#[test]
fn killed_ingest_rerun_equals_clean_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = scenario(dir.path());
    let clean = dir.path().join("clean");
    ingest(&drops, &clean);
    let expected = lake_contents(&clean);
    assert!(expected.keys().any(|k| k.starts_with("raw/subscriptions/data_date=")));

    for point in ["after-staging:3", "after-publish:10", "after-manifest:25", "after-publish:1"] {
        let lake = dir.path().join(point.replace(':', "-"));
        let out = run(&["ingest", path(&drops), "--lake", path(&lake), "--crash-at", point, "--jobs", "1"]);
        assert!(!out.status.success(), "{point}: the crash hook did not stop the run");
        assert!(lake.join("_lock").exists(), "{point}: the killed run left no lock to take over");
        ingest(&drops, &lake);
        let mut got = lake_contents(&lake);
        got.retain(|k, _| !k.starts_with("_staging"));
        assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "{point}: files differ");
        assert!(got == expected, "{point}: file contents differ from a clean run");
        assert!(!lake.join("_lock").exists(), "{point}: lock not released");
    }
}

#[test]
fn reingesting_is_a_no_op() {
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = scenario(dir.path());
    let lake = dir.path().join("lake");
    ingest(&drops, &lake);
    let before = lake_contents(&lake);
    let summary = run_ok(&["ingest", path(&drops), "--lake", path(&lake), "--format", "json"], &[0, 1]);
    let summary: serde_json::Value = serde_json::from_str(&summary).expect("JSON summary");
    assert_eq!(summary["ingested"], 0, "second run ingested files again: {summary}");
    assert_eq!(summary["rows_written"], 0);
    assert_eq!(lake_contents(&lake), before);
}

#[test]
fn a_held_lock_stops_a_second_ingest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = scenario(dir.path());
    let lake = dir.path().join("lake");
    std::fs::create_dir_all(&lake).expect("lake dir");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let lock = serde_json::json!({
        "pid": std::process::id(), "host": host.trim(),
        "since": "2026-01-01T00:00:00Z", "command": "ingest",
    });
    std::fs::write(lake.join("_lock"), lock.to_string()).expect("write lock");
    let out = run(&["ingest", path(&drops), "--lake", path(&lake)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("locked by another ingest"), "unexpected message: {stderr}");
    assert!(!lake.join("_manifest").exists(), "a locked-out run wrote to the lake");
    // the message names what holds the lock
    let lock = serde_json::json!({
        "pid": std::process::id(), "host": host.trim(),
        "since": "2026-01-01T00:00:00Z", "command": "build",
    });
    std::fs::write(lake.join("_lock"), lock.to_string()).expect("write lock");
    let out = run(&["ingest", path(&drops), "--lake", path(&lake)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("locked by another build") && stderr.contains("if no build is running"), "{stderr}");
}

/// Starts `churnlake args`, kills it (SIGKILL, from outside) after `delay`, and waits.
fn kill_after(args: &[&str], delay: std::time::Duration) {
    let mut child = std::process::Command::new(crate::support::bin())
        .args(args)
        .env("CHURNLAKE_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("churnlake starts");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGKILL at pseudo-random moments of ingest and of build, again and again on the same
/// lake, then a run to the end: the same files, byte for byte, as a clean run.
#[test]
fn sigkill_at_random_moments_then_a_rerun_equals_a_clean_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = scenario(dir.path());
    let clean = dir.path().join("clean");
    let started = std::time::Instant::now();
    ingest(&drops, &clean);
    let ingest_time = started.elapsed();
    let started = std::time::Instant::now();
    run_ok(&["build", "--lake", path(&clean), "-q"], &[0]);
    let build_time = started.elapsed();
    // the build record names when it was made and the files' e-tags (inode, time): not content
    let contents = |lake: &Path| {
        let mut files = lake_contents(lake);
        files.retain(|k, _| !k.starts_with("_staging") && k != "derived/_build.json");
        files
    };
    let expected = contents(&clean);

    let lake = dir.path().join("killed");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |limit: std::time::Duration| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let fraction = (seed >> 33) as f64 / (1u64 << 31) as f64;
        limit.mul_f64(fraction * 1.2)
    };
    // a run killed while it worked leaves its lock behind (the next run takes it over)
    let mut interrupted = 0;
    for _ in 0..12 {
        let delay = next(ingest_time);
        kill_after(&["ingest", path(&drops), "--lake", path(&lake), "--jobs", "1"], delay);
        interrupted += usize::from(lake.join("_lock").exists());
    }
    ingest(&drops, &lake);
    for _ in 0..6 {
        let delay = next(build_time);
        kill_after(&["build", "--lake", path(&lake)], delay);
        interrupted += usize::from(lake.join("_lock").exists());
    }
    assert!(interrupted >= 2, "only {interrupted} runs were killed while they worked");
    run_ok(&["build", "--lake", path(&lake), "-q"], &[0]);
    let got = contents(&lake);
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "files differ");
    assert!(got == expected, "file contents differ from a clean run");
    let staging = lake.join("_staging");
    let left: Vec<_> = std::fs::read_dir(&staging).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "staging not cleared: {left:?}");
    assert!(!lake.join("_lock").exists(), "lock not released");
    // and the figures agree
    let series = |lake: &Path| run_ok(&["series", "--lake", path(lake), "--format", "csv"], &[0]);
    assert_eq!(series(&lake), series(&clean));
}

/// The drops of `source` whose stamps are `MMDDYYYYHHMMSS` re-delivered two days later:
/// the late copies in `late` (with every other drop), the originals in `early` (each in
/// its folder); the late copies' names.
fn re_deliveries(source: &Path, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<String>) {
    let (late, early) = (dir.join("late"), dir.join("early"));
    let mut copies = Vec::new();
    for file in files_under(source) {
        let name = file.file_name().and_then(|n| n.to_str()).expect("a name").to_owned();
        let folder = file.parent().and_then(|p| p.strip_prefix(source).ok()).expect("inside the source").to_owned();
        let (stem, extension) = name.strip_suffix(".csv").map_or((name.as_str(), ""), |stem| (stem, ".csv"));
        let stamp = stem.rsplit('_').next().unwrap_or_default();
        let later = (stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit()))
            .then(|| stamp[2..4].parse::<u32>().ok())
            .flatten()
            .filter(|day| *day <= 26)
            .map(|day| format!("{}{}{:02}{}{extension}", &stem[..stem.len() - 14], &stamp[..2], day + 2, &stamp[4..]));
        let copy = |to: &Path, name: &str| {
            std::fs::create_dir_all(to.join(&folder)).expect("a directory");
            std::fs::copy(&file, to.join(&folder).join(name)).expect("copying");
        };
        match later {
            Some(later) => {
                copy(&late, &later);
                copy(&early, &name);
                copies.push(later);
            }
            None => copy(&late, &name),
        }
    }
    (late, early, copies)
}

/// SIGKILL at pseudo-random moments while earlier copies take over from recorded
/// re-deliveries (their outputs published, the later copies demoted and their outputs
/// deleted), again and again on the same lake, then a run to the end: the lake an
/// uninterrupted takeover leaves, byte for byte, and its figures.
#[test]
fn sigkill_during_takeovers_then_a_rerun_equals_a_clean_takeover() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (late, early, copies) = re_deliveries(&scenario(dir.path()), dir.path());
    assert!(copies.len() >= 20, "only {copies:?} re-delivered");
    let template = dir.path().join("template");
    run_ok(&["ingest", path(&late), "--lake", path(&template), "-q"], &[0, 1]);
    let clean = dir.path().join("clean");
    copy_tree(&template, &clean);
    let started = std::time::Instant::now();
    run_ok(&["ingest", path(&early), "--lake", path(&clean), "-q", "--jobs", "1"], &[0, 1]);
    let takeover_time = started.elapsed();
    let contents = |lake: &Path| {
        let mut files = lake_contents(lake);
        files.retain(|k, _| !k.starts_with("_staging"));
        files
    };
    let expected = contents(&clean);
    let drops = run_ok(&["drops", "--lake", path(&clean), "--format", "csv"], &[0]);
    // the late copies of drops with rows are now duplicates of the originals
    let taken_over = copies
        .iter()
        .filter(|name| drops.lines().any(|line| line.starts_with(&format!("{name},")) && line.contains(",duplicate,")));
    assert!(taken_over.count() >= 10, "too few takeovers: {drops}");

    // trials from the lake before the takeover: killed once or twice at random moments,
    // then run to the end; until three kills have landed while a takeover worked (the
    // machine's load decides how many land, so trials go on until enough have)
    let series = |lake: &Path| run_ok(&["series", "--lake", path(lake), "--format", "csv"], &[0]);
    let clean_series = series(&clean);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let (mut landed, mut trials) = (0, 0);
    while landed < 3 {
        assert!(trials < 40, "only {landed} of {trials} trials' kills landed while a takeover worked");
        trials += 1;
        let lake = dir.path().join(format!("killed-{trials}"));
        copy_tree(&template, &lake);
        for _ in 0..2 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let fraction = 0.1 + (seed >> 33) as f64 / (1u64 << 31) as f64;
            kill_after(
                &["ingest", path(&early), "--lake", path(&lake), "--jobs", "1"],
                takeover_time.mul_f64(fraction),
            );
            landed += usize::from(lake.join("_lock").exists());
        }
        run_ok(&["ingest", path(&early), "--lake", path(&lake), "-q"], &[0, 1]);
        let got = contents(&lake);
        assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "trial {trials}: files differ");
        assert!(got == expected, "trial {trials}: file contents differ from a clean takeover");
        assert!(!lake.join("_lock").exists(), "trial {trials}: lock not released");
        assert_eq!(series(&lake), clean_series, "trial {trials}");
        std::fs::remove_dir_all(&lake).expect("removing the trial's lake");
    }
}

/// `build` publishes its tables as one set: killed when the first table of a new set is in
/// place (the others still the previous build's), it leaves the journal of the set; the
/// next writer (here a no-op ingest) finishes it, so that every derived table equals a
/// clean build's and readers get no warning of a mixed set.
#[test]
fn a_build_killed_while_publishing_is_finished_by_the_next_writer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let early = {
        let mut opts = Preset::Demo.options(dir.path().join("gen-early"));
        (opts.days, opts.subs_per_day, opts.seed) = (25, 6, 7);
        generate(&opts).expect("generation succeeds").drops_dir
    };
    let drops = scenario(dir.path());
    let (clean, lake) = (dir.path().join("clean"), dir.path().join("killed"));
    for lake in [&clean, &lake] {
        ingest(&early, lake);
        run_ok(&["build", "--lake", path(lake), "-q"], &[0]);
        ingest(&drops, lake);
    }
    run_ok(&["build", "--lake", path(&clean), "-q"], &[0]);

    let killed = run(&["build", "--lake", path(&lake), "--crash-at", "after-table:1"]);
    assert_eq!(killed.status.code(), None, "the build aborted: {}", String::from_utf8_lossy(&killed.stderr));
    assert!(lake.join("derived/_publishing.json").is_file(), "the set's journal is left");
    let derived = |lake: &Path| -> BTreeMap<String, Vec<u8>> {
        lake_contents(lake).into_iter().filter(|(k, _)| k.starts_with("derived/") && k.ends_with(".parquet")).collect()
    };
    assert_ne!(derived(&lake), derived(&clean), "one table of the new set in place, the others not");
    let warned = run(&["sql", "SELECT COUNT(*) AS n FROM derived_series", "--lake", path(&lake)]);
    assert!(String::from_utf8_lossy(&warned.stderr).contains("warning"), "readers are told the set is mixed");

    ingest(&drops, &lake);
    assert!(!lake.join("derived/_publishing.json").exists(), "the journal is done with");
    assert_eq!(derived(&lake), derived(&clean), "the set is the new build's, whole");
    let read = run(&["sql", "SELECT COUNT(*) AS n FROM derived_series", "--lake", path(&lake)]);
    assert_eq!(read.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&read.stderr).contains("warning"), "{}", String::from_utf8_lossy(&read.stderr));
}
