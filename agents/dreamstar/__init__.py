"""DreamStar: turn an organisation's documents into grounded, cited generated content.

The package's pure modules (extract, chunking, compose) import nothing from Django, so the offline provider can
use :mod:`agents.dreamstar.compose` without loading the app.
"""
