//! Seal and open throughput, and sealed size per interview, for realistic SIPAS batches.
//!
//! `cargo run --release -p fieldpost-seal --example bench` prints `BENCH <name> <value> <unit>`.

#[path = "support/sipas.rs"]
mod sipas;

use chrono::{TimeZone, Utc};
use fieldpost_seal::*;
use std::time::{Duration, Instant};

/// Runs `f` repeatedly for about `budget` and returns calls per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = DeviceSigningKey::generate()?;
    let (server, escrow) = (Identity::generate(), Identity::generate());
    let recipients = [server.to_public(), escrow.to_public()];
    let mut rng = sipas::Rng(0x5EA1_2026);
    let seal_batch = |payload: &[u8], interviews: &[InterviewSummary], seq: u64| {
        let input = SealInput {
            batch_id: uuid::Uuid::now_v7(),
            device_id: uuid::Uuid::now_v7(),
            sequence: seq,
            created_at: Utc
                .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
                .single()
                .unwrap_or_default(),
            interviews,
            payload,
        };
        seal(&input, &device, &recipients)
    };

    let mut per_interview_25 = 0.0;
    for n in [1usize, 10, 25, 50] {
        let (payload, interviews) = sipas::batch(&mut rng, n);
        let sealed = seal_batch(&payload, &interviews, 1)?;
        let per = sealed.len() as f64 / n as f64;
        println!("BENCH sealed_bytes_per_interview_batch{n} {per:.0} bytes");
        println!(
            "BENCH payload_json_bytes_per_interview_batch{n} {:.0} bytes",
            payload.len() as f64 / n as f64
        );
        if n == 25 {
            per_interview_25 = per;
        }
    }
    println!("BENCH sealed_bytes_per_interview {per_interview_25:.0} bytes");

    let (payload, interviews) = sipas::batch(&mut rng, 25);
    let budget = Duration::from_secs(2);
    let mut seq = 0;
    let seals = rate(budget, || {
        seq += 1;
        let _ = seal_batch(&payload, &interviews, seq);
    });
    println!("BENCH seal_throughput {seals:.0} batches/s");
    println!(
        "BENCH seal_throughput_interviews {:.0} interviews/s",
        seals * 25.0
    );

    let sealed = seal_batch(&payload, &interviews, 1)?;
    let key = device.public_key();
    let ids = [server];
    let mut ok = true;
    let opens = rate(budget, || ok &= open(&sealed, &key, &ids).is_ok());
    if !ok {
        return Err("a benchmark batch failed to open".into());
    }
    println!("BENCH open_throughput {opens:.0} batches/s");
    println!(
        "BENCH open_throughput_interviews {:.0} interviews/s",
        opens * 25.0
    );
    Ok(())
}
