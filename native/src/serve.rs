//! A small static server for the web page and `.db` files, on localhost: what
//! `runstore serve` runs. `.db` files are answered with HTTP range requests (206 Partial
//! Content), so the page can read large files in slices, and `HEAD` gives their length.
//!
//! HTTP/1.1 on `std::net`, one thread per connection: browsers keep several connections
//! open between requests, and a connection waiting for its next request must never hold up
//! another (tiny_http's fixed pool let a page load hang on connections it never read). A
//! connection waiting for its next request is closed after [`ServeOptions::idle`]; a request
//! whose head (request line and headers) is not all in [`ServeOptions::head_deadline`] after
//! its first byte gets 408 and is closed, so clients trickling bytes cannot keep every
//! connection forever. Past [`ServeOptions::max_connections`], new connections get 503.
//!
//! Only requests addressed to this machine are answered: a `Host` of `localhost` (or a name
//! under it), an IP address, or a name in [`ServeOptions::hosts`], with any port; others get
//! 403. This stops DNS rebinding: a web page from `evil.example` whose name was pointed at
//! 127.0.0.1 could otherwise read the served files, but its requests say `Host: evil.example`.
//! An HTTP/1.1 request without `Host` gets 400 (RFC 9112 requires one); an HTTP/1.0 request
//! without one is answered, as no browser sends such a request.
//!
//! Request paths are percent-decoded (one that does not decode to UTF-8 without NUL, or has a
//! `..` segment, gets 400); the names files are served under, and the URLs built from them,
//! are percent-encoded. Two files with the same name are served under distinct
//! names (`runs.db`, `runs-2.db`): [`Served::files`] says which name serves which file.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::page::{Contents, Page};
use crate::{Error, Result};

/// How long a connection may wait silent for its next request: the default of
/// [`ServeOptions::idle`].
pub const IDLE: Duration = Duration::from_secs(30);

/// How long a request's head may take to arrive from its first byte: the default of
/// [`ServeOptions::head_deadline`].
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// Longest request line or header line accepted.
const MAX_LINE: u64 = 16 << 10;

/// Most connections open at once (each has a thread): the default of
/// [`ServeOptions::max_connections`].
pub const MAX_CONNECTIONS: usize = 256;

/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 100;

/// Most connections being refused (503) at once, each on a short-lived thread.
const MAX_REFUSING: usize = 16;

/// How long a connection closed before its request was read is still drained, and how long
/// writing a 503 may take.
const LINGER: Duration = Duration::from_secs(1);

/// What to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The web page: a folder on disk (`www/`) or files compiled into the program.
    pub page: Page,
    /// `.db` files, served under `/files/NAME`. NAME is the file name, or `STEM-2.EXT`,
    /// `STEM-3.EXT`, ... for a file whose name an earlier file has.
    pub files: Vec<PathBuf>,
    /// Names accepted in a request's `Host` header (compared without the port, ignoring
    /// case) besides localhost names and IP addresses, e.g. the name given to
    /// `runstore serve --host`. Default: none.
    pub hosts: Vec<String>,
    /// How long a connection may wait silent for its next request. Default: [`IDLE`] (30 s).
    pub idle: Duration,
    /// How long a request's head (request line and headers) may take to arrive, from its first
    /// byte. Default: [`HEAD_DEADLINE`] (10 s).
    pub head_deadline: Duration,
    /// Most connections open at once, each on its own thread; past it, a new connection is
    /// answered 503 and closed. Default: [`MAX_CONNECTIONS`] (256).
    pub max_connections: usize,
}

