"""Primitive operators H of the loss graph and their registry.

Every operator maps tensors of the branch canvas, (N,C,H,W) or (M,C,1,1), to a
tensor that broadcasts to the same canvas. Each one is *safe by construction*:
it never raises, and it has no singular point: where the plain formula has
one (``inv``, ``log``, ``sqrt``, ``div`` at 0; ``exp`` of large x), the clamp
used is documented on the function (eps = 1e-12 unless stated). Where a sign
selects between two branches, both are made safe *before* the selection, so
the untaken branch can never produce a NaN gradient (the robust_loss_pytorch
convention).

What "finite for finite input" means, in float32 and float64:

* ``neg``, ``abs``, ``inv``, ``log``, ``exp``, ``tanh``, ``sqrt``,
  ``sigmoid``, ``softplus``, ``sin``, ``cos``, ``mean_c``, ``mean_hw``,
  ``max_pool3``, ``min_pool3``: value and gradient are finite for every
  finite input (means are sums of ``x / n``, so that no partial sum
  overflows).
* ``add``, ``sub``, ``mul``, ``square``, ``div``: IEEE arithmetic on the
  (clamped) operands, so the value, and the gradient of the summed value,
  are finite whenever the exact result is representable and overflow to
  ±inf otherwise: ``add(3.4e38, 3.4e38)`` is inf in float32, and the
  y-gradient of ``div(1e16, 1e-12)`` (-1e40) is -inf although the value
  1e28 is finite.

Compositions multiply values and local derivatives, which can overflow too
(``square(square(square(inv(yhat))))`` at yhat = 1e-10). Such candidates are
the loss search's to catch, not the ops': the rejection protocol rejects a
candidate whose loss or gradient is not finite (and
:func:`autoloss_zero.graph.check_finite` reports both).

A user adds an operator in a few lines::

    from autoloss_zero.graph import register_op

    @register_op('cube', 1, sympy_fn=lambda x: x**3)
    def cube(x):
        '''x**3.'''
        return x * x * x

and lists ``'cube'`` in the ``ops`` of a
:class:`~autoloss_zero.graph.SearchSpace`.
"""
from dataclasses import dataclass
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F

from .pool import max_pool3x3

#: Clamp used by the safe operators (``inv``, ``log``, ``sqrt``, ``div``).
EPS = 1e-12
#: Upper clamp of the exponent in ``exp``: exp(50) ~ 5.2e21 is finite in
#: fp32/fp64 (losses are computed in fp32 or wider, not fp16).
EXP_MAX = 50.0

#: The leaves every branch has (paper): prediction, target, constant one.
DEFAULT_LEAVES = ('yhat', 'y', '1')


@dataclass(frozen=True)
class Op:
    """A primitive operator of the search space.

    Attributes:
        name (str): Registry name, used in the canonical tree string.
        arity (int): Number of operands (>= 1).
        fn (Callable): ``fn(*tensors) -> Tensor``, safe for every finite input.
        sympy_fn (Callable | None): ``sympy_fn(*exprs) -> sympy.Expr`` giving
            the plain mathematical form for rendering; None renders the op
            as an undefined sympy ``Function`` of its name.
        needs_spatial (bool): The op needs H, W > 1 to mean anything
            (pooling); refused by search spaces with ``spatial=False``.
        doc (str): One-line description (the function's docstring).
        needs_canvas (bool): The operands are expanded to the full canvas
            before the call (reductions and pooling over axes on which an
            operand may merely broadcast).
    """

    name: str
    arity: int
    fn: Callable[..., torch.Tensor]
    sympy_fn: Optional[Callable] = None
    needs_spatial: bool = False
    doc: str = ''
    needs_canvas: bool = False

    def to_sympy(self, *args):
        """Render the op applied to sympy expressions ``args``."""
        if self.sympy_fn is not None:
            return self.sympy_fn(*args)
        import sympy
        return sympy.Function(self.name)(*args)


#: The operator registry, name -> :class:`Op`. Use :func:`register_op` to add.
OPS: Dict[str, Op] = {}


def _is_identifier(name: str) -> bool:
    return isinstance(name, str) and name.isidentifier() and name.isascii()


