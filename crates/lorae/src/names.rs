//! Closed sets of names (models, datasets, samplers, splits, ...): `FromStr` whose error lists
//! the accepted names, `Display` giving the name back, and the list itself ([`Named::NAMES`]),
//! which the CLI shows in `--help` and uses to check flag values.

/// A closed set of values, each with one name.
pub trait Named: Sized + Copy + 'static {
    /// What the set is called in messages (`model`, `split`).
    const WHAT: &'static str;
    /// The names, in declaration order.
    const NAMES: &'static [&'static str];
}

/// `FromStr` (its error names the accepted values) and `Display` for a closed set of names.
macro_rules! name_enum {
    ($ty:ident, $what:literal, [$(($var:ident, $name:literal)),+ $(,)?]) => {
        impl std::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s {
                    $($name => Ok($ty::$var),)+
                    _ => Err($crate::error::Error::UnknownName {
                        what: $what,
                        value: s.to_string(),
                        expected: [$($name),+].join(", "),
                    }),
                }
            }
        }
        impl $crate::names::Named for $ty {
            const WHAT: &'static str = $what;
            const NAMES: &'static [&'static str] = &[$($name),+];
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let name = match self { $($ty::$var => $name,)+ };
                f.write_str(name)
            }
        }
    };
}
