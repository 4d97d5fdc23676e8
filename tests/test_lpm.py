"""LpmTrieMap: network keys, exact item access, longest match (from Python
and from a BPF program), host bits, full tries, removal without
lookup-and-delete."""
import ipaddress
import os
import socket
import struct

import pytest

import pybpfmap as bm

N = ipaddress.ip_network


@pytest.fixture
def make_trie():
    made = []

    def make(key="ipv4", value="__u32", max_entries=16, *, batch=True, **kw):
        m = bm.LpmTrieMap.create(key=key, value=value, max_entries=max_entries, **kw)
        m._use_batch = batch
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


@pytest.fixture(params=[True, False], ids=["batch", "next_key"])
def trie(request, make_trie):
    return make_trie(batch=request.param)


# ------------------------------------------------------------------ create

def test_create_adds_no_prealloc_and_btf_key(make_trie):
    m = make_trie()
    assert isinstance(m, bm.LpmTrieMap)
    assert m.type == bm.MapType.LPM_TRIE
    assert m.flags & bm.MapFlags.NO_PREALLOC
    assert m.key_size == 8
    assert m.info.btf_key_type_id and m.info.btf_value_type_id
    assert [mem.name for mem in m.key_type.members] == ["prefixlen", "data"]


@pytest.mark.parametrize("key, size", [("ipv4", 8), ("IPv6", 20), (3, 7), (256, 260), (1, 5)])
def test_create_sizes(make_trie, key, size):
    assert make_trie(key=key).key_size == size


@pytest.mark.parametrize("key, exc", [("ipv5", ValueError), (0, ValueError), (257, ValueError),
                                      (True, TypeError), (4.0, TypeError), (None, TypeError)])
def test_create_bad_key(key, exc, fd_count):
    before = fd_count()
    with pytest.raises(exc):
        bm.LpmTrieMap.create(key=key, value="__u32", max_entries=4)
    assert fd_count() == before


def test_create_needs_value():
    with pytest.raises(TypeError):
        bm.LpmTrieMap.create(key="ipv4", max_entries=4)


def test_generic_create_is_typed_as_trie():
    with bm.Map.create(bm.MapType.LPM_TRIE, key=8, value=4, max_entries=4,
                       flags=bm.MapFlags.NO_PREALLOC) as m:
        assert isinstance(m, bm.LpmTrieMap)
        m[N("10.0.0.0/8")] = b"abcd"
        assert m[N("10.0.0.0/8")] == b"abcd"


def test_from_id_keeps_network_keys(make_trie):
    m = make_trie()
    m["192.168.0.0/16"] = 7
    with bm.Map.from_id(m.id) as again:
        assert isinstance(again, bm.LpmTrieMap)
        assert dict(again.items()) == {N("192.168.0.0/16"): 7}


# ---------------------------------------------------------- mapping access

def test_exact_item_access(trie):
    trie[N("192.168.0.0/16")] = 16
    trie["192.168.0.0/24"] = 24
    assert trie[N("192.168.0.0/16")] == 16
    assert trie["192.168.0.0/24"] == 24
    # covered by /16 but not an entry: dict semantics, not a route lookup
    assert "192.168.1.0/24" not in trie
    with pytest.raises(KeyError):
        trie["192.168.1.0/24"]
    with pytest.raises(KeyError):
        trie["192.168.0.0/17"]
    assert trie.get("192.168.0.0/17", "none") == "none"
    assert len(trie) == 2


def test_keys_accept_networks_strings_and_tuples(trie):
    trie[(8, b"\x0a\x00\x00\x00")] = 1
    assert trie[N("10.0.0.0/8")] == 1
    assert trie["10.0.0.0/8"] == 1
    assert list(trie) == [N("10.0.0.0/8")]


def test_iteration_is_most_specific_first(trie):
    trie.update({"192.168.0.0/16": 1, "172.16.0.0/12": 2, "192.168.0.0/24": 3})
    assert list(trie) == [N("172.16.0.0/12"), N("192.168.0.0/24"), N("192.168.0.0/16")]
    assert dict(trie.items()) == {N("192.168.0.0/16"): 1, N("172.16.0.0/12"): 2,
                                  N("192.168.0.0/24"): 3}
    assert sorted(trie.values()) == [1, 2, 3]


def test_delete_is_exact(trie):
    trie["10.0.0.0/8"] = 8
    trie["10.1.0.0/16"] = 16
    with pytest.raises(KeyError):
        del trie["10.1.0.0/24"]
    del trie["10.1.0.0/16"]
    with pytest.raises(KeyError):
        del trie["10.1.0.0/16"]
    assert trie.longest_match("10.1.2.3") == 8


