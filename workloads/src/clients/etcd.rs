//! etcd's v3 JSON gateway: `/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`.
//!
//! Keys and values travel base64-encoded; int64 fields come back as strings; a txn whose compare
//! failed has no `succeeded` field. Outcomes are classified honestly: `fail` only when the op
//! certainly did not take effect (a connection refused before the request was sent; any failed
//! read, since reads change nothing), `info` for everything uncertain. A cas whose compare failed
//! is `ok` with the value `false`: the checker holds it to having seen a value other than `from`.

use crate::{Client, Completion};
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ferret_checkers::Value;
use serde_json::json;
use std::time::Duration;

#[derive(Clone)]
pub struct EtcdClient {
    http: reqwest::Client,
    /// `http://ip:port` of the member this client talks to.
    base: String,
    serializable: bool,
}

impl EtcdClient {
    pub fn new(base: String, timeout: Duration, serializable: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(EtcdClient {
            http,
            base,
            serializable,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, Failure> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() && !e.is_timeout() {
                    Failure::NotSent(e.to_string())
                } else if e.is_timeout() {
                    Failure::Unknown("timeout".into())
                } else {
                    Failure::Unknown(e.to_string())
                }
            })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                Failure::Unknown("timeout".into())
            } else {
                Failure::Unknown(e.to_string())
            }
        })?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
            Failure::Unknown(format!("HTTP {status}: unreadable reply {text:.200}"))
        })?;
        if !status.is_success() {
            let msg = json
                .get("error")
                .or_else(|| json.get("message"))
                .and_then(|m| m.as_str())
                .unwrap_or("no message");
            return Err(Failure::Unknown(format!("HTTP {}: {msg}", status.as_u16())));
        }
        Ok(json)
    }

    /// A read: linearizable unless the client was made serializable.
    pub async fn read(&self, key: &str) -> Completion {
        let mut body = json!({ "key": B64.encode(key) });
        if self.serializable {
            body["serializable"] = json!(true);
        }
        match self.post("/v3/kv/range", body).await {
            Ok(reply) => match read_value(&reply) {
                Ok(v) => Completion::ok(v),
                Err(e) => Completion::fail(Value::Nil, e),
            },
            // A read changes nothing: whatever happened, it certainly did not take effect.
            Err(f) => Completion::fail(Value::Nil, f.message()),
        }
    }

    pub async fn write(&self, key: &str, value: &Value) -> Completion {
        let body = json!({ "key": B64.encode(key), "value": B64.encode(encode(value)) });
        match self.post("/v3/kv/put", body).await {
            Ok(_) => Completion::ok(value.clone()),
            Err(f) => f.completion(value.clone()),
        }
    }

    /// Compare-and-set: `from` nil means "the key does not exist yet".
    pub async fn cas(&self, key: &str, from: &Value, to: &Value) -> Completion {
        let k = B64.encode(key);
        let compare = if from.is_nil() {
            json!({ "key": k, "target": "CREATE", "result": "EQUAL", "create_revision": "0" })
        } else {
            json!({ "key": k, "target": "VALUE", "result": "EQUAL", "value": B64.encode(encode(from)) })
        };
        let body = json!({
            "compare": [compare],
            "success": [{ "request_put": { "key": k, "value": B64.encode(encode(to)) } }],
        });
        let value = Value::List(vec![from.clone(), to.clone()]);
        match self.post("/v3/kv/txn", body).await {
            Ok(reply) => match reply.get("succeeded") {
                Some(serde_json::Value::Bool(true)) => Completion::ok(value),
                // Absent (the gateway omits false) or false: the compare failed. That is an
                // observation (the key did not hold `from`), not a non-event: `ok` with `false`.
                None | Some(serde_json::Value::Bool(false)) => Completion::ok(Value::Bool(false)),
                Some(other) => Completion::info(value, format!("unexpected succeeded: {other}")),
            },
            Err(f) => f.completion(value),
        }
    }

    /// `(member_id, leader_id)` as this member sees them, from `/v3/maintenance/status`.
    pub async fn status(&self) -> Result<(String, String), String> {
        let reply = self
            .post("/v3/maintenance/status", json!({}))
            .await
            .map_err(|f| f.message())?;
        let member = reply["header"]["member_id"].as_str().unwrap_or_default();
        let leader = reply["leader"].as_str().unwrap_or_default();
        if member.is_empty() {
            return Err("status reply has no member_id".into());
        }
        Ok((member.to_string(), leader.to_string()))
    }
}

