"""clean_text: chrome goes, prose stays; seeds read in place from ../shared/seeds."""

from __future__ import annotations

import pytest

from connectors.extract.cleaning import clean_text, is_chrome_line
from pipeline.options import CleanOptions
from tests.conftest import SHARED

SEEDS = SHARED / "seeds"


def seed(prefix: str) -> str:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS} (shared/ sits beside the project)")
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"seed {prefix}_*.txt not in {SEEDS}")
    return matches[0].read_text(encoding="utf-8")


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def test_skip_link_and_donation_box_go_article_stays() -> None:
    cleaned = clean_text(seed("004"))
    for chrome in ("Skip to main content", "OWNED BY OUR READERS", "reader-owned co-operative",
                   "Become a supporter", "Fighting fund", "You've Raised", "We need",
                   "Days remaining", "Donate today"):
        assert chrome not in cleaned
    assert cleaned.startswith("Turkey sending reinforcements into Idlib")
    assert paragraphs(cleaned)[-1].startswith("The United States said yesterday")


def test_source_trailer_goes() -> None:
    cleaned = clean_text(seed("001"))
    assert "source: middle-east-online.com" not in cleaned
    assert "carry out bombing." in paragraphs(cleaned)[-1]
    assert "Under a deal agreed with Russia, Turkey has already set up 12" in cleaned


def test_banner_and_footnote_markers_go() -> None:
    cleaned = clean_text(seed("003"))
    assert "madaresharghi.ir" not in cleaned and "An Analytical Look" not in cleaned
    assert "[1]" not in cleaned and "[2]" not in cleaned
    assert "(SOHR) reported on Sunday that the column" in cleaned
    assert "The announcement was made hours before" in cleaned


def test_glued_story_is_cut() -> None:
    cleaned = clean_text(seed("000"))
    assert "Netanyahu" not in cleaned
    assert "Israel to keep fighting Iran" not in cleaned
    last = paragraphs(cleaned)[-1]
    assert last.startswith("On Tuesday, as the UN Assembly opened in New York")
    assert "“Regime forces transported more than 400 IS fighters" in cleaned


def test_clean_article_is_left_alone() -> None:
    text = seed("002")
    cleaned = clean_text(text)
    assert cleaned == "\n\n".join(p.strip() for p in text.split("\n\n") if p.strip())


def test_glued_story_kept_when_switched_off() -> None:
    cleaned = clean_text(seed("000"), CleanOptions(drop_glued_story=False))
    assert "Netanyahu pledged Tuesday" in cleaned


@pytest.mark.parametrize("line", [
    "Skip to main content",
    "We use cookies to improve your experience on our site.",
    "Accept all cookies",
    "Sign up for our daily newsletter",
    "Get the latest updates right in your inbox. Subscribe to our newsletters.",
    "Share this article",
    "CLICK HERE TO GET THE FOX NEWS APP",
    "Order Reprints",
    "Read more: Why the council voted no",
    "DON'T MISS: The ten best parks in town",
    "Most read in World: Storm hits coast",
    "Related stories: more on the vote",
    "© 2024 Example Media Ltd. All rights reserved.",
    "Copyright 2024 The Daily Example",
    "Write to Jane Roe at jane.roe@example.com",
    "Follow us on Twitter @example and on Facebook.",
    "source: example.com",
    "Support independent journalism — donate today",
    "Photo: Jane Roe, AP",
    "The minister, left, and her counterpart shake hands in Hanoi on Wednesday.",
    "Mike Doe's new book is out now. Follow him on Twitter @mikedoe.",
    "The lander is shown in an artist's concept. (Image credit: Example Space)",
    "Monday, November 18, 2019",
    "November 20, 2019 - 11:28 AMT",
    "Updated at 1:23 p.m.",
    "by Jane Roe",
    "Tempo de leitura: 2 minutos",
    "- Example News | All the news that fits - https://news.example.org/ -",
    "We store cookies on your browser to remember your choices.",
    "Join our commenting forum",
    "Subscribe to Example Premium to bookmark this article",
    "Our Standards: The Example Trust Principles.",
    # an unanchored rule is tried on lines holding its cue, whatever their case
    "THIS SITE USES COOKIES.",
    "Comments are CLOSED.",
    "The mayor, LEFT, and the minister walk to the hall.",
])
def test_chrome_lines(line: str) -> None:
    assert is_chrome_line(line)


