//! Policy rule parsing (`accept 10.244.0.0/16 le 26`): any text either fails with a reason or
//! parses to a rule that prints back to text parsing to the same rule.
#![no_main]
use bgp_core::policy::PolicyRule;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match text.parse::<PolicyRule>() {
        Ok(rule) => {
            let again: PolicyRule = rule.to_string().parse().expect("printed rule parses");
            assert_eq!(again, rule);
            // ge/le are within the family and ordered.
            let max = if rule.prefix.addr().is_ipv4() { 32 } else { 128 };
            let lo = rule.ge.unwrap_or(rule.prefix.prefix_len());
            let hi = rule.le.unwrap_or(max);
            assert!(rule.prefix.prefix_len() <= lo && lo <= hi && hi <= max, "{rule}");
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
});
