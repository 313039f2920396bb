//! A dynamic value, enough to carry what JSON and EDN histories put in an op's `value`.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::fmt;

/// A value ferret cannot hold as it was written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A number too large for a 64-bit float (an integer of any size is kept exactly).
    #[error("number {0} does not fit a 64-bit float")]
    Float(String),
    /// Nested deeper than a reader may recurse.
    #[error("value is nested more than {0} levels deep")]
    TooDeep(usize),
    /// Not an EDN value: the text, and the reader's reason.
    #[error("{text:?} is not an EDN value ({reason})")]
    NotEdn { text: String, reason: String },
}
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
    pub fn from_json(json: &serde_json::Value) -> Result<Value, ValueError> {
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
                    .collect::<Result<_, ValueError>>()?,
            ),
        })
    }

    fn from_number(n: &serde_json::Number) -> Result<Value, ValueError> {
        if let Some(i) = n.as_i64() {
            return Ok(Value::Int(i));
        }
        Value::from_number_text(n.as_str())
    }

    /// A JSON number from its text: exact integers of any size, else a finite float.
    fn from_number_text(text: &str) -> Result<Value, ValueError> {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        let digits = text.strip_prefix('-').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Value::BigInt(text.to_string()));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::float(f)),
            _ => Err(ValueError::Float(text.to_string())),
        }
    }
}

/// How serde_json (with `arbitrary_precision`) hands over a number: a one-entry map under this
/// key, holding the number's text. Covered by `big_json_integers_stay_exact`.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A JSON value read straight into a `Value`, without building a `serde_json::Value` first; what
/// `Serialize` wrote reads back, except that JSON has no sets and only string map keys, so those
/// come back as lists and string keys.
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        // Most numbers in a history are non-negative and small: no text on the way.
        Ok(i64::try_from(u).map_or_else(|_| Value::BigInt(u.to_string()), Value::Int))
    }
    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Value, E> {
        if f.is_finite() {
            Ok(Value::float(f))
        } else {
            Err(E::custom(format!("number {f} does not fit a 64-bit float")))
        }
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if entries.is_empty() && key == NUMBER_TOKEN {
                let text: std::borrow::Cow<'de, str> = map.next_value()?;
                return Value::from_number_text(&text).map_err(serde::de::Error::custom);
            }
            let v = map.next_value()?;
            entries.push((Value::Str(key.into_owned()), v));
        }
        // As `serde_json::Map` (the slow path) keeps them: sorted by key, the last of duplicates.
        entries.reverse();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        Ok(Value::Map(entries))
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
        // A precision shows at most that many items of a collection, for words about calls
        // whose values hold thousands (a set's read).
        fn items(f: &mut fmt::Formatter<'_>, items: &[Value]) -> fmt::Result {
            let shown = f.precision().unwrap_or(usize::MAX).min(items.len());
            for (i, item) in items[..shown].iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{item}")?;
            }
            if shown < items.len() {
                write!(f, " … {} more", items.len() - shown)?;
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
