//! Loopback HTTP/1.1 stubs for integration tests, std only.
//!
//! * [`LambdaRuntimeApi`]: a fake AWS Lambda Runtime API, so a real Lambda
//!   binary can run as a child process against it.
//! * [`ScriptedHttpServer`]: replies with a fixed script of responses and
//!   records the requests, for exercising AWS SDK clients.
//! * [`SsmStandIn`]: Session Manager's `DescribeSessions` and `TerminateSession`
//!   answered from a list of sessions the test sets, for the reaper where moto
//!   has no Session Manager (the only part that needs `serde_json`).
//!
//! All speak just enough HTTP/1.1 for hyper-based clients: keep-alive,
//! `Content-Length` and chunked request bodies, `Expect: 100-continue`.
//! Malformed input closes the connection; it never panics a server thread.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// Lambda Runtime API
// ---------------------------------------------------------------------------

pub const FUNCTION_ARN: &str = "arn:aws:lambda:eu-west-1:111122223333:function:test";
const TRACE_ID: &str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationResult {
    pub request_id: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Response(String),
    Error { error_type: String, body: String },
}

/// A POST to `/runtime/init/error`: the function failed before polling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitError {
    pub error_type: String,
    pub body: String,
}

#[derive(Default)]
struct LambdaState {
    queue: VecDeque<String>,
    /// Request ids in hand-out order; results are reported in this order.
    issued: Vec<String>,
    results: HashMap<String, Outcome>,
    init_errors: Vec<InitError>,
    /// When each `GET .../invocation/next` arrived, in order: the first is the end of the
    /// function's init, which the cold-start benchmark times.
    polls: Vec<Instant>,
    shutdown: bool,
}

struct LambdaShared {
    state: Mutex<LambdaState>,
    /// Signalled on every state change: wakes long polls and result waiters.
    changed: Condvar,
}

impl LambdaShared {
    fn lock(&self) -> MutexGuard<'_, LambdaState> {
        lock(&self.state)
    }
}

pub struct LambdaRuntimeApi {
    shared: Arc<LambdaShared>,
    // Dropped after `Drop::drop` has released the long polls, so joining
    // the connection threads cannot hang.
    server: Server,
}

impl LambdaRuntimeApi {
    pub fn start(events: Vec<String>) -> LambdaRuntimeApi {
        let shared = Arc::new(LambdaShared {
            state: Mutex::new(LambdaState {
                queue: events.into(),
                ..LambdaState::default()
            }),
            changed: Condvar::new(),
        });
        let handler_shared = Arc::clone(&shared);
        let next_id = AtomicU64::new(1);
        let server =
            Server::start(move |req| handle_runtime_request(&handler_shared, &next_id, req));
        LambdaRuntimeApi { shared, server }
    }

    /// `127.0.0.1:PORT`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.server.addr.to_string()
    }

    /// Environment a `lambda_runtime` binary needs to start against this
    /// server (it panics at startup without the function name/memory/version).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", "test".to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test".to_string()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream".to_string()),
        ]
    }

    /// Queues another event; a pending long poll picks it up immediately.
    pub fn push_event(&self, event: impl Into<String>) {
        self.shared.lock().queue.push_back(event.into());
        self.shared.changed.notify_all();
    }

    /// Waits until at least `n` invocations have a response or error, then
    /// returns all results so far in the order the events were handed out.
    /// Fails early if the function reported an init error.
    pub fn wait_for_results(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<InvocationResult>, String> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if state.results.len() >= n {
                return Ok(ordered_results(&state));
            }
            let now = Instant::now();
            if !state.init_errors.is_empty() || now >= deadline {
                let why = if state.init_errors.is_empty() {
                    format!("timed out after {timeout:?}")
                } else {
                    "the function reported an init error".to_string()
                };
                return Err(format!(
                    "waiting for {n} invocation result(s): {why}; handed out {} event(s) ({} still queued), \
                     results so far: {:?}, init errors: {:?}",
                    state.issued.len(),
                    state.queue.len(),
                    ordered_results(&state),
                    state.init_errors,
                ));
            }
            state = wait_timeout(&self.shared.changed, state, deadline - now);
        }
    }

    /// Waits for the first init error; fails on timeout or if an invocation
    /// completed instead (init evidently succeeded).
    pub fn wait_for_init_error(&self, timeout: Duration) -> Result<InitError, String> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(err) = state.init_errors.first() {
                return Ok(err.clone());
            }
            let now = Instant::now();
            if !state.results.is_empty() || now >= deadline {
                return Err(format!(
                    "no init error within {timeout:?}; results so far: {:?}",
                    ordered_results(&state)
                ));
            }
            state = wait_timeout(&self.shared.changed, state, deadline - now);
        }
    }

    /// Waits for the function's `n`th poll for an invocation (1 is the first, which ends its
    /// init) and returns when it arrived; fails on timeout or an init error.
    pub fn wait_for_poll(&self, n: usize, timeout: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(&at) = state.polls.get(n.saturating_sub(1)) {
                return Ok(at);
            }
            let now = Instant::now();
            if !state.init_errors.is_empty() || now >= deadline {
                return Err(format!(
                    "no poll #{n} within {timeout:?}: {} poll(s), init errors: {:?}",
                    state.polls.len(),
                    state.init_errors
                ));
            }
            state = wait_timeout(&self.shared.changed, state, deadline - now);
        }
    }

    pub fn results(&self) -> Vec<InvocationResult> {
        ordered_results(&self.shared.lock())
    }

    pub fn init_errors(&self) -> Vec<InitError> {
        self.shared.lock().init_errors.clone()
    }
}

