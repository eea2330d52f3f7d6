"""CLAP audio features in torch: log-mel spectrogram and a differentiable audio tower.

:class:`ClapLogMel` reproduces ``ClapFeatureExtractor._np_extract_fbank_features``: a
centred STFT (reflect padding, periodic Hann window of ``fft_window_size``), power
spectrum, a triangular mel filterbank (HTK scale without normalisation when the
extractor's truncation mode is ``fusion``; Slaney scale and area normalisation
otherwise), floor 1e-10, then 10 log10. :class:`ClapAudioTower` maps a waveform batch to
L2-normalised CLAP embeddings.

Clips longer than the model's window (``max_length_s``) are embedded deterministically:
full windows from the start, the last one aligned to the clip's end, their embeddings
averaged. The feature extractor instead takes a *random* crop (``rand_trunc``) or random
crops for its fusion input, which would make the same file embed differently each run.
Shorter clips are padded exactly as the extractor does (``repeatpad``, ``repeat``, ``pad``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def hz_to_mel(freq: np.ndarray, scale: str) -> np.ndarray:
    """Hertz to mels on the HTK or Slaney scale."""
    freq = np.asarray(freq, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + freq / 700.0)
    logstep = 27.0 / np.log(6.4)  # Slaney: linear below 1 kHz, logarithmic above
    return np.where(
        freq >= 1000.0,
        15.0 + np.log(np.maximum(freq, 1e-12) / 1000.0) * logstep,
        3.0 * freq / 200.0,
    )


def mel_to_hz(mels: np.ndarray, scale: str) -> np.ndarray:
    """Mels to hertz on the HTK or Slaney scale."""
    mels = np.asarray(mels, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    logstep = np.log(6.4) / 27.0
    return np.where(mels >= 15.0, 1000.0 * np.exp(logstep * (mels - 15.0)), 200.0 * mels / 3.0)


def mel_filterbank(
    n_freqs: int,
    n_mels: int,
    f_min: float,
    f_max: float,
    sampling_rate: int,
    *,
    scale: str,
    slaney_norm: bool,
) -> np.ndarray:
    """Triangular mel filters, shape (n_freqs, n_mels), float64.

    FFT bin frequencies are ``linspace(0, sampling_rate // 2, n_freqs)`` as in transformers.
    """
    if scale not in ("htk", "slaney"):
        raise ValueError(f"mel scale must be 'htk' or 'slaney', got {scale!r}")
    mel_pts = np.linspace(hz_to_mel(f_min, scale), hz_to_mel(f_max, scale), n_mels + 2)
    hz_pts = mel_to_hz(mel_pts, scale)
    fft_freqs = np.linspace(0, sampling_rate // 2, n_freqs)
    slopes = hz_pts[None, :] - fft_freqs[:, None]
    widths = np.diff(hz_pts)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    fb = np.maximum(0.0, np.minimum(down, up))
    if slaney_norm:
        fb *= (2.0 / (hz_pts[2 : n_mels + 2] - hz_pts[:n_mels]))[None, :]
    return fb


class ClapLogMel(nn.Module):
    """Waveforms (N, samples) -> log-mel features (N, frames, n_mels) in dB.

    Parameters
    ----------
    sampling_rate, n_fft, hop_length, n_mels : int
        As in the feature extractor (``fft_window_size``, ``feature_size``).
    f_min, f_max : float
        Filterbank frequency range.
    fusion : bool
        True for the HTK filterbank the extractor uses in ``fusion`` mode, else Slaney.
    """

    def __init__(
        self,
        *,
        sampling_rate: int,
        n_fft: int,
        hop_length: int,
        n_mels: int,
        f_min: float,
        f_max: float,
        fusion: bool,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        fb = mel_filterbank(
            n_fft // 2 + 1,
            n_mels,
            f_min,
            f_max,
            sampling_rate,
            scale="htk" if fusion else "slaney",
            slaney_norm=not fusion,
        )
        self.register_buffer("filters", torch.from_numpy(fb).float(), persistent=False)
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64).float()
        self.register_buffer("window", window, persistent=False)

    @classmethod
    def from_extractor(cls, fe: Any) -> ClapLogMel:
        """Build from a ``ClapFeatureExtractor``'s settings."""
        return cls(
            sampling_rate=int(fe.sampling_rate),
            n_fft=int(fe.fft_window_size),
            hop_length=int(fe.hop_length),
            n_mels=int(fe.feature_size),
            f_min=float(fe.frequency_min),
            f_max=float(fe.frequency_max),
            fusion=fe.truncation == "fusion",
        )

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Log-mel in dB (floor 1e-10, i.e. -100 dB), float32."""
        spec = torch.stft(
            wave.float(),
            self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            onesided=True,
            return_complex=True,
        )
        power = spec.real.square() + spec.imag.square()  # |X|^2 with a gradient at 0
        mel = torch.einsum("fm,nft->ntm", self.filters, power)
        return 10.0 * torch.log10(mel.clamp_min(1e-10))


def pad_window(wave: torch.Tensor, max_len: int, mode: str) -> torch.Tensor:
    """Bring (N, L <= max_len) clips to max_len like the extractor's ``padding`` mode."""
    n = wave.shape[-1]
    if n == max_len:
        return wave
    if mode in ("repeat", "repeatpad"):
        reps = max_len // n
        wave = wave.repeat(1, reps + 1)[:, :max_len] if mode == "repeat" else wave.repeat(1, reps)
    elif mode != "pad":
        raise ValueError(f"unknown CLAP padding mode {mode!r}")
    return nn.functional.pad(wave, (0, max_len - wave.shape[-1]))


def window_starts(n: int, max_len: int) -> list[int]:
    """Starts of full windows covering n > max_len samples, the last one ending at n."""
    starts = list(range(0, n - max_len, max_len))
    return [*starts, n - max_len]


class ClapAudioTower(nn.Module):
    """Waveforms (N, samples) in [-1, 1] at the extractor's rate -> L2-normalised embeddings.

    Parameters
    ----------
    model : nn.Module
        A transformers ``ClapModel``.
    extractor : ClapFeatureExtractor
        Its feature extractor (rate, window, STFT and padding settings).
    features : callable
        ``(input_features, is_longer) -> (B, D)`` raw audio features.
    """

    def __init__(self, model: nn.Module, extractor: Any, features: Any) -> None:
        super().__init__()
        self.model = model
        self.logmel = ClapLogMel.from_extractor(extractor)
        self.max_len = int(extractor.nb_max_samples)
        self.padding = str(extractor.padding)
        # Fusion models take 4 stacked mels (global + 3 crops); a clip within the window
        # gets 4 copies and is_longer=False, exactly as the extractor builds it.
        self.channels = 4 if getattr(model.config.audio_config, "enable_fusion", False) else 1
        self._features = features

    def windows(self, wave: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(N, L) clips -> (N * W, max_len) model windows and W."""
        if wave.ndim != 2:
            raise ValueError(f"expected a (N, samples) waveform batch, got {tuple(wave.shape)}")
        n = wave.shape[-1]
        if n <= self.max_len:
            return pad_window(wave, self.max_len, self.padding), 1
        starts = window_starts(n, self.max_len)
        parts = torch.stack([wave[:, s : s + self.max_len] for s in starts], dim=1)
        return parts.reshape(-1, self.max_len), len(starts)

    def input_features(self, windows: torch.Tensor) -> torch.Tensor:
        """(B, max_len) windows -> (B, channels, frames, n_mels) model input."""
        mel = self.logmel(windows).unsqueeze(1)
        return mel.expand(-1, self.channels, -1, -1) if self.channels > 1 else mel

    def embed_windows(self, windows: torch.Tensor) -> torch.Tensor:
        """(B, max_len) windows -> (B, D) L2-normalised embeddings."""
        feats = self.input_features(windows)
        is_longer = torch.zeros(feats.shape[0], 1, dtype=torch.bool, device=feats.device)
        return nn.functional.normalize(self._features(feats, is_longer), dim=-1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Embed a batch of equally long clips (windows averaged for long clips)."""
        device = next(self.model.parameters()).device
        wins, per = self.windows(wave.to(device))
        emb = self.embed_windows(wins).reshape(wave.shape[0], per, -1).mean(dim=1)
        return nn.functional.normalize(emb, dim=-1)
