//! Aligned human-readable tables for `bgpctl` output.
use serde_json::Value;

fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Left-aligned columns, two spaces apart.
pub fn align(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|x| x.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn uptime(secs: u64) -> String {
    if secs == 0 {
        return "-".to_string();
    }
    format!("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60)
}

pub fn neighbors(data: &Value) -> String {
    let mut rows = vec![[
        "Neighbor",
        "AS",
        "State",
        "Uptime",
        "Rcvd",
        "Accepted",
        "Advertised",
        "Source",
        "Last error",
    ]
    .map(String::from)
    .to_vec()];
    for n in data.as_array().into_iter().flatten() {
        let mut state = s(&n["state"]);
        if n["admin_down"].as_bool() == Some(true) {
            state.push_str(" (admin)");
        }
        rows.push(vec![
            s(&n["address"]),
            s(&n["remote_as"]),
            state,
            uptime(n["uptime_secs"].as_u64().unwrap_or(0)),
            s(&n["prefixes_received"]),
            s(&n["prefixes_accepted"]),
            s(&n["prefixes_advertised"]),
            s(&n["source"]),
            s(&n["last_error"]),
        ]);
    }
    align(&rows)
}

pub fn routes(data: &Value) -> String {
    let mut rows =
        vec![["Prefix", "", "From", "Next hop", "AS path", "LP", "MED", "Origin", "Note"]
            .map(String::from)
            .to_vec()];
    for r in data.as_array().into_iter().flatten() {
        for (i, p) in r["paths"].as_array().into_iter().flatten().enumerate() {
            let mut flags = String::new();
            if p["best"].as_bool() == Some(true) {
                flags.push('*');
            }
            if p["ecmp"].as_bool() == Some(true) {
                flags.push('=');
            }
            if p["stale"].as_bool() == Some(true) {
                flags.push('S');
            }
            rows.push(vec![
                if i == 0 { s(&r["prefix"]) } else { String::new() },
                flags,
                s(&p["from"]),
                s(&p["next_hop"]),
                match s(&p["as_path"]) {
                    x if x.is_empty() => "(local)".to_string(),
                    x => x,
                },
                s(&p["local_pref"]),
                s(&p["med"]),
                s(&p["origin"]),
                if p["reason"].is_null() { String::new() } else { s(&p["reason"]) },
            ]);
        }
    }
    let mut out = align(&rows);
    out.push_str("* best, = in the ECMP set, S stale (graceful restart)\n");
    out
}

pub fn kernel(data: &Value) -> String {
    let mut rows = vec![["Prefix", "Next hops"].map(String::from).to_vec()];
    for r in data.as_array().into_iter().flatten() {
        let hops = if r["blackhole"].as_bool() == Some(true) {
            "blackhole".to_string()
        } else {
            let devs: Vec<String> = r["devices"].as_array().into_iter().flatten().map(s).collect();
            r["next_hops"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, h)| match devs.get(i).filter(|d| !d.is_empty()) {
                    Some(d) => format!("{} dev {d}", s(h)),
                    None => s(h),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        rows.push(vec![s(&r["prefix"]), hops]);
    }
    align(&rows)
}

pub fn nexthops(data: &Value) -> String {
    let mut rows = vec![["Next hop", "Reachable", "IGP cost", "Via"].map(String::from).to_vec()];
    for n in data.as_array().into_iter().flatten() {
        let via: Vec<String> = n["via"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| format!("{} dev {}", s(&v["gateway"]), s(&v["dev"])))
            .collect();
        let reachable = if n["reachable"].as_bool() == Some(true) { "yes" } else { "no" };
        rows.push(vec![
            s(&n["next_hop"]),
            reachable.to_string(),
            s(&n["igp_cost"]),
            via.join(", "),
        ]);
    }
    align(&rows)
}

/// `show datastore`: the connection and counts, then one line per unusable resource.
pub fn datastore(data: &Value) -> String {
    let connected = if data["connected"].as_bool() == Some(true) {
        format!("connected ({} s)", s(&data["connected_secs"]))
    } else {
        "not connected".to_string()
    };
    let mut rows = vec![
        vec!["Backend".to_string(), s(&data["backend"])],
        vec!["Endpoints".to_string(), endpoints(&data["endpoints"])],
        vec!["Prefix".to_string(), s(&data["prefix"])],
        vec!["Node".to_string(), s(&data["node_name"])],
        vec!["State".to_string(), connected],
        vec!["View from".to_string(), s(&data["view_source"])],
        vec!["Revision".to_string(), s(&data["revision"])],
        vec!["Reconnects".to_string(), s(&data["reconnects"])],
        vec!["Last error".to_string(), s(&data["last_error"])],
    ];
    if let Some(counts) = data["resources"].as_object() {
        let text: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {}", s(v))).collect();
        rows.push(vec!["Resources".to_string(), text.join(", ")]);
    }
    let mut out = align(&rows);
    let problems = data["problems"].as_array().map_or(&[][..], |p| p.as_slice());
    if !problems.is_empty() {
        out.push_str(&format!("\nNot used ({}):\n", problems.len()));
        let mut rows = vec![vec!["Key".to_string(), "Why".to_string()]];
        rows.extend(problems.iter().map(|p| vec![s(&p["key"]), s(&p["error"])]));
        out.push_str(&align(&rows));
    }
    out
}

fn endpoints(v: &Value) -> String {
    v.as_array().into_iter().flatten().map(s).collect::<Vec<_>>().join(", ")
}

pub fn pretty(data: &Value) -> String {
    let mut out = serde_json::to_string_pretty(data).unwrap_or_default();
    out.push('\n');
    out
}

pub fn summary(data: &Value) -> String {
    match data.get("summary") {
        Some(v) => format!("{}\n", s(v)),
        None => "ok\n".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nexthop_table_names_gateways_and_devices() {
        let data = json!([
            {"next_hop": "198.18.2.2", "reachable": true, "igp_cost": 30,
             "via": [{"gateway": "198.18.1.2", "dev": "v1-r1"}, {"gateway": "198.18.3.2", "dev": "v3-r2"}]},
            {"next_hop": "198.18.9.9", "reachable": false, "igp_cost": null, "via": []}
        ]);
        let text = nexthops(&data);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[1].starts_with("198.18.2.2  yes"), "{text}");
        assert!(lines[1].ends_with("198.18.1.2 dev v1-r1, 198.18.3.2 dev v3-r2"), "{text}");
        assert!(lines[2].starts_with("198.18.9.9  no"), "{text}");
    }

    #[test]
    fn neighbor_table_is_aligned() {
        let data = json!([
            {"address": "198.18.0.2", "remote_as": 64512, "state": "Established", "uptime_secs": 65,
             "prefixes_received": 1, "prefixes_accepted": 1, "prefixes_advertised": 2, "last_error": null},
            {"address": "198.18.0.10", "remote_as": 65000, "state": "Active", "uptime_secs": 0,
             "prefixes_received": 0, "prefixes_accepted": 0, "prefixes_advertised": 0, "last_error": "connect: refused",
             "admin_down": true}
        ]);
        let text = neighbors(&data);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("198.18.0.2   64512  Established     00:01:05"), "{text}");
        assert!(lines[2].contains("Active (admin)"), "{text}");
        let col = lines[0].find("State").unwrap();
        assert_eq!(&lines[1][col..col + 11], "Established");
    }
}
