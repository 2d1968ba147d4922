//! Key layouts of every tree, designed for ordered range scans: integers are big-endian, signed
//! sort keys are flipped at the sign bit so byte order equals numeric order, and variable-length
//! names end with a 0x00 separator (link names and order ids never contain it) so one name is
//! never a prefix of another's range.
//!
//! These bytes are on disk: changing a layout or a code below is a schema change and needs a
//! migration step (`migrate.rs`).

use crate::domain::cancellation::CancellationKey;
use crate::domain::clock::Timestamp;
use crate::domain::ids::{JobId, LinkId, RequestId, TiktokOrderId};
use crate::domain::triage::OrderView;

/// Ends a variable-length name inside a key.
pub const SEP: u8 = 0x00;
/// Scope byte of an index key: every link, or one link (followed by its name and `SEP`).
const GLOBAL: u8 = 0x00;
const PER_LINK: u8 = 0x01;
/// Tags of a cancellation key; Tiktok < Store, as `CancellationKey`'s derived `Ord`.
const TAG_TIKTOK: u8 = 0x01;
pub(super) const TAG_STORE: u8 = 0x02;
const TAG_TIKTOK_ORDER: u8 = 0x03;
pub(super) const TAG_STORE_UNITS: u8 = 0x04;

/// Fixed on-disk code of a view (never reorder: keys are stored with it).
pub fn view_code(view: OrderView) -> u8 {
    match view {
        OrderView::Pending => 1,
        OrderView::MissingTracking => 2,
        OrderView::Stuck => 3,
        OrderView::All => 4,
        OrderView::Parcels => 5,
    }
}

fn view_of_code(code: u8) -> Option<OrderView> {
    OrderView::ALL.into_iter().find(|v| view_code(*v) == code)
}

pub fn u64_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Order-preserving encoding of a signed integer: flipping the sign bit maps i64::MIN..=MAX
/// onto 0..=u64::MAX, so big-endian bytes sort like the numbers.
pub fn i64_key(n: i64) -> [u8; 8] {
    ((n as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn i64_from_key(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

/// Microseconds since the epoch, the resolution of time-ordered keys (audit, due jobs).
pub fn micros(at: Timestamp) -> i64 {
    at.timestamp_micros()
}

fn array8(bytes: &[u8]) -> Option<[u8; 8]> {
    bytes.get(..8)?.try_into().ok()
}

/// Appends the scope of an index key: `GLOBAL`, or `PER_LINK | name | SEP`.
fn push_scope(out: &mut Vec<u8>, link: Option<&LinkId>) {
    match link {
        None => out.push(GLOBAL),
        Some(link) => {
            out.push(PER_LINK);
            out.extend_from_slice(link.as_str().as_bytes());
            out.push(SEP);
        }
    }
}

/// Splits the scope off an index key; returns the link name (if per-link) and the rest.
fn split_scope(key: &[u8]) -> Option<(Option<&[u8]>, &[u8])> {
    match *key.first()? {
        GLOBAL => Some((None, &key[1..])),
        PER_LINK => {
            let rest = &key[1..];
            let end = rest.iter().position(|b| *b == SEP)?;
            Some((Some(&rest[..end]), &rest[end + 1..]))
        }
        _ => None,
    }
}

/// `view code | scope` — the range of one view, globally or for one link.
pub fn view_prefix(view: OrderView, link: Option<&LinkId>) -> Vec<u8> {
    let mut key = vec![view_code(view)];
    push_scope(&mut key, link);
    key
}

/// `view code | scope | sort key | order id`: the order id breaks ties of equal sort keys.
pub fn view_key(
    view: OrderView,
    link: Option<&LinkId>,
    sort: i64,
    order: &TiktokOrderId,
) -> Vec<u8> {
    let mut key = view_prefix(view, link);
    key.extend_from_slice(&i64_key(sort));
    key.extend_from_slice(order.as_str().as_bytes());
    key
}

/// The `view code | scope` prefix an `idx_views` key starts with: the key of its view's count
/// in `idx_view_counts`.
pub fn view_prefix_of(key: &[u8]) -> Option<&[u8]> {
    view_of_code(*key.first()?)?;
    let (_, rest) = split_scope(&key[1..])?;
    Some(&key[..key.len() - rest.len()])
}

/// A parsed `idx_views` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewKey<'a> {
    pub view: OrderView,
    pub link: Option<&'a [u8]>,
    pub sort: i64,
    pub order: &'a [u8],
}

pub fn parse_view_key(key: &[u8]) -> Option<ViewKey<'_>> {
    let view = view_of_code(*key.first()?)?;
    let (link, rest) = split_scope(&key[1..])?;
    let sort = i64_from_key(array8(rest)?);
    let order = &rest[8..];
    (!order.is_empty()).then_some(ViewKey {
        view,
        link,
        sort,
        order,
    })
}

/// The primary key of a cancellation: tag byte, then the id.
pub fn cancellation_key(key: &CancellationKey) -> Vec<u8> {
    let (tag, id) = match key {
        CancellationKey::Tiktok(id) => (TAG_TIKTOK, id.as_str()),
        CancellationKey::Store(id) => (TAG_STORE, id.as_str()),
        CancellationKey::TiktokOrder(id) => (TAG_TIKTOK_ORDER, id.as_str()),
        CancellationKey::StoreUnits(id, left) => {
            let mut out = vec![TAG_STORE_UNITS];
            out.extend_from_slice(id.as_str().as_bytes());
            out.push(b'#');
            out.extend_from_slice(left.to_string().as_bytes());
            return out;
        }
    };
    let mut out = vec![tag];
    out.extend_from_slice(id.as_bytes());
    out
}

/// `scope` or `scope | group`: all cancellations, or one group (0 = awaiting the seller).
pub fn cancellation_prefix(link: Option<&LinkId>, group: Option<u8>) -> Vec<u8> {
    let mut key = Vec::new();
    push_scope(&mut key, link);
    key.extend(group);
    key
}

/// `scope | group | sort | cancellation key`, from `triage::cancellation_sort_key`.
pub fn cancellation_index_key(
    link: Option<&LinkId>,
    (group, sort): (u8, i64),
    cancellation: &CancellationKey,
) -> Vec<u8> {
    let mut key = cancellation_prefix(link, Some(group));
    key.extend_from_slice(&i64_key(sort));
    key.extend_from_slice(&cancellation_key(cancellation));
    key
}

/// The cancellation an `idx_cancellations` key points at (its primary key bytes).
pub fn cancellation_of_index_key(key: &[u8]) -> Option<&[u8]> {
    let (_, rest) = split_scope(key)?;
    rest.get(9..).filter(|k| !k.is_empty())
}

/// `order id | SEP | cancellation key`: the cancellations of one order.
pub fn order_cancellation_key(order: &TiktokOrderId, cancellation: &CancellationKey) -> Vec<u8> {
    let mut key = order_prefix(order);
    key.extend_from_slice(&cancellation_key(cancellation));
    key
}

/// The cancellation an `idx_cancellations_order` key points at.
pub fn cancellation_of_order_key(key: &[u8]) -> Option<&[u8]> {
    let sep = key.iter().position(|b| *b == SEP)?;
    key.get(sep + 1..).filter(|k| !k.is_empty())
}

pub fn job_key(id: JobId) -> [u8; 8] {
    u64_key(id.0)
}

pub fn request_key(id: RequestId) -> [u8; 8] {
    u64_key(id.0)
}

/// `run_after (µs) | job id`: Ready jobs in due order, ties in creation order.
pub fn due_key(run_after: Timestamp, id: JobId) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&i64_key(micros(run_after)));
    key[8..].copy_from_slice(&job_key(id));
    key
}

