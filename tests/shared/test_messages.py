"""The masks mailbox's messages: what the filter uploads to the GPU is only ever as long
as the sizes the message states (a mismatch would have the GPU read past the bytes)."""

from types import SimpleNamespace

import pytest

from vbg_core.shared.messages import COEF_BYTES, MalformedMask, pack_mask, split_mask

WIDTH, HEIGHT = 6, 3                    # rows padded to 8 bytes
ROWS = bytes(range(8 * HEIGHT))
COEFFICIENTS = bytes(WIDTH * HEIGHT * COEF_BYTES)
BACKGROUND = bytes(range(2 * 2 * 4))
REGIONS = b"regions"


def slot(data: bytes, width: int = WIDTH, height: int = HEIGHT):
    return SimpleNamespace(data=data, width=width, height=height)


def test_a_mask_message_comes_apart_as_it_was_packed():
    mask = split_mask(slot(pack_mask(ROWS, COEFFICIENTS, REGIONS, BACKGROUND, (2, 2))))
    assert (mask.rows, mask.coefficients, mask.background, mask.background_size, mask.regions) == \
        (ROWS, COEFFICIENTS, BACKGROUND, (2, 2), REGIONS)
    bare = split_mask(slot(pack_mask(ROWS, b"", b"")))
    assert (bare.rows, bare.coefficients, bare.background, bare.regions) == (ROWS, b"", b"", b"")


@pytest.mark.parametrize("data, width, says", [
    (pack_mask(ROWS, COEFFICIENTS[:-4], REGIONS), WIDTH, "coefficients for a 6x3 mask"),     # another size's
    (pack_mask(ROWS, COEFFICIENTS, REGIONS), WIDTH + 2, "coefficients for a 8x3 mask"),
    (pack_mask(ROWS, COEFFICIENTS, b"", BACKGROUND[:-1], (2, 2)), WIDTH, "not 120 or more"),   # cut short
    (pack_mask(ROWS, b"", b"")[:-1], WIDTH, "not 32 or more"),
    (b"\0" * 3, WIDTH, "has no head"),
])
def test_a_mask_message_that_does_not_fit_its_sizes_is_refused(data, width, says):
    with pytest.raises(MalformedMask, match=says):
        split_mask(slot(data, width))
