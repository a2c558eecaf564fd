// Termination signals for daemons: one thread waits for SIGINT/SIGTERM, every other thread has
// them blocked, and SIGPIPE is ignored (a closed socket is an error, not a death).
#pragma once

#include <functional>
#include <thread>

namespace corral {

// Call first in main, before any thread starts, so that every thread inherits the mask.
void BlockTerminationSignals();
// Starts a detached thread that calls `on_signal(signo)` once when SIGINT or SIGTERM arrives.
void OnTerminationSignal(std::function<void(int)> on_signal);

}  // namespace corral
