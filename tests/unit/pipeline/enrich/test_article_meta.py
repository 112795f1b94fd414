import pytest

from pipeline.enrich.article_meta import (
    lead_summary,
    normalise_authors,
    reading_time_s,
    section_from_url,
)


def test_lead_summary_skips_chrome_and_title() -> None:
    text = ("Skip to main content\n\nTram extension approved\n\nThe council voted seven to four on "
            "Tuesday to extend the tram line. Mr. Smith, who chairs the transport committee, said "
            "work would start in spring. A third sentence follows here. And a fourth one.")
    summary = lead_summary(text, "Tram extension approved", min_chars=100, max_chars=400)
    assert summary is not None
    assert summary.startswith("The council voted") and "Mr. Smith" in summary
    assert "fourth" not in summary


def test_lead_summary_cuts_a_long_sentence_at_a_word() -> None:
    summary = lead_summary("word " * 200 + ".", None, max_chars=50)
    assert summary is not None and len(summary) <= 51 and summary.endswith("\u2026")


@pytest.mark.parametrize(("url", "section"), [
    ("https://www.sportsnet.ca/tennis/argentina-wins/", "tennis"),
    ("https://x.example/2019/09/18/slug", None),
    ("https://x.example/en/world/middle-east/story-123", "world"),
    ("file:///work/page.html", None),
])
def test_section_from_url(url: str, section: str | None) -> None:
    assert section_from_url(url) == section


def test_authors_normalised() -> None:
    assert normalise_authors(("By JANE DOE and John Roe", "jane doe", "news@x.example")) == (
        "Jane Doe", "John Roe")


def test_reading_time() -> None:
    assert reading_time_s(0) == 0 and reading_time_s(230) == 60
