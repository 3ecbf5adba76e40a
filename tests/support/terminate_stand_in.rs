//! moto server (5.x) has no `ssm:TerminateSession` nor `ssm:DescribeSessions`. This loopback
//! forwarder answers those calls as Session Manager does (awsJson1_1): it terminates every
//! session id but those it is told to refuse, and lists no sessions. It passes every other
//! request (DynamoDB, STS, …) to moto unchanged, so the `warden` binary can run against one
//! endpoint, and records which credentials and region each SSM call was signed with. Std only;
//! one request per connection.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct TerminateStandIn {
    url: String,
    terminated: Arc<Mutex<Vec<String>>>,
    signed: Arc<Mutex<Vec<Signed>>>,
}

/// Who a termination came from, as its SigV4 `Authorization` header's credential scope says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `TerminateSession` or `DescribeSessions`.
    pub operation: String,
    /// The session terminated; empty for `DescribeSessions`.
    pub session_id: String,
    pub access_key_id: String,
    pub region: String,
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
        let signed = Arc::new(Mutex::new(Vec::new()));
        let (calls, signatures) = (terminated.clone(), signed.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (upstream, refused, calls, signatures) = (
                    upstream.clone(),
                    refused.clone(),
                    calls.clone(),
                    signatures.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &refused, &calls, &signatures);
                });
            }
        });
        TerminateStandIn {
            url,
            terminated,
            signed,
        }
    }

    /// Each termination (not refused) and session listing, with the access key and region it
    /// was signed with.
    pub fn signed(&self) -> Vec<Signed> {
        self.signed.lock().unwrap().clone()
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
    signatures: &Mutex<Vec<Signed>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut target = None;
    let mut scope: Option<String> = None;
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
        if lower.starts_with("authorization:") {
            // `AWS4-HMAC-SHA256 Credential=AKID/20261130/eu-west-1/ssm/aws4_request, ...`
            scope = line
                .split("Credential=")
                .nth(1)
                .and_then(|c| c.split(',').next())
                .map(|c| c.trim().to_string());
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
            let parts: Vec<&str> = scope.as_deref().unwrap_or_default().split('/').collect();
            signatures.lock().unwrap().push(Signed {
                operation: "TerminateSession".into(),
                session_id: id.clone(),
                access_key_id: parts.first().unwrap_or(&"").to_string(),
                region: parts.get(2).unwrap_or(&"").to_string(),
            });
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
    if target.as_deref() == Some("AmazonSSM.DescribeSessions") {
        let parts: Vec<&str> = scope.as_deref().unwrap_or_default().split('/').collect();
        signatures.lock().unwrap().push(Signed {
            operation: "DescribeSessions".into(),
            session_id: String::new(),
            access_key_id: parts.first().unwrap_or(&"").to_string(),
            region: parts.get(2).unwrap_or(&"").to_string(),
        });
        let reply = serde_json::json!({ "Sessions": [] }).to_string();
        write!(
            client,
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
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
