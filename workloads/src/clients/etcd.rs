//! etcd's v3 JSON gateway: `/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`; leases
//! (`/v3/lease/grant`, `keepalive`, `revoke`) and locks (`/v3/lock/lock`, `unlock`).
//!
//! Keys and values travel base64-encoded; int64 fields come back as strings; a txn whose compare
//! failed has no `succeeded` field. Outcomes are classified honestly: `fail` only when the op
//! certainly did not take effect (a connection refused before the request was sent; any failed
//! read, since reads change nothing), `info` for everything uncertain. A cas whose compare failed
//! is `ok` with the value `false`: the checker holds it to having seen a value other than `from`.

use crate::clients::error::ClientError;
use crate::{Client, Completion};
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ferret_checkers::Value;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct EtcdClient {
    http: reqwest::Client,
    /// `http://ip:port` of the member this client talks to.
    base: String,
    serializable: bool,
    /// How long an acquire may wait in the lock's queue.
    lock_wait: Duration,
    /// After a lock is granted, check its key still exists before using it.
    verify_lock: bool,
    /// The leases behind held locks, each kept alive by a task of its own.
    keepers: Arc<Keepers>,
}

/// Background renewals of the leases behind held locks (as etcd's own lock recipe keeps its
/// session alive), stopped at release or when the client goes.
#[derive(Default)]
struct Keepers(std::sync::Mutex<HashMap<i64, Keeper>>);

struct Keeper {
    task: tokio::task::JoinHandle<()>,
    /// When the latest renewal that the server acknowledged was sent.
    renewed: Arc<std::sync::Mutex<Instant>>,
}

impl Keepers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Keeper>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Keepers {
    fn drop(&mut self) {
        for (_, k) in self.lock().drain() {
            k.task.abort();
        }
    }
}

