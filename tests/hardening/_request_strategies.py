"""Hypothesis strategies for ``PodCreateRequest``: one invalid field per case, or all valid."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from yotta_async import EnvVar, ExposePort, PersistentVolume, PodCreateRequest

INT32 = 2**31 - 1
INT64 = 2**63 - 1
SIZE_FIELDS = (
    "shm_in_gb",
    "min_single_card_ram_in_gb",
    "min_single_card_vram_in_gb",
    "min_single_card_vcpu",
    "container_volume_in_gb",
    "persistent_volume_in_gb",
)
Case = tuple[str, dict[str, Any]]  # (the field path the error must name, the fields to override)

LONE_SURROGATE = st.sampled_from(["\ud800", "a\udfffb", "\udc80" * 3])
NOT_STR = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.binary(max_size=4),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
NOT_INT = st.one_of(
    st.text(max_size=4),
    st.floats(),
    st.booleans(),
    st.binary(max_size=2),
    st.lists(st.integers(), max_size=2),
)
NOT_LIST = st.one_of(
    st.text(max_size=3), st.integers(), st.tuples(st.integers()), st.sets(st.integers(), max_size=1)
)


def bad_text(lo: int, hi: int | None = None, *, optional: bool = False) -> st.SearchStrategy[object]:
    """Values a string field with length bounds [lo, hi] must refuse."""
    options: list[st.SearchStrategy[object]] = [NOT_STR, LONE_SURROGATE]
    if not optional:
        options.append(st.none())
    if lo > 0:
        options.append(st.just(""))
    if hi is not None:
        options.append(st.text(min_size=hi + 1, max_size=hi + 40))
    return st.one_of(*options)


def bad_int(lo: int, hi: int, *, optional: bool = False) -> st.SearchStrategy[object]:
    """Values an integer field bounded by [lo, hi] must refuse."""
    out_of_range = st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1))
    options: list[st.SearchStrategy[object]] = [out_of_range, NOT_INT]
    if not optional:
        options.append(st.none())
    return st.one_of(*options)


def at_index(good: st.SearchStrategy[Any], bad: Any) -> st.SearchStrategy[tuple[int, list[Any]]]:
    """A list with ``bad`` at a random index among valid items: (index, list)."""
    return st.tuples(st.lists(good, max_size=3), st.lists(good, max_size=3)).map(
        lambda parts: (len(parts[0]), [*parts[0], bad, *parts[1]])
    )


def list_cases(
    field: str, good: st.SearchStrategy[Any], bad_items: st.SearchStrategy[tuple[str, Any]]
) -> st.SearchStrategy[Case]:
    """Invalid values of a list field: not a list, or one bad item (``suffix`` names its part)."""

    def place(pair: tuple[str, Any]) -> st.SearchStrategy[Case]:
        suffix, bad = pair
        return at_index(good, bad).map(lambda il: (f"{field}[{il[0]}]{suffix}", {field: il[1]}))

    return st.one_of(NOT_LIST.map(lambda v: (field, {field: v})), bad_items.flatmap(place))


def field_case(field: str, values: st.SearchStrategy[object]) -> st.SearchStrategy[Case]:
    return values.map(lambda v: (field, {field: v}))


good_region = st.text(min_size=1, max_size=12)
good_env = st.builds(EnvVar, key=st.text(min_size=1, max_size=8), value=st.text(min_size=1, max_size=8))
good_port = st.builds(ExposePort, port=st.integers(0, 65535), protocol=st.sampled_from([None, "http", "tcp"]))
good_volume = st.builds(
    PersistentVolume, mount_path=st.just("/data"), volume_type=st.sampled_from(["NFS", "CloudStorage"])
)
not_power_of_two = st.integers(min_value=-(2**40), max_value=2**40).filter(
    lambda n: n < 1 or n > INT32 or bool(n & (n - 1))
)


def _id_text(value: object) -> bool:
    """A digit string naming a valid id: accepted wherever an id is (ids arrive as text too)."""
    return (
        isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()
        and 0 < int(value.strip()) <= INT64
    )


def _env(key: object = "K", value: object = "V") -> EnvVar:
    return EnvVar(key=key, value=value)  # type: ignore[arg-type]


def _vol(**kw: object) -> PersistentVolume:
    return PersistentVolume(**{"mount_path": "/data", "volume_type": "NFS", **kw})  # type: ignore[arg-type]


INVALID: st.SearchStrategy[Case] = st.one_of(
    field_case("name", bad_text(1, 255)),
    field_case("image", bad_text(1, 255)),
    field_case("gpu_type", bad_text(1)),
    field_case("gpu_count", st.one_of(not_power_of_two, st.just(2**31), NOT_INT, st.none())),
    list_cases("regions", good_region, bad_text(1).map(lambda v: ("", v))),
    st.lists(good_region, min_size=1, max_size=3, unique=True).flatmap(
        lambda rs: st.sampled_from(rs).map(lambda dup: ("regions", {"regions": [*rs, dup]}))
    ),
    field_case(
        "container_registry_auth_id", bad_int(1, INT64, optional=True).filter(lambda v: not _id_text(v))
    ),
    field_case("image_registry", bad_text(0, 255, optional=True)),
    field_case(
        "image_public_type",
        st.one_of(st.text(max_size=8).filter(lambda s: s not in ("PUBLIC", "PRIVATE")), NOT_STR),
    ),
    field_case(
        "resource_type", st.one_of(st.text(max_size=8).filter(lambda s: s not in ("GPU", "CPU")), NOT_STR)
    ),
    st.sampled_from(SIZE_FIELDS).flatmap(lambda f: field_case(f, bad_int(0, INT32, optional=True))),
    field_case("initialization_command", bad_text(0, optional=True)),
    list_cases(
        "environment_vars",
        good_env,
        st.one_of(
            st.just(("", ("K", "V"))),
            st.just(("", {"key": "K", "value": "V"})),
            bad_text(1).map(lambda v: (".key", _env(key=v))),
            bad_text(1).map(lambda v: (".value", _env(value=v))),
        ),
    ),
    list_cases(
        "expose",
        good_port,
        st.one_of(
            st.just(("", {"port": 80})),
            bad_int(0, 65535).map(lambda v: (".port", ExposePort(port=v))),  # type: ignore[arg-type]
            bad_text(1, optional=True).map(lambda v: (".protocol", ExposePort(port=80, protocol=v))),  # type: ignore[arg-type]
        ),
    ),
    list_cases(
        "persistent_volumes",
        good_volume,
        st.one_of(
            st.just(("", {"mountPath": "/x", "volumeType": "NFS"})),
            bad_text(1).map(lambda v: (".mount_path", _vol(mount_path=v))),
            bad_text(1).map(lambda v: (".volume_type", _vol(volume_type=v))),
            bad_int(0, INT64, optional=True).map(lambda v: (".id", _vol(id=v))),
            bad_int(0, INT32, optional=True).map(lambda v: (".volume_size", _vol(volume_size=v))),
            bad_text(0, optional=True).map(lambda v: (".name", _vol(name=v))),
            bad_text(0, optional=True).map(lambda v: (".mount_mode", _vol(mount_mode=v))),
            bad_text(0, optional=True).map(lambda v: (".cloud_storage_type", _vol(cloud_storage_type=v))),
            bad_text(0, optional=True).map(lambda v: (".system_volume_type", _vol(system_volume_type=v))),
            st.one_of(st.text(max_size=6).filter(lambda s: s not in ("LOCAL", "CEPH")), NOT_STR).map(
                lambda v: (".system_volume_type_enum", _vol(system_volume_type_enum=v))
            ),
            st.one_of(st.text(max_size=3), st.booleans(), st.just(float("nan")), st.just(float("inf"))).map(
                lambda v: (".volume_price", _vol(volume_price=v))
            ),
        ),
    ),
)

VALID: st.SearchStrategy[PodCreateRequest] = st.builds(
    PodCreateRequest,
    name=st.text(min_size=1, max_size=255),
    image=st.text(min_size=1, max_size=255),
    gpu_type=st.text(min_size=1, max_size=30),
    gpu_count=st.sampled_from([2**k for k in range(31)]),
    regions=st.none() | st.lists(good_region, max_size=4, unique=True),
    container_registry_auth_id=st.none() | st.integers(1, INT64),
    image_registry=st.none() | st.text(max_size=255),
    image_public_type=st.sampled_from([None, "PUBLIC", "PRIVATE"]),
    resource_type=st.sampled_from([None, "GPU", "CPU"]),
    shm_in_gb=st.none() | st.integers(0, INT32),
    min_single_card_vram_in_gb=st.none() | st.integers(0, INT32),
    container_volume_in_gb=st.none() | st.integers(0, INT32),
    initialization_command=st.none() | st.text(max_size=50),
    environment_vars=st.none() | st.lists(good_env, max_size=3),
    expose=st.none() | st.lists(good_port, max_size=3),
    persistent_volumes=st.none()
    | st.lists(
        st.builds(
            PersistentVolume,
            mount_path=st.text(min_size=1, max_size=10),
            volume_type=st.sampled_from(["NFS", "CloudStorage", "System"]),
            id=st.none() | st.integers(0, INT64),
            volume_size=st.none() | st.integers(0, INT32),
            volume_price=st.none() | st.floats(allow_nan=False, allow_infinity=False),
            system_volume_type_enum=st.sampled_from([None, "LOCAL", "CEPH"]),
        ),
        max_size=2,
    ),
)
