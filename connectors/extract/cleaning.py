"""Second-stage cleaner: strips the chrome that main-text extractors let through.

Works on plain text too (one paragraph per line or per blank-line block). Rules are general
cue phrases plus structure (position, length, sentence shape), never a site's markup:

  * chrome lines: skip links, cookie/consent, newsletter and subscribe prompts, donation
    drives, share/app/print prompts, contact and reporter credits, copyright lines, bare
    timestamps, "source: site.com" trailers, tagline + URL banners;
  * blocks: "Related: <link>" with the links listed under it, a list of Title Case items
    only (story links; such a run inside a longer list is content), and near the end a
    related-stories heading with the headlines after it or a fundraising box;
  * repeats (a caption or pull quote printed twice) and a first line restating the title;
  * an unrelated story glued after the article (a headline whose names the article never
    mentioned, followed by its own lead) is cut when `drop_glued_story` is on;
  * footnote markers such as " [1]" are removed inside paragraphs.
"""

from __future__ import annotations

import re

from pipeline.options import CleanOptions

_FLAGS = re.IGNORECASE

_MONTHS = (r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?")
_DAYS = r"(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
# A line that is only a date and/or time, e.g. "Monday, November 18, 2019 - 11:28 AMT".
_DATE_LINE = (rf"^({_DAYS}\s+)?(({_MONTHS}\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}})|"
              rf"(\d{{1,2}}\s+{_MONTHS},?\s+\d{{4}})|(\d{{1,4}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}))"
              r"([\s,|-]+(at\s+)?\d{1,2}[:.]\d{2}(\s*[ap]\.?m\.?)?(\s*[a-z]{2,4})?)?\W*$")

# A line matching one of these (and no longer than the limit) is chrome. An unanchored rule
# names its cues, words every match holds (lower case): a regex that may start anywhere is
# tried only on a line holding one, which skips ~80 % of their time (1.2 ms a page).
_CHROME: tuple[tuple[re.Pattern[str], int, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, _FLAGS), limit, cues) for pattern, limit, cues in (
        # navigation
        (r"^(skip to (main |the )?(content|navigation|article)|jump to (main )?content)\b", 60, ()),
        # cookies and consent
        (r"\b(we|this (web)?site|our (web)?site|site) uses? cookies\b", 400, ("cookies",)),
        (r"^(accept|allow|manage|reject) (all )?(cookies|consent|preferences)\b", 80, ()),
        (r"\bcookie (policy|settings|preferences|consent)\b", 120, ("cookie ",)),
        (r"\b(store|use|place|set)s? cookies (on|in) your (browser|device|computer)\b", 400,
         ("cookies ",)),
        (r"^by (continuing to (use|browse)|using) (this|our) (site|website)", 300, ()),
        # newsletters and subscriptions
        (r"\b(sign up|subscribe|register) (now |today )?(for|to) (our|the|a|their)?\s*"
         r"([\w'’.-]+\s){0,4}(newsletters?|e-?mails?|alerts?|briefing|digest)\b", 300,
         ("sign up", "subscribe", "register")),
        (r"\byour inbox\b", 200, ("your inbox",)),
        (r"^(get|receive|read|try) (our|the) [\w'’ ]{0,40}newsletters?\b", 200, ()),
        (r"^(enter|type) (your )?e-?mail( address)?\b|^your e-?mail( address)?\W*$", 100, ()),
        (r"^(subscribe|sign up|log ?in|register)( now| today| here)?\W*$", 40, ()),
        (r"^already a (subscriber|member)\b", 200, ()),
        (r"\bto bookmark (this|your|the)\b|^want to bookmark\b", 200, ("bookmark",)),
        # commenting prompts
        (r"^join (our|the|in|thought-provoking)\b[\w ,-]{0,40}\b(forum|conversations?|discussions?|"
         r"debate|community)\b", 160, ()),
        # donations and memberships
        (r"\b(donate|donation|contribute) (today|now|here)\b", 400, ("donat", "contribute")),
        (r"\bsupport (our|independent|quality|local) (journalism|reporting|newsroom)\b", 400,
         ("support ",)),
        (r"^(become|be) a (supporter|member|patron|subscriber)\b", 120, ()),
        (r"^(owned by our readers|fighting fund|you'?[’']?ve raised|we need\W*[£$€]|"
         r"\d+ days? (remaining|left)|make a (donation|contribution))", 120, ()),
        # share, apps, print, reprints, contact
        (r"^(share|tweet|email|print|save) (this|the) (article|story|page|post)\b", 80, ()),
        (r"^share (on|via|to) (facebook|twitter|x|whatsapp|linkedin|email)\b", 80, ()),
        (r"^(click|tap) here to (get|download|install)\b", 200, ()),
        (r"^(download|get|install) (the|our) [\w'’ ]{0,40}\bapps?\b", 160, ()),
        (r"^(order|buy|purchase) (reprints|a reprint|licensing)\b", 80, ()),
        (r"^(follow|like) (us|him|her|them|@\w+|[\w .'’-]{2,40}) on "
         r"(twitter|x|facebook|instagram|linkedin|youtube|tiktok)\b", 400, ()),
        (r"^if you (enjoyed|liked|value|appreciate)d? (this|our|reading)\b", 400, ()),
        (r"\bfollow (us|him|her|them|me) on (twitter|x|facebook|instagram)\b", 400, ("follow ",)),
        (r"\bcomments? (are|is) (closed|moderated)|\bmoderating (all )?comments\b", 200,
         ("comment",)),
        (r"^(listen|download|watch|itunes|spotify|apple podcasts|google podcasts)\s*:\s*"
         r"https?://\S+$", 200, ()),
        (r"^how to (listen|subscribe|watch)\b", 80, ()),
        (r"^have a (news )?tip\?", 250, ()),
        (r"^(email|write to|contact|reach) [\w .'’-]{2,60} at \S+@\S+", 300, ()),
        (r"\b(may|can) be (reached|contacted) at \S+@\S+", 300, ("@",)),
        (r"^listen (to|on) [\w .'’-]{2,60}(live|podcast|here|on)\b", 160, ()),
        # credits and legal
        (r"^(©|\(c\)|copyright\b)", 300, ()),
        (r"\ball rights reserved\b", 300, ("all rights reserved",)),
        (r"^our (standards|editorial (standards|principles))\s*:", 120, ()),
        (r"\bmay not be (re)?published, broadcast, rewritten\b", 300, ("rewritten",)),
        # contact details, captions and galleries on their own line
        (r"\S+@\S+\.[a-z]{2,}", 300, ("@",)),
        (r"^(https?://)?(www\.)?(twitter|x|facebook|instagram)\.com/\w+/?$", 80, ()),
        (r"^(photo|image|picture|video|graphic)s?( credit)?\s*:", 80, ()),
        (r"^\((credit|photo|image)s?\b[^)]*\)$", 80, ()),
        (r"\((image |photo )?credits?:[^)]*\)$|\((ap|afp|reuters|getty images|epa)"
         r"( photo)?(/[^)]*)?\)$", 300, (")",)),
        (r"\w, (left|right|centre|center|second (from )?(left|right)), (and|with|speaks|talks|"
         r"shakes|poses|listens|looks|walks|waves|arrives)\b", 400,  # caption grammar
         (", left, ", ", right, ", ", centre, ", ", center, ", ", second ")),
        (r"^(image|photo|picture|slide) \d+ (of|/) \d+$", 30, ()),
        (r"^(reading time|tempo de leitura|lesezeit|temps de lecture|tiempo de lectura)\b"
         r"\s*:?\s*\d", 60, ()),
        (r"^\d+\s*(min|minute)s?\.? read\W*$", 30, ()),
        # dates, sources, bylines on their own line
        (r"^by( (?-i:[A-Z])[\w’'.-]*| and| de| van| von){1,6}$", 60, ()),
        (r"^[A-Z][\w’'.-]+( [A-Z][\w’'.-]+){1,3}, (ap|afp|reuters|associated press|bloomberg)"
         r"\b[\w ]{0,40}(writer|reporter|correspondent|editor)\b", 120, ()),
        (_DATE_LINE, 80, ()),
        (r"^((last )?updated|published|posted)( on| at)?:?\s+(\w+\.? )?\d{1,2}[:/.,\s]", 80, ()),
        (r"^(source|sources|via)\s*:\s*[\w.-]+\.[a-z]{2,}/?\S*\s*$", 120, ()),
        (r"^(related|related (stories|articles|content|coverage|links)|read more|read also|"
         r"see also|also read|more from|more on this|most (read|popular|viewed|shared)"
         r"( in [\w .'’-]{1,30})?|"
         r"don'?[’']?t miss|recommended( for you)?|you (may|might) also like|trending( now)?)"
         r"\b\s*:", 300, ()),
    )
)

