//! Storage access: a local directory or an object-store URL, through one code path.
//!
//! Local paths and `file://` URLs use the local file system; `s3://`, `gs://`,
//! `az://` (and `memory://` for tests) use the matching `object_store` backend
//! (all in the one build). Credentials and endpoints come
//! from the options the caller passes (the CLI passes the usual environment variables and
//! AWS profile); every request has timeouts and is retried with backoff ([`retry_config`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, local::LocalFileSystem, path::Path};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{LakeError, Result, layout};

/// Where a lake or a source of drops is: a local directory or a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An absolute local directory.
    Local(std::path::PathBuf),
    /// An object-store URL (`s3://bucket/prefix`, ...).
    Url(Url),
}

impl Location {
    /// Parses a local path or a URL. Local paths are made absolute (they need not exist yet).
    pub fn parse(text: &str) -> Result<Location> {
        let bad = |reason: String| LakeError::Location { location: text.to_owned(), reason };
        if text.contains("://") {
            let url = Url::parse(text).map_err(|e| bad(e.to_string()))?;
            if url.scheme() == "file" {
                let path = url.to_file_path().map_err(|()| bad("not a local file path".into()))?;
                return Ok(Location::Local(path));
            }
            return Ok(Location::Url(url));
        }
        let path = std::path::Path::new(text);
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().map_err(|e| bad(e.to_string()))?.join(path)
        };
        Ok(Location::Local(path))
    }

    /// The location with `rel` (a `/`-separated relative path) appended, as polars or
    /// another reader would address it: an absolute path, or a URL.
    pub fn join(&self, rel: &str) -> String {
        match self {
            Location::Local(dir) => dir.join(rel).to_string_lossy().into_owned(),
            Location::Url(url) => format!("{}/{rel}", url.as_str().trim_end_matches('/')),
        }
    }

    /// True for a local directory.
    pub fn is_local(&self) -> bool {
        matches!(self, Location::Local(_))
    }

    /// Opens the store. `create` makes a missing local directory (for a lake, not a source).
    pub fn open<I, K, V>(&self, create: bool, options: I) -> Result<(Arc<dyn ObjectStore>, Path)>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        match self {
            Location::Local(dir) => {
                let bad = |reason: String| LakeError::Location { location: dir.display().to_string(), reason };
                if create {
                    std::fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
                } else if !dir.is_dir() {
                    return Err(bad("no such directory".into()));
                }
                let store = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|source| LakeError::Store { path: dir.display().to_string(), source })?;
                Ok((Arc::new(store), Path::default()))
            }
            Location::Url(url) => {
                let options: Vec<(String, String)> =
                    options.into_iter().map(|(k, v)| (k.as_ref().to_owned(), v.into())).collect();
                let (store, prefix) = open_url(url, &options)
                    .map_err(|e| LakeError::Location { location: self.to_string(), reason: e.to_string() })?;
                Ok((Arc::from(store), prefix))
            }
        }
    }

    /// The location as logs and messages show it: a URL without its user name, password,
    /// query string or fragment (where credentials such as SAS tokens could sit).
    pub fn redacted(&self) -> String {
        match self {
            Location::Local(dir) => dir.display().to_string(),
            Location::Url(url) => redact(url),
        }
    }
}

/// A URL without user info, query string or fragment.
fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// How long one request to a store may take before it is abandoned (and retried).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// How long connecting to a store may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Retries of one request that failed transiently (HTTP 5xx, 429, timeouts, resets).
pub const MAX_RETRIES: usize = 6;
/// Time after which a failing request is not retried again.
pub const RETRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// The retry policy of every store request: exponential backoff from 100 ms, doubling, at
/// most 10 s apart, [`MAX_RETRIES`] times within [`RETRY_TIMEOUT`]. `object_store` retries
/// server errors (5xx), throttling (429) and timeouts or broken connections; a client
/// error (403, 404: a missing bucket) fails at once.
pub fn retry_config() -> object_store::RetryConfig {
    object_store::RetryConfig {
        backoff: object_store::BackoffConfig {
            init_backoff: std::time::Duration::from_millis(100),
            max_backoff: std::time::Duration::from_secs(10),
            base: 2.0,
        },
        max_retries: MAX_RETRIES,
        retry_timeout: RETRY_TIMEOUT,
    }
}

