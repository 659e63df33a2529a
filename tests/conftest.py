"""Session set-up for every suite under tests/.

Several tests send SIGINT (to this process or to a child) and expect KeyboardInterrupt. A test run
started as a background job of a non-interactive shell inherits SIGINT *ignored*; Python then
installs no handler, and children started from it inherit the ignored disposition too. Restoring
Python's handler here makes those tests independent of how the run was started (the children
then start with the default disposition, since a caught signal resets to it at exec).
"""

import signal

if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
