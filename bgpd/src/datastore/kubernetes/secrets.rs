//! The Secrets of the secrets namespace as BGPPeer passwords read them
//! (`password.secretKeyRef`); filled by [`super::KubeState`] from the Secrets watch.
use std::collections::BTreeMap;

/// The Secrets of the secrets namespace: (secret name, key) -> value. `Debug` prints the
/// names and keys, never a value (events holding it may be logged).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValues(pub BTreeMap<(String, String), String>);

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys().map(|(name, key)| format!("{name}/{key}"))).finish()
    }
}

impl crate::datastore::Secrets for SecretValues {
    fn read(&self, name: &str, key: &str) -> Result<String, String> {
        self.0
            .get(&(name.to_string(), key.to_string()))
            .cloned()
            .ok_or_else(|| format!("secret {name} has no key {key} (or does not exist)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_the_keys_and_hides_the_values() {
        let mut values = SecretValues::default();
        values.0.insert(("bgp".into(), "tor".into()), "s3cret".into());
        let text = format!("{values:?}");
        assert!(text.contains("bgp/tor") && !text.contains("s3cret"), "{text}");
    }
}