impl Drop for LambdaRuntimeApi {
    fn drop(&mut self) {
        // Long polls block on the condvar, not the socket, so release them
        // before `server` joins its connection threads.
        self.shared.lock().shutdown = true;
        self.shared.changed.notify_all();
    }
}

fn ordered_results(state: &LambdaState) -> Vec<InvocationResult> {
    state
        .issued
        .iter()
        .filter_map(|id| {
            let outcome = state.results.get(id)?.clone();
            Some(InvocationResult {
                request_id: id.clone(),
                outcome,
            })
        })
        .collect()
}

fn handle_runtime_request(
    shared: &LambdaShared,
    next_id: &AtomicU64,
    req: RecordedRequest,
) -> Option<Response> {
    let arrived = Instant::now();
    let path = req.path.split('?').next().unwrap_or_default();
    if req.method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
        shared.lock().polls.push(arrived);
        shared.changed.notify_all();
        return next_invocation(shared, next_id);
    }
    if req.method == "POST" && path == "/2018-06-01/runtime/init/error" {
        let error_type = error_type_of(&req);
        shared.lock().init_errors.push(InitError {
            error_type,
            body: req.body,
        });
        shared.changed.notify_all();
        return Some(accepted());
    }
    if req.method == "POST"
        && let Some((id, kind)) = path
            .strip_prefix(INVOCATION_PREFIX)
            .and_then(|rest| rest.split_once('/'))
    {
        let outcome = match kind {
            "response" => Outcome::Response(req.body.clone()),
            "error" => Outcome::Error {
                error_type: error_type_of(&req),
                body: req.body.clone(),
            },
            _ => return Some(not_found()),
        };
        let mut state = shared.lock();
        if !state.issued.iter().any(|issued| issued == id) {
            return Some(Response::json(
                400,
                r#"{"errorType":"InvalidRequestID","errorMessage":"unknown request id"}"#,
            ));
        }
        state.results.insert(id.to_string(), outcome);
        drop(state);
        shared.changed.notify_all();
        return Some(accepted());
    }
    Some(not_found())
}

/// Long poll: blocks until an event is queued; `None` (close the connection)
/// once the server shuts down.
fn next_invocation(shared: &LambdaShared, next_id: &AtomicU64) -> Option<Response> {
    let mut state = shared.lock();
    let event = loop {
        if state.shutdown {
            return None;
        }
        if let Some(event) = state.queue.pop_front() {
            break event;
        }
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(|e| e.into_inner());
    };
    let id = format!(
        "8476a536-e9f4-11e8-9739-{:012x}",
        next_id.fetch_add(1, Ordering::Relaxed)
    );
    state.issued.push(id.clone());
    drop(state);

    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let mut response = Response::json(200, event);
    response.headers.extend([
        ("Lambda-Runtime-Aws-Request-Id".to_string(), id),
        (
            "Lambda-Runtime-Deadline-Ms".to_string(),
            deadline_ms.to_string(),
        ),
        (
            "Lambda-Runtime-Invoked-Function-Arn".to_string(),
            FUNCTION_ARN.to_string(),
        ),
        ("Lambda-Runtime-Trace-Id".to_string(), TRACE_ID.to_string()),
    ]);
    Some(response)
}

