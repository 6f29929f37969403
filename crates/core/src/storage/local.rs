//! The `local` driver: files under a root folder.
//!
//! Writes go to a temporary sibling first and are renamed into place once complete, so a
//! failed or aborted upload never leaves a partial file under the real name.

use async_trait::async_trait;
use futures_util::StreamExt;
use std::io;
use std::path::{Component, Path, PathBuf};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{ByteRange, ByteStream, Driver, Stat};

pub struct LocalDriver {
    root: PathBuf,
}

impl LocalDriver {
    pub fn new(root: PathBuf) -> Self {
        LocalDriver { root }
    }

    /// `path` under the root. `filename_disk` can be written by API clients, so anything that
    /// could step outside the root (`..`, absolute paths) is refused.
    fn resolve(&self, path: &str) -> io::Result<PathBuf> {
        let relative = Path::new(path);
        let plain = relative.components().all(|c| matches!(c, Component::Normal(_)));
        if path.is_empty() || !plain {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("\"{path}\" is not a valid storage path")));
        }
        Ok(self.root.join(relative))
    }
}

/// Chunk size of reads: large enough for throughput, small enough to keep memory flat.
const READ_CHUNK: usize = 64 * 1024;

#[async_trait]
impl Driver for LocalDriver {
    async fn put(&self, path: &str, mut stream: ByteStream<'_>) -> io::Result<u64> {
        let target = self.resolve(path)?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temp = target.with_file_name(format!(".{}.{}.part", target.file_name().and_then(|n| n.to_str()).unwrap_or("upload"), uuid::Uuid::new_v4().simple()));
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            let mut size = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            file.sync_all().await?;
            Ok::<u64, io::Error>(size)
        }
        .await;
        match written {
            Ok(size) => {
                tokio::fs::rename(&temp, &target).await?;
                Ok(size)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    async fn get(&self, path: &str, range: Option<ByteRange>) -> io::Result<ByteStream<'static>> {
        let mut file = tokio::fs::File::open(self.resolve(path)?).await?;
        match range {
            None => Ok(Box::pin(ReaderStream::with_capacity(file, READ_CHUNK))),
            Some(ByteRange { start, end }) => {
                file.seek(io::SeekFrom::Start(start)).await?;
                let limited = tokio::io::AsyncReadExt::take(file, end.saturating_sub(start) + 1);
                Ok(Box::pin(ReaderStream::with_capacity(limited, READ_CHUNK)))
            }
        }
    }

    async fn stat(&self, path: &str) -> io::Result<Option<Stat>> {
        match tokio::fs::metadata(self.resolve(path)?).await {
            Ok(m) if m.is_file() => Ok(Some(Stat { size: m.len(), modified: m.modified().ok() })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete(&self, path: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.resolve(path)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Only the root folder is listed: Rectus stores every file (and its variants) at the top.
    async fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let mut entries = match tokio::fs::read_dir(&self.root).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let mut found = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            if let Some(name) = entry.file_name().to_str() {
                if name.starts_with(prefix) && entry.file_type().await?.is_file() {
                    found.push(name.to_string());
                }
            }
        }
        found.sort();
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn stream(parts: Vec<io::Result<Bytes>>) -> ByteStream<'static> {
        Box::pin(futures_util::stream::iter(parts))
    }

    async fn collect(mut s: ByteStream<'static>) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn stores_reads_ranges_lists_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let driver = LocalDriver::new(dir.path().join("uploads"));
        let size = driver.put("abc.txt", stream(vec![Ok(Bytes::from("hello ")), Ok(Bytes::from("world"))])).await.unwrap();
        assert_eq!(size, 11);
        assert_eq!(collect(driver.get("abc.txt", None).await.unwrap()).await, b"hello world");
        assert_eq!(collect(driver.get("abc.txt", Some(ByteRange { start: 6, end: 10 })).await.unwrap()).await, b"world");
        assert_eq!(driver.stat("abc.txt").await.unwrap().unwrap().size, 11);
        assert_eq!(driver.list("ab").await.unwrap(), vec!["abc.txt".to_string()]);
        driver.delete("abc.txt").await.unwrap();
        assert!(driver.stat("abc.txt").await.unwrap().is_none());
        driver.delete("abc.txt").await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_write_leaves_nothing_and_paths_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let driver = LocalDriver::new(dir.path().to_path_buf());
        let failing = stream(vec![Ok(Bytes::from("partial")), Err(io::Error::other("client went away"))]);
        assert!(driver.put("x.bin", failing).await.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(driver.put("../escape", stream(vec![])).await.is_err());
        assert!(driver.stat("/etc/passwd").await.is_err());
    }
}
