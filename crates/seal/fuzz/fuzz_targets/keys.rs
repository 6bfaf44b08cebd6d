//! The fixed keys of the committed test vector, so seeds from tests/vectors get past the
//! signature and recipient checks and the fuzzer reaches decryption and decompression.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use fieldpost_seal::{DevicePublicKey, DeviceSigningKey, Identity};
use std::sync::OnceLock;

pub struct Keys {
    pub device: DeviceSigningKey,
    pub public: DevicePublicKey,
    pub ids: Vec<Identity>,
    #[allow(dead_code)] // used by open_plaintext only
    pub header: Vec<u8>,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/v1-two-recipients.json"))
                .expect("vector");
        let s = |k: &str| v[k].as_str().expect("field").to_owned();
        let device =
            DeviceSigningKey::from_pkcs8(&B64.decode(s("device_pkcs8_base64")).expect("b64"))
                .expect("key");
        let ids = v["identities"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|i| i.as_str().expect("s").parse().expect("id"))
            .collect();
        Keys {
            public: device.public_key(),
            device,
            ids,
            header: s("header_utf8").into_bytes(),
        }
    })
}
