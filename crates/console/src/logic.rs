//! What the console computes from API answers, kept free of the browser so native tests run
//! it: the progress tables, CSV files, the enrolment link a QR code carries.

use fieldpost_proto::v1::ProgressRow;
use std::collections::BTreeMap;

/// The interview status the server counts as done (`storage::ingest::COMPLETED`); every other
/// status is a final non-response (the server only receives finished interviews).
pub const COMPLETED: &str = "completed";

/// One line of a progress table: a group's completed and non-response interviews.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupCount {
    pub province: String,
    pub group: String,
    pub completed: u64,
    pub non_response: u64,
}

impl GroupCount {
    pub fn total(&self) -> u64 {
        self.completed + self.non_response
    }
}

/// Folds the server's (province, group, status) counts into one line per (province, group),
/// in the server's order (province, then group).
pub fn pivot(rows: &[ProgressRow]) -> Vec<GroupCount> {
    let mut by: BTreeMap<(String, String), GroupCount> = BTreeMap::new();
    for r in rows {
        let e = by
            .entry((r.province.clone(), r.group.clone()))
            .or_insert_with(|| GroupCount {
                province: r.province.clone(),
                group: r.group.clone(),
                ..Default::default()
            });
        if r.status == COMPLETED {
            e.completed += r.interviews;
        } else {
            e.non_response += r.interviews;
        }
    }
    by.into_values().collect()
}

/// A CSV file as Excel opens it correctly with Vietnamese text: UTF-8 with a byte-order mark,
/// CRLF line ends, fields quoted when they hold a comma, quote or line break (RFC 4180).
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    fn field(out: &mut String, f: &str) {
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    let mut out = String::from("\u{FEFF}");
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        for (i, c) in cells.enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, c);
        }
        out.push_str("\r\n");
    };
    line(&mut header.iter().copied());
    for r in rows {
        line(&mut r.iter().map(String::as_str));
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a server address
/// (with its `://` and port) survives as one query value.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link an enrolment QR code carries: the app reads the server address, the one-time code
/// and the fingerprint it must find on the server's key, so nothing is typed on the phone.
pub fn enrol_link(server: &str, code: &str, fingerprint: &str) -> String {
    format!(
        "fieldpost://enrol?server={}&code={}&fp={}",
        percent_encode(server),
        percent_encode(code),
        percent_encode(fingerprint)
    )
}

/// The enrolment link as an SVG QR code (medium error correction: readable off a laptop
/// screen at arm's length), or `None` when the text is too long for a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(p: &str, g: &str, s: &str, n: u64) -> ProgressRow {
        ProgressRow {
            province: p.into(),
            group: g.into(),
            status: s.into(),
            interviews: n,
        }
    }

    #[test]
    fn pivot_counts_completed_and_every_other_status_as_non_response() {
        let rows = [
            row("01", "00004", "completed", 7),
            row("01", "00004", "refused", 2),
            row("01", "00004", "nobody_home", 1),
            row("01", "00007", "completed", 3),
            row("79", "26734", "refused", 4),
        ];
        let t = pivot(&rows);
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].completed, t[0].non_response, t[0].total()),
            (7, 3, 10)
        );
        assert_eq!((t[1].group.as_str(), t[1].completed), ("00007", 3));
        assert_eq!((t[2].province.as_str(), t[2].non_response), ("79", 4));
    }

    #[test]
    fn csv_has_a_bom_crlf_and_quotes_what_needs_it() {
        let s = csv(
            &["Xã", "Ghi chú"],
            &[vec!["Phường Điện Biên".into(), "a, \"b\"".into()]],
        );
        assert!(s.starts_with('\u{FEFF}'));
        assert_eq!(
            s.trim_start_matches('\u{FEFF}'),
            "Xã,Ghi chú\r\nPhường Điện Biên,\"a, \"\"b\"\"\"\r\n"
        );
    }

    #[test]
    fn enrol_link_encodes_the_server_address_as_one_value() {
        assert_eq!(
            enrol_link("http://127.0.0.1:8080", "ABCD-1234", "SHA256:x+y/z="),
            "fieldpost://enrol?server=http%3A%2F%2F127.0.0.1%3A8080&code=ABCD-1234&fp=SHA256%3Ax%2By%2Fz%3D"
        );
    }

    #[test]
    fn qr_code_is_an_svg() {
        let svg = qr_svg(&enrol_link(
            "https://fieldpost.example.vn",
            "K7Q2-9XPM",
            "ab:cd",
        ))
        .expect("fits");
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
