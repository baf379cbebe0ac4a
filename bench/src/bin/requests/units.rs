//! Item sizes and capacity units, computed from the requests and responses on the wire (moto's
//! `ConsumedCapacity` figures are placeholders).

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use lapor_store::TableSpec;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::capture::Exchange;

/// An item in DynamoDB's JSON wire format (`{"name": {"S": "…"}, …}`).
pub type Item = Map<String, Value>;

/// The table's items by key, as they stand at some moment.
pub type State = HashMap<Key, Item>;

const WRITE_UNIT_BYTES: usize = 1024;
const READ_UNIT_BYTES: usize = 4096;

/// The table's primary key (both parts are strings).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn of(item: &Item) -> Option<Key> {
        let text = |name: &str| item.get(name)?.get("S")?.as_str().map(String::from);
        Some(Key {
            pk: text(TableSpec::PARTITION_KEY)?,
            sk: text(TableSpec::SORT_KEY)?,
        })
    }

    /// The key with tracking codes, hashes and phone-derived keys left out.
    pub fn label(&self) -> String {
        let pk = match self.pk.split_once('#') {
            Some((kind @ ("REPORT" | "IDEMP" | "MARK" | "COUNT"), _)) => format!("{kind}#…"),
            _ => self.pk.clone(),
        };
        let sk = if self.sk.starts_with("EVENT#") {
            "EVENT#…".to_string()
        } else {
            self.sk.clone()
        };
        format!("{pk}/{sk}")
    }
}

/// An item's size in bytes, by the rules of "DynamoDB item sizes and formats" (Amazon DynamoDB
/// Developer Guide, <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>):
/// the sum over its attributes of the UTF-8 length of the name plus the size of the value, where
///
/// - a string (`S`) is its UTF-8 length;
/// - a number (`N`) is about 1 byte per two significant digits plus 1: ⌈digits / 2⌉ + 1, leading
///   and trailing zeroes trimmed (the page calls this approximate);
/// - a binary (`B`) is its raw length (the base64 text decoded);
/// - a Boolean or null is 1;
/// - a list (`L`) or map (`M`) is 3 bytes of overhead plus, for each element, its size plus 1
///   byte ("each List or Map element also requires 1 byte of overhead"); a map element's size
///   includes its name;
/// - a set (`SS`, `NS`, `BS`) is the sum of its elements' sizes.
///
/// The 100 bytes per item the page adds for storage are not part of the size capacity units are
/// computed from.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let strings = || {
        inner
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => s.len(),
        ("N", Value::String(n)) => number_size(n),
        ("B", Value::String(b)) => binary_size(b),
        ("BOOL" | "NULL", _) => 1,
        ("SS", _) => strings().map(str::len).sum(),
        ("NS", _) => strings().map(number_size).sum(),
        ("BS", _) => strings().map(binary_size).sum(),
        ("L", Value::Array(all)) => 3 + all.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        ("M", Value::Object(map)) => {
            3 + map
                .iter()
                .map(|(name, v)| name.len() + value_size(v) + 1)
                .sum::<usize>()
        }
        _ => 0,
    }
}

fn number_size(number: &str) -> usize {
    let mantissa = number.split(['e', 'E']).next().unwrap_or_default();
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

fn binary_size(base64: &str) -> usize {
    base64.trim_end_matches('=').len() * 3 / 4
}

/// Write units for one item of `bytes`: 1 per started KB, at least 1.
fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64
}

/// Read blocks for `bytes`: 1 per started 4 KB, at least 1 (a read of nothing still costs one).
fn read_blocks(bytes: usize) -> f64 {
    bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64
}

fn consistency_factor(request: &Value) -> f64 {
    if request.get("ConsistentRead").and_then(Value::as_bool) == Some(true) {
        1.0
    } else {
        0.5
    }
}

/// The SDK's attribute value in the wire format (for items read outside the capture).
pub fn wire_item(item: &HashMap<String, AttributeValue>) -> Item {
    item.iter()
        .map(|(name, value)| (name.clone(), wire_value(value)))
        .collect()
}

fn wire_value(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": base64(b.as_ref()) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::L(all) => json!({ "L": all.iter().map(wire_value).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": wire_item(map) }),
        AttributeValue::Ss(all) => json!({ "SS": all }),
        AttributeValue::Ns(all) => json!({ "NS": all }),
        AttributeValue::Bs(all) => {
            json!({ "BS": all.iter().map(|b| base64(b.as_ref())).collect::<Vec<_>>() })
        }
        _ => Value::Null,
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every item of the table (a consistent Scan through a client that is not measured).
pub async fn scan_table(client: &Client, table: &str) -> Result<State, String> {
    let mut state = State::new();
    for item in lapor_tests::try_scan_items(client, table).await? {
        let item = wire_item(&item);
        if let Some(key) = Key::of(&item) {
            state.insert(key, item);
        }
    }
    Ok(state)
}

