"""Parser of the canonical tree string into prefix nodes (never ``eval``).

Grammar (whitespace between tokens is allowed and ignored)::

    operand     := [coefficient '*'] (op_call | leaf)
    op_call     := OP '(' operand (',' operand){arity-1} ')'
    leaf        := IDENTIFIER that is not a registered op | '1'
    coefficient := a float literal such as 0.5, -2.0, 1e-05

Any identifier that is a registered op must be followed by exactly ``arity``
operands in parentheses; any other identifier (or ``1``) without parentheses
is a leaf name. The parser is an explicit loop with a stack of open calls,
so nesting depth is not limited by Python's recursion limit.

This module depends only on the op registry: it returns the prefix node names
and coefficients, from which :mod:`.tree` builds the :class:`~.tree.Tree`
(``Tree.parse`` / ``parse_tree``), so the two modules import in one direction.
"""
import math
import re
from typing import List, Tuple

from .ops import OPS

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),*])
""", re.VERBOSE)


class TreeSyntaxError(ValueError):
    """A malformed tree string.

    The message reads ``position P: PROBLEM`` followed by the text with a
    caret under position P (0-based).

    Attributes:
        text (str): The string being parsed.
        position (int): 0-based character position of the problem.
        problem (str): What is wrong there.
    """

    def __init__(self, text: str, position: int, problem: str):
        self.text = text
        self.position = position
        self.problem = problem
        super().__init__(f'position {position}: {problem}\n  {text}\n  '
                         f'{" " * position}^')


def _tokenize(text: str) -> List[Tuple[str, str, int]]:
    """(kind, value, position) tokens, kind in number/name/punct, then end."""
    tokens = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TreeSyntaxError(text, pos,
                                  f'unexpected character {text[pos]!r}')
        kind = match.lastgroup
        if kind != 'space':
            tokens.append((kind, match.group(), pos))
        pos = match.end()
    tokens.append(('end', '', len(text)))
    return tokens


def _describe(token: Tuple[str, str, int]) -> str:
    return 'end of input' if token[0] == 'end' else repr(token[1])


def parse_nodes(text: str) -> Tuple[Tuple[str, ...], Tuple[float, ...]]:
    """Parse a tree string such as ``neg(mul(y,0.5*log(yhat)))``.

    Args:
        text (str): The tree in canonical (or whitespace-padded) form.

    Returns:
        tuple: ``(nodes, coefficients)``, the node names in prefix order and
        one coefficient per node; ``Tree(nodes, coefficients)`` is the tree.

    Raises:
        TreeSyntaxError: If the text is malformed; the message names the
            0-based position and the problem (unknown op, wrong arity,
            unbalanced parentheses, trailing text, ...).
    """
    if not isinstance(text, str):
        raise TypeError(
            f'a tree string must be a str, got {type(text).__name__}')
    tokens = _tokenize(text)
    nodes: List[str] = []
    coefficients: List[float] = []
    # Open op calls: [op name, arity, operands seen so far, position].
    calls: List[list] = []
    i = 0
    while True:
        # ---- expect an operand -------------------------------------------
        kind, value, pos = tokens[i]
        coefficient = 1.0
        if kind == 'number' and tokens[i + 1][1] == '*':
            coefficient = float(value)
            if not math.isfinite(coefficient):
                raise TreeSyntaxError(text, pos,
                                      f'coefficient {value} is not finite')
            i += 2
            kind, value, pos = tokens[i]
            if kind == 'number' and value != '1':
                raise TreeSyntaxError(
                    text, pos, f'expected a leaf or an op after the '
                    f'coefficient, got the number {value!r}')
        if kind == 'name' and value in OPS:
            op = OPS[value]
            if tokens[i + 1][1] != '(':
                raise TreeSyntaxError(
                    text, tokens[i + 1][2],
                    f'op {value!r} needs {op.arity} argument(s) in '
                    f'parentheses, got {_describe(tokens[i + 1])}')
            nodes.append(value)
            coefficients.append(coefficient)
            calls.append([value, op.arity, 0, pos])
            i += 2
            continue
        if kind == 'name':
            if tokens[i + 1][1] == '(':
                raise TreeSyntaxError(
                    text, pos, f'unknown op {value!r} (registered ops: '
                    f'{", ".join(sorted(OPS))})')
        elif kind == 'number':
            if value != '1':
                raise TreeSyntaxError(
                    text, pos, f'number {value!r} is not a leaf (only 1 '
                    f'is); write a coefficient as {value}*operand')
        elif value == ')' and calls and calls[-1][2] == 0:
            name, arity = calls[-1][:2]
            raise TreeSyntaxError(
                text, pos, f'wrong arity: op {name!r} takes {arity} '
                f'argument(s), got 0')
        else:
            raise TreeSyntaxError(
                text, pos,
                f'expected a leaf or an op, got {_describe(tokens[i])}')
        nodes.append(value)
        coefficients.append(coefficient)
        i += 1
        # ---- after an operand: close calls or move to the next argument ---
        while True:
            kind, value, pos = tokens[i]
            if not calls:
                if kind != 'end':
                    problem = ('unbalanced parentheses: unexpected \')\''
                               if value == ')' else
                               f'trailing text {text[pos:]!r}')
                    raise TreeSyntaxError(text, pos, problem)
                return tuple(nodes), tuple(coefficients)
            call = calls[-1]
            call[2] += 1
            name, arity, seen, call_pos = call
            if value == ',':
                if seen >= arity:
                    raise TreeSyntaxError(
                        text, pos, f'wrong arity: op {name!r} (position '
                        f'{call_pos}) takes {arity} argument(s), got more')
                i += 1
                break
            if value == ')':
                if seen < arity:
                    raise TreeSyntaxError(
                        text, pos, f'wrong arity: op {name!r} (position '
                        f'{call_pos}) takes {arity} argument(s), got {seen}')
                calls.pop()
                i += 1
                continue
            if kind == 'end':
                raise TreeSyntaxError(
                    text, pos, f'unbalanced parentheses: {len(calls)} '
                    f'unclosed \'(\' (op {name!r} opened at position '
                    f'{call_pos}), got end of input')
            raise TreeSyntaxError(
                text, pos, f"expected ',' or ')' after argument {seen} of "
                f'op {name!r}, got {_describe(tokens[i])}')
