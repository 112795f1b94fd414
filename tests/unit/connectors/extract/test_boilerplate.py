from pathlib import Path

from connectors.extract.boilerplate import strip_learned_boilerplate
from connectors.poll.blocks import BlockStore
from pipeline.options import BoilerplateOptions
from tests.unit.pipeline.test_records import make_article

PROMO = "Get the Harbourtown Gazette app for breaking news alerts on your phone, free."
OPTS = BoilerplateOptions(min_pages=2, max_blocks_per_domain=100)


WORDS = ["tram", "ferry", "quay", "market", "bridge", "library", "harbour", "school", "river",
         "stadium", "museum", "station"]


def article(i: int, promo: str = PROMO) -> object:
    # digits are ignored by fingerprints, so the unique paragraphs differ in words
    a, b = WORDS[i % len(WORDS)], WORDS[(i // len(WORDS)) % len(WORDS)]
    body = (f"The council met to discuss the {a} plan and the {b} budget for next year.\n\n"
            f"{promo}\n\nResidents asked about parking near the {b} and the {a} works.")
    return make_article(article_id=f"{i:032x}", text=body, source_domain="gazette.example")


def run(store: BlockStore, i: int, promo: str = PROMO) -> str:
    item = article(i, promo)
    cleaned, observed = strip_learned_boilerplate(item, store, OPTS)  # type: ignore[arg-type]
    store.record("gazette.example", item.article_id, observed)  # type: ignore[attr-defined]
    return cleaned.text


def test_block_recurring_across_pages_is_dropped_after_threshold(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks.sqlite", OPTS)
    texts = [run(store, i) for i in range(5)]
    assert all(PROMO in t for t in texts[:3])  # never on the first pages
    assert all(PROMO not in t for t in texts[3:])
    assert all("Residents asked" in t and "council met" in t for t in texts)  # unique ones stay


def test_memory_survives_a_restart(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks.sqlite", OPTS)
    for i in range(3):
        run(store, i)
    store.close()
    reopened = BlockStore(tmp_path / "blocks.sqlite", OPTS)
    assert PROMO not in run(reopened, 9)


def test_digits_and_case_do_not_hide_repetition(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks.sqlite", OPTS)
    for i in range(3):
        run(store, i, promo=f"Updated {i} November 2026 at 10:{i}0 GMT. CORRECTIONS welcome here.")
    assert "Updated" not in run(store, 7, promo="updated 21 november 2026 at 11:45 gmt. corrections welcome here.")


def test_other_domains_and_the_same_page_do_not_count(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks.sqlite", OPTS)
    item = article(1)
    for _ in range(5):  # the same page polled again is one page, not five
        _, observed = strip_learned_boilerplate(item, store, OPTS)  # type: ignore[arg-type]
        store.record("gazette.example", item.article_id, observed)  # type: ignore[attr-defined]
    for i in range(5):
        store.record("other.example", f"x{i}", strip_learned_boilerplate(
            article(i), store, OPTS)[1])  # type: ignore[arg-type]
    assert PROMO in run(store, 2)


def test_state_is_bounded_per_domain(tmp_path: Path) -> None:
    store = BlockStore(tmp_path / "blocks.sqlite", OPTS)
    for i in range(120):
        run(store, i, promo=f"Unique promo number {i} " + "x" * 20)
    (rows,) = store._db.execute("SELECT COUNT(*) FROM blocks").fetchone()  # noqa: SLF001
    assert rows <= OPTS.max_blocks_per_domain