# A heading that, near the end, introduces a block of links or a fundraising box.
_TAIL_HEAD = re.compile(
    r"^(related|related (stories|articles|content|coverage|links|posts|topics)|read more|"
    r"read also|see also|also read|more (stories|news|from [\w .'’-]+)|more on this( story)?|"
    r"most (read|popular|viewed|shared)( in [\w .'’-]+)?|don'?[’']?t miss|recommended|"
    r"you (may|might) also like|trending( now)?|top stories|latest (news|stories)|"
    r"leggi anche|leia também|lesen sie auch|(à )?lire aussi|voir aussi|lee también|"
    r"véase también|ver también|owned by our readers|fighting fund|"
    r"support (our|independent) journalism|comments?|leave a (reply|comment)|"
    r"share this( article| story)?)\W*$",
    _FLAGS,
)
# "Related: Another headline", often followed by a list of more links.
_RELATED_LINE = re.compile(
    r"^(related|related (stories|articles|coverage)|read more|read also|see also|also read|"
    r"more|leggi anche|leia também|lesen sie auch|lire aussi|lee también)\s*:\s*\S", _FLAGS)
_FUNDRAISING_HEAD = re.compile(
    r"^(owned by our readers|fighting fund|support (our|independent) journalism)\W*$", _FLAGS)
