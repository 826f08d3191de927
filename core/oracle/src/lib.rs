//! The test oracle: the same extraction rules as `tonearm_core::parse`, written the obvious
//! way on `serde_json::Value`. Shared by the differential tests, the property tests and
//! the fuzz target. A crate of its own, used only by integration tests and the fuzz
//! target (never by `tonearm-core`'s unit tests, which would build a second copy of the
//! core and types that do not match).

use serde_json::{Map, Value};
use tonearm_core::model::{
    ARTISTS_CAP, ContextKind, Device, Disallows, IMAGES_CAP, ITEM_ID_CAP, Image, ItemId, Kind,
    NowPlaying, Repeat,
};
use tonearm_core::text::bounded;

/// Our parser's nesting limit.
const MAX_DEPTH: usize = tonearm_core::json::MAX_DEPTH as usize;

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// What the parser must produce for `body`: `None` where it must fail.
pub fn oracle(body: &[u8]) -> Option<NowPlaying> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if depth(&v) > MAX_DEPTH {
        return None;
    }
    let root = v.as_object()?;
    Some(from_root(root))
}

/// `serde_json` rejects numbers beyond f64's range (`1e400`) that JSON's grammar allows and
/// our parser accepts; callers skip such inputs.
pub fn serde_rejects_valid_number(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .err()
        .is_some_and(|e| e.to_string().contains("number out of range"))
}

fn text<const N: usize>(v: Option<&Value>, cut: &mut bool) -> Option<heapless::String<N>> {
    let (s, c) = bounded::<N>(v?.as_str()?);
    *cut |= c;
    Some(s)
}

/// An item id: 1 to `ITEM_ID_CAP` ASCII letters and digits, kept whole, or none at all.
fn item_id(v: Option<&Value>) -> Option<ItemId> {
    let s = v?.as_str()?;
    let ok = (1..=ITEM_ID_CAP).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric());
    if ok { Some(bounded(s).0) } else { None }
}

fn images(v: Option<&Value>, cut: &mut bool) -> heapless::Vec<Image, IMAGES_CAP> {
    let mut out = heapless::Vec::new();
    let Some(list) = v.and_then(Value::as_array) else {
        return out;
    };
    let kept: Vec<&Map<String, Value>> = list
        .iter()
        .filter_map(Value::as_object)
        .filter(|o| o.get("url").is_some_and(Value::is_string))
        .collect();
    *cut |= kept.len() > IMAGES_CAP;
    for o in kept.into_iter().take(IMAGES_CAP) {
        let dim = |k: &str| {
            o.get(k)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
        };
        let image = Image {
            url: text(o.get("url"), cut).unwrap_or_default(),
            width: dim("width"),
            height: dim("height"),
        };
        let _ = out.push(image);
    }
    out
}

fn from_root(root: &Map<String, Value>) -> NowPlaying {
    let mut np = NowPlaying {
        timestamp: root.get("timestamp").and_then(Value::as_u64),
        progress_ms: root.get("progress_ms").and_then(Value::as_u64),
        is_playing: root
            .get("is_playing")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        shuffle: root.get("shuffle_state").and_then(Value::as_bool),
        repeat: root
            .get("repeat_state")
            .and_then(Value::as_str)
            .and_then(Repeat::from_api),
        context: root
            .get("context")
            .and_then(Value::as_object)
            .and_then(|c| c.get("type"))
            .and_then(Value::as_str)
            .map(ContextKind::from_api),
        ..Default::default()
    };
    let mut cut = false;
    if let Some(d) = root
        .get("actions")
        .and_then(Value::as_object)
        .and_then(|a| a.get("disallows"))
        .and_then(Value::as_object)
    {
        let flag = |k: &str| d.get(k).and_then(Value::as_bool).unwrap_or(false);
        np.disallows = Disallows {
            pausing: flag("pausing"),
            resuming: flag("resuming"),
            skipping_next: flag("skipping_next"),
            skipping_prev: flag("skipping_prev"),
            seeking: flag("seeking"),
        };
    }
    if let Some(d) = root.get("device").and_then(Value::as_object) {
        np.device = Some(Device {
            name: text(d.get("name"), &mut cut).unwrap_or_default(),
            kind: text(d.get("type"), &mut cut).unwrap_or_default(),
            volume_percent: d
                .get("volume_percent")
                .and_then(Value::as_u64)
                .filter(|v| *v <= 100)
                .map(|v| v as u8),
            is_restricted: d
                .get("is_restricted")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            // Only `supports_volume: false` fixes the volume (missing, null: settable).
            volume_fixed: d.get("supports_volume").and_then(Value::as_bool) == Some(false),
        });
    }
    let playing_type = root
        .get("currently_playing_type")
        .and_then(Value::as_str)
        .map(Kind::from_api);
    let mut item_type = None;
    let (mut album_images, mut item_images) = (heapless::Vec::new(), heapless::Vec::new());
    let (mut album_cut, mut item_cut) = (false, false);
    if let Some(item) = root.get("item").and_then(Value::as_object) {
        item_type = item.get("type").and_then(Value::as_str).map(Kind::from_api);
        np.id = item_id(item.get("id"));
        np.title = text(item.get("name"), &mut cut);
        np.duration_ms = item.get("duration_ms").and_then(Value::as_u64);
        np.is_local = item
            .get("is_local")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(artists) = item.get("artists").and_then(Value::as_array) {
            let names: Vec<&str> = artists
                .iter()
                .filter_map(Value::as_object)
                .filter_map(|a| a.get("name").and_then(Value::as_str))
                .collect();
            cut |= names.len() > ARTISTS_CAP;
            for name in names.into_iter().take(ARTISTS_CAP) {
                let (s, c) = bounded(name);
                cut |= c;
                let _ = np.artists.push(s);
            }
        }
        if let Some(album) = item.get("album").and_then(Value::as_object) {
            np.album = text(album.get("name"), &mut cut);
            album_images = images(album.get("images"), &mut album_cut);
        }
        item_images = images(item.get("images"), &mut item_cut);
        if let Some(show) = item.get("show").and_then(Value::as_object) {
            np.show = text(show.get("name"), &mut cut);
            np.publisher = text(show.get("publisher"), &mut cut);
            np.show_images = images(show.get("images"), &mut cut);
        }
    }
    np.kind = playing_type.or(item_type).unwrap_or(Kind::Unknown);
    // Local files and ads have no id of their own.
    if np.is_local || np.kind == Kind::Ad {
        np.id = None;
    }
    if np.kind == Kind::Episode || album_images.is_empty() {
        np.images = item_images;
        cut |= item_cut;
    } else {
        np.images = album_images;
        cut |= album_cut;
    }
    np.truncated = cut;
    np
}
