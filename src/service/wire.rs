//! The daemon's socket protocol: JSON lines. A client sends `{"id": N, "request": {...}}`; the
//! daemon answers `{"id": N, "ok": {...}}` or `{"id": N, "error": {...}}` (possibly out of order)
//! and, after `Subscribe`, pushes `{"event": {...}}` lines. Lines are capped at [`MAX_LINE`]:
//! a longer one is answered with an error and skipped, without hurting the connection.
//!
//! [`LineDecoder`] frames the daemon's input. Unlike `LinesCodec` it never fails on a long line
//! (a decoder error ends a `FramedRead` stream, which would drop the connection), and it drops
//! a last line without its newline: a client that vanished mid-request never finished asking.
//! It never holds more than its cap of a client's bytes, whatever the client sends.
//! [`parse_line`] reads a framed line; what it says about a line it cannot read is short and
//! free of control characters, since it may echo the client's own text.

use bytes::{Buf, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::Decoder;

use super::api::{Notification, Request, Response, ServiceError};
use crate::domain::text::{sanitize, truncate};

/// The largest message either side accepts.
pub const MAX_LINE: usize = 1024 * 1024;

/// The longest explanation [`parse_line`] gives for a line it cannot read.
const MAX_PARSE_ERROR: usize = 300;

#[derive(Debug, Serialize, Deserialize)]
pub struct ClientMessage {
    pub id: u64,
    pub request: Request,
}

/// Why a line is not a request, and the request's id when that much could be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable {
    pub id: Option<u64>,
    pub why: String,
}

/// Enough of a message to answer a request that does not parse with its own id.
#[derive(Deserialize)]
struct IdOnly {
    id: u64,
}

/// Reads one framed line as a request.
pub fn parse_line(line: &[u8]) -> Result<ClientMessage, Unreadable> {
    serde_json::from_slice(line).map_err(|e| Unreadable {
        id: serde_json::from_slice::<IdOnly>(line).ok().map(|m| m.id),
        // serde quotes what it did not expect (an unknown variant...): the client's own text.
        why: truncate(&sanitize(&format!("not a request: {e}")), MAX_PARSE_ERROR),
    })
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerMessage {
    Ok {
        id: u64,
        ok: Response,
    },
    Err {
        id: Option<u64>,
        error: ServiceError,
    },
    Event {
        event: Notification,
    },
}

impl ServerMessage {
    /// The message as one line (with its newline). An answer too large for the client to
    /// accept becomes an error naming the request, so the client is told rather than cut off.
    pub fn to_line(&self) -> String {
        let encoded =
            serde_json::to_string(self).map_err(|e| format!("could not encode the answer: {e}"));
        let mut line = match encoded {
            Ok(line) if line.len() <= MAX_LINE => line,
            Ok(line) => self.error_line(&format!(
                "the answer is {} bytes, more than the {MAX_LINE} a message may hold; ask for a smaller page",
                line.len()
            )),
            Err(why) => self.error_line(&why),
        };
        line.push('\n');
        line
    }

    fn error_line(&self, message: &str) -> String {
        let id = match self {
            ServerMessage::Ok { id, .. } => Some(*id),
            ServerMessage::Err { id, .. } => *id,
            ServerMessage::Event { .. } => None,
        };
        let error = ServerMessage::Err {
            id,
            error: ServiceError::internal(message),
        };
        // A plain error of a short message always encodes.
        serde_json::to_string(&error).unwrap_or_default()
    }
}

/// One framed piece of a client's input.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete line, newline excluded.
    Line(BytesMut),
    /// A line longer than [`MAX_LINE`]; its bytes were discarded up to its newline.
    TooLong,
}

/// Splits input at `\n`, at most `max` bytes per line (see the module docs).
#[derive(Debug)]
pub struct LineDecoder {
    max: usize,
    /// Inside a too-long line: drop bytes until its newline.
    discarding: bool,
    /// Bytes of the buffer already searched for a newline.
    scanned: usize,
}

impl LineDecoder {
    pub fn new(max: usize) -> Self {
        LineDecoder {
            max,
            discarding: false,
            scanned: 0,
        }
    }

    /// Inside a too-long line whose newline has not come yet (its bytes are not kept, so the
    /// read buffer may be empty although a line is unfinished).
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }
}

