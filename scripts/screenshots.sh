#!/usr/bin/env bash
# Renders the README screenshots into docs/screens/ with `tonearm render` (headless: no
# SDL, no display), from the playback bodies in core/tests/fixtures/.
#
#   scripts/screenshots.sh            # writes docs/screens/*.png and lists them
#
# Honors CARGO_TARGET_DIR. Look at every PNG before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p tonearm-sim --bin tonearm
bin="${CARGO_TARGET_DIR:-target}/debug/tonearm"
fixtures=core/tests/fixtures
out=docs/screens
mkdir -p "$out"

empty=$(mktemp)
trap 'rm -f "$empty"' EXIT

# shot NAME DISPLAY BODY [render options...]: one screenshot at --scale 2.
shot() {
    local name=$1 display=$2 body=$3
    shift 3
    "$bin" render "$body" --out "$out/$name.png" --display "$display" --scale 2 "$@"
    echo "$out/$name.png"
}

shot now_playing 320x240 "$fixtures/seed_track.json"
shot paused 320x240 "$fixtures/paused_track.json"
shot episode 320x240 "$fixtures/episode_long_escaped.json"
shot now_playing-ja 320x240 "$fixtures/title_japanese_raw.json"
shot now_playing-zh 320x240 "$fixtures/title_chinese.json"
shot ad 320x240 "$fixtures/ad_item_null.json"
shot idle 320x240 "$empty"
shot offline 320x240 "$fixtures/seed_track.json" --screen offline
shot rate_limited 320x240 "$empty" --screen rate_limited
shot now_playing-128x64 128x64 "$fixtures/seed_track.json"
# The desk layouts at their own size (already large).
for display in 480x320 800x480; do
    "$bin" render "$fixtures/episode_long_escaped.json" --out "$out/episode-$display.png" \
        --display "$display" --scale 1
    echo "$out/episode-$display.png"
    "$bin" render "$fixtures/seed_track.json" --out "$out/now_playing-$display.png" \
        --display "$display" --scale 1
    echo "$out/now_playing-$display.png"
done