impl EtcdClient {
    pub fn new(base: String, timeout: Duration, serializable: bool) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(EtcdClient {
            http,
            base,
            serializable,
            lock_wait: timeout,
            verify_lock: false,
            keepers: Default::default(),
        })
    }

    /// How long an acquire may wait for the lock (the client's timeout by default), and whether
    /// a granted lock's key is checked before the lock is used.
    pub fn with_lock(mut self, wait: Duration, verify: bool) -> Self {
        self.lock_wait = wait;
        self.verify_lock = verify;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether reads are served from the member's own state, without a quorum.
    pub fn serializable(&self) -> bool {
        self.serializable
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, Failure> {
        self.post_within(path, body, None).await
    }

    async fn post_within(
        &self,
        path: &str,
        body: serde_json::Value,
        timeout: Option<Duration>,
    ) -> Result<serde_json::Value, Failure> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        let resp = req.send().await.map_err(|e| {
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
            // Checked before anything is applied (and again when applied): certainly no effect.
            if msg.contains("requested lease not found") {
                return Err(Failure::LeaseNotFound);
            }
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
                Err(e) => Completion::fail(Value::Nil, e.to_string()),
            },
            // A read changes nothing: whatever happened, it certainly did not take effect.
            Err(f) => Completion::fail(Value::Nil, f.message()),
        }
    }

    pub async fn write(&self, key: &str, value: &Value) -> Completion {
        self.put(key, value, None).await
    }

    /// A put, attached to `lease` if one is given.
    pub async fn put(&self, key: &str, value: &Value, lease: Option<i64>) -> Completion {
        let mut body = json!({ "key": B64.encode(key), "value": B64.encode(encode(value)) });
        if let Some(l) = lease {
            body["lease"] = json!(l);
        }
        match self.post("/v3/kv/put", body).await {
            Ok(_) => Completion::ok(value.clone()),
            Err(f) => f.completion(value.clone()),
        }
    }

    /// A new lease: `[id ttl]` with the TTL the server granted.
    pub async fn grant(&self, ttl: i64) -> Result<(i64, i64), Failure> {
        let reply = self.post("/v3/lease/grant", json!({ "TTL": ttl })).await?;
        let id = int_field(&reply, "ID")
            .ok_or_else(|| Failure::Unknown(format!("grant reply without an ID: {reply:.200}")))?;
        Ok((id, int_field(&reply, "TTL").unwrap_or(0)))
    }

    /// One renewal: the TTL renewed, or 0 when the lease was not found.
    pub async fn keepalive(&self, id: i64) -> Result<i64, Failure> {
        let reply = self
            .post("/v3/lease/keepalive", json!({ "ID": id }))
            .await?;
        let Some(result) = reply.get("result") else {
            return Err(Failure::Unknown(format!(
                "keepalive reply without a result: {reply:.200}"
            )));
        };
        // The gateway leaves out a zero TTL: the lease is gone.
        Ok(int_field(result, "TTL").unwrap_or(0))
    }

    /// Revoke: `true`, or `false` when the lease was not found (already expired or revoked).
    pub async fn revoke(&self, id: i64) -> Result<bool, Failure> {
        match self.post("/v3/lease/revoke", json!({ "ID": id })).await {
            Ok(_) => Ok(true),
            Err(Failure::LeaseNotFound) => Ok(false),
            Err(f) => Err(f),
        }
    }

    /// Take the lock `name`: a lease of `ttl` seconds, kept alive in the background, then
    /// `/v3/lock/lock`, waiting up to the lock wait. Ok: `[lock-key lease ttl renewed-ms]`, where
    /// renewed-ms is when (after this call began) the latest acknowledged renewal was sent.
    pub async fn acquire(&self, name: &str, ttl: i64) -> Completion {
        let began = Instant::now();
        let (lease, granted) = match self.grant(ttl).await {
            Ok(g) => g,
            Err(f) => return f.completion(Value::Int(ttl)),
        };
        let renewed = Arc::new(std::sync::Mutex::new(began));
        let task = tokio::spawn(keep_alive(
            self.clone_quiet(),
            lease,
            granted,
            renewed.clone(),
        ));
        self.keepers.lock().insert(lease, Keeper { task, renewed });
        let body = json!({ "name": B64.encode(name), "lease": lease });
        let wait = self.lock_wait;
        match self.post_within("/v3/lock/lock", body, Some(wait)).await {
            Ok(reply) => {
                let key = reply
                    .get("key")
                    .and_then(|k| k.as_str())
                    .and_then(|k| B64.decode(k).ok())
                    .map(|k| String::from_utf8_lossy(&k).into_owned())
                    .unwrap_or_default();
                // As etcd's later client libraries do: the lock is ours only if our queue key
                // still exists (etcd 3.4.23 grants the lock to a waiter whose lease expired
                // while it waited; docs/findings.md).
                if self.verify_lock {
                    let check = self.read(&key).await;
                    let gone = check.kind == ferret_checkers::EventType::Ok && check.value.is_nil();
                    if gone || check.kind != ferret_checkers::EventType::Ok {
                        self.stop_keeping(lease);
                        let _ = self.revoke(lease).await;
                        let why = if gone {
                            format!(
                                "granted {key:?}, but that key was already gone: the lease \
                                     expired while waiting (not held)"
                            )
                        } else {
                            format!("granted {key:?}, but its key could not be checked (given up)")
                        };
                        return Completion::fail(Value::Int(ttl), why);
                    }
                }
                let at = self
                    .keepers
                    .lock()
                    .get(&lease)
                    .map(|k| *k.renewed.lock().unwrap_or_else(|e| e.into_inner()))
                    .unwrap_or(began);
                let renewed_ms = at.saturating_duration_since(began).as_millis() as i64;
                Completion::ok(Value::List(vec![
                    Value::Str(key),
                    Value::Int(lease),
                    Value::Int(granted),
                    Value::Int(renewed_ms),
                ]))
            }
            Err(f) => {
                // Maybe queued, maybe even granted: give the lease up so the lock cannot stay
                // with a holder that will never use it.
                self.stop_keeping(lease);
                let _ = self.revoke(lease).await;
                f.completion(Value::Int(ttl))
            }
        }
    }

    /// Release a lock taken by `acquire`: stop renewing, unlock, revoke the lease.
    pub async fn release(&self, lock_key: &str, lease: i64) -> Completion {
        self.stop_keeping(lease);
        let value = Value::List(vec![Value::Str(lock_key.into()), Value::Int(lease)]);
        let unlocked = self
            .post("/v3/lock/unlock", json!({ "key": B64.encode(lock_key) }))
            .await;
        // Revoked either way: the lock goes with its lease even if the unlock was lost.
        let revoked = self.revoke(lease).await;
        match (unlocked, revoked) {
            (Ok(_), _) | (_, Ok(_)) => Completion::ok(value),
            (Err(f), Err(_)) => f.completion(value),
        }
    }

    /// A read that reports the key's value, its mod revision and the store's revision:
    /// `[value mod-revision revision]` (nil and 0 for an absent key).
    pub async fn read_revision(&self, key: &str) -> Completion {
        let body = json!({ "key": B64.encode(key) });
        match self.post("/v3/kv/range", body).await {
            Ok(reply) => {
                let value = match read_value(&reply) {
                    Ok(v) => v,
                    Err(e) => return Completion::fail(Value::Nil, e.to_string()),
                };
                let m = int_field(&reply["kvs"][0], "mod_revision").unwrap_or(0);
                let rev = int_field(&reply["header"], "revision").unwrap_or(0);
                Completion::ok(Value::List(vec![value, Value::Int(m), Value::Int(rev)]))
            }
            Err(f) => Completion::fail(Value::Nil, f.message()),
        }
    }

    /// Watch every key under `prefix` from revision `from` for `span`, through the gateway's
    /// streaming `/v3/watch`: `[events header-revision end]`, each event `[revision key value
    /// type]` (value nil for a delete), `end` why the stream ended: `span`, `closed`,
    /// `compacted <rev>`, or an error. A watch changes nothing: a stream that could not be
    /// opened is `fail`; one that broke keeps what it delivered.
    pub async fn watch(&self, prefix: &str, from: i64, span: Duration) -> Completion {
        let mut end_key = prefix.as_bytes().to_vec();
        if let Some(last) = end_key.last_mut() {
            *last += 1;
        }
        let body = json!({ "create_request": {
            "key": B64.encode(prefix),
            "range_end": B64.encode(&end_key),
            "start_revision": from,
        }});
        let request = Value::List(vec![Value::Int(from), Value::Int(span.as_millis() as i64)]);
        let mut resp = match self
            .http
            .post(format!("{}/v3/watch", self.base))
            .json(&body)
            .timeout(span + Duration::from_secs(5))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => return Completion::fail(request, format!("HTTP {}", r.status().as_u16())),
            Err(e) => return Completion::fail(request, format!("watch not opened: {e}")),
        };
        let mut events = Vec::new();
        let mut header = 0;
        let mut buf: Vec<u8> = Vec::new();
        let deadline = tokio::time::Instant::now() + span;
        let end = loop {
            let chunk = match tokio::time::timeout_at(deadline, resp.chunk()).await {
                Err(_) => break "span".to_string(),
                Ok(Ok(Some(c))) => c,
                Ok(Ok(None)) => break "closed".to_string(),
                Ok(Err(e)) => break format!("broken: {e}"),
            };
            buf.extend_from_slice(&chunk);
            let mut ended = None;
            while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                match watch_message(&line, &mut events, &mut header) {
                    Ok(None) => {}
                    Ok(Some(why)) => ended = Some(why),
                    Err(e) => ended = Some(format!("unreadable watch reply: {e}")),
                }
            }
            if let Some(why) = ended {
                break why;
            }
        };
        Completion::ok(Value::List(vec![
            Value::List(events),
            Value::Int(header),
            Value::Str(end),
        ]))
    }

    fn stop_keeping(&self, lease: i64) {
        if let Some(k) = self.keepers.lock().remove(&lease) {
            k.task.abort();
        }
    }

    /// The same connection settings, without the keepers (a renewal task must not own them).
    fn clone_quiet(&self) -> EtcdClient {
        EtcdClient {
            keepers: Default::default(),
            ..self.clone()
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

    /// Put `set` at `key` only if `lock_key` still exists, in one txn: a write from a holder
    /// whose lock has gone (its lease expired while the write was delayed) is refused when it
    /// is applied. A refused write certainly did not take effect: `fail`.
    pub async fn fenced_put(
        &self,
        key: &str,
        set: &Value,
        lock_key: &str,
        value: &Value,
    ) -> Completion {
        let body = json!({
            "compare": [{ "key": B64.encode(lock_key), "target": "CREATE", "result": "GREATER",
                          "create_revision": "0" }],
            "success": [{ "request_put": { "key": B64.encode(key), "value": B64.encode(encode(set)) } }],
        });
        match self.post("/v3/kv/txn", body).await {
            Ok(reply) => match reply.get("succeeded") {
                Some(serde_json::Value::Bool(true)) => Completion::ok(value.clone()),
                None | Some(serde_json::Value::Bool(false)) => Completion::fail(
                    value.clone(),
                    format!("fenced: the lock key {lock_key:?} was gone, nothing written"),
                ),
                Some(other) => {
                    Completion::info(value.clone(), format!("unexpected succeeded: {other}"))
                }
            },
            Err(f) => f.completion(value.clone()),
        }
    }

    /// `(member_id, leader_id)` as this member sees them, from `/v3/maintenance/status`.
    pub async fn status(&self) -> Result<(String, String), ClientError> {
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
        match (f, value, value.as_list()) {
            ("read", _, _) => self.read(key).await,
            ("write", _, _) => self.write(key, value).await,
            ("cas", _, Some([from, to])) => self.cas(key, from, to).await,
            ("grant", Value::Int(ttl), _) => match self.grant(*ttl).await {
                Ok((lease, ttl)) => Completion::ok(Value::List(vec![lease.into(), ttl.into()])),
                Err(f) => f.completion(value.clone()),
            },
            ("put", Value::Int(lease), _) => self.put(key, value, Some(*lease)).await,
            ("keepalive", Value::Int(lease), _) => match self.keepalive(*lease).await {
                Ok(ttl) => Completion::ok(Value::Int(ttl)),
                // A renewal whose reply was lost may still have renewed.
                Err(f) => Completion::info(value.clone(), f.message()),
            },
            ("revoke", Value::Int(lease), _) => match self.revoke(*lease).await {
                Ok(done) => Completion::ok(Value::Bool(done)),
                Err(f) => f.completion(value.clone()),
            },
            ("acquire", Value::Int(ttl), _) => self.acquire(key, *ttl).await,
            ("read-revision", _, _) => self.read_revision(key).await,
            ("txn", Value::List(mops), _) => self.append_txn(mops).await,
            ("watch", _, Some([Value::Int(from), Value::Int(ms)])) => {
                self.watch(key, *from, Duration::from_millis((*ms).max(0) as u64))
                    .await
            }
            ("release", _, Some([Value::Str(lock_key), Value::Int(lease)])) => {
                self.release(lock_key, *lease).await
            }
            // The set written back whole, unguarded, as a client holding a lock would.
            ("add", _, Some([_, set @ Value::List(_)])) => {
                let c = self.write(key, set).await;
                Completion {
                    value: value.clone(),
                    ..c
                }
            }
            // Fenced: applied only while the lock's key still exists.
            ("add", _, Some([_, set @ Value::List(_), Value::Str(lock_key)])) => {
                self.fenced_put(key, set, lock_key, value).await
            }
            _ => Completion::fail(value.clone(), format!("the etcd client has no op {f:?}")),
        }
    }

    async fn leader_view(&self) -> Option<(String, String)> {
        // A quick look of its own, so a partitioned member cannot hold up the nemesis.
        let quick = EtcdClient::new(self.base.clone(), Duration::from_millis(500), false).ok()?;
        quick.status().await.ok()
    }
}

pub enum Failure {
    /// The request never left: certainly did not take effect.
    NotSent(String),
    /// The lease named does not exist: refused before anything was applied.
    LeaseNotFound,
    Unknown(String),
}

impl Failure {
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::NotSent(m) => format!("not sent: {m}"),
            Failure::LeaseNotFound => "requested lease not found".into(),
            Failure::Unknown(m) => m.clone(),
        }
    }

    pub(crate) fn completion(self, value: Value) -> Completion {
        match self {
            Failure::NotSent(_) | Failure::LeaseNotFound => Completion::fail(value, self.message()),
            Failure::Unknown(m) => Completion::info(value, m),
        }
    }
}