async fn get_item(client: &Client, table: &str, key: &Key) -> Result<Option<Item>, String> {
    let out = client
        .get_item()
        .table_name(table)
        .key(TableSpec::PARTITION_KEY, AttributeValue::S(key.pk.clone()))
        .key(TableSpec::SORT_KEY, AttributeValue::S(key.sk.clone()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| format!("reading {}: {}", key.label(), e.into_service_error()))?;
    Ok(out.item.as_ref().map(wire_item))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Put,
    Update,
    Delete,
    Check,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Put => "Put",
            Kind::Update => "Update",
            Kind::Delete => "Delete",
            Kind::Check => "ConditionCheck",
        }
    }
}

/// One item a request writes (or, for a ConditionCheck, checks).
struct Action {
    kind: Kind,
    key: Key,
    /// The new item of a Put.
    item: Option<Item>,
    transactional: bool,
}

fn action(kind: Kind, body: &Value, transactional: bool) -> Option<Action> {
    let field = if kind == Kind::Put { "Item" } else { "Key" };
    let item = body.get(field)?.as_object()?.clone();
    Some(Action {
        kind,
        key: Key::of(&item)?,
        item: (kind == Kind::Put).then_some(item),
        transactional,
    })
}

fn actions(exchange: &Exchange) -> Vec<Action> {
    let request = &exchange.request;
    match exchange.operation.as_str() {
        "PutItem" => action(Kind::Put, request, false).into_iter().collect(),
        "UpdateItem" => action(Kind::Update, request, false).into_iter().collect(),
        "DeleteItem" => action(Kind::Delete, request, false).into_iter().collect(),
        "BatchWriteItem" => {
            let unprocessed: HashSet<Key> =
                batch_write_entries(&exchange.response, "UnprocessedItems")
                    .map(|a| a.key)
                    .collect();
            batch_write_entries(request, "RequestItems")
                .filter(|a| !unprocessed.contains(&a.key))
                .collect()
        }
        "TransactWriteItems" => request
            .get("TransactItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                [
                    ("Put", Kind::Put),
                    ("Update", Kind::Update),
                    ("Delete", Kind::Delete),
                    ("ConditionCheck", Kind::Check),
                ]
                .into_iter()
                .find_map(|(name, kind)| action(kind, entry.get(name)?, true))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn batch_write_entries<'a>(body: &'a Value, field: &str) -> impl Iterator<Item = Action> + 'a {
    body.get(field)
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|tables| tables.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|entry| {
            entry
                .get("PutRequest")
                .and_then(|put| action(Kind::Put, put, false))
                .or_else(|| {
                    entry
                        .get("DeleteRequest")
                        .and_then(|delete| action(Kind::Delete, delete, false))
                })
        })
}

fn items_in(value: Option<&Value>) -> Vec<&Item> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect()
}

/// What a request read: units, how many items, the largest, and a description.
struct Read {
    units: f64,
    items: usize,
    largest: usize,
    what: String,
}

