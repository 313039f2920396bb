//! NATS JetStream key-value: read, write and cas on a replicated bucket, through one node.
//!
//! - read: the bucket's stream is made without direct gets, so a read is a message-get answered
//!   by the stream's leader (not whatever replica the client reaches).
//! - write: a put, acknowledged once the stream's leader has stored it in a quorum.
//! - cas `[from to]`: create when `from` is nil (refused if the key exists); else read the
//!   entry and, if it holds `from`, update it with its revision as the expected last one, so
//!   the update is refused if anything was written in between.
//!
//! Outcomes are said honestly: a refusal by the server (wrong last sequence, no stream to take
//! the message) is `fail`; a publish whose ack did not come in time is `info`, since the message
//! may be stored; the client buffers while disconnected, so even "not connected" is `info` for
//! a write.

use crate::Completion;
use async_nats::jetstream::{self, kv};
use async_trait::async_trait;
use bytes::Bytes;
use ferret_checkers::Value;
use std::time::Duration;
use tokio::sync::OnceCell;

pub struct NatsKvClient {
    url: String,
    bucket: String,
    replicas: usize,
    timeout: Duration,
    store: OnceCell<kv::Store>,
}

/// Whether an error's chain says the server refused the message, so nothing was stored: a
/// wrong expected revision, or no stream taking the subject (the publish had no responders).
fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = err.to_string().to_lowercase();
        if text.contains("wrong last sequence")
            || text.contains("wrong last revision")
            || text.contains("no responders")
            || text.contains("no stream found")
            || text.contains("stream not found")
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// A write's outcome from its error: refused is `fail`, anything else `info`.
fn write_failed(value: Value, e: &(dyn std::error::Error + 'static)) -> Completion {
    if refused(e) {
        Completion::fail(value, chain(e))
    } else {
        Completion::info(value, chain(e))
    }
}

/// Values are stored as their decimal (or string) text.
fn encode(v: &Value) -> Bytes {
    Bytes::from(match v {
        Value::Str(s) => s.clone(),
        other => other.to_string(),
    })
}

fn decode(b: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(b).map_err(|_| "value is not UTF-8".to_string())?;
    Ok(match text.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Str(text.to_string()),
    })
}

impl NatsKvClient {
    /// A client of the node at `url` (`nats://10.0.0.1:4222`), on `bucket` replicated to
    /// `replicas` nodes. Connects at its first op.
    pub fn new(url: String, bucket: String, replicas: usize, timeout: Duration) -> NatsKvClient {
        NatsKvClient {
            url,
            bucket,
            replicas,
            timeout,
            store: OnceCell::new(),
        }
    }

