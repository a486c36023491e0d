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