def test_insert_and_replace(trie):
    trie.insert("10.0.0.0/8", 1)
    with pytest.raises(bm.KeyExistsError):
        trie.insert("10.0.0.0/8", 2)
    with pytest.raises(KeyError):
        trie.replace("10.0.0.0/16", 3)
    trie.replace("10.0.0.0/8", 4)
    assert dict(trie.items()) == {N("10.0.0.0/8"): 4}


def test_pop_popitem_pop_all_clear(trie):
    # the kernel has no lookup-and-delete for tries (524): these read, then delete
    trie.update({"10.0.0.0/8": 1, "10.1.0.0/16": 2, "10.2.0.0/16": 3, "11.0.0.0/8": 4})
    assert trie.pop("10.1.0.0/16") == 2
    assert trie.pop("10.1.0.0/16", None) is None
    with pytest.raises(KeyError):
        trie.pop("10.1.0.0/16")
    key, value = trie.popitem()
    assert key not in trie and value in (1, 3, 4)
    rest = trie.pop_all()
    assert len(rest) == 2 and not trie
    trie.update({"10.0.0.0/8": 1, "10.1.0.0/16": 2})
    trie.clear()
    assert len(trie) == 0 and dict(trie.items()) == {}
    with pytest.raises(KeyError):
        trie.popitem()


def test_lookup_and_delete_is_not_atomic_but_works(trie):
    trie["10.0.0.0/8"] = 1
    assert trie.lookup_and_delete("10.0.0.0/8") == 1
    with pytest.raises(KeyError):
        trie.lookup_and_delete("10.0.0.0/8")


# ---------------------------------------------------------- longest match

def test_longest_match(trie):
    trie["192.168.0.0/16"] = 16
    trie["192.168.0.0/24"] = 24
    assert trie.longest_match("192.168.0.1") == 24
    assert trie.longest_match(ipaddress.ip_address("192.168.1.1")) == 16
    assert trie.longest_match(socket.inet_aton("192.168.0.200")) == 24
    # a network limits the match to prefixes no longer than its own
    assert trie.longest_match(N("192.168.0.0/20")) == 16
    assert trie.longest_match("192.168.0.0/28") == 24
    with pytest.raises(KeyError) as exc:
        trie.longest_match("10.0.0.1")
    assert exc.value.args == ("10.0.0.1",)


def test_longest_match_default_route(trie):
    trie["0.0.0.0/0"] = 0
    trie["10.0.0.0/8"] = 8
    assert trie.longest_match("8.8.8.8") == 0
    assert trie.longest_match("10.255.0.1") == 8


@pytest.mark.parametrize("address, exc", [
    ("2001:db8::1", ValueError), (ipaddress.ip_address("::1"), ValueError),
    ("not an ip", ValueError), (b"\x01\x02\x03", ValueError), (1234, TypeError)])
def test_longest_match_bad_address(trie, address, exc):
    trie["0.0.0.0/0"] = 0
    with pytest.raises(exc):
        trie.longest_match(address)


def test_ipv6(make_trie):
    m = make_trie("ipv6", "__u64")
    m["2001:db8::/32"] = 32
    m[N("2001:db8:1::/48")] = 48
    assert m.longest_match("2001:db8:1::5") == 48
    assert m.longest_match(ipaddress.ip_address("2001:db8:2::5")) == 32
    assert list(m) == [N("2001:db8:1::/48"), N("2001:db8::/32")]
    with pytest.raises(ValueError):
        m["10.0.0.0/8"] = 1
    with pytest.raises(ValueError):
        m[(129, bytes(16))] = 1


def test_generic_data_size(make_trie):
    m = make_trie(3, 4)
    m[(12, b"\xab\xcd\xef")] = b"1234"
    m[(24, b"\xab\xcd\xef")] = b"5678"
    assert m.longest_match(b"\xab\xcd\xef") == b"5678"
    assert m.longest_match(b"\xab\xc0\x00") == b"1234"
    assert dict(m.items()) == {(24, b"\xab\xcd\xef"): b"5678", (12, b"\xab\xc0\x00"): b"1234"}
    with pytest.raises(TypeError):
        m["10.0.0.0/8"] = b"xxxx"  # only (prefixlen, bytes) for 3-byte data


# ----------------------------------------------------------- host bits

def test_host_bits_are_cleared(trie):
    trie[(8, b"\x0a\x01\x02\x03")] = 1
    assert list(trie) == [N("10.0.0.0/8")]
    assert trie["10.1.2.3/8"] == 1  # str keys parse with strict=False
    with pytest.raises(bm.KeyExistsError):
        trie.insert("10.0.0.0/8", 2)


