"""The console in Debian's Chromium (Selenium + chromium-driver) on the running lab twin with a
stopped host and a saturated link: the host's system is shown down, the link above its 90 %
line, on the overview, the links page and the diagram. Screenshots in test-artefacts/console/lab/."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from tests.console_site import ARTEFACTS, PAGES, Running, browser, browser_login, make_site, visit_all

pytestmark = pytest.mark.skipif(not shutil.which("chromedriver"), reason="needs chromium-driver (setup.sh installs it)")


def _percent(cell: str) -> float:
    """A link's use as the overview shows it; "—" while its rate window has no sample yet."""
    text = cell.rstrip(" %")
    return float(text) if text.replace(".", "", 1).isdigit() else 0.0


@pytest.fixture()
def driver():
    d = browser()
    yield d
    d.quit()


@pytest.mark.twin
def test_the_lab_twin_with_a_stopped_host_and_a_saturated_link(lab, monitoring, tmp_path, driver):
    from dataclasses import replace

    from selenium.webdriver.common.by import By

    from provdc.lab import faults

    site = make_site(tmp_path)
    console = Running(replace(site.config, prometheus=monitoring.prometheus_url, live_ttl=1.0))
    flood = threading.Thread(target=faults.saturate, args=(lab, "wan-xa-dong-son"), kwargs={"seconds": 40}, daemon=True)
    faults.stop_host(lab, "docs-app1")                             # qlvb's only server
    try:
        flood.start()
        browser_login(driver, console.url, "officer")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:                         # the probes and the rate window catch up
            driver.get(console.url + "/")
            down = driver.find_element(By.CSS_SELECTOR, "#system-qlvb .state").get_attribute("data-state")
            over = driver.find_elements(By.CSS_SELECTOR, "#link-wan-xa-dong-son-a_to_b td")
            if down == "down" and over and _percent(over[2].text) > 90:
                break
            time.sleep(1)
        assert driver.find_element(By.CSS_SELECTOR, "#system-qlvb .state").get_attribute("data-state") == "down"
        assert driver.find_element(By.CSS_SELECTOR, "#system-portal .state").get_attribute("data-state") == "up"
        now = float(driver.find_elements(By.CSS_SELECTOR, "#link-wan-xa-dong-son-a_to_b td")[2].text.rstrip(" %"))
        assert now > 90, now                                       # above its 90 % line
        driver.get(console.url + "/links")                         # while the flood lasts
        assert driver.find_element(By.CSS_SELECTOR, "#link-wan-xa-dong-son .state").get_attribute("data-state") == "warn"
        assert driver.find_element(By.CSS_SELECTOR, "#link-wan-ubnd-tinh .state").get_attribute("data-state") == "up"
        problems = visit_all(driver, console.url, ARTEFACTS / "lab", [p for p in PAGES if p != "/activity"])
        assert problems == {page: [] for page in problems}
        driver.get(console.url + "/activity")                      # the log is the admin's, not the officer's
        assert "403" in str(driver.get_log("browser"))
        driver.get(console.url + "/links/wan-xa-dong-son")
        hour = driver.find_element(By.CSS_SELECTOR, "#chart-hour polyline[data-direction='a_to_b']").get_attribute("points")
        peak = max(160 - float(p.split(",")[1]) for p in hour.split())    # pixels above the chart's floor
        assert peak > 100, hour[-200:]                                     # the flood is drawn, near the 90 % line
        driver.get(console.url + "/topology")
        node = driver.find_element(By.CSS_SELECTOR, "g[id='server__docs-app1']")
        assert "state-down" in node.get_attribute("class")
        assert "/systems/qlvb" in driver.page_source
    finally:
        faults.start_host(lab, "docs-app1")
        flood.join(60)
        console.stop()