_FOOTNOTE = re.compile(r"\s*\[\d{1,3}\]\s*")
_WORD = re.compile(r"\w+")
_AUTHOR_BIO = re.compile(
    r"(?-i:[A-Z])[\w’'.-]+( (?-i:[A-Z])[\w’'.-]+){1,3} is (a|an|the)( [\w’'-]+){0,6} "
    r"(writer|reporter|editor|correspondent|columnist|journalist|contributor|author)s?\b", _FLAGS)
_ALNUM = re.compile(r"[^\W_]")  # a letter or digit: "___" separators have none
_URL = re.compile(r"(https?://|www\.)\S+", _FLAGS)
_SENTENCE_END = re.compile(r"[.!?…:;\"”’')\]]\s*$")
_CAP_WORD = re.compile(r"\b[A-Z][\w’'-]+")
_LIST_ITEM = re.compile(r"^\s*([-*•–]|\d+[.)])\s+")


def clean_text(text: str, opts: CleanOptions = CleanOptions(), *,
               title: str | None = None) -> str:
    """Return `text` without residual chrome: paragraphs joined by blank lines.

    `title`, when known, is the headline: a leading paragraph repeating it is dropped.
    """
    paras = split_paragraphs(text)
    if opts.strip_footnote_markers:
        paras = [_strip_footnotes(p) for p in paras]
    if opts.drop_tails:  # before line rules, which would take the tail's heading alone
        paras = _drop_blocks(paras, opts.tail_share)
    if opts.drop_chrome_lines:
        paras = [p for p in paras if p and _ALNUM.search(p) and not is_chrome_line(p)]
    if opts.drop_repeats:
        paras = _drop_repeats(paras)
    if title and opts.drop_headline:
        paras = _drop_headline(paras, title)
    if opts.drop_glued_story:
        paras = _drop_glued_story(paras)
    if paras and len(paras[-1]) <= 600 and _AUTHOR_BIO.match(paras[-1]):
        paras = paras[:-1]  # the writer's bio closing the page, not the article
    return "\n\n".join(p for p in paras if p)


def _strip_footnotes(para: str) -> str:
    # "said [1]." -> "said."; "reported  [1]on Sunday" -> "reported on Sunday"
    para = _FOOTNOTE.sub(lambda m: "" if m.end() == len(para) or para[m.end()] in ".,;:!?)"
                         else " ", para)
    return para.strip()


def split_paragraphs(text: str) -> list[str]:
    """One paragraph per non-empty line, inner whitespace collapsed."""
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = " ".join(line.split())
        if line:
            out.append(line)
    return out


def is_chrome_line(line: str) -> bool:
    """True when the line is site furniture rather than article prose."""
    lowered = line.lower()
    for pattern, limit, cues in _CHROME:
        if len(line) <= limit and (not cues or any(cue in lowered for cue in cues)) and (
                pattern.search(line)):
            return True
    return _is_banner(line)


def _is_banner(line: str) -> bool:
    # "- Site | A tagline - https://site.example/ -": a URL with little prose around it.
    if not _URL.search(line):
        return False
    rest = _URL.sub("", line)
    words = re.findall(r"\w+", rest)
    return 2 <= len(words) <= 14 and "|" in rest and not re.search(r"[.!?]\s", rest)