    async fn context(&self) -> Result<jetstream::Context, String> {
        let connect = async_nats::ConnectOptions::new()
            .connection_timeout(self.timeout)
            .request_timeout(Some(self.timeout))
            // This node only: a partition must not be dodged by reconnecting elsewhere.
            .ignore_discovered_servers()
            .connect(self.url.as_str());
        let client = tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| format!("no connection to {} within {:?}", self.url, self.timeout))?
            .map_err(|e| format!("cannot connect to {}: {e}", self.url))?;
        let mut js = jetstream::new(client);
        js.set_timeout(self.timeout);
        Ok(js)
    }

    async fn store(&self) -> Result<&kv::Store, String> {
        self.store
            .get_or_try_init(|| async {
                let js = self.context().await?;
                js.get_key_value(&self.bucket)
                    .await
                    .map_err(|e| format!("no bucket {}: {e}", self.bucket))
            })
            .await
    }

    /// Make the bucket if it is not there (once, before the workload): file storage, one value
    /// per key, `replicas` copies, reads by the stream's leader. The bucket's stream is made as
    /// the KV API would make it, but directly: the crate's bucket creation first reads account
    /// info in a shape nats-server 2.9 does not send.
    async fn make_bucket(&self) -> Result<(), String> {
        use jetstream::stream::{Config, DiscardPolicy, StorageType};
        let js = self.context().await?;
        if js.get_key_value(&self.bucket).await.is_ok() {
            return Ok(());
        }
        let stream = format!("KV_{}", self.bucket);
        js.create_stream(Config {
            name: stream.clone(),
            subjects: vec![format!("$KV.{}.>", self.bucket)],
            max_messages_per_subject: 1,
            discard: DiscardPolicy::New,
            allow_rollup: true,
            deny_delete: true,
            num_replicas: self.replicas,
            storage: StorageType::File,
            // Reads go to the stream's leader, not to any replica.
            allow_direct: false,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("cannot create stream {stream}: {}", chain(&e)))?;
        Ok(())
    }

    async fn read(&self, key: &str) -> Completion {
        let store = match self.store().await {
            Ok(s) => s,
            Err(e) => return Completion::fail(Value::Nil, e),
        };
        match store.entry(key).await {
            Ok(Some(e)) if e.operation == kv::Operation::Put => match decode(&e.value) {
                Ok(v) => Completion::ok(v),
                Err(why) => Completion::fail(Value::Nil, why),
            },
            Ok(_) => Completion::ok(Value::Nil),
            // A read changes nothing: whatever went wrong, it did not happen.
            Err(e) => Completion::fail(Value::Nil, chain(&e)),
        }
    }

    async fn write(&self, key: &str, value: &Value) -> Completion {
        let store = match self.store().await {
            Ok(s) => s,
            // Never connected: nothing was sent.
            Err(e) => return Completion::fail(value.clone(), e),
        };
        match store.put(key, encode(value)).await {
            Ok(_) => Completion::ok(value.clone()),
            Err(e) => write_failed(value.clone(), &e),
        }
    }

    async fn cas(&self, key: &str, from: &Value, to: &Value) -> Completion {
        let value = Value::List(vec![from.clone(), to.clone()]);
        let store = match self.store().await {
            Ok(s) => s,
            Err(e) => return Completion::fail(value, e),
        };
        if from.is_nil() {
            return match store.create(key, encode(to)).await {
                Ok(_) => Completion::ok(value),
                // The key exists: the create compared and failed.
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                    Completion::ok(Value::Bool(false))
                }
                Err(e) => write_failed(value, &e),
            };
        }
        let entry = match store.entry(key).await {
            Ok(e) => e,
            Err(e) => return Completion::fail(value, chain(&e)),
        };
        let current = entry
            .as_ref()
            .filter(|e| e.operation == kv::Operation::Put)
            .map(|e| decode(&e.value));
        match current {
            Some(Ok(v)) if &v == from => {}
            // The key did not hold `from` when read: a cas that compared and failed.
            Some(Ok(_)) | None => return Completion::ok(Value::Bool(false)),
            Some(Err(why)) => return Completion::fail(value, why),
        }
        let revision = entry.map(|e| e.revision).unwrap_or(0);
        match store.update(key, encode(to), revision).await {
            Ok(_) => Completion::ok(value),
            // Written in between: refused, nothing stored.
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                Completion::fail(value, chain(&e))
            }
            Err(e) => write_failed(value, &e),
        }
    }
}

#[async_trait]
impl crate::Client for NatsKvClient {
    async fn invoke(&self, f: &str, key: &str, value: &Value) -> Completion {
        match (f, value.as_list()) {
            ("read", _) => self.read(key).await,
            ("write", _) => self.write(key, value).await,
            ("cas", Some([from, to])) => self.cas(key, from, to).await,
            _ => Completion::fail(value.clone(), format!("the nats-kv client has no op {f:?}")),
        }
    }

    async fn prepare(&self) -> Result<(), String> {
        self.make_bucket().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        for v in [Value::Int(42), Value::Int(-3), Value::Str("x y".into())] {
            assert_eq!(decode(&encode(&v)).unwrap(), v);
        }
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("ack error")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_refusal_anywhere_in_the_chain_is_fail_and_a_timeout_is_info() {
        let refused = Outer(std::io::Error::other("wrong last sequence: 7"));
        let c = write_failed(Value::Int(1), &refused);
        assert_eq!(c.kind, ferret_checkers::EventType::Fail);
        let timed_out = Outer(std::io::Error::other("timed out"));
        let c = write_failed(Value::Int(1), &timed_out);
        assert_eq!(c.kind, ferret_checkers::EventType::Info);
        assert_eq!(c.error.as_deref(), Some("ack error: timed out"));
    }
}
