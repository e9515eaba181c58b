"""The console in Debian's Chromium (Selenium + chromium-driver), offline: stored audit runs,
no monitoring, no lab (so it needs no lab lock). Screenshots in test-artefacts/console/offline/."""

from __future__ import annotations

import shutil

import pytest

from tests.console_site import ARTEFACTS, HOSTILE, Running, browser, browser_login, make_site, visit_all

pytestmark = pytest.mark.skipif(not shutil.which("chromedriver"), reason="needs chromium-driver (setup.sh installs it)")


@pytest.fixture()
def driver():
    d = browser()
    yield d
    d.quit()


def test_every_page_in_the_browser_offline_and_markup_in_names_stays_inert(tmp_path, driver):
    from selenium.webdriver.common.by import By

    site = make_site(tmp_path)
    console = Running(site.config)
    try:
        driver.get(console.url + "/systems")
        assert driver.current_url.endswith("/login")            # no session: sent to the login page
        browser_login(driver, console.url, "admin1")
        assert driver.current_url == console.url + "/"
        problems = visit_all(driver, console.url, ARTEFACTS / "offline")
        assert problems == {page: [] for page in problems}         # no console error or warning on any page
        driver.get(console.url + "/systems")
        assert driver.title.startswith("Hệ thống")                 # the hostile name's script never ran
        cell = driver.find_element(By.CSS_SELECTOR, "#systems tr:nth-child(2) td a")
        assert cell.text == HOSTILE                                # shown as the text it is
        assert driver.find_elements(By.CSS_SELECTOR, "main img") == []
        driver.get(console.url + "/?lang=en")
        assert driver.find_element(By.CSS_SELECTOR, "h1").text.startswith("Overview")
    finally:
        console.stop()
