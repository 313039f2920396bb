//! Any HTTP service, with each op described in the config: method, URL, body and headers
//! templates, how to read a value from the reply, and rules mapping replies to outcomes.
//!
//! Honest defaults: a reply that matches no rule, a timeout or a reset connection is `info` for a
//! write or cas (it may have been applied) and `fail` for a read (a read changes nothing); only a
//! refused connection is a certain `fail` for a write. A cas that a service can only express as
//! read-then-write is not a cas: there is no way to fake one here.

use crate::clients::error::ClientError;
use crate::{Client, Completion};
use async_trait::async_trait;
use ferret_checkers::Value;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The ops of an HTTP service, as written in `client.ops`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpOps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<HttpOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<HttpOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cas: Option<HttpOp>,
}

/// One op: the request to send and how to judge the reply.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpOp {
    #[serde(default = "default_method")]
    pub method: String,
    /// Template: `{ip}`, `{node}`, `{key}`, and `{value}` (write) or `{from}`, `{to}` (cas).
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Where a read's value is in the reply: `body` (trimmed), `json:/pointer`, or
    /// `regex:PATTERN` (its first capture group). Numbers become integers.
    #[serde(default = "default_value")]
    pub value: String,
    /// Checked in order; the first that matches decides the outcome.
    pub rules: Vec<Rule>,
}

fn default_method() -> String {
    "GET".into()
}
fn default_value() -> String {
    "body".into()
}

/// A reply matches when its status and body both match (an absent one matches anything).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `200`, or a class such as `"2xx"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSpec>,
    /// A regex searched for in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `ok`; `ok-nil` (a read of a key that does not exist); `compare-failed` (a cas that
    /// completed without swapping: `ok` with `false`); `fail` (certainly not applied); `info`
    /// (unknown).
    pub outcome: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum StatusSpec {
    Code(u16),
    Class(String),
}

/// A problem in the ops' description, with the dotted path of the field it is in.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub path: String,
    /// Text in the field to point at, when the field is a list.
    pub near: Option<String>,
    pub message: String,
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Var {
    Ip,
    Node,
    Key,
    Value,
    From,
    To,
}

#[derive(Clone, Debug)]
enum Piece {
    Text(String),
    Var(Var),
}

/// The variables an op knows, as a person writes them: `{ip}, {node}, {key}`.
fn known(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|a| format!("{{{a}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A template parsed once: `{name}` of a known name is a variable; any other brace is text (so
/// JSON bodies need no escaping), except a `{word}` that is no variable, which is a typo.
#[derive(Clone, Debug)]
struct Template(Vec<Piece>);

impl Template {
    fn parse(text: &str, allowed: &[&str], path: &str) -> Result<Template, SpecError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut literal = String::new();
        while let Some(at) = rest.find('{') {
            literal.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                let var = match name {
                    "ip" => Var::Ip,
                    "node" => Var::Node,
                    "key" => Var::Key,
                    "value" => Var::Value,
                    "from" => Var::From,
                    "to" => Var::To,
                    _ => {
                        return Err(SpecError {
                            path: path.into(),
                            near: Some(format!("{{{name}}}")),
                            message: format!(
                                "unknown template variable {{{name}}}; this op knows {}",
                                known(allowed)
                            ),
                        })
                    }
                };
                if !allowed.contains(&name) {
                    return Err(SpecError {
                        path: path.into(),
                        near: Some(format!("{{{name}}}")),
                        message: format!(
                            "{{{name}}} means nothing in this op; it knows {}",
                            known(allowed)
                        ),
                    });
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Var(var));
                rest = &after[name_len + 1..];
            } else {
                literal.push('{');
                rest = after;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template(pieces))
    }

    fn render(&self, vars: &Vars, url: bool) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(v) => {
                    let s = vars.get(*v);
                    if url {
                        out.extend(percent_encoding::utf8_percent_encode(
                            s,
                            percent_encoding::NON_ALPHANUMERIC,
                        ));
                    } else {
                        out.push_str(s);
                    }
                }
            }
        }
        out
    }
}

