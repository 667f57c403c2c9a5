//! The hub's Open311 intake on any form body: a real hub on 127.0.0.1, each input posted as
//! `application/x-www-form-urlencoded` with a valid key in the query. Whatever the form holds,
//! the answer is the hub's own (2xx or 4xx), never a 5xx.

use std::io::{Read, Write};
use std::net::TcpStream;

use hub::{HubConfig, RateLimit, Secret};

const KEY: &str = "open311-key-00000000005";

fn next_client() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let hub = runtime.block_on(async {
        let mut config = HubConfig::new(dir.path()).with_station("st-1", "token-of-station-st-1");
        config.open311_api_keys = vec![Secret::new(KEY)];
        // Each input comes from an address of its own (`X-Forwarded-For`, trusted here), so a
        // wrong `api_key` in one input does not throttle the inputs after it.
        config.trust_forwarded_for = true;
        config.tracking_limit = RateLimit {
            per_minute: 1_000_000,
            burst: 1_000_000,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        hub::start(config, listener).await.expect("the hub starts")
    });
    let address = hub
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    afl::fuzz!(|data: &[u8]| {
        let format = if data.first().is_some_and(|b| b & 1 == 1) { "xml" } else { "json" };
        let [_, a, b, c] = next_client().to_be_bytes();
        let mut request = format!(
            "POST /open311/v2/requests.{format}?api_key={KEY} HTTP/1.1\r\nHost: {address}\r\n\
             X-Forwarded-For: 10.{a}.{b}.{c}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            data.len()
        )
        .into_bytes();
        request.extend_from_slice(data);
        let mut stream = TcpStream::connect(&address).expect("the hub is listening");
        stream.write_all(&request).expect("the request is sent");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("the hub answers");
        let status = answer.get(9..12).and_then(|s| std::str::from_utf8(s).ok()).unwrap_or("");
        assert!(
            (status.starts_with('2') || status.starts_with('4')) && status != "429",
            "answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
    });
    drop(hub);
}
