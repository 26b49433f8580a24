//! `bgpctl decode`: BGP messages in, one JSON object per message out.
//!
//! A pure function from bytes and session options to output lines, so it is tested here and
//! the binary only reads files and prints. For a malformed message the output says what the
//! daemon would do: the NOTIFICATION it would send (RFC 4271 §6, code/subcode/data), or the
//! RFC 7606 action it would take on the UPDATE (treat-as-withdraw, attribute discard).
use bgp_core::wire::context::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use bgp_core::wire::header::{HEADER_LEN, MARKER};
use bgp_core::wire::message::{decode_message, Message};
use bgp_core::wire::notification::codes;
use bgp_core::wire::split_frame;
use bgp_core::wire::{AttributeAction, DecodeError, Family, Notification, Update, WireContext};
use bytes::BytesMut;
use serde_json::{json, Value};

/// The negotiated session the messages are decoded for (nothing is guessed from the bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Both sides announced the 4-octet AS capability (RFC 6793).
    pub four_octet_as: bool,
    /// Families whose NLRI carry ADD-PATH path identifiers (RFC 7911).
    pub add_path: Vec<Family>,
    /// Extended messages (RFC 8654): up to 65535 octets.
    pub extended_message: bool,
}

impl DecodeOptions {
    pub fn context(&self) -> WireContext {
        WireContext {
            four_octet_as: self.four_octet_as,
            add_path: self.add_path.clone(),
            max_message_len: if self.extended_message {
                MAX_EXTENDED_MESSAGE_LEN
            } else {
                MAX_MESSAGE_LEN
            },
        }
    }
}