fn client_options() -> object_store::ClientOptions {
    object_store::ClientOptions::new().with_timeout(REQUEST_TIMEOUT).with_connect_timeout(CONNECT_TIMEOUT)
}

/// Opens the store of a URL: S3, GCS and Azure with the given options (the `AWS_*`,
/// `GOOGLE_*`, `AZURE_*` settings, lower-cased; keys a backend does not know are ignored),
/// [`retry_config`] and the timeouts above; anything else as `object_store` parses it.
fn open_url(url: &Url, options: &[(String, String)]) -> object_store::Result<(Box<dyn ObjectStore>, Path)> {
    use object_store::ObjectStoreScheme;
    let (scheme, prefix) = ObjectStoreScheme::parse(url)?;
    macro_rules! build {
        ($builder:ty) => {{
            let builder = <$builder>::new()
                .with_url(url.as_str())
                .with_retry(retry_config())
                .with_client_options(client_options());
            let builder = options.iter().fold(builder, |b, (k, v)| match k.parse() {
                Ok(key) => b.with_config(key, v),
                Err(_) => b,
            });
            Box::new(builder.build()?) as Box<dyn ObjectStore>
        }};
    }
    let store = match scheme {
        ObjectStoreScheme::AmazonS3 => build!(object_store::aws::AmazonS3Builder),
        ObjectStoreScheme::GoogleCloudStorage => build!(object_store::gcp::GoogleCloudStorageBuilder),
        ObjectStoreScheme::MicrosoftAzure => build!(object_store::azure::MicrosoftAzureBuilder),
        _ => return object_store::parse_url_opts(url, options.iter().cloned()),
    };
    Ok((store, prefix))
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(dir) => write!(f, "{}", dir.display()),
            Location::Url(url) => write!(f, "{}", redact(url)),
        }
    }
}

/// An open lake: a store, the lake's root in it, and its location for readers.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    root: Path,
    location: Location,
    /// The options the store was opened with (for readers that open their own: polars).
    options: Vec<(String, String)>,
}

