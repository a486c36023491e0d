//! The static server: the page, `.db` files with range requests, nothing outside.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use runstore::serve::{ServeOptions, bind};

/// Sends one raw HTTP request and returns the status line, headers and body.
fn get(address: &str, request: &str) -> (String, String, Vec<u8>) {
    get_within(address, request, Duration::from_secs(10))
}

/// [`get`], failing if the whole answer takes longer than about `wait`.
fn get_within(address: &str, request: &str, wait: Duration) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        panic!("no whole answer to {request:?} within {wait:?}: {e}");
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (status.to_string(), headers.to_lowercase(), raw[split + 4..].to_vec())
}

#[test]
fn serves_the_page_and_db_ranges_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
    let db = dir.path().join("runs.db");
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&db, &bytes).unwrap();

    let served = bind("127.0.0.1:0", ServeOptions::new(www, vec![db])).unwrap();
    let address = served.address();
    assert!(served.url().ends_with("/?db=/files/runs.db"));
    let requests = 6;
    let worker = std::thread::spawn(move || {
        for _ in 0..requests {
            served.answer_one().unwrap();
        }
    });
    let close = "Connection: close\r\n\r\n";

    let (status, headers, body) = get(&address, &format!("GET / HTTP/1.1\r\nHost: localhost\r\n{close}"));
    assert!(status.contains("200"), "{status}");
    assert!(headers.contains("content-type: text/html"));
    assert!(String::from_utf8_lossy(&body).contains("<title>t</title>"));

    let (status, headers, body) = get(
        &address,
        &format!("GET /files/runs.db HTTP/1.1\r\nHost: localhost\r\nRange: bytes=100-199\r\n{close}"),
    );
    assert!(status.contains("206"), "{status}");
    assert!(headers.contains("content-range: bytes 100-199/10000"), "{headers}");
    assert_eq!(body, &bytes[100..200]);

    let (status, headers, body) =
        get(&address, &format!("HEAD /files/runs.db HTTP/1.1\r\nHost: localhost\r\n{close}"));
    assert!(
        status.contains("200") && headers.contains("content-length: 10000") && body.is_empty(),
        "{status} {headers}"
    );

    let (status, _, _) = get(
        &address,
        &format!("GET /files/runs.db HTTP/1.1\r\nHost: localhost\r\nRange: bytes=20000-\r\n{close}"),
    );
    assert!(status.contains("416"), "{status}");
    let (status, _, _) = get(&address, &format!("GET /../secret.txt HTTP/1.1\r\nHost: localhost\r\n{close}"));
    assert!(status.contains("400"), "{status}");
    let (status, _, _) =
        get(&address, &format!("GET /files/other.db HTTP/1.1\r\nHost: localhost\r\n{close}"));
    assert!(status.contains("404"), "{status}");
    worker.join().unwrap();
}

/// A served folder with a page and one `.db` file, and the server answering in the background.
fn serve_in_background() -> (tempfile::TempDir, String) {
    serve_with(|options| options)
}

/// [`serve_in_background`] with options changed by `change`.
fn serve_with(change: impl FnOnce(ServeOptions) -> ServeOptions) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let db = dir.path().join("runs.db");
    std::fs::write(&db, vec![7u8; 5000]).unwrap();
    let served = bind("127.0.0.1:0", change(ServeOptions::new(www, vec![db]))).unwrap();
    let address = served.address();
    std::thread::spawn(move || served.run());
    (dir, address)
}

/// Reads one response (status line, headers, a Content-Length body) from a kept-alive stream.
fn read_response(stream: &mut std::io::BufReader<TcpStream>) -> (String, Vec<u8>) {
    use std::io::BufRead;
    let mut status = String::new();
    stream.read_line(&mut status).unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (status, body)
}

#[test]
fn idle_kept_alive_connections_do_not_hold_up_others() {
    let (_dir, address) = serve_in_background();
    // More open, silent connections than any fixed pool of connection threads would have.
    let idle: Vec<TcpStream> = (0..16).map(|_| TcpStream::connect(&address).unwrap()).collect();
    let stream = TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    // Two requests on one kept-alive connection, the second a range.
    writer.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let (status, body) = read_response(&mut reader);
    assert!(status.contains("200") && body.ends_with(b"<title>t</title>"), "{status}");
    writer
        .write_all(b"GET /files/runs.db HTTP/1.1\r\nHost: localhost\r\nRange: bytes=10-19\r\n\r\n")
        .unwrap();
    let (status, body) = read_response(&mut reader);
    assert!(status.contains("206") && body == [7u8; 10], "{status}");
    drop(idle);
}

