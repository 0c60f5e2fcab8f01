"""The structure of a rendered stage report: breadcrumb, numbered contents, gate anchors, print CSS.

nbconvert renders an executed notebook as one long page. :func:`finish` turns that page into a report
a reviewer can navigate and trace: a breadcrumb back to the run's summary, a table of contents with
numbered sections ("2 Performance at the operating threshold"), tables ("Table 3") and figures
("Figure 2"), a stable anchor on the table row of every gate (:func:`gate_anchor`, linked from the
summary), verdict cells in words and in the colours of every other page, the drift triggers with their
state and declared action, and CSS that wraps wide tables at 1366 px and prints without clipping.

A pure function of the page's text; the run layer (:mod:`studylib.run.pages`) reads and writes the files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from studylib.report import vocabulary

#: a table with at least this many columns is set in smaller type on screen (it must fit 1366 px)
WIDE_TABLE_COLUMNS = 12

#: verdict names whose table cells are written in words and coloured
_VERDICT_CELLS = ("PASS", "FAIL", "INSUFFICIENT_EVIDENCE", "NOT CHECKED", "NOT_CHECKED", "FIRED", "NOT FIRED")

#: elements whose text is shown verbatim (code, file names, parameters as written)
_VERBATIM = frozenset({"code", "pre", "style", "script", "textarea", "kbd", "samp"})
#: where a report finished before the drift stage ended gets its drift-trigger strip (:func:`add_triggers`)
TRIGGER_SLOT = "studylib:drift-triggers"
#: a cell that reads as a number (count, estimate, interval, p-value, "<5", "≥626"): kept right-aligned
_NUMERIC = re.compile(r"^[-−+<≥≤>]?\s?[0-9.,]+(%|\s*\(.*\))?$|^—$")

CSS = """
:root { --pass:#0a6b2d; --fail:#a3161a; --insuff:#8a5a00; --muted:#57606a; --line:#d0d7de; }
nav.studylib { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1100px;
  margin: 0 auto; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
nav.studylib .crumbs { color: var(--muted); }
nav.studylib ul { margin: .2rem 0 .4rem 1.2rem; padding: 0; columns: 2 22rem; list-style: none; }
nav.studylib details { margin: .3rem 0; }
nav.studylib table { border-collapse: collapse; font-size: .9rem; }
nav.studylib th, nav.studylib td { border-bottom: 1px solid var(--line); padding: .2rem .4rem; text-align: left; }
.sl-number { color: var(--muted); margin-right: .4em; }
.sl-label { font-weight: 600; margin: .4rem 0 .1rem; }
/* wide tables wrap instead of overflowing; text left-aligned, numbers stay on one line where they fit */
.jp-RenderedHTMLCommon table, .jp-RenderedHTMLCommon th, .jp-RenderedHTMLCommon td { white-space: normal; }
.jp-RenderedHTMLCommon table { table-layout: auto; max-width: 100%; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { overflow-wrap: anywhere; vertical-align: top; }
.jp-RenderedHTMLCommon thead th, .jp-RenderedHTMLCommon td.sl-text, .jp-RenderedHTMLCommon th.sl-text { text-align: left !important; }
.jp-RenderedHTMLCommon td.sl-text, .jp-RenderedHTMLCommon th.sl-text { white-space: normal !important; min-width: 6em; }
.jp-RenderedHTMLCommon table.sl-wide { font-size: .78rem; }
.jp-RenderedHTMLCommon table.sl-wide td.sl-text, .jp-RenderedHTMLCommon table.sl-wide th.sl-text { min-width: 4em; }
.jp-RenderedHTMLCommon img, .jp-RenderedImage img, .jp-RenderedSVG img, .jp-RenderedSVG svg { max-width: 100%; height: auto; }
.jp-OutputArea-output { overflow-x: auto; }
td.sl-PASS, td.sl-NOT_FIRED, th.sl-PASS { color: var(--pass); font-weight: 700; }
td.sl-FAIL, td.sl-FIRED, th.sl-FAIL { color: var(--fail); font-weight: 700; }
td.sl-INSUFFICIENT_EVIDENCE, td.sl-NOT_CHECKED { color: var(--insuff); font-weight: 700; }
tr:target, tr:target > * { background: #fff3c4 !important; }
details.sl-ungated { margin: .5rem 0; }
details.sl-ungated > summary { cursor: pointer; color: var(--muted); font-weight: 600; }
@page { size: A4; margin: 14mm 10mm 14mm 10mm; }
@media print {
  body, .jp-Notebook, .jp-Cell, .jp-OutputArea-output { overflow: visible !important; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon { max-width: 100% !important; }
  .jp-RenderedHTMLCommon table { font-size: 7.5pt; width: 100%; }
  /* break-word (not anywhere): words keep their min-content width, so auto layout never splits "FAIL" */
  .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 1px 3px; white-space: normal !important;
    min-width: 0 !important; overflow-wrap: break-word; }
  td.sl-PASS, td.sl-FAIL, td.sl-INSUFFICIENT_EVIDENCE, td.sl-NOT_CHECKED, td.sl-FIRED, td.sl-NOT_FIRED {
    white-space: nowrap !important; }
  .jp-RenderedHTMLCommon th.row_heading { white-space: nowrap !important; overflow-wrap: normal; }
  .jp-RenderedHTMLCommon td:not(.sl-text) { overflow-wrap: normal; } /* numbers break only at their spaces */
  /* collapsed sections (metrics no gate uses) print open: a reviewer's PDF keeps every table */
  nav.studylib details::details-content, details.sl-ungated::details-content {
    content-visibility: visible !important; height: auto !important; }
  tr, img, figure { break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
  nav.studylib a { color: inherit; text-decoration: none; }
  nav.studylib ul { columns: 2; }
}
"""


def css_string(text: str) -> str:
    """``text`` as a CSS string literal (every character outside letters, digits, space and ``-._·:`` as a
    CSS escape), safe inside a ``<style>`` element: for the running header of printed pages.

    Examples
    --------
    >>> print(css_string('a"b'))
    "a\\000022 b"
    """
    body = "".join(c if c.isalnum() and c.isascii() or c in " -._·:" else f"\\{ord(c):06x} " for c in text)
    return f'"{body}"'


def running_header(study_id: str, run_id: str) -> str:
    """The running header of a printed page of a run: ``study <id> · run <id>`` as a CSS string."""
    return css_string(f"study {study_id} · run {run_id}")


#: the running header and page numbers of a printed page (HEADER: :func:`running_header`)
PAGE_HEADER = """
@page { @top-left { content: HEADER; font: 8pt system-ui, sans-serif; color: #57606a; }
        @bottom-right { content: "page " counter(page) " of " counter(pages); font: 8pt system-ui, sans-serif;
                        color: #57606a; } }
"""


_NEGATIVE = re.compile(r"(?<![\w.])-(?=\d)")
_NEGATIVE_ZERO = re.compile(r"−(0(?:\.0+)?)(?![\d.])")


def true_minus(text: str) -> str:
    """Numbers in ``text`` with the true minus sign (U+2212) and without the sign of a zero that rounding
    made negative: ``-0.090`` → ``−0.090``, ``-0.000`` → ``0.000``; hyphens inside words, ids and ranges
    (``SG-1``, ``50-59``) are kept.

    Examples
    --------
    >>> true_minus("0.030 (-0.090 to 0.150); -0.000; SG-1; 50-59")
    '0.030 (−0.090 to 0.150); 0.000; SG-1; 50-59'
    """
    return _NEGATIVE_ZERO.sub(r"\1", _NEGATIVE.sub("−", text))


def gate_anchor(gate_id: str) -> str:
    """The stable HTML id of a gate's evidence row: ``SG-1[sex=F]`` → ``gate-SG-1-sex-F``.

    Examples
    --------
    >>> gate_anchor("AC-1"), gate_anchor("SG-2[sex × age_band=F & 50–59]")
    ('gate-AC-1', 'gate-SG-2-sex-age_band-F-50-59')
    """
    return "gate-" + "-".join(re.findall(r"[A-Za-z0-9_]+", gate_id))


def _inside(element, names) -> bool:
    """Whether an ancestor of ``element`` is one of the tags ``names`` (a plain walk up the tree: bs4's
    ``find_parent`` builds a filter per call, which was half the time of finishing a page)."""
    return any(parent.name in names for parent in element.parents)


def _text(element) -> str:
    return element.get_text(" ", strip=True)


def _header(soup, *, stage: str, study_id: str, run_id: str, summary: str, sections, tables, figures,
            triggers: Sequence[Mapping]) -> None:
    nav = soup.new_tag("nav", attrs={"class": "studylib", "aria-label": "report navigation"})
    crumbs = soup.new_tag("p", attrs={"class": "crumbs"})
    link = soup.new_tag("a", href=summary)
    link.string = "← Summary of the run"
    crumbs.append(link)
    crumbs.append(f" · study {study_id} · run {run_id} · {stage}")
    nav.append(crumbs)
    for title, items in (("Contents", sections), ("Tables", tables), ("Figures", figures)):
        if not items:
            continue
        block = soup.new_tag("details", open="") if title == "Contents" else soup.new_tag("details")
        summary_tag = soup.new_tag("summary")
        summary_tag.string = f"{title} ({len(items)})"
        block.append(summary_tag)
        listing = soup.new_tag("ul")
        for anchor, label in items:
            item = soup.new_tag("li")
            a = soup.new_tag("a", href=f"#{anchor}")
            a.string = label
            item.append(a)
            listing.append(item)
        block.append(listing)
        nav.append(block)
    from bs4 import Comment

    nav.append(_trigger_table(soup, triggers) if triggers else Comment(TRIGGER_SLOT))
    soup.body.insert(0, nav)


def add_triggers(page: str, triggers: Sequence[Mapping]) -> str:
    """Put the drift-trigger strip into a report that :func:`finish` finished without one (a stage report
    is finished as soon as its stage ends, before the drift stage has judged the triggers): the strip
    takes the place of the marker :func:`finish` left; without triggers the marker is removed."""
    from bs4 import BeautifulSoup

    marker = f"<!--{TRIGGER_SLOT}-->"
    strip = str(_trigger_table(BeautifulSoup("", "html.parser"), triggers)) if triggers else ""
    return page.replace(marker, strip, 1)


def _trigger_table(soup, triggers: Sequence[Mapping]):
    """The drift triggers, FIRED / NOT FIRED with their declared action (shown on every stage report)."""
    block = soup.new_tag("details")
    head = soup.new_tag("summary")
    fired = sum(t["state"] == "FIRED" for t in triggers)
    head.string = f"Drift triggers: {fired} of {len(triggers)} fired"
    block.append(head)
    table = soup.new_tag("table")
    row = soup.new_tag("tr")
    for name in ("Trigger", "What", "State", "Declared action", "Blocks"):
        th = soup.new_tag("th", scope="col")
        th.string = name
        row.append(th)
    table.append(row)
    for t in triggers:
        row = soup.new_tag("tr")
        for value, css in ((t["id"], ""), (t["subject"], ""), (vocabulary.mark(t["state"]), f"sl-{t['css']}"),
                           (t["action"], ""), ("yes" if t["blocks"] else "no", "")):
            td = soup.new_tag("td", attrs={"class": css} if css else {})
            td.string = value
            row.append(td)
        table.append(row)
    block.append(table)
    return block


def finish(page: str, *, stage: str, study_id: str, run_id: str, gate_ids: Sequence[str] = (),
           triggers: Sequence[Mapping] = (), summary: str = "../index.html", words=vocabulary.readable) -> str:
    """A rendered stage report with its navigation, numbering, gate anchors and print CSS; like nbconvert's
    HTML exporter, it also gives every input and output cell ``tabindex="0"`` and an image without alt text
    a placeholder (the runner's exporter leaves both to this pass, which parses the page anyway).

    Parameters
    ----------
    page : str
        The HTML of the stage report as nbconvert wrote it.
    stage : str
        Heading of the stage in the breadcrumb, e.g. "Stage 3 of 4: subgroups".
    study_id, run_id : str
        Shown in the breadcrumb (and the running header of the PDF).
    gate_ids : sequence of str
        The gates of this stage; the first table row with a cell reading exactly a gate id gets the id
        :func:`gate_anchor` of it.
    triggers : sequence of dict
        Drift triggers as the summary shows them (id, subject, state, css, action, blocks); none: the
        navigation keeps a marker where :func:`add_triggers` puts them later.
    summary : str
        Link to the run's summary page, relative to the report.
    words : callable
        Rewrites reviewer text in the reviewer vocabulary (:func:`studylib.report.vocabulary.readable`,
        bound to the study's outcome label by :func:`studylib.report.vocabulary.words_for`); applied to
        every text of the page outside code, preformatted text, styles and scripts.

    Returns
    -------
    str
        The page.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    if soup.body is None:
        return page
    for notebook in soup.find_all(class_="jp-Notebook"):  # keyboard focus on each input and output, as nbconvert's
        # HTML exporter gives it (the runner's leaves it to this pass)
        for cell in notebook.find_all("div", class_=("jp-Cell-inputWrapper", "jp-OutputArea-output")):
            cell["tabindex"] = "0"
    style = soup.new_tag("style")
    style.string = CSS + PAGE_HEADER.replace("HEADER", str(running_header(study_id, run_id)))
    (soup.head or soup.body).append(style)

    wanted = {g: gate_anchor(g) for g in gate_ids}
    for row in soup.find_all("tr"):
        if not wanted:
            break
        for cell in row.find_all(["td", "th"], recursive=False):
            anchor = wanted.pop(_text(cell), None)
            if anchor:
                row["id"] = anchor
                break
    for cell in soup.find_all(["td", "th"]):
        for string in list(cell.find_all(string=True)):
            if "-" in string and string.parent.name not in ("style", "script", "code"):
                string.replace_with(true_minus(str(string)))
        name = _text(cell)
        if not _NUMERIC.match(name):
            cell["class"] = [*cell.get("class", []), "sl-text"]
        if cell.name == "td" and name in _VERDICT_CELLS:
            state = vocabulary.css_class(name)
            cell.string = vocabulary.mark(name)
            cell["class"] = [*cell.get("class", []), f"sl-{state}"]

    for string in list(soup.body.find_all(string=True)):
        if string.strip() and not _inside(string, _VERBATIM):
            rewritten = words(str(string))
            if rewritten != string:
                string.replace_with(rewritten)

    sections, tables, figures = [], [], []
    number = 0
    for element in soup.find_all(["h2", "table", "img"]):
        if _inside(element, {"nav"}):
            continue
        if element.name == "h2":
            number += 1
            title = _text(element).rstrip("¶").strip()
            anchor = element.get("id") or f"section-{number}"
            element["id"] = anchor
            tag = soup.new_tag("span", attrs={"class": "sl-number"})
            tag.string = f"{number}"
            element.insert(0, tag)
            sections.append((anchor, f"{number} {title}"))
        elif element.name == "table":
            if _inside(element, {"table"}):
                continue
            n = len(tables) + 1
            header = element.find("tr")
            if header is not None and len(header.find_all(["th", "td"])) >= WIDE_TABLE_COLUMNS:
                element["class"] = [*element.get("class", []), "sl-wide"]  # smaller type: fits 1366 px
            caption = element.find("caption")
            title = _text(caption) if caption else (sections[-1][1].split(" ", 1)[1] if sections else "")
            label = soup.new_tag("p", attrs={"class": "sl-label", "id": f"table-{n}"})
            label.string = f"Table {n}" + (f". {title}" if title else "")
            element.insert_before(label)
            tables.append((f"table-{n}", label.string))
        else:
            n = len(figures) + 1
            title = re.split(r"(?<=[a-z)])\. ", element.get("alt") or "")[0][:90].rstrip(". ") or \
                (sections[-1][1].split(" ", 1)[1] if sections else "")
            label = soup.new_tag("p", attrs={"class": "sl-label", "id": f"figure-{n}"})
            label.string = f"Figure {n}" + (f". {title}" if title else "")
            element.insert_before(label)
            figures.append((f"figure-{n}", label.string))
            if not element.has_attr("alt"):  # as nbconvert's HTML exporter does (the runner's leaves it to this pass)
                element["alt"] = "No description has been provided for this image"
    _header(soup, stage=stage, study_id=study_id, run_id=run_id, summary=summary, sections=sections,
            tables=tables, figures=figures, triggers=triggers)
    return str(soup)
