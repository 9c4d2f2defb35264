//! A loopback TCP proxy in front of Glewlwyd that counts the requests for its key set and its
//! discovery document.
//!
//! The gate's public key status shows when keys were last fetched, not how often, so this is
//! how the tests see that a `Cache-Control: no-store` key set is not fetched per request. It
//! forwards bytes unchanged both ways and only reads the request lines going to Glewlwyd.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The request lines counted, by their start.
const JWKS: &[u8] = b"GET /api/oidc/jwks ";
const DISCOVERY: &[u8] = b"GET /api/oidc/.well-known/openid-configuration ";

/// Requests that went through the proxy.
#[derive(Default)]
pub(crate) struct Counts {
    jwks: AtomicUsize,
    discovery: AtomicUsize,
}

impl Counts {
    pub(crate) fn jwks(&self) -> usize {
        self.jwks.load(Ordering::SeqCst)
    }

    pub(crate) fn discovery(&self) -> usize {
        self.discovery.load(Ordering::SeqCst)
    }

    /// Counts the request lines in `chunk`, `tail` being the end of what came before on the
    /// same connection (a request line can be split between reads). Only lines that end in
    /// `chunk` count, so none is counted twice.
    fn scan(&self, tail: &mut Vec<u8>, chunk: &[u8]) {
        let before = tail.len();
        tail.extend_from_slice(chunk);
        for (needle, count) in [(JWKS, &self.jwks), (DISCOVERY, &self.discovery)] {
            let seen = tail
                .windows(needle.len())
                .enumerate()
                .filter(|&(at, window)| at + needle.len() > before && window == needle)
                .count();
            count.fetch_add(seen, Ordering::SeqCst);
        }
        let keep = JWKS.len().max(DISCOVERY.len()) - 1;
        let cut = tail.len().saturating_sub(keep);
        tail.drain(..cut);
    }
}

/// The proxy's listening socket, bound before Glewlwyd starts so that Glewlwyd's
/// `external_url` can name it.
pub(crate) async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a proxy port");
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Forwards every connection to `upstream`; runs until the test's runtime ends.
pub(crate) fn serve(listener: TcpListener, upstream: SocketAddr) -> Arc<Counts> {
    let counts = Arc::new(Counts::default());
    let shared = Arc::clone(&counts);
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            tokio::spawn(forward(inbound, upstream, Arc::clone(&shared)));
        }
    });
    counts
}

async fn forward(inbound: TcpStream, upstream: SocketAddr, counts: Arc<Counts>) {
    let Ok(outbound) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = inbound.into_split();
    let (mut from_server, mut to_server) = outbound.into_split();
    let requests = async {
        let mut buffer = vec![0u8; 16 * 1024];
        let mut tail = Vec::new();
        while let Ok(read @ 1..) = from_client.read(&mut buffer).await {
            counts.scan(&mut tail, &buffer[..read]);
            if to_server.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let responses = async {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(requests, responses);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_split_between_reads_are_counted_once() {
        let stream =
            b"GET /api/oidc/jwks HTTP/1.1\r\nHost: x\r\n\r\nGET /api/oidc/jwks HTTP/1.1\r\n\r\n\
            GET /api/oidc/.well-known/openid-configuration HTTP/1.1\r\n\r\n";
        for size in 1..=stream.len() {
            let counts = Counts::default();
            let mut tail = Vec::new();
            for chunk in stream.chunks(size) {
                counts.scan(&mut tail, chunk);
            }
            assert_eq!(
                (counts.jwks(), counts.discovery()),
                (2, 1),
                "reads of {size}"
            );
        }
    }
}