/// The header is what the real API treats as the error type; the body's
/// `errorType` is only a fallback for clients that omit it.
fn error_type_of(req: &RecordedRequest) -> String {
    if let Some(header) = req.header("lambda-runtime-function-error-type") {
        return header.to_string();
    }
    json_string_field(&req.body, "errorType").unwrap_or_default()
}

/// Good enough for the flat `{"errorType":"...","errorMessage":"..."}` shape
/// without pulling in a JSON parser.
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\"");
    let after_key = &json[json.find(&key)? + key.len()..];
    let value = after_key
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = value.chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16).ok()?;
                    // Surrogate pairs are rare in error types; not worth decoding.
                    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                other => out.push(other), // \" \\ \/
            },
            c => out.push(c),
        }
    }
}

fn accepted() -> Response {
    Response::json(202, r#"{"status":"OK"}"#)
}

fn not_found() -> Response {
    Response::json(
        404,
        r#"{"errorType":"NotFound","errorMessage":"unknown path"}"#,
    )
}

// ---------------------------------------------------------------------------
// Scripted server
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ScriptedResponse {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        ScriptedResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Request target as sent, including any query string.
    pub path: String,
    /// In arrival order; names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RecordedRequest {
    /// First value of the header; `name` is matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct ScriptedHttpServer {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    server: Server,
}

impl ScriptedHttpServer {
    /// Serves `responses` in order, one per request, then 500s.
    pub fn start(responses: Vec<ScriptedResponse>) -> ScriptedHttpServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Mutex::new(VecDeque::from(responses));
        let recorded = Arc::clone(&requests);
        let server = Server::start(move |req| {
            let summary = format!("{} {}", req.method, req.path);
            let number = {
                // Record before replying so the request is visible once the client has its answer.
                let mut recorded = lock(&recorded);
                recorded.push(req);
                recorded.len()
            };
            let response = match lock(&script).pop_front() {
                Some(s) => Response {
                    status: s.status,
                    headers: s.headers,
                    body: s.body,
                },
                None => Response {
                    status: 500,
                    headers: vec![("Content-Type".to_string(), "text/plain".to_string())],
                    body: format!(
                        "ScriptedHttpServer: script exhausted, nothing scripted for request #{number} ({summary})"
                    ),
                },
            };
            Some(response)
        });
        ScriptedHttpServer { requests, server }
    }

    /// `http://127.0.0.1:PORT`, e.g. for an SDK `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }
}

// ---------------------------------------------------------------------------
// Session Manager stand-in
// ---------------------------------------------------------------------------

/// `ssm:DescribeSessions` and `ssm:TerminateSession` over awsJson1_1, answered from sessions in
/// the API's own JSON (`SessionId`, `Status`, `StartDate` in epoch seconds, `EndDate`, `Owner`,
/// …). `State: Active` lists the sessions that have not ended (no `EndDate`, status neither
/// `Terminated` nor `Failed`), `History` the others; a `SessionId` filter, `MaxResults` and
/// `NextToken` work as the API's do. `TerminateSession` is answered and recorded. Any other
/// operation is a 400 `UnknownOperationException`.
pub struct SsmStandIn {
    sessions: Arc<Mutex<Vec<serde_json::Value>>>,
    calls: Arc<Mutex<Vec<String>>>,
    server: Server,
}

