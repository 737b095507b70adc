"""Settings of the processes the scale tests start (web and qcluster): the test settings plus a task tracer."""

from tdp.settings.test import *  # noqa: F403
from tdp.settings.test import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.scale.trace.TraceConfig"]
