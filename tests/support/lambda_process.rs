//! A Lambda function binary as a child process, for tests that drive it through a loopback
//! Runtime API (`http_stub::LambdaRuntimeApi`).
#![allow(dead_code)]

use super::http_stub::{LambdaRuntimeApi, Outcome};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The function process; killed when dropped, so a failing test leaves nothing running.
pub struct Function {
    child: Child,
    /// Standard output and error, interleaved line by line.
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    /// Taken just before the process was spawned: the start of a cold-start measurement.
    pub started_at: Instant,
}

impl Function {
    /// The JSON body of an invocation that succeeded; a failed or non-JSON one panics with the
    /// function's output, which says why.
    pub fn response_json(&self, outcome: &Outcome) -> serde_json::Value {
        match outcome {
            Outcome::Response(body) => serde_json::from_str(body).unwrap_or_else(|e| {
                panic!(
                    "response is not JSON ({e}): {body}\nfunction output:\n{}",
                    self.output()
                )
            }),
            Outcome::Error { .. } => panic!(
                "expected a response, got {outcome:?}\nfunction output:\n{}",
                self.output()
            ),
        }
    }

    /// Starts the binary with only the runtime API's variables, the region (so the SDK never
    /// looks for it in instance metadata) and `env`: nothing leaks in from the test's own
    /// environment.
    pub fn start(binary: &str, api: &LambdaRuntimeApi, env: &[(&str, &str)]) -> Function {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(api.env())
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started_at = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {binary}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        // Drained continuously, so a chatty function never blocks on a full pipe.
        let readers = vec![
            collect(child.stdout.take().expect("piped stdout"), &output),
            collect(child.stderr.take().expect("piped stderr"), &output),
        ];
        Function {
            child,
            output,
            readers,
            started_at,
        }
    }

    /// The process id, to read its `/proc` entries.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The exit status, with everything the process wrote; `None` if it is still running
    /// after `timeout`.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<(ExitStatus, String)> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the function process") {
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                return Some((status, self.output()));
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

fn collect(pipe: impl Read + Send + 'static, output: &Arc<Mutex<String>>) -> JoinHandle<()> {
    let output = Arc::clone(output);
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let mut output = output.lock().unwrap_or_else(|e| e.into_inner());
            output.push_str(&line);
            output.push('\n');
        }
    })
}
