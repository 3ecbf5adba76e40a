//! A table's items read back from moto and normalised for comparison between two runs that
//! should agree: what differs between correct deliveries by nature (versions, processing times,
//! claim tokens) is left out.
#![allow(dead_code)]

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Attributes that differ between two correct deliveries: versions count writes, the rest are
/// processing times and claim tokens. `sent_at` is kept as whether the alert is marked sent.
pub const VOLATILE: &[&str] = &[
    "version",
    "expires_at",
    "holder",
    "claimed_until",
    "processed_at",
    "found_at",
    "transcript_failed_at",
    "at",
];

pub fn plain(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!(s),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!(b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(list) => Value::Array(list.iter().map(plain).collect()),
        AttributeValue::M(map) => plain_map(map),
        AttributeValue::Ss(set) => json!(set.iter().collect::<BTreeSet<_>>()),
        AttributeValue::Ns(set) => json!(set.iter().collect::<BTreeSet<_>>()),
        other => json!(format!("{other:?}")),
    }
}

pub fn plain_map(map: &HashMap<String, AttributeValue>) -> Value {
    let mut out = serde_json::Map::new();
    for (name, value) in map {
        if name == "sent_at" {
            out.insert("sent".into(), json!(true));
        } else if !VOLATILE.contains(&name.as_str()) {
            out.insert(name.clone(), plain(value));
        }
    }
    Value::Object(out)
}

/// Whether a session item says a transcript batch failed and no later batch succeeded: the
/// reaper then reports the transcript as unprocessable.
pub fn failure_uncured(item: &HashMap<String, AttributeValue>) -> bool {
    let time = |value: Option<&AttributeValue>| match value {
        Some(AttributeValue::S(s)) => Some(s.parse::<jiff::Timestamp>().expect("a timestamp")),
        _ => None,
    };
    let Some(failed) = time(item.get("transcript_failed_at")) else {
        return false;
    };
    let processed = match item.get("transcript") {
        Some(AttributeValue::M(seen)) => time(seen.get("processed_at")),
        _ => None,
    };
    processed.is_none_or(|ok| ok <= failed)
}

/// The table's items by `pk sk`, normalised, and the sessions whose transcript failure is not
/// cured.
pub async fn table_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> (BTreeMap<String, Value>, Vec<String>) {
    let mut items = BTreeMap::new();
    let mut uncured = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan the table on moto");
        for item in page.items.unwrap_or_default() {
            let key = |k: &str| match item.get(k) {
                Some(AttributeValue::S(s)) => s.clone(),
                other => panic!("item key {k}: {other:?}"),
            };
            if failure_uncured(&item) {
                uncured.push(key("pk"));
            }
            items.insert(format!("{} {}", key("pk"), key("sk")), plain_map(&item));
        }
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return (items, uncured),
        }
    }
}
