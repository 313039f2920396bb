//! Workloads: the ops ferret's clients ask a system, and the clients that ask them. Empty until
//! `ferret run` lands (register workload, etcd v3 JSON gateway client).
