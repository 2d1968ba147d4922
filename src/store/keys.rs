//! Key layouts of every tree, designed for ordered range scans: integers are big-endian, signed
//! sort keys are flipped at the sign bit so byte order equals numeric order, and variable-length
//! names end with a 0x00 separator (link names and order ids never contain it) so one name is
//! never a prefix of another's range.
//!
//! These bytes are on disk: changing a layout or a code below is a schema change and needs a
//! migration step (`migrate.rs`).

use crate::domain::cancellation::CancellationKey;
use crate::domain::cause::StuckCause;
use crate::domain::clock::Timestamp;
use crate::domain::ids::{JobId, LinkId, RequestId, TiktokOrderId};
use crate::domain::order::Flow;
use crate::domain::order_sort::{OrderSort, SortValue};
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

pub fn view_of_code(code: u8) -> Option<OrderView> {
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
    push_scope_name(out, link.map(|l| l.as_str().as_bytes()));
}

/// [`push_scope`] for a link name read from an index value.
fn push_scope_name(out: &mut Vec<u8>, link: Option<&[u8]>) {
    match link {
        None => out.push(GLOBAL),
        Some(name) => {
            out.push(PER_LINK);
            out.extend_from_slice(name);
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

/// The first key after every key starting with `prefix`, or `None` when no key is (an empty
/// prefix or all 0xff): the exclusive end of the prefix's range.
pub fn after_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|b| *b != 0xff)?;
    let mut end = prefix[..=last].to_vec();
    end[last] += 1;
    Some(end)
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

/// Fixed on-disk code of a column (never reorder: keys are stored with it).
fn column_code(column: OrderSort) -> u8 {
    match column {
        OrderSort::Id => 1,
        OrderSort::Link => 2,
        OrderSort::Status => 3,
        OrderSort::Created => 4,
        OrderSort::ShipBy => 5,
        OrderSort::Paid => 6,
        OrderSort::StoreOrder => 7,
        OrderSort::Why => 8,
        OrderSort::StorefrontSide => 9,
        OrderSort::Skus => 10,
        OrderSort::Buyer => 11,
    }
}

/// The first byte of an `idx_order_sort` key: the list's view code (1..=5) in the high
/// nibble, the column's code (1..=11) in the low one.
pub fn sort_code(view: OrderView, column: OrderSort) -> u8 {
    view_code(view) << 4 | column_code(column)
}

pub fn sort_range_of_code(code: u8) -> Option<(OrderView, OrderSort)> {
    let view = view_of_code(code >> 4)?;
    let column = OrderSort::ALL
        .into_iter()
        .find(|c| column_code(*c) == code & 0x0f)?;
    Some((view, column))
}

/// A sorted text keeps at most this many bytes in its key: rows whose texts agree this far
/// sort by creation (newest first), then by id.
pub const SORT_TEXT_BYTES: usize = 64;

/// `sort code | value | created (newest first) | order id`: one list's orders by one column.
/// A time is 8 bytes; a text its
/// first [`SORT_TEXT_BYTES`] bytes (cut at a character) and `SEP`, which sorts below every
/// byte of a sanitized text, so a text sorts before its own continuations, as strings do.
pub fn sort_key(
    (view, column): (OrderView, OrderSort),
    value: &SortValue,
    created: Timestamp,
    order: &TiktokOrderId,
) -> Vec<u8> {
    let mut key = vec![sort_code(view, column)];
    match value {
        SortValue::Time(secs) => key.extend_from_slice(&i64_key(*secs)),
        SortValue::Text(text) => {
            let mut end = text.len().min(SORT_TEXT_BYTES);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            // Sanitized texts hold no NUL; were one there, it must not end the text early.
            key.extend(text.as_bytes()[..end].iter().map(|b| (*b).max(1)));
            key.push(SEP);
        }
    }
    key.extend_from_slice(&i64_key(created.timestamp().saturating_neg()));
    key.extend_from_slice(order.as_str().as_bytes());
    key
}

/// The range of one list by one column.
pub fn sort_prefix(view: OrderView, column: OrderSort) -> [u8; 1] {
    [sort_code(view, column)]
}

/// The order id an `idx_order_sort` key ends with.
pub fn order_of_sort_key(key: &[u8]) -> Option<&[u8]> {
    let (_, column) = sort_range_of_code(*key.first()?)?;
    let rest = &key[1..];
    let after_value = if column.compares_times() {
        rest.get(8..)?
    } else {
        let end = rest.iter().position(|b| *b == SEP)?;
        &rest[end + 1..]
    };
    after_value.get(8..).filter(|id| !id.is_empty())
}

/// First byte of an `idx_rank_counts` list: a view's own range of `idx_views`, or a list by one
/// column in `idx_order_sort`.
const RANK_OF_VIEW: u8 = b'v';
const RANK_OF_SORT: u8 = b's';

/// The `idx_rank_counts` list of a view's own range (`view_prefix` is `view code | scope`).
pub fn rank_list_of_view(view_prefix: &[u8]) -> Vec<u8> {
    [&[RANK_OF_VIEW][..], view_prefix].concat()
}

/// The `idx_rank_counts` list of one list by one column (`sort code`), globally or for one
/// link: `'s' | sort code | scope`.
pub fn rank_list_of_sort(sort_code: u8, link: Option<&[u8]>) -> Vec<u8> {
    let mut key = vec![RANK_OF_SORT, sort_code];
    push_scope_name(&mut key, link);
    key
}

/// `list | level | bucket`: how many entries of `list` have the index-key tail `bucket` at
/// `level` (see `rank.rs`). The children of a bucket are the keys starting with
/// `list | level + 1 | bucket`.
pub fn rank_key(list: &[u8], level: u8, bucket: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(list.len() + 1 + bucket.len());
    key.extend_from_slice(list);
    key.push(level);
    key.extend_from_slice(bucket);
    key
}

/// A parsed `idx_rank_counts` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankKey<'a> {
    /// `'v' | view code | scope` or `'s' | sort code | scope`.
    pub list: &'a [u8],
    pub view: OrderView,
    pub level: u8,
    pub bucket: &'a [u8],
}

pub fn parse_rank_key(key: &[u8]) -> Option<RankKey<'_>> {
    let (tag, rest) = key.split_first()?;
    let (code, rest) = rest.split_first()?;
    let view = match *tag {
        RANK_OF_VIEW => view_of_code(*code)?,
        RANK_OF_SORT => sort_range_of_code(*code)?.0,
        _ => return None,
    };
    let (_, rest) = split_scope(rest)?;
    let (level, bucket) = rest.split_first()?;
    let list = &key[..key.len() - rest.len()];
    (*level >= 1 && !bucket.is_empty()).then_some(RankKey {
        list,
        view,
        level: *level,
        bucket,
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

/// `link | SEP | cause | SEP | order id | SEP | flow`: an `idx_stuck_causes` key, a link's
/// stuck flows grouped by what they wait on. The cause is its JSON, which escapes control
/// characters, so it holds no `SEP`; the flow is its name.
pub fn stuck_cause_key(
    link: &LinkId,
    cause: &StuckCause,
    order: &TiktokOrderId,
    flow: Flow,
) -> Vec<u8> {
    let mut key = link_prefix(link);
    // Strings and unit variants only: serializing cannot fail.
    key.extend(serde_json::to_vec(cause).unwrap_or_default());
    key.push(SEP);
    key.extend_from_slice(order.as_str().as_bytes());
    key.push(SEP);
    key.extend_from_slice(flow.name().as_bytes());
    key
}

/// The order an `idx_stuck_causes` key points at.
pub fn order_of_stuck_cause_key(key: &[u8]) -> Option<&[u8]> {
    let (link_and_cause, order, _) = stuck_cause_parts(key)?;
    let named = link_and_cause.contains(&SEP) && !order.is_empty();
    named.then_some(order)
}

/// `(cause, order id, flow)` of an `idx_stuck_causes` key without its link's prefix.
pub fn stuck_cause_parts(rest: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut parts = rest.rsplitn(3, |b| *b == SEP);
    let flow = parts.next()?;
    let order = parts.next()?;
    Some((parts.next()?, order, flow))
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
    fn sort_keys_order_like_their_values_then_newest_first() {
        let buyer = (OrderView::All, OrderSort::Buyer);
        let key = |text: &str, created: i64, id: &str| {
            sort_key(
                buyer,
                &SortValue::Text(text.into()),
                from_unix(created),
                &order(id),
            )
        };
        assert!(
            key("Ann", 5, "1") < key("Anna", 5, "1"),
            "a prefix sorts first"
        );
        assert!(key("Anna", 5, "1") < key("Bob", 9, "0"));
        assert!(
            key("Ann", 9, "2") < key("Ann", 5, "1"),
            "ties: newest first"
        );
        assert!(key("Ann", 5, "1") < key("Ann", 5, "2"), "then by id");
        assert_eq!(order_of_sort_key(&key("Ann", 5, "77")), Some(&b"77"[..]));
        let long = "é".repeat(100);
        let cut = key(&long, 5, "77");
        assert_eq!(order_of_sort_key(&cut), Some(&b"77"[..]));
        assert!(cut.len() <= 1 + SORT_TEXT_BYTES + 1 + 8 + 2);
        let ship_by = (OrderView::Stuck, OrderSort::ShipBy);
        let time = |secs| sort_key(ship_by, &SortValue::Time(secs), from_unix(0), &order("9"));
        assert!(time(-5) < time(3) && time(3) < time(i64::MAX));
        assert_eq!(order_of_sort_key(&time(3)), Some(&b"9"[..]));
        assert!(time(3).starts_with(&sort_prefix(OrderView::Stuck, OrderSort::ShipBy)));
        assert!(!time(3).starts_with(&sort_prefix(OrderView::All, OrderSort::ShipBy)));
        assert_eq!(order_of_sort_key(&[0xff, 1, 2]), None);
    }

    #[test]
    fn every_list_and_column_has_its_own_code() {
        let mut codes = Vec::new();
        for view in OrderView::ALL {
            for column in OrderSort::ALL {
                let code = sort_code(view, column);
                assert_eq!(sort_range_of_code(code), Some((view, column)));
                codes.push(code);
            }
        }
        let ranges = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ranges);
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
    fn a_prefix_range_ends_before_the_next_prefix() {
        assert_eq!(after_prefix(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(after_prefix(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(after_prefix(b"\xff"), None);
        assert_eq!(after_prefix(b""), None);
    }

    #[test]
    fn rank_keys_name_their_list_level_and_bucket() {
        let uk = LinkId::new("uk").unwrap();
        let view = rank_list_of_view(&view_prefix(OrderView::Stuck, Some(&uk)));
        let key = rank_key(&view, 2, b"\x80\x01");
        let parsed = parse_rank_key(&key).unwrap();
        assert_eq!((parsed.list, parsed.view), (&view[..], OrderView::Stuck));
        assert_eq!((parsed.level, parsed.bucket), (2, &b"\x80\x01"[..]));
        let code = sort_code(OrderView::All, OrderSort::Buyer);
        let sorted = rank_list_of_sort(code, Some(b"uk"));
        assert_eq!(
            parse_rank_key(&rank_key(&sorted, 1, b"An")).unwrap().list,
            sorted
        );
        assert!(parse_rank_key(&rank_key(&sorted, 0, b"An")).is_none());
        assert!(parse_rank_key(&rank_key(&sorted, 1, b"")).is_none());
        assert!(parse_rank_key(b"x\x04\x00\x01a").is_none());
    }

    #[test]
    fn shown_keys_escape_binary() {
        assert_eq!(show(b"uk\x00a\\"), "uk\\x00a\\x5c");
    }
}
