//! List-append transactions on etcd: each key holds its list as JSON. A transaction reads every
//! key it touches in one `Txn` (one revision), works out its reads and the lists it appends to,
//! then commits with a second `Txn` whose compares hold every key it touched to the mod revision
//! it read: applied whole only if nothing it read has changed since, so it is strictly
//! serializable by construction. A compare that failed applied nothing: a definite `fail`.
//! Read-only transactions are the first `Txn` alone — served from the member's own state,
//! without a quorum, when the client is serializable.

use crate::clients::etcd::{int_field, kv_value, EtcdClient, Failure};
use crate::Completion;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ferret_checkers::Value;
use serde_json::json;

/// A micro-op as the workload sends it: `[append k v]` or `[r k nil]`.
fn parse(m: &Value) -> Option<(bool, &str, &Value)> {
    match m.as_list()? {
        [f, Value::Str(k), v] => match f.as_str()? {
            "append" => Some((true, k, v)),
            "r" => Some((false, k, v)),
            _ => None,
        },
        _ => None,
    }
}

impl EtcdClient {
    /// Run a list-append transaction; the completion's value is the micro-ops with each read's
    /// list filled in.
    pub async fn append_txn(&self, mops: &[Value]) -> Completion {
        let request = Value::List(mops.to_vec());
        let Some(ops) = mops.iter().map(parse).collect::<Option<Vec<_>>>() else {
            return Completion::fail(request, "micro-ops must be [append k v] or [r k nil]");
        };
        let mut keys: Vec<&str> = ops.iter().map(|o| o.1).collect();
        keys.sort_unstable();
        keys.dedup();
        let read_only = ops.iter().all(|o| !o.0);
        let ranges: Vec<serde_json::Value> = keys
            .iter()
            .map(|k| {
                let mut r = json!({ "key": B64.encode(k) });
                if read_only && self.serializable() {
                    r["serializable"] = json!(true);
                }
                json!({ "request_range": r })
            })
            .collect();
        // Reads change nothing: however the first Txn failed, nothing took effect.
        let reply = match self
            .post("/v3/kv/txn", json!({ "compare": [], "success": ranges }))
            .await
        {
            Ok(r) => r,
            Err(f) => return Completion::fail(request, f.message()),
        };
        let mut lists: Vec<(Vec<Value>, i64)> = Vec::with_capacity(keys.len());
        let responses = reply
            .get("responses")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default();
        if responses.len() != keys.len() {
            return Completion::fail(
                request,
                format!(
                    "the read Txn answered {} ranges for {} keys",
                    responses.len(),
                    keys.len()
                ),
            );
        }
        for r in &responses {
            let range = &r["response_range"];
            let (list, rev) = match range
                .get("kvs")
                .and_then(|k| k.as_array())
                .and_then(|k| k.first())
            {
                None => (Vec::new(), 0),
                Some(kv) => match kv_value(kv) {
                    Ok(Value::List(l)) => (l, int_field(kv, "mod_revision").unwrap_or(0)),
                    Ok(other) => {
                        return Completion::fail(
                            request,
                            format!("a key holds {other}, not a list"),
                        )
                    }
                    Err(e) => return Completion::fail(request, e.to_string()),
                },
            };
            lists.push((list, rev));
        }
        let index = |k: &str| keys.iter().position(|x| *x == k).expect("a key of the txn");
        // Work out the reads and the new lists, in micro-op order.
        let mut local: Vec<Vec<Value>> = lists.iter().map(|l| l.0.clone()).collect();
        let mut written = vec![false; keys.len()];
        let mut done = Vec::with_capacity(ops.len());
        for (append, k, v) in &ops {
            let i = index(k);
            if *append {
                local[i].push((*v).clone());
                written[i] = true;
                done.push(Value::List(vec![
                    Value::from("append"),
                    Value::from(*k),
                    (*v).clone(),
                ]));
            } else {
                done.push(Value::List(vec![
                    Value::from("r"),
                    Value::from(*k),
                    Value::List(local[i].clone()),
                ]));
            }
        }
        if read_only {
            return Completion::ok(Value::List(done));
        }
        let compare: Vec<serde_json::Value> = keys
            .iter()
            .zip(&lists)
            .map(|(k, (_, rev))| {
                json!({ "key": B64.encode(k), "target": "MOD", "result": "EQUAL",
                        "mod_revision": rev.to_string() })
            })
            .collect();
        let puts: Vec<serde_json::Value> = keys
            .iter()
            .zip(&local)
            .zip(&written)
            .filter(|(_, w)| **w)
            .map(|((k, l), _)| {
                let text = serde_json::to_string(&Value::List(l.clone())).unwrap_or_default();
                json!({ "request_put": { "key": B64.encode(k), "value": B64.encode(text) } })
            })
            .collect();
        match self
            .post("/v3/kv/txn", json!({ "compare": compare, "success": puts }))
            .await
        {
            Ok(reply) => match reply.get("succeeded") {
                Some(serde_json::Value::Bool(true)) => Completion::ok(Value::List(done)),
                None | Some(serde_json::Value::Bool(false)) => Completion::fail(
                    request,
                    "a key it read changed before it committed: nothing applied",
                ),
                Some(other) => Completion::info(request, format!("unexpected succeeded: {other}")),
            },
            Err(f @ Failure::NotSent(_)) => f.completion(request),
            Err(f) => Completion::info(request, f.message()),
        }
    }
}