fn read_of(exchange: &Exchange) -> Option<Read> {
    let request = &exchange.request;
    let response = &exchange.response;
    match exchange.operation.as_str() {
        "GetItem" => {
            let size = response
                .get("Item")
                .and_then(Value::as_object)
                .map_or(0, item_size);
            let factor = consistency_factor(request);
            Some(Read {
                units: read_blocks(size) * factor,
                items: usize::from(size > 0),
                largest: size,
                what: format!(
                    "{} {size} B{}",
                    if factor == 1.0 {
                        "consistent"
                    } else {
                        "eventual"
                    },
                    if size == 0 { " (absent)" } else { "" }
                ),
            })
        }
        "Query" | "Scan" => {
            let items = items_in(response.get("Items"));
            let sizes: Vec<usize> = items.iter().map(|i| item_size(i)).collect();
            let total: usize = sizes.iter().sum();
            let factor = consistency_factor(request);
            Some(Read {
                units: read_blocks(total) * factor,
                items: items.len(),
                largest: sizes.iter().copied().max().unwrap_or(0),
                what: format!(
                    "{} items, {total} B together, {}",
                    items.len(),
                    if factor == 1.0 {
                        "consistent"
                    } else {
                        "eventual"
                    }
                ),
            })
        }
        "BatchGetItem" => {
            let mut read = Read {
                units: 0.0,
                items: 0,
                largest: 0,
                what: String::new(),
            };
            let mut asked = 0;
            for (table, spec) in request
                .get("RequestItems")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let factor = consistency_factor(spec);
                let keys = spec
                    .get("Keys")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let unprocessed = response
                    .pointer(&format!("/UnprocessedKeys/{table}/Keys"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let found = items_in(response.pointer(&format!("/Responses/{table}")));
                // Each key is read as a GetItem would be; a key with no item still costs the minimum.
                let missing = keys.saturating_sub(unprocessed + found.len());
                for item in &found {
                    let size = item_size(item);
                    read.units += read_blocks(size) * factor;
                    read.largest = read.largest.max(size);
                }
                read.units += missing as f64 * factor;
                read.items += found.len();
                asked += keys - unprocessed;
            }
            read.what = format!("{asked} keys, {} found", read.items);
            Some(read)
        }
        "TransactGetItems" => {
            let answers = response
                .get("Responses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut read = Read {
                units: 0.0,
                items: 0,
                largest: 0,
                what: format!("{} keys, transactional", answers.len()),
            };
            for answer in &answers {
                let size = answer
                    .get("Item")
                    .and_then(Value::as_object)
                    .map_or(0, item_size);
                read.units += read_blocks(size) * 2.0;
                read.items += usize::from(size > 0);
                read.largest = read.largest.max(size);
            }
            Some(read)
        }
        _ => None,
    }
}

/// The sparse global secondary indexes that project ALL, and their key attributes.
const INDEXES: [[&str; 2]; 2] = [TableSpec::INBOX_KEYS, TableSpec::DUE_KEYS];
/// The sparse keys-only index: its entry holds the table's and its own keys, nothing else.
const KEYS_ONLY_INDEXES: [[&str; 2]; 1] = [TableSpec::FEED_KEYS];

fn index_key(item: Option<&Item>, keys: [&str; 2]) -> Option<(String, String)> {
    let item = item?;
    let text = |name: &str| item.get(name).map(Value::to_string);
    Some((text(keys[0])?, text(keys[1])?))
}

/// Write units the indexes spend on one item's write: an entry written where the item enters an
/// index or stays in it (with projection ALL any change rewrites the entry), one deleted where it
/// leaves, both where its index key changes. A keys-only entry is written only when it appears,
/// goes or moves (one unit each: it is a few dozen bytes). Index writes are standard writes, even
/// in a transaction.
fn index_write_units(before: Option<&Item>, after: Option<&Item>) -> f64 {
    let size = |item: Option<&Item>| item.map_or(0, item_size);
    let full: f64 = INDEXES
        .iter()
        .map(
            |keys| match (index_key(before, *keys), index_key(after, *keys)) {
                (None, None) => 0.0,
                (None, Some(_)) => write_units(size(after)),
                (Some(_), None) => write_units(size(before)),
                (Some(old), Some(new)) if old == new => write_units(size(after)),
                (Some(_), Some(_)) => write_units(size(before)) + write_units(size(after)),
            },
        )
        .sum();
    let keys_only: f64 = KEYS_ONLY_INDEXES
        .iter()
        .map(
            |keys| match (index_key(before, *keys), index_key(after, *keys)) {
                (None, None) => 0.0,
                (Some(old), Some(new)) if old == new => 0.0,
                (Some(_), Some(_)) => 2.0,
                _ => 1.0,
            },
        )
        .sum();
    full + keys_only
}

/// One request's cost.
#[derive(Debug, Clone, Serialize)]
pub struct RequestCost {
    pub operation: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub items_written: usize,
    pub write_units: f64,
    pub index_write_units: f64,
    pub read_units: f64,
    pub items_read: usize,
    pub largest_item_bytes: usize,
    /// Each item written and what was read, for finding the request that costs.
    pub what: Vec<String>,
}

/// An operation's cost: the sum of its requests'.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cost {
    pub requests: usize,
    pub by_operation: BTreeMap<String, usize>,
    pub items_written: usize,
    pub write_units: f64,
    pub index_write_units: f64,
    pub read_units: f64,
    pub largest_item_bytes: usize,
    pub failed_requests: usize,
    pub detail: Vec<RequestCost>,
}