impl Lake {
    /// Opens (creating a missing local directory) the lake at `location`.
    pub fn open<I, K, V>(location: Location, options: I) -> Result<Lake>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let options: Vec<(String, String)> =
            options.into_iter().map(|(k, v)| (k.as_ref().to_owned(), v.into())).collect();
        let (store, root) = location.open(true, options.iter().cloned())?;
        Ok(Lake { store, root, location, options })
    }

    /// Opens an existing lake for reading: a missing local directory is an error, not
    /// an empty lake.
    pub fn open_existing<I, K, V>(location: Location, options: I) -> Result<Lake>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let options: Vec<(String, String)> =
            options.into_iter().map(|(k, v)| (k.as_ref().to_owned(), v.into())).collect();
        let (store, root) = location.open(false, options.iter().cloned())?;
        Ok(Lake { store, root, location, options })
    }

    /// A lake over an existing store (tests use `InMemory`).
    pub fn with_store(store: Arc<dyn ObjectStore>, root: Path, location: Location) -> Lake {
        Lake { store, root, location, options: Vec::new() }
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The options the lake's store was opened with: credentials, endpoint, region.
    pub fn store_options(&self) -> &[(String, String)] {
        &self.options
    }

    /// The store path of a lake-relative path.
    pub fn path(&self, rel: &str) -> Path {
        let root = self.root.as_ref();
        if root.is_empty() { Path::from(rel) } else { Path::from(format!("{root}/{rel}")) }
    }

    /// The full address of a store path of this lake, for messages: a local path, or the
    /// URL (without credentials) with the bucket or container.
    pub fn describe(&self, path: &Path) -> String {
        match &self.location {
            Location::Local(dir) => dir.join(path.as_ref()).display().to_string(),
            Location::Url(url) => {
                format!("{}://{}/{}", url.scheme(), url.host_str().unwrap_or_default(), path.as_ref())
            }
        }
    }

    /// A storage error at a store path of this lake, naming its full address.
    pub fn store_error(&self, path: &Path, source: object_store::Error) -> LakeError {
        LakeError::Store { path: self.describe(path), source }
    }

    /// The address of a lake-relative path for readers (polars): absolute path or URL.
    pub fn uri(&self, rel: &str) -> String {
        self.location.join(rel)
    }

    pub(crate) async fn get_bytes(&self, path: &Path) -> Result<Vec<u8>> {
        let store_err = |source| self.store_error(path, source);
        let got = self.store.get(path).await.map_err(store_err)?;
        Ok(got.bytes().await.map_err(store_err)?.to_vec())
    }

    /// Reads a lake-relative file.
    pub async fn read(&self, rel: &str) -> Result<Vec<u8>> {
        self.get_bytes(&self.path(rel)).await
    }

    /// Writes `bytes` to `rel` so that readers see the old object or the new one, never a
    /// part: the bytes go to `_staging/<random>` first and are renamed into place.
    pub async fn put_atomic(&self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        let staged = self.path(&layout::staging_path(&format!("{}-{}", std::process::id(), unique_suffix())));
        let target = self.path(rel);
        let store_err = |path: &Path| {
            let path = self.describe(path);
            move |source| LakeError::Store { path, source }
        };
        self.store.put(&staged, PutPayload::from(bytes)).await.map_err(store_err(&staged))?;
        self.store.rename(&staged, &target).await.map_err(store_err(&target))?;
        Ok(())
    }

    /// Writes `bytes` under `_staging/`; returns the staged file's lake-relative path, for
    /// [`Lake::move_into_place`].
    pub async fn stage(&self, bytes: Vec<u8>) -> Result<String> {
        let rel = layout::staging_path(&format!("{}-{}", std::process::id(), unique_suffix()));
        let staged = self.path(&rel);
        self.store.put(&staged, PutPayload::from(bytes)).await.map_err(|source| self.store_error(&staged, source))?;
        Ok(rel)
    }

    /// Moves the staged file `staged` to `rel`, replacing it whole. `Ok(false)` when nothing
    /// is staged there any more (it was moved already).
    pub async fn move_into_place(&self, staged: &str, rel: &str) -> Result<bool> {
        match self.store.rename(&self.path(staged), &self.path(rel)).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(self.store_error(&self.path(rel), source)),
        }
    }

    /// Removes leftovers of interrupted runs under `_staging/` (call while holding the lock),
    /// after finishing a set of derived tables whose publication was interrupted (see
    /// [`crate::DerivedState::publish`]).
    ///
    /// On a local lake the directory is read directly: `object_store`'s local listing skips
    /// names ending in `#<digits>` (its own in-progress uploads), which is exactly what a put
    /// killed half-way leaves (`_staging/<pid>-<hex>-<n>#1`), and the half-written
    /// `_lock#<digits>` a lock attempt killed half-way leaves is removed too. Returns how
    /// many files were removed.
    pub async fn clear_staging(&self) -> Result<usize> {
        crate::derived::finish_publication(self).await?;
        if let Location::Local(dir) = &self.location {
            return clear_local_staging(dir);
        }
        use futures::TryStreamExt;
        let prefix = self.path(layout::STAGING_DIR);
        let leftovers: Vec<Path> = self
            .store
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|source| self.store_error(&prefix, source))?;
        for path in &leftovers {
            match self.store.delete(path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(source) => return Err(self.store_error(path, source)),
            }
        }
        Ok(leftovers.len())
    }

    /// [`Lake::lock`], waiting up to `wait` for the writer that holds it to finish (a
    /// nightly `build` scheduled while the `ingest` before it still runs). The lock is
    /// tried again every half second; once `wait` has passed, the held lock is the error
    /// as without waiting. A zero `wait` tries once.
    pub async fn lock_waiting(&self, command: &str, wait: std::time::Duration) -> Result<LakeLock> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match self.lock(command).await {
                Err(LakeError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    tokio::time::sleep(left.min(std::time::Duration::from_millis(500))).await;
                }
                done => return done,
            }
        }
    }

    /// Takes the ingest lock: one writer at a time. A lock left by a process that no longer
    /// runs on this host is taken over; any other held lock is an error naming its holder.
    pub async fn lock(&self, command: &str) -> Result<LakeLock> {
        let info =
            LockInfo { pid: std::process::id(), host: host_name(), since: Utc::now(), command: command.to_owned() };
        self.lock_as(info).await
    }

    /// [`Lake::lock`] for the holder `info`. A create whose reply was lost and was retried
    /// (a store timeout: the object was written, the retry finds it) finds the lock held by
    /// exactly `info`: it is this attempt's own, and taken.
    async fn lock_as(&self, info: LockInfo) -> Result<LakeLock> {
        let path = self.path(layout::LOCK_FILE);
        for _attempt in 0..2 {
            let body = serde_json::to_vec(&info).unwrap_or_default();
            let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
            match self.store.put_opts(&path, PutPayload::from(body), opts).await {
                Ok(_) => return Ok(LakeLock { lake: self.clone(), path }),
                Err(object_store::Error::AlreadyExists { .. }) => {
                    let holder =
                        self.get_bytes(&path).await.ok().and_then(|b| serde_json::from_slice::<LockInfo>(&b).ok());
                    match holder {
                        Some(h)
                            if (h.pid, &h.host, h.since, &h.command)
                                == (info.pid, &info.host, info.since, &info.command) =>
                        {
                            return Ok(LakeLock { lake: self.clone(), path });
                        }
                        Some(h) if h.host == info.host && !process_alive(h.pid) => {
                            // stale: its process is gone
                            let _ = self.store.delete(&path).await;
                        }
                        Some(h) => {
                            return Err(LakeError::Locked {
                                lake: self.location.to_string(),
                                command: match h.command.as_str() {
                                    "ingest" => "ingest",
                                    "build" => "build",
                                    _ => "writer",
                                },
                                pid: h.pid,
                                host: h.host,
                                since: h.since.to_rfc3339(),
                                lock: self.uri(layout::LOCK_FILE),
                            });
                        }
                        None => {
                            // unreadable or vanished between the put and the read: retry once
                            let _ = self.store.delete(&path).await;
                        }
                    }
                }
                Err(source) => return Err(self.store_error(&path, source)),
            }
        }
        Err(LakeError::Locked {
            lake: self.location.to_string(),
            command: "writer",
            pid: 0,
            host: "unknown".into(),
            since: "unknown".into(),
            lock: self.uri(layout::LOCK_FILE),
        })
    }
}

