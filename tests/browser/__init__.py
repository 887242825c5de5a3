"""Browser tests: the consoles driven in a real Chromium through Playwright."""