impl ServeOptions {
    /// Serves `page` (a [`Page`], or the path of a folder holding one) and `files`, with the
    /// defaults for everything else.
    pub fn new(page: impl Into<Page>, files: Vec<PathBuf>) -> ServeOptions {
        ServeOptions {
            page: page.into(),
            files,
            hosts: Vec::new(),
            idle: IDLE,
            head_deadline: HEAD_DEADLINE,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// A bound server.
pub struct Served {
    listener: TcpListener,
    options: ServeOptions,
    /// Each served file's name (decoded) and path, in the order of [`ServeOptions::files`].
    names: Vec<(String, PathBuf)>,
}

/// Binds `address` (e.g. `127.0.0.1:8080`, or port 0 for any free port).
pub fn bind(address: &str, options: ServeOptions) -> Result<Served> {
    let listener =
        TcpListener::bind(address).map_err(|error| Error::Io { path: address.to_string(), error })?;
    let names = served_names(&options.files);
    Ok(Served { listener, options, names })
}

/// Gives each file a distinct name to be served under: its own file name unless an earlier
/// file has it, else `STEM-N.EXT` with the smallest N (from 2) that no file has.
fn served_names(files: &[PathBuf]) -> Vec<(String, PathBuf)> {
    let own: Vec<String> = files
        .iter()
        .map(|f| f.file_name().map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned()))
        .collect();
    // Own names first, so that `runs-2.db` given as such keeps its name.
    let mut taken = HashSet::new();
    let firsts: Vec<bool> = own.iter().map(|name| taken.insert(name.clone())).collect();
    own.iter()
        .zip(firsts)
        .zip(files)
        .map(|((name, first), file)| {
            if first {
                return (name.clone(), file.clone());
            }
            let (stem, ext) = match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
                _ => (name.as_str(), String::new()),
            };
            let free = (2..)
                .map(|n| format!("{stem}-{n}{ext}"))
                .find(|candidate| !taken.contains(candidate))
                .expect("some number is free");
            taken.insert(free.clone());
            (free, file.clone())
        })
        .collect()
}

/// Percent-encodes `text` for a URL: every byte but ASCII letters, digits, `-._~` and `keep`.
fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut encoded = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            encoded.push(byte as char);
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// Decodes the `%XX` escapes of a request path; `None` for a bad escape, a NUL, or bytes that
/// are not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let hex = |byte: u8| (byte as char).to_digit(16);
    let mut bytes = path.bytes();
    let mut decoded = Vec::with_capacity(path.len());
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let (high, low) = (hex(bytes.next()?)?, hex(bytes.next()?)?);
            decoded.push((high * 16 + low) as u8);
        } else {
            decoded.push(byte);
        }
    }
    let decoded = String::from_utf8(decoded).ok()?;
    (!decoded.contains('\0')).then_some(decoded)
}

/// The path a request target names, decoded; `None` (answered 400) if it cannot be decoded
/// or has a `..` segment.
fn request_path(target: &str) -> Option<String> {
    let path = percent_decode(target.split(['?', '#']).next().unwrap_or("/"))?;
    (!path.split('/').any(|segment| segment == "..")).then_some(path)
}

impl Served {
    /// The bound address.
    pub fn address(&self) -> String {
        self.listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
    }

    /// The page's URL opening every served file (`?db=` per file). Each `db` value is a URL
    /// path, percent-encoded, so it is percent-encoded again as a query value: `my run.db`
    /// gives `db=/files/my%2520run.db`, which the page reads as `/files/my%20run.db`.
    pub fn url(&self) -> String {
        let dbs: Vec<String> =
            self.files().map(|(path, _)| format!("db={}", percent_encode(&path, b"/"))).collect();
        format!("http://{}/?{}", self.address(), dbs.join("&"))
    }

    /// The served files: each one's URL path (`/files/NAME`, percent-encoded) and the file it
    /// serves, in the order of [`ServeOptions::files`].
    pub fn files(&self) -> impl Iterator<Item = (String, &Path)> {
        self.names
            .iter()
            .map(|(name, file)| (format!("/files/{}", percent_encode(name, b"")), file.as_path()))
    }

