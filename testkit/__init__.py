"""What the tests and the benchmarks share: one testing package (not shipped with the product).

* :mod:`testkit.app`: the dashboard under test: a tiny pre-trained zoo, its environment, the app on a
  free port, a Chromium page, waiting for a script run.
* :mod:`testkit.browser`: the system's Chromium driven by Playwright, and why it cannot be (a skip).
* :mod:`testkit.live` and :mod:`testkit.live_app`: exported models served by a small app of the live
  decoding elements.
* :mod:`testkit.colour`, :mod:`testkit.uploads`, :mod:`testkit.links`: generated colour folders, bad
  uploads, crafted share links.
"""
