//! What the RIB task reports for UPDATEs a neighbour can repeat at will: malformed AS_PATHs
//! (counted once per UPDATE, logged at a bounded rate) and routes too large to send.
use std::net::Ipv4Addr;

use bgp_core::rib::{Encoded, Unsendable};
use bgp_core::wire::{
    AsPath, AttributeAction, AttributeIssue, EncodeError, Family, Nlri, Origin, PathAttributes,
    Update,
};

use super::stale_tests::{peer, task, up, PEER};
use super::RibTask;
use crate::messages::RibInput;
use crate::routing::malformed::captured_logs;
use crate::routing::outbound::report_unsendable;

/// An UPDATE from the eBGP neighbour (AS 64513) whose AS_PATH starts with another AS.
fn not_first_as(issues: Vec<AttributeIssue>) -> Update {
    Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![65000])),
            next_hop: Some(Ipv4Addr::new(198, 18, 0, 2)),
            ..Default::default()
        },
        nlri: vec![Nlri::new("10.1.0.0/24".parse().unwrap())],
        issues,
        ..Default::default()
    }
}

fn send(t: &mut RibTask, update: Update) {
    t.handle(RibInput::Update { peer: peer(), update: Box::new(update) });
}

#[tokio::test]
async fn a_repeated_malformed_as_path_is_counted_each_time_and_logged_once() {
    let mut t = task(120);
    up(&mut t, None);
    let logs = captured_logs(|| {
        for _ in 0..5 {
            send(&mut t, not_first_as(Vec::new()));
        }
    });
    assert_eq!(logs.matches("malformed AS_PATH").count(), 1, "{logs}");
    assert_eq!(t.metrics.malformed_as_path.with_label_values(&[PEER]).get(), 5);
    assert_eq!(t.metrics.treat_as_withdraw.with_label_values(&[PEER]).get(), 5);
}

#[tokio::test]
async fn an_update_the_codec_already_counted_is_not_counted_twice() {
    let mut t = task(120);
    up(&mut t, None);
    // The codec discarded an attribute of this UPDATE (the session counted it then).
    let issue = AttributeIssue {
        type_code: 7,
        action: AttributeAction::Discard,
        reason: "AGGREGATOR length is not 8",
    };
    send(&mut t, not_first_as(vec![issue]));
    assert_eq!(t.metrics.malformed_as_path.with_label_values(&[PEER]).get(), 1);
    assert_eq!(t.metrics.treat_as_withdraw.with_label_values(&[PEER]).get(), 0);
}

#[test]
fn routes_too_large_are_counted_each_time_and_logged_once_a_minute() {
    let mut t = task(120);
    let too_large = Unsendable {
        family: Family::IPV4_UNICAST,
        nlri: vec![Nlri::new("10.9.0.0/24".parse().unwrap())],
        error: EncodeError::MessageTooLong { len: 4100, max: 4096 },
    };
    let encoded = Encoded { messages: 1, unsendable: vec![too_large.clone(), too_large] };
    let logs = captured_logs(|| {
        for _ in 0..3 {
            report_unsendable(&peer(), &encoded, &t.metrics, &mut t.unsendable_log);
        }
    });
    assert_eq!(logs.matches("route too large").count(), 1, "{logs}");
    assert_eq!(t.metrics.routes_unsendable.with_label_values(&[PEER]).get(), 6);
}
