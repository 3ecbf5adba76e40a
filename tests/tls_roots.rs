//! The functions' HTTPS client trusts Amazon Trust Services' roots and nothing else: an endpoint
//! with a certificate from any other authority is refused, and the error says what to do.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use warden_core::aws::{DynamoStore, TrustRoots, dynamodb_sdk, sdk_config};
use warden_core::ports::SessionStore;

#[path = "support/moto.rs"]
mod moto;

/// A TLS server on loopback whose certificate chains to an authority of its own
/// (`tests/fixtures/tls`: for tests only; the authority's key was thrown away), that completes
/// or fails handshakes and answers nothing else.
struct UnknownAuthorityServer {
    child: Child,
    port: u16,
}

impl UnknownAuthorityServer {
    fn start() -> UnknownAuthorityServer {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
        let script = r#"
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1] + "/server.crt", sys.argv[1] + "/server.key")
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(16)
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    try:
        ctx.wrap_socket(conn, server_side=True).close()
    except (ssl.SSLError, OSError):
        conn.close()
"#;
        let mut child = Command::new(moto::python())
            .args(["-c", script, dir])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3 for the TLS server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the TLS server prints its port");
        let port = line.trim().parse().expect("a port number");
        UnknownAuthorityServer { child, port }
    }
}

impl Drop for UnknownAuthorityServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn an_endpoint_outside_amazon_trust_services_is_refused_with_what_to_do() {
    let server = UnknownAuthorityServer::start();
    // Credentials are needed before anything is sent; any values do.
    moto::set_fake_credentials();
    let sdk = sdk_config(
        Some(&format!("https://127.0.0.1:{}", server.port)),
        TrustRoots::Amazon,
    )
    .await;
    let store = DynamoStore::new(dynamodb_sdk::Client::new(&sdk), "sessions", 400);
    let err = store
        .load("s-0123456789abcdef0")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("TLS certificate was refused"), "{err}");
    assert!(err.contains("WARDEN_TLS_ROOTS=system"), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
}