/// Renew `lease` every third of its TTL until stopped or gone, noting each acknowledged renewal.
async fn keep_alive(
    client: EtcdClient,
    lease: i64,
    ttl: i64,
    renewed: Arc<std::sync::Mutex<Instant>>,
) {
    let every = Duration::from_millis((ttl.max(1) as u64 * 1000) / 3);
    loop {
        tokio::time::sleep(every).await;
        let sent = Instant::now();
        // Each renewal gets one period: a hung one must not hold up the next, as a real
        // client's stream keeps sending.
        match tokio::time::timeout(every, client.keepalive(lease))
            .await
            .unwrap_or_else(|_| Err(Failure::Unknown("timeout".into())))
        {
            Ok(t) if t > 0 => *renewed.lock().unwrap_or_else(|e| e.into_inner()) = sent,
            Ok(_) => return,
            Err(_) => {}
        }
    }
}

/// One message of a watch stream: its events appended, the header revision noted; `Some(why)`
/// when the stream says it is over (canceled, compacted).
fn watch_message(
    line: &[u8],
    events: &mut Vec<Value>,
    header: &mut i64,
) -> Result<Option<String>, ClientError> {
    let text = String::from_utf8_lossy(line);
    if text.trim().is_empty() {
        return Ok(None);
    }
    let msg: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
    if let Some(err) = msg.get("error") {
        return Ok(Some(format!("error: {err}")));
    }
    let result = msg.get("result").ok_or("no result")?;
    if let Some(rev) = result.get("header").and_then(|h| int_field(h, "revision")) {
        *header = (*header).max(rev);
    }
    for e in result
        .get("events")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
    {
        let kv = &e["kv"];
        let rev = int_field(kv, "mod_revision").ok_or("event without mod_revision")?;
        let key = kv["key"]
            .as_str()
            .and_then(|k| B64.decode(k).ok())
            .map(|k| String::from_utf8_lossy(&k).into_owned())
            .ok_or("event without a key")?;
        let delete = e.get("type").and_then(|t| t.as_str()) == Some("DELETE");
        let value = if delete { Value::Nil } else { kv_value(kv)? };
        events.push(Value::List(vec![
            Value::Int(rev),
            Value::Str(key),
            value,
            Value::from(if delete { "delete" } else { "put" }),
        ]));
    }
    if let Some(c) = int_field(result, "compact_revision").filter(|c| *c > 0) {
        return Ok(Some(format!("compacted {c}")));
    }
    if result.get("canceled").and_then(|c| c.as_bool()) == Some(true) {
        let reason = result
            .get("cancel_reason")
            .and_then(|r| r.as_str())
            .unwrap_or("no reason");
        return Ok(Some(format!("canceled: {reason}")));
    }
    Ok(None)
}