@pytest.mark.parametrize("line", [
    "The council said it would review the cookie policy of its own websites next year, after "
    "residents complained that the forms were confusing and that nobody could read them.",
    "“We will continue to act,” the minister told reporters in Ankara on Tuesday.",
    "- Raise the speed limit near schools",
    "Read the documents before the hearing, the judge told both parties.",
    "http://amzn.to/2iJFhRj",
    "Turkey already has 12 military “observation points” dotted across the province.",
    # credits are part of the story as published (the fundus gold keeps them)
    "Reporting by Jane Roe; Editing by John Doe",
    "Example News' Jane Roe contributed to this report.",
])
def test_prose_is_not_chrome(line: str) -> None:
    assert not is_chrome_line(line)


def test_related_block_goes_but_text_after_it_stays() -> None:
    body = [f"Paragraph {i} of the story explains what the council decided and why it did so."
            for i in range(8)]
    text = "\n".join([*body[:6], "Related stories", "Storm hits the coast", "Bridge closes early",
                      *body[6:]])
    cleaned = paragraphs(clean_text(text))
    assert "Related stories" not in cleaned and "Storm hits the coast" not in cleaned
    assert cleaned == body


def test_repeated_pull_quote_and_headline_go() -> None:
    quote = "“We have waited long enough for this bridge, and the town has waited with us,” she said."
    text = "\n".join(["Council approves the budget", quote, "The council voted on Tuesday.",
                      quote, "The vote was close."])
    cleaned = paragraphs(clean_text(text, title="Council approves the budget - Example News"))
    assert cleaned == [quote, "The council voted on Tuesday.", "The vote was close."]


def test_inline_related_links_go_entity_lists_stay() -> None:
    text = "\n".join([
        "NASA picked five companies to build landers for its return to the Moon.",
        "Related: Moon Rush: Private Lunar Lander Plans",
        "- Here's Where Commercial Landers Will Land on the Moon",
        "The companies are:",
        "- Blue Origin, Kent, Washington",
        "- Ceres Robotics, Palo Alto, California",
        "The agency will pick the first missions next year, officials said on Monday.",
        "- Photos: Europa, Mysterious Icy Moon of Jupiter",
        "- Keck Observatory: Twin Telescopes on Mauna Kea",
        "Editors will update this story as the missions are announced by the agency."])
    cleaned = paragraphs(clean_text(text))
    assert not any("Moon Rush" in p or "Where Commercial" in p or "Keck" in p or "Europa" in p
                   for p in cleaned)
    assert "- Blue Origin, Kent, Washington" in cleaned and "The companies are:" in cleaned
    assert len(cleaned) == 6


def test_title_case_items_inside_a_longer_list_stay() -> None:
    nominees = ["- Central Cee, Let Go", "- Dave and Central Cee, Sprinter",
                "- Dua Lipa, Dance the Night", "- Ed Sheeran, Eyes Closed", "- Kenya Grace, Strangers"]
    text = "\n".join(["The nominations in full:", "Song of the Year", *nominees,
                      "The ceremony is on March 2 at the O2 arena in London, the organisers said."])
    assert paragraphs(clean_text(text))[2:7] == nominees


def test_lists_and_quotes_stay() -> None:
    text = ("The plan has three parts:\n- Raise the speed limit near schools\n"
            "- Add bicycle lanes\n- Repair the bridge\n"
            "“It is a good plan,” said the mayor.")
    assert paragraphs(clean_text(text)) == [
        "The plan has three parts:", "- Raise the speed limit near schools",
        "- Add bicycle lanes", "- Repair the bridge", "“It is a good plan,” said the mayor."]


def test_plain_text_edge_cases() -> None:
    assert clean_text("") == ""
    assert clean_text("\n\n  \n") == ""
    assert clean_text("One line.\r\nTwo   lines.") == "One line.\n\nTwo lines."


def test_separators_and_a_closing_writer_bio_go() -> None:
    body = ("The council approved the budget on Thursday after a long debate in the hall.\n___\n"
            "Jane Roe is a senior political reporter who covers the city council for Example News.")
    assert clean_text(body) == ("The council approved the budget on Thursday after a long "
                                "debate in the hall.")
