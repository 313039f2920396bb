//! The readers against each other and against the EDN reader, on every format.

use crate::format::builder::Fields;
use crate::format::detect::Format;
use crate::format::edn::{edn_fields, edn_to_value, plain_op, read_edn_str};
use crate::format::jsonl::{read_jsonl, JsonlWriter, JSONL_BATCH};
use crate::format::porcupine::{plain_edn, read_porcupine_etcd};
use crate::format::read::read_calls;
use crate::history::{Event, EventType, Location, Process};
use crate::value::Value;
use std::path::Path;

fn p() -> &'static Path {
    Path::new("t.edn")
}

/// The reader's path for one op form: what the fast path must agree with.
fn slow_op(form: &str) -> Option<Fields> {
    let (e, rest) = clojure_reader::edn::read(form).ok()?;
    if !rest.trim().is_empty() {
        return None;
    }
    edn_fields(&edn_to_value(&e)).ok()
}

#[test]
fn plain_ops_read_as_the_edn_reader_reads_them() {
    use rand::{RngExt, SeedableRng};
    let atoms = [
        "nil",
        "true",
        "false",
        "0",
        "-3",
        "42",
        "9223372036854775807",
        "99999999999999999999",
        "007",
        "1.5",
        "1N",
        ":ok",
        ":jepsen.history/op",
        ":a-b?",
        ":1",
        "sym",
        "\"x y\"",
        "\"caf\u{e9}\"",
        "\"a\\\"b\"",
        "\"\"",
        "#{1 2}",
        "{:a 1}",
        "[1 [2 [3 nil]]]",
        "(:r 1)",
        "[:append 3 [1 2]]",
        "[]",
        "#inst \"2020\"",
        "\\c",
    ];
    let keys = [
        ":process", ":type", ":f", ":key", ":value", ":index", ":time", ":node", ":error",
        ":extra", "\"str\"", "1",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (mut fast, mut total) = (0, 0);
    for _ in 0..20_000 {
        let n = rng.random_range(0..7);
        let mut form = String::from(if rng.random_bool(0.05) { " {" } else { "{" });
        // Mostly distinct keys, as ops have; now and then a repeat or a key that is no keyword.
        let mut order: Vec<&str> = keys[..9].to_vec();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        for (k, &distinct) in order.iter().take(n).enumerate() {
            let key = if rng.random_bool(0.95) {
                distinct
            } else {
                keys[rng.random_range(0..keys.len())]
            };
            let value = if rng.random_bool(0.7) {
                atoms[rng.random_range(0..8)]
            } else {
                atoms[rng.random_range(0..atoms.len())]
            };
            let sep = [", ", " ", ",", "\n  "][rng.random_range(0..4)];
            if k > 0 {
                form.push_str(sep);
            }
            form.push_str(&format!("{key} {value}"));
        }
        form.push('}');
        total += 1;
        if let Some(f) = plain_op(&form) {
            fast += 1;
            assert_eq!(Some(f), slow_op(&form), "{form}");
        }
    }
    // Most of these simple forms must take the fast path, or it proves nothing.
    assert!(
        fast * 4 > total,
        "only {fast} of {total} took the fast path"
    );
    // A whole op as Jepsen writes it.
    let op =
        "{:type :ok, :f :txn, :value [[:append 3 1] [:r 4 [1 2]]], :time 5, :process 0, :index 9}";
    assert!(plain_op(op).is_some());
    assert_eq!(plain_op(op), slow_op(op));
}

#[test]
fn plain_values_read_as_the_edn_reader_reads_them() {
    for text in [
        "nil",
        "0",
        "-7",
        "42",
        "[1 2]",
        "[1, 2]",
        "[nil 3]",
        "[]",
        "[ -1  0 ]",
    ] {
        let want = edn_to_value(&clojure_reader::edn::read_string(text).unwrap());
        assert_eq!(plain_edn(text), Some(want), "{text}");
    }
    // Left to the reader: octal-looking, big, suffixed, nested, keywords.
    for text in [
        "007",
        "1N",
        "99999999999999999999",
        "[[1]]",
        ":ok",
        "1.5",
        "[1 :a]",
    ] {
        assert_eq!(plain_edn(text), None, "{text}");
    }
}

#[test]
fn edn_vector_of_maps_with_records_comments_and_sets() {
    let text = r#"; a Jepsen history
[{:process 0, :type :invoke, :f :read, :value nil, :time 5}
 #jepsen.history.Op{:index 1, :time 7, :type :ok, :process 0, :f :read, :value #{1 2}}
 {:process :nemesis, :type :info, :f :start-partition
  :value [:isolated {"n1" #{"n2"}}]}
]
"#;
    let h = read_edn_str(p(), text).unwrap();
    assert_eq!(h.events.len(), 3);
    assert_eq!(h.events[0].f, "read");
    assert_eq!(h.events[0].time, Some(5));
    assert_eq!(
        h.events[1].value,
        Value::Set(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(h.events[2].process, Process::Nemesis);
    assert_eq!(h.events[2].location.line, 4);
    assert!(h.warnings.is_empty());
}

#[test]
fn edn_one_map_per_line_and_truncated_tail() {
    let text = "{:process 1 :type :invoke :f :write :value 3}\n{:process 1 :type :ok :f :write :value 3}\n{:process 2 :type :inv";
    let h = read_edn_str(p(), text).unwrap();
    assert_eq!(h.events.len(), 2);
    assert_eq!(h.warnings.len(), 1);
    assert_eq!(h.warnings[0].line, 3);
}

#[test]
fn edn_parsed_ahead_in_parallel_reads_as_one_at_a_time() {
    use crate::testing::{round_trips, TextFormat};
    // Thousands of ops: batches parsed in parallel, the next found meanwhile.
    let h = crate::synth::register_history(&crate::synth::SynthOptions {
        calls: 6000,
        keys: 7,
        ..Default::default()
    });
    for format in [TextFormat::EdnLines, TextFormat::EdnVector] {
        round_trips(&h, format).unwrap();
    }
    // Unusual ops deep in a batch — a set value, a record, a comment — read as the
    // one-at-a-time reader reads them; damage deep in a batch is named at its line.
    let mut lines: Vec<String> = (0..5000)
        .map(|i| format!("{{:process {}, :type :invoke, :f :read, :value nil}}\n{{:process {}, :type :ok, :f :read, :value nil}}", i % 9, i % 9))
        .collect();
    lines[1500] = "{:process 3, :type :invoke, :f :add, :value #{1 2}}\n{:process 3, :type :ok, :f :add, :value #{1 2}}".into();
    lines[2500] = "#jepsen.history.Op{:process 4, :type :invoke, :f :read, :value nil} ; a record\n{:process 4, :type :ok, :f :read, :value nil}".into();
    let text = lines.join("\n") + "\n";
    let h = read_edn_str(p(), &text).unwrap();
    assert_eq!(h.events.len(), 10_000);
    assert_eq!(
        h.events[3000].value,
        Value::set(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(h.events[5000].process, Process::Client(4));
    lines[4000] = "{:process 1, :type :invoke, :f :read, :value nil}\n{:process 1 :type}".into();
    let e = read_edn_str(p(), &(lines.join("\n") + "\n")).unwrap_err();
    assert_eq!((e.line, e.column), (8002, 1), "{e}");
}

#[test]
fn edn_error_names_line_and_column() {
    let text = "{:process 1 :type :invoke :f :write :value 3}\n{:process 1 :type :ok :f :write :value 3}}\n{:process 1 :type :ok :f :write :value 3}\n";
    let e = read_edn_str(p(), text).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    let e = read_edn_str(p(), "{:process 1 :f :read}\n").unwrap_err();
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("type"), "{e}");
}

#[test]
fn jsonl_roundtrip_and_truncation() {
    let ev = Event {
        index: 0,
        time: Some(10),
        process: Process::Client(4),
        kind: EventType::Invoke,
        f: "cas".into(),
        key: Some(Value::from("k3")),
        value: Value::List(vec![Value::Int(5), Value::Int(9)]),
        error: None,
        node: None,
        location: Location::default(),
    };
    let mut w = JsonlWriter::new(Vec::new());
    w.write(&ev).unwrap();
    let mut bytes = w.into_inner();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        "{\"index\":0,\"time\":10,\"process\":4,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k3\",\"value\":[5,9]}\n"
    );
    bytes.extend_from_slice(b"{\"index\":1,\"process\":4,\"ty");
    let h = read_jsonl(Path::new("h.jsonl"), &bytes[..]).unwrap();
    assert_eq!(h.events.len(), 1);
    assert_eq!(h.events[0].value, ev.value);
    assert_eq!(h.warnings.len(), 1);
}

#[test]
fn big_json_integers_stay_exact() {
    let text = concat!(
        r#"{"process":0,"type":"invoke","f":"write","value":[100000000000000000000001,-7,1.5,18446744073709551615]}"#,
        "\n",
        r#"{"process":0,"type":"ok","f":"write","value":{"b":1,"a":{"x":null},"b":2}}"#,
        "\n",
    );
    let h = read_jsonl(Path::new("h.jsonl"), text.as_bytes()).unwrap();
    assert_eq!(
        h.events[0].value,
        Value::List(vec![
            Value::BigInt("100000000000000000000001".into()),
            Value::Int(-7),
            Value::float(1.5),
            Value::BigInt("18446744073709551615".into()),
        ])
    );
    // Objects as serde_json keeps them: sorted by key, the last of a repeated key.
    let json: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"x":null},"b":2}"#).unwrap();
    assert_eq!(h.events[1].value, Value::from_json(&json).unwrap());
    let bad = r#"{"process":0,"type":"invoke","f":"write","value":1e400}"#.to_string() + "\n";
    let e = read_jsonl(Path::new("h.jsonl"), bad.as_bytes()).unwrap_err();
    assert!(e.message.contains("64-bit float"), "{e}");
}

#[test]
fn jsonl_bad_middle_line_is_an_error() {
    let text = "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":}\n{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n";
    let e = read_jsonl(Path::new("h.jsonl"), text.as_bytes()).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.column > 0);
}

#[test]
fn jsonl_read_ahead_on_other_threads_reads_as_line_by_line() {
    // Several batches, blank lines among them: every event, in order, with its line.
    let lines = 3 * JSONL_BATCH + 17;
    let mut text = String::new();
    for i in 0..lines {
        let kind = if i % 2 == 0 { "invoke" } else { "ok" };
        text += &format!(
            "{{\"process\":{},\"type\":\"{kind}\",\"f\":\"write\",\"value\":{i}}}\n",
            i / 2 % 7
        );
        if i % 1000 == 999 {
            text += "\n";
        }
    }
    let h = read_jsonl(Path::new("h.jsonl"), text.as_bytes()).unwrap();
    assert_eq!(h.events.len(), lines);
    let last = h.events.last().unwrap();
    assert_eq!(last.value, Value::Int(lines as i64 - 1));
    assert_eq!(last.location.line, (lines + lines / 1000) as u64);
    let paired = {
        let tmp = std::env::temp_dir().join(format!("ferret-batches-{}.jsonl", std::process::id()));
        std::fs::write(&tmp, &text).unwrap();
        let p = read_calls(&tmp, None);
        std::fs::remove_file(&tmp).unwrap();
        p.unwrap()
    };
    assert_eq!(paired.calls.len(), lines.div_ceil(2));
    assert!(paired
        .calls
        .iter()
        .enumerate()
        .all(|(i, c)| c.invoke_value == Value::Int(2 * i as i64)));
    // A bad line in a later batch is the error, named by its line; a truncated last line
    // there is a warning, with every line before it read.
    let mut bad: Vec<&str> = text.lines().collect();
    let at = 2 * JSONL_BATCH + 5;
    bad[at] = "{\"process\":1,\"type\":";
    let e = read_jsonl(Path::new("h.jsonl"), (bad.join("\n") + "\n").as_bytes()).unwrap_err();
    assert_eq!(e.line, at as u64 + 1);
    let cut = &text[..text.len() - 5];
    let h = read_jsonl(Path::new("h.jsonl"), cut.as_bytes()).unwrap();
    assert_eq!(h.events.len(), lines - 1);
    assert_eq!(h.warnings.len(), 1);
    assert!(
        h.warnings[0].message.contains("truncated"),
        "{:?}",
        h.warnings
    );
}

#[test]
fn porcupine_etcd_lines() {
    let text = "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\nINFO  jepsen.core - nemesis started\nINFO  jepsen.util - 2  :info  :cas  :timed-out\nINFO  jepsen.util - :nemesis\t:info\t:start\tnil\n";
    let h = read_porcupine_etcd(Path::new("e.log"), text.as_bytes()).unwrap();
    assert_eq!(h.events.len(), 2);
    assert_eq!(h.events[0].value, Value::List(vec![3.into(), 0.into()]));
    assert_eq!(h.events[1].kind, EventType::Info);
    assert_eq!(h.events[1].value, Value::from("timed-out"));
}

#[test]
fn detects_formats() {
    assert_eq!(Format::detect(b"{\"process\":1}"), Some(Format::Jsonl));
    assert_eq!(Format::detect(b"; c\n[{:process 1}]"), Some(Format::Edn));
    assert_eq!(
        Format::detect(b"{:process 9, :type :invoke, :f :append, :key \"0\", :value \"x\"}"),
        Some(Format::PorcupineKv)
    );
    assert_eq!(
        Format::detect(b"INFO  jepsen.util - 0\t:invoke\t:read\tnil"),
        Some(Format::PorcupineEtcd)
    );
    assert_eq!(Format::detect(b"hello"), None);
    // A real jepsen.log starts with other loggers' lines; the first op line decides.
    assert_eq!(
        Format::detect(
            b"INFO  jepsen.core - nemesis :start\nWARN  jepsen.os - x\n\
              INFO  jepsen.util - 0\t:invoke\t:read\tnil"
        ),
        Some(Format::PorcupineEtcd)
    );
    assert_eq!(
        Format::detect(b"INFO  jepsen.core - nemesis :start\n"),
        None
    );
    assert_eq!(Format::detect(b"INFORMATION\n"), None);
}
