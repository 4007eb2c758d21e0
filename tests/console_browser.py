#!/usr/bin/python3
"""The operator console in a real browser: Debian's Chromium, headless, driven by Selenium
through chromedriver, signing in with operator client certificates (tests/console_test.cpp
prepares the data directory and starts `revocore serve`; this script does the browsing).

Client certificates: each browser gets its own HOME with an NSS database (certutil, pk12util)
holding the demo's root CA as trusted and, for an operator, the operator's certificate and key;
and its own profile whose Preferences pre-set the content setting that Chromium's
AutoSelectCertificateForUrls policy sets (auto_select_certificate for https://127.0.0.1:PORT,
issuer CN "revocore demo operator CA"). Headless Chromium then presents the certificate with no
dialog: no policy file under /etc, no root, no Xvfb (docs/CONSOLE.md).

Chromium and chromedriver are started by this script on ports of 127.0.0.1 and attached by
address, so nothing depends on the name "localhost" resolving.

Usage: console_browser.py DATA_DIR ADMIN_PORT OCSP_PORT SCREENSHOT_DIR REVOCORE_BINARY
Exits 0 when every check passed; prints what failed otherwise.
"""
import atexit
import http.server
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

DATA = pathlib.Path(sys.argv[1])
PORT = int(sys.argv[2])
OCSP_PORT = int(sys.argv[3])
SHOTS = pathlib.Path(sys.argv[4])
REVOCORE = sys.argv[5]
BASE = f"https://127.0.0.1:{PORT}"
SIZES = {"wide": (1280, 800), "narrow": (390, 844)}
WORK = pathlib.Path(tempfile.mkdtemp(prefix="revocore-console-"))
failures = []
PROCESSES = []  # the Chromium and chromedriver processes, stopped at the end
STARTED = time.monotonic()


