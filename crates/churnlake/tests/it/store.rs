//! Object-store lakes against a real S3-compatible server (the moto server `.ci/run`
//! starts on loopback; its URL in `$CHURNLAKE_TEST_S3_ENDPOINT`): drops read from
//! `s3://bucket/drops/`, a lake written to `s3://bucket/lake/`, compared file by file and
//! output by output with the same drops ingested into a local lake. Re-ingesting changes
//! nothing, `build` writes the same derived files, an ingest killed mid-way and re-run leaves
//! the lake a clean run leaves, two ingests at once leave it too (the lock is a conditional
//! put on the store), and a missing bucket is a clear error naming the URL.
//!
//! Without the variable the tests say so and pass, except under CI (`$CI` set), where a
//! missing server is a failure: CI must not skip them silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use churnlake_generate::{Preset, generate};
use churnlake_lake::object_store::aws::AmazonS3Builder;
use churnlake_lake::object_store::path::Path as StorePath;
use churnlake_lake::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use futures::TryStreamExt;

use crate::support::{bin, files_under, path, repo, run_env, run_ok, run_ok_env};

/// The variable naming the S3 server's URL (`http://127.0.0.1:PORT`).
const ENDPOINT_VAR: &str = "CHURNLAKE_TEST_S3_ENDPOINT";

/// The S3 server, with a fresh bucket for one test.
struct Server {
    endpoint: String,
    bucket: String,
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    /// The server of `$CHURNLAKE_TEST_S3_ENDPOINT` with a new bucket; `None` (the test is
    /// skipped) when the variable is unset outside CI.
    fn start(test: &str) -> Option<Server> {
        let endpoint = match std::env::var(ENDPOINT_VAR) {
            Ok(value) if !value.is_empty() => value.trim_end_matches('/').to_owned(),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI is set but {ENDPOINT_VAR} is not: .ci/run starts an S3 server for these tests"
                );
                eprintln!("{test}: skipped, {ENDPOINT_VAR} is not set (see .ci/run to start a local S3 server)");
                return None;
            }
        };
        let bucket = format!("churnlake-{test}-{}", std::process::id()).replace('_', "-");
        create_bucket(&endpoint, &bucket);
        let store = AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_allow_http(true)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_region("us-east-1")
            .with_bucket_name(&bucket)
            .build()
            .expect("an S3 client for the test server");
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        Some(Server { endpoint, bucket, store: Arc::new(store), runtime })
    }

    /// `s3://bucket/rel`.
    fn url(&self, rel: &str) -> String {
        format!("s3://{}/{rel}", self.bucket)
    }

    /// What churnlake needs to reach the server: the usual AWS variables.
    fn env(&self) -> Vec<(&'static str, String)> {
        Server::env_for(&self.endpoint)
    }

    /// The variables for the server at `endpoint` (the server itself, or a proxy to it).
    fn env_for(endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            // no profile of the machine's own files
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials".into()),
            ("AWS_CONFIG_FILE", "/nonexistent/config".into()),
        ]
    }

    fn run_ok(&self, args: &[&str], codes: &[i32]) -> String {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_ok_env(args, &env, codes)
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_env(args, &env)
    }

    /// A churnlake process that is not waited for.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(bin())
            .args(args)
            .env_remove("CHURNLAKE_LAKE")
            .env_remove("AWS_PROFILE")
            .env("CHURNLAKE_LOG", "error")
            .envs(self.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("churnlake starts")
    }

    /// Uploads every file under `dir` to `prefix/<relative path>`.
    fn upload(&self, dir: &Path, prefix: &str) -> usize {
        let files = files_under(dir);
        self.runtime.block_on(async {
            for file in &files {
                let rel = file.strip_prefix(dir).expect("inside").to_string_lossy().replace('\\', "/");
                let bytes = std::fs::read(file).expect("read drop");
                self.store
                    .put(&StorePath::from(format!("{prefix}/{rel}")), PutPayload::from(bytes))
                    .await
                    .expect("upload a drop");
            }
        });
        files.len()
    }

    /// Every object under `prefix/`, by relative path, manifest entries without their
    /// volatile fields (as [`local_contents`]).
    fn contents(&self, prefix: &str) -> BTreeMap<String, Vec<u8>> {
        self.runtime.block_on(async {
            let root = StorePath::from(prefix);
            let listed: Vec<_> = self.store.list(Some(&root)).try_collect().await.expect("list the lake");
            let mut out = BTreeMap::new();
            for meta in listed {
                let rel = meta.location.as_ref().strip_prefix(&format!("{prefix}/")).expect("under the prefix");
                let bytes = self.store.get(&meta.location).await.expect("get").bytes().await.expect("bytes");
                out.insert(rel.to_owned(), normalise(rel, &bytes));
            }
            out
        })
    }

    fn exists(&self, key: &str) -> bool {
        self.runtime.block_on(self.store.head(&StorePath::from(key))).is_ok()
    }
}

