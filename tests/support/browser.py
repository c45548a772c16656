"""A real headless Chromium for the browser tests (Debian's `chromium` and
`chromedriver`), and how they read a page that re-renders: by condition, in one step."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def chromium() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--lang=id",
    ):
        options.add_argument(arg)
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = chromium()
    yield driver
    driver.quit()


def shown(browser: Any, css: str, attribute: str | None = None) -> str | None:
    """The text (or an attribute) of the first element matching `css`, read inside the
    page in one step, or None. The page re-renders its grid and lists up to four times a
    second, so an element found in one WebDriver call may be replaced before the next
    reads it (StaleElementReferenceException): no test holds an element across calls."""
    found: str | None = browser.execute_script(
        "const el = document.querySelector(arguments[0]);"
        "if (el === null) return null;"
        "return arguments[1] === null ? el.innerText : el.getAttribute(arguments[1]);",
        css,
        attribute,
    )
    return found


def until(browser: Any, condition: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    """Wait for a condition of the page (re-read each time), not for an element."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        browser, seconds, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]
    )
    return wait.until(lambda _: condition(), message=f"the page never showed {what}")
