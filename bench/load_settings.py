"""Settings for bench/load.py only: the project's settings with a bare reference view mounted at /bench/bare."""

from dreamnet.settings import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