/// `PUT /bucket` (the server takes unsigned requests; object_store cannot make buckets).
fn create_bucket(endpoint: &str, bucket: &str) {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("the S3 test server accepts connections");
    write!(stream, "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reply");
    assert!(reply.starts_with("HTTP/1.1 200"), "creating bucket {bucket}: {reply}");
}

/// A manifest entry without the fields that differ between runs and sources.
fn normalise(rel: &str, bytes: &[u8]) -> Vec<u8> {
    if !rel.starts_with("_manifest/") {
        return bytes.to_vec();
    }
    let mut entry: serde_json::Value = serde_json::from_slice(bytes).expect("manifest JSON");
    if let Some(obj) = entry.as_object_mut() {
        obj.remove("ingested_at");
        obj.remove("source_path");
    }
    entry.to_string().into_bytes()
}

/// Every file of a local lake (as [`Server::contents`]).
fn local_contents(lake: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for p in files_under(lake) {
        let rel = p.strip_prefix(lake).expect("inside the lake").to_string_lossy().into_owned();
        out.insert(rel.clone(), normalise(&rel, &std::fs::read(&p).expect("read lake file")));
    }
    out
}

/// The data and manifest of a lake: no staging leftovers, no build record (it names when
/// the build ran and the files' e-tags).
fn lake_files(mut files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    files.retain(|k, _| {
        !k.starts_with("_staging") && k != "derived/_build.json" && k != churnlake_lake::MANIFEST_SNAPSHOT
    });
    files
}

fn assert_same_lake(label: &str, got: &BTreeMap<String, Vec<u8>>, expected: &BTreeMap<String, Vec<u8>>) {
    let (got_keys, expected_keys): (Vec<_>, Vec<_>) = (got.keys().collect(), expected.keys().collect());
    assert_eq!(got_keys, expected_keys, "{label}: the lakes hold different files");
    for (key, bytes) in expected {
        assert!(got[key] == *bytes, "{label}: {key} differs from the local lake's");
    }
}

/// Generated drops (a small scenario: every kind of drop, some quarantined rows), uploaded
/// to `drops/`; and the same drops ingested into a local lake.
fn scenario(server: &Server, dir: &Path) -> (PathBuf, PathBuf) {
    let mut opts = Preset::Demo.options(dir.join("gen"));
    opts.days = 30;
    opts.subs_per_day = 6;
    opts.seed = 11;
    let drops = generate(&opts).expect("generation succeeds").drops_dir;
    assert!(server.upload(&drops, "drops") > 30, "too few drops generated");
    let local = dir.join("local");
    run_ok(&["ingest", path(&drops), "--lake", path(&local), "-q"], &[0, 1]);
    (drops, local)
}