/// Hex text to bytes. Whitespace (so one message per line works too), `:` separators, a
/// leading `0x` per word and `#` comments to the end of a line are ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::with_capacity(text.len());
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        for word in line.split(|c: char| c.is_whitespace() || c == ':') {
            let word = word.strip_prefix("0x").unwrap_or(word);
            for c in word.chars() {
                let d = c.to_digit(16).ok_or_else(|| format!("not a hex digit: {c:?}"))?;
                digits.push(d as u8);
            }
        }
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    Ok(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// The NOTIFICATION a decode error sends, as JSON.
pub fn notification_json(n: &Notification) -> Value {
    let text = codes::describe(n.code, n.subcode);
    let (code_name, subcode_name) = text.split_once(" / ").unwrap_or((text, ""));
    json!({
        "code": n.code,
        "subcode": n.subcode,
        "code_name": code_name,
        "subcode_name": subcode_name,
        "data": hex(&n.data),
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn action_name(a: AttributeAction) -> &'static str {
    match a {
        AttributeAction::Discard => "attribute-discard",
        AttributeAction::TreatAsWithdraw => "treat-as-withdraw",
    }
}

/// The RFC 7606 action the daemon takes on an UPDATE that decoded with issues.
fn rfc7606_json(u: &Update) -> Value {
    let withdraw = u.issues.iter().any(|i| i.action == AttributeAction::TreatAsWithdraw);
    let withdrawn = u.withdrawn.len() + u.mp_unreach.as_ref().map_or(0, |m| m.withdrawn.len());
    json!({
        "action": if withdraw { "treat-as-withdraw" } else { "attribute-discard" },
        "withdrawn_prefixes": if withdraw { Some(withdrawn) } else { None },
        "issues": u.issues.iter().map(|i| json!({
            "type_code": i.type_code,
            "action": action_name(i.action),
            "reason": i.reason,
        })).collect::<Vec<_>>(),
    })
}

fn message_json(offset: usize, len: usize, msg: &Message) -> Value {
    let kind = match msg {
        Message::Open(_) => "OPEN",
        Message::Update(u) if u.end_of_rib_family().is_some() => "UPDATE (End-of-RIB)",
        Message::Update(_) => "UPDATE",
        Message::Notification(_) => "NOTIFICATION",
        Message::Keepalive => "KEEPALIVE",
        Message::RouteRefresh(_) => "ROUTE-REFRESH",
    };
    let mut v = json!({ "offset": offset, "length": len, "type": kind });
    let body = match msg {
        Message::Keepalive => Value::Null,
        Message::Notification(n) => {
            let mut j = notification_json(n);
            if let Some(text) = n.shutdown_message() {
                j["shutdown_communication"] = json!(text);
            }
            j
        }
        Message::Update(u) => {
            let mut j = serde_json::to_value(u).unwrap_or(Value::Null);
            readable_attributes(&mut j["attributes"], &u.attributes);
            if let Some(f) = u.end_of_rib_family() {
                j["end_of_rib"] = json!(f.to_string());
            }
            if !u.issues.is_empty() {
                v["rfc7606"] = rfc7606_json(u);
            }
            j
        }
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    };
    if !body.is_null() {
        v["message"] = body;
    }
    v
}

/// Communities as engineers write them: RFC 1997 `asn:value`, RFC 4360 extended ones as 16
/// hex digits, and the AS_PATH as a string too (`65001 {65002,65003}`).
fn readable_attributes(j: &mut Value, attrs: &bgp_core::wire::PathAttributes) {
    if !j.is_object() {
        return;
    }
    j["communities"] = json!(attrs
        .communities
        .iter()
        .map(|c| format!("{}:{}", c >> 16, c & 0xffff))
        .collect::<Vec<_>>());
    j["extended_communities"] =
        json!(attrs.extended_communities.iter().map(|c| format!("{c:016x}")).collect::<Vec<_>>());
    if let Some(path) = &attrs.as_path {
        j["as_path_text"] = json!(path.to_string());
    }
}

fn error_json(offset: usize, err: &DecodeError) -> Value {
    json!({
        "offset": offset,
        "error": format!("{err:?}"),
        "notification": notification_json(&Notification::from(err)),
    })
}

/// Decode concatenated raw messages; one JSON line per message (or per error).
///
/// A malformed message gives the NOTIFICATION the daemon would send. When its header is
/// intact (marker and a usable length) decoding goes on with the next message, so a capture
/// can be read past one bad message; otherwise the stream cannot be resynchronised and the
/// output stops there, as the session would.
pub fn decode_stream(bytes: &[u8], opts: &DecodeOptions) -> Vec<String> {
    let ctx = opts.context();
    let mut out = Vec::new();
    let mut buf = BytesMut::from(bytes);
    let mut offset = 0;
    while !buf.is_empty() {
        match split_frame(&mut buf, &ctx) {
            Ok(Some(frame)) => {
                let len = frame.len();
                let line = match decode_message(frame, &ctx) {
                    Ok(msg) => message_json(offset, len, &msg),
                    Err(e) => error_json(offset, &e),
                };
                out.push(line.to_string());
                offset += len;
            }
            Ok(None) => {
                out.push(
                    json!({
                        "offset": offset,
                        "error": "truncated",
                        "detail": format!("{} octets left, not a whole message", buf.len()),
                    })
                    .to_string(),
                );
                break;
            }
            Err(e) => {
                out.push(error_json(offset, &e).to_string());
                // Skip by the header's own length when the marker is right, else stop.
                let len = buf
                    .get(16..18)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                    .filter(|&l| buf.starts_with(&MARKER) && l >= HEADER_LEN && l <= buf.len());
                let Some(len) = len else { break };
                let _ = buf.split_to(len);
                offset += len;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(hex_text: &str, opts: &DecodeOptions) -> Vec<Value> {
        let bytes = parse_hex(hex_text).unwrap();
        decode_stream(&bytes, opts).iter().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    const KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff 0013 04";

    #[test]
    fn hex_with_whitespace_comments_and_separators() {
        assert_eq!(
            parse_hex("# note\n0x01 02:03\n  0a0B # trailing\n").unwrap(),
            [1, 2, 3, 10, 11]
        );
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn keepalives_one_per_line() {
        let out = run(&format!("{KEEPALIVE}\n{KEEPALIVE}\n"), &DecodeOptions::default());
        assert_eq!(out.len(), 2);
        assert_eq!(out[1]["type"], "KEEPALIVE");
        assert_eq!(out[1]["offset"], 19);
    }

    #[test]
    fn update_with_as4_and_add_path_options() {
        // UPDATE: ORIGIN IGP, AS_PATH 4200000000, NEXT_HOP 198.18.0.1, NLRI path 7 198.18.1.0/24.
        let upd = "ffffffffffffffffffffffffffffffff 0033 02 0000 0014 \
                   400101 00 400206 0201fa56ea00 400304 c6120001 00000007 18c61201";
        let opts = DecodeOptions {
            four_octet_as: true,
            add_path: vec![Family::IPV4_UNICAST],
            ..Default::default()
        };
        let out = run(upd, &opts);
        assert_eq!(out[0]["type"], "UPDATE");
        let m = &out[0]["message"];
        assert_eq!(m["nlri"][0]["prefix"], "198.18.1.0/24");
        assert_eq!(m["nlri"][0]["path_id"], 7);
        assert_eq!(m["attributes"]["next_hop"], "198.18.0.1");
        assert_eq!(m["attributes"]["as_path_text"], "4200000000");
        // Without the options, the same bytes mean something else: no guessing.
        let out = run(upd, &DecodeOptions::default());
        assert!(out[0].get("notification").is_some() || out[0].get("rfc7606").is_some());
    }

    #[test]
    fn malformed_update_prints_the_notification() {
        // Withdrawn Routes Length 0x40 overruns the message: 3/1.
        let out =
            run("ffffffffffffffffffffffffffffffff 0017 02 0040 0000", &DecodeOptions::default());
        let n = &out[0]["notification"];
        assert_eq!((n["code"].as_u64(), n["subcode"].as_u64()), (Some(3), Some(1)));
        assert_eq!(n["code_name"], "UPDATE Message Error");
        assert_eq!(n["subcode_name"], "Malformed Attribute List");
        assert_eq!(n["data"], "");
    }

    #[test]
    fn treat_as_withdraw_prints_the_action_and_the_withdrawals() {
        // ORIGIN 5 (invalid), AS_PATH, NEXT_HOP; NLRI 198.18.1.0/24.
        let upd = "ffffffffffffffffffffffffffffffff 002f 02 0000 0014 \
                   400101 05 400206 020100 00fde9 400304 c6120001 18c61201";
        let out = run(upd, &DecodeOptions { four_octet_as: true, ..Default::default() });
        assert_eq!(out[0]["rfc7606"]["action"], "treat-as-withdraw");
        assert_eq!(out[0]["rfc7606"]["withdrawn_prefixes"], 1);
        assert_eq!(out[0]["rfc7606"]["issues"][0]["type_code"], 1);
        assert_eq!(out[0]["message"]["withdrawn"][0]["prefix"], "198.18.1.0/24");
    }

    #[test]
    fn bad_type_is_skipped_by_length_bad_marker_stops() {
        let text = format!("ffffffffffffffffffffffffffffffff 0013 09 {KEEPALIVE} 00ff {KEEPALIVE}");
        let out = run(&text, &DecodeOptions::default());
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["notification"]["subcode"], 3);
        assert_eq!(out[0]["notification"]["data"], "09");
        assert_eq!(out[1]["type"], "KEEPALIVE");
        assert_eq!(out[2]["notification"]["subcode_name"], "Connection Not Synchronized");
    }

    #[test]
    fn truncated_tail_is_reported() {
        let out = run(&format!("{KEEPALIVE} ffffffff"), &DecodeOptions::default());
        assert_eq!(out[1]["error"], "truncated");
    }

    #[test]
    fn shutdown_communication_and_end_of_rib() {
        // Cease / Administrative Shutdown with "bye", then the IPv6 End-of-RIB.
        let text = "ffffffffffffffffffffffffffffffff 0019 03 0602 03 627965\n\
                    ffffffffffffffffffffffffffffffff 001d 02 0000 0006 800f03 000201";
        let out = run(text, &DecodeOptions::default());
        assert_eq!(out[0]["message"]["shutdown_communication"], "bye");
        assert_eq!(out[0]["message"]["subcode_name"], "Administrative Shutdown");
        assert_eq!(out[1]["type"], "UPDATE (End-of-RIB)");
        assert_eq!(out[1]["message"]["end_of_rib"], "ipv6_unicast");
    }

    #[test]
    fn extended_message_option_raises_the_limit() {
        let mut msg = vec![0xff; 16];
        msg.extend_from_slice(&5000u16.to_be_bytes());
        msg.push(3);
        msg.extend_from_slice(&[6, 0]);
        msg.resize(5000, 0);
        let out = decode_stream(&msg, &DecodeOptions::default());
        assert!(out[0].contains("Bad Message Length"));
        let opts = DecodeOptions { extended_message: true, ..Default::default() };
        assert!(decode_stream(&msg, &opts)[0].contains("NOTIFICATION"));
    }
}
