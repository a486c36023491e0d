//! A small static server for the web page and `.db` files, on localhost: what
//! `runstore serve` runs. `.db` files are answered with HTTP range requests (206 Partial
//! Content), so the page can read large files in slices, and `HEAD` gives their length.
//!
//! HTTP/1.1 on `std::net`, one thread per connection: browsers keep several connections
//! open between requests, and a connection waiting for its next request must never hold up
//! another (tiny_http's fixed pool let a page load hang on connections it never read). An
//! idle connection is closed after [`IDLE`].

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::{Error, Result};

/// How long a connection may stay silent before it is closed.
pub const IDLE: Duration = Duration::from_secs(30);

/// Longest request line or header line accepted.
const MAX_LINE: u64 = 16 << 10;

/// Most connections open at once (each has a thread).
pub const MAX_CONNECTIONS: usize = 256;

/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 100;

/// What to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Folder of the static page (`www/`).
    pub www: PathBuf,
    /// `.db` files, served under `/files/NAME` (NAME: the file name).
    pub files: Vec<PathBuf>,
}

/// A bound server.
pub struct Served {
    listener: TcpListener,
    options: ServeOptions,
}

/// Binds `address` (e.g. `127.0.0.1:8080`, or port 0 for any free port).
pub fn bind(address: &str, options: ServeOptions) -> Result<Served> {
    let listener =
        TcpListener::bind(address).map_err(|source| Error::Io { path: address.to_string(), source })?;
    Ok(Served { listener, options })
}

impl Served {
    /// The bound address.
    pub fn address(&self) -> String {
        self.listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
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

    /// Answers requests until the process ends, each connection on its own thread.
    /// Past [`MAX_CONNECTIONS`] open at once, a new connection gets 503 and is closed.
    pub fn run(&self) {
        let open = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for stream in self.listener.incoming() {
                let Ok(mut stream) = stream else {
                    // Out of file descriptors, say: wait instead of spinning.
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                    open.fetch_sub(1, Ordering::AcqRel);
                    let _ = respond_text(
                        &mut stream,
                        503,
                        "too many connections",
                        Framing { keep_alive: false, head: false },
                    );
                    let _ = close_gently(&stream, &stream, Duration::from_millis(100));
                    continue;
                }
                let slot = Slot(&open);
                let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                    let _slot = slot; // given back however the thread ends
                    let _ = serve_connection(stream, &self.options);
                });
                if spawned.is_err() {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
    }

    /// Accepts one connection and answers its requests until the client closes it or stays
    /// silent for [`IDLE`] (for tests and embedding).
    pub fn answer_one(&self) -> Result<()> {
        let (stream, _) = self.listener.accept().map_err(|e| Error::io(Path::new("server"), e))?;
        serve_connection(stream, &self.options).map_err(|e| Error::io(Path::new("server"), e))
    }
}

/// One of the [`MAX_CONNECTIONS`], given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One parsed request: what answering needs.
struct Request {
    method: String,
    target: String,
    range: Option<String>,
    keep_alive: bool,
    /// It announced a body (Content-Length or Transfer-Encoding), which this server never
    /// reads: the connection is closed after the answer, so the body is not taken for a request.
    has_body: bool,
}

/// Why a request could not be read.
enum Unreadable {
    /// The client closed the connection or stayed silent: nothing to answer.
    Gone,
    /// Not HTTP as this server speaks it: answered 400, then the connection is closed.
    Malformed,
}

fn serve_connection(stream: TcpStream, options: &ServeOptions) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    // A client that stops reading must not hold its thread forever either.
    stream.set_write_timeout(Some(IDLE))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = BufWriter::new(stream);
    loop {
        let request = match read_request(&mut reader) {
            Ok(request) => request,
            Err(Unreadable::Gone) => return Ok(()),
            Err(Unreadable::Malformed) => {
                respond_text(&mut writer, 400, "bad request", Framing { keep_alive: false, head: false })?;
                writer.flush()?;
                return close_gently(writer.get_ref(), reader, Duration::from_secs(1));
            }
        };
        answer(&request, options, &mut writer)?;
        writer.flush()?;
        if request.has_body {
            return close_gently(writer.get_ref(), reader, Duration::from_secs(1));
        }
        if !request.keep_alive {
            return Ok(());
        }
    }
}

/// Closes a connection after an answer sent before its request was read: closing with unread
/// input would reset the connection and the client could lose the answer, so stop writing,
/// then read what is left for up to `wait`.
fn close_gently(stream: &TcpStream, rest: impl Read, wait: Duration) -> std::io::Result<()> {
    stream.shutdown(std::net::Shutdown::Write)?;
    stream.set_read_timeout(Some(wait))?;
    let _ = std::io::copy(&mut rest.take(1 << 20), &mut std::io::sink());
    Ok(())
}