#[test]
fn an_s3_lake_equals_a_local_lake() {
    let Some(server) = Server::start("same") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, local) = scenario(&server, dir.path());
    let (source, lake) = (server.url("drops/"), server.url("lake"));

    let summary = server.run_ok(&["ingest", &source, "--lake", &lake, "--format", "json"], &[0, 1]);
    let summary: serde_json::Value = serde_json::from_str(&summary).expect("JSON summary");
    assert!(summary["ingested"].as_u64().is_some_and(|n| n > 30), "{summary}");
    let expected = lake_files(local_contents(&local));
    assert!(expected.keys().any(|k| k.starts_with("raw/subscriptions/data_date=")));
    let first = server.contents("lake");
    assert!(!first.contains_key("_lock"), "the lock was not released");
    assert_same_lake("ingest", &lake_files(first.clone()), &expected);

    // idempotent: nothing new, nothing rewritten
    let again = server.run_ok(&["ingest", &source, "--lake", &lake, "--format", "json"], &[0, 1]);
    let again: serde_json::Value = serde_json::from_str(&again).expect("JSON summary");
    assert_eq!(again["ingested"], 0, "{again}");
    assert_eq!(again["rows_written"], 0, "{again}");
    assert!(server.contents("lake") == first, "re-ingesting changed the lake");

    // the same outputs, byte for byte
    let queries: [&[&str]; 3] = [
        &["series", "--format", "csv"],
        &["series", "--by", "product", "--format", "csv"],
        &["drops", "--format", "csv"],
    ];
    for query in queries {
        let on_s3_args: Vec<&str> = query.iter().copied().chain(["--lake", lake.as_str()]).collect();
        let on_disk_args: Vec<&str> = query.iter().copied().chain(["--lake", path(&local)]).collect();
        let on_s3 = server.run_ok(&on_s3_args, &[0]);
        let on_disk = run_ok(&on_disk_args, &[0]);
        assert!(on_s3.lines().count() > 20, "{query:?}: too short an output:\n{on_s3}");
        if query[0] == "drops" {
            // the drops' own addresses differ (s3://… against a local path)
            assert_eq!(on_s3.lines().count(), on_disk.lines().count(), "{query:?}");
        } else {
            assert_eq!(on_s3, on_disk, "{query:?}: the S3 lake's output differs from the local lake's");
        }
    }

    // build writes the same derived tables, and queries read them
    server.run_ok(&["build", "--lake", &lake, "-q"], &[0]);
    run_ok(&["build", "--lake", path(&local), "-q"], &[0]);
    let built = lake_files(server.contents("lake"));
    let local_built = lake_files(local_contents(&local));
    assert!(local_built.keys().any(|k| k.starts_with("derived/")), "build wrote no derived table");
    assert_same_lake("build", &built, &local_built);
    assert!(server.exists("lake/derived/_build.json"), "no build record on the store");
    let sql = "select * from derived_series";
    let on_s3 = server.run_ok(&["sql", sql, "--lake", &lake, "--format", "csv"], &[0]);
    let on_disk = run_ok(&["sql", sql, "--lake", path(&local), "--format", "csv"], &[0]);
    assert_eq!(on_s3, on_disk);
}

#[test]
fn a_killed_ingest_on_s3_recovers_to_a_clean_run() {
    let Some(server) = Server::start("crash") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, local) = scenario(&server, dir.path());
    let expected = lake_files(local_contents(&local));
    let source = server.url("drops/");
    for point in ["after-staging:3", "after-publish:10", "after-manifest:25"] {
        let prefix = format!("lake-{}", point.replace(':', "-"));
        let lake = server.url(&prefix);
        let out = server.run(&["ingest", &source, "--lake", &lake, "--crash-at", point, "--jobs", "1"]);
        assert!(!out.status.success(), "{point}: the crash hook did not stop the run");
        assert!(server.exists(&format!("{prefix}/_lock")), "{point}: the killed run left no lock on the store");
        server.run_ok(&["ingest", &source, "--lake", &lake, "-q"], &[0, 1]);
        let got = server.contents(&prefix);
        assert!(!got.contains_key("_lock"), "{point}: lock not released");
        assert!(!got.keys().any(|k| k.starts_with("_staging")), "{point}: staging left behind");
        assert_same_lake(point, &lake_files(got), &expected);
    }

    // killed from outside (SIGKILL) part-way through, twice, then run to the end
    let lake = server.url("lake-killed");
    let started = std::time::Instant::now();
    server.run_ok(&["ingest", &source, "--lake", &server.url("lake-timed"), "-q"], &[0, 1]);
    let full = started.elapsed();
    for fraction in [0.3, 0.6] {
        let mut child = server.spawn(&["ingest", &source, "--lake", &lake, "--jobs", "1"]);
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill();
        let _ = child.wait();
    }
    server.run_ok(&["ingest", &source, "--lake", &lake, "-q"], &[0, 1]);
    assert_same_lake("killed", &lake_files(server.contents("lake-killed")), &expected);
}