struct Vars<'a> {
    ip: &'a str,
    node: &'a str,
    key: &'a str,
    value: String,
    from: String,
    to: String,
}

impl Vars<'_> {
    fn get(&self, v: Var) -> &str {
        match v {
            Var::Ip => self.ip,
            Var::Node => self.node,
            Var::Key => self.key,
            Var::Value => &self.value,
            Var::From => &self.from,
            Var::To => &self.to,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    OkNil,
    CompareFailed,
    Fail,
    Info,
}

#[derive(Clone, Debug)]
struct CompiledRule {
    status: Option<(u16, u16)>,
    body: Option<Regex>,
    outcome: Outcome,
}

#[derive(Clone, Debug)]
enum Extract {
    Body,
    Pointer(String),
    Capture(Regex),
}

#[derive(Clone, Debug)]
struct CompiledOp {
    method: reqwest::Method,
    url: Template,
    body: Option<Template>,
    headers: Vec<(reqwest::header::HeaderName, Template)>,
    extract: Extract,
    rules: Vec<CompiledRule>,
}

/// The ops, checked and compiled; shared by every node's client.
#[derive(Clone, Debug)]
pub struct HttpSpec {
    read: Option<CompiledOp>,
    write: Option<CompiledOp>,
    cas: Option<CompiledOp>,
}

impl HttpSpec {
    /// Check every template, rule and pattern. `prefix` is the ops' dotted path in the config.
    pub fn compile(ops: &HttpOps, prefix: &str) -> Result<HttpSpec, SpecError> {
        let one = |op: &Option<HttpOp>, f: &str, vars: &[&str], outcomes: &[&str]| {
            op.as_ref()
                .map(|o| compile_op(o, &format!("{prefix}.{f}"), vars, outcomes))
                .transpose()
        };
        let spec = HttpSpec {
            read: one(
                &ops.read,
                "read",
                &["ip", "node", "key"],
                &["ok", "ok-nil", "fail", "info"],
            )?,
            write: one(
                &ops.write,
                "write",
                &["ip", "node", "key", "value"],
                &["ok", "fail", "info"],
            )?,
            cas: one(
                &ops.cas,
                "cas",
                &["ip", "node", "key", "from", "to"],
                &["ok", "compare-failed", "fail", "info"],
            )?,
        };
        if spec.read.is_none() && spec.write.is_none() && spec.cas.is_none() {
            return Err(SpecError {
                path: prefix.into(),
                near: None,
                message: "describe at least one of read, write, cas".into(),
            });
        }
        Ok(spec)
    }

    /// Whether the service has this op.
    pub fn supports(&self, f: &str) -> bool {
        match f {
            "read" => self.read.is_some(),
            "write" => self.write.is_some(),
            "cas" => self.cas.is_some(),
            _ => false,
        }
    }
}

fn compile_op(
    op: &HttpOp,
    path: &str,
    vars: &[&str],
    outcomes: &[&str],
) -> Result<CompiledOp, SpecError> {
    let err = |field: &str, near: Option<String>, message: String| SpecError {
        path: format!("{path}.{field}"),
        near,
        message,
    };
    let method =
        reqwest::Method::from_bytes(op.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            err(
                "method",
                None,
                format!("{:?} is not an HTTP method", op.method),
            )
        })?;
    let url = Template::parse(&op.url, vars, &format!("{path}.url"))?;
    if !(op.url.starts_with("http://") || op.url.starts_with("https://")) {
        return Err(err(
            "url",
            None,
            format!("{:?} must start with http:// or https://", op.url),
        ));
    }
    let body = op
        .body
        .as_ref()
        .map(|b| Template::parse(b, vars, &format!("{path}.body")))
        .transpose()?;
    let mut headers = Vec::new();
    for (name, value) in &op.headers {
        let h = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            err(
                "headers",
                Some(name.clone()),
                format!("{name:?} is not a header name"),
            )
        })?;
        headers.push((h, Template::parse(value, vars, &format!("{path}.headers"))?));
    }
    let extract = if op.value == "body" {
        Extract::Body
    } else if let Some(p) = op.value.strip_prefix("json:") {
        if !(p.is_empty() || p.starts_with('/')) {
            return Err(err(
                "value",
                None,
                format!("json pointer {p:?} must start with /"),
            ));
        }
        Extract::Pointer(p.to_string())
    } else if let Some(r) = op.value.strip_prefix("regex:") {
        let re = Regex::new(r).map_err(|e| err("value", None, format!("bad regex: {e}")))?;
        if re.captures_len() < 2 {
            return Err(err(
                "value",
                None,
                format!("regex {r:?} needs a capture group for the value"),
            ));
        }
        Extract::Capture(re)
    } else {
        return Err(err(
            "value",
            None,
            format!(
                "{:?}: expected body, json:/pointer or regex:PATTERN",
                op.value
            ),
        ));
    };
    if op.rules.is_empty() {
        return Err(err(
            "rules",
            None,
            "give at least one rule saying when a reply is ok".into(),
        ));
    }
    let mut rules = Vec::new();
    for r in &op.rules {
        let status = match &r.status {
            None => None,
            Some(StatusSpec::Code(c)) if (100..=599).contains(c) => Some((*c, *c)),
            Some(StatusSpec::Class(s)) => {
                let b = s.as_bytes();
                if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && &s[1..] == "xx" {
                    let base = (b[0] - b'0') as u16 * 100;
                    Some((base, base + 99))
                } else if let Ok(c) = s.parse::<u16>().map_err(|_| ()).and_then(|c| {
                    if (100..=599).contains(&c) {
                        Ok(c)
                    } else {
                        Err(())
                    }
                }) {
                    Some((c, c))
                } else {
                    return Err(err(
                        "rules",
                        Some(s.clone()),
                        format!(
                            "status {s:?}: expected a code such as 200 or a class such as \"5xx\""
                        ),
                    ));
                }
            }
            Some(StatusSpec::Code(c)) => {
                return Err(err(
                    "rules",
                    Some(c.to_string()),
                    format!("status {c} is not an HTTP status"),
                ))
            }
        };
        let body = r
            .body
            .as_ref()
            .map(|b| {
                Regex::new(b)
                    .map_err(|e| err("rules", Some(b.clone()), format!("bad regex {b:?}: {e}")))
            })
            .transpose()?;
        if !outcomes.contains(&r.outcome.as_str()) {
            return Err(err(
                "rules",
                Some(r.outcome.clone()),
                format!(
                    "outcome {:?}: this op's outcomes are {}",
                    r.outcome,
                    outcomes.join(", ")
                ),
            ));
        }
        let outcome = match r.outcome.as_str() {
            "ok" => Outcome::Ok,
            "ok-nil" => Outcome::OkNil,
            "compare-failed" => Outcome::CompareFailed,
            "fail" => Outcome::Fail,
            _ => Outcome::Info,
        };
        rules.push(CompiledRule {
            status,
            body,
            outcome,
        });
    }
    Ok(CompiledOp {
        method,
        url,
        body,
        headers,
        extract,
        rules,
    })
}