#[test]
fn malformed_requests_get_400_and_a_closed_connection() {
    let (_dir, address) = serve_in_background();
    for request in [
        "NONSENSE\r\n\r\n",
        "GET / HTTP/9\r\n\r\n",
        "GET relative HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n",
    ] {
        let (status, headers, _) = get(&address, request);
        assert!(status.contains("400"), "{request:?}: {status}");
        assert!(headers.contains("connection: close"), "{headers}");
    }
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
    let (status, _, _) = get(&address, &long);
    assert!(status.contains("400"), "{status}");
}

#[test]
fn connections_past_the_limit_are_refused_with_503() {
    let limit = 8;
    let (_dir, address) = serve_with(|options| ServeOptions { max_connections: limit, ..options });
    let open: Vec<TcpStream> = (0..limit).map(|_| TcpStream::connect(&address).unwrap()).collect();
    // The server counts a connection once it accepted it: give it a moment to take them all.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, headers, _) = get(&address, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(status.contains("503") && headers.contains("connection: close"), "{status}");
    drop(open);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, _, _) = get(&address, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(status.contains("200"), "{status}");
}

#[test]
fn head_errors_have_no_body_and_request_bodies_are_never_taken_for_requests() {
    let (_dir, address) = serve_in_background();
    let stream = TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    // A HEAD that fails says how long the body would be and sends none: the next answer on
    // the same connection starts where it should.
    writer
        .write_all(
            b"HEAD /missing HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        )
        .unwrap();
    let mut status = String::new();
    use std::io::BufRead;
    reader.read_line(&mut status).unwrap();
    assert!(status.contains("404"), "{status}");
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    let (status, body) = read_response(&mut reader);
    assert!(status.contains("200") && body.ends_with(b"<title>t</title>"), "{status}");
    // A POST's body that looks like a request is not answered as one: 405, then the
    // connection closes.
    let smuggled = "GET /files/runs.db HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let post =
        format!("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{smuggled}", smuggled.len());
    let (status, headers, body) = get(&address, &post);
    assert!(status.contains("405") && headers.contains("allow: get, head"), "{status} {headers}");
    assert_eq!(body, b"only GET and HEAD", "one answer, nothing after it");
}

#[test]
fn names_are_percent_encoded_decoded_and_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
    let mut files = Vec::new();
    for (i, path) in ["a/runs.db", "b/runs.db", "my run.db", "100%.db"].iter().enumerate() {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![i as u8; 100]).unwrap();
        files.push(path);
    }
    let served = bind("127.0.0.1:0", ServeOptions::new(www, files)).unwrap();
    // Each `db=` value is a URL path (percent-encoded), itself percent-encoded in the query.
    let url = served.url();
    assert!(
        url.ends_with(
            "/?db=/files/runs.db&db=/files/runs-2.db&db=/files/my%2520run.db&db=/files/100%2525.db"
        ),
        "{url}"
    );
    let address = served.address();
    std::thread::spawn(move || served.run());
    let request = |path: &str| {
        get(&address, &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
    };
    for (i, path) in
        ["/files/runs.db", "/files/runs-2.db", "/files/my%20run.db", "/files/100%25.db"].iter().enumerate()
    {
        let (status, _, body) = request(path);
        assert!(status.contains("200"), "{path}: {status}");
        assert_eq!(body, vec![i as u8; 100], "{path}");
    }
    // Invalid encodings, NUL and `..` (encoded or not) are refused outright.
    let bad = ["/files/100%.db", "/files/%zz", "/files/runs.db%2", "/files/a%00b", "/files/%ff"];
    let climbing =
        ["/../secret.txt", "/%2e%2e/secret.txt", "/files/..%2fsecret.txt", "/x/%2E%2E/../secret.txt"];
    for path in bad.into_iter().chain(climbing) {
        let (status, _, body) = request(path);
        assert!(status.contains("400"), "{path}: {status}");
        assert_ne!(body, b"no", "{path}");
    }
}

/// Connects and sends a request head that never ends, a byte every 50 ms, until the server
/// closes the connection or `time` has passed. Returns the connection, to read the answer.
fn trickle(address: &str, time: Duration) -> (TcpStream, std::thread::JoinHandle<()>) {
    let stream = TcpStream::connect(address).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let start = Instant::now();
        let head = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".iter().chain(std::iter::repeat(&b'a'));
        for byte in head {
            if start.elapsed() > time || writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    (stream, sender)
}

/// Waits up to `wait` for the server to close `stream`; returns what it sent first.
fn closed_within(mut stream: TcpStream, wait: Duration) -> Vec<u8> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => answer,
        // Closed with the client's bytes unread: a reset, which may come before the answer.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => answer,
        Err(e) => panic!("still open after {wait:?}: {e}"),
    }
}