def register_op(name: str,
                arity: int,
                sympy_fn: Optional[Callable] = None,
                needs_spatial: bool = False,
                needs_canvas: bool = False,
                override: bool = False) -> Callable:
    """Decorator that registers ``fn`` as operator ``name`` in :data:`OPS`.

    Args:
        name (str): Operator name, an ASCII identifier that is not a default
            leaf name.
        arity (int): Number of tensor operands (>= 1).
        sympy_fn (Callable, optional): Plain mathematical form for rendering.
        needs_spatial (bool): The op needs H, W > 1 (implies needs_canvas).
        needs_canvas (bool): Expand operands to the full canvas first.
        override (bool): Allow replacing an existing registration.

    Returns:
        Callable: The decorator; it returns ``fn`` unchanged.

    Raises:
        ValueError: On a bad name or arity, or a duplicate without override.
    """
    if not _is_identifier(name) or name in DEFAULT_LEAVES:
        raise ValueError(
            f'op name {name!r} must be an ASCII identifier other than the '
            f'leaf names {DEFAULT_LEAVES}')
    if not isinstance(arity, int) or arity < 1:
        raise ValueError(f'op {name!r}: arity must be an int >= 1, '
                         f'got {arity!r}')
    if name in OPS and not override:
        raise ValueError(f'op {name!r} is already registered; pass '
                         f'override=True to replace it')

    def decorator(fn: Callable) -> Callable:
        doc = (fn.__doc__ or '').strip().split('\n')[0]
        OPS[name] = Op(name=name, arity=arity, fn=fn, sympy_fn=sympy_fn,
                       needs_spatial=needs_spatial, doc=doc,
                       needs_canvas=needs_canvas or needs_spatial)
        return fn

    return decorator


def _sympy(func_name: str) -> Callable:
    """A sympy_fn calling ``sympy.<func_name>`` (imports sympy lazily)."""

    def render(*args):
        import sympy
        return getattr(sympy, func_name)(*args)

    render.__name__ = f'sympy_{func_name}'
    return render


def _sympy_sigmoid(x):
    import sympy
    return 1 / (1 + sympy.exp(-x))


def _sympy_softplus(x):
    import sympy
    return sympy.log(1 + sympy.exp(x))


# --------------------------------------------------------------------------
# Default operators H (paper).
# --------------------------------------------------------------------------
@register_op('add', 2, sympy_fn=lambda a, b: a + b)
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x + y."""
    return x + y


@register_op('mul', 2, sympy_fn=lambda a, b: a * b)
def mul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x * y."""
    return x * y


@register_op('neg', 1, sympy_fn=lambda a: -a)
def neg(x: torch.Tensor) -> torch.Tensor:
    """-x."""
    return -x


@register_op('abs', 1, sympy_fn=_sympy('Abs'))
def absolute(x: torch.Tensor) -> torch.Tensor:
    """|x| (gradient 0 at x = 0)."""
    return x.abs()


def _sign(x: torch.Tensor) -> torch.Tensor:
    """sign(x) with sign(0) = +1, as a constant float tensor.

    Multiplying by it (rather than ``torch.where(x < 0, -a, a)``) keeps the
    safe ops vectorised on CPU: ``torch.where`` on a mixed-sign mask runs
    ~30x slower than an arithmetic op there.
    """
    return torch.sign(torch.sign(x.detach()) + 0.5)


@register_op('inv', 1, sympy_fn=lambda a: 1 / a)
def inv_safe(x: torch.Tensor) -> torch.Tensor:
    """1/x, safe: sign(x) / max(|x|, eps) with sign(0) = +1.

    Values lie in [-1/eps, 1/eps]; inv(0) = inv(-0.0) = 1e12. The gradient
    is -1/x**2 for |x| >= eps and 0 inside the clamp.
    """
    return (_sign(x) * x.abs().clamp_min(EPS)).reciprocal()


@register_op('log', 1, sympy_fn=_sympy('log'))
def log_safe(x: torch.Tensor) -> torch.Tensor:
    """sign(x)·log|x|, safe: sign(x)·log(max(|x|, eps)), sign(0) = +1.

    log(0) = log(eps) ~ -27.63. The gradient is 1/|x| for |x| >= eps and 0
    inside the clamp.
    """
    return _sign(x) * x.abs().clamp_min(EPS).log()