/// A client of one node of an HTTP service.
#[derive(Clone)]
pub struct HttpClient {
    http: reqwest::Client,
    spec: Arc<HttpSpec>,
    node: String,
    ip: String,
}

impl HttpClient {
    pub fn new(
        spec: Arc<HttpSpec>,
        node: &str,
        ip: &str,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .build()?;
        Ok(HttpClient {
            http,
            spec,
            node: node.to_string(),
            ip: ip.to_string(),
        })
    }
}

/// Values travel as their text: integers in decimal, strings as they are, nil as nothing.
fn text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Nil => String::new(),
        other => other.to_string(),
    }
}

fn parse_value(s: &str) -> Value {
    match s.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Str(s.to_string()),
    }
}

fn extract(how: &Extract, body: &str) -> Result<Value, ClientError> {
    match how {
        Extract::Body => Ok(parse_value(body.trim())),
        Extract::Pointer(p) => {
            let json: serde_json::Value =
                serde_json::from_str(body).map_err(|e| format!("reply is not JSON: {e}"))?;
            match json.pointer(p) {
                None | Some(serde_json::Value::Null) => Ok(Value::Nil),
                Some(serde_json::Value::String(s)) => Ok(parse_value(s)),
                Some(other) => Value::from_json(other).map_err(|e| e.to_string().into()),
            }
        }
        Extract::Capture(re) => re
            .captures(body)
            .and_then(|c| c.get(1))
            .map(|m| parse_value(m.as_str()))
            .ok_or_else(|| format!("reply does not match {re}").into()),
    }
}