#[test]
fn a_request_head_that_trickles_in_is_cut_off_at_the_deadline() {
    let deadline = Duration::from_millis(300);
    let (_dir, address) = serve_with(|options| ServeOptions { head_deadline: deadline, ..options });
    let start = Instant::now();
    let (stream, sender) = trickle(&address, Duration::from_secs(10));
    let answer = closed_within(stream, Duration::from_secs(5));
    let elapsed = start.elapsed();
    assert!(elapsed >= deadline && elapsed < Duration::from_secs(4), "closed after {elapsed:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    sender.join().unwrap();
    // A client that sends its request at once is answered as before.
    let (status, _, _) = get(&address, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(status.contains("200"), "{status}");
}

#[test]
fn slow_clients_holding_every_slot_do_not_lock_others_out() {
    let (limit, deadline) = (4, Duration::from_secs(1));
    let (_dir, address) =
        serve_with(|options| ServeOptions { max_connections: limit, head_deadline: deadline, ..options });
    let start = Instant::now();
    let slow: Vec<_> = (0..limit).map(|_| trickle(&address, Duration::from_secs(10))).collect();
    // The server counts a connection once it accepted it: give it a moment to take them all.
    std::thread::sleep(Duration::from_millis(200));
    // One more slow client is refused; while it trickles on, the next one is still answered
    // (503, or 200 if the slots were freed meanwhile).
    let (refused, refused_sender) = trickle(&address, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(100));
    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let (status, _, _) = get_within(&address, request, Duration::from_secs(3));
    assert!(status.contains("503") || status.contains("200"), "{status}");
    // The slow clients are closed at the deadline, and the slots serve others again.
    for (stream, sender) in slow {
        closed_within(stream, Duration::from_secs(5));
        sender.join().unwrap();
    }
    // (408 if the server had not yet taken all the others when it came.)
    let answer = String::from_utf8_lossy(&closed_within(refused, Duration::from_secs(5))).to_string();
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 503") || answer.contains(" 408 "), "{answer}");
    refused_sender.join().unwrap();
    let (status, _, _) = get_within(&address, request, Duration::from_secs(3));
    assert!(status.contains("200"), "{status}");
    assert!(start.elapsed() < deadline + Duration::from_secs(5), "{:?}", start.elapsed());
}

#[test]
fn only_requests_for_this_machine_are_answered() {
    let (_dir, address) =
        serve_with(|options| ServeOptions { hosts: vec!["runs.example".into()], ..options });
    let port = address.rsplit(':').next().unwrap();
    let request = |head: &str| get(&address, &format!("GET / {head}\r\nConnection: close\r\n\r\n"));
    let ours = ["localhost", "127.0.0.1", "[::1]", "LocalHost.", "app.localhost", "10.1.2.3", "runs.example"];
    for host in ours.iter().flat_map(|host| [host.to_string(), format!("{host}:{port}")]) {
        let (status, _, body) = request(&format!("HTTP/1.1\r\nHost: {host}"));
        assert!(status.contains("200") && body.ends_with(b"<title>t</title>"), "{host}: {status}");
    }
    // A web page whose name was pointed at 127.0.0.1 (DNS rebinding) sends its own name.
    for host in
        ["evil.example", &format!("evil.example:{port}"), "localhost.evil.example", "127.0.0.1.nip.io"]
            .into_iter()
            .chain(["localhost:x", "[::1", "[evil]:80", "runs.example.evil"])
    {
        let (status, headers, body) = request(&format!("HTTP/1.1\r\nHost: {host}"));
        assert!(status.contains("403") && headers.contains("connection: close"), "{host}: {status}");
        assert!(String::from_utf8_lossy(&body).contains("DNS rebinding"), "{host}");
    }
    // HTTP/1.1 requires one Host; HTTP/1.0 may have none (no browser sends such a request).
    for head in ["HTTP/1.1", "HTTP/1.1\r\nHost: localhost\r\nHost: localhost"] {
        let (status, _, _) = request(head);
        assert!(status.contains("400"), "{head:?}: {status}");
    }
    let (status, _, _) = request("HTTP/1.0");
    assert!(status.contains("200"), "{status}");
}
