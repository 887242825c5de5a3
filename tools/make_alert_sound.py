"""Write static/sounds/alert.wav, the wall's alert chime: two falling tones (880 Hz, 660 Hz), twice,
16 kHz 8-bit mono (about 15 KB). Generated here rather than downloaded, so its origin is plain."""

from __future__ import annotations

import math
import wave
from pathlib import Path

RATE = 16000
OUT = Path(__file__).resolve().parents[1] / "static" / "sounds" / "alert.wav"


def tone(freq: float, secs: float, volume: float = 0.45) -> list[int]:
    n = int(RATE * secs)
    # A 10 ms attack and a 40 ms release: no click at either end.
    return [int(128 + 127 * volume * min(1.0, i / (0.01 * RATE), (n - i) / (0.04 * RATE))
                * math.sin(2 * math.pi * freq * i / RATE)) for i in range(n)]


def silence(secs: float) -> list[int]:
    return [128] * int(RATE * secs)


def main() -> None:
    chime = tone(880, 0.16) + silence(0.04) + tone(660, 0.22)
    samples = chime + silence(0.12) + chime
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(RATE)
        out.writeframes(bytes(samples))


if __name__ == "__main__":
    main()