#[async_trait]
impl Client for HttpClient {
    async fn invoke(&self, f: &str, key: &str, value: &Value) -> Completion {
        let (op, is_read) = match f {
            "read" => (&self.spec.read, true),
            "write" => (&self.spec.write, false),
            "cas" => (&self.spec.cas, false),
            _ => (&None, false),
        };
        let Some(op) = op else {
            return Completion::fail(value.clone(), format!("the service has no {f} op"));
        };
        let (from, to) = match value.as_list() {
            Some([a, b]) if f == "cas" => (text(a), text(b)),
            _ => (String::new(), String::new()),
        };
        let vars = Vars {
            ip: &self.ip,
            node: &self.node,
            key,
            value: text(value),
            from,
            to,
        };
        let mut req = self
            .http
            .request(op.method.clone(), op.url.render(&vars, true));
        for (name, t) in &op.headers {
            req = req.header(name.clone(), t.render(&vars, false));
        }
        if let Some(b) = &op.body {
            req = req.body(b.render(&vars, false));
        }
        // What an uncertain end means: a read changed nothing; a write may have been applied.
        let unknown = |why: String| {
            if is_read {
                Completion::fail(Value::Nil, why)
            } else {
                Completion::info(value.clone(), why)
            }
        };
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() && !e.is_timeout() => {
                // Refused before anything was sent: certainly not applied.
                return Completion::fail(value.clone(), format!("not sent: {e}"));
            }
            Err(e) if e.is_timeout() => return unknown("timeout".into()),
            Err(e) => return unknown(e.to_string()),
        };
        let status = resp.status().as_u16();
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => return unknown("timeout".into()),
            Err(e) => return unknown(e.to_string()),
        };
        let rule = op.rules.iter().find(|r| {
            r.status.is_none_or(|(lo, hi)| (lo..=hi).contains(&status))
                && r.body.as_ref().is_none_or(|re| re.is_match(&body))
        });
        let Some(rule) = rule else {
            return unknown(format!(
                "HTTP {status}, no rule matched: {:.200}",
                body.trim()
            ));
        };
        match rule.outcome {
            Outcome::Ok if is_read => match extract(&op.extract, &body) {
                Ok(v) => Completion::ok(v),
                Err(e) => Completion::fail(Value::Nil, e.to_string()),
            },
            Outcome::Ok => Completion::ok(value.clone()),
            Outcome::OkNil => Completion::ok(Value::Nil),
            Outcome::CompareFailed => Completion::ok(Value::Bool(false)),
            Outcome::Fail => Completion::fail(
                if is_read { Value::Nil } else { value.clone() },
                format!("HTTP {status}: {:.200}", body.trim()),
            ),
            Outcome::Info => unknown(format!("HTTP {status}: {:.200}", body.trim())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferret_checkers::EventType;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn ops(yaml_like: serde_json::Value) -> HttpOps {
        serde_json::from_value(yaml_like).unwrap()
    }

    /// The ops of a dqlite-demo-like service: every reply 200, errors in the body.
    fn demo_ops(port: u16) -> HttpOps {
        ops(serde_json::json!({
            "read": {"url": format!("http://127.0.0.1:{port}/{{key}}"), "value": "body", "rules": [
                {"body": "^Error: sql: no rows", "outcome": "ok-nil"},
                {"body": "^Error", "outcome": "fail"},
                {"status": 200, "outcome": "ok"}]},
            "write": {"method": "PUT", "url": format!("http://127.0.0.1:{port}/{{key}}"), "body": "{value}", "rules": [
                {"status": "2xx", "body": "^done", "outcome": "ok"},
                {"body": "locked", "outcome": "fail"}]},
            "cas": {"method": "POST", "url": format!("http://127.0.0.1:{port}/cas/{{key}}?from={{from}}&to={{to}}"), "rules": [
                {"body": "^swapped", "outcome": "ok"},
                {"body": "^mismatch", "outcome": "compare-failed"}]},
        }))
    }

    /// A server answering each request with the reply `answer` picks for its request line and
    /// body; `None` holds the connection open and never answers.
    async fn serve(answer: fn(&str) -> Option<(u16, String)>) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                match answer(&req) {
                    Some((status, body)) => {
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = s.write_all(reply.as_bytes()).await;
                    }
                    None => held.push(s),
                }
            }
        });
        port
    }

    fn client(ops: &HttpOps) -> HttpClient {
        let spec = Arc::new(HttpSpec::compile(ops, "client.ops").unwrap());
        HttpClient::new(spec, "n1", "127.0.0.1", Duration::from_millis(300)).unwrap()
    }

    #[tokio::test]
    async fn rules_map_replies_to_outcomes() {
        let port = serve(|req| {
            let line = req.lines().next().unwrap_or("");
            Some(match line {
                l if l.starts_with("GET /k1 ") => (200, "42\n".into()),
                l if l.starts_with("GET /missing ") => {
                    (200, "Error: sql: no rows in result set".into())
                }
                l if l.starts_with("GET /broken ") => (200, "Error: database is locked".into()),
                l if l.starts_with("GET /odd ") => (500, "what".into()),
                l if l.starts_with("PUT /k1 ") && req.ends_with("\r\n\r\n7") => {
                    (200, "done".into())
                }
                l if l.starts_with("PUT /locked ") => (200, "Error: database is locked".into()),
                l if l.starts_with("PUT ") => (503, "try later".into()),
                l if l.contains("/cas/k1?from=1&to=2 ") => (200, "swapped".into()),
                l if l.contains("/cas/k1?") => (200, "mismatch".into()),
                _ => (404, "no".into()),
            })
        })
        .await;
        let c = client(&demo_ops(port));
        let r = c.invoke("read", "k1", &Value::Nil).await;
        assert_eq!((r.kind, r.value), (EventType::Ok, Value::Int(42)));
        let r = c.invoke("read", "missing", &Value::Nil).await;
        assert_eq!((r.kind, r.value), (EventType::Ok, Value::Nil));
        assert_eq!(
            c.invoke("read", "broken", &Value::Nil).await.kind,
            EventType::Fail
        );
        // A reply no rule matches: a read is a failure, a write is unknown.
        assert_eq!(
            c.invoke("read", "odd", &Value::Nil).await.kind,
            EventType::Fail
        );
        let w = c.invoke("write", "k1", &Value::Int(7)).await;
        assert_eq!((w.kind, w.value), (EventType::Ok, Value::Int(7)));
        assert_eq!(
            c.invoke("write", "locked", &Value::Int(7)).await.kind,
            EventType::Fail
        );
        let w = c.invoke("write", "other", &Value::Int(7)).await;
        assert_eq!(w.kind, EventType::Info, "{w:?}");
        let swap = Value::List(vec![Value::Int(1), Value::Int(2)]);
        let cas = c.invoke("cas", "k1", &swap).await;
        assert_eq!((cas.kind, cas.value), (EventType::Ok, swap.clone()));
        let cas = c
            .invoke(
                "cas",
                "k1",
                &Value::List(vec![Value::Int(5), Value::Int(2)]),
            )
            .await;
        assert_eq!((cas.kind, cas.value), (EventType::Ok, Value::Bool(false)));
    }

    #[tokio::test]
    async fn timeouts_and_refusals_are_honest() {
        let silent = serve(|_| None).await;
        let c = client(&demo_ops(silent));
        assert_eq!(
            c.invoke("write", "k", &Value::Int(1)).await.kind,
            EventType::Info
        );
        let cas = Value::List(vec![Value::Nil, Value::Int(1)]);
        assert_eq!(c.invoke("cas", "k", &cas).await.kind, EventType::Info);
        assert_eq!(
            c.invoke("read", "k", &Value::Nil).await.kind,
            EventType::Fail
        );
        // Nothing listens: the write certainly did not happen.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = client(&demo_ops(closed));
        assert_eq!(
            c.invoke("write", "k", &Value::Int(1)).await.kind,
            EventType::Fail
        );
    }

    #[test]
    fn values_come_from_body_json_pointer_or_regex() {
        assert_eq!(extract(&Extract::Body, " 12\n").unwrap(), Value::Int(12));
        assert_eq!(
            extract(&Extract::Body, "abc\n").unwrap(),
            Value::from("abc")
        );
        let p = Extract::Pointer("/node/value".into());
        assert_eq!(
            extract(&p, r#"{"node":{"value":"7"}}"#).unwrap(),
            Value::Int(7)
        );
        assert_eq!(extract(&p, r#"{"node":{}}"#).unwrap(), Value::Nil);
        assert!(extract(&p, "not json").is_err());
        let re = Extract::Capture(Regex::new(r"value=(\d+)").unwrap());
        assert_eq!(extract(&re, "key=k value=9").unwrap(), Value::Int(9));
        assert!(extract(&re, "nothing").is_err());
    }

    #[test]
    fn descriptions_are_checked_with_the_field_and_the_text_to_point_at() {
        let bad_var = ops(
            serde_json::json!({"read": {"url": "http://{ip}:1/{kye}", "rules": [{"outcome": "ok"}]}}),
        );
        let e = HttpSpec::compile(&bad_var, "client.ops").unwrap_err();
        assert_eq!(e.path, "client.ops.read.url");
        assert_eq!(e.near.as_deref(), Some("{kye}"));
        assert!(e.message.contains("{key}"), "{e}");
        // {value} means nothing in a read.
        let wrong = ops(
            serde_json::json!({"read": {"url": "http://{ip}:1/{value}", "rules": [{"outcome": "ok"}]}}),
        );
        assert!(HttpSpec::compile(&wrong, "c").is_err());
        let bad_re = ops(
            serde_json::json!({"write": {"url": "http://{ip}:1/{key}", "rules": [{"body": "(", "outcome": "ok"}]}}),
        );
        let e = HttpSpec::compile(&bad_re, "client.ops").unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.near.as_deref()),
            ("client.ops.write.rules", Some("("))
        );
        let bad_outcome = ops(
            serde_json::json!({"write": {"url": "http://{ip}:1/{key}", "rules": [{"outcome": "compare-failed"}]}}),
        );
        assert!(HttpSpec::compile(&bad_outcome, "c").is_err());
        let bad_status = ops(
            serde_json::json!({"read": {"url": "http://{ip}:1/{key}", "rules": [{"status": "7xx", "outcome": "ok"}]}}),
        );
        assert!(HttpSpec::compile(&bad_status, "c").is_err());
        let no_rules =
            ops(serde_json::json!({"read": {"url": "http://{ip}:1/{key}", "rules": []}}));
        assert!(HttpSpec::compile(&no_rules, "c").is_err());
        // JSON bodies need no escaping: a brace that opens no variable is text.
        let json_body = ops(
            serde_json::json!({"write": {"method": "POST", "url": "http://{ip}:1/kv",
            "body": "{\"key\": \"{key}\", \"value\": {value}}", "rules": [{"outcome": "ok"}]}}),
        );
        let spec = HttpSpec::compile(&json_body, "c").unwrap();
        let body = spec.write.unwrap().body.unwrap();
        let vars = Vars {
            ip: "1.2.3.4",
            node: "n1",
            key: "k1",
            value: "5".into(),
            from: String::new(),
            to: String::new(),
        };
        assert_eq!(body.render(&vars, false), "{\"key\": \"k1\", \"value\": 5}");
    }
}
