"""The smallest host: an agent and nothing else, until killed."""

import threading

threading.Event().wait()
