//! Prefix policies: `all`, `none`, or an ordered list of rules such as
//! `accept 10.244.0.0/16 le 26`. First match wins; a route no rule matches is rejected.
//!
//! Rule grammar: `(accept|reject) PREFIX [ge N] [le N]`, with
//! `len(PREFIX) <= ge <= le <= max length`. Like a prefix list: without `ge`/`le` only
//! PREFIX itself matches; `le N` also matches longer prefixes inside PREFIX up to /N;
//! `ge N` alone matches lengths N up to the family's maximum.
//!
//! The types live here (not in the daemon's config) because the RIB evaluates them on import
//! and export; `bgpd`'s config re-exports them.
use ipnet::IpNet;
use std::fmt;
use std::str::FromStr;

/// What a matching rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyAction {
    Accept,
    Reject,
}

/// One parsed rule, e.g. `accept 10.244.0.0/16 le 26`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PolicyRule {
    pub action: PolicyAction,
    pub prefix: IpNet,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

/// A neighbour's import or export policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Accept every route.
    All,
    /// Accept nothing.
    None,
    /// Ordered rules, first match wins, no match = reject.
    Rules(Vec<PolicyRule>),
}

impl fmt::Display for PolicyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            PolicyAction::Accept => "accept",
            PolicyAction::Reject => "reject",
        };
        write!(f, "{action} {}", self.prefix)?;
        if let Some(ge) = self.ge {
            write!(f, " ge {ge}")?;
        }
        if let Some(le) = self.le {
            write!(f, " le {le}")?;
        }
        Ok(())
    }
}

impl FromStr for PolicyRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut words = text.split_whitespace();
        let action = match words.next() {
            Some("accept") => PolicyAction::Accept,
            Some("reject") => PolicyAction::Reject,
            Some(other) => {
                return Err(format!("rule must start with `accept` or `reject`, not `{other}`"))
            }
            None => return Err("empty rule".to_string()),
        };
        let prefix_text = words.next().ok_or("rule needs a prefix, e.g. `accept 10.0.0.0/8`")?;
        let prefix = parse_prefix(prefix_text)?;
        let max_len = prefix.max_prefix_len();
        let (mut ge, mut le) = (None, None);
        while let Some(keyword) = words.next() {
            let slot = match keyword {
                "ge" => &mut ge,
                "le" => &mut le,
                other => return Err(format!("unexpected `{other}` (expected `ge N` or `le N`)")),
            };
            if slot.is_some() {
                return Err(format!("`{keyword}` given twice"));
            }
            let value = words.next().ok_or(format!("`{keyword}` needs a prefix length"))?;
            let length: u8 = value
                .parse()
                .ok()
                .filter(|length| *length <= max_len)
                .ok_or(format!("`{keyword} {value}`: length must be 0..={max_len}"))?;
            *slot = Some(length);
        }
        let base = prefix.prefix_len();
        if let Some(ge) = ge {
            if ge < base {
                return Err(format!("`ge {ge}` is shorter than the prefix length /{base}"));
            }
        }
        if let Some(le) = le {
            if le < base {
                return Err(format!("`le {le}` is shorter than the prefix length /{base}"));
            }
            if ge.is_some_and(|ge| ge > le) {
                return Err(format!("`ge` must not exceed `le` {le}"));
            }
        }
        Ok(PolicyRule { action, prefix, ge, le })
    }
}

