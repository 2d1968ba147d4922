//! Value encodings. Every stored value starts with one format byte saying how the rest is
//! encoded, so a later orderdeck can change an encoding record by record and an older one
//! refuses a value it cannot read instead of misreading it:
//!
//! - `FORMAT_JSON` (1): serde_json of a domain or store type. Primary records and `meta`.
//! - `FORMAT_INDEX` (2): an index entry. Most carry nothing else; `idx_views` and
//!   `idx_order_sort` entries carry what the read side filters on without decoding the order
//!   (paid-or-created time and link), and
//!   `idx_view_counts` values a u64 (big-endian).
//! - `FORMAT_BLOCK` (3): a block of index entries, packed (`blocks.rs`): the trees an order
//!   has many entries in keep them 64 to 128 to a value.
//! - `FORMAT_JSON_PACKED` (4): what `FORMAT_JSON` holds, packed: records whose JSON is
//!   [`PACK_FROM`] bytes or more (an order's is ~1.9 KB, and packs to about half).
//!
//! Packed: the length unpacked (u32 BE), then the bytes compressed in LZ4's block format.
//!
//! Decoding never panics on disk data: failures name the tree and key at fault.

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::keys;
use crate::domain::clock::Timestamp;

pub const FORMAT_JSON: u8 = 1;
pub const FORMAT_INDEX: u8 = 2;
pub const FORMAT_BLOCK: u8 = 3;
pub const FORMAT_JSON_PACKED: u8 = 4;

/// The shortest JSON written packed: below it LZ4's tokens and the length cost about what
/// packing saves.
pub const PACK_FROM: usize = 256;

/// serde_json of `value`: `FORMAT_JSON` and the JSON, or `FORMAT_JSON_PACKED` and the JSON
/// packed when it is [`PACK_FROM`] bytes or more.
pub fn encode<T: Serialize>(
    tree: &'static str,
    key: &[u8],
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_JSON];
    serde_json::to_writer(&mut out, value).map_err(|source| StoreError::Encode {
        tree,
        key: keys::show(key),
        source,
    })?;
    if out.len() - 1 < PACK_FROM {
        return Ok(out);
    }
    let mut packed = vec![FORMAT_JSON_PACKED];
    pack_into(tree, key, &out[1..], &mut packed)?;
    Ok(packed)
}

/// Decodes a JSON value stored under `tree`/`key` (packed or not).
pub fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(&json_of(tree, key, bytes)?).map_err(|source| StoreError::Decode {
        tree,
        key: keys::show(key),
        source,
    })
}

/// The JSON of a value stored under `tree`/`key`: as stored, or unpacked.
pub fn json_of<'a>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
) -> Result<Cow<'a, [u8]>, StoreError> {
    if bytes.first() == Some(&FORMAT_JSON_PACKED) {
        let mut json = Vec::new();
        unpack_into(tree, key, &bytes[1..], &mut json)?;
        return Ok(Cow::Owned(json));
    }
    body(tree, key, bytes, FORMAT_JSON).map(Cow::Borrowed)
}

/// Appends `bytes` packed to `out` (see the module's doc).
pub fn pack_into(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let len = u32::try_from(bytes.len()).map_err(|_| corrupt(tree, key, "too long to store"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&lz4_flex::block::compress(bytes));
    Ok(())
}

/// LZ4 writes at most this many bytes for each byte it reads: a stored length beyond it is
/// damage, refused before memory is set aside for it.
const MOST_UNPACKED_PER_BYTE: usize = 255;

/// Unpacks `packed` (what [`pack_into`] appended) into `out`, its memory reused.
pub fn unpack_into(
    tree: &'static str,
    key: &[u8],
    packed: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let bad = |what: &str| corrupt(tree, key, what);
    let (len, packed) = packed
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("packed bytes whose length is cut short"))?;
    let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
    if len > packed.len().saturating_mul(MOST_UNPACKED_PER_BYTE) {
        return Err(bad(
            "packed bytes whose length is more than they can unpack to",
        ));
    }
    out.clear();
    out.resize(len, 0);
    match lz4_flex::block::decompress_into(packed, out) {
        Ok(unpacked) if unpacked == len => Ok(()),
        Ok(_) => Err(bad("packed bytes that unpack shorter than their length")),
        Err(e) => Err(bad(&format!("packed bytes that do not unpack: {e}"))),
    }
}

/// Checks the format byte and returns what follows it.
pub fn body<'a>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
    expected: u8,
) -> Result<&'a [u8], StoreError> {
    match bytes.split_first() {
        Some((format, rest)) if *format == expected => Ok(rest),
        Some((format, _)) => Err(corrupt(
            tree,
            key,
            match *format {
                FORMAT_JSON | FORMAT_INDEX | FORMAT_BLOCK | FORMAT_JSON_PACKED => {
                    format!("format byte {format}, expected {expected} in this tree")
                }
                _ => format!("unknown format byte {format} (written by a newer orderdeck?)"),
            },
        )),
        None => Err(corrupt(tree, key, "empty value (no format byte)")),
    }
}

