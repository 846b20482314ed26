"""Screening: the loss-rejection protocol, the gradient fingerprint, the
screening pool and the per-loss probes, all run before any training; and
the capture file that carries a protocol to another machine."""
from .capture_file import capture_spaces, load_capture, save_capture
from .fingerprint import gradient_norms
from .pool import ScreeningPool
from .probes import Probe, probe_for
from .protocol import Captured, LossRejection
from .result import Screening

__all__ = ['LossRejection', 'Captured', 'Screening', 'ScreeningPool',
           'Probe', 'probe_for', 'gradient_norms', 'save_capture',
           'load_capture', 'capture_spaces']
