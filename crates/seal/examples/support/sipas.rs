//! A realistic SIPAS 2022+ household interview, as the store serializes it into a batch payload
//! (the shape of `fieldpost_proto::v1::InterviewRecord`): about 120 answers plus per-question
//! paradata. Values come from a small deterministic generator so figures are reproducible.

use fieldpost_seal::InterviewSummary;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// xorshift64*: reproducible test data, not cryptography.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn pick(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A UUIDv7-shaped id from the generator (time part fixed near 2026-11).
    pub fn uuid(&mut self) -> Uuid {
        let ms: u64 = 1_795_000_000_000 + self.pick(1_000_000_000);
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.next().to_be_bytes());
        random[8..].copy_from_slice(&self.next().to_be_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid()
    }
}

const COMMENTS: [&str; 4] = [
    "Cán bộ một cửa nhiệt tình, nhưng thời gian chờ đợi còn lâu.",
    "Đề nghị công khai rõ hơn phí và lệ phí khi làm thủ tục đất đai.",
    "Nên mở rộng dịch vụ công trực tuyến để người dân không phải đi lại nhiều lần.",
    "",
];

/// One interview record (JSON value) and its header summary.
pub fn interview(rng: &mut Rng, enumerator: Uuid, province: &str) -> (Value, InterviewSummary) {
    let id = rng.uuid();
    let commune = format!("{:05}", 4 + rng.pick(300));
    let mut a = Map::new();
    a.insert("province".into(), json!(province));
    a.insert("commune".into(), json!(commune));
    a.insert(
        "village".into(),
        json!(format!("{commune}-{:03}", rng.pick(40))),
    );
    for (q, n) in [
        ("sex", 2),
        ("age_band", 5),
        ("ethnicity", 2),
        ("education", 6),
        ("occupation", 9),
        ("urban_rural", 2),
        ("terrain", 3),
    ] {
        a.insert(q.into(), json!(1 + rng.pick(n)));
    }
    a.insert(
        "geopoint".into(),
        json!(format!(
            "21.{:06} 105.{:06} {} 5",
            rng.pick(999_999),
            rng.pick(999_999),
            rng.pick(40)
        )),
    );
    for i in 1..=9 {
        a.insert(format!("b1_{i:02}"), json!(1 + rng.pick(3)));
    }
    for i in 1..=6 {
        let chosen: Vec<String> = (1..=7)
            .filter(|_| rng.pick(3) == 0)
            .map(|c| c.to_string())
            .collect();
        a.insert(format!("b2_channel_{i}"), json!(chosen.join(" ")));
    }
    for q in [
        "b3_comment_policy",
        "b4_harassment",
        "b5_informal_payment",
        "b6_preferred_channel",
        "b7_online_use",
    ] {
        a.insert(q.into(), json!(1 + rng.pick(3)));
    }
    for i in 1..=12 {
        a.insert(format!("b8_{i:02}"), json!(1 + rng.pick(2)));
    }
    for i in 1..=33 {
        a.insert(format!("b9_{i:02}"), json!(1 + rng.pick(5)));
    }
    for i in 1..=10 {
        a.insert(format!("b10_{i:02}"), json!(1 + rng.pick(3)));
    }
    for q in [
        "b11_trust",
        "b12_recommend",
        "b13_compare_last_year",
        "b14_digital_id",
        "b15_dvc_level",
    ] {
        a.insert(q.into(), json!(1 + rng.pick(4)));
    }
    for i in 1..=20 {
        a.insert(format!("calc_{i:02}"), json!(rng.pick(100)));
    }
    a.insert("b16_comments".into(), json!(COMMENTS[rng.pick(4) as usize]));
    // Paradata: seconds from the start at which each question was answered.
    let mut t = 0u64;
    let paradata: Map<String, Value> = a
        .keys()
        .map(|k| {
            t += 3 + rng.pick(25);
            (k.clone(), json!(t))
        })
        .collect();
    let status = if rng.pick(10) == 0 {
        "refused"
    } else {
        "completed"
    };
    let record = json!({
        "interview_id": id,
        "assignment_id": rng.uuid(),
        "questionnaire_version": "sipas-2024.1",
        "enumerator_id": enumerator,
        "status": status,
        "started_at": "2026-11-23T02:10:00Z",
        "ended_at": format!("2026-11-23T02:{:02}:{:02}Z", 10 + t / 60 % 50, t % 60),
        "answers": a,
        "paradata": {"answered_at_s": paradata},
    });
    let summary = InterviewSummary {
        interview_id: id,
        province: province.into(),
        commune,
        stratum: if rng.pick(2) == 0 {
            "urban".into()
        } else {
            "rural".into()
        },
        status: status.into(),
        enumerator_id: enumerator,
        questionnaire_version: "sipas-2024.1".into(),
    };
    (record, summary)
}

/// A batch payload (`{"interviews": [...]}`) of `n` interviews and their summaries.
pub fn batch(rng: &mut Rng, n: usize) -> (Vec<u8>, Vec<InterviewSummary>) {
    let enumerator = rng.uuid();
    let (records, summaries): (Vec<Value>, Vec<InterviewSummary>) =
        (0..n).map(|_| interview(rng, enumerator, "01")).unzip();
    let payload = serde_json::to_vec(&json!({ "interviews": records })).unwrap_or_default();
    (payload, summaries)
}
