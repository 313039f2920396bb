//! Porcupine's string key-value register: get, put, append; a key never written reads "".

use crate::history::{Call, Outcome};
use crate::models::call::SearchCall;
use crate::models::decision::Decision;
use crate::models::kv::decide;
use crate::models::kv::op::StringKvOp;
use crate::models::model::{expect_f, Model, OpError};
use crate::value::Value;

/// Porcupine's string key-value register: get, put, append; a key never written reads "".
#[derive(Clone, Debug, Default)]
pub struct StringKv;

fn string_value(v: &Value, what: &str) -> Result<String, OpError> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Nil => Ok(String::new()),
        other => Err(OpError::Value(format!(
            "{what} value is {}, expected a string",
            other.kind()
        ))),
    }
}

impl Model for StringKv {
    type State = String;
    type Op = StringKvOp;

    fn init(&self) -> String {
        String::new()
    }

    fn op(&self, call: &Call) -> Result<Option<StringKvOp>, OpError> {
        match call.f.as_str() {
            "get" if call.outcome == Outcome::Ok => {
                Ok(Some(StringKvOp::Get(string_value(&call.value, "get")?)))
            }
            "get" => Ok(None),
            "put" => Ok(Some(StringKvOp::Put(string_value(
                &call.invoke_value,
                "put",
            )?))),
            "append" => Ok(Some(StringKvOp::Append(string_value(
                &call.invoke_value,
                "append",
            )?))),
            _ => Err(expect_f(call, &["get", "put", "append"])),
        }
    }

    fn step(&self, s: &String, op: &StringKvOp, next: &mut Vec<String>) {
        match op {
            StringKvOp::Get(v) if v == s => next.push(s.clone()),
            StringKvOp::Get(_) => {}
            StringKvOp::Put(v) => next.push(v.clone()),
            StringKvOp::Append(v) => {
                let mut n = String::with_capacity(s.len() + v.len());
                n.push_str(s);
                n.push_str(v);
                next.push(n);
            }
        }
    }

    fn is_read_only(&self, op: &StringKvOp) -> bool {
        matches!(op, StringKvOp::Get(_))
    }

    /// Appends only extend the string: a get whose string does not start with the state can only
    /// fit after a put.
    fn may_need_rescue(&self, op: &StringKvOp) -> bool {
        matches!(op, StringKvOp::Get(_))
    }

    fn needs_rescue(&self, s: &String, op: &StringKvOp) -> bool {
        matches!(op, StringKvOp::Get(v) if !v.starts_with(s.as_str()))
    }

    fn rescues(&self, writer: &StringKvOp, op: &StringKvOp) -> bool {
        match (writer, op) {
            (StringKvOp::Put(p), StringKvOp::Get(v)) => v.starts_with(p.as_str()),
            (StringKvOp::Get(_), _) => false,
            (StringKvOp::Append(_), StringKvOp::Get(_)) => false,
            _ => true,
        }
    }

    fn decide(&self, calls: &[SearchCall<StringKvOp>]) -> Option<Decision> {
        decide::decide(self, calls)
    }

    /// A relaxed append whose string no kept get contains, or a relaxed put no kept get starts
    /// with, is seen by nothing: after it, until the next put, every state contains (starts with)
    /// its string, so no kept get reads any of them; left out, only those unseen states change.
    fn unneeded_relaxed(
        &self,
        calls: &[SearchCall<StringKvOp>],
        kept: &[bool],
        relaxed: &[bool],
    ) -> Vec<bool> {
        let gets: Vec<&str> = calls
            .iter()
            .zip(kept)
            .filter_map(|(c, &k)| match &c.op {
                StringKvOp::Get(v) if k => Some(v.as_str()),
                _ => None,
            })
            .collect();
        calls
            .iter()
            .zip(relaxed)
            .map(|(c, &r)| {
                r && match &c.op {
                    StringKvOp::Append(a) => !gets.iter().any(|g| g.contains(a.as_str())),
                    StringKvOp::Put(p) => !gets.iter().any(|g| g.starts_with(p.as_str())),
                    StringKvOp::Get(_) => false,
                }
            })
            .collect()
    }

    fn show_state(&self, s: &String) -> Value {
        Value::Str(s.clone())
    }

    fn state_bytes(&self, s: &String) -> usize {
        s.capacity()
    }
}
