"""The structure given to a rendered stage report: breadcrumb, numbered contents, gate anchors."""

from bs4 import BeautifulSoup

from studylib.report import stage_pages

PAGE = """<html><head><style>body{}</style></head><body><main>
<h1 id="Stage-3">Stage 3 — Subgroups¶</h1>
<h2 id="Sizes">Sizes¶</h2>
<table><caption>Subgroup sizes</caption><tr><th>Variable</th><th>n</th></tr><tr><td>sex</td><td>1,234</td></tr></table>
<h2 id="Gates">Subgroup gates¶</h2>
<img src="data:image/png;base64,AA" alt="Forest plot of sensitivity">
<table><thead><tr><th>Id</th><th>Estimate</th><th>Verdict</th></tr></thead>
<tr><th>SG-1[sex=F]</th><td>0.730 (0.670–0.784)</td><td>PASS</td></tr>
<tr><th>SG-1[sex × age_band=F &amp; 50–59]</th><td>withheld (&lt;5)</td><td>INSUFFICIENT_EVIDENCE</td></tr>
</table>
<img src="data:image/png;base64,AA">
</main></body></html>"""

TRIGGERS = [{"id": "TR-1", "subject": "PSI of score", "state": "FIRED", "css": "FIRED", "action": "investigate",
             "blocks": False}]


def _finish(**kwargs):
    html = stage_pages.finish(PAGE, stage="stage 3 of 4: subgroups", study_id="demo", run_id="r1",
                              gate_ids=["SG-1[sex=F]", "SG-1[sex × age_band=F & 50–59]", "SG-9"], **kwargs)
    return BeautifulSoup(html, "html.parser")


def test_gate_rows_get_stable_anchors():
    soup = _finish()
    assert soup.find(id="gate-SG-1-sex-F").th.get_text() == "SG-1[sex=F]"
    row = soup.find(id=stage_pages.gate_anchor("SG-1[sex × age_band=F & 50–59]"))
    assert row is not None and row.name == "tr"
    assert soup.find(id="gate-SG-9") is None  # a gate without a row gets no anchor


def test_breadcrumb_and_numbered_contents_tables_and_figures():
    soup = _finish(triggers=TRIGGERS)
    nav = soup.body.contents[0]
    assert nav.name == "nav" and nav.a["href"] == "../index.html"
    assert "study demo · run r1 · stage 3 of 4: subgroups" in nav.p.get_text()
    links = [(a["href"], a.get_text()) for a in nav.find_all("a")[1:] if a["href"].startswith("#")]
    assert links == [("#Sizes", "1 Sizes"), ("#Gates", "2 Subgroup gates"), ("#table-1", "Table 1. Subgroup sizes"),
                     ("#table-2", "Table 2. Subgroup gates"), ("#figure-1", "Figure 1. Forest plot of sensitivity"),
                     ("#figure-2", "Figure 2. Subgroup gates")]
    for href, _ in links:
        assert soup.find(id=href[1:]) is not None
    assert "Figure —" not in soup.get_text() and "Table —" not in soup.get_text()
    assert "Drift triggers: 1 of 1 fired" in nav.get_text() and "⚑ FIRED" in nav.get_text()


def test_verdict_cells_in_words_with_one_colour_class():
    soup = _finish()
    cells = {td.get_text(): td["class"] for td in soup.find_all("td", class_=lambda c: c and c.startswith("sl-") and c != "sl-text")}
    assert "✔ PASS" in cells and "sl-PASS" in cells["✔ PASS"]
    assert "sl-INSUFFICIENT_EVIDENCE" in cells["? INSUFFICIENT EVIDENCE"]
    assert "INSUFFICIENT_EVIDENCE" not in soup.body.get_text()


def test_reviewer_text_in_the_reviewer_vocabulary_except_code():
    page = ("<html><body><h1>t</h1><p>oe_ratio and p_adjusted of any_feature; INSUFFICIENT_EVIDENCE; death_5y = 1</p>"
            "<table><tr><td>lower 95% bound >= 0.7</td></tr></table><code>results/oe_ratio.json</code></body></html>")
    html = stage_pages.finish(page, stage="s", study_id="d", run_id="r",
                              words=lambda t: stage_pages.vocabulary.readable(t, outcome="death_5y",
                                                                              outcome_label="died within 5 years"))
    text = BeautifulSoup(html, "html.parser").body.get_text(" ")
    assert "O/E ratio and any feature (adjusted p); insufficient evidence; died within 5 years" in text
    assert "lower 95% bound ≥ 0.7" in text and "results/oe_ratio.json" in text


def test_print_rules_and_running_order():
    html = str(_finish())
    assert "@media print" in html and "break-inside: avoid" in html
    assert html.index("<nav") < html.index("Stage 3 — Subgroups")


def test_collapsed_sections_are_opened_for_print():
    from studylib.report import stage_pages

    printing = stage_pages.CSS.split("@media print", 1)[1]
    assert "details.sl-ungated::details-content" in printing and "content-visibility: visible" in printing


def test_triggers_added_after_finishing_read_as_if_finished_with_them():
    # a stage report is finished when its stage ends; the drift triggers are added once every stage has ended
    later = stage_pages.add_triggers(str(_finish()), TRIGGERS)
    assert later == str(_finish(triggers=TRIGGERS))
    assert "Drift triggers: 1 of 1 fired" in BeautifulSoup(later, "html.parser").nav.get_text()


def test_without_triggers_the_marker_is_removed():
    page = stage_pages.add_triggers(str(_finish()), [])
    assert stage_pages.TRIGGER_SLOT not in page and "Drift triggers" not in page
    assert stage_pages.TRIGGER_SLOT not in str(_finish(triggers=TRIGGERS))


def test_cells_focusable_and_images_described_as_nbconvert_leaves_them():
    """The runner's exporter skips nbconvert's last pass over the page (tabindex on cells, alt text on images):
    finishing does both. An image without alt text is labelled by its section, then gets the placeholder."""
    page = PAGE.replace("<main>", '<main class="jp-Notebook"><div class="jp-Cell-inputWrapper">x = 1</div>'
                                  '<div class="jp-OutputArea-output">1</div><div class="other">y</div>')
    soup = BeautifulSoup(stage_pages.finish(page, stage="s", study_id="demo", run_id="r1"), "html.parser")
    assert [d.get("tabindex") for d in soup.main.find_all("div", recursive=False)] == ["0", "0", None]
    assert [img["alt"] for img in soup.find_all("img")] == ["Forest plot of sensitivity",
                                                            "No description has been provided for this image"]
    assert soup.find(id="figure-2").get_text() == "Figure 2. Subgroup gates"
