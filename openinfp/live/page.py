"""The single page ``openinfp live`` serves: microphone in, portrait frames out.

The browser records the microphone at 16 kHz (the user's voice is the portrait's
*partner*), sends float32 PCM over a WebSocket in 32 ms pieces, and draws every frame
the server sends back (12-byte header: frame index uint32, time float32, speaking
float32, little-endian; then a JPEG). Counters on the page (and ``window.liveStats``
for tests) say how much audio went out and how many frames came back.
"""

PAGE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openinfp live</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem; background: #111; color: #eee; }
 #view { width: 384px; height: 384px; background: #222; display: block; border-radius: 8px; }
 button { font-size: 1.1rem; padding: .5rem 1.2rem; margin: 1rem 0; }
 #status { min-height: 1.4em; } .note { color: #999; font-size: .9rem; max-width: 40rem; }
</style></head>
<body>
<h1>openinfp live</h1>
<p class="note">Talk to the portrait: your microphone is its conversation partner. It listens while
you speak (and speaks with its own voice when the server was given one). Frames are generated on
the server's CPU as your audio arrives. The video is AI-generated.</p>
<canvas id="view" width="384" height="384"></canvas>
<button id="start">Start</button> <button id="stop" disabled>Stop</button>
<div id="status">Press Start and allow the microphone.</div>
<div id="stats" class="note"></div>
<script>
const stats = { chunksSent: 0, samplesSent: 0, framesReceived: 0, lastIndex: -1, speaking: 0,
                startedAt: 0, firstFrameMs: null, errors: [] };
window.liveStats = stats;
let ws = null, ctx = null, proc = null, src = null, micStream = null;
const view = document.getElementById('view'), g = view.getContext('2d');
const statusEl = document.getElementById('status'), statsEl = document.getElementById('stats');

function show() {
  statsEl.textContent = `audio sent: ${(stats.samplesSent / 16000).toFixed(1)} s · frames: ` +
    `${stats.framesReceived} · first frame: ${stats.firstFrameMs === null ? '-' : stats.firstFrameMs.toFixed(0) + ' ms'}` +
    ` · speaking: ${stats.speaking.toFixed(2)}`;
}

async function start() {
  document.getElementById('start').disabled = true;
  try {
    micStream = await navigator.mediaDevices.getUserMedia(
      { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
  } catch (e) {
    statusEl.textContent = 'No microphone: ' + e.message; stats.errors.push(String(e));
    document.getElementById('start').disabled = false; return;
  }
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  ws = new WebSocket(`${proto}://${location.host}/ws`);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = async (ev) => {
    if (typeof ev.data === 'string') {
      const msg = JSON.parse(ev.data);
      if (msg.type === 'ready') { statusEl.textContent = `Live: ${msg.size}x${msg.size}, ${msg.fps} fps.`; startAudio(); }
      if (msg.type === 'error') { statusEl.textContent = msg.message; stats.errors.push(msg.message); }
      return;
    }
    const head = new DataView(ev.data, 0, 12);
    stats.lastIndex = head.getUint32(0, true);
    stats.speaking = head.getFloat32(8, true);
    stats.framesReceived += 1;
    if (stats.firstFrameMs === null) stats.firstFrameMs = performance.now() - stats.startedAt;
    const bitmap = await createImageBitmap(new Blob([ev.data.slice(12)], { type: 'image/jpeg' }));
    g.drawImage(bitmap, 0, 0, view.width, view.height);
    show();
  };
  ws.onclose = () => { statusEl.textContent = 'Disconnected.'; stop(); };
  statusEl.textContent = 'Connecting and loading the portrait...';
}

function startAudio() {
  ctx = new AudioContext({ sampleRate: 16000 });
  src = ctx.createMediaStreamSource(micStream);
  proc = ctx.createScriptProcessor(512, 1, 1);
  proc.onaudioprocess = (e) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const pcm = new Float32Array(e.inputBuffer.getChannelData(0));
    if (stats.chunksSent === 0) stats.startedAt = performance.now();
    ws.send(pcm.buffer);
    stats.chunksSent += 1; stats.samplesSent += pcm.length; show();
  };
  src.connect(proc); proc.connect(ctx.destination);
  document.getElementById('stop').disabled = false;
}

function stop() {
  if (proc) { proc.disconnect(); proc = null; }
  if (src) { src.disconnect(); src = null; }
  if (ctx) { ctx.close(); ctx = null; }
  if (micStream) { micStream.getTracks().forEach(t => t.stop()); micStream = null; }
  if (ws && ws.readyState === WebSocket.OPEN) ws.close();
  document.getElementById('start').disabled = false; document.getElementById('stop').disabled = true;
}
document.getElementById('start').onclick = start;
document.getElementById('stop').onclick = stop;
</script></body></html>
"""
