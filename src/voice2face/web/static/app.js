// The voice2face page: upload or record a voice, send it to POST /v1/portrait, show the portraits.
// Plain browser JavaScript, no libraries: the page works offline.
"use strict";

const form = document.getElementById("portrait-form");
const fileInput = document.getElementById("audio-file");
const recordButton = document.getElementById("record");
const stopButton = document.getElementById("stop");
const recordStatus = document.getElementById("record-status");
const progress = document.getElementById("progress");
const message = document.getElementById("message");
const results = document.getElementById("results");
const submit = document.getElementById("submit");

let recorded = null; // a WAV Blob made from the microphone, used when no file is chosen
let recorder = null;
let chunks = [];

function show(text, kind) {
  message.textContent = text;
  message.className = kind || "";
  message.hidden = !text;
}

// Decoded audio → 16-bit PCM mono WAV, so the server needs no codec for what the browser recorded.
function wavBlob(buffer) {
  const rate = buffer.sampleRate;
  const length = buffer.length;
  const mono = new Float32Array(length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < length; i++) mono[i] += data[i] / buffer.numberOfChannels;
  }
  const bytes = new ArrayBuffer(44 + length * 2);
  const view = new DataView(bytes);
  const text = (offset, s) => { for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + length * 2, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, length * 2, true);
  for (let i = 0; i < length; i++) {
    const v = Math.max(-1, Math.min(1, mono[i]));
    view.setInt16(44 + i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
  }
  return new Blob([bytes], { type: "audio/wav" });
}

recordButton.addEventListener("click", async () => {
  show("");
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    show("This browser cannot record here (it needs https or localhost, and microphone access); upload a file instead.");
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    recorder.onstop = async () => {
      stream.getTracks().forEach((track) => track.stop());
      try {
        const raw = await new Blob(chunks).arrayBuffer();
        const context = new AudioContext();
        const decoded = await context.decodeAudioData(raw);
        context.close();
        recorded = wavBlob(decoded);
        fileInput.value = "";
        recordStatus.textContent = `Recorded ${decoded.duration.toFixed(1)} s.`;
        form.requestSubmit();
      } catch (err) {
        show("The recording could not be read by the browser; try again or upload a file.");
      }
    };
    recorder.start();
    recordButton.disabled = true;
    stopButton.disabled = false;
    recordStatus.textContent = "Recording… speak for a few seconds, then press Stop.";
  } catch (err) {
    show("The microphone is not available (" + err.name + "); allow it, or upload a file instead.");
  }
});

stopButton.addEventListener("click", () => {
  if (recorder && recorder.state === "recording") recorder.stop();
  stopButton.disabled = true;
  recordButton.disabled = false;
});

fileInput.addEventListener("change", () => { recorded = null; recordStatus.textContent = ""; });

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show("");
  const file = fileInput.files[0];
  const audio = file || recorded;
  if (!audio) {
    show("Choose a recording or record one first.");
    return;
  }
  const body = new FormData();
  body.append("audio", audio, file ? file.name : "recording.wav");
  body.append("samples", document.getElementById("samples").value || "1");
  body.append("seed", document.getElementById("seed").value || "0");
  progress.hidden = false;
  submit.disabled = true;
  results.replaceChildren();
  try {
    const response = await fetch("/v1/portrait", { method: "POST", body, headers: { Accept: "application/json" } });
    const data = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (!response.ok) {
      show(data.error || `The server answered ${response.status}.`);
      return;
    }
    data.images.forEach((png, k) => {
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = "data:image/png;base64," + png;
      img.alt = `generated portrait ${k + 1} (synthetic, not a photograph)`;
      img.className = "portrait";
      const caption = document.createElement("figcaption");
      caption.textContent = `seed ${data.seed}, sample ${k}`;
      figure.append(img, caption);
      results.append(figure);
    });
    show(`${data.images.length} portrait(s) from ${data.speech_seconds} s of speech, by ${data.model}. ` +
         "Generated images, not photographs.", "info");
  } catch (err) {
    show("The server could not be reached; is voice2face serve still running?");
  } finally {
    progress.hidden = true;
    submit.disabled = false;
  }
});
