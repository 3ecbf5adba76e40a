//! moto server (5.x) has no `ssm:TerminateSession`. This loopback forwarder answers that one call
//! as Session Manager does (awsJson1_1), refusing the session ids it is told to, and passes every
//! other request (DynamoDB, STS, …) to moto unchanged, so the `warden` binary can run against one
//! endpoint. Std only; one request per connection.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct TerminateStandIn {
    url: String,
    terminated: Arc<Mutex<Vec<String>>>,
}

impl TerminateStandIn {
    /// Forwards to `upstream` (`http://127.0.0.1:PORT`); refuses to terminate `refused` ids with
    /// `AccessDeniedException`.
    pub fn start(upstream: &str, refused: &[&str]) -> TerminateStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let refused: Arc<BTreeSet<String>> =
            Arc::new(refused.iter().map(|s| s.to_string()).collect());
        let terminated = Arc::new(Mutex::new(Vec::new()));
        let calls = terminated.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (upstream, refused, calls) = (upstream.clone(), refused.clone(), calls.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &refused, &calls);
                });
            }
        });
        TerminateStandIn { url, terminated }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Session ids terminated (not refused), in order.
    pub fn terminated(&self) -> Vec<String> {
        self.terminated.lock().unwrap().clone()
    }
}

fn serve(
    client: TcpStream,
    upstream: &str,
    refused: &BTreeSet<String>,
    calls: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut target = None;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("x-amz-target:") {
            target = Some(line["x-amz-target:".len()..].trim().to_string());
        }
        // Hop-by-hop: every forwarded request closes its connection.
        if !lower.starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut client = client;
    if target.as_deref() == Some("AmazonSSM.TerminateSession") {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let id = request["SessionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let (status, reply) = if refused.contains(&id) {
            (
                "400 Bad Request",
                serde_json::json!({
                    "__type": "AccessDeniedException",
                    "message": format!("not authorized to perform: ssm:TerminateSession on {id}"),
                }),
            )
        } else {
            calls.lock().unwrap().push(id.clone());
            ("200 OK", serde_json::json!({ "SessionId": id }))
        };
        let reply = reply.to_string();
        write!(
            client,
            "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        )?;
        return client.flush();
    }
    let mut moto = TcpStream::connect(upstream)?;
    for line in &head {
        moto.write_all(line.as_bytes())?;
    }
    moto.write_all(b"Connection: close\r\n\r\n")?;
    moto.write_all(&body)?;
    let mut response = Vec::new();
    moto.read_to_end(&mut response)?;
    client.write_all(&response)?;
    client.flush()
}
