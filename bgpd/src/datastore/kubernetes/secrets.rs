//! The Secrets of the secrets namespace as BGPPeer passwords read them
//! (`password.secretKeyRef`); filled by [`super::KubeState`] from the Secrets watch.
use std::collections::BTreeMap;

/// The Secrets of the secrets namespace: (secret name, key) -> value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretValues(pub BTreeMap<(String, String), String>);

impl crate::datastore::Secrets for SecretValues {
    fn read(&self, name: &str, key: &str) -> Result<String, String> {
        self.0
            .get(&(name.to_string(), key.to_string()))
            .cloned()
            .ok_or_else(|| format!("secret {name} has no key {key} (or does not exist)"))
    }
}
