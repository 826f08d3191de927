//! `tonearm parse`: the core parser on a file, printed as JSON.

use std::path::PathBuf;

use serde::Serialize;
use tonearm_core::{format_position, position_ms};
use tonearm_sim::render::read_now_playing;

/// Arguments of `tonearm parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// The body to parse; `-` for standard input. An empty file means nothing playing.
    pub file: PathBuf,
    /// Also print the position as the screen would show it this many ms after arrival.
    #[arg(long, value_name = "N")]
    pub elapsed_ms: Option<u64>,
}

/// The printed object: every key present, in this order.
#[derive(Serialize)]
struct Printed<'a> {
    kind: &'static str,
    is_playing: bool,
    progress_ms: Option<u64>,
    duration_ms: Option<u64>,
    timestamp: Option<u64>,
    title: Option<&'a str>,
    artists: Vec<&'a str>,
    album: Option<&'a str>,
    show: Option<&'a str>,
    publisher: Option<&'a str>,
    is_local: bool,
    image_url: Option<&'a str>,
    device: Option<&'a str>,
    shuffle: Option<bool>,
    repeat: Option<&'static str>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    position_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position_text: Option<&'a str>,
}

/// Smallest width of the image `parse` reports.
const IMAGE_MIN_WIDTH: u32 = 64;

/// Runs `tonearm parse`.
pub fn run(args: &ParseArgs) -> anyhow::Result<()> {
    let input = crate::open_input(&args.file)?;
    let Some(np) = read_now_playing(input, &args.file)? else {
        println!("{}", serde_json::json!({ "kind": "nothing_playing" }));
        return Ok(());
    };
    // The body "arrived" at 0 ms; the position is asked for `elapsed` ms later.
    let position = args.elapsed_ms.map(|elapsed| position_ms(&np, 0, elapsed));
    let text = position.map(|p| format_position(p, np.duration_ms));
    let printed = Printed {
        kind: np.kind.as_str(),
        is_playing: np.is_playing,
        progress_ms: np.progress_ms,
        duration_ms: np.duration_ms,
        timestamp: np.timestamp,
        title: np.title.as_deref(),
        artists: np.artists.iter().map(|a| a.as_str()).collect(),
        album: np.album.as_deref(),
        show: np.show.as_deref(),
        publisher: np.publisher.as_deref(),
        is_local: np.is_local,
        image_url: np.pick_image(IMAGE_MIN_WIDTH).map(|i| i.url.as_str()),
        device: np.device.as_ref().map(|d| d.name.as_str()),
        shuffle: np.shuffle,
        repeat: np.repeat.map(|r| r.as_str()),
        truncated: np.truncated,
        position_ms: position,
        position_text: text.as_deref(),
    };
    println!("{}", serde_json::to_string(&printed)?);
    Ok(())
}