/// The largest due key at `now`: every job with `run_after <= now` sorts at or before it.
pub fn due_upper_bound(now: Timestamp) -> [u8; 16] {
    let mut key = [0xff; 16];
    key[..8].copy_from_slice(&i64_key(micros(now)));
    key
}

/// `link | SEP | run_after (µs) | job id`: one link's ready jobs in due order.
pub fn link_due_key(link: &LinkId, run_after: Timestamp, id: JobId) -> Vec<u8> {
    let mut key = link_prefix(link);
    key.extend_from_slice(&due_key(run_after, id));
    key
}

/// The largest of `link`'s due keys at `now`.
pub fn link_due_upper_bound(link: &LinkId, now: Timestamp) -> Vec<u8> {
    let mut key = link_prefix(link);
    key.extend_from_slice(&due_upper_bound(now));
    key
}

pub fn link_prefix(link: &LinkId) -> Vec<u8> {
    let mut key = link.as_str().as_bytes().to_vec();
    key.push(SEP);
    key
}

/// The link an `idx_jobs_due_link` key starts with.
pub fn link_of_due_key(key: &[u8]) -> Option<&[u8]> {
    let end = key.iter().position(|b| *b == SEP)?;
    (key.len() == end + 17).then(|| &key[..end])
}

/// `order id | SEP | job id`: the jobs of one order.
pub fn order_job_key(order: &TiktokOrderId, id: JobId) -> Vec<u8> {
    let mut key = order_prefix(order);
    key.extend_from_slice(&job_key(id));
    key
}

pub fn order_prefix(order: &TiktokOrderId) -> Vec<u8> {
    let mut key = order.as_str().as_bytes().to_vec();
    key.push(SEP);
    key
}

