//! Suggestions for a name a person mistyped (a config key, a command, a TikTok shipping
//! provider): the one candidate close enough to be what was meant (strsim's optimal string
//! alignment: a swap of two neighbours is one slip, so `app_secert` is one from `app_secret`),
//! or the few most alike (Jaro-Winkler). Case is ignored.

/// The candidate closest to `typed`, if it is close enough to be what was meant. "Close enough"
/// grows with length, so short names need a near-exact match and long ones tolerate a slip or
/// two.
pub fn did_you_mean<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let budget = (typed.chars().count() / 4).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (distance(typed, c), c))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The `n` candidates closest to `typed`, closest first (ties keep the candidates' order): what
/// to offer when nothing is close enough to guess.
pub fn closest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    // Jaro-Winkler rewards a shared beginning, so "royal mial" ranks "Royal Mail Tracked"
    // above the short "Evri" that a plain edit distance would prefer.
    let typed = typed.to_lowercase();
    let mut ranked: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&typed, &c.to_lowercase()), c))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.into_iter().take(n).map(|(_, c)| c).collect()
}

fn distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(&a.to_lowercase(), &b.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_slips_but_not_strangers() {
        let keys = ["app_key", "app_secret", "access_token", "region"];
        assert_eq!(did_you_mean("app_secert", keys), Some("app_secret"));
        assert_eq!(did_you_mean("acess_token", keys), Some("access_token"));
        assert_eq!(did_you_mean("regoin", keys), Some("region"));
        assert_eq!(did_you_mean("colour", keys), None);
        assert_eq!(did_you_mean("x", keys), None);
        assert_eq!(did_you_mean("resynk", ["resync", "retry"]), Some("resync"));
    }

    #[test]
    fn the_closest_come_first() {
        let providers = ["USPS", "Royal Mail", "Evri", "DPD", "Royal Mail Tracked"];
        assert_eq!(
            closest("royal mial", providers, 2),
            ["Royal Mail", "Royal Mail Tracked"]
        );
        assert_eq!(closest("x", providers, 0), Vec::<&str>::new());
    }
}
