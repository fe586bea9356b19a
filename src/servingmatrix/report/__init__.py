"""The report of a run: one self-contained HTML page (``page``), and the exports for publication.

Nothing is imported here: ``export`` (CSV and JSON) must not load the page's renderer and templates.
"""
