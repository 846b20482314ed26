"""The outcome of screening one branch tree, or a whole individual."""
from dataclasses import dataclass, field
from typing import Dict, Optional


@dataclass
class Screening:
    """Outcome of screening one branch tree, or a whole individual."""
    passed: bool
    #: metric gain per branch (the last value reached).
    gains: Dict[str, float] = field(default_factory=dict)
    reason: Optional[str] = None
    fingerprint: Optional[str] = None
    steps: int = 0

    @classmethod
    def combine(cls, branches: Dict[str, 'Screening']) -> 'Screening':
        """An individual's screening from its branches' (in branch order):
        passed when all passed; the fingerprint joins the branches'."""
        failed = [s for s in branches.values() if not s.passed]
        gains = {b: g for s in branches.values() for b, g in s.gains.items()}
        steps = sum(s.steps for s in branches.values())
        if failed:
            return cls(False, gains, failed[0].reason, steps=steps)
        return cls(True, gains, steps=steps, fingerprint='|'.join(
            f'{b}:{s.fingerprint}' for b, s in branches.items()))