/// An int64 field, which the gateway writes as a string.
pub(crate) fn int_field(reply: &serde_json::Value, name: &str) -> Option<i64> {
    match reply.get(name)? {
        serde_json::Value::String(s) => s.parse().ok(),
        n => n.as_i64(),
    }
}

/// Values are stored as their decimal (or string) text; lists as JSON arrays.
fn encode(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::List(_) => serde_json::to_string(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn read_value(reply: &serde_json::Value) -> Result<Value, ClientError> {
    let Some(kvs) = reply.get("kvs").and_then(|k| k.as_array()) else {
        return Ok(Value::Nil);
    };
    match kvs.first() {
        Some(kv) => kv_value(kv),
        None => Ok(Value::Nil),
    }
}

/// A key-value's value as ferret stored it: decimal text, a JSON list, or a string.
pub(crate) fn kv_value(kv: &serde_json::Value) -> Result<Value, ClientError> {
    let raw = kv.get("value").and_then(|v| v.as_str()).unwrap_or("");
    let bytes = B64
        .decode(raw)
        .map_err(|e| format!("value is not base64: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "value is not UTF-8".to_string())?;
    if text.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            return Value::from_json(&v)
                .map_err(|e| format!("value {text:.80} unreadable: {e}").into());
        }
    }
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