impl Decoder for LineDecoder {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        loop {
            let newline = buf[self.scanned..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|at| at + self.scanned);
            match (self.discarding, newline) {
                (false, Some(at)) => {
                    self.scanned = 0;
                    let mut line = buf.split_to(at + 1);
                    line.truncate(at);
                    return Ok(Some(if at > self.max {
                        Frame::TooLong
                    } else {
                        Frame::Line(line)
                    }));
                }
                (false, None) if buf.len() > self.max => {
                    buf.clear();
                    self.scanned = 0;
                    self.discarding = true;
                    return Ok(Some(Frame::TooLong));
                }
                (false, None) => {
                    self.scanned = buf.len();
                    return Ok(None);
                }
                (true, Some(at)) => {
                    buf.advance(at + 1);
                    self.scanned = 0;
                    self.discarding = false;
                }
                (true, None) => {
                    buf.clear();
                    self.scanned = 0;
                    return Ok(None);
                }
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, std::io::Error> {
        let frame = self.decode(buf)?;
        if frame.is_none() {
            // An unterminated last line: the client went away before finishing it.
            buf.clear();
            self.scanned = 0;
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(max: usize, chunks: &[&[u8]], eof: bool) -> Vec<Frame> {
        let mut decoder = LineDecoder::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                out.push(frame);
            }
        }
        if eof {
            while let Some(frame) = decoder.decode_eof(&mut buf).unwrap() {
                out.push(frame);
            }
        }
        out
    }

    fn line(text: &str) -> Frame {
        Frame::Line(BytesMut::from(text))
    }

    #[test]
    fn lines_split_across_reads_and_long_ones_are_skipped() {
        let got = frames(4, &[b"ab", b"c\n0123", b"45", b"6\nok\n", b"wxyz\n"], false);
        assert_eq!(got, [line("abc"), Frame::TooLong, line("ok"), line("wxyz")]);
        // A long line with its newline in the same read.
        assert_eq!(
            frames(4, &[b"toolong\nfine\n"], false),
            [Frame::TooLong, line("fine")]
        );
    }

    #[test]
    fn an_unterminated_last_line_is_dropped() {
        assert_eq!(frames(64, &[b"one\n{\"id\":2"], true), [line("one")]);
    }

    #[test]
    fn oversized_answers_become_errors_with_their_id() {
        let huge = ServerMessage::Ok {
            id: 7,
            ok: Response::Done {
                message: "x".repeat(MAX_LINE),
            },
        };
        let line = huge.to_line();
        assert!(line.len() < 1000, "{}", line.len());
        let back: ServerMessage = serde_json::from_str(&line).unwrap();
        assert!(
            matches!(back, ServerMessage::Err { id: Some(7), error: ServiceError::Internal { message } } if message.contains("smaller page")),
            "{line}"
        );
    }

    #[test]
    fn unreadable_lines_are_explained_briefly_and_cleanly() {
        let hostile = format!(
            r#"{{"id":9,"request":{{"type":"\u001b]52;c;{}\u0007"}}}}"#,
            "A".repeat(10_000)
        );
        let Err(why) = parse_line(hostile.as_bytes()) else {
            panic!("parsed");
        };
        assert_eq!(why.id, Some(9));
        assert!(why.why.chars().count() <= MAX_PARSE_ERROR, "{}", why.why);
        assert!(!why.why.contains('\u{1b}'), "{:?}", why.why);
    }
}

/// The socket line parser against a model, over random input cut into random reads: a few
/// hundred cases, so it runs in every `cargo test`.
#[cfg(test)]
mod properties {
    use bytes::BytesMut;
    use proptest::prelude::*;
    use tokio_util::codec::Decoder;

    use super::{Frame, LineDecoder, parse_line};

    /// What the decoder must yield: each terminated line, or `TooLong` for one over `max`; an
    /// unterminated tail yields `TooLong` if it is already over `max`, else nothing.
    fn model(max: usize, lines: &[Vec<u8>], tail: &[u8]) -> Vec<Frame> {
        let frame = |line: &Vec<u8>| match line.len() > max {
            true => Frame::TooLong,
            false => Frame::Line(BytesMut::from(&line[..])),
        };
        let mut frames: Vec<Frame> = lines.iter().map(frame).collect();
        if tail.len() > max {
            frames.push(Frame::TooLong);
        }
        frames
    }

    fn line() -> impl Strategy<Value = Vec<u8>> {
        // Short and long lines alike, bytes of every kind but the newline.
        prop::collection::vec(
            any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
            0..90,
        )
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 300,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn framing_agrees_with_the_model_and_holds_at_most_max_bytes(
            max in 1usize..64,
            lines in prop::collection::vec(line(), 0..10),
            tail in line(),
            cuts in prop::collection::vec(1usize..70, 1..30),
        ) {
            let mut input = Vec::new();
            for l in &lines {
                input.extend_from_slice(l);
                input.push(b'\n');
            }
            input.extend_from_slice(&tail);
            let mut decoder = LineDecoder::new(max);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut rest = &input[..];
            let mut cut = cuts.iter().cycle();
            while !rest.is_empty() {
                let (chunk, after) = rest.split_at((*cut.next().unwrap()).min(rest.len()));
                rest = after;
                buf.extend_from_slice(chunk);
                while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                    got.push(frame);
                }
                // What a client may make the daemon hold between reads.
                prop_assert!(buf.len() <= max, "{} bytes held, cap {max}", buf.len());
            }
            while let Some(frame) = decoder.decode_eof(&mut buf).unwrap() {
                got.push(frame);
            }
            prop_assert!(buf.is_empty());
            prop_assert_eq!(got, model(max, &lines, &tail));
        }

        #[test]
        fn any_line_is_a_request_or_a_short_clean_refusal(
            bytes in prop::collection::vec(any::<u8>(), 0..400),
            id in any::<u64>(),
        ) {
            for line in [bytes.clone(), format!(r#"{{"id":{id},"request":"#).into_bytes()] {
                if let Err(why) = parse_line(&line) {
                    prop_assert!(why.why.chars().count() <= super::MAX_PARSE_ERROR);
                    prop_assert!(!crate::domain::text::needs_sanitizing(&why.why), "{:?}", why.why);
                }
            }
            let message = super::ClientMessage { id, request: super::Request::Overview };
            let line = serde_json::to_vec(&message).unwrap();
            prop_assert_eq!(parse_line(&line).map(|m| m.id).ok(), Some(id));
        }
    }
}
