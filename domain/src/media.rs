//! Where product images live. The local filesystem is the embedded default.

use std::path::{Path, PathBuf};
use types::AppError;

/// A media store rooted in a local directory, served by the web layer under `/media/`.
#[derive(Clone, Debug)]
pub struct MediaStore {
    root: PathBuf,
}

impl MediaStore {
    /// The URL path prefix media is served under.
    pub const URL_PREFIX: &'static str = "/media";

    /// Parses `MEDIA_STORE`, e.g. `file://./data/media` or `file:///var/lib/bazaar/media`.
    pub fn from_url(url: &str) -> Result<Self, String> {
        match url.split_once("://") {
            Some(("file", path)) if !path.is_empty() => Ok(MediaStore { root: PathBuf::from(path) }),
            Some((scheme, _)) => Err(format!(
                "MEDIA_STORE scheme `{scheme}` is not supported by this build; use file://<directory>"
            )),
            None => Err("MEDIA_STORE must look like file://<directory>".to_owned()),
        }
    }

    /// The directory files are written to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The public URL of `key`.
    pub fn url(key: &str) -> String {
        format!("{}/{key}", Self::URL_PREFIX)
    }

    /// Writes `bytes` under `key` atomically (a reader never sees half a file).
    pub async fn put(&self, key: &str, bytes: &[u8]) -> Result<String, AppError> {
        if !valid_key(key) {
            return Err(AppError::BadRequest(format!("invalid media key `{key}`")));
        }
        let path = self.root.join(key);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| AppError::internal("media mkdir", e))?;
        let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4()));
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(|e| AppError::internal("media write", e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| AppError::internal("media rename", e))?;
        Ok(Self::url(key))
    }
}

/// Keys are relative paths of `[a-z0-9._-]` segments; no `..`, no absolute paths.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        assert!(valid_key("products/mug.svg"));
        for bad in [
            "",
            "../etc/passwd",
            "/abs",
            "a//b",
            "products/.hidden",
            "UPPER.svg",
            "a\\b",
        ] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn parses_file_urls_and_refuses_unknown_schemes() {
        assert_eq!(
            MediaStore::from_url("file://./data/media")
                .expect("ok")
                .root(),
            Path::new("./data/media")
        );
        assert!(MediaStore::from_url("ftp://x").is_err());
        assert!(MediaStore::from_url("./data").is_err());
    }

    #[tokio::test]
    async fn put_writes_the_file_and_returns_its_url() {
        let dir = std::env::temp_dir().join(format!("bazaar-media-{}", uuid::Uuid::new_v4()));
        let store = MediaStore::from_url(&format!("file://{}", dir.display())).expect("ok");
        let url = store
            .put("products/x.svg", b"<svg/>")
            .await
            .expect("written");
        assert_eq!(url, "/media/products/x.svg");
        assert_eq!(
            std::fs::read(dir.join("products/x.svg")).expect("read"),
            b"<svg/>"
        );
        assert!(store.put("../x.svg", b"").await.is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
