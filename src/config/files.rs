//! Reading the small text files orderdeck is pointed at — the config itself, `file:` secrets,
//! the console keymap — without trusting what sits at the path. Invariants: only a regular file
//! is read (a FIFO would block the read forever, a device such as `/dev/zero` never ends), and
//! it is checked twice, by path before opening and on the opened descriptor (opened
//! non-blocking, so not even the open can hang); at most [`MAX_TEXT_FILE`] bytes are read,
//! whatever the file claims; the text must be UTF-8, and the first byte that is not is located
//! by line and column. Errors never repeat the path: callers put it in front.

use std::fmt;
use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::OFlag;

use super::problem::Position;

/// The most any of these files may hold: a config with tens of thousands of carrier mappings
/// fits many times over; a runaway file is refused instead of filling memory.
pub const MAX_TEXT_FILE: u64 = 1024 * 1024;

/// A file's text and permission bits, both from the one opened descriptor.
#[derive(Debug)]
pub struct TextFile {
    pub text: String,
    pub mode: u32,
}

#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed (`NotFound`, `PermissionDenied`, …).
    Io(io::Error),
    /// Not a regular file; `kind` says what it is ("a FIFO", "a directory", …).
    NotRegular { kind: &'static str },
    /// Larger than `limit` bytes.
    TooLarge { limit: u64 },
    /// Not UTF-8; `position` is the first byte that is not.
    NotUtf8 { position: Position },
}

impl ReadError {
    /// The place in the file at fault, when there is one.
    pub fn position(&self) -> Option<Position> {
        match self {
            ReadError::NotUtf8 { position } => Some(*position),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotRegular { kind } => {
                write!(f, "it is {kind}, not a regular file; point to a file")
            }
            ReadError::TooLarge { limit } => write!(
                f,
                "it is larger than {} KiB, more than such a file ever needs",
                limit / 1024
            ),
            ReadError::NotUtf8 { position } => write!(
                f,
                "it is not UTF-8 text (the first invalid byte is at line {}, column {}); \
                 save it as UTF-8",
                position.line, position.column
            ),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Reads the regular file at `path` as UTF-8 text of at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<TextFile, ReadError> {
    // By path first, so a FIFO or a device is never even opened (opening some has effects).
    regular(std::fs::metadata(path)?.file_type())?;
    // Then on the descriptor, in case the path was swapped in between; non-blocking so that
    // such a swap cannot hang the open itself, and never becoming a controlling terminal.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)?;
    let metadata = file.metadata()?;
    regular(metadata.file_type())?;
    let bytes = read_at_most(file, metadata.len(), limit)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
        ReadError::NotUtf8 {
            position: Position::of_offset(before, valid),
        }
    })?;
    Ok(TextFile {
        text,
        mode: metadata.mode(),
    })
}

/// The file's bytes, refused past `limit` whatever its size said (it may grow meanwhile).
fn read_at_most(file: File, len: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    if len > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

fn regular(kind: FileType) -> Result<(), ReadError> {
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(ReadError::NotRegular { kind: what })
}

/// A FIFO with a writer waiting to hand it `text`, for tests of the readers above: a reader
/// that opens it gets the text and then end of file, so a test of one that wrongly reads
/// FIFOs fails on what it read instead of hanging.
#[cfg(test)]
pub(crate) struct TestFifo {
    pub path: std::path::PathBuf,
    writer: Option<std::thread::JoinHandle<()>>,
}

#[cfg(test)]
impl TestFifo {
    pub fn new(dir: &Path, text: &str) -> TestFifo {
        let path = dir.join("fifo");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        let (at, text) = (path.clone(), text.to_string());
        // Opening for writing blocks until someone opens it for reading.
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let mut fifo = OpenOptions::new().write(true).open(at).expect("open fifo");
            let _ = fifo.write_all(text.as_bytes());
        });
        TestFifo {
            path,
            writer: Some(writer),
        }
    }
}

#[cfg(test)]
impl Drop for TestFifo {
    /// Releases a writer nobody read from (the reader under test refused the FIFO).
    fn drop(&mut self) {
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(OFlag::O_NONBLOCK.bits())
            .open(&self.path);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        drop(reader);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = TestFifo::new(dir.path(), "a = 1\n");
        let error = read_text(&fifo.path, MAX_TEXT_FILE).unwrap_err();
        assert!(
            matches!(error, ReadError::NotRegular { kind } if kind.contains("FIFO")),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            "it is a FIFO (named pipe), not a regular file; point to a file"
        );
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let error = read_text(Path::new("/dev/zero"), MAX_TEXT_FILE).unwrap_err();
        assert!(error.to_string().contains("a character device"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let error = read_text(dir.path(), MAX_TEXT_FILE).unwrap_err();
        assert!(error.to_string().contains("a directory"), "{error}");
    }

    #[test]
    fn a_file_past_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, "x".repeat(2049)).unwrap();
        let error = read_text(&path, 2048).unwrap_err();
        assert!(
            matches!(error, ReadError::TooLarge { limit: 2048 }),
            "{error}"
        );
        assert_eq!(read_text(&path, 2049).unwrap().text.len(), 2049);
    }

    #[test]
    fn invalid_utf8_is_located_by_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("text");
        std::fs::write(&path, b"a = 1\nn\xc3\xa4me = \"x\xffy\"\n").unwrap();
        let error = read_text(&path, MAX_TEXT_FILE).unwrap_err();
        assert_eq!(
            error.position(),
            Some(Position {
                line: 2,
                column: 10
            })
        );
        assert!(error.to_string().contains("line 2, column 10"), "{error}");
    }

    #[test]
    fn a_regular_file_is_read_with_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ok");
        std::fs::write(&path, "ジョン\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let read = read_text(&path, MAX_TEXT_FILE).unwrap();
        assert_eq!(read.text, "ジョン\n");
        assert_eq!(read.mode & 0o777, 0o640);
        assert!(
            read_text(&dir.path().join("missing"), 10)
                .unwrap_err()
                .is_not_found()
        );
    }
}