/// One line, at most [`MAX_LINE`] bytes, without its line end.
fn read_line(reader: &mut impl BufRead) -> std::result::Result<String, Unreadable> {
    let mut line = String::new();
    match reader.take(MAX_LINE).read_line(&mut line) {
        Ok(0) | Err(_) if line.is_empty() => Err(Unreadable::Gone),
        Ok(_) if !line.ends_with('\n') => Err(Unreadable::Malformed),
        Ok(_) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
        Err(_) => Err(Unreadable::Malformed),
    }
}

fn read_request(reader: &mut impl BufRead) -> std::result::Result<Request, Unreadable> {
    let mut line = read_line(reader)?;
    // Tolerate blank lines between requests (RFC 9112, 2.2).
    while line.is_empty() {
        line = read_line(reader)?;
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Unreadable::Malformed);
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") || !target.starts_with('/') {
        return Err(Unreadable::Malformed);
    }
    let (mut range, mut connection): (Option<String>, Option<String>) = (None, None);
    let mut has_body = false;
    for _ in 0..=MAX_HEADERS {
        let header = match read_line(reader) {
            Ok(header) => header,
            Err(Unreadable::Gone) => return Err(Unreadable::Malformed),
            Err(e) => return Err(e),
        };
        if header.is_empty() {
            let connection = connection.unwrap_or_default();
            let keep_alive = if version == "HTTP/1.1" {
                !connection.contains("close")
            } else {
                connection.contains("keep-alive")
            };
            let keep_alive = keep_alive && !has_body;
            return Ok(Request {
                method: method.to_string(),
                target: target.to_string(),
                range,
                keep_alive,
                has_body,
            });
        }
        let (name, value) = header.split_once(':').ok_or(Unreadable::Malformed)?;
        if name.eq_ignore_ascii_case("range") {
            range = Some(value.trim().to_string());
        } else if name.eq_ignore_ascii_case("connection") {
            connection = Some(value.trim().to_ascii_lowercase());
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || (name.eq_ignore_ascii_case("content-length") && value.trim() != "0")
        {
            has_body = true;
        }
    }
    Err(Unreadable::Malformed)
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

fn answer(request: &Request, options: &ServeOptions, out: &mut impl Write) -> std::io::Result<()> {
    let keep = request.keep_alive;
    let framing = Framing { keep_alive: keep, head: request.method == "HEAD" };
    if request.method != "GET" && request.method != "HEAD" {
        return respond(
            out,
            405,
            "text/plain; charset=utf-8",
            "Allow: GET, HEAD\r\n",
            b"only GET and HEAD",
            framing,
        );
    }
    let Some(path) = resolve(&request.target, options) else {
        return respond_text(out, 404, "not found", framing);
    };
    let Ok(mut file) = File::open(&path) else {
        return respond_text(out, 404, "not found", framing);
    };
    let len = file.metadata()?.len();
    let (status, start, body_len) = match &request.range {
        None => (200, 0, len),
        Some(spec) => match range(spec, len) {
            Some((start, end)) => (206, start, end - start + 1),
            None => {
                let extra = format!("Content-Range: bytes */{len}\r\n");
                return respond(
                    out,
                    416,
                    "text/plain; charset=utf-8",
                    &extra,
                    b"range not satisfiable",
                    framing,
                );
            }
        },
    };
    let mut extra = "Accept-Ranges: bytes\r\n".to_string();
    if status == 206 {
        extra.push_str(&format!("Content-Range: bytes {start}-{}/{len}\r\n", start + body_len - 1));
    }
    write_head(out, status, content_type(&path), &extra, body_len, keep)?;
    if request.method == "GET" {
        file.seek(SeekFrom::Start(start))?;
        let copied = std::io::copy(&mut file.take(body_len), out)?;
        if copied != body_len {
            // The file shrank while it was sent: the client must not take this for the body.
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file shrank while served"));
        }
    }
    Ok(())
}

fn write_head(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    extra: &str,
    body_len: u64,
    keep_alive: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        503 => "Service Unavailable",
        _ => "",
    };
    let connection = if keep_alive { "keep-alive" } else { "close" };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {body_len}\r\n{extra}Connection: {connection}\r\n\r\n"
    )
}

/// How an answer ends: whether the connection stays open, and whether the body is left out
/// (HEAD gets the headers of the body it would get, Content-Length included).
#[derive(Clone, Copy)]
struct Framing {
    keep_alive: bool,
    head: bool,
}

fn respond(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    extra: &str,
    body: &[u8],
    framing: Framing,
) -> std::io::Result<()> {
    write_head(out, status, content_type, extra, body.len() as u64, framing.keep_alive)?;
    if framing.head { Ok(()) } else { out.write_all(body) }
}

fn respond_text(out: &mut impl Write, status: u16, text: &str, framing: Framing) -> std::io::Result<()> {
    respond(out, status, "text/plain; charset=utf-8", "", text.as_bytes(), framing)
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