/// The cost of `exchanges`, which ran in this order on a table that stood as `state` before the
/// first of them. Items an UpdateItem wrote are read back (consistently, unmeasured) once all
/// have run; the state is advanced by each write, so a later write to the same item compares
/// with what the earlier one left.
pub async fn account(
    client: &Client,
    table: &str,
    mut state: State,
    exchanges: &[Exchange],
) -> Result<Cost, String> {
    let mut updated: HashMap<Key, Option<Item>> = HashMap::new();
    for exchange in exchanges {
        for action in actions(exchange) {
            if action.kind == Kind::Update && !updated.contains_key(&action.key) {
                let after = get_item(client, table, &action.key).await?;
                updated.insert(action.key, after);
            }
        }
    }
    let mut cost = Cost::default();
    for exchange in exchanges {
        let ok = exchange.status == 200;
        let mut request = RequestCost {
            operation: exchange.operation.clone(),
            status: exchange.status,
            error: (!ok).then(|| {
                exchange
                    .response
                    .get("__type")
                    .and_then(Value::as_str)
                    .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
                    .unwrap_or_else(|| "no response".into())
            }),
            items_written: 0,
            write_units: 0.0,
            index_write_units: 0.0,
            read_units: 0.0,
            items_read: 0,
            largest_item_bytes: 0,
            what: Vec::new(),
        };
        for action in actions(exchange) {
            let before = state.get(&action.key).cloned();
            let after = match action.kind {
                Kind::Put => action.item.clone(),
                Kind::Update => updated.get(&action.key).cloned().flatten(),
                Kind::Delete => None,
                Kind::Check => before.clone(),
            };
            let (old, new) = (
                before.as_ref().map_or(0, item_size),
                after.as_ref().map_or(0, item_size),
            );
            // A put or update is billed on the larger of the item before and after it; a delete
            // or a condition check on the item as it was.
            let size = match action.kind {
                Kind::Put | Kind::Update => old.max(new),
                Kind::Delete | Kind::Check => old,
            };
            let factor = if action.transactional { 2.0 } else { 1.0 };
            let units = write_units(size) * factor;
            request.write_units += units;
            request.largest_item_bytes = request.largest_item_bytes.max(size);
            let mut what = format!(
                "{} {}: {size} B (before {old}, after {new}) → {units} WRU",
                action.kind.name(),
                action.key.label()
            );
            if ok && action.kind != Kind::Check {
                request.items_written += 1;
                let index_units = index_write_units(before.as_ref(), after.as_ref());
                if index_units > 0.0 {
                    what.push_str(&format!(" + {index_units} GSI WRU"));
                }
                request.index_write_units += index_units;
                match after {
                    Some(item) => state.insert(action.key, item),
                    None => state.remove(&action.key),
                };
            }
            request.what.push(what);
        }
        if let Some(read) = read_of(exchange) {
            request.read_units += read.units;
            request.items_read += read.items;
            request.largest_item_bytes = request.largest_item_bytes.max(read.largest);
            request.what.push(format!(
                "{}{}: {} → {} RRU",
                exchange.operation,
                read_target(&exchange.request),
                read.what,
                read.units
            ));
        }
        cost.requests += 1;
        *cost
            .by_operation
            .entry(exchange.operation.clone())
            .or_default() += 1;
        cost.items_written += request.items_written;
        cost.write_units += request.write_units;
        cost.index_write_units += request.index_write_units;
        cost.read_units += request.read_units;
        cost.largest_item_bytes = cost.largest_item_bytes.max(request.largest_item_bytes);
        cost.failed_requests += usize::from(!ok);
        cost.detail.push(request);
    }
    Ok(cost)
}

/// Where a read looked: the key of a GetItem, the index or partition of a Query.
fn read_target(request: &Value) -> String {
    if let Some(key) = request
        .get("Key")
        .and_then(Value::as_object)
        .and_then(Key::of)
    {
        return format!(" {}", key.label());
    }
    if let Some(index) = request.get("IndexName").and_then(Value::as_str) {
        return format!(" index {index}");
    }
    let partition = request
        .get("ExpressionAttributeValues")
        .and_then(Value::as_object)
        .and_then(|values| values.get(":pk"))
        .and_then(|v| v.get("S"))
        .and_then(Value::as_str)
        .map(|pk| {
            Key {
                pk: pk.to_string(),
                sk: String::new(),
            }
            .label()
            .trim_end_matches('/')
            .to_string()
        });
    partition.map(|p| format!(" {p}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(value: Value) -> Item {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn sizes_follow_the_documented_rules() {
        // "pk" (2) + "REPORT#1" (8); "n" (1) + 12345 (⌈5 / 2⌉ + 1 = 4); "ok" (2) + 1.
        let simple =
            item(json!({"pk": {"S": "REPORT#1"}, "n": {"N": "12345"}, "ok": {"BOOL": true}}));
        assert_eq!(item_size(&simple), 10 + 5 + 3);
        // 1000 and 0.0010 have one significant digit.
        assert_eq!(number_size("1000"), 2);
        assert_eq!(number_size("-0.0010"), 2);
        assert_eq!(number_size("0"), 1);
        // A map: 3 + ("a" 1 + "x" 1 + 1) = 6; a list: 3 + (1 + 1) + (2 + 1) = 8.
        let nested =
            item(json!({"m": {"M": {"a": {"S": "x"}}}, "l": {"L": [{"S": "y"}, {"N": "12"}]}}));
        assert_eq!(item_size(&nested), 1 + 6 + 1 + 8);
        assert_eq!(binary_size("AAA="), 2);
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn units_round_up_with_a_minimum_of_one() {
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_blocks(4097), 2.0);
    }
}
