"""Bit-exact copies of the bits of Java that RCTab's tie-breaks depend on.

RCTab breaks ties with ``java.util.Random``, sorts names in Java ``String``
order and, in one place, walks a ``java.util.HashSet``.  Reproducing its
published results means reproducing those too.
"""

_MULTIPLIER = 0x5DEECE66D
_ADDEND = 0xB
_MASK = (1 << 48) - 1
_INT32_MAX = (1 << 31) - 1


class JavaRandom:
    """``java.util.Random``: the 48-bit linear congruential generator."""

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ _MULTIPLIER) & _MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * _MULTIPLIER + _ADDEND) & _MASK
        return self._seed >> (48 - bits)

    def next_double(self) -> float:
        """``nextDouble()``: 53 random bits scaled into [0, 1)."""
        return ((self._next(26) << 27) + self._next(27)) * 2.0**-53

    def next_int(self, bound: int) -> int:
        """``nextInt(bound)``: uniform in [0, bound), with Java's rejection loop."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        # Java's loop test `u - r + m < 0` relies on 32-bit overflow.
        while u - (r := u % bound) + m > _INT32_MAX:
            u = self._next(31)
        return r


def java_shuffle(items: list, rng: JavaRandom) -> None:
    """``Collections.shuffle(list, rng)``, in place."""
    for i in range(len(items), 1, -1):
        j = rng.next_int(i)
        items[i - 1], items[j] = items[j], items[i - 1]


def java_string_key(s: str) -> bytes:
    """Sort key giving Java ``String.compareTo`` order (UTF-16 code units)."""
    return s.encode("utf-16-be", "surrogatepass")


def java_string_hash(s: str) -> int:
    """``String.hashCode()`` as an unsigned 32-bit value."""
    units = s.encode("utf-16-be", "surrogatepass")
    h = 0
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h


def _table_size_for(capacity: int) -> int:
    size = 1
    while size < capacity:
        size <<= 1
    return size


def java_hashset_order(names: list[str]) -> list[str]:
    """Iteration order of ``new HashSet<>(names)`` for distinct ``names``.

    HashMap iterates bucket by bucket, and within a bucket in insertion order.
    A bucket reaching nine entries doubles a table smaller than 64 (as
    ``treeifyBin`` does); tree-shaped buckets in larger tables are not modelled.
    """
    capacity = _table_size_for(max(int(len(names) / 0.75) + 1, 16))
    spread = [h ^ (h >> 16) for h in map(java_string_hash, names)]
    for i, h in enumerate(spread):
        mask = capacity - 1
        if capacity < 64 and sum(1 for g in spread[: i + 1] if g & mask == h & mask) > 8:
            capacity <<= 1
    mask = capacity - 1
    order = sorted(range(len(names)), key=lambda i: spread[i] & mask)
    return [names[i] for i in order]
