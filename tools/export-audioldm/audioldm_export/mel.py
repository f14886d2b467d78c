"""
AudioLDM's mel features (original preprocessing, research §1 "STFT") and the synthetic clips of the head probe. The
filterbank is plain Python; log_mel and synthetic_test_audio import numpy when called.
"""
from __future__ import annotations

import math
from typing import Any, List, Optional, Tuple


def hz_to_mel(hz: float) -> float:
    """Slaney mel scale (librosa default, as AudioLDM's `librosa_mel_fn`): linear below 1 kHz, log above."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    if hz < min_log_hz:
        return hz / f_sp
    return min_log_hz / f_sp + math.log(hz / min_log_hz) / logstep


def mel_to_hz(mel: float) -> float:
    """Inverse of hz_to_mel (Slaney scale)."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    if mel < min_log_mel:
        return mel * f_sp
    return min_log_hz * math.exp(logstep * (mel - min_log_mel))


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> List[List[float]]:
    """librosa.filters.mel(htk=False, norm='slaney') in plain Python: [n_mels][n_fft/2 + 1]."""
    bins = n_fft // 2 + 1
    fft_hz = [i * sample_rate / n_fft for i in range(bins)]
    m0, m1 = hz_to_mel(fmin), hz_to_mel(fmax)
    pts = [mel_to_hz(m0 + (m1 - m0) * i / (n_mels + 1)) for i in range(n_mels + 2)]
    bank = []
    for m in range(n_mels):
        lo, mid, hi = pts[m], pts[m + 1], pts[m + 2]
        enorm = 2.0 / (hi - lo)
        row = []
        for f in fft_hz:
            w = max(0.0, min((f - lo) / (mid - lo), (hi - f) / (hi - mid)))
            row.append(w * enorm)
        bank.append(row)
    return bank


def log_mel(wave: Any, sample_rate: int, n_fft: int, hop: int, n_mels: int, fmin: float, fmax: float,
            target_frames: Optional[int] = 1024) -> Any:
    """
    AudioLDM's input features (research §1 "STFT"; audioldm/audio/stft.py TacotronSTFT): centred STFT (reflect pad
    n_fft/2, periodic Hann window of n_fft), magnitude, slaney mel filterbank, ln(max(x, 1e-5)); [frames, n_mels],
    cropped or zero-padded to `target_frames` as `_pad_spec` does.
    """
    import numpy as np

    x = np.pad(np.asarray(wave, dtype=np.float64), (n_fft // 2, n_fft // 2), mode="reflect")
    frames = 1 + (len(x) - n_fft) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    mag = np.abs(np.fft.rfft(x[idx] * window, axis=1))
    bank = np.asarray(mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax))
    mel = np.log(np.maximum(mag @ bank.T, 1e-5))
    if target_frames is not None:
        if mel.shape[0] >= target_frames:
            mel = mel[:target_frames]
        else:
            mel = np.concatenate([mel, np.zeros((target_frames - mel.shape[0], n_mels))], axis=0)
    return mel.astype(np.float32)


def synthetic_test_audio(sample_rate: int, seconds: float, seed: int = 0) -> List[Tuple[str, Any]]:
    """
    Four deterministic clips (pink noise, a harmonic tone with tremolo, a chirp, decaying knocks), each normalised like
    AudioLDM's `normalize_wav` (remove the mean, peak 0.5). Ordinary sounds of the kind AudioSet holds, made locally.
    """
    import numpy as np

    n = int(round(seconds * sample_rate))
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sample_rate
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    pink = np.fft.irfft(spec, n)
    tone = sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 7)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * t))
    f0, f1 = 100.0, 6000.0
    chirp = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds)))
    knocks = np.zeros(n)
    decay = np.exp(-np.arange(int(0.08 * sample_rate)) / (0.01 * sample_rate)) * rng.standard_normal(int(0.08 * sample_rate))
    for start in range(0, n - len(decay), int(0.25 * sample_rate)):
        knocks[start:start + len(decay)] += decay
    clips = []
    for name, x in (("pink noise", pink), ("harmonic tone", tone), ("chirp", chirp), ("knocks", knocks)):
        x = x - x.mean()
        clips.append((name, (0.5 * x / np.abs(x).max()).astype(np.float32)))
    return clips
