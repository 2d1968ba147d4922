//! Tests of the config file as a file: what sits at the path may be a FIFO, a device, huge or
//! not UTF-8, and is refused with the path (and, for bad bytes, the line and column) named; and
//! big files are checked in time proportional to their size.

use std::path::Path;

use super::super::*;
use super::{MINIMAL, env};

fn open(path: &Path) -> Vec<String> {
    match Config::open(&ConfigPath::Given(path.to_path_buf())) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(problems) => problems.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_config_path_that_is_not_a_small_regular_file_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = TestFifo::new(dir.path(), MINIMAL);
    assert_eq!(
        open(&fifo.path),
        [format!(
            "{}: cannot read the config file: it is a FIFO (named pipe), not a regular file; point to a file",
            fifo.path.display()
        )]
    );
    assert_eq!(
        open(Path::new("/dev/null")),
        [
            "/dev/null: cannot read the config file: it is a character device, not a regular file; point to a file"
        ]
    );
    let big = dir.path().join("big.toml");
    let padding = "# padding\n".repeat(MAX_TEXT_FILE as usize / 10 + 1);
    std::fs::write(&big, format!("{MINIMAL}{padding}")).unwrap();
    assert_eq!(
        open(&big),
        [format!(
            "{}: cannot read the config file: it is larger than 1024 KiB, more than such a file ever needs",
            big.display()
        )]
    );
}

#[test]
fn invalid_utf8_in_the_config_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orderdeck.toml");
    let mut bytes = MINIMAL
        .replace("region = \"gb\"", "region = \"gb\" # Gro\u{df}britannien")
        .into_bytes();
    // Line 7 reads `region = "gb" # Großbritannien`; the ß (one character, two bytes in UTF-8)
    // becomes a lone Latin-1 byte, the 20th character of the line.
    let at = bytes.windows(2).position(|w| w == "ß".as_bytes()).unwrap();
    bytes.splice(at..at + 2, [0xdf]);
    std::fs::write(&path, bytes).unwrap();
    let got = open(&path);
    assert_eq!(
        got,
        [format!(
            "{}:7:20: cannot read the config file: it is not UTF-8 text (the first invalid byte is at line 7, column 20); save it as UTF-8",
            path.display()
        )]
    );
}

/// A config whose one link maps 20,000 carriers, each to `provider(i)`; line of carrier 0.
fn carrier_config(provider: impl Fn(usize) -> String) -> (String, usize) {
    // [access] moves up so the link's settings can end the file.
    let mut text = MINIMAL.replace("[access]\nadmin = [\"ann\"]\n", "");
    text.insert_str(0, "[access]\nadmin = [\"ann\"]\n\n");
    text.push_str("\n[links.settings]\nrestock_on_cancel = false\n[links.settings.carrier_map]\n");
    let first_line = text.lines().count() + 1;
    for i in 0..CARRIERS {
        text.push_str(&format!("\"Carrier {i}\" = \"{}\"\n", provider(i)));
    }
    (text, first_line)
}

const CARRIERS: usize = 20_000;

/// Every one of 20,000 carrier mappings is checked and kept, and every one of 20,000 bad ones
/// reported at its line and column. Before, each mapping cloned and revalidated every setting
/// and each problem rescanned the file up to its place: both quadratic (minutes for this, where
/// linear takes about a second), so the bound below is a failure bound, not a measure.
#[test]
fn twenty_thousand_carrier_mappings_are_all_checked() {
    let (done, finished) = std::sync::mpsc::channel();
    let check = std::thread::spawn(move || {
        check_twenty_thousand_carriers();
        let _ = done.send(());
    });
    match finished.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(()) => check.join().unwrap(),
        // The check panicked: its message is the failure.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(check.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("20,000 carrier mappings still not checked after 60 s: not linear")
        }
    }
}

fn check_twenty_thousand_carriers() {
    let (text, _) = carrier_config(|i| format!("Provider {i}"));
    let config = Config::parse(&text, Path::new("big.toml"), 0o600, &env()).unwrap();
    let settings = &config.links[0].settings;
    assert_eq!(settings.carrier_map.len(), CARRIERS);
    assert_eq!(settings.carrier_map["Carrier 7"], "Provider 7");
    assert_eq!(settings.carrier_map["Carrier 19999"], "Provider 19999");
    assert!(!settings.restock_on_cancel);

    let (text, first_line) = carrier_config(|_| String::new());
    let problems = Config::parse(&text, Path::new("big.toml"), 0o600, &env()).unwrap_err();
    let errors: Vec<String> = problems.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), CARRIERS);
    for (i, error) in errors.iter().enumerate() {
        // The value `""` follows `"Carrier {i}" = `.
        let column = format!("\"Carrier {i}\" = ").chars().count() + 1;
        let expected = format!(
            "big.toml:{}:{column}: [links.settings] of [[links]] \"uk\": carrier_map: carrier \"Carrier {i}\" needs",
            first_line + i
        );
        assert!(error.starts_with(&expected), "{error}\nwanted {expected}");
    }
}