@register_op('exp', 1, sympy_fn=_sympy('exp'))
def exp_safe(x: torch.Tensor) -> torch.Tensor:
    """e**x, safe: exp(min(x, 50)), at most ~5.2e21 (gradient 0 above 50)."""
    return x.clamp_max(EXP_MAX).exp()


@register_op('tanh', 1, sympy_fn=_sympy('tanh'))
def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh(x)."""
    return x.tanh()


@register_op('square', 1, sympy_fn=lambda a: a**2)
def square(x: torch.Tensor) -> torch.Tensor:
    """x**2."""
    return x * x


@register_op('sqrt', 1, sympy_fn=_sympy('sqrt'))
def sqrt_safe(x: torch.Tensor) -> torch.Tensor:
    """sign(x)·sqrt|x|, safe: sign(x)·sqrt(|x| + eps), sign(0) = +1.

    sqrt(0) = 1e-6. The gradient is 1/(2 sqrt(|x| + eps)), at most 5e5, and
    0 at exactly x = 0.
    """
    return _sign(x) * (x.abs() + EPS).sqrt()


@register_op('mean_c', 1, needs_canvas=True)
def mean_c(x: torch.Tensor) -> torch.Tensor:
    """Mean over the class axis C (dim 1), kept as size 1 to broadcast back.

    Summed after dividing by C, so that no partial sum overflows: finite
    for finite input.
    """
    return _mean(x, (1, ))


@register_op('mean_hw', 1, needs_canvas=True)
def mean_hw(x: torch.Tensor) -> torch.Tensor:
    """Mean over the spatial axes H, W (dims 2, 3), kept to broadcast back.

    Summed after dividing by H·W, so that no partial sum overflows: finite
    for finite input.
    """
    return _mean(x, (2, 3))


def _mean(x: torch.Tensor, dims) -> torch.Tensor:
    """Mean over ``dims`` (kept) as Σ (x / n), clamped to the float range:
    a mean of finite values is representable, and only the rounding of
    x / n could push a mean of values near finfo.max over it."""
    count = 1
    for dim in dims:
        count *= x.shape[dim]
    if count == 1:
        return x
    big = torch.finfo(x.dtype).max
    return (x / count).sum(dim=dims, keepdim=True).clamp(-big, big)


@register_op('max_pool3', 1, needs_spatial=True)
def max_pool3(x: torch.Tensor) -> torch.Tensor:
    """3x3 max pooling, stride 1, padding 1 (same size; pads with -inf)."""
    return max_pool3x3(x)


@register_op('min_pool3', 1, needs_spatial=True)
def min_pool3(x: torch.Tensor) -> torch.Tensor:
    """3x3 min pooling, stride 1, padding 1 (same size; pads with +inf)."""
    return -max_pool3x3(-x)


# --------------------------------------------------------------------------
# Optional operators (GLO / CSE style), off unless listed in a space's ops.
# --------------------------------------------------------------------------
@register_op('sub', 2, sympy_fn=lambda a, b: a - b)
def sub(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x - y."""
    return x - y


@register_op('div', 2, sympy_fn=lambda a, b: a / b)
def div_safe(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x / y, safe: x · inv(y) = x · sign(y) / max(|y|, eps), sign(0) = 1."""
    return x * inv_safe(y)


@register_op('sigmoid', 1, sympy_fn=_sympy_sigmoid)
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """1 / (1 + e**-x)."""
    return x.sigmoid()


@register_op('softplus', 1, sympy_fn=_sympy_softplus)
def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + e**x), computed stably (linear above x = 20)."""
    return F.softplus(x)


@register_op('sin', 1, sympy_fn=_sympy('sin'))
def sin(x: torch.Tensor) -> torch.Tensor:
    """sin(x)."""
    return x.sin()


@register_op('cos', 1, sympy_fn=_sympy('cos'))
def cos(x: torch.Tensor) -> torch.Tensor:
    """cos(x)."""
    return x.cos()


#: The 14 default operators H (paper).
DEFAULT_OPS = ('add', 'mul', 'neg', 'abs', 'inv', 'log', 'exp', 'tanh',
               'square', 'sqrt', 'mean_c', 'mean_hw', 'max_pool3',
               'min_pool3')
#: Operators a user can switch on in the space's ``ops`` list.
OPTIONAL_OPS = ('sub', 'div', 'sigmoid', 'softplus', 'sin', 'cos')