/// Who holds the ingest lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    pub since: DateTime<Utc>,
    pub command: String,
}

/// The held ingest lock; [`LakeLock::release`] it when done (a crashed holder's lock is
/// taken over by the next run on the same host).
#[derive(Debug)]
pub struct LakeLock {
    lake: Lake,
    path: Path,
}

impl LakeLock {
    pub async fn release(self) -> Result<()> {
        match self.lake.store.delete(&self.path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(self.lake.store_error(&self.path, source)),
        }
    }
}

/// [`Lake::clear_staging`] on a local lake: every file under `dir/_staging/` (whatever its
/// name), and `dir/_lock#<digits>`.
fn clear_local_staging(dir: &std::path::Path) -> Result<usize> {
    let io_error = |path: &std::path::Path, e: std::io::Error| LakeError::Store {
        path: path.display().to_string(),
        source: object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(e) },
    };
    let mut removed = 0;
    let staging = dir.join(layout::STAGING_DIR);
    let mut pending = vec![staging];
    while let Some(current) = pending.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(&current, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&current, e))?;
            let path = entry.path();
            let is_dir = entry.file_type().map_err(|e| io_error(&path, e))?.is_dir();
            if is_dir {
                pending.push(path);
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, e)),
            }
        }
    }
    let root = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    for entry in root {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name();
        let half_lock = name.to_str().and_then(|n| n.strip_prefix(layout::LOCK_FILE)).and_then(|n| n.strip_prefix('#'));
        if half_lock.is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&entry.path(), e)),
            }
        }
    }
    Ok(removed)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}