/// The job id at the end of a key (`idx_jobs_due`, `idx_jobs_order`, `idx_jobs_running`).
pub fn trailing_u64(key: &[u8]) -> Option<u64> {
    let tail = key.len().checked_sub(8).map(|start| &key[start..])?;
    array8(tail).map(u64::from_be_bytes)
}

/// `time (µs) | sequence`: the sequence keeps insertion order among equal timestamps.
pub fn audit_key(at: Timestamp, seq: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&i64_key(micros(at)));
    key[8..].copy_from_slice(&u64_key(seq));
    key
}

/// The first audit key at or after `since`.
pub fn audit_lower_bound(since: Timestamp) -> [u8; 16] {
    audit_key(since, 0)
}

/// Meta key of a poller's watermark: `watermark/ | link | SEP | stream`.
pub fn watermark_key(link: &LinkId, stream: &str) -> Vec<u8> {
    let mut key = b"watermark/".to_vec();
    key.extend_from_slice(link.as_str().as_bytes());
    key.push(SEP);
    key.extend_from_slice(stream.as_bytes());
    key
}

/// A key as text for error messages: printable ASCII as is, other bytes as `\xNN`.
pub fn show(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key {
        if b.is_ascii_graphic() && *b != b'\\' {
            out.push(*b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;
    use crate::domain::ids::CancelId;

    fn order(id: &str) -> TiktokOrderId {
        TiktokOrderId::new(id).unwrap()
    }

    #[test]
    fn signed_keys_sort_like_numbers() {
        let values = [i64::MIN, -1_700_000_000, -1, 0, 1, 1_700_000_000, i64::MAX];
        for pair in values.windows(2) {
            assert!(i64_key(pair[0]) < i64_key(pair[1]), "{pair:?}");
        }
        for v in values {
            assert_eq!(i64_from_key(i64_key(v)), v);
        }
    }

    #[test]
    fn view_keys_round_trip_and_stay_inside_their_scope() {
        let uk = LinkId::new("uk").unwrap();
        let uk2 = LinkId::new("uk2").unwrap();
        let key = view_key(OrderView::Pending, Some(&uk), -5, &order("42"));
        let parsed = parse_view_key(&key).unwrap();
        assert_eq!(parsed.view, OrderView::Pending);
        assert_eq!(parsed.link, Some(&b"uk"[..]));
        assert_eq!((parsed.sort, parsed.order), (-5, &b"42"[..]));
        assert!(key.starts_with(&view_prefix(OrderView::Pending, Some(&uk))));
        assert!(!key.starts_with(&view_prefix(OrderView::Pending, Some(&uk2))));
        assert!(!key.starts_with(&view_prefix(OrderView::Pending, None)));
        let global = view_key(OrderView::All, None, i64::MAX, &order("7"));
        assert_eq!(parse_view_key(&global).unwrap().link, None);
        assert!(parse_view_key(&[9, 0]).is_none());
        let prefix = view_prefix(OrderView::Pending, Some(&uk));
        assert_eq!(view_prefix_of(&key), Some(&prefix[..]));
        assert_eq!(view_prefix_of(&prefix), Some(&prefix[..]));
        assert_eq!(view_prefix_of(&[4, 7]), None);
    }

    #[test]
    fn cancellation_keys_round_trip_in_domain_order() {
        let tiktok = CancellationKey::Tiktok(CancelId::new("c-9").unwrap());
        let store = CancellationKey::Store(TiktokOrderId::new("576461413038785752").unwrap());
        assert_eq!(cancellation_key(&tiktok), b"\x01c-9");
        assert_eq!(
            tiktok < store,
            cancellation_key(&tiktok) < cancellation_key(&store)
        );
        let uk = LinkId::new("uk").unwrap();
        let index = cancellation_index_key(Some(&uk), (1, -3), &store);
        assert_eq!(
            cancellation_of_index_key(&index),
            Some(&cancellation_key(&store)[..])
        );
    }

    #[test]
    fn due_keys_bound_by_now() {
        let now = from_unix(1_700_000_000);
        let due = due_key(now, JobId(u64::MAX));
        let later = due_key(from_unix(1_700_000_001), JobId(0));
        assert!(due <= due_upper_bound(now) && later > due_upper_bound(now));
        assert_eq!(trailing_u64(&due), Some(u64::MAX));
        assert_eq!(trailing_u64(&order_job_key(&order("1"), JobId(3))), Some(3));
    }

    #[test]
    fn audit_keys_order_by_time_then_sequence() {
        let (a, b) = (from_unix(10), from_unix(11));
        assert!(audit_key(a, 5) < audit_key(a, 6));
        assert!(audit_key(a, 9) < audit_key(b, 1));
        assert!(audit_lower_bound(b) <= audit_key(b, 0));
    }

    #[test]
    fn shown_keys_escape_binary() {
        assert_eq!(show(b"uk\x00a\\"), "uk\\x00a\\x5c");
    }
}