#[async_trait]
impl Client for EtcdClient {
    async fn invoke(&self, f: &str, key: &str, value: &Value) -> Completion {
        match (f, value.as_list()) {
            ("read", _) => self.read(key).await,
            ("write", _) => self.write(key, value).await,
            ("cas", Some([from, to])) => self.cas(key, from, to).await,
            _ => Completion::fail(value.clone(), format!("the etcd client has no op {f:?}")),
        }
    }

    async fn leader_view(&self) -> Option<(String, String)> {
        // A quick look of its own, so a partitioned member cannot hold up the nemesis.
        let quick = EtcdClient::new(self.base.clone(), Duration::from_millis(500), false).ok()?;
        quick.status().await.ok()
    }
}

enum Failure {
    /// The request never left: certainly did not take effect.
    NotSent(String),
    Unknown(String),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::NotSent(m) => format!("not sent: {m}"),
            Failure::Unknown(m) => m.clone(),
        }
    }

    fn completion(self, value: Value) -> Completion {
        match self {
            Failure::NotSent(_) => Completion::fail(value, self.message()),
            Failure::Unknown(m) => Completion::info(value, m),
        }
    }
}

/// Values are stored as their decimal (or string) text.
fn encode(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

fn read_value(reply: &serde_json::Value) -> Result<Value, String> {
    let Some(kvs) = reply.get("kvs").and_then(|k| k.as_array()) else {
        return Ok(Value::Nil);
    };
    let Some(kv) = kvs.first() else {
        return Ok(Value::Nil);
    };
    let raw = kv.get("value").and_then(|v| v.as_str()).unwrap_or("");
    let bytes = B64
        .decode(raw)
        .map_err(|e| format!("value is not base64: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "value is not UTF-8".to_string())?;
    Ok(match text.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Str(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_absent_and_present_values() {
        let absent = json!({"header": {"revision": "5"}});
        assert_eq!(read_value(&absent).unwrap(), Value::Nil);
        let present = json!({"kvs": [{"key": B64.encode("k1"), "value": B64.encode("42"), "mod_revision": "7"}], "count": "1"});
        assert_eq!(read_value(&present).unwrap(), Value::Int(42));
        let bad = json!({"kvs": [{"value": "!!"}]});
        assert!(read_value(&bad).is_err());
    }

    /// A refused connection is a definite failure; nothing listens on this port.
    #[tokio::test]
    async fn refused_connection_is_fail_for_writes() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = EtcdClient::new(
            format!("http://127.0.0.1:{port}"),
            Duration::from_millis(500),
            false,
        )
        .unwrap();
        let w = c.write("k", &Value::Int(1)).await;
        assert_eq!(w.kind, ferret_checkers::EventType::Fail, "{w:?}");
    }

    /// A server that accepts and never answers: the write's outcome is unknown.
    #[tokio::test]
    async fn timeout_is_info_for_writes_and_fail_for_reads() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let c = EtcdClient::new(
            format!("http://127.0.0.1:{port}"),
            Duration::from_millis(200),
            false,
        )
        .unwrap();
        let w = c.write("k", &Value::Int(1)).await;
        assert_eq!(w.kind, ferret_checkers::EventType::Info, "{w:?}");
        let cas = c.cas("k", &Value::Nil, &Value::Int(2)).await;
        assert_eq!(cas.kind, ferret_checkers::EventType::Info, "{cas:?}");
        let r = c.read("k").await;
        assert_eq!(r.kind, ferret_checkers::EventType::Fail, "{r:?}");
        hold.abort();
    }
}
