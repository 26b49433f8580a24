//! Export of routes whose attributes outgrow the session's maximum message size on the way
//! out: only they are left out (and withdrawn), the rest of the batch is sent.
use bytes::BytesMut;

use super::*;
use crate::wire::message::encode_message;
use crate::wire::update::decode_update;
use crate::wire::{EncodeError, Message, WireContext};

const BIG: &str = "10.0.0.0/24";

/// What a peer receives from `out`: announced and withdrawn prefixes, End-of-RIB families.
#[derive(Default, Debug)]
struct Received {
    announced: Vec<IpNet>,
    withdrawn: Vec<IpNet>,
    end_of_rib: Vec<Family>,
}

fn receive(out: BytesMut, ctx: &WireContext) -> Received {
    let mut buf = out.freeze();
    let mut r = Received::default();
    while !buf.is_empty() {
        let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
        assert!(len <= ctx.max_message_len, "message of {len} octets");
        let msg = buf.split_to(len);
        let u = decode_update(&msg.slice(19..), ctx).unwrap();
        if let Some(f) = u.end_of_rib_family() {
            r.end_of_rib.push(f);
            continue;
        }
        r.announced.extend(u.nlri.iter().map(|n| n.prefix));
        r.announced.extend(u.mp_reach.iter().flat_map(|m| m.nlri.iter().map(|n| n.prefix)));
        r.withdrawn.extend(u.withdrawn.iter().map(|n| n.prefix));
        r.withdrawn.extend(u.mp_unreach.iter().flat_map(|m| m.withdrawn.iter().map(|n| n.prefix)));
    }
    r.announced.sort();
    r
}

/// iBGP attributes with LOCAL_PREF and `communities` communities.
fn ibgp_attrs(communities: u32) -> PathAttributes {
    let mut a = attrs(&[]);
    a.local_pref = Some(100);
    a.communities = (0..communities).map(|c| 0xFDE8_0000 + c).collect();
    a
}

fn small_prefixes() -> Vec<String> {
    (0..40).map(|i| format!("10.1.{i}.0/24")).collect()
}

