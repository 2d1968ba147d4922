//! `open_enum!`: enums whose values come from a platform. Known spellings (and documented
//! aliases) map to variants; anything else is kept as `Unknown(text)` so one new value from a
//! platform never fails a whole page of results.

/// Declares an open enum: `Name { Variant = "WIRE" | "ALIAS", ... }` plus `Unknown(String)`.
/// Serializes as the first (canonical) spelling.
#[macro_export]
macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this version of orderdeck does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The canonical wire spelling.
            pub fn as_wire(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown(text) => text.as_str(),
                }
            }

            pub fn parse(text: &str) -> Self {
                match text {
                    $($wire $(| $alias)* => $name::$variant,)+
                    other => $name::Unknown(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match $name::parse(&text) {
                    $name::Unknown(_) => $name::Unknown(text),
                    known => known,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                $name::parse(text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_wire().to_string()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::domain::text::sanitize(self.as_wire()))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    open_enum!(Colour { Red = "RED" | "RED_OLD", Blue = "BLUE" });

    #[test]
    fn known_aliases_and_unknown_values() {
        assert_eq!(Colour::parse("RED"), Colour::Red);
        assert_eq!(Colour::parse("RED_OLD"), Colour::Red);
        assert_eq!(Colour::parse("GREEN"), Colour::Unknown("GREEN".into()));
        let json = serde_json::to_string(&Colour::Red).unwrap();
        assert_eq!(json, "\"RED\"");
        let back: Colour = serde_json::from_str("\"PURPLE\"").unwrap();
        assert_eq!(back.as_wire(), "PURPLE");
    }
}