fn process_alive(pid: u32) -> bool {
    let proc_dir = std::path::Path::new("/proc");
    if !proc_dir.is_dir() {
        return true; // cannot tell: treat the lock as held
    }
    proc_dir.join(pid.to_string()).exists()
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{nanos:x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lock_whose_create_landed_before_its_retry_is_taken() {
        let lake = Lake::with_store(
            Arc::new(object_store::memory::InMemory::new()),
            Path::default(),
            Location::parse("memory://").expect("a location"),
        );
        let info = LockInfo { pid: std::process::id(), host: host_name(), since: Utc::now(), command: "ingest".into() };
        // the first create was written, its reply lost: the retry meets the object
        let body = serde_json::to_vec(&info).expect("JSON");
        lake.store.put(&lake.path(layout::LOCK_FILE), PutPayload::from(body)).await.expect("written");
        let lock = lake.lock_as(info.clone()).await.expect("the lock is this attempt's own");
        lock.release().await.expect("released");
        // another attempt of the same process (a later start) is still refused
        let body = serde_json::to_vec(&info).expect("JSON");
        lake.store.put(&lake.path(layout::LOCK_FILE), PutPayload::from(body)).await.expect("written");
        let later = LockInfo { since: info.since + chrono::Duration::seconds(1), ..info };
        assert!(matches!(lake.lock_as(later).await, Err(LakeError::Locked { .. })));
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        let location = Location::parse("s3://AKIAEXAMPLE:s3cr3t@bucket/lake?X-Amz-Signature=abc#frag").expect("a URL");
        assert_eq!(location.to_string(), "s3://bucket/lake");
        assert_eq!(location.redacted(), "s3://bucket/lake");
        let sas = Location::parse("az://container/lake?sv=2024&sig=SECRET").expect("a URL");
        assert_eq!(sas.to_string(), "az://container/lake");
        let local = Location::parse("/tmp/lake").expect("a path");
        assert_eq!(local.to_string(), "/tmp/lake");
    }

    #[test]
    fn store_errors_name_the_full_url() {
        let location = Location::parse("s3://bucket/team/lake").expect("a URL");
        let store = Arc::new(object_store::memory::InMemory::new());
        let lake = Lake::with_store(store, Path::from("team/lake"), location);
        assert_eq!(lake.describe(&lake.path("_manifest")), "s3://bucket/team/lake/_manifest");
    }

    #[test]
    fn permanent_errors_are_the_users() {
        let denied = object_store::Error::PermissionDenied { path: "x".into(), source: "403 Forbidden".into() };
        assert!(crate::is_permanent(&denied));
        let missing_bucket = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 404 Not Found: <Error><Code>NoSuchBucket</Code></Error>"
                .into(),
        };
        assert!(crate::is_permanent(&missing_bucket));
        let flaky = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 503 Service Unavailable: <Code>SlowDown</Code>".into(),
        };
        assert!(!crate::is_permanent(&flaky));
        let forbidden = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 403 Forbidden: ".into(),
        };
        assert!(crate::is_permanent(&forbidden));
        assert!(!crate::is_permanent(&object_store::Error::NotFound { path: "x".into(), source: "gone".into() }));
    }
}
