//! A location answer: the platform's GPS when it answers, typed latitude and longitude otherwise
//! (a desktop has no GPS; a phone indoors may not get a fix).

use crate::app::ctx;
use crate::i18n::Msg;
use crate::ipc;
use fieldpost_proto::app::GpsFix;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use uuid::Uuid;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["navigator", "geolocation"], js_name = getCurrentPosition)]
    fn get_current_position(
        ok: &js_sys::Function,
        err: &js_sys::Function,
        opts: &JsValue,
    ) -> Result<(), JsValue>;
}

/// Latitude and longitude from an answer `"lat lon alt acc"`.
pub fn split(value: &str) -> (String, String) {
    let mut it = value.split_whitespace();
    (
        it.next().unwrap_or_default().to_string(),
        it.next().unwrap_or_default().to_string(),
    )
}

/// The answer for a position, or None when a coordinate is not a number or out of range.
pub fn answer(lat: &str, lon: &str, accuracy: Option<f64>) -> Option<String> {
    let lat: f64 = lat.trim().replace(',', ".").parse().ok()?;
    let lon: f64 = lon.trim().replace(',', ".").parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
        .then(|| format!("{lat} {lon} 0 {}", accuracy.unwrap_or(0.0)))
}

fn field(obj: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(obj, &JsValue::from_str(name)).ok()
}

/// One fix from the platform, or None when there is no GPS, no permission, or no fix in 20 s.
async fn geolocate() -> Option<GpsFix> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"enableHighAccuracy".into(), &JsValue::TRUE);
        let _ = js_sys::Reflect::set(&opts, &"timeout".into(), &JsValue::from(20_000));
        if get_current_position(&resolve, &reject, &opts).is_err() {
            let _ = reject.call0(&JsValue::NULL);
        }
    });
    // Some webviews never answer when no permission prompt can be shown: give up after 25 s.
    let give_up = js_sys::Promise::new(&mut |_, reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, 25_000);
        }
    });
    let first = js_sys::Promise::race(&js_sys::Array::of2(&promise, &give_up));
    let pos = wasm_bindgen_futures::JsFuture::from(first).await.ok()?;
    let coords = field(&pos, "coords")?;
    Some(GpsFix {
        latitude: field(&coords, "latitude")?.as_f64()?,
        longitude: field(&coords, "longitude")?.as_f64()?,
        accuracy_m: field(&coords, "accuracy").and_then(|a| a.as_f64()),
    })
}

#[component]
pub fn Geopoint(
    value: Memo<String>,
    read_only: Memo<bool>,
    interview_id: Uuid,
    save: Callback<Value>,
) -> impl IntoView {
    let c = ctx();
    let lat = RwSignal::new(split(&value.get_untracked()).0);
    let lon = RwSignal::new(split(&value.get_untracked()).1);
    Effect::new(move |_| {
        let (a, b) = split(&value.get());
        lat.set(a);
        lon.set(b);
    });
    let status = RwSignal::new(None::<Msg>);
    let typed = move || {
        let (a, b) = (lat.get_untracked(), lon.get_untracked());
        if a.trim().is_empty() && b.trim().is_empty() {
            save.run(Value::Null);
        } else if let Some(v) = answer(&a, &b, None) {
            status.set(None);
            save.run(Value::String(v));
        } else if !a.trim().is_empty() && !b.trim().is_empty() {
            status.set(Some(Msg::NotANumber));
        }
    };
    let use_gps = move |_| {
        status.set(Some(Msg::GpsLocating));
        spawn_local(async move {
            match geolocate().await {
                Some(fix) => {
                    status.set(None);
                    // The fix is paradata too (where the interview happened), kept even if the
                    // answer is later typed over.
                    let _ = ipc::record_gps(interview_id, fix).await;
                    let (a, b) = (fix.latitude.to_string(), fix.longitude.to_string());
                    if let Some(v) = answer(&a, &b, fix.accuracy_m) {
                        save.run(Value::String(v));
                    }
                }
                None => status.set(Some(Msg::GpsUnavailable)),
            }
        });
    };
    view! {
        <div class="geo">
            <label class="field">
                <span>{move || c.t(Msg::Latitude)}</span>
                <input class="q-lat" type="text" inputmode="decimal" disabled=read_only prop:value=lat
                    on:input=move |ev| lat.set(event_target_value(&ev)) on:change=move |_| typed()/>
            </label>
            <label class="field">
                <span>{move || c.t(Msg::Longitude)}</span>
                <input class="q-lon" type="text" inputmode="decimal" disabled=read_only prop:value=lon
                    on:input=move |ev| lon.set(event_target_value(&ev)) on:change=move |_| typed()/>
            </label>
            <button type="button" class="secondary q-gps" disabled=read_only on:click=use_gps>
                {move || c.t(Msg::UseGps)}
            </button>
            {move || status.get().map(|m| view! { <p class="muted small" role="status">{c.t(m)}</p> })}
        </div>
    }
}

