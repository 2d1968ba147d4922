//! Pages bounded in bytes as well as in rows, for every list the protocol pages (orders,
//! cancellations, requests, audit, activity): a page stops before its rows would pass
//! [`PAGE_BYTES`], so the answer always fits a message (`wire::MAX_LINE`), and the client goes
//! on from `offset + rows.len()` as it does after any page shorter than `total`. A row larger
//! than [`ROW_BYTES`] (an audit entry written with a huge reason before reasons were bounded)
//! is shortened: its long texts are cut with a note of how much is not shown, then, for audit
//! entries, its target list. So every page holds at least one row while rows remain, and an
//! old oversized entry can no longer hide the rest of the log.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::api::{ActivityItem, CancellationRow, OrderRow, Paged, Response};
use super::wire::MAX_LINE;
use crate::domain::audit::AuditEntry;
use crate::domain::request::ResyncRequest;

/// What a page's rows may take: a message less room for the answer around them.
pub(crate) const PAGE_BYTES: usize = MAX_LINE - 16 * 1024;
/// A row over this is shortened.
pub(crate) const ROW_BYTES: usize = 16 * 1024;
/// Texts are cut to these many characters, shortest last, until the row fits [`ROW_BYTES`].
/// Never below the longest identifier (128), so ids stay whole.
const TEXT_CUTS: [usize; 3] = [2048, 512, 128];
/// Targets an audit entry keeps when cutting texts was not enough.
const KEPT_TARGETS: usize = 50;

/// `response` with its page, if it has one, cut to fit (see the module docs).
pub(crate) fn fit(response: Response) -> Response {
    match response {
        Response::Orders(page) => Response::Orders(fit_page(page)),
        Response::Cancellations(page) => Response::Cancellations(fit_page(page)),
        Response::Requests(page) => Response::Requests(fit_page(page)),
        Response::Audit(page) => Response::Audit(fit_page(page)),
        Response::Activity(page) => Response::Activity(fit_page(page)),
        other => other,
    }
}

/// A row of a paged list.
pub(crate) trait Row: Serialize + DeserializeOwned {
    /// Shortens lists the row holds, after cutting texts was not enough.
    fn cut_lists(&mut self) {}
}

impl Row for OrderRow {}
impl Row for CancellationRow {}
impl Row for ActivityItem {}
// Requests name at most `limits::MAX_TARGETS` orders: their lists are bounded when written.
impl Row for ResyncRequest {}

impl Row for AuditEntry {
    fn cut_lists(&mut self) {
        let more = self.targets.len().saturating_sub(KEPT_TARGETS);
        if more > 0 {
            self.targets.truncate(KEPT_TARGETS);
            self.targets.push(format!("… and {more} more"));
        }
    }
}

pub(crate) fn fit_page<T: Row>(page: Paged<T>) -> Paged<T> {
    let mut used = 0;
    let mut rows = Vec::new();
    for row in page.rows {
        let row = shortened(row);
        // The comma between rows.
        let size = json_len(&row) + 1;
        if !rows.is_empty() && used + size > PAGE_BYTES {
            break;
        }
        used += size;
        rows.push(row);
    }
    Paged {
        total: page.total,
        offset: page.offset,
        rows,
        counting: page.counting,
    }
}

fn shortened<T: Row>(row: T) -> T {
    if json_len(&row) <= ROW_BYTES {
        return row;
    }
    let mut row = row;
    for max in TEXT_CUTS {
        row = cut_texts(row, max);
        if json_len(&row) <= ROW_BYTES {
            return row;
        }
    }
    row.cut_lists();
    row
}

/// `row` with every text longer than `max` characters cut. The row goes through JSON, so the
/// cut works for every row type alike; a row that would not read back is left whole.
fn cut_texts<T: Row>(row: T, max: usize) -> T {
    let Ok(mut value) = serde_json::to_value(&row) else {
        return row;
    };
    cut_strings(&mut value, max);
    serde_json::from_value(value).unwrap_or(row)
}

fn cut_strings(value: &mut Value, max: usize) {
    match value {
        // A character is at least a byte: short texts are passed without counting.
        Value::String(text) if text.len() > max => {
            let n = text.chars().count();
            if n > max {
                let kept: String = text.chars().take(max).collect();
                *text = format!("{kept}… ({} more characters not shown)", n - max);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| cut_strings(v, max)),
        Value::Object(fields) => fields.values_mut().for_each(|v| cut_strings(v, max)),
        _ => {}
    }
}

/// The length of `value` as JSON, as the answer's line will hold it, without building it.
fn json_len<T: Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail; a value that does not serialize has no length to add.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests;