pub fn corrupt(tree: &'static str, key: &[u8], what: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        tree,
        key: keys::show(key),
        what: what.into(),
    }
}

/// The value of an index entry with no payload.
pub fn index_marker() -> Vec<u8> {
    vec![FORMAT_INDEX]
}

/// The value of an `idx_views` or `idx_order_sort` entry: `FORMAT_INDEX | paid-or-created
/// secs (i64 BE) | nanos (u32 BE) | link name`. The exact instant lets the missing-tracking filter give the same
/// answer as `triage::is_visible` on the decoded order; the link picks the settings to apply
/// in global scans, whose keys do not name the link.
pub fn view_value(paid_or_created: Timestamp, link: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + link.len());
    out.push(FORMAT_INDEX);
    out.extend_from_slice(&paid_or_created.timestamp().to_be_bytes());
    out.extend_from_slice(&paid_or_created.timestamp_subsec_nanos().to_be_bytes());
    out.extend_from_slice(link.as_bytes());
    out
}

/// Reads an `idx_views` or `idx_order_sort` value back: (paid-or-created, link name bytes).
pub fn parse_view_value<'a>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
) -> Result<(Timestamp, &'a [u8]), StoreError> {
    let body = body(tree, key, bytes, FORMAT_INDEX)?;
    let short = || {
        corrupt(
            tree,
            key,
            format!("index value of {} bytes is too short", bytes.len()),
        )
    };
    let secs = body
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_be_bytes)
        .ok_or_else(short)?;
    let nanos = body
        .get(8..12)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(short)?;
    let at = chrono::DateTime::from_timestamp(secs, nanos)
        .ok_or_else(|| corrupt(tree, key, format!("time {secs}s {nanos}ns is out of range")))?;
    Ok((at, &body[12..]))
}

/// The value of an `idx_view_counts` entry.
pub fn count_value(count: u64) -> Vec<u8> {
    count_bytes(count).to_vec()
}

/// The bytes of a count's value ([`count_value`]).
pub const COUNT_LEN: usize = 9;

/// [`count_value`] without allocating.
pub fn count_bytes(count: u64) -> [u8; COUNT_LEN] {
    let mut out = [FORMAT_INDEX; COUNT_LEN];
    out[1..].copy_from_slice(&count.to_be_bytes());
    out
}

pub fn parse_count(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let body = body(tree, key, bytes, FORMAT_INDEX)?;
    body.try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| corrupt(tree, key, format!("a count is 8 bytes, not {}", body.len())))
}

/// An `idx_order_text` entry's value: the order's text and where the order sits in the Orders
/// view (its places in the lists that compare times, and its link), so that a filter's
/// candidates sort into those lists without being decoded or the lists read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderText<'a> {
    pub places: OrderPlaces,
    pub link: &'a [u8],
    /// `listing::search_text`, UTF-8.
    pub text: &'a [u8],
}

/// Where an order sits in the Orders view (`OrderView::All`): in its own order, and by the
/// columns of times other than creation (whose time is the first, negated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderPlaces {
    /// The order's `views_of` sort key there: its creation, negated (newest first).
    pub sort: i64,
    /// Its `sort_value` by ship-by.
    pub ship_by: i64,
    /// Its `sort_value` by payment.
    pub paid: i64,
}

/// The value of an `idx_order_text` entry: `FORMAT_INDEX | sort | ship_by | paid (8 bytes
/// each, i64 big-endian) | link length (1 byte) | link | text`.
pub fn text_value(text: &OrderText<'_>) -> Vec<u8> {
    // A link name is at most 64 bytes (`LinkId`), so the cut never happens.
    let len = u8::try_from(text.link.len()).unwrap_or(u8::MAX);
    let mut out = Vec::with_capacity(26 + usize::from(len) + text.text.len());
    out.push(FORMAT_INDEX);
    let OrderPlaces {
        sort,
        ship_by,
        paid,
    } = text.places;
    for time in [sort, ship_by, paid] {
        out.extend_from_slice(&time.to_be_bytes());
    }
    out.push(len);
    out.extend_from_slice(&text.link[..usize::from(len)]);
    out.extend_from_slice(text.text);
    out
}

/// Reads an `idx_order_text` value back, its text unchecked: what a filter reads (the UTF-8
/// check of [`parse_text_value`], the integrity check's, would take a tenth of a pass).
pub fn text_of<'a>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
) -> Result<OrderText<'a>, StoreError> {
    let cut = || corrupt(tree, key, "an order text entry is cut short");
    let mut rest = body(tree, key, bytes, FORMAT_INDEX)?;
    let mut time = || {
        let (time, after) = rest.split_first_chunk::<8>().ok_or_else(cut)?;
        rest = after;
        Ok::<_, StoreError>(i64::from_be_bytes(*time))
    };
    let places = OrderPlaces {
        sort: time()?,
        ship_by: time()?,
        paid: time()?,
    };
    let (len, rest) = rest.split_first().ok_or_else(cut)?;
    let (link, text) = rest.split_at_checked(usize::from(*len)).ok_or_else(cut)?;
    Ok(OrderText { places, link, text })
}

