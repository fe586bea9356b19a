"""Flag labels kept apart: each goes up a line until it overlaps no label placed before it."""

from __future__ import annotations

from servingmatrix.report.figures.labels import LABEL_HEIGHT, LETTER_WIDTH, Boxes, place_label


def test_a_label_at_the_same_place_goes_up_a_line_then_another() -> None:
    placed: Boxes = []
    assert place_label(100.0, 50.0, "G", placed) == 50.0
    assert place_label(100.0, 50.0, "B", placed) == 50.0 - LABEL_HEIGHT
    assert place_label(100.0, 50.0, "GB", placed) == 50.0 - 2 * LABEL_HEIGHT
    assert len(placed) == 3


def test_a_label_clear_of_the_others_stays_where_it_is() -> None:
    placed: Boxes = []
    place_label(100.0, 50.0, "GB", placed)
    # Just right of the two letters, and just a line below: no overlap, no move.
    assert place_label(100.0 + 2 * LETTER_WIDTH, 50.0, "G", placed) == 50.0
    assert place_label(100.0, 50.0 + LABEL_HEIGHT, "G", placed) == 50.0 + LABEL_HEIGHT
    # A hair inside either way: moved.
    assert place_label(100.0 + 2 * LETTER_WIDTH - 0.5, 50.0, "G", placed) != 50.0


def test_the_box_is_as_high_as_chromium_draws_bold_eleven_unit_text() -> None:
    # Measured in the browser test: a letter's box is 16 high and up to 11 wide.
    assert LABEL_HEIGHT >= 16.0 and LETTER_WIDTH >= 11.0
