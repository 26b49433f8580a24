//! Finds where a field path sits in the YAML source, using serde_yaml's own parser.
//!
//! serde_yaml 0.9 values keep no positions, but its deserializer attaches the position of
//! the node being read to any error a visitor returns. So we walk the document along the
//! path with a visitor that ignores everything else and fails on purpose at the target:
//! the error's location is the target's line and column. When part of the path is missing
//! (e.g. a field left at its default), the position of the deepest node that exists is
//! returned instead, which is where an operator would add the field.
use super::diagnostic::Seg;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The 1-based (line, column) of `path` in `text`: for a final mapping key, the key itself;
/// for a final sequence index, the element. `None` if the text is not YAML.
pub fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let walk = Walk { path };
    match walk.deserialize(deserializer) {
        Ok(()) => None,
        Err(error) => error.location().map(|loc| (loc.line(), loc.column())),
    }
}

const FOUND: &str = "located";

/// Walks one node along the remaining path. Always fails (that is how the position is
/// reported); `Ok` only happens for documents it cannot walk.
struct Walk<'p> {
    path: &'p [Seg],
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(wanted), rest)) = self.path.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        while let Some(matched) =
            map.next_key_seed(KeyProbe { wanted, is_target: rest.is_empty() })?
        {
            if matched {
                return map.next_value_seed(Walk { path: rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        // The key is absent: report the mapping itself.
        Err(de::Error::custom(FOUND))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(wanted), rest)) = self.path.split_first() else {
            return Err(de::Error::custom(FOUND));
        };
        for _ in 0..*wanted {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom(FOUND));
            }
        }
        match seq.next_element_seed(Walk { path: rest })? {
            Some(()) => Ok(()),
            None => Err(de::Error::custom(FOUND)),
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_some<D: de::Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}

/// Reads one mapping key: `Ok(true)` if it is the wanted one. When the key is the final
/// target, fails right there so the reported position is the key's.
struct KeyProbe<'w> {
    wanted: &'w str,
    is_target: bool,
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        match (key == self.wanted, self.is_target) {
            (true, true) => Err(E::custom(FOUND)),
            (matched, _) => Ok(matched),
        }
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
router_id: 198.18.0.1
local_as: 64512
originate: [10.244.1.0/24, \"2001:db8:1::/64\"]
kernel:
  table: 254
neighbors:
  - address: 198.18.0.2
    remote_as: 64512
  - address: 198.18.0.3
    remote_as: 64513
    hold_time: 2
    export:
      - accept 10.0.0.0/8
      - bogus
";

    fn at(path: &[Seg]) -> Option<(usize, usize)> {
        locate(DOC, path)
    }

    #[test]
    fn finds_top_level_and_nested_keys() {
        assert_eq!(at(&[Seg::Key("local_as")]), Some((2, 1)));
        assert_eq!(at(&[Seg::Key("kernel"), Seg::Key("table")]), Some((5, 3)));
    }

    #[test]
    fn finds_sequence_entries_and_their_fields() {
        use Seg::*;
        assert_eq!(at(&[Key("neighbors"), Index(1), Key("hold_time")]), Some((11, 5)));
        assert_eq!(at(&[Key("neighbors"), Index(1)]), Some((9, 5)));
        assert_eq!(at(&[Key("neighbors"), Index(1), Key("export"), Index(1)]), Some((14, 9)));
    }

    #[test]
    fn finds_flow_sequence_elements() {
        assert_eq!(at(&[Seg::Key("originate"), Seg::Index(1)]), Some((3, 28)));
    }

    #[test]
    fn missing_parts_fall_back_to_the_deepest_existing_node() {
        use Seg::*;
        // neighbors[0] has no hold_time: its mapping is reported.
        assert_eq!(at(&[Key("neighbors"), Index(0), Key("hold_time")]), Some((7, 5)));
        // There is no neighbors[5]: the sequence is reported.
        assert_eq!(at(&[Key("neighbors"), Index(5)]), Some((7, 3)));
        // No `log` at all: the document's root mapping.
        assert_eq!(at(&[Key("log"), Key("level")]), Some((1, 1)));
    }

    #[test]
    fn empty_or_broken_yaml_gives_the_document_or_error_position() {
        // An empty document is a null at 1:1.
        assert_eq!(locate("", &[Seg::Key("a")]), Some((1, 1)));
        assert!(locate("a: [1, 2", &[Seg::Key("a")]).is_some());
    }
}