/// The lab case of issue 16: an iBGP neighbour sends one route of about 4090 octets and 40
/// small ones; reflected to a client (ORIGINATOR_ID and CLUSTER_LIST added) the big one no
/// longer fits 4096 octets. The client must still get the 40 and End-of-RIB.
#[test]
fn reflected_route_over_the_size_limit_does_not_hold_back_the_rest() {
    let ctx = WireContext::modern();
    let mut r = rib();
    let source = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let big = announce(&[BIG], ibgp_attrs(1008), "198.18.0.1");
    let mut wire = BytesMut::new();
    encode_message(&Message::Update(big.clone()), &ctx, &mut wire).unwrap();
    assert!((4080..=4096).contains(&wire.len()), "received as {} octets", wire.len());
    r.apply_update(source, &big).unwrap();
    let small = small_prefixes();
    let small: Vec<&str> = small.iter().map(String::as_str).collect();
    for p in &small {
        r.apply_update(source, &announce(&[p], ibgp_attrs(3), "198.18.0.1")).unwrap();
    }
    let mut client = peer("198.18.0.2", LOCAL_AS, "2.2.2.2");
    client.rr_client = true;
    let client_id = PeerId(2);
    r.peer_up(client_id, client).unwrap();
    let batch = r.pending_updates(client_id).unwrap();
    assert_eq!(batch.announced_len(), 41, "the RIB exports all of them");

    let mut out = BytesMut::new();
    let encoded = batch.encode(&ctx, &mut out).unwrap();
    assert_eq!(encoded.unsendable_len(), 1);
    assert_eq!(encoded.unsendable[0].nlri, vec![Nlri::new(net(BIG))]);
    // 4084 received + ORIGINATOR_ID (7) + CLUSTER_LIST (7) - 0 (LOCAL_PREF was there).
    let too_long = EncodeError::MessageTooLong { len: wire.len() + 14, max: 4096 };
    assert_eq!(encoded.unsendable[0].error, too_long);
    let got = receive(out, &ctx);
    let mut want: Vec<IpNet> = small.iter().map(|p| net(p)).collect();
    want.sort();
    assert_eq!(got.announced, want, "the 40 small routes");
    assert_eq!(got.withdrawn, vec![net(BIG)], "the big one is withdrawn, never announced");
    assert_eq!(got.end_of_rib, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert_eq!(encoded.messages, 1 + 1 + 2, "one UPDATE for the 40 (one attribute set)");
}

/// RFC 8654 §4: a route advertised before that no longer fits is withdrawn, not left stale.
#[test]
fn advertised_route_that_grows_past_the_limit_is_withdrawn() {
    let ctx = WireContext::modern();
    let mut r = rib();
    let source = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let mut client = peer("198.18.0.2", LOCAL_AS, "2.2.2.2");
    client.rr_client = true;
    let client = up(&mut r, 2, client);
    r.apply_update(source, &announce(&[BIG], ibgp_attrs(10), "198.18.0.1")).unwrap();
    let mut out = BytesMut::new();
    let first = r.pending_updates(client).unwrap().encode(&ctx, &mut out).unwrap();
    assert!(first.unsendable.is_empty());
    assert_eq!(receive(out, &ctx).announced, vec![net(BIG)]);

    r.apply_update(source, &announce(&[BIG], ibgp_attrs(1008), "198.18.0.1")).unwrap();
    let mut out = BytesMut::new();
    let second = r.pending_updates(client).unwrap().encode(&ctx, &mut out).unwrap();
    assert_eq!(second.unsendable_len(), 1);
    let got = receive(out, &ctx);
    assert!(got.announced.is_empty());
    assert_eq!(got.withdrawn, vec![net(BIG)]);
}

/// In one attribute set, the prefixes that fit a message are sent even when longer ones of
/// the same set do not fit: IPv6 /48s (7 octets) and /128s (17 octets).
#[test]
fn only_the_prefixes_that_do_not_fit_are_left_out_of_an_attribute_set() {
    let ctx = WireContext::modern();
    let short = Nlri::new(net("2001:db8:1::/48"));
    let long = Nlri::new(net("2001:db8::1/128"));
    let batch_with = |communities: u32| OutBatch {
        announcements: vec![Announcement {
            family: Family::IPV6_UNICAST,
            attrs: Arc::new(Attrs::new(
                ibgp_attrs(communities),
                MpNextHop { global: ip("2001:db8::fe"), link_local: None },
            )),
            nlri: vec![short, long, short],
        }],
        ..Default::default()
    };
    // The community count at which a /128 no longer fits but a /48 still does.
    let mixed = (990..1020).find_map(|n| {
        let mut out = BytesMut::new();
        let e = batch_with(n).encode(&ctx, &mut out).unwrap();
        (e.unsendable_len() == 1).then_some((e, out))
    });
    let (encoded, out) = mixed.expect("a size where only the /128 is too long");
    assert_eq!(encoded.unsendable[0].nlri, vec![long]);
    let got = receive(out, &ctx);
    assert_eq!(got.announced, vec![short.prefix, short.prefix]);
    assert_eq!(got.withdrawn, vec![long.prefix]);
}

/// RFC 4271 §9.2: a prefix the encoder withdrew instead of announcing is not in the
/// Adj-RIB-Out: the advertised count and views leave it out until its route changes.
#[test]
fn unsendable_prefixes_are_not_counted_or_shown_as_advertised() {
    let ctx = WireContext::modern();
    let mut r = rib();
    let source = up(&mut r, 1, peer("198.18.0.1", LOCAL_AS, "1.1.1.1"));
    let mut client = peer("198.18.0.2", LOCAL_AS, "2.2.2.2");
    client.rr_client = true;
    let client = up(&mut r, 2, client);
    r.apply_update(source, &announce(&[BIG], ibgp_attrs(1008), "198.18.0.1")).unwrap();
    r.apply_update(source, &announce(&["10.1.0.0/24"], ibgp_attrs(3), "198.18.0.1")).unwrap();
    let advertised = |r: &Rib| r.peer_counts(client).unwrap().advertised;
    assert_eq!(advertised(&r), 2, "both queued");
    let mut out = BytesMut::new();
    let encoded = r.pending_updates(client).unwrap().encode(&ctx, &mut out).unwrap();
    assert_eq!(encoded.unsendable_len(), 1);
    r.set_unsendable(client, &encoded.unsendable);
    assert_eq!(advertised(&r), 1);
    let shown: Vec<IpNet> = r.advertised_to(client).unwrap().into_iter().map(|a| a.0).collect();
    assert_eq!(shown, vec![net("10.1.0.0/24")]);
    assert!(r.advertised(client, &net(BIG)).is_none());
    // Reported twice (a refresh sends it again): still one prefix.
    r.route_refresh(client, Family::IPV4_UNICAST).unwrap();
    let mut out = BytesMut::new();
    let encoded = r.pending_updates(client).unwrap().encode(&ctx, &mut out).unwrap();
    r.set_unsendable(client, &encoded.unsendable);
    assert_eq!(advertised(&r), 1);
    // The route shrinks: it is sent and counted again.
    r.apply_update(source, &announce(&[BIG], ibgp_attrs(10), "198.18.0.1")).unwrap();
    assert_eq!(advertised(&r), 2);
    let mut out = BytesMut::new();
    let encoded = r.pending_updates(client).unwrap().encode(&ctx, &mut out).unwrap();
    assert!(encoded.unsendable.is_empty());
    r.set_unsendable(client, &encoded.unsendable);
    assert!(r.advertised(client, &net(BIG)).is_some());
    // Too big again, then withdrawn: not counted twice.
    r.apply_update(source, &announce(&[BIG], ibgp_attrs(1008), "198.18.0.1")).unwrap();
    let mut out = BytesMut::new();
    let encoded = r.pending_updates(client).unwrap().encode(&ctx, &mut out).unwrap();
    r.set_unsendable(client, &encoded.unsendable);
    assert_eq!(advertised(&r), 1);
    r.apply_update(source, &withdraw(&[BIG])).unwrap();
    assert_eq!(advertised(&r), 1, "the withdrawn prefix was already left out");
}
