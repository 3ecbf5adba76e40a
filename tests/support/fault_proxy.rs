//! `tests/faults/proxy.py` as a child process: a loopback proxy in front of moto server (and,
//! for Session Manager requests, a stand-in) that fails a seeded share of requests on demand and
//! counts them by operation.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Proxy {
    child: Child,
    pub url: String,
}

impl Proxy {
    /// A proxy to `upstream` (moto), sending Session Manager requests to `ssm_upstream`; a slow
    /// reply is held back 0.5-2 times `slow_seconds`. No faults until [`Proxy::set`].
    pub fn start(upstream: &str, ssm_upstream: Option<&str>, slow_seconds: f64) -> Proxy {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults/proxy.py");
        // The interpreter the test command set up (it runs the standard library only).
        let mut command = Command::new(crate::moto::python());
        command
            .arg(&script)
            .args(["--upstream", upstream])
            .args(["--slow-seconds", &slow_seconds.to_string()]);
        if let Some(ssm) = ssm_upstream {
            command.args(["--ssm-upstream", ssm]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/faults/proxy.py");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .expect("read the proxy's address");
        let url = first
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the proxy said {first:?}, not `listening URL`"))
            .to_string();
        Proxy { child, url }
    }

    /// One control request (`/__faults__`) over a fresh connection.
    fn control(&self, method: &str, body: &str) -> Value {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the proxy");
        write!(
            stream,
            "{method} /__faults__ HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        let (head, payload) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
        assert!(head.starts_with("HTTP/1.1 200"), "proxy control: {reply}");
        serde_json::from_str(payload).expect("proxy counters as JSON")
    }

    /// Fails `rate` of the DynamoDB, SNS and Session Manager requests in `mode` (`none` for
    /// none), seeded; zeroes the counters.
    pub fn set(&self, mode: &str, rate: f64, seed: u64) {
        self.control(
            "POST",
            &json!({"mode": mode, "rate": rate, "seed": seed}).to_string(),
        );
    }

    /// `requests`, `faulted`, one count per mode, and `operations` (requests by
    /// `service:Operation`) since the last [`Proxy::set`].
    pub fn counters(&self) -> Value {
        self.control("GET", "")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
