#!/bin/sh
# Regenerates the ffmpeg-* manifests of this directory (ffmpeg 5.1.9 from Debian 12 wrote the
# committed ones; only the manifests are kept, not the media). Run from this directory.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(pwd)
cd "$work"
v="-f lavfi -i testsrc=size=320x180:rate=25"
a="-f lavfi -i sine=frequency=440:sample_rate=44100"
q="-hide_banner -loglevel error"
hls="-f hls -hls_time 2 -hls_playlist_type vod"
# shellcheck disable=SC2086
{
ffmpeg $q $v $a -t 12 -c:v libx264 -g 50 -c:a aac $hls -hls_segment_filename 'seg-%03d.ts' media.m3u8
ffmpeg $q $v $a -t 12 -c:v libx264 -g 50 -c:a aac $hls -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 \
    -hls_segment_filename 'frag-%03d.m4s' fmp4.m3u8
ffmpeg $q $v -t 12 -c:v libx264 -g 50 $hls -hls_flags single_file -hls_segment_filename single.ts byterange.m3u8
openssl rand 16 > enc.key
printf 'enc.key\nenc.key\n0123456789abcdef0123456789abcdef\n' > keyinfo
ffmpeg $q $v -t 6 -c:v libx264 -g 50 $hls -hls_key_info_file keyinfo -hls_segment_filename 'aes-%03d.ts' aes.m3u8
ffmpeg $q $v $a -t 12 -map 0:v -map 0:v -map 1:a -c:v libx264 -g 50 -s:v:1 160x90 -b:v:0 500k -b:v:1 150k -c:a aac \
    $hls -master_pl_name master.m3u8 -var_stream_map "v:0,agroup:aud v:1,agroup:aud a:0,agroup:aud,default:yes,language:en" \
    -hls_segment_filename 'stream_%v/seg-%03d.ts' 'stream_%v/index.m3u8'
dash="-f dash -seg_duration 2"
ffmpeg $q $v $a -t 12 -c:v libx264 -g 50 -c:a aac $dash -use_template 1 -use_timeline 0 template.mpd
mkdir tl sf sl
(cd tl && ffmpeg $q $v $a -t 12 -c:v libx264 -g 50 -c:a aac $dash -use_template 1 -use_timeline 1 timeline.mpd)
(cd sf && ffmpeg $q $v $a -t 12 -c:v libx264 -g 50 -c:a aac $dash -single_file 1 single.mpd)
(cd sl && ffmpeg $q $v -t 12 -c:v libx264 -g 50 $dash -use_template 0 -use_timeline 0 list.mpd)
}
cp master.m3u8 "$here/ffmpeg-hls-master.m3u8"
cp stream_0/index.m3u8 "$here/ffmpeg-hls-media.m3u8"
cp fmp4.m3u8 "$here/ffmpeg-hls-fmp4.m3u8"
cp byterange.m3u8 "$here/ffmpeg-hls-byterange.m3u8"
cp aes.m3u8 "$here/ffmpeg-hls-aes.m3u8"
cp template.mpd "$here/ffmpeg-dash-template.mpd"
cp tl/timeline.mpd "$here/ffmpeg-dash-timeline.mpd"
cp sf/single.mpd "$here/ffmpeg-dash-single-file.mpd"
cp sl/list.mpd "$here/ffmpeg-dash-segment-list.mpd"
