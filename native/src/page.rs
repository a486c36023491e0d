//! Where the web page's files come from: a folder on disk (`www/` as `scripts/build-web`
//! leaves it, read at each use) or a table of files compiled into the program (the `runstore`
//! binary carries its page, so `serve` and `report` work from any directory).
//!
//! ```
//! use runstore::page::Page;
//!
//! static FILES: &[(&str, &[u8])] = &[("index.html", b"<!doctype html><title>t</title>")];
//! let page = Page::Embedded(FILES);
//! assert!(page.has("index.html") && !page.has("pkg/runstore_web_bg.wasm"));
//! assert_eq!(page.read_to_string("index.html")?, "<!doctype html><title>t</title>");
//! # Ok::<(), runstore::Error>(())
//! ```

use std::borrow::Cow;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// The wasm module the page loads, relative to the page's root.
pub const WASM: &str = "pkg/runstore_web_bg.wasm";

/// The wasm-bindgen glue that loads [`WASM`], relative to the page's root.
pub const GLUE: &str = "pkg/runstore_web.js";

/// The web page: its files by path relative to its root (`index.html`,
/// `pkg/runstore_web_bg.wasm`, ...).
#[derive(Debug, Clone)]
pub enum Page {
    /// A folder on disk, read at each use, so changes to the page show without a rebuild.
    Dir(PathBuf),
    /// Files compiled into the program: each one's path relative to the page's root
    /// (`/`-separated) and its bytes.
    Embedded(&'static [(&'static str, &'static [u8])]),
}

impl From<PathBuf> for Page {
    fn from(dir: PathBuf) -> Page {
        Page::Dir(dir)
    }
}

impl From<&Path> for Page {
    fn from(dir: &Path) -> Page {
        Page::Dir(dir.to_path_buf())
    }
}

impl From<&PathBuf> for Page {
    fn from(dir: &PathBuf) -> Page {
        Page::Dir(dir.clone())
    }
}

impl std::fmt::Display for Page {
    /// The folder's path, or "the page built into this program".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Page::Dir(dir) => write!(f, "{}", dir.display()),
            Page::Embedded(_) => f.write_str("the page built into this program"),
        }
    }
}

/// Whether `rel` is a plain relative path (no `..`, no root, no `.` segments).
fn plain(rel: &str) -> bool {
    !rel.is_empty() && Path::new(rel).components().all(|c| matches!(c, Component::Normal(_)))
}

impl Page {
    /// Whether the page has the file `rel` (relative to its root).
    pub fn has(&self, rel: &str) -> bool {
        match self {
            Page::Dir(dir) => plain(rel) && dir.join(rel).is_file(),
            Page::Embedded(_) => self.embedded(rel).is_some(),
        }
    }

    /// The bytes of the file `rel`.
    pub fn read(&self, rel: &str) -> Result<Cow<'static, [u8]>> {
        match self {
            Page::Dir(dir) => {
                let path = dir.join(rel);
                if !plain(rel) {
                    return Err(Error::io(&path, std::io::ErrorKind::InvalidInput.into()));
                }
                std::fs::read(&path).map(Cow::Owned).map_err(|e| Error::io(&path, e))
            }
            Page::Embedded(_) => self.embedded(rel).map(Cow::Borrowed).ok_or_else(|| Error::Io {
                path: format!("{rel} (in {self})"),
                error: std::io::ErrorKind::NotFound.into(),
            }),
        }
    }

    /// The file `rel` as text.
    pub fn read_to_string(&self, rel: &str) -> Result<String> {
        let bytes = self.read(rel)?;
        String::from_utf8(bytes.into_owned()).map_err(|e| Error::Io {
            path: format!("{rel} (in {self})"),
            error: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// Opens the file `rel` for reading in any order; `None` if the page has no such file.
    pub(crate) fn open(&self, rel: &str) -> Option<Contents> {
        match self {
            Page::Dir(dir) => {
                let path = dir.join(rel);
                (plain(rel) && path.is_file()).then(|| File::open(&path).ok().map(Contents::File))?
            }
            Page::Embedded(_) => self.embedded(rel).map(|bytes| Contents::Static(Cursor::new(bytes))),
        }
    }

    fn embedded(&self, rel: &str) -> Option<&'static [u8]> {
        let Page::Embedded(files) = self else { return None };
        files.iter().find(|(path, _)| *path == rel).map(|(_, bytes)| *bytes)
    }
}

/// An opened file: on disk, or bytes compiled into the program.
pub(crate) enum Contents {
    File(File),
    Static(Cursor<&'static [u8]>),
}

impl Contents {
    /// The file's length in bytes.
    pub(crate) fn len(&self) -> std::io::Result<u64> {
        match self {
            Contents::File(file) => Ok(file.metadata()?.len()),
            Contents::Static(bytes) => Ok(bytes.get_ref().len() as u64),
        }
    }
}

impl Read for Contents {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Contents::File(file) => file.read(buf),
            Contents::Static(bytes) => bytes.read(buf),
        }
    }
}

impl Seek for Contents {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match self {
            Contents::File(file) => file.seek(to),
            Contents::Static(bytes) => bytes.seek(to),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kinds_read_the_same_and_refuse_paths_outside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("www/pkg")).unwrap();
        std::fs::write(dir.path().join("www/index.html"), "hi").unwrap();
        std::fs::write(dir.path().join("www/pkg/a.wasm"), [0u8, 1, 2]).unwrap();
        std::fs::write(dir.path().join("secret"), "no").unwrap();
        static FILES: &[(&str, &[u8])] = &[("index.html", b"hi"), ("pkg/a.wasm", &[0, 1, 2])];
        for page in [Page::Dir(dir.path().join("www")), Page::Embedded(FILES)] {
            assert_eq!(page.read_to_string("index.html").unwrap(), "hi", "{page}");
            assert_eq!(&*page.read("pkg/a.wasm").unwrap(), &[0, 1, 2]);
            let mut opened = page.open("pkg/a.wasm").unwrap();
            assert_eq!(opened.len().unwrap(), 3);
            opened.seek(SeekFrom::Start(1)).unwrap();
            let mut rest = Vec::new();
            opened.read_to_end(&mut rest).unwrap();
            assert_eq!(rest, [1, 2]);
            for bad in ["../secret", "/etc/passwd", "", "pkg", "./index.html", "missing"] {
                assert!(
                    !page.has(bad) && page.open(bad).is_none() && page.read(bad).is_err(),
                    "{page}: {bad}"
                );
            }
        }
    }
}
