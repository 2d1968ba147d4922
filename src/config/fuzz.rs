//! Bounded fuzzing of the file parsers, run with the unit tests (a few hundred cases each, a
//! few seconds): mutants of real files — the shipped example config, the minimal one, a user
//! keymap — made by inserting, deleting and replacing pieces that TOML and orderdeck give
//! meaning to (quotes, brackets, `=`, line breaks, escapes, control characters, multi-byte
//! text). A parser may refuse a mutant but must never panic, and every problem it reports must
//! point inside the file. [`mutants`] is shared with the keymap's own property.

use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::*;

/// Pieces with a meaning to TOML or to orderdeck, and hostile bytes.
const PIECES: &[&str] = &[
    "\"",
    "'",
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\n",
    "{",
    "}",
    ",",
    "#",
    "\"\"\"",
    "'''",
    "\\u",
    "\\",
    "é",
    "ジ",
    "\u{1b}]52;c;x\u{7}",
    "\u{0}",
    "\u{9b}",
    "\u{202e}",
    "\r",
    "\t",
    "1e400",
    "-",
    ".",
    "99999999999999999999",
    "true",
    "[links.settings]",
    "carrier_map = {",
    "[links.settings.carrier_map]",
    "\"a\" = \"b\"",
    "[[links]]",
    "shop = \"uk\"",
    "store = \"main\"",
    "\"file:/dev/null\"",
    "\"env:\"",
    "[access]",
    "admin = [\"@\"]",
    "\"ctrl-\"",
    "\"g g g\"",
    "[global]",
    "\"none\"",
];

/// `base` after one to six random edits.
pub(crate) fn mutants(base: &'static str) -> impl Strategy<Value = String> {
    let edit = (any::<Index>(), 0..3u8, select(PIECES));
    proptest::collection::vec(edit, 1..7).prop_map(move |edits| {
        let mut text = base.to_string();
        for (at, op, piece) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            let end = text[i..]
                .char_indices()
                .nth(piece.chars().count())
                .map_or(text.len(), |(n, _)| i + n);
            match op {
                0 => text.insert_str(i, piece),
                1 => text.replace_range(i..end, ""),
                _ => text.replace_range(i..end, piece),
            }
        }
        text
    })
}

const EXAMPLE: &str = include_str!("../../tests/fixtures/orderdeck.toml");

/// Every problem names the file and, when it has a place, a place inside the text.
fn check_places(text: &str, problems: &Problems) -> Result<(), TestCaseError> {
    let lines = text.split('\n').count();
    for problem in &problems.0 {
        prop_assert_eq!(problem.file.as_path(), Path::new("fuzz.toml"));
        if let Some(Position { line, column }) = problem.position {
            prop_assert!(line >= 1 && line <= lines, "{problem} in {lines} lines");
            let width = text
                .split('\n')
                .nth(line - 1)
                .map_or(0, |l| l.chars().count());
            prop_assert!(
                column >= 1 && column <= width + 1,
                "{problem}, line of {width}"
            );
        }
    }
    Ok(())
}

fn parse(text: &str) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let env = Environment {
        data_dir: Some(dir.path().into()),
        ..Environment::default()
    };
    match Config::parse(text, Path::new("fuzz.toml"), 0o600, &env) {
        Ok(config) => check_places(text, &Problems(config.warnings)),
        Err(problems) => {
            prop_assert!(problems.has_errors());
            check_places(text, &problems)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutants_of_the_example_config_never_panic_and_are_located(text in mutants(EXAMPLE)) {
        parse(&text)?;
    }

    #[test]
    fn mutants_of_a_minimal_config_never_panic_and_are_located(
        text in mutants(super::tests::MINIMAL)
    ) {
        parse(&text)?;
    }
}