def _drop_repeats(paras: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for para in paras:
        key = para.casefold()
        if len(para.split()) >= 10 and "|" not in para and key in seen:
            continue
        seen.add(key)
        out.append(para)
    return out


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _drop_headline(paras: list[str], title: str) -> list[str]:
    """Drop a leading line restating the headline (site titles often append " - Site")."""
    head = _words(title)
    for i, para in enumerate(paras[:3]):
        words = _words(para)
        n = len(words)
        if head and n and (words == head[:n] and n >= min(len(head), 4)
                           or head == words[:len(head)] and n <= len(head) + 3):
            return paras[:i] + paras[i + 1:]
    return paras


def _drop_blocks(paras: list[str], share: float) -> list[str]:
    """Drop related-story blocks, and fundraising boxes in the last part of the text.

    "Related: <link>" goes with the list items right after it, anywhere. In the last part,
    a related-stories heading goes with the headline-shaped lines right after it, and a
    fundraising heading takes the rest of the text when little is left after it.
    """
    total = sum(len(p) for p in paras)
    out: list[str] = []
    seen, i = 0, 0
    while i < len(paras):
        para = paras[i]
        if i > 0 and len(para) <= 200 and _RELATED_LINE.match(para):
            i += 1  # the link, and the list of further links under it
            while i < len(paras) and _LIST_ITEM.match(paras[i]) and len(paras[i].split()) <= 15:
                seen += len(paras[i])
                i += 1
            seen += len(para)
            continue
        run = _link_list_run(paras, i)
        if run >= 2 and _is_whole_list(paras, i, run):  # a list of headlines: other stories
            seen += sum(len(p) for p in paras[i:i + run])
            i += run
            continue
        late = seen >= (1 - share) * total
        if i > 0 and late and len(para) <= 80 and _TAIL_HEAD.match(para):
            rest_len = total - seen - len(para)
            if _FUNDRAISING_HEAD.match(para) and rest_len <= min(share * total, 1000):
                break
            i += 1
            while i < len(paras) and _is_headline(paras[i]):
                seen += len(paras[i])
                i += 1
            seen += len(para)
            continue
        out.append(para)
        seen += len(para)
        i += 1
    return out


def _link_list_run(paras: list[str], start: int) -> int:
    """Length of the run of Title Case list items (story links) starting at `start`."""
    end = start
    while end < len(paras) and _is_title_case_item(paras[end]):
        end += 1
    return end - start


def _is_whole_list(paras: list[str], start: int, run: int) -> bool:
    """True when no list item adjoins the run: a rail of story links is a list of headlines
    only, while a run inside a longer list ("- Dua Lipa, Dance the Night" among a list of
    nominees) is that list's content."""
    return (start == 0 or not _LIST_ITEM.match(paras[start - 1])) and (
        start + run == len(paras) or not _LIST_ITEM.match(paras[start + run]))


def _is_title_case_item(line: str) -> bool:
    if not _LIST_ITEM.match(line) or _SENTENCE_END.search(line) or line.count(",") >= 2:
        return False  # commas: "Name, City, State" lists are content
    words = [w for w in _LIST_ITEM.sub("", line).split() if len(w) >= 4]
    capitalised = sum(w[0].isupper() for w in words)
    return len(line.split()) >= 5 and len(words) >= 3 and capitalised >= 0.7 * len(words)


def _is_headline(line: str) -> bool:
    return len(line) <= 160 and not _SENTENCE_END.search(line) or bool(_LIST_ITEM.match(line))


def _drop_glued_story(paras: list[str]) -> list[str]:
    """Cut an unrelated story appended after an article that has no subheadings.

    Signal: past the first third, the first headline-shaped line (4-16 words, no closing
    punctuation) naming at least two capitalised names never seen before, whose next
    paragraph (the new story's lead) repeats two of them. An article with earlier
    subheadings is left alone: there such a line is a section, not a new story.
    """
    total = sum(len(p) for p in paras)
    seen_chars = 0
    before: set[str] = set()
    for i, para in enumerate(paras[:-1]):
        words = para.split()
        headline = (4 <= len(words) <= 16 and not _SENTENCE_END.search(para)
                    and not _LIST_ITEM.match(para))
        if headline and i >= 3 and seen_chars >= total / 3:
            names = {w.strip("’'").lower() for w in _CAP_WORD.findall(para)}
            new = {n for n in names if not any(t.startswith(n) for t in before)}
            lead = _words(paras[i + 1])
            in_lead = sum(any(t.startswith(n) for t in lead) for n in new)
            if len(new) >= 2 and len(new) >= 0.5 * len(names) and in_lead >= 2:
                return paras[:i]
            return paras
        if headline and i >= 2:
            return paras  # the article has sections
        seen_chars += len(para)
        before.update(_words(para))
    return paras
