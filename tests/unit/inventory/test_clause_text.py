"""A requirement's clause in a Vietnamese document: the citation stays, the words around it are Vietnamese."""

from __future__ import annotations

import re

from provdc.inventory.catalogue import clause_text, load_catalogue

ENGLISH = re.compile(r"\b[A-Za-z][a-z]{2,}\b")
ROMAN = re.compile(r"[ivxl]+")        # a circular's numbered sections: §II.1.b.xviii


def test_every_clause_of_both_frameworks_reads_in_vietnamese():
    cat = load_catalogue()
    left = {}
    for fw in cat.frameworks.values():
        for r in fw.requirements.values():
            vi = clause_text(r.clause, "vi")
            words = {w for w in ENGLISH.findall(vi) if not ROMAN.fullmatch(w)} & set(ENGLISH.findall(r.clause or ""))
            if words or re.search(r"\bND\b|\bArt\.", vi):
                left[(fw.id, r.id)] = vi
    assert not left


def test_the_citation_itself_is_kept_and_english_is_unchanged():
    clause = "ND 85 Art. 20.2.c; Directive 14/CT-TTg; TCVN 14423 (inactive accounts after 45 days; clause not verified)"
    assert clause_text(clause, "en") == clause
    assert clause_text(clause, "vi") == ("NĐ 85 Điều 20.2.c; Chỉ thị 14/CT-TTg; TCVN 14423 "
                                         "(tài khoản không hoạt động sau 45 ngày; điều khoản chưa được xác minh)")
    assert clause_text(None, "vi") == ""
