"""Maps of maps: ARRAY_OF_MAPS and HASH_OF_MAPS, whose values are maps.

Assigning takes a :class:`Map` (or a map fd); reading opens the inner map by
the id the kernel returns and gives back a typed :class:`Map`.
"""
import struct

from ..btf.codec import Codec
from ..enums import MapType
from .base import Map
from .hash import HashMap, _LookupThenDelete, _SlotArray

__all__ = ["ArrayOfMaps", "HashOfMaps"]

_U32 = struct.Struct("=I")


class _InnerMapCodec(Codec):
    """Values of a map of maps: an fd going in, a map id coming out."""

    size = 4

    def describe(self):
        return "inner map"

    def decode(self, buf, offset=0):
        map_id = _U32.unpack_from(buf, offset)[0]
        return Map.from_id(map_id)

    def _fd(self, value):
        if isinstance(value, Map):
            return value.fd
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < 1 << 31:
                raise ValueError(f"{value} is not a file descriptor")
            return value
        raise TypeError(f"a map of maps takes a bm.Map (or a map fd) as value, "
                        f"not {type(value).__name__}")

    def encode(self, value):
        return _U32.pack(self._fd(value))

    def pack_into(self, buf, offset, value):
        _U32.pack_into(buf, offset, self._fd(value))


class _OfMaps(_LookupThenDelete, HashMap):
    """Shared behaviour: a MutableMapping whose values are Maps.

    Removal reads (opens) the inner maps before deleting them from the
    outer one: the kernel has no lookup-and-delete for maps of maps, and an
    inner map that nothing else holds is freed once it is removed."""

    def __init__(self, fd, info, key_type=None, value_type=None, **kwargs):
        super().__init__(fd, info, key_type, None, **kwargs)
        self._vc = _InnerMapCodec()

    _update_einval_hint = ("the inner map must match the template map's type, "
                           "key/value sizes and flags")

    @classmethod
    def create(cls, key=None, value=None, max_entries=None, name=None, flags=0,
               numa_node=None, inner_map=None, map_extra=0):
        """Create a map of maps; ``inner_map`` is a template Map (required)."""
        if inner_map is None:
            raise TypeError(f"{cls.__name__}.create() needs inner_map, a template map")
        return Map.create(cls._default_type, key if key is not None else "__u32", 4,
                          max_entries, name=name, flags=flags, numa_node=numa_node,
                          inner_map=inner_map, map_extra=map_extra)


class ArrayOfMaps(_OfMaps, _SlotArray):
    """ARRAY_OF_MAPS: slots ``0 .. max_entries-1`` holding maps (or empty).

    ``m[i] = inner`` sets a slot, ``m[i]`` opens the map in it (``KeyError``
    for an empty slot), ``del m[i]`` empties it; indices out of range raise
    ``IndexError``.  The kernel has no lookup-and-delete here, so ``pop``
    is a lookup then a delete.
    """

    _map_types = (MapType.ARRAY_OF_MAPS,)
    _default_type = MapType.ARRAY_OF_MAPS
    _kind = "map of maps"


class HashOfMaps(_OfMaps):
    """HASH_OF_MAPS: a MutableMapping from keys to maps."""

    _map_types = (MapType.HASH_OF_MAPS,)
    _default_type = MapType.HASH_OF_MAPS