impl PolicyRule {
    /// Does this rule match `prefix`? The prefix must lie inside the rule's prefix (same
    /// family) and its length must be in the rule's range: exactly the rule's length without
    /// `ge`/`le`; `ge`..=`le` otherwise, `ge` defaulting to the rule's length and `le` to the
    /// family's maximum when only `ge` is given.
    pub fn matches(&self, prefix: &IpNet) -> bool {
        let base = self.prefix.prefix_len();
        let len = prefix.prefix_len();
        let low = self.ge.unwrap_or(base);
        let high = match (self.ge, self.le) {
            (_, Some(le)) => le,
            (Some(_), None) => prefix.max_prefix_len(),
            (None, None) => base,
        };
        let same_family = matches!(
            (self.prefix, prefix),
            (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
        );
        same_family && (low..=high).contains(&len) && self.prefix.contains(prefix)
    }
}

impl Policy {
    /// Does the policy let `prefix` through? `All`: yes; `None`: no; rules: the action of the
    /// first rule that matches, and reject when none does.
    #[inline]
    pub fn accepts(&self, prefix: &IpNet) -> bool {
        match self {
            Policy::All => true,
            Policy::None => false,
            Policy::Rules(rules) => rules
                .iter()
                .find(|rule| rule.matches(prefix))
                .is_some_and(|rule| rule.action == PolicyAction::Accept),
        }
    }
}

/// Parses a prefix and insists that no host bits are set, so `10.244.1.1/24` is an error
/// rather than a silent `10.244.1.0/24`.
pub fn parse_prefix(text: &str) -> Result<IpNet, String> {
    let prefix: IpNet =
        text.parse().map_err(|_| format!("`{text}` is not a prefix (e.g. 10.244.0.0/16)"))?;
    if prefix.trunc() != prefix {
        return Err(format!("`{text}` has host bits set; did you mean {}?", prefix.trunc()));
    }
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Result<PolicyRule, String> {
        text.parse()
    }

    #[test]
    fn parses_plain_and_ranged_rules() {
        let r = rule("accept 10.244.0.0/16 le 26").unwrap();
        assert_eq!(r.action, PolicyAction::Accept);
        assert_eq!(r.prefix, "10.244.0.0/16".parse::<IpNet>().unwrap());
        assert_eq!((r.ge, r.le), (None, Some(26)));
        let r = rule("  reject   2001:db8::/32 ge 48 le 64 ").unwrap();
        assert_eq!(r.action, PolicyAction::Reject);
        assert_eq!((r.ge, r.le), (Some(48), Some(64)));
        let r = rule("reject 0.0.0.0/0").unwrap();
        assert_eq!((r.ge, r.le), (None, None));
        assert_eq!(r.to_string(), "reject 0.0.0.0/0");
        assert_eq!(
            rule("accept 10.0.0.0/8 ge 9 le 24").unwrap().to_string(),
            "accept 10.0.0.0/8 ge 9 le 24"
        );
    }

    #[test]
    fn rejects_bad_rules_with_a_reason() {
        let cases = [
            ("", "empty rule"),
            ("permit 10.0.0.0/8", "must start with `accept` or `reject`"),
            ("accept", "needs a prefix"),
            ("accept 10.0.0.0", "not a prefix"),
            ("accept 10.0.0.1/8", "host bits set; did you mean 10.0.0.0/8"),
            ("accept 10.0.0.0/8 le 33", "length must be 0..=32"),
            ("accept 10.0.0.0/8 le x", "length must be 0..=32"),
            ("accept 10.0.0.0/8 le", "needs a prefix length"),
            ("accept 10.0.0.0/8 le 24 le 25", "given twice"),
            ("accept 10.0.0.0/8 eq 24", "unexpected `eq`"),
            ("accept 10.0.0.0/16 le 8", "shorter than the prefix length"),
            ("accept 10.0.0.0/16 ge 8", "shorter than the prefix length"),
            ("accept 10.0.0.0/8 ge 24 le 16", "must not exceed"),
            ("accept 2001:db8::/32 le 129", "length must be 0..=128"),
        ];
        for (text, expected) in cases {
            let error = rule(text).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    fn policy(rules: &[&str]) -> Policy {
        Policy::Rules(rules.iter().map(|r| rule(r).unwrap()).collect())
    }

    #[test]
    fn exact_rule_matches_only_its_prefix() {
        let r = rule("accept 10.244.0.0/16").unwrap();
        assert!(r.matches(&net("10.244.0.0/16")));
        assert!(!r.matches(&net("10.244.1.0/24")));
        assert!(!r.matches(&net("10.0.0.0/8")));
        assert!(!r.matches(&net("10.245.0.0/16")));
    }

    #[test]
    fn le_and_ge_ranges() {
        let le = rule("accept 10.244.0.0/16 le 26").unwrap();
        assert!(le.matches(&net("10.244.0.0/16")));
        assert!(le.matches(&net("10.244.7.64/26")));
        assert!(!le.matches(&net("10.244.7.64/27")));
        assert!(!le.matches(&net("10.245.0.0/24")));
        let ge = rule("accept 10.0.0.0/8 ge 24").unwrap();
        assert!(!ge.matches(&net("10.1.0.0/16")));
        assert!(ge.matches(&net("10.1.2.0/24")));
        assert!(ge.matches(&net("10.1.2.3/32")));
        let both = rule("accept 2001:db8::/32 ge 48 le 64").unwrap();
        assert!(!both.matches(&net("2001:db8::/40")));
        assert!(both.matches(&net("2001:db8:1::/48")));
        assert!(both.matches(&net("2001:db8:1:2::/64")));
        assert!(!both.matches(&net("2001:db8:1:2::/80")));
        assert!(!both.matches(&net("10.0.0.0/8")));
        let any = rule("accept 0.0.0.0/0 le 32").unwrap();
        assert!(any.matches(&net("198.18.0.0/24")));
        assert!(!any.matches(&net("2001:db8::/32")));
    }

    #[test]
    fn first_match_wins_and_no_match_rejects() {
        let p = policy(&["reject 10.244.5.0/24", "accept 10.244.0.0/16 le 24"]);
        assert!(!p.accepts(&net("10.244.5.0/24")));
        assert!(p.accepts(&net("10.244.6.0/24")));
        assert!(!p.accepts(&net("10.244.6.0/25")));
        assert!(!p.accepts(&net("192.168.0.0/16")));
        assert!(Policy::All.accepts(&net("::/0")));
        assert!(!Policy::None.accepts(&net("10.0.0.0/8")));
        assert!(!Policy::Rules(Vec::new()).accepts(&net("10.0.0.0/8")));
    }
}