def check(condition, what):
    print(f"{time.monotonic() - STARTED:6.1f}s " + ("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def run(*command):
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url):
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def browser(name, certificate=None):
    """A headless Chromium with its own HOME (NSS database) and profile."""
    home = WORK / name
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    run("certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password")
    run("certutil", "-A", "-d", f"sql:{nssdb}", "-n", "demo root", "-t", "C,,",
        "-i", str(DATA / "pki/root-ca.pem"))
    profile = home / "profile"
    (profile / "Default").mkdir(parents=True)
    if certificate is not None:
        p12 = home / "operator.p12"
        run("openssl", "pkcs12", "-export", "-in", str(DATA / f"pki/{certificate}.pem"),
            "-inkey", str(DATA / f"pki/{certificate}.key"), "-out", str(p12),
            "-passout", "pass:", "-name", certificate)
        run("pk12util", "-i", str(p12), "-d", f"sql:{nssdb}", "-W", "")
        preferences = {"profile": {"content_settings": {"exceptions": {"auto_select_certificate": {
            f"{BASE},*": {"setting": {"filters": [
                {"ISSUER": {"CN": "revocore demo operator CA"}}]}}}}}}}
        (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    # Chromium and chromedriver are started here, each on a port of 127.0.0.1, and chromedriver
    # attaches to Chromium's DevTools by that address: started by Selenium or by chromedriver,
    # they would reach each other as "localhost", which a minimal root may not resolve.
    # Chromium gets this browser's HOME (its NSS database).
    environment = dict(os.environ, HOME=str(home))
    devtools = free_port()
    PROCESSES.append(subprocess.Popen(
        ["/usr/lib/chromium/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--disable-dev-shm-usage", "--disable-background-networking",
         f"--user-data-dir={profile}", "--window-size=1280,800",
         "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={devtools}",
         "about:blank"],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for_http(f"http://127.0.0.1:{devtools}/json/version")
    driver_port = free_port()
    PROCESSES.append(subprocess.Popen(["/usr/bin/chromedriver", f"--port={driver_port}"],
                                      env=environment, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    wait_for_http(f"http://127.0.0.1:{driver_port}/status")
    options = webdriver.ChromeOptions()
    options.debugger_address = f"127.0.0.1:{devtools}"
    driver = webdriver.Remote(command_executor=f"http://127.0.0.1:{driver_port}", options=options)
    driver.set_page_load_timeout(20)
    return driver


def wait(driver, condition, seconds=10):
    return WebDriverWait(driver, seconds).until(condition)


def text_of(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def screenshots(driver, name):
    for size, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        driver.save_screenshot(str(SHOTS / f"{name}-{size}.png"))
    driver.set_window_size(*SIZES["wide"])


def ocsp(certificate):
    return subprocess.run(
        ["openssl", "ocsp", "-issuer", str(DATA / "pki/issuing-ca.pem"), "-cert",
         str(DATA / certificate), "-url", f"http://127.0.0.1:{OCSP_PORT}/", "-no_nonce",
         "-VAfile", str(DATA / "pki/ocsp-responder.pem")],
        capture_output=True, text=True).stdout


def api_state(driver, path):
    """An API read from inside the signed-in page (same origin, same certificate)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.json()).then(done, e => done({error: String(e)}));",
        path)


def open_user(driver, user_id):
    driver.get(f"{BASE}/console/#/user/{user_id}")
    wait(driver, ec.presence_of_element_located((By.ID, "user-state")))


def choose_reason(driver, reason):
    Select(wait(driver, ec.element_to_be_clickable((By.ID, "reason")))).select_by_value(reason)
    wait(driver, ec.presence_of_element_located((By.ID, "preview-changes")))
    wait(driver, lambda d: d.find_element(By.ID, "next").is_enabled())


def lock_user_flow(driver):
    # Search with the keyboard only, open the profile.
    driver.get(f"{BASE}/console/")
    wait(driver, ec.text_to_be_present_in_element((By.ID, "operator"), "Olivia Olsson"))
    box = wait(driver, ec.element_to_be_clickable((By.ID, "q")))
    box.send_keys("cecilia carl", Keys.ENTER)
    hit = wait(driver, ec.element_to_be_clickable((By.PARTIAL_LINK_TEXT, "Cecilia Carlsson")))
    screenshots(driver, "search")
    hit.send_keys(Keys.ENTER)
    wait(driver, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Cecilia Carlsson"))
    check(text_of(driver, "#user-state") == "active", "the profile shows user 1003 active")
    check(len(driver.find_elements(By.CSS_SELECTOR, "tr[data-certificate]")) == 3,
          "the profile lists the user's three certificates")
    offered = [e.get_attribute("data-process") for e in
               driver.find_elements(By.CSS_SELECTOR, ".panel > .actions [data-process]")]
    check("UsersProcLock" in offered and "UsersProcDeactivate" in offered
          and "UsersProcReactivate" not in offered,
          f"an active user is offered Lock and Deactivate, not Reactivate ({offered})")
    screenshots(driver, "profile")

    # Lock user, a reason, the preview, Cancel: nothing changed.
    driver.find_element(By.CSS_SELECTOR, ".panel > .actions [data-process=UsersProcLock]").click()
    choose_reason(driver, "Key compromise")
    changes = driver.find_elements(By.CSS_SELECTOR, "#preview-changes li")
    check(len(changes) == 6, f"the preview names the user, 2 credentials and 3 certificates "
                             f"({[c.text for c in changes]})")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#preview-changes li.certificate-change")) == 3
          and all("valid → revoked (keyCompromise)" in c.text for c in
                  driver.find_elements(By.CSS_SELECTOR, "#preview-changes li.certificate-change")),
          "each certificate: valid → revoked (keyCompromise)")
    screenshots(driver, "process")
    driver.find_element(By.ID, "cancel").click()
    wait(driver, ec.presence_of_element_located((By.ID, "user-state")))
    check(text_of(driver, "#user-state") == "active", "after Cancel the user is still active")
    check(api_state(driver, "/api/v1/users/1003")["state"] == "active",
          "after Cancel the store holds user 1003 active")
    check(": good" in ocsp("import/card-1003.pem"), "after Cancel OCSP answers good")

    # Again, and Next.
    driver.find_element(By.CSS_SELECTOR, ".panel > .actions [data-process=UsersProcLock]").click()
    choose_reason(driver, "Key compromise")
    driver.find_element(By.ID, "next").click()
    outcome = wait(driver, ec.visibility_of_element_located((By.CSS_SELECTOR, "#outcome .notice")))
    check("Lock user applied" in outcome.text and "3 revoked" in outcome.text,
          f"Next applies Lock user ({outcome.text})")
    screenshots(driver, "outcome")
    check(": revoked" in ocsp("import/card-1003.pem"), "openssl ocsp then answers revoked")

    # The profile's history, and the audit trail filtered by process.
    open_user(driver, "1003")
    row = wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "#history tr[data-audit]")))
    check("UsersProcLock" in row.text and "Olivia Olsson" in row.text,
          f"the profile's history shows the lock first ({row.text})")
    driver.get(f"{BASE}/console/#/audit?process=UsersProcLock")
    wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "#audit-results tr[data-audit]")))
    rows = driver.find_elements(By.CSS_SELECTOR, "#audit-results tr[data-audit]")
    check(len(rows) == 2 and all("UsersProcLock" in r.text for r in rows),
          f"the audit trail filtered by Lock user: the demo's and this one ({len(rows)})")
    screenshots(driver, "audit")


def approval_flow(first, second):
    # The first operator asks for Lock card (it needs approval here), and cannot approve it.
    open_user(first, "1002")
    first.find_element(By.CSS_SELECTOR,
                       "[data-credential=card-1002] [data-process=CardsProcLock]").click()
    choose_reason(first, "Card lost")
    first.find_element(By.ID, "next").click()
    filed = wait(first, ec.visibility_of_element_located((By.CSS_SELECTOR, "#outcome .notice")))
    check("Filed for approval as request #1" in filed.text, f"Lock card is filed ({filed.text})")
    first.get(f"{BASE}/console/#/approvals")
    panel = wait(first, ec.presence_of_element_located((By.CSS_SELECTOR, "[data-approval='1']")))
    wait(first, ec.presence_of_element_located((By.CSS_SELECTOR, "[data-approval='1'] #preview")))
    check("Your own request" in panel.text and
          not panel.find_elements(By.CSS_SELECTOR, "[data-decision=approve]"),
          "one's own request is visible but not approvable")
    screenshots(first, "approvals")
    # The API refuses a self-approval too, whatever a page shows.
    answer = first.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/v1/approvals/1/approve', {method: 'POST', headers: {'Content-Type': "
        "'application/json'}, body: '{}'}).then(r => done(r.status));")
    check(answer == 409, f"a self-approval through the API is refused with 409 ({answer})")

    # The second operator approves it.
    second.get(f"{BASE}/console/#/approvals")
    wait(second, ec.text_to_be_present_in_element((By.ID, "operator"), "Oskar Ohlin"))
    button = wait(second, ec.element_to_be_clickable(
        (By.CSS_SELECTOR, "[data-approval='1'] [data-decision=approve]")))
    wait(second, ec.presence_of_element_located((By.CSS_SELECTOR, "[data-approval='1'] #preview")))
    button.click()
    done = wait(second, ec.visibility_of_element_located(
        (By.CSS_SELECTOR, "[data-approval='1'] .notice")))
    check("approved" in done.text, f"the second operator approves ({done.text})")
    check(": revoked" in ocsp("import/card-1002.pem"), "the approved Lock card revokes card-1002")


def run_process(driver, user, button, reason):
    """From the user's profile: the process's button, a reason, Next; waits for the outcome."""
    open_user(driver, user)
    driver.find_element(By.CSS_SELECTOR, button).click()
    choose_reason(driver, reason)
    driver.find_element(By.ID, "next").click()
    wait(driver, ec.visibility_of_element_located((By.CSS_SELECTOR, "#outcome .notice")))


def other_processes(driver):
    # Reactivate user: 1005 was deactivated by the demo; then Deactivate card on the card that
    # came back with it.
    run_process(driver, "1005", ".panel > .actions [data-process=UsersProcReactivate]",
                "Returned from leave")
    check(api_state(driver, "/api/v1/users/1005")["state"] == "active",
          "Reactivate user makes 1005 active")
    run_process(driver, "1005", "[data-credential=card-1005] [data-process=CardsProcDeactivate]",
                "Card left at home")
    check(api_state(driver, "/api/v1/credentials/card-1005")["state"] == "inactive",
          "Deactivate card makes card-1005 inactive")
    check("certificateHold" in ocsp("import/card-1005.pem"),
          "OCSP answers card-1005's certificate on hold")


def jobs_and_status(driver):
    # A batch lock started through the API, then the jobs page shows it done.
    driver.get(f"{BASE}/console/#/jobs")
    wait(driver, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Batch jobs"))
    status = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/v1/jobs', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
        "body: JSON.stringify({process: 'UsersProcLock', reason: 'Left the organisation', "
        "targets: ['1002', 'nobody']})}).then(r => done(r.status));")
    check(status == 202, f"a batch lock is started ({status})")
    driver.refresh()
    row = wait(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "tr[data-job='1']")))
    wait(driver, lambda d: "done" in d.find_element(By.CSS_SELECTOR, "tr[data-job='1'] .job-status").text)
    row = driver.find_element(By.CSS_SELECTOR, "tr[data-job='1']")
    check("2 of 2" in row.text and "Lock user" in row.text,
          f"the jobs page shows the job done with its progress ({row.text})")
    screenshots(driver, "jobs")
    # The status page: the issuer's CRL and the OCSP counters of this run.
    driver.get(f"{BASE}/console/#/status")
    panel = wait(driver, ec.presence_of_element_located(
        (By.CSS_SELECTOR, "[data-issuer=demo-issuing-ca] tbody tr")))
    check("none yet" not in panel.text and "http://127.0.0.1:8080/crl/demo-issuing-ca.crl" in panel.text,
          f"the status page shows the issuer's CRL ({panel.text})")
    good = int(text_of(driver, "#ocsp-counters [data-outcome=good]"))
    check(good >= 1, f"the status page counts this run's OCSP answers ({good} good)")
    screenshots(driver, "status")


def help_desk(driver):
    """An operator whose user holds only the help desk's role is offered only its processes."""
    run(REVOCORE, "--data-dir", str(DATA), "--operator", "admin", "user", "roles", "operator-2",
        "--set", "help-desk")
    driver.get(f"{BASE}/console/#/user/1005")
    wait(driver, ec.presence_of_element_located((By.ID, "user-state")))
    offered = sorted({e.get_attribute("data-process")
                      for e in driver.find_elements(By.CSS_SELECTOR, "[data-process]")})
    # User 1005 is active with an inactive card-1005 (deactivated above) and an active
    # mobile ID: of the help desk's processes only Reactivate card applies.
    check(offered == ["CardsProcReactivate"],
          f"a help desk is offered only the card processes its role grants ({offered})")
    check(not driver.find_elements(By.CSS_SELECTOR, "[data-process=UsersProcLock]"),
          "a help desk is not offered Lock user")
    driver.get(f"{BASE}/console/#/process/UsersProcLock/1005?user=1005")
    Select(wait(driver, ec.element_to_be_clickable((By.ID, "reason")))).select_by_value(
        "Key compromise")
    refused = wait(driver, ec.visibility_of_element_located((By.CSS_SELECTOR, "#reason-problem .problem")))
    check("permission 'process:UsersProcLock'" in refused.text,
          f"a process page opened by hand shows the API's refusal ({refused.text[:120]})")


def hostile_name(driver):
    driver.get(f"{BASE}/console/#/search?q=onerror")
    hit = wait(driver, ec.element_to_be_clickable((By.PARTIAL_LINK_TEXT, "<img")))
    check("<img src=x onerror=alert(1)>" in hit.text, "the search shows the name as text")
    hit.click()
    wait(driver, ec.presence_of_element_located((By.ID, "user-name")))
    check(text_of(driver, "#user-name") == "<img src=x onerror=alert(1)>",
          "the profile shows the name as text")
    check(not driver.find_elements(By.CSS_SELECTOR, "main img"), "no image element was made")
    try:
        driver.switch_to.alert
        check(False, "no script ran")
    except NoAlertPresentException:
        check(True, "no script ran")


def cross_site(driver):
    """A page on another origin posts a form to the API: refused, nothing changed."""
    page = (f"<form id=f method=post enctype=text/plain "
            f"action='{BASE}/api/v1/processes/UsersProcLock'>"
            "<input name='{\"target\": \"1004\", \"reason\": \"Key compromise\", \"x\": \"' "
            "value='\"}'></form><script>document.getElementById('f').submit()</script>")

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        timeout = 5

        def log_message(self, *args):
            pass

    # Threads: Chromium may open a connection it never uses, which would hold a single-threaded
    # server (and its shutdown) until the browser drops it.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        before = api_state(driver, "/api/v1/users/1004")["state"]
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        wait(driver, lambda d: d.current_url.startswith(BASE))
        wait(driver, ec.presence_of_element_located((By.TAG_NAME, "pre")))
        check("cross-site" in driver.page_source,
              f"the API refuses the other origin's post ({driver.page_source[:200]})")
        driver.get(f"{BASE}/console/")
        wait(driver, ec.text_to_be_present_in_element((By.ID, "operator"), "Olivia"))
        check(api_state(driver, "/api/v1/users/1004")["state"] == before,
              "the other origin's post changed nothing")
    finally:
        server.shutdown()


def no_certificate():
    driver = browser("nobody")
    try:
        driver.get(f"{BASE}/console/")
        heading = wait(driver, ec.presence_of_element_located((By.TAG_NAME, "h1")))
        check(heading.text == "No client certificate", f"no certificate: a page says so "
                                                        f"({heading.text})")
        check("operator CA" in text_of(driver, ".problem"),
              "the page names the operator CA it needs")
        screenshots(driver, "no-certificate")
    finally:
        driver.quit()


def stop_everything():
    """Whatever happened: no browser or driver outlives the test, no profile stays behind."""
    for process in PROCESSES:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    shutil.rmtree(WORK, ignore_errors=True)


def main():
    atexit.register(stop_everything)
    SHOTS.mkdir(parents=True, exist_ok=True)
    first = browser("operator-1", "operator-1")
    second = browser("operator-2", "operator-2")
    try:
        for step in (lambda: lock_user_flow(first), lambda: approval_flow(first, second),
                     lambda: other_processes(first), lambda: jobs_and_status(first),
                     lambda: help_desk(second), lambda: hostile_name(first),
                     lambda: cross_site(first)):
            try:
                step()
            except TimeoutException as e:
                shown = first.find_element(By.TAG_NAME, "main").text[:400]
                check(False, f"a page did not show what was waited for: {e.msg} at "
                             f"{first.current_url}; it shows: {shown}")
        # The console's pages carry the strict policy.
        headers = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "-D", "-", "-o", "/dev/null", "--cacert",
             str(DATA / "pki/root-ca.pem"), "--cert", str(DATA / "pki/operator-1.pem"),
             "--key", str(DATA / "pki/operator-1.key"), f"{BASE}/console/"],
            capture_output=True, text=True).stdout.lower()
        check("content-security-policy: default-src 'none'; script-src 'self'" in headers
              and "frame-ancestors 'none'" in headers, "the console's CSP is strict")
    finally:
        first.quit()
        second.quit()
    no_certificate()
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)


main()
