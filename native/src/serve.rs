//! A small static server for the web page and `.db` files, on localhost: what
//! `runstore serve` runs. `.db` files are answered with HTTP range requests (206 Partial
//! Content), so the page can read large files in slices, and `HEAD` gives their length.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::{Error, Result};

/// What to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Folder of the static page (`www/`).
    pub www: PathBuf,
    /// `.db` files, served under `/files/NAME` (NAME: the file name).
    pub files: Vec<PathBuf>,
}

/// Requests answered at the same time (browsers open up to six connections per host).
const ANSWERING_THREADS: usize = 8;

/// A running server.
pub struct Served {
    server: Server,
    options: ServeOptions,
}

/// Binds `address` (e.g. `127.0.0.1:8080`, or port 0 for any free port).
pub fn bind(address: &str, options: ServeOptions) -> Result<Served> {
    let server = Server::http(address)
        .map_err(|e| Error::Io { path: address.to_string(), source: std::io::Error::other(e.to_string()) })?;
    Ok(Served { server, options })
}

impl Served {
    /// The bound address.
    pub fn address(&self) -> String {
        self.server.server_addr().to_string()
    }

    /// The page's URL opening every served file (`?db=` per file).
    pub fn url(&self) -> String {
        let dbs: Vec<String> = self
            .options
            .files
            .iter()
            .filter_map(|f| f.file_name())
            .map(|n| format!("db=/files/{}", n.to_string_lossy()))
            .collect();
        format!("http://{}/?{}", self.address(), dbs.join("&"))
    }

    /// Answers requests until the process ends, several at once: a browser opens several
    /// connections, and one slow reader (a big file to a busy tab) must not hold up the rest.
    pub fn run(&self) {
        std::thread::scope(|scope| {
            for _ in 0..ANSWERING_THREADS {
                scope.spawn(|| {
                    for request in self.server.incoming_requests() {
                        let _ = answer(request, &self.options);
                    }
                });
            }
        });
    }

    /// Answers one request (for tests and embedding).
    pub fn answer_one(&self) -> Result<()> {
        let request = self.server.recv().map_err(|e| Error::io(Path::new("server"), e))?;
        answer(request, &self.options).map_err(|e| Error::io(Path::new("server"), e))
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// Maps a URL path to a file: `/files/NAME` to a served `.db`, anything else inside `www`.
fn resolve(url_path: &str, options: &ServeOptions) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("/");
    if let Some(name) = path.strip_prefix("/files/") {
        return options
            .files
            .iter()
            .find(|f| f.file_name().is_some_and(|n| n.to_string_lossy() == name))
            .cloned();
    }
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let file = if path == "/" { options.www.join("index.html") } else { options.www.join(rel) };
    file.is_file().then_some(file)
}

/// Parses `bytes=A-B`, `bytes=A-` or `bytes=-N` against a length.
fn range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, len.checked_sub(1)?),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(len.checked_sub(1)?)),
    };
    (start <= end && end < len).then_some((start, end))
}

fn answer(request: Request, options: &ServeOptions) -> std::io::Result<()> {
    if !matches!(request.method(), Method::Get | Method::Head) {
        return request.respond(Response::from_string("only GET and HEAD").with_status_code(405));
    }
    let Some(path) = resolve(request.url(), options) else {
        return request.respond(Response::from_string("not found").with_status_code(404));
    };
    let mut file = File::open(&path)?;
    let len = file.metadata()?.len();
    let kind = header("Content-Type", content_type(&path));
    let ranges = header("Accept-Ranges", "bytes");
    let wanted =
        request.headers().iter().find(|h| h.field.equiv("Range")).map(|h| h.value.as_str().to_string());
    let head = *request.method() == Method::Head;
    match wanted {
        Some(spec) => match range(&spec, len) {
            Some((start, end)) => {
                let mut body = vec![0u8; (end - start + 1) as usize];
                file.seek(SeekFrom::Start(start))?;
                file.read_exact(&mut body)?;
                let response = Response::from_data(if head { Vec::new() } else { body })
                    .with_status_code(StatusCode(206))
                    .with_header(kind)
                    .with_header(ranges)
                    .with_header(header("Content-Range", &format!("bytes {start}-{end}/{len}")));
                request.respond(response)
            }
            None => request.respond(
                Response::from_string("range not satisfiable")
                    .with_status_code(416)
                    .with_header(header("Content-Range", &format!("bytes */{len}"))),
            ),
        },
        // For HEAD, tiny_http sends the headers (Content-Length included) and no body.
        None => request.respond(Response::new(
            StatusCode(200),
            vec![kind, ranges],
            file,
            Some(len as usize),
            None,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(range("bytes=990-2000", 1000), Some((990, 999)));
        assert_eq!(range("bytes=1000-", 1000), None);
        assert_eq!(range("bytes=5-1", 1000), None);
        assert_eq!(range("bytes=0-1,5-6", 1000), None);
        assert_eq!(range("items=0-1", 1000), None);
    }
}
