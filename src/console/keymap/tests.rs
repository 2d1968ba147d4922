use super::*;
use crate::console::keys::{Key, parse_seq};
use proptest::prelude::{ProptestConfig, TestCaseError, prop_assert, prop_assert_eq};

fn seq(text: &str) -> KeySeq {
    parse_seq(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn messages(problems: &[KeymapProblem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn the_shipped_keymap_has_no_problems() {
    assert_eq!(
        messages(&check_keymap_text("keymap.toml", DEFAULT_KEYMAP)),
        Vec::<String>::new()
    );
    let (_, problems) = Keymap::load(None);
    assert!(problems.is_empty());
}

#[test]
fn every_problem_kind_is_reported_where_it_is() {
    let text = r#"# a user's keymap
[global]
"ctlr-r" = "refresh"
"R" = "resynk"
"x" = 3

[list]
"C-r" = "refresh"
"ctrl-r" = "top"
"g" = "bottom"

[lst]
"z" = "quit"

[input]
"w" = "resync"
"#;
    let got = messages(&check_keymap_text("keymap.toml", text));
    let expected = [
        r#"keymap.toml:3:1: unknown key name "ctlr-r" (write keys like ctrl-r, g g, enter, space, shift-tab, pgup, f5)"#,
        r#"keymap.toml:4:7: unknown action "resynk" (did you mean "resync"?)"#,
        r#"keymap.toml:5:7: a binding's value is an action name in quotes, or "none""#,
        r#"keymap.toml:9:1: "ctrl-r" is bound twice in [list] (first on line 8); this one is skipped"#,
        r#"keymap.toml:12:2: unknown section [lst] (did you mean [list]?)"#,
        r#"keymap.toml:16:7: "resync" does nothing in [input]; it belongs in [list], [orders], [cancellations], [detail]"#,
        r#"keymap.toml:10:1: "g" in [list] hides the chord "g g" in [list]; "g" is skipped"#,
    ];
    assert_eq!(got, expected);
}

#[test]
fn a_syntax_error_costs_one_line_only() {
    let text = "[global]\n\"q\" = \"help\"\n\"w\" = = \"quit\"\n\"Q\" = \"quit\"\n";
    let (keymap, problems) = Keymap::with_overrides("user.toml", text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().starts_with("user.toml:3:"),
        "{}",
        problems[0]
    );
    let chain = [Scope::Global];
    assert_eq!(
        keymap.resolve(&chain, &seq("q")),
        Resolution::Action(Action::Help)
    );
    assert_eq!(
        keymap.resolve(&chain, &seq("Q")),
        Resolution::Action(Action::Quit)
    );
}

#[test]
fn a_duplicate_toml_key_is_reported_and_the_rest_kept() {
    let text = "[global]\n\"Q\" = \"quit\"\n\"Q\" = \"help\"\n\"H\" = \"help\"\n";
    let (keymap, problems) = Keymap::with_overrides("user.toml", text);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().starts_with("user.toml:3:"),
        "{}",
        problems[0]
    );
    let chain = [Scope::Global];
    assert_eq!(
        keymap.resolve(&chain, &seq("Q")),
        Resolution::Action(Action::Quit)
    );
    assert_eq!(
        keymap.resolve(&chain, &seq("H")),
        Resolution::Action(Action::Help)
    );
}

#[test]
fn user_entries_override_per_key_and_keep_the_rest() {
    let text = "[orders]\n\"R\" = \"resync\"\n\"r\" = \"none\"\n[global]\n\"<C-q>\" = \"quit\"\n";
    let (keymap, problems) = Keymap::with_overrides("user.toml", text);
    assert!(problems.is_empty(), "{problems:?}");
    let orders = [Scope::Orders, Scope::List, Scope::Global];
    assert_eq!(
        keymap.resolve(&orders, &seq("R")),
        Resolution::Action(Action::Resync)
    );
    assert_eq!(keymap.resolve(&orders, &seq("r")), Resolution::Unbound);
    assert_eq!(
        keymap.resolve(&orders, &seq("ctrl-q")),
        Resolution::Action(Action::Quit)
    );
    // Untouched defaults stay.
    assert_eq!(
        keymap.resolve(&orders, &seq("t")),
        Resolution::Action(Action::RetryStuck)
    );
    assert_eq!(
        keymap.resolve(&orders, &seq("q")),
        Resolution::Action(Action::Quit)
    );
}

#[test]
fn a_user_key_that_hides_a_default_chord_gives_way() {
    let (keymap, problems) = Keymap::with_overrides("user.toml", "[global]\n\"g\" = \"help\"\n");
    assert_eq!(
        messages(&problems),
        [r#"user.toml:2:1: "g" in [global] hides the chord "g g" in [list]; "g" is skipped"#]
    );
    let list = [Scope::List, Scope::Global];
    assert_eq!(keymap.resolve(&list, &seq("g")), Resolution::Pending);
    assert_eq!(
        keymap.resolve(&list, &seq("g g")),
        Resolution::Action(Action::Top)
    );
}

#[test]
fn chords_resolve_key_by_key() {
    let keymap = Keymap::defaults();
    let list = [Scope::Orders, Scope::List, Scope::Global];
    assert_eq!(
        keymap.resolve(&list, &[Key::char('g')]),
        Resolution::Pending
    );
    assert_eq!(
        keymap.resolve(&list, &seq("g g")),
        Resolution::Action(Action::Top)
    );
    assert_eq!(
        keymap.resolve(&list, &seq("G")),
        Resolution::Action(Action::Bottom)
    );
    assert_eq!(keymap.resolve(&list, &seq("g x")), Resolution::Unbound);
}

#[test]
fn a_more_specific_scope_wins() {
    let keymap = Keymap::defaults();
    let approvals = [Scope::Approvals, Scope::List, Scope::Global];
    let cancellations = [Scope::Cancellations, Scope::List, Scope::Global];
    assert_eq!(
        keymap.resolve(&approvals, &seq("a")),
        Resolution::Action(Action::ApproveRequest)
    );
    assert_eq!(
        keymap.resolve(&cancellations, &seq("a")),
        Resolution::Action(Action::ApproveCancel)
    );
    assert_eq!(keymap.key_for(&approvals, Action::Quit), Some(&seq("q")));
}

#[test]
fn a_missing_file_is_reported_by_check_but_ignored_by_load() {
    let path = std::path::Path::new("/nonexistent/orderdeck/keymap.toml");
    let problems = check_keymap(path);
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .starts_with("/nonexistent/orderdeck/keymap.toml: cannot read")
    );
    assert!(Keymap::load(Some(path)).1.is_empty());
}

#[test]
fn a_keymap_path_that_is_not_a_small_regular_file_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    // A FIFO would block the console's start until someone writes to it.
    let fifo = crate::config::TestFifo::new(dir.path(), "[global]\n\"Q\" = \"quit\"\n");
    let (keymap, problems) = Keymap::load(Some(&fifo.path));
    assert_eq!(
        messages(&problems),
        [format!(
            "{}: cannot read the keymap (it is a FIFO (named pipe), not a regular file; point to a file)",
            fifo.path.display()
        )]
    );
    assert_eq!(keymap, Keymap::defaults());
    assert_eq!(messages(&check_keymap(&fifo.path)), messages(&problems));
    // A device never ends; a huge file would be held in memory whole.
    let problems = check_keymap(std::path::Path::new("/dev/null"));
    assert!(
        messages(&problems)[0].contains("it is a character device"),
        "{problems:?}"
    );
    let big = dir.path().join("big.toml");
    let line = "# a comment that fills the file\n";
    std::fs::write(&big, line.repeat(40_000)).unwrap();
    assert!(
        messages(&check_keymap(&big))[0].contains("larger than 1024 KiB"),
        "the file is {} bytes",
        line.len() * 40_000
    );
}

#[test]
fn invalid_utf8_in_a_keymap_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keymap.toml");
    std::fs::write(&path, b"[global]\n\"\xc3\xa9\" = \"quit\" # caf\xe9\n").unwrap();
    let expected = [format!(
        "{}:2:19: not UTF-8 text, so the whole file is skipped; save it as UTF-8",
        path.display()
    )];
    assert_eq!(messages(&check_keymap(&path)), expected);
    let (keymap, problems) = Keymap::load(Some(&path));
    assert_eq!(messages(&problems), expected);
    assert_eq!(keymap, Keymap::defaults());
}

const USER_KEYMAP: &str = "# mine\n[global]\n\"ctrl-r\" = \"refresh\"\n\"Q\" = \"quit\"\n\n[list]\n\"g g\" = \"top\"\n\"x\" = \"none\"\n\n[orders]\n\"R\" = \"resync\"\n";

/// Every problem points inside the file (line 0 means the whole file).
fn assert_located(text: &str, problems: &[KeymapProblem]) -> Result<(), TestCaseError> {
    let lines: Vec<&str> = text.split('\n').collect();
    for problem in problems {
        if problem.file != "fuzz.toml" {
            prop_assert_eq!(problem.file.as_str(), "keymap.toml (built-in)");
            continue;
        }
        if problem.line == 0 {
            continue;
        }
        prop_assert!(problem.line <= lines.len(), "{problem}");
        let width = lines[problem.line - 1].chars().count();
        prop_assert!(
            problem.column >= 1 && problem.column <= width + 1,
            "{problem}"
        );
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Bounded fuzzing (see `config::fuzz`): a mutant of a user keymap or of the shipped one,
    /// laid over the defaults, never panics, and every problem is located inside it.
    #[test]
    fn keymap_mutants_never_panic_and_are_located(
        text in crate::config::fuzz::mutants(USER_KEYMAP)
    ) {
        let (_, problems) = Keymap::with_overrides("fuzz.toml", &text);
        assert_located(&text, &problems)?;
    }

    #[test]
    fn mutants_of_the_shipped_keymap_never_panic_and_are_located(
        text in crate::config::fuzz::mutants(DEFAULT_KEYMAP)
    ) {
        assert_located(&text, &check_keymap_text("fuzz.toml", &text))?;
    }
}
