"""Reading recordings from files (replay input).

``open_recording(path)`` opens a CSV recording (``t,ax,ay,az[,gx,gy,gz]``),
checks its header and first rows and estimates the sample rate;
``Recording.chunks()`` then yields the samples as numpy arrays in bounded
chunks. Bad input raises ``spasmwatch.errors.InputError`` naming the file,
line and field; a gyro that looks like rad/s gets a ``GyroUnitsWarning``
(``units``). See ``csvread`` for the format.
"""

from spasmwatch.io.csvread import Chunk, InputWarning, Recording, estimate_rate_hz, open_recording
from spasmwatch.io.units import GyroUnitsWarning

__all__ = ["Chunk", "GyroUnitsWarning", "InputWarning", "Recording", "estimate_rate_hz", "open_recording"]