impl SsmStandIn {
    pub fn start(sessions: Vec<serde_json::Value>) -> SsmStandIn {
        let sessions = Arc::new(Mutex::new(sessions));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (listed, called) = (Arc::clone(&sessions), Arc::clone(&calls));
        let server = Server::start(move |req| {
            let target = req.header("x-amz-target").unwrap_or_default().to_string();
            lock(&called).push(target.clone());
            let body: serde_json::Value =
                serde_json::from_str(&req.body).unwrap_or(serde_json::Value::Null);
            let reply = |status, value: serde_json::Value| Response {
                status,
                headers: vec![(
                    "Content-Type".to_string(),
                    "application/x-amz-json-1.1".to_string(),
                )],
                body: value.to_string(),
            };
            Some(match target.as_str() {
                "AmazonSSM.DescribeSessions" => {
                    let want_ended = body["State"] == "History";
                    let only = body["Filters"]
                        .as_array()
                        .and_then(|filters| filters.iter().find(|f| f["key"] == "SessionId"))
                        .and_then(|f| f["value"].as_str())
                        .map(str::to_string);
                    let max = body["MaxResults"].as_u64().unwrap_or(20) as usize;
                    let from = body["NextToken"]
                        .as_str()
                        .and_then(|t| t.parse::<usize>().ok())
                        .unwrap_or(0);
                    let matching: Vec<serde_json::Value> = lock(&listed)
                        .iter()
                        .filter(|s| session_ended(s) == want_ended)
                        .filter(|s| only.as_deref().is_none_or(|id| s["SessionId"] == id))
                        .cloned()
                        .collect();
                    let end = (from + max).min(matching.len());
                    let page = matching
                        .get(from.min(end)..end)
                        .unwrap_or_default()
                        .to_vec();
                    let mut out = serde_json::json!({ "Sessions": page });
                    if end < matching.len() {
                        out["NextToken"] = serde_json::json!(end.to_string());
                    }
                    reply(200, out)
                }
                "AmazonSSM.TerminateSession" => {
                    reply(200, serde_json::json!({ "SessionId": body["SessionId"] }))
                }
                other => reply(
                    400,
                    serde_json::json!({
                        "__type": "UnknownOperationException",
                        "message": format!("the stand-in does not answer {other:?}"),
                    }),
                ),
            })
        });
        SsmStandIn {
            sessions,
            calls,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`, for an SDK `endpoint_url` or the fault proxy's `--ssm-upstream`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Replaces the sessions it reports.
    pub fn set_sessions(&self, sessions: Vec<serde_json::Value>) {
        *lock(&self.sessions) = sessions;
    }

    /// The `X-Amz-Target` of every request received, in order.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.calls).clone()
    }
}

/// Whether the API would list a session in its history.
fn session_ended(session: &serde_json::Value) -> bool {
    matches!(session["Status"].as_str(), Some("Terminated" | "Failed"))
        || !session["EndDate"].is_null()
}

// ---------------------------------------------------------------------------
// Shared HTTP/1.1 plumbing
// ---------------------------------------------------------------------------

const MAX_LINE: u64 = 16 * 1024;
const MAX_HEADERS: usize = 128;
const MAX_BODY: usize = 16 * 1024 * 1024;

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn json(status: u16, body: impl Into<String>) -> Self {
        let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        Response {
            status,
            headers,
            body: body.into(),
        }
    }
}

struct Connection {
    stream: TcpStream,
    worker: JoinHandle<()>,
}

/// Returns `None` to close the connection without answering.
type Handler = dyn Fn(RecordedRequest) -> Option<Response> + Send + Sync;

struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    /// Clones of every accepted socket, so drop can unblock reads on idle
    /// keep-alive connections.
    connections: Arc<Mutex<Vec<Connection>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    fn start(
        handler: impl Fn(RecordedRequest) -> Option<Response> + Send + Sync + 'static,
    ) -> Server {
        // Test scaffolding: if loopback can't bind, nothing useful can follow.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr of bound listener");
        let stopping = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);

        let acceptor = {
            let stopping = Arc::clone(&stopping);
            let connections = Arc::clone(&connections);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let Ok(clone) = stream.try_clone() else {
                        continue;
                    };
                    let handler = Arc::clone(&handler);
                    let worker = thread::spawn(move || serve_connection(stream, &*handler));
                    lock(&connections).push(Connection {
                        stream: clone,
                        worker,
                    });
                }
            })
        };
        Server {
            addr,
            stopping,
            connections,
            acceptor: Some(acceptor),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // `accept` blocks; a throwaway connection wakes it to see the flag.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take().filter(|_| woke) {
            let _ = acceptor.join();
        }
        let connections = std::mem::take(&mut *lock(&self.connections));
        for connection in &connections {
            let _ = connection.stream.shutdown(Shutdown::Both);
        }
        for connection in connections {
            let _ = connection.worker.join();
        }
    }
}

fn serve_connection(stream: TcpStream, handler: &Handler) {
    let mut conn = BufReader::new(stream);
    // Any error (bad request, peer gone) just ends the connection.
    while let Ok(Some((request, keep_alive))) = read_request(&mut conn) {
        let Some(response) = handler(request) else {
            break;
        };
        if write_response(conn.get_mut(), &response, keep_alive).is_err() || !keep_alive {
            break;
        }
    }
    // Explicit shutdown: `Server` holds a dup of this socket, so merely
    // dropping ours would not close it.
    let _ = conn.get_ref().shutdown(Shutdown::Both);
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// One CRLF- (or bare LF-) terminated line; `None` on EOF before any byte.
fn read_line(r: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    if r.take(MAX_LINE).read_until(b'\n', &mut buf)? == 0 {
        return Ok(None);
    }
    if buf.pop() != Some(b'\n') {
        return Err(invalid("line too long or truncated"));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| invalid("non-UTF-8 line"))
}

fn require_line(r: &mut impl BufRead) -> io::Result<String> {
    read_line(r)?.ok_or_else(|| invalid("unexpected EOF"))
}

/// Reads one request; `Ok(None)` when the peer closed cleanly between
/// requests. The bool says whether the connection may be kept alive.
fn read_request<S: Read + Write>(
    conn: &mut BufReader<S>,
) -> io::Result<Option<(RecordedRequest, bool)>> {
    // RFC 9112 §2.2: tolerate stray blank lines before the request line.
    let request_line = loop {
        match read_line(conn)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("malformed request line"));
    };
    if method.is_empty() || path.is_empty() || !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(invalid("unsupported request line"));
    }

    let mut headers = Vec::new();
    loop {
        let line = require_line(conn)?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(invalid("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("header without colon"))?;
        // Also rejects obsolete line folding, whose lines start with whitespace.
        if name.is_empty() || name.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(invalid("bad header name"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }

    let mut request = RecordedRequest {
        method: method.to_string(),
        path: path.to_string(),
        headers,
        body: String::new(),
    };
    let connection = request
        .header("connection")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let keep_alive = if version == "HTTP/1.0" {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };

    if request
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        conn.get_mut().write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = read_body(conn, &request)?;
    request.body = String::from_utf8_lossy(&body).into_owned();
    Ok(Some((request, keep_alive)))
}

fn read_body(conn: &mut impl BufRead, request: &RecordedRequest) -> io::Result<Vec<u8>> {
    if let Some(encoding) = request.header("transfer-encoding") {
        // Chunked must be the final coding, or the body has no framing.
        if !encoding
            .rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        {
            return Err(invalid("unsupported transfer-encoding"));
        }
        return read_chunked(conn);
    }
    let mut lengths = request
        .headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.as_str());
    let Some(first) = lengths.next() else {
        return Ok(Vec::new());
    };
    if lengths.any(|other| other != first) {
        return Err(invalid("conflicting content-length"));
    }
    let len = parse_digits(first, 10)
        .filter(|&n| n <= MAX_BODY)
        .ok_or_else(|| invalid("bad content-length"))?;
    read_exact_vec(conn, len)
}

fn read_chunked(conn: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = require_line(conn)?;
        let size_field = line.split(';').next().unwrap_or_default().trim();
        let size = parse_digits(size_field, 16)
            .filter(|&n| n <= MAX_BODY - body.len())
            .ok_or_else(|| invalid("bad chunk size"))?;
        if size == 0 {
            // Trailers (lambda_runtime declares some for streaming) end at a blank line.
            while !require_line(conn)?.is_empty() {}
            return Ok(body);
        }
        body.extend(read_exact_vec(conn, size)?);
        if !require_line(conn)?.is_empty() {
            return Err(invalid("missing CRLF after chunk"));
        }
    }
}

/// Stricter than `from_str_radix`, which accepts a sign.
fn parse_digits(s: &str, radix: u32) -> Option<usize> {
    if s.is_empty() || s.len() > 16 || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    usize::from_str_radix(s, radix).ok()
}

fn read_exact_vec(r: &mut impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len);
    r.take(len as u64).read_to_end(&mut buf)?;
    if buf.len() != len {
        return Err(invalid("body shorter than declared"));
    }
    Ok(buf)
}

fn write_response(w: &mut impl Write, response: &Response, keep_alive: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        // Framing is ours to decide; scripted headers must not contradict it.
        if ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(response.body.as_bytes());
    w.write_all(&bytes)?;
    w.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// A panicking test thread must not cascade into every later lock.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn wait_timeout<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>, dur: Duration) -> MutexGuard<'a, T> {
    match cv.wait_timeout(guard, dur) {
        Ok((guard, _)) => guard,
        Err(e) => e.into_inner().0,
    }
}
