//! What `--version` says besides the release: the git commit and the build date. Pure
//! functions shared by `build.rs` (which runs git and reads the environment) and the library's
//! tests (which include this file), so the formatting is tested like any other code.

/// `SOURCE_DATE_EPOCH` (seconds since 1970) as a UTC calendar date, `YYYY-MM-DD`; `None` for
/// text that is not a whole number. The civil-from-days algorithm (Howard Hinnant's), so the
/// build script needs no date crate.
pub fn date_of_epoch(text: &str) -> Option<String> {
    let secs: i64 = text.trim().parse().ok()?;
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// A short commit hash as git printed it, if it looks like one.
pub fn commit(git_output: &str) -> Option<String> {
    let hash = git_output.trim();
    let ok = (4..=40).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_become_utc_dates() {
        assert_eq!(date_of_epoch("0").as_deref(), Some("1970-01-01"));
        assert_eq!(date_of_epoch("951782400").as_deref(), Some("2000-02-29"));
        assert_eq!(date_of_epoch("1767225599\n").as_deref(), Some("2025-12-31"));
        assert_eq!(date_of_epoch("1767225600").as_deref(), Some("2026-01-01"));
        assert_eq!(date_of_epoch("yesterday"), None);
    }

    #[test]
    fn only_hashes_count_as_commits() {
        assert_eq!(commit("1d28af5\n").as_deref(), Some("1d28af5"));
        assert_eq!(commit("fatal: not a git repository"), None);
        assert_eq!(commit(""), None);
    }
}