    /// Answers requests until the process ends, each connection on its own thread.
    /// Past [`ServeOptions::max_connections`] open at once, a new connection gets 503 and is
    /// closed, from a short-lived thread of its own so that a slow client never holds up the
    /// next connection; past 16 of those at once, it is closed unanswered.
    pub fn run(&self) {
        let open = AtomicUsize::new(0);
        let refusing = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for stream in self.listener.incoming() {
                let Ok(stream) = stream else {
                    // Out of file descriptors, say: wait instead of spinning.
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                let serving = open.load(Ordering::Acquire) < self.options.max_connections;
                let slot = if serving {
                    Slot::take(&open, self.options.max_connections)
                } else {
                    Slot::take(&refusing, MAX_REFUSING)
                };
                let Some(slot) = slot else {
                    continue; // too many refusals under way already: closed unanswered
                };
                let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                    let _slot = slot; // given back however the thread ends
                    let _ = if serving { serve_connection(stream, self) } else { refuse(stream) };
                });
                if spawned.is_err() {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
    }

    /// Accepts one connection and answers its requests until the client closes it or stays
    /// silent for [`ServeOptions::idle`] (for tests and embedding).
    pub fn answer_one(&self) -> Result<()> {
        let (stream, _) = self.listener.accept().map_err(|e| Error::io(Path::new("server"), e))?;
        serve_connection(stream, self).map_err(|e| Error::io(Path::new("server"), e))
    }
}

/// One of a limited number of connections, given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    /// Takes one of `limit` slots counted by `counter`, if one is free.
    fn take(counter: &'a AtomicUsize, limit: usize) -> Option<Slot<'a>> {
        counter.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1)).ok()?;
        Some(Slot(counter))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One parsed request: what answering needs.
struct Request {
    method: String,
    target: String,
    /// The `Host` header; only an HTTP/1.0 request may have none.
    host: Option<String>,
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
    /// Its head did not arrive within [`ServeOptions::head_deadline`]: answered 408, then the
    /// connection is closed.
    Slow,
    /// Not HTTP as this server speaks it: answered 400, then the connection is closed.
    Malformed,
}

/// The reading half of a connection, whose reads fail (timed out) once `deadline` has passed.
struct Deadlined {
    stream: TcpStream,
    /// `None`: no deadline.
    deadline: Option<Instant>,
}

impl Deadlined {
    /// Sets the deadline `wait` from now.
    fn expire_in(&mut self, wait: Duration) {
        self.deadline = Instant::now().checked_add(wait);
    }
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = match self.deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(std::io::ErrorKind::TimedOut.into()),
            },
            None => None,
        };
        self.stream.set_read_timeout(left)?;
        self.stream.read(buf)
    }
}

/// Says why a request with a foreign `Host` is refused.
const FOREIGN_HOST: &str = "refused: the Host header names neither localhost, an IP address, nor a name given \
to `runstore serve --host` (a guard against DNS rebinding: a web page must not read the served files)\n";

fn serve_connection(stream: TcpStream, served: &Served) -> std::io::Result<()> {
    let options = &served.options;
    // A client that stops reading must not hold its thread forever either.
    stream.set_write_timeout(Some(options.idle))?;
    let mut reader = BufReader::new(Deadlined { stream: stream.try_clone()?, deadline: None });
    let mut writer = BufWriter::new(stream);
    loop {
        // Silent for up to `idle` between requests; once a request's first byte is in, its
        // whole head must follow within `head_deadline`, however slowly it trickles in.
        reader.get_mut().expire_in(options.idle);
        if !matches!(reader.fill_buf(), Ok(buffered) if !buffered.is_empty()) {
            return Ok(());
        }
        reader.get_mut().expire_in(options.head_deadline);
        let request = match read_request(&mut reader) {
            Ok(request) => request,
            Err(Unreadable::Gone) => return Ok(()),
            Err(Unreadable::Slow) => {
                // Closed at once, not drained: a client this slow may see a reset instead.
                let text = "request head not received in time";
                respond_text(&mut writer, 408, text, Framing { keep_alive: false, head: false })?;
                return writer.flush();
            }
            Err(Unreadable::Malformed) => {
                respond_text(&mut writer, 400, "bad request", Framing { keep_alive: false, head: false })?;
                writer.flush()?;
                return close_gently(&mut reader);
            }
        };
        // No Host only in HTTP/1.0, which browsers do not send: such a request is no web page's.
        let foreign = request.host.as_deref().is_some_and(|host| !host_allowed(host, &options.hosts));
        if foreign {
            let framing = Framing { keep_alive: false, head: request.method == "HEAD" };
            respond_text(&mut writer, 403, FOREIGN_HOST, framing)?;
        } else {
            answer(&request, served, &mut writer)?;
        }
        writer.flush()?;
        if request.has_body {
            return close_gently(&mut reader);
        }
        if foreign || !request.keep_alive {
            return Ok(());
        }
    }
}

