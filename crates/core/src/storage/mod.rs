//! File storage: the locations of `STORAGE_LOCATIONS`, each served by a [`Driver`].
//!
//! Directus names storage locations (`STORAGE_LOCATIONS=local,s3`) and configures each with
//! `STORAGE_<LOCATION>_DRIVER` and driver options (`STORAGE_<LOCATION>_ROOT`, ...). A file row's
//! `storage` column names its location; `filename_disk` is the path inside it. Only the `local`
//! driver exists so far; the [`Driver`] trait is the seam an S3-compatible driver plugs into
//! (streams in and out, byte ranges, prefix listing — nothing that needs a filesystem).
//!
//! The trait is our own rather than `object_store`'s: five methods cover what Directus does with
//! storage, and a small trait keeps the build light.

mod local;

pub use local::LocalDriver;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use serde_json::Value;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::{ConfigError, Env};

/// Bytes flowing into or out of storage, chunk by chunk (never the whole file in memory). An
/// upload may borrow its source (a multipart field), hence the lifetime.
pub type ByteStream<'a> = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send + 'a>>;

/// What storage knows about a stored file.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub size: u64,
    pub modified: Option<SystemTime>,
}

/// An inclusive byte range, as HTTP `Range: bytes=start-end` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

#[async_trait]
pub trait Driver: Send + Sync {
    /// Stores `stream` at `path`, replacing what was there; returns the bytes written. A write
    /// that fails (the stream errs, the disk is full) leaves nothing at `path`.
    async fn put(&self, path: &str, stream: ByteStream<'_>) -> io::Result<u64>;
    /// The file's bytes, or only `range` of them.
    async fn get(&self, path: &str, range: Option<ByteRange>) -> io::Result<ByteStream<'static>>;
    /// `None` when there is no file at `path`.
    async fn stat(&self, path: &str) -> io::Result<Option<Stat>>;
    /// Removes the file; a missing file is not an error.
    async fn delete(&self, path: &str) -> io::Result<()>;
    /// Paths that start with `prefix` (a file and its transformed variants share the file's id).
    async fn list(&self, prefix: &str) -> io::Result<Vec<String>>;
}

/// The configured locations, in `STORAGE_LOCATIONS` order (the first is the default), and the
/// limit on what images may be transformed (`ASSETS_TRANSFORM_IMAGE_MAX_DIMENSION`), read with
/// them because every consumer of stored images needs both.
#[derive(Clone)]
pub struct Storage {
    locations: Arc<Vec<(String, Arc<dyn Driver>)>>,
    transform_max_dimension: u32,
}

const DEFAULT_MAX_DIMENSION: u32 = 6000;

impl Storage {
    /// Reads `STORAGE_LOCATIONS` and each location's `STORAGE_<LOCATION>_*` variables; relative
    /// roots are resolved against `cwd`, as Node resolves them against the process's directory.
    pub fn from_env(env: &Env, cwd: &Path) -> Result<Storage, ConfigError> {
        let names: Vec<String> = match env.get("STORAGE_LOCATIONS") {
            Some(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect(),
            _ => env.string("STORAGE_LOCATIONS").unwrap_or_else(|| "local".into()).split(',').map(|s| s.trim().to_string()).collect(),
        };
        let names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
        if names.is_empty() {
            return Err(ConfigError::invalid("STORAGE_LOCATIONS", "names no storage location"));
        }
        let mut locations = Vec::new();
        for name in names {
            let var = |option: &str| format!("STORAGE_{}_{option}", name.to_uppercase());
            let driver_var = var("DRIVER");
            let driver: Arc<dyn Driver> = match env.string(&driver_var).as_deref() {
                Some("local") => {
                    let root_var = var("ROOT");
                    let root = env.string(&root_var).filter(|r| !r.is_empty()).ok_or_else(|| ConfigError::invalid(&root_var, "the local driver needs a root folder"))?;
                    Arc::new(LocalDriver::new(cwd.join(root)))
                }
                Some(other) => return Err(ConfigError::invalid(&driver_var, format!("driver \"{other}\" is not supported (only \"local\")"))),
                None => return Err(ConfigError::invalid(&driver_var, "is required for every location of STORAGE_LOCATIONS")),
            };
            locations.push((name, driver));
        }
        let max_var = "ASSETS_TRANSFORM_IMAGE_MAX_DIMENSION";
        let transform_max_dimension = match env.string(max_var) {
            None => DEFAULT_MAX_DIMENSION,
            Some(v) => v.parse().map_err(|_| ConfigError::invalid(max_var, format!("\"{v}\" is not a whole number")))?,
        };
        Ok(Storage { locations: Arc::new(locations), transform_max_dimension })
    }

    /// One `local` location at `root` (tests and sandboxes).
    pub fn local(name: &str, root: impl Into<std::path::PathBuf>) -> Storage {
        let driver: Arc<dyn Driver> = Arc::new(LocalDriver::new(root.into()));
        Storage { locations: Arc::new(vec![(name.to_string(), driver)]), transform_max_dimension: DEFAULT_MAX_DIMENSION }
    }

    /// The first location of `STORAGE_LOCATIONS`: where uploads go unless they name another.
    pub fn default_location(&self) -> &str {
        &self.locations[0].0
    }

    /// Images wider or higher than this are not transformed.
    pub fn transform_max_dimension(&self) -> u32 {
        self.transform_max_dimension
    }

    /// Every location with its driver, the default first.
    pub fn locations(&self) -> impl Iterator<Item = (&str, Arc<dyn Driver>)> + '_ {
        self.locations.iter().map(|(name, driver)| (name.as_str(), driver.clone()))
    }

    /// The driver of a location, `None` for a name that isn't configured.
    pub fn disk(&self, location: &str) -> Option<Arc<dyn Driver>> {
        self.locations.iter().find(|(name, _)| name == location).map(|(_, d)| d.clone())
    }
}
