//! The one place a client is made from its protocol's name, so the harness names no protocol.

use crate::clients::etcd::EtcdClient;
use crate::clients::http::{HttpClient, HttpSpec};
use crate::clients::nats::NatsKvClient;
use crate::settings::Settings;
use crate::Client;
use std::sync::Arc;
use std::time::Duration;

/// What `client:` in a config says about the clients, for every node alike.
#[derive(Clone)]
pub struct ClientParams {
    /// `etcd`, `nats-kv` or `http`.
    pub protocol: String,
    pub timeout: Duration,
    /// etcd: reads served by the member alone.
    pub serializable: bool,
    /// http: the service's ops, compiled.
    pub http: Option<Arc<HttpSpec>>,
    /// nats-kv: the bucket and its replicas.
    pub bucket: String,
    pub replicas: usize,
}

/// Where one node's client connects.
pub struct Endpoint<'a> {
    pub node: &'a str,
    pub ip: &'a str,
    /// The system's client URL on that node (`db.client_url`).
    pub url: String,
}

/// A client of one node, of the protocol `p` names; the workload's settings may adjust it (the
/// lock workload's wait and verification).
pub fn make(
    p: &ClientParams,
    settings: &dyn Settings,
    at: Endpoint<'_>,
) -> Result<Box<dyn Client>, String> {
    Ok(match (p.protocol.as_str(), &p.http) {
        ("http", Some(spec)) => Box::new(
            HttpClient::new(spec.clone(), at.node, at.ip, p.timeout).map_err(|e| e.to_string())?,
        ),
        ("http", None) => return Err("protocol http needs client.ops".into()),
        ("nats-kv", _) => Box::new(NatsKvClient::new(
            at.url,
            p.bucket.clone(),
            p.replicas,
            p.timeout,
        )),
        ("etcd", _) => Box::new(settings.etcd_client(
            EtcdClient::new(at.url, p.timeout, p.serializable).map_err(|e| e.to_string())?,
        )),
        (other, _) => return Err(format!("client.protocol {other:?} is not known")),
    })
}
