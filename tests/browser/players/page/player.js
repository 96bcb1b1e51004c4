// cfsign's player page logic: `?src=<manifest URL>&kind=hls|dash`. Media requests carry the
// browser's cookies for the media host (withCredentials); every request's status is listed, and
// `window.cfsignPlayer` tells a driver how far playback got.
'use strict';

const params = new URLSearchParams(location.search);

// `cargo xtask demo` hands the signed cookies over in the URL's fragment (never sent to a server):
// `#cookies=<Cookie header>&domain=<parent domain>`. A real app sets them with `Set-Cookie`
// (HttpOnly) from its own server instead.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('cookies')) {
  const domain = fragment.get('domain') || location.hostname;
  for (const pair of fragment.get('cookies').split(/;\s*/)) {
    document.cookie = `${pair}; domain=${domain}; path=/private/; SameSite=Lax`;
  }
  history.replaceState(null, '', location.pathname + location.search);
}
const src = params.get('src') || '';
const kind = params.get('kind') || (/\.mpd$/.test(src.split('?')[0]) ? 'dash' : 'hls');
const video = document.getElementById('video');
const state = { currentTime: 0, failed: null, requests: [], playing: false };
window.cfsignPlayer = state;

document.getElementById('kind').textContent = kind.toUpperCase();
document.getElementById('src').textContent =
  src.split('?')[0] + (/[?&]Signature=/.test(src) ? ' ?Policy=…&Signature=…&Key-Pair-Id=…' : '');
document.getElementById('page-origin').textContent = location.origin;

function setStatus(text, cls) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.className = cls;
}

function record(url, status) {
  state.requests.push({ url, status });
  const name = url.split('?')[0].split('/').slice(-2).join('/');
  const row = document.createElement('tr');
  row.innerHTML = `<td class="s${status}">${status || 'blocked'}</td><td></td>`;
  row.lastChild.textContent = name;
  document.getElementById('log').appendChild(row);
  document.getElementById('count').textContent = state.requests.length;
  document.getElementById('forbidden').textContent =
    state.requests.filter((r) => r.status === 403).length;
  if (status === 403 && !state.failed) {
    fail(`HTTP 403 from CloudFront on ${name}`);
  }
}

function fail(why) {
  state.failed = why;
  setStatus(`✗ cannot play: ${why}`, 'bad');
}

// Every XHR the players make: log its final status.
const open = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  this.addEventListener('loadend', () => record(String(url), this.status));
  return open.call(this, method, url, ...rest);
};
const originalFetch = window.fetch;
window.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input.url;
  try {
    const r = await originalFetch(input, init);
    record(url, r.status);
    return r;
  } catch (e) {
    record(url, 0);
    throw e;
  }
};

video.addEventListener('timeupdate', () => {
  state.currentTime = video.currentTime;
  document.getElementById('time').textContent = video.currentTime.toFixed(1);
  if (video.currentTime > 0 && !state.failed) {
    state.playing = true;
    const how = /[?&]Signature=/.test(src) ? 'a signed manifest' : 'signed cookies';
    setStatus(`▶ playing a private ${kind.toUpperCase()} stream with ${how}`, 'ok');
  }
});
video.addEventListener('ended', () => {
  if (!state.failed) setStatus(`✓ played to the end (${video.currentTime.toFixed(1)} s)`, 'ok');
});

if (kind === 'hls') {
  if (!window.Hls || !Hls.isSupported()) {
    fail('hls.js cannot run here (no Media Source Extensions)');
  } else {
    const hls = new Hls({
      xhrSetup: (xhr) => { xhr.withCredentials = true; },
      manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000, timeoutRetry: null, errorRetry: null } },
      playlistLoadPolicy: { default: { maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000, timeoutRetry: null, errorRetry: null } },
      fragLoadPolicy: { default: { maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000, timeoutRetry: null, errorRetry: null } },
    });
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal && !state.failed) {
        const code = data.response && data.response.code;
        fail(code ? `HTTP ${code} (${data.details})` : data.details);
      }
    });
    hls.loadSource(src);
    hls.attachMedia(video);
  }
} else {
  const player = dashjs.MediaPlayer().create();
  player.initialize();
  player.setXHRWithCredentialsForType(undefined, true);
  player.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => {
    if (!state.failed) {
      const err = e.error || {};
      fail(`dash.js error ${err.code || ''} ${err.message || ''}`.trim());
    }
  });
  player.attachView(video);
  player.setAutoPlay(true);
  player.attachSource(src);
}
