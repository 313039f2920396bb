//! The clients ferret speaks with, one file each, behind [`crate::Client`].

pub mod error;
pub mod etcd;
pub mod etcd_txn;
pub mod factory;
pub mod http;
pub mod nats;
