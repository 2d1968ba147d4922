//! The daemon's socket protocol: JSON lines. A client sends `{"id": N, "request": {...}}`; the
//! daemon answers `{"id": N, "ok": {...}}` or `{"id": N, "error": {...}}` (possibly out of order)
//! and, after `Subscribe`, pushes `{"event": {...}}` lines. Lines are capped at [`MAX_LINE`]:
//! a longer one is answered with an error and skipped, without hurting the connection.
//!
//! [`LineDecoder`] frames the daemon's input. Unlike `LinesCodec` it never fails on a long line
//! (a decoder error ends a `FramedRead` stream, which would drop the connection), and it drops
//! a last line without its newline: a client that vanished mid-request never finished asking.

use bytes::{Buf, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::Decoder;

use super::api::{Notification, Request, Response, ServiceError};

/// The largest message either side accepts.
pub const MAX_LINE: usize = 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct ClientMessage {
    pub id: u64,
    pub request: Request,
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
}