/// Answers a connection past [`ServeOptions::max_connections`]: 503, then closed.
fn refuse(stream: TcpStream) -> std::io::Result<()> {
    stream.set_write_timeout(Some(LINGER))?;
    let mut writer = BufWriter::new(&stream);
    respond_text(&mut writer, 503, "too many connections", Framing { keep_alive: false, head: false })?;
    writer.flush()?;
    drop(writer);
    close_gently(&mut BufReader::new(Deadlined { stream, deadline: None }))
}

/// Closes a connection after an answer sent before its request was read: closing with unread
/// input would reset the connection and the client could lose the answer, so stop writing,
/// then read what is left for up to [`LINGER`].
fn close_gently(reader: &mut BufReader<Deadlined>) -> std::io::Result<()> {
    reader.get_ref().stream.shutdown(std::net::Shutdown::Write)?;
    reader.get_mut().expire_in(LINGER);
    let _ = std::io::copy(&mut reader.take(1 << 20), &mut std::io::sink());
    Ok(())
}

/// Whether a `Host` header names this server: `localhost` (or a name under it), an IP
/// address, or one of `extra`, with any port or none. A web page whose own name an attacker
/// has pointed at 127.0.0.1 (DNS rebinding) sends that name, and is refused; browsers resolve
/// `localhost` names themselves, and an IP address involves no DNS.
fn host_allowed(host: &str, extra: &[String]) -> bool {
    let host = host.to_ascii_lowercase();
    let digits = |port: &str| port.bytes().all(|b| b.is_ascii_digit());
    if let Some(bracketed) = host.strip_prefix('[') {
        return bracketed.split_once(']').is_some_and(|(ip, port)| {
            ip.parse::<Ipv6Addr>().is_ok() && (port.is_empty() || port.strip_prefix(':').is_some_and(digits))
        });
    }
    let name = match host.split_once(':') {
        Some((name, port)) if digits(port) => name,
        Some(_) => return false,
        None => &host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<Ipv4Addr>().is_ok()
        || extra.iter().any(|allowed| allowed.trim_end_matches('.').eq_ignore_ascii_case(name))
}

/// One line, at most [`MAX_LINE`] bytes, without its line end.
fn read_line(reader: &mut impl BufRead) -> std::result::Result<String, Unreadable> {
    let mut line = String::new();
    match reader.take(MAX_LINE).read_line(&mut line) {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
            Err(Unreadable::Slow)
        }
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
    let (mut range, mut connection, mut host): (Option<String>, Option<String>, Option<String>) =
        (None, None, None);
    let mut has_body = false;
    for _ in 0..=MAX_HEADERS {
        let header = match read_line(reader) {
            Ok(header) => header,
            Err(Unreadable::Gone) => return Err(Unreadable::Malformed),
            Err(e) => return Err(e),
        };
        if header.is_empty() {
            // HTTP/1.1 requires exactly one Host (RFC 9112, 3.2).
            if version == "HTTP/1.1" && host.is_none() {
                return Err(Unreadable::Malformed);
            }
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
                host,
                range,
                keep_alive,
                has_body,
            });
        }
        let (name, value) = header.split_once(':').ok_or(Unreadable::Malformed)?;
        if name.eq_ignore_ascii_case("host") {
            if host.replace(value.trim().to_string()).is_some() {
                return Err(Unreadable::Malformed);
            }
        } else if name.eq_ignore_ascii_case("range") {
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

fn content_type(name: &str) -> &'static str {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
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

/// Opens what a decoded URL path names: `/files/NAME` a served `.db`, anything else a file
/// of the page (`/` its `index.html`). Gives the name its content type is judged by.
fn resolve<'a>(path: &'a str, served: &Served) -> Option<(&'a str, Contents)> {
    if let Some(name) = path.strip_prefix("/files/") {
        let (_, file) = served.names.iter().find(|(served_name, _)| served_name == name)?;
        return Some((name, Contents::File(File::open(file).ok()?)));
    }
    let rel = if path == "/" { "index.html" } else { path.trim_start_matches('/') };
    Some((rel, served.options.page.open(rel)?))
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

fn answer(request: &Request, served: &Served, out: &mut impl Write) -> std::io::Result<()> {
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
    let Some(path) = request_path(&request.target) else {
        let text = "bad request: the path is not percent-encoded UTF-8, or has a .. segment";
        return respond_text(out, 400, text, framing);
    };
    let Some((name, mut file)) = resolve(&path, served) else {
        return respond_text(out, 404, "not found", framing);
    };
    let len = file.len()?;
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
    write_head(out, status, content_type(name), &extra, body_len, keep)?;
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
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
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

    #[test]
    fn served_names_are_distinct() {
        let files = ["a/runs.db", "b/runs.db", "c/runs-2.db", "d/runs.db", ".db", "e/.db"].map(PathBuf::from);
        let names: Vec<String> = served_names(&files).into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["runs.db", "runs-3.db", "runs-2.db", "runs-4.db", ".db", ".db-2"]);
    }

    #[test]
    fn escapes() {
        assert_eq!(percent_encode("my run/100%.db", b""), "my%20run%2F100%25.db");
        assert_eq!(percent_encode("/files/my%20run.db", b"/"), "/files/my%2520run.db");
        assert_eq!(percent_decode("my%20run%2f").as_deref(), Some("my run/"));
        assert_eq!(percent_decode("%E2%82%ac").as_deref(), Some("\u{20ac}"));
        for bad in ["%", "%2", "%zz", "%+1", "a%00b", "%ff"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
        assert_eq!(request_path("/files/a%20b.db?x=%zz").as_deref(), Some("/files/a b.db"));
        assert_eq!(request_path("/x/%2E%2E/y"), None);
    }

    /// Seeded mutation fuzzing of everything that reads a request: the head parser, paths,
    /// percent-decoding, ranges, Host checks, and the answer built from what was parsed. Short
    /// mode here; long mode for RELIABILITY.md in `scripts/reliability`.
    #[test]
    fn fuzz_request_parsing_never_panics() {
        let n = std::env::var("RUNSTORE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>hi</p>").unwrap();
        let db = dir.path().join("my run.db");
        std::fs::write(&db, vec![1u8; 10_000]).unwrap();
        let served = bind("127.0.0.1:0", ServeOptions::new(dir.path(), vec![db])).unwrap();
        let seeds: [&[u8]; 4] = [
            b"GET /files/my%20run.db HTTP/1.1\r\nHost: localhost:8080\r\nRange: bytes=100-199\r\n\r\n",
            b"HEAD /index.html?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n",
            b"GET / HTTP/1.0\r\n\r\n",
            b"POST /x HTTP/1.1\r\nHost: [::1]:1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
        ];
        let mut state = 0x5e77_e5eedu64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut parsed, mut answered) = (0, 0);
        for case in 0..n {
            let mut bytes = seeds[case % seeds.len()].to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % bytes.len().max(1);
                match next() % 5 {
                    0 => bytes.insert(at.min(bytes.len()), next() as u8),
                    1 if !bytes.is_empty() => drop(bytes.remove(at)),
                    2 if !bytes.is_empty() => bytes[at] = b"%:\r\n -/.0=,?#\0\xff"[(next() % 13) as usize],
                    3 => bytes
                        .splice(
                            at..at,
                            std::iter::repeat_n(b'a' + (next() % 26) as u8, (next() % 9000) as usize),
                        )
                        .for_each(drop),
                    _ if !bytes.is_empty() => bytes[at] ^= 1 << (next() % 8),
                    _ => {}
                }
            }
            let mut reader = std::io::BufReader::new(&bytes[..]);
            if let Ok(request) = read_request(&mut reader) {
                parsed += 1;
                if request.host.as_deref().is_none_or(|h| host_allowed(h, &[])) {
                    let mut out = Vec::new();
                    answer(&request, &served, &mut out).unwrap();
                    assert!(out.starts_with(b"HTTP/1.1 "), "{:?}", String::from_utf8_lossy(&out));
                    answered += 1;
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = request_path(&text);
            let _ = range(&text, 10_000);
            let _ = host_allowed(&text, &["example".into()]);
        }
        println!(
            "RELIABILITY fuzz serve: {n} mutated requests, {parsed} parsed, {answered} answered, 0 panics"
        );
    }
}