def test_host_bits_written_by_the_kernel_side_decode_canonically(make_trie):
    m = make_trie(value=4)
    # a plain Map on the same map writes raw keys, host bits and all, as a program could
    with bm.Map(os.dup(m.fd), m.info) as raw:
        raw.set(struct.pack("=I4B", 8, 10, 1, 2, 3), b"abcd")
        assert list(raw) == [struct.pack("=I4B", 8, 10, 1, 2, 3)]
    assert list(m.items()) == [(N("10.0.0.0/8"), b"abcd")]


# ------------------------------------------------------------ bad input

@pytest.mark.parametrize("key, exc", [
    ((33, b"\x0a\x00\x00\x00"), ValueError), ((-1, b"\x0a\x00\x00\x00"), ValueError),
    ((8, b"\x0a\x00\x00"), ValueError), ((8, "abcd"), TypeError), ((True, b"abcd"), TypeError),
    ("2001:db8::/32", ValueError), (N("::/0"), ValueError), ("10.0.0.0/40", ValueError),
    (ipaddress.ip_address("10.0.0.1"), TypeError), (10, TypeError), ((8, b"abcd", 1), TypeError)])
def test_bad_keys_raise_before_any_syscall(trie, key, exc):
    trie["10.0.0.0/8"] = 1
    with pytest.raises(exc):
        trie[key] = 2
    with pytest.raises(exc):
        trie.insert(key, 2)
    with pytest.raises(exc):
        del trie[key]
    with pytest.raises(exc):
        trie[key]
    assert dict(trie.items()) == {N("10.0.0.0/8"): 1}


def test_bad_value_leaves_trie_unchanged(trie):
    with pytest.raises(OverflowError):
        trie["10.0.0.0/8"] = 1 << 40
    with pytest.raises(TypeError):
        trie["10.0.0.0/8"] = "x"
    assert len(trie) == 0


# ------------------------------------------------------------- full trie

def test_full_trie_raises_map_full(make_trie):
    m = make_trie(max_entries=2)
    m["10.0.0.0/8"] = 1
    m["11.0.0.0/8"] = 2
    with pytest.raises(bm.MapFullError) as exc:
        m["12.0.0.0/8"] = 3
    assert exc.value.errno == 28  # ENOSPC, not E2BIG
    with pytest.raises(bm.MapFullError):
        m.update({"13.0.0.0/8": 4})
    m["10.0.0.0/8"] = 5  # replacing an entry of a full trie works
    assert dict(m.items()) == {N("10.0.0.0/8"): 5, N("11.0.0.0/8"): 2}


def test_batch_and_next_key_agree(make_trie):
    a, b = make_trie(batch=True, max_entries=300), make_trie(batch=False, max_entries=300)
    nets = {N(f"10.{i}.0.0/16"): i for i in range(256)}
    nets.update({N("10.0.0.0/8"): 1000, N("0.0.0.0/0"): 2000})
    a.update(nets)
    b.update(nets)
    assert list(a.items()) == list(b.items())
    assert dict(a.items()) == nets
    assert a._use_batch  # clear/pop_all never fall back from batch lookups
    a.clear()
    assert len(a) == 0 and a._use_batch


# ------------------------------------------------------- from a BPF program

def _packet(daddr):
    eth = b"\xff" * 6 + b"\x02" + b"\x00" * 5 + b"\x08\x00"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20, 0, 0, 64, 17, 0,
                     socket.inet_aton("192.0.2.1"), socket.inet_aton(daddr))
    return eth + ip + bytes(32)


def test_program_sees_longest_match(bpf_obj):
    with bm.load(bpf_obj("lpm_route")) as obj:
        routes = obj.maps["routes"]
        prog = obj.programs["route"]
        assert isinstance(routes, bm.LpmTrieMap)
        assert prog.test_run(_packet("10.1.2.3")).retval == 1000
        routes["10.0.0.0/8"] = 8
        routes["10.1.0.0/16"] = 16
        routes["10.1.2.3/32"] = 32
        assert prog.test_run(_packet("10.1.2.3")).retval == 32
        assert prog.test_run(_packet("10.1.2.4")).retval == 16
        assert prog.test_run(_packet("10.9.0.1")).retval == 8
        del routes["10.1.0.0/16"]
        assert prog.test_run(_packet("10.1.2.4")).retval == 8
        assert routes.longest_match("10.1.2.4") == 8
