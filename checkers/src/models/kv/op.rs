//! The ops of Porcupine's string key-value register: get, put, append.

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StringKvOp {
    Get(String),
    Put(String),
    Append(String),
}
