//! A short test stream made with Debian's `ffmpeg` at test time: 3 s of H.264/AAC (a test card
//! and a tone), packaged as HLS (MPEG-TS segments, a master and a media playlist) and DASH
//! (fMP4 segments, `SegmentTemplate` with `$Number$`), so no media is committed; and ffmpeg as
//! the player that reads it back ([`play`], [`assert_plays`], [`assert_forbidden`]).

use std::path::Path;
use std::process::{Command, Output};

use crate::proc::describe;
use crate::{Error, Result};

/// Length of the stream in seconds.
pub const SECONDS: u32 = 3;
/// The HLS master playlist, relative to the stream directory.
pub const HLS_MASTER: &str = "master.m3u8";
/// The HLS media playlist the master names.
pub const HLS_MEDIA: &str = "video.m3u8";
/// The DASH manifest.
pub const DASH_MPD: &str = "stream.mpd";
/// The video frames of the stream (25 a second), what a player that plays it all decodes.
pub const FRAMES: u32 = 25 * SECONDS;

/// The master playlist: one variant, relative URI (what players resolve against the master's URL).
const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:3\n\
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=320x180,CODECS=\"avc1.42c00d,mp4a.40.2\"\n\
video.m3u8\n";

/// Whether `ffmpeg` runs and has the encoders the fixture needs (`libx264`, `aac`).
pub fn ffmpeg_ready() -> std::result::Result<(), String> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .map_err(|e| {
            format!("cannot run ffmpeg ({e}); install it with `apt-get install ffmpeg`")
        })?;
    let encoders = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !encoders.contains("libx264") || !encoders.contains(" aac ") {
        return Err("ffmpeg lacks the libx264 or aac encoder (Debian's ffmpeg has both)".into());
    }
    Ok(())
}

/// Writes the stream into `dir` (created if needed): [`HLS_MASTER`], [`HLS_MEDIA`] with
/// `seg-NNN.ts`, and [`DASH_MPD`] with `init-*.m4s` and `chunk-*-NNNNN.m4s`, 1-second segments.
pub fn make_stream(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    let source = dir.join("source.mp4");
    let seconds = SECONDS.to_string();
    let mut encode = Command::new("ffmpeg");
    encode
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc2=size=320x180:rate=25")
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds])
        .args(["-c:v", "libx264", "-profile:v", "baseline", "-level", "1.3"])
        .args(["-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .args(["-g", "25", "-keyint_min", "25", "-sc_threshold", "0"])
        .args(["-c:a", "aac", "-b:a", "64k", "-ac", "2"])
        .arg(&source);
    run(&mut encode)?;
    let mut hls = Command::new("ffmpeg");
    hls.args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&source)
        .args(["-c", "copy", "-f", "hls", "-hls_time", "1"])
        .args(["-hls_playlist_type", "vod", "-hls_segment_filename"])
        .arg(dir.join("seg-%03d.ts"))
        .arg(dir.join(HLS_MEDIA));
    run(&mut hls)?;
    std::fs::write(dir.join(HLS_MASTER), MASTER)
        .map_err(|e| Error::new(format!("cannot write the master playlist: {e}")))?;
    let mut dash = Command::new("ffmpeg");
    dash.args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&source)
        .args(["-map", "0:v", "-map", "0:a", "-c", "copy", "-f", "dash"])
        .args([
            "-seg_duration",
            "1",
            "-use_template",
            "1",
            "-use_timeline",
            "0",
        ])
        .args(["-init_seg_name", "init-$RepresentationID$.m4s"])
        .args([
            "-media_seg_name",
            "chunk-$RepresentationID$-$Number%05d$.m4s",
        ])
        .arg(dir.join(DASH_MPD));
    run(&mut dash)?;
    std::fs::remove_file(&source)
        .map_err(|e| Error::new(format!("cannot remove {}: {e}", source.display())))
}

/// The segment files of the stream in `dir` (`.ts` and `.m4s`), sorted.
pub fn segments(dir: &Path) -> Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".ts") || n.ends_with(".m4s"))
        .collect();
    out.sort();
    Ok(out)
}

/// `ffmpeg -i url -f null -` (the first video and audio stream, progress on stdout), with
/// ffmpeg's `-headers` value if given (`Cookie: …\r\n`); its output.
pub fn play(url: &str, headers: Option<&str>) -> Result<Output> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "warning"]);
    if let Some(headers) = headers {
        cmd.args(["-headers", headers]);
    }
    cmd.args(["-i", url, "-map", "0:v:0", "-map", "0:a:0"])
        .args(["-f", "null", "-progress", "pipe:1", "-"]);
    cmd.output()
        .map_err(|e| Error::new(format!("cannot run `{}`: {e}", describe(&cmd))))
}

/// The number of video frames ffmpeg decoded (its last `frame=` progress line).
pub fn frames(out: &Output) -> u32 {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix("frame="))
        .find_map(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Asserts that [`play`] succeeded and decoded every frame; `what` names the case.
///
/// # Panics
/// When it did not: that is the test's failure.
#[track_caller]
pub fn assert_plays(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: ffmpeg failed:\n{stderr}");
    assert_eq!(
        frames(out),
        FRAMES,
        "{what}: not every frame decoded\n{stderr}"
    );
}

/// Asserts that [`play`] failed on a 403 before decoding everything; `what` names the case.
///
/// # Panics
/// When it did not: that is the test's failure.
#[track_caller]
pub fn assert_forbidden(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what}: ffmpeg should have failed");
    assert!(stderr.contains("403"), "{what}: not a 403:\n{stderr}");
    assert!(frames(out) < FRAMES, "{what}: decoded everything");
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .map_err(|e| Error::new(format!("cannot run `{}`: {e}", describe(cmd))))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "`{}` failed: {}",
            describe(cmd),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