/// Reads an `idx_order_text` value back, checked; its text.
pub fn parse_text_value<'a>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
) -> Result<&'a str, StoreError> {
    std::str::from_utf8(text_of(tree, key, bytes)?.text)
        .map_err(|e| corrupt(tree, key, format!("order text is not UTF-8: {e}")))
}

/// Checks a marker-only index value.
pub fn check_marker(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<(), StoreError> {
    let rest = body(tree, key, bytes, FORMAT_INDEX)?;
    if rest.is_empty() {
        Ok(())
    } else {
        Err(corrupt(
            tree,
            key,
            format!("{} unexpected bytes after the index marker", rest.len()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;
    use crate::domain::rules::fixtures;

    /// An order's JSON is stored packed, a short value as it is, and a record an older
    /// orderdeck wrote unpacked reads the same.
    #[test]
    fn json_values_round_trip_behind_their_format_byte() {
        use crate::domain::order::Order;
        let order = fixtures::paid();
        let json = serde_json::to_vec(&order).unwrap();
        let bytes = encode("orders", b"1", &order).unwrap();
        assert_eq!(bytes[0], FORMAT_JSON_PACKED);
        assert!(
            bytes.len() < json.len(),
            "{} of {}",
            bytes.len(),
            json.len()
        );
        assert_eq!(decode::<Order>("orders", b"1", &bytes).unwrap(), order);
        let unpacked = [&[FORMAT_JSON][..], &json].concat();
        assert_eq!(decode::<Order>("orders", b"1", &unpacked).unwrap(), order);

        let short = encode("meta", b"k", &42u64).unwrap();
        assert_eq!(short, b"\x0142");
        assert_eq!(decode::<u64>("meta", b"k", &short).unwrap(), 42);
    }

    #[test]
    fn a_damaged_packed_record_is_refused_naming_tree_and_key() {
        let bytes = encode("orders", b"42", &fixtures::paid()).unwrap();
        let why = |bytes: &[u8]| {
            let why = decode::<crate::domain::order::Order>("orders", b"42", bytes)
                .unwrap_err()
                .to_string();
            assert!(why.contains("orders") && why.contains("42"), "{why}");
            why
        };
        assert!(why(&bytes[..bytes.len() - 3]).contains("unpack"));
        assert!(why(&bytes[..3]).contains("length is cut short"));
        let mut longer = bytes.clone();
        longer[4] = longer[4].wrapping_add(1);
        assert!(why(&longer).contains("shorter than their length"));
        longer[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(why(&longer).contains("more than they can unpack to"));
    }

    #[test]
    fn decode_errors_name_tree_key_and_cause() {
        let err =
            decode::<crate::domain::order::Order>("orders", b"42", b"\x01{\"id\":").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("orders") && text.contains("42"), "{text}");
        assert!(matches!(err, StoreError::Decode { tree: "orders", .. }));

        let err = decode::<u64>("meta", b"k", b"\x09{}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown format byte 9") && err.contains("meta"),
            "{err}"
        );
        let err = decode::<u64>("meta", b"k", b"").unwrap_err().to_string();
        assert!(err.contains("empty value"), "{err}");
        let err = decode::<u64>("meta", b"k", &index_marker())
            .unwrap_err()
            .to_string();
        assert!(err.contains("format byte 2, expected 1"), "{err}");
    }

    #[test]
    fn view_values_keep_the_exact_instant_and_link() {
        let at = from_unix(1_700_000_000) + chrono::Duration::nanoseconds(123);
        let value = view_value(at, "uk");
        assert_eq!(
            parse_view_value("idx_views", b"k", &value).unwrap(),
            (at, &b"uk"[..])
        );
        let err = parse_view_value("idx_views", b"k", &value[..5])
            .unwrap_err()
            .to_string();
        assert!(err.contains("too short"), "{err}");
    }

    #[test]
    fn counts_round_trip() {
        assert_eq!(
            parse_count("idx_view_counts", b"k", &count_value(70_001)).unwrap(),
            70_001
        );
        assert!(parse_count("idx_view_counts", b"k", &index_marker()).is_err());
    }

    #[test]
    fn markers_carry_nothing() {
        assert!(check_marker("idx_jobs_due", b"k", &index_marker()).is_ok());
        assert!(check_marker("idx_jobs_due", b"k", b"\x02x").is_err());
        assert!(check_marker("idx_jobs_due", b"k", b"\x01").is_err());
    }
}