#[test]
fn two_ingests_at_once_on_s3_leave_one_lake() {
    let Some(server) = Server::start("lock") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, local) = scenario(&server, dir.path());
    let expected = lake_files(local_contents(&local));
    let (source, lake) = (server.url("drops/"), server.url("lake"));
    let children: Vec<_> = (0..2).map(|_| server.spawn(&["ingest", &source, "--lake", &lake])).collect();
    let mut locked_out = 0;
    for child in children {
        let out = child.wait_with_output().expect("ingest ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("is locked by another ingest") {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(stderr.contains(&format!("{lake}/_lock")), "the message names the lock: {stderr}");
            locked_out += 1;
        } else {
            assert!(matches!(out.status.code(), Some(0 | 1)), "an ingest failed: {stderr}");
        }
    }
    assert!(locked_out <= 1, "both ingests were locked out");
    assert_same_lake("two at once", &lake_files(server.contents("lake")), &expected);

    // a lock held by a live process stops an ingest; the store's lock is the only guard
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let lock = serde_json::json!({
        "pid": std::process::id(), "host": host.trim(), "since": "2026-01-01T00:00:00Z", "command": "ingest",
    });
    server
        .runtime
        .block_on(server.store.put(&StorePath::from("lake/_lock"), PutPayload::from(lock.to_string().into_bytes())))
        .expect("put a lock");
    let out = server.run(&["ingest", &source, "--lake", &lake]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked by another ingest"));
    // a lock left by a process of this host that is gone is taken over
    let stale = serde_json::json!({
        "pid": u32::MAX - 1, "host": host.trim(), "since": "2026-01-01T00:00:00Z", "command": "ingest",
    });
    server
        .runtime
        .block_on(server.store.put(&StorePath::from("lake/_lock"), PutPayload::from(stale.to_string().into_bytes())))
        .expect("put a stale lock");
    server.run_ok(&["ingest", &source, "--lake", &lake, "-q"], &[0, 1]);
    assert!(!server.exists("lake/_lock"), "the stale lock was not released");
}

/// `scripts/flaky_s3_proxy.py` in front of the server: every `every`th request answered
/// with a 503 or 500 of its own. Killed when dropped.
struct FlakyProxy {
    child: std::process::Child,
    endpoint: String,
}

impl FlakyProxy {
    fn start(upstream: &str, every: u32) -> FlakyProxy {
        use std::io::BufRead;
        let mut child = Command::new("python3")
            .arg(repo().join("scripts/flaky_s3_proxy.py"))
            .args(["--upstream", upstream, "--every", every.to_string().as_str()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the proxy");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        std::io::BufReader::new(stdout).read_line(&mut line).expect("the proxy prints its port");
        let port: u16 = line.trim().parse().expect("a port");
        FlakyProxy { child, endpoint: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn transient_errors_are_retried_and_nothing_is_half_published() {
    let Some(server) = Server::start("flaky") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, local) = scenario(&server, dir.path());
    let expected = lake_files(local_contents(&local));
    // one request in four fails (alternately 503 SlowDown and 500 InternalError)
    let proxy = FlakyProxy::start(&server.endpoint, 4);
    let env = Server::env_for(&proxy.endpoint);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (source, lake) = (server.url("drops/"), server.url("lake"));
    run_ok_env(&["ingest", &source, "--lake", &lake, "-q"], &env, &[0, 1]);
    assert_same_lake("through errors", &lake_files(server.contents("lake")), &expected);
    let on_s3 = run_ok_env(&["series", "--lake", &lake, "--format", "csv"], &env, &[0]);
    let on_disk = run_ok(&["series", "--lake", path(&local), "--format", "csv"], &[0]);
    assert_eq!(on_s3, on_disk, "series read through transient errors differs");
    run_ok_env(&["build", "--lake", &lake, "-q"], &env, &[0]);
    assert!(server.exists("lake/derived/series.parquet"));
}

#[test]
fn a_missing_bucket_is_a_clear_error_naming_the_url() {
    let Some(server) = Server::start("missing") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().join("gen"));
    opts.days = 3;
    let drops = generate(&opts).expect("generation succeeds").drops_dir;
    let missing = format!("s3://{}-absent/lake", server.bucket);
    for args in [
        vec!["ingest", path(&drops), "--lake", missing.as_str()],
        vec!["series", "--lake", missing.as_str()],
        vec![
            "ingest",
            format!("s3://{}-absent/drops/", server.bucket).as_str(),
            "--lake",
            path(&dir.path().join("lake")),
        ],
    ] {
        let out = server.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("s3://{}-absent/", server.bucket)),
            "{args:?}: the URL is not named: {stderr}"
        );
    }
}
