//! The static server: the page, `.db` files with range requests, nothing outside.

use std::io::{Read, Write};
use std::net::TcpStream;

use runstore::serve::{ServeOptions, bind};

/// Sends one raw HTTP request and returns the status line, headers and body.
fn get(address: &str, request: &str) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
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

    let served = bind("127.0.0.1:0", ServeOptions { www, files: vec![db] }).unwrap();
    let address = served.address();
    assert!(served.url().ends_with("/?db=/files/runs.db"));
    let requests = 6;
    let worker = std::thread::spawn(move || {
        for _ in 0..requests {
            served.answer_one().unwrap();
        }
    });
    let close = "Connection: close\r\n\r\n";

    let (status, headers, body) = get(&address, &format!("GET / HTTP/1.1\r\nHost: x\r\n{close}"));
    assert!(status.contains("200"), "{status}");
    assert!(headers.contains("content-type: text/html"));
    assert!(String::from_utf8_lossy(&body).contains("<title>t</title>"));

    let (status, headers, body) =
        get(&address, &format!("GET /files/runs.db HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n{close}"));
    assert!(status.contains("206"), "{status}");
    assert!(headers.contains("content-range: bytes 100-199/10000"), "{headers}");
    assert_eq!(body, &bytes[100..200]);

    let (status, headers, body) =
        get(&address, &format!("HEAD /files/runs.db HTTP/1.1\r\nHost: x\r\n{close}"));
    assert!(
        status.contains("200") && headers.contains("content-length: 10000") && body.is_empty(),
        "{status} {headers}"
    );

    let (status, _, _) =
        get(&address, &format!("GET /files/runs.db HTTP/1.1\r\nHost: x\r\nRange: bytes=20000-\r\n{close}"));
    assert!(status.contains("416"), "{status}");
    let (status, _, _) = get(&address, &format!("GET /../secret.txt HTTP/1.1\r\nHost: x\r\n{close}"));
    assert!(status.contains("404"), "{status}");
    let (status, _, _) = get(&address, &format!("GET /files/other.db HTTP/1.1\r\nHost: x\r\n{close}"));
    assert!(status.contains("404"), "{status}");
    worker.join().unwrap();
}

/// A served folder with a page and one `.db` file, and the server answering in the background.
fn serve_in_background() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let db = dir.path().join("runs.db");
    std::fs::write(&db, vec![7u8; 5000]).unwrap();
    let served = bind("127.0.0.1:0", ServeOptions { www, files: vec![db] }).unwrap();
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
    writer.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, body) = read_response(&mut reader);
    assert!(status.contains("200") && body.ends_with(b"<title>t</title>"), "{status}");
    writer.write_all(b"GET /files/runs.db HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n").unwrap();
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
    let (_dir, address) = serve_in_background();
    let open: Vec<TcpStream> =
        (0..runstore::serve::MAX_CONNECTIONS).map(|_| TcpStream::connect(&address).unwrap()).collect();
    // The server counts a connection once it accepted it: give it a moment to take them all.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, headers, _) = get(&address, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(status.contains("503") && headers.contains("connection: close"), "{status}");
    drop(open);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, _, _) = get(&address, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
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
    writer.write_all(b"HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
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
    let smuggled = "GET /files/runs.db HTTP/1.1\r\nHost: x\r\n\r\n";
    let post = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{smuggled}", smuggled.len());
    let (status, headers, body) = get(&address, &post);
    assert!(status.contains("405") && headers.contains("allow: get, head"), "{status} {headers}");
    assert_eq!(body, b"only GET and HEAD", "one answer, nothing after it");
}