/// Where the interview took place, kept as paradata (not an answer): the platform's GPS is
/// asked once when the component appears; typed coordinates are the fallback on a computer.
#[component]
pub fn InterviewLocation(interview_id: Uuid) -> impl IntoView {
    let c = ctx();
    let lat = RwSignal::new(String::new());
    let lon = RwSignal::new(String::new());
    let status = RwSignal::new(Some(Msg::GpsLocating));
    let record = move |fix: GpsFix| {
        spawn_local(async move {
            match ipc::record_gps(interview_id, fix).await {
                Ok(()) => {
                    lat.set(fix.latitude.to_string());
                    lon.set(fix.longitude.to_string());
                    status.set(Some(Msg::LocationSaved));
                }
                Err(_) => status.set(Some(Msg::NotANumber)),
            }
        })
    };
    let locate = move || {
        status.set(Some(Msg::GpsLocating));
        spawn_local(async move {
            match geolocate().await {
                Some(fix) => record(fix),
                None => status.set(Some(Msg::GpsUnavailable)),
            }
        })
    };
    locate();
    let save_typed = move |_| {
        let parsed = answer(&lat.get_untracked(), &lon.get_untracked(), None).and_then(|_| {
            Some(GpsFix {
                latitude: lat.get_untracked().trim().replace(',', ".").parse().ok()?,
                longitude: lon.get_untracked().trim().replace(',', ".").parse().ok()?,
                accuracy_m: None,
            })
        });
        match parsed {
            Some(fix) => record(fix),
            None => status.set(Some(Msg::NotANumber)),
        }
    };
    view! {
        <div class="card location" id="location">
            <h3>{move || c.t(Msg::LocationTitle)}</h3>
            <p class="muted small">{move || c.t(Msg::LocationHint)}</p>
            <div class="geo">
                <label class="field">
                    <span>{move || c.t(Msg::Latitude)}</span>
                    <input id="location-lat" type="text" inputmode="decimal" prop:value=lat
                        on:input=move |ev| lat.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{move || c.t(Msg::Longitude)}</span>
                    <input id="location-lon" type="text" inputmode="decimal" prop:value=lon
                        on:input=move |ev| lon.set(event_target_value(&ev))/>
                </label>
                <button type="button" class="secondary" id="location-gps" on:click=move |_| locate()>
                    {move || c.t(Msg::UseGps)}
                </button>
                <button type="button" class="secondary" id="location-save" on:click=save_typed>
                    {move || c.t(Msg::SaveLocation)}
                </button>
            </div>
            {move || status.get().map(|m| view! { <p class="muted small" id="location-status" role="status">{c.t(m)}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_coordinates_become_an_answer_only_when_valid() {
        assert_eq!(
            answer("21,0285", "105.8542", None).as_deref(),
            Some("21.0285 105.8542 0 0")
        );
        assert_eq!(answer("91", "105", None), None);
        assert_eq!(answer("abc", "105", None), None);
        assert_eq!(
            split("21.0285 105.8542 0 5"),
            ("21.0285".into(), "105.8542".into())
        );
        assert_eq!(split(""), (String::new(), String::new()));
    }
}
