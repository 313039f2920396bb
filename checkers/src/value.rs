//! A dynamic value, enough to carry what JSON and EDN histories put in an op's `value`.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::fmt;

/// A value from a history. EDN keywords become strings (`:read` is `"read"`): histories use them as
/// names, and JSON has no keywords to tell them apart from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    /// An integer beyond 64 bits, as its decimal digits (with `-` if negative): compared exactly,
    /// never rounded to a float. Never holds a number that fits `Int`.
    BigInt(String),
    /// Stored as bits so values can be hashed and compared; histories rarely carry floats.
    Float(u64),
    Str(String),
    List(Vec<Value>),
    /// Kept sorted and without duplicates, so equal sets compare equal.
    Set(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl Value {
    pub fn float(f: f64) -> Value {
        Value::Float(f.to_bits())
    }

    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items)
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// An integer, or the decimal text of one (etcd and foreign histories write int64 as text).
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a list or vector.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The items of a list, vector or set.
    pub fn as_items(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    /// The value under `key` in a map whose keys are strings (or were keywords).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::BigInt(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Set(_) => "a set",
            Value::Map(_) => "a map",
        }
    }

    /// Rough heap footprint, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) | Value::BigInt(s) => s.capacity(),
            Value::List(v) | Value::Set(v) => {
                v.capacity() * std::mem::size_of::<Value>()
                    + v.iter().map(Value::heap_bytes).sum::<usize>()
            }
            Value::Map(v) => {
                v.capacity() * std::mem::size_of::<(Value, Value)>()
                    + v.iter()
                        .map(|(k, x)| k.heap_bytes() + x.heap_bytes())
                        .sum::<usize>()
            }
            _ => 0,
        }
    }

    /// A JSON value, numbers exactly: an integer of any size stays an integer; a float that does
    /// not fit 64 bits is an error, never infinity.
    pub fn from_json(json: &serde_json::Value) -> Result<Value, String> {
        Ok(match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::from_number(n)?,
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) => Value::List(
                items
                    .iter()
                    .map(Value::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| Ok((Value::Str(k.clone()), Value::from_json(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    fn from_number(n: &serde_json::Number) -> Result<Value, String> {
        if let Some(i) = n.as_i64() {
            return Ok(Value::Int(i));
        }
        // serde_json keeps the number's text (arbitrary_precision), so nothing was rounded yet.
        let text = n.as_str();
        let digits = text.strip_prefix('-').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Value::BigInt(text.to_string()));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::float(f)),
            _ => Err(format!("number {text} does not fit a 64-bit float")),
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => ser.serialize_unit(),
            Value::Bool(b) => ser.serialize_bool(*b),
            Value::Int(i) => ser.serialize_i64(*i),
            Value::BigInt(digits) => match digits.parse::<serde_json::Number>() {
                Ok(n) => n.serialize(ser),
                Err(_) => ser.serialize_str(digits),
            },
            Value::Float(bits) => ser.serialize_f64(f64::from_bits(*bits)),
            Value::Str(s) => ser.serialize_str(s),
            Value::List(items) | Value::Set(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = ser.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    match k {
                        Value::Str(s) => map.serialize_entry(s, v)?,
                        other => map.serialize_entry(&other.to_string(), v)?,
                    }
                }
                map.end()
            }
        }
    }
}

/// EDN-like rendering, for explanations a person reads.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn items(f: &mut fmt::Formatter<'_>, items: &[Value]) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        }
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::BigInt(digits) => f.write_str(digits),
            Value::Float(bits) => write!(f, "{}", f64::from_bits(*bits)),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(v) => {
                f.write_str("[")?;
                items(f, v)?;
                f.write_str("]")
            }
            Value::Set(v) => {
                f.write_str("#{")?;
                items(f, v)?;
                f.write_str("}")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}
