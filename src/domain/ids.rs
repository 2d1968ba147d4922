//! Identifiers. Each is a distinct type so a TikTok order id can never be passed where a store
//! order id is expected. Shops, stores and links are named in `orderdeck.toml`; those names are
//! their stable keys. Platform ids are kept exactly as the platform sent them (strings), after a
//! check that they are printable and of sane length, so a hostile value cannot reach a terminal.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text could not be used as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} {value:?} contains {found:?}; allowed: {allowed}")]
    BadChar {
        kind: &'static str,
        value: String,
        found: char,
        allowed: &'static str,
    },
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr, $allowed_desc:literal, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps `value`.
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                if value.is_empty() {
                    return Err(IdError::Empty { kind: $kind });
                }
                if value.chars().count() > $max {
                    return Err(IdError::TooLong { kind: $kind, max: $max });
                }
                let allowed: fn(char) -> bool = $allowed;
                if let Some(found) = value.chars().find(|c| !allowed(*c)) {
                    return Err(IdError::BadChar { kind: $kind, value: crate::domain::text::sanitize(&value), found, allowed: $allowed_desc });
                }
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Platform ids: anything printable except whitespace and quotes (Shopify GIDs contain `:` and `/`).
fn platform_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '\\' | '`')
}

string_id!(
    /// A TikTok Shop shop, by its name in `orderdeck.toml`.
    ShopId, "shop name", 64, "letters, digits, '-', '_', '.'", name_char
);
string_id!(
    /// A store (Shopify, WooCommerce, ...), by its name in `orderdeck.toml`.
    StorefrontId, "store name", 64, "letters, digits, '-', '_', '.'", name_char
);
string_id!(
    /// A link between one shop and one store, by its name (defaults to the shop's name).
    LinkId, "link name", 64, "letters, digits, '-', '_', '.'", name_char
);
string_id!(
    /// A TikTok Shop order id: a decimal string (TikTok sends ids as JSON strings).
    TiktokOrderId, "TikTok order id", 32, "digits", |c: char| c.is_ascii_digit()
);
string_id!(
    /// The store's id of an order (a Shopify GID, a WooCommerce number, an Amazon fulfillment order id...).
    StorefrontOrderId, "store order id", 128, "printable characters without quotes", platform_char
);
string_id!(
    /// A TikTok cancellation (`cancel_id`).
    CancelId, "cancel id", 64, "printable characters without quotes", platform_char
);
string_id!(
    /// A TikTok package (`packages[].id`).
    PackageId, "package id", 64, "printable characters without quotes", platform_char
);

macro_rules! number_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            /// Accepts `42` and the displayed form `R42`.
            fn from_str(s: &str) -> Result<Self, String> {
                let digits = s.strip_prefix($prefix).unwrap_or(s);
                digits.parse().map($name).map_err(|_| {
                    format!("{s:?} is not a {} id (expected {}N or N)", stringify!($name), $prefix)
                })
            }
        }
    };
}

number_id!(
    /// A job of the engine's outbox.
    JobId, "J"
);
number_id!(
    /// A manual resync request.
    RequestId, "R"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiktok_order_id_accepts_digits_only() {
        assert!(TiktokOrderId::new("576461413038785752").is_ok());
        let err = TiktokOrderId::new("5764x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "TikTok order id \"5764x\" contains 'x'; allowed: digits"
        );
        assert_eq!(
            TiktokOrderId::new("").unwrap_err().to_string(),
            "TikTok order id is empty"
        );
    }

    #[test]
    fn names_refuse_spaces_and_control_characters() {
        assert!(LinkId::new("uk-shop_1.main").is_ok());
        assert!(LinkId::new("uk shop").is_err());
        let err = ShopId::new("a\u{1b}[2Jb").unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
    }

    #[test]
    fn store_order_ids_keep_shopify_gids() {
        let gid = StorefrontOrderId::new("gid://shopify/Order/1234").unwrap();
        assert_eq!(gid.as_str(), "gid://shopify/Order/1234");
    }

    #[test]
    fn ids_deserialize_through_validation() {
        let ok: TiktokOrderId = serde_json::from_str("\"42\"").unwrap();
        assert_eq!(ok.as_str(), "42");
        assert!(serde_json::from_str::<TiktokOrderId>("\"4 2\"").is_err());
    }

    #[test]
    fn numeric_ids_parse_with_or_without_prefix() {
        assert_eq!("R12".parse::<RequestId>().unwrap(), RequestId(12));
        assert_eq!("12".parse::<RequestId>().unwrap(), RequestId(12));
        assert!("X1".parse::<RequestId>().is_err());
        assert_eq!(JobId(7).to_string(), "J7");
    }
}
